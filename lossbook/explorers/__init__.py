"""Interactive explorers: a figure, keyboard-operable controls and a live readout.

One factory per lesson (see "Explorer contract" in docs/architecture.md)::

    from lossbook import explorers
    explorers.mse_line_fit()          # displays itself in JupyterLab

``import lossbook.explorers`` loads neither matplotlib nor ipywidgets: each explorer
module is registered with the standard library's lazy loader
(``importlib.util.LazyLoader``) and runs on first use, and the package attribute of a
factory's name is looked up on demand (a module ``__getattr__``, PEP 562). So
``explorers.robust_fit`` *is* ``lossbook.explorers.robust_fit.robust_fit``, with its
real signature and docstring. A factory and its module share a name
(``explorers.welcome()`` lives in ``lossbook/explorers/welcome.py``); because the module
is already in ``sys.modules``, importing it directly never sets the package attribute
to the module, so the name keeps meaning the factory. :data:`FACTORIES` lists the
factory names in lesson order (the tests and benchmarks iterate over it).
"""
from __future__ import annotations

import importlib.util
import sys

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


def _register_lazily(module_name: str) -> None:
    """Put ``lossbook.explorers.<module_name>`` in ``sys.modules``, to run on first use."""
    full_name = f"{__name__}.{module_name}"
    if full_name in sys.modules:
        return
    spec = importlib.util.find_spec(full_name)
    spec.loader = importlib.util.LazyLoader(spec.loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[full_name] = module
    spec.loader.exec_module(module)


for _module_name, _lesson in FACTORIES.values():
    _register_lazily(_module_name)


def __getattr__(name: str):
    if name not in FACTORIES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = sys.modules[f"{__name__}.{FACTORIES[name][0]}"]
    factory = getattr(module, name)
    globals()[name] = factory          # found once; later lookups skip __getattr__
    return factory


def __dir__():
    return sorted({*globals(), *FACTORIES})
