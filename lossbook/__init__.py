"""lossbook: an interactive course on deep-learning loss functions.

The learner's whole API::

    from lossbook import check, hint, solution, progress

The math lives in :mod:`lossbook.losses`, :mod:`lossbook.regularization` and
:mod:`lossbook.gradcheck` (numpy only). Importing ``lossbook`` is cheap: the
sub-modules, matplotlib and ipywidgets load only when something asks for them.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

# name -> module that defines it; resolved on first access (PEP 562).
_LAZY_ATTRIBUTES = {
    "check": "lossbook.exercises.api",
    "hint": "lossbook.exercises.api",
    "solution": "lossbook.exercises.api",
    "progress": "lossbook.exercises.api",
}
_SUBMODULES = {
    "losses", "regularization", "gradcheck", "canonical", "data", "train", "nn",
    "exercises", "figures", "explorers", "grading", "cli",
}

__all__ = ["check", "hint", "solution", "progress", "__version__", *sorted(_SUBMODULES)]


def __getattr__(name: str):
    if name in _LAZY_ATTRIBUTES:
        value = getattr(importlib.import_module(_LAZY_ATTRIBUTES[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"lossbook.{name}")
    raise AttributeError(f"module 'lossbook' has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(__all__))
