"""Interactive explorers: a figure, keyboard-operable controls and a live readout.

One factory per lesson (see "Explorer contract" in docs/architecture.md)::

    from lossbook import explorers
    explorers.mse_line_fit()          # displays itself in JupyterLab

Each factory imports its module on first call, so ``import lossbook.explorers`` loads
neither matplotlib nor ipywidgets. A factory and its module share a name
(``explorers.welcome()`` lives in ``lossbook/explorers/welcome.py``); importing the
module never replaces the factory on this package (see ``_Package``). :data:`FACTORIES` lists the factory names in lesson
order (the tests and benchmarks iterate over it).
"""
from __future__ import annotations

import importlib
import sys
import types

#: Factory name -> (module under lossbook.explorers, lesson id), in lesson order.
FACTORIES: dict[str, tuple[str, str]] = {
    "welcome": ("welcome", "00_welcome"),
    "loss_vs_cost": ("loss_vs_cost", "01_loss_vs_cost"),
    "mse_line_fit": ("mse_line_fit", "02_mse"),
    "robust_fit": ("robust_fit", "03_mae_huber"),
    "cross_entropy": ("cross_entropy", "04_cross_entropy"),
    "hinge_margin": ("hinge_margin", "05_hinge"),
    "regularization_paths": ("regularization_paths", "06_regularization"),
    "outlier_experiment": ("outlier_experiment", "07_choosing_a_loss"),
    "barron": ("barron", "08_beyond"),
    "network_training": ("network_training", "09_training_networks"),
    "calibration": ("calibration", "10_imbalance_calibration"),
    "embedding_forces": ("embedding_forces", "11_embeddings"),
}

__all__ = ["FACTORIES", *FACTORIES]


def _factory(name: str):
    """Return the factory function ``lossbook.explorers.<module>.<name>``."""
    module_name, _lesson = FACTORIES[name]
    module = importlib.import_module(f"lossbook.explorers.{module_name}")
    return getattr(module, name)


def welcome(**kwargs):
    """Lesson 00: move one prediction, see its squared and absolute loss."""
    return _factory("welcome")(**kwargs)


def loss_vs_cost(**kwargs):
    """Lesson 01: move predictions, watch per-example losses and the cost (reduction)."""
    return _factory("loss_vs_cost")(**kwargs)


def mse_line_fit(**kwargs):
    """Lesson 02: slope and intercept sliders, residuals, the MSE surface and gradient."""
    return _factory("mse_line_fit")(**kwargs)


def robust_fit(**kwargs):
    """Lesson 03: a movable outlier and δ; MSE, MAE and Huber fits side by side."""
    return _factory("robust_fit")(**kwargs)


def cross_entropy(**kwargs):
    """Lesson 04: probability / logit / temperature; naive vs stable cross-entropy."""
    return _factory("cross_entropy")(**kwargs)


def hinge_margin(**kwargs):
    """Lesson 05: a hinge margin band on 2-D data; 0-1, hinge, squared hinge, logistic."""
    return _factory("hinge_margin")(**kwargs)


def regularization_paths(**kwargs):
    """Lesson 06: a λ slider with L1 vs L2 coefficient paths and the constraint shapes."""
    return _factory("regularization_paths")(**kwargs)


def outlier_experiment(**kwargs):
    """Lesson 07: an outlier-fraction experiment comparing losses."""
    return _factory("outlier_experiment")(**kwargs)


def barron(**kwargs):
    """Lesson 08: Barron's general robust loss with an α slider."""
    return _factory("barron")(**kwargs)


def network_training(**kwargs):
    """Lesson 09: train the digit network (loss, learning rate, batch, width); scrub the epochs."""
    return _factory("network_training")(**kwargs)


def calibration(**kwargs):
    """Lesson 10: threshold, class weight or focal γ, temperature: confusion matrix, PR point, reliability."""
    return _factory("calibration")(**kwargs)


def embedding_forces(**kwargs):
    """Lesson 11: paired points pulled and pushed by contrastive, triplet or InfoNCE gradients."""
    return _factory("embedding_forces")(**kwargs)


class _Package(types.ModuleType):
    """This package's module type: importing ``lossbook.explorers.<name>`` normally sets
    the package attribute ``<name>`` to the sub-module, which would hide the factory of
    the same name. Keep the factory instead (the sub-module stays in ``sys.modules``)."""

    def __setattr__(self, name, value):
        if name in FACTORIES and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
