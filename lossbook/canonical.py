"""Stable text for numbers and arrays, for outputs that tests compare.

Hidden tests and checked notebook cells print values; the text must not depend on
numpy's print options, on the array's shape (numpy wraps and aligns columns), on the
last bits of a float, or on the platform. :func:`canonical` gives:

- floats with 8 significant digits (``'%.8g'``), ``-0`` as ``0``, and ``nan``,
  ``inf``, ``-inf`` spelled out;
- integers as integers, booleans as ``True``/``False``, ``None`` as ``None``,
  strings as they are;
- arrays and lists as nested ``[a, b, ...]`` lists, tuples as ``(a, b)``, dicts as
  ``{key: value}`` in sorted key order;
- anything else (objects, complex numbers) is a ``TypeError``: an object's repr
  (with its memory address) is not stable text.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["canonical", "show"]


def _float(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    text = "%.8g" % v
    return "0" if text == "-0" else text


def _array(a: np.ndarray) -> str:
    if a.ndim == 0:
        return canonical(a.item())
    return "[" + ", ".join(_array(sub) if a.ndim > 1 else canonical(sub.item())
                           for sub in a) + "]"


def canonical(value) -> str:
    """Stable, shape-independent text for a number, array or container of them.

    Parameters
    ----------
    value : float, int, bool, None, str, ndarray, list, tuple or dict

    Returns
    -------
    str

    Raises
    ------
    TypeError
        For any other type (including complex numbers).

    Examples
    --------
    >>> canonical(0.1 + 0.2)
    '0.3'
    >>> canonical(np.array([[1.0, -0.0], [np.nan, 1e-20]]))
    '[[1, 0], [nan, 1e-20]]'
    >>> canonical((3, np.float32(0.5), [True, None]))
    '(3, 0.5, [True, None])'
    """
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (numbers.Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _float(float(value))
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(
                f"canonical: arrays must hold numbers or booleans, got dtype {value.dtype}; "
                "convert with np.asarray(value, dtype=float)"
            )
        return _array(value)
    if isinstance(value, list):
        return "[" + ", ".join(canonical(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(canonical(v) for v in value)
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "{" + ", ".join(f"{canonical(k)}: {canonical(v)}" for k, v in items) + "}"
    raise TypeError(
        f"canonical: cannot give stable text for {type(value).__name__}; pass numbers, "
        "arrays, or lists/tuples/dicts of them (e.g. the value of an attribute, "
        "not the object)"
    )


def show(*values) -> None:
    """Print the canonical form of each value on its own line.

    Examples
    --------
    >>> show(1 / 3, np.array([2.0, -0.0]))
    0.33333333
    [2, 0]
    """
    for value in values:
        print(canonical(value))
