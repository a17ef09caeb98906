"""Numerical gradient checking: is my analytic gradient right?

Compare an analytic gradient ``a`` with a central-difference estimate ``n`` through
the relative error ``|a − n| / max(|a| + |n|, tiny)`` (CS231n), element by element,
and look at the worst element. How to read it in float64 (with ``h ≈ 1e-5``):

- ``> 1e-2``: the gradient is almost certainly wrong.
- ``1e-4 … 1e-2``: suspicious, unless the function has kinks (``abs``, ``max``:
  MAE, hinge, ReLU) near the test point, where the difference quotient straddles the
  kink and disagrees with any single subgradient.
- ``1e-7 … 1e-4``: usually fine for functions with kinks, worth a second look for
  smooth ones.
- ``< 1e-7``: good.

Check on small, random inputs in float64, away from kinks.
"""
from __future__ import annotations

import numpy as np

from lossbook._validation import as_float_array, check_callable, check_scalar

__all__ = ["numeric_gradient", "relative_error", "check_gradient"]


def _scalar_value(f, x, func):
    value = f(x)
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "iuf":
        raise TypeError(
            f"{func}: f must return a single number, got "
            f"{type(value).__name__}" + (f" of shape {arr.shape}" if arr.ndim else f" {value!r}")
            + "; reduce it to a scalar, e.g. lambda x: loss(y, x, reduction='sum')"
        )
    return float(arr.reshape(()))


def numeric_gradient(f, x, h=1e-5):
    r"""Central-difference estimate of the gradient of a scalar function.

    .. math:: \frac{\partial f}{\partial x_k} \approx \frac{f(x + h e_k) - f(x - h e_k)}{2h}

    The error of the estimate is ``O(h²)`` (truncation) plus about ``ε·|f|/h``
    (round-off, ``ε ≈ 1e-16``); ``h = 1e-5`` balances the two in float64.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``; called ``2·x.size`` times on arrays shaped like ``x``.
    x : array_like
        Where to evaluate the gradient (converted to a float64 copy; not modified).
    h : float, default 1e-5
        Step size ``h > 0``.

    Returns
    -------
    ndarray
        Same shape as ``x``.

    Examples
    --------
    >>> g = numeric_gradient(lambda v: float(np.sum(v ** 2)), [1.0, -2.0])
    >>> np.round(g, 6)
    array([ 2., -4.])
    """
    check_callable(f, "f", "numeric_gradient")
    x = as_float_array(x, "x", "numeric_gradient").astype(np.float64, copy=True)
    h = check_scalar(h, "h", "numeric_gradient", low=0.0, low_open=True,
                     fix="h is the finite-difference step, e.g. h=1e-5")
    grad = np.zeros_like(x)
    flat_x, flat_g = x.reshape(-1), grad.reshape(-1)
    for k in range(flat_x.size):
        original = flat_x[k]
        flat_x[k] = original + h
        f_plus = _scalar_value(f, x, "numeric_gradient")
        flat_x[k] = original - h
        f_minus = _scalar_value(f, x, "numeric_gradient")
        flat_x[k] = original
        flat_g[k] = (f_plus - f_minus) / (2.0 * h)
    return grad


def relative_error(a, n, tiny=1e-8, elementwise=False):
    r"""CS231n relative error between an analytic and a numeric gradient.

    .. math:: e_k = \frac{|a_k - n_k|}{\max(|a_k| + |n_k|,\ \mathrm{tiny})}

    ``tiny`` (default 1e-8, as in CS231n) keeps the ratio finite where both are 0 and
    stops round-off noise in gradients that should be exactly 0 from looking like a
    100% error. See the module docstring for how to read the number.

    Parameters
    ----------
    a, n : array_like
        Analytic and numeric gradient, same shape.
    tiny : float, default 1e-8
    elementwise : bool, default False
        Return every ``e_k`` instead of the maximum.

    Returns
    -------
    float or ndarray
        ``max_k e_k`` (or the array of ``e_k``).

    Examples
    --------
    >>> relative_error([1.0, 2.0], [1.0, 2.0004])
    9.9990000999889e-05
    >>> relative_error([0.0], [0.0])
    0.0
    """
    a = as_float_array(a, "a", "relative_error")
    n = as_float_array(n, "n", "relative_error")
    if a.shape != n.shape:
        raise ValueError(
            f"relative_error: a and n must have the same shape, got a.shape={a.shape} "
            f"and n.shape={n.shape}; compare the analytic and numeric gradient of the "
            "same input"
        )
    tiny = check_scalar(tiny, "tiny", "relative_error", low=0.0, low_open=True,
                        fix="tiny is the floor of the denominator, e.g. 1e-8")
    err = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), tiny)
    return err if elementwise else float(err.max())


def check_gradient(f, grad_f, x, h=1e-5):
    """Maximum relative error between ``grad_f(x)`` and the numeric gradient of ``f``.

    Parameters
    ----------
    f : callable
        ``f(x) -> float``.
    grad_f : callable
        ``grad_f(x) -> ndarray`` shaped like ``x``: the analytic gradient to check.
    x : array_like
        Test point (use small random float64 values away from kinks).
    h : float, default 1e-5

    Returns
    -------
    float
        ``relative_error(grad_f(x), numeric_gradient(f, x, h))``; below 1e-7 is good.

    Examples
    --------
    >>> from lossbook.losses import mse, mse_grad
    >>> y = np.array([1.0, 2.0, 3.0])
    >>> check_gradient(lambda p: mse(y, p), lambda p: mse_grad(y, p), [0.5, 2.5, 2.0]) < 1e-7
    True
    """
    check_callable(grad_f, "grad_f", "check_gradient")
    x = as_float_array(x, "x", "check_gradient").astype(np.float64, copy=True)
    numeric = numeric_gradient(f, x, h)
    analytic = np.asarray(grad_f(x.copy()))
    if analytic.shape != x.shape:
        raise ValueError(
            f"check_gradient: grad_f must return an array shaped like x {x.shape}, got "
            f"shape {analytic.shape}; return one partial derivative per element of x"
        )
    return relative_error(analytic, numeric)
