"""Regression losses and their gradients with respect to ``y_pred``.

Every function takes ``(y_true, y_pred)`` of the same shape and
``reduction="mean" | "sum" | "none"``: ``"none"`` gives the loss of each element
(the *loss*), ``"mean"`` their average (the *cost*), ``"sum"`` their total. A
``*_grad`` function returns an array shaped like ``y_pred``: the gradient of the
reduced value, so with ``"mean"`` it carries the factor 1/n; with ``"none"`` element
``i`` is the derivative of loss ``i`` with respect to ``y_pred[i]`` (the same array as
for ``"sum"``).

The residual is ``r = y_pred - y_true`` throughout.
"""
from __future__ import annotations

import numpy as np

from lossbook._validation import check_finite, check_pair, check_scalar
from lossbook.losses._compat import positional_options
from lossbook.losses import _compute
from lossbook.losses._compute import SMALL, dot, full, grad_residual, log1p, \
    reduce_residual, sum_log, total

__all__ = [
    "mse", "mse_grad", "mae", "mae_grad", "huber", "huber_grad",
    "log_cosh", "log_cosh_grad", "quantile", "quantile_grad",
]

_LOG2 = float(np.log(2.0))


# The per-element formulas, as functions of the residual r = ŷ − y. (Each loss below
# validates its input, then evaluates its formula through reduce_residual /
# grad_residual, which form r and only decide how to apply the formula to large arrays:
# see lossbook.losses._compute.)
def _squared(r):
    return r * r


def _absolute(r):
    return np.abs(r)


def _huber(r, delta):
    abs_r = np.abs(r)
    m = np.minimum(abs_r, delta)  # |r| capped at δ
    # Both pieces at once: m·(|r| − ½m) is ½r² for |r| ≤ δ and δ(|r| − ½δ) beyond.
    abs_r -= 0.5 * m
    abs_r *= m
    return abs_r


def _log_cosh(r):
    abs_r = np.abs(r)
    return abs_r + log1p(np.exp(-2.0 * abs_r)) - _LOG2


def _pinball(r, q):
    # q·max(−r, 0) + (1−q)·max(r, 0) is the larger of −q·r and (1−q)·r.
    return np.maximum(-q * r, (1.0 - q) * r)


def _quantile_grad(r, q):
    # 1 − q above, −q below, 0 at the kink: (1 − q)·[r > 0] − q·[r < 0]
    return (1.0 - q) * (r > 0) - q * (r < 0)


# The same formulas summed over a block of residuals r (a scratch buffer they may
# overwrite) in fewer passes: for large arrays the passes over the data, not the
# arithmetic, are what costs (see lossbook.losses._compute).
def _sum_squared(r, scratch):
    return dot(r, r)


def _sum_absolute(r, scratch):
    return total(np.abs(r, out=r))


def _sum_huber(r, scratch, delta):
    # m = min(|r|, δ): Σ m·(|r| − ½m) = Σ m|r| − ½ Σ m², two dots; every term is ≥ 0 and the
    # first sum is at least twice the second, so the difference loses no precision.
    abs_r = np.abs(r, out=r)
    m = np.minimum(abs_r, full(delta, abs_r), out=scratch)
    return dot(m, abs_r) - 0.5 * dot(m, m)


def _sum_log_cosh(r, scratch):
    # log cosh r = |r| + log((1 + e^{−2|r|}) / 2): one exp per element, and one log per 64
    # elements through the log of their product (lossbook.losses._compute.sum_log).
    abs_r = np.abs(r, out=r)
    u = np.multiply(abs_r, -2.0, out=scratch)
    np.exp(u, out=u)
    u += 1.0
    return total(abs_r) + sum_log(u, halve=True)


def _clip(r, delta, out):
    # np.clip(r, −δ, δ), with array bounds (twice as fast as scalar ones in np.minimum)
    np.minimum(r, full(delta, r), out=out)
    return np.maximum(out, full(-delta, r), out=out)


def _quantile_grad_into(r, q, out):
    out[...] = _quantile_grad(r, q)
    return out


#: _sum_log_cosh and the per-element form are each within a few n·ε (absolute) of the
#: exact sum (the form's |r| − log 2 cancels for small r); below this mean loss (residuals
#: of about 0.06 or less) their difference could exceed 1e-12 of the sum, and the sum is
#: taken element by element, consistent with reduction="none".
_LOG_COSH_MIN_MEAN = 10 * float(np.finfo(np.float64).eps) / 1e-12


def _finite_pair(func):
    """The exact NaN/inf check of (y_true, y_pred), run only when the residual is not
    finite (see lossbook.losses._compute.reduce_residual)."""
    def check(y, p):
        check_finite(y, "y_true", func)
        check_finite(p, "y_pred", func)
    return check


def _inputs(y_true, y_pred, reduction, func):
    y, p = check_pair(y_true, y_pred, func, reduction, finite=False)
    return y, p, _finite_pair(func)


def mse(y_true, y_pred, *, reduction="mean"):
    r"""Mean squared error.

    .. math:: L_i = (\hat y_i - y_i)^2, \qquad
              \mathrm{MSE} = \frac{1}{n}\sum_{i=1}^{n} (\hat y_i - y_i)^2

    Parameters
    ----------
    y_true : array_like
        Targets ``y``.
    y_pred : array_like
        Predictions ``ŷ``, same shape as ``y_true``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` returns the squared error of every element.

    Returns
    -------
    float or ndarray
        The cost (``"mean"``/``"sum"``) or the per-element losses (``"none"``).

    Examples
    --------
    >>> mse([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    1.3333333333333333
    >>> mse([1.0, 2.0, 3.0], [1.0, 2.0, 5.0], reduction="none")
    array([0., 0., 4.])
    """
    y, p, check = _inputs(y_true, y_pred, reduction, "mse")
    return reduce_residual(_squared, reduction, y, p, check, summer=_sum_squared,
                           fused="squared_sum")


def mse_grad(y_true, y_pred, *, reduction="mean"):
    r"""Gradient of :func:`mse` with respect to ``y_pred``.

    .. math:: \frac{\partial L_i}{\partial \hat y_i} = 2(\hat y_i - y_i)

    divided by ``n`` (the number of elements) for ``reduction="mean"``.

    Parameters
    ----------
    y_true, y_pred, reduction
        As for :func:`mse`.

    Returns
    -------
    ndarray
        Same shape as ``y_pred``.

    Examples
    --------
    >>> mse_grad([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    array([0.        , 0.        , 1.33333333])
    """
    y, p, check = _inputs(y_true, y_pred, reduction, "mse_grad")
    return grad_residual(2.0, reduction, y, p, check)  # 2r


def mae(y_true, y_pred, *, reduction="mean"):
    r"""Mean absolute error.

    .. math:: L_i = |\hat y_i - y_i|, \qquad
              \mathrm{MAE} = \frac{1}{n}\sum_{i=1}^{n} |\hat y_i - y_i|

    The constant prediction that minimises the MAE is the median of ``y_true``
    (for the MSE it is the mean).

    Parameters
    ----------
    y_true, y_pred : array_like
        Targets and predictions of the same shape.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> mae([1.0, 2.0, 3.0], [1.0, 2.0, 5.0])
    0.6666666666666666
    """
    y, p, check = _inputs(y_true, y_pred, reduction, "mae")
    return reduce_residual(_absolute, reduction, y, p, check, summer=_sum_absolute,
                           fused="absolute_sum")


def mae_grad(y_true, y_pred, *, reduction="mean"):
    r"""(Sub)gradient of :func:`mae` with respect to ``y_pred``.

    .. math:: \frac{\partial L_i}{\partial \hat y_i} = \operatorname{sign}(\hat y_i - y_i)

    At the kink ``ŷ = y`` the subgradient 0 is chosen (any value in [-1, 1] is a valid
    subgradient; 0 is what ``np.sign`` and PyTorch's ``l1_loss`` give). Divided by
    ``n`` for ``reduction="mean"``.

    Parameters
    ----------
    y_true, y_pred, reduction
        As for :func:`mae`.

    Returns
    -------
    ndarray
        Same shape as ``y_pred``.

    Examples
    --------
    >>> mae_grad([1.0, 2.0, 3.0], [0.0, 2.0, 5.0], reduction="sum")
    array([-1.,  0.,  1.])
    """
    y, p, check = _inputs(y_true, y_pred, reduction, "mae_grad")
    return grad_residual(np.sign, reduction, y, p, check)  # np.sign(r, out=...)


def _check_delta(delta, func):
    return check_scalar(delta, "delta", func, low=0.0, low_open=True,
                        fix="delta is the residual size where the loss turns from "
                            "quadratic to linear: pass a positive number, e.g. delta=1.0")


@positional_options("delta", "reduction")
def huber(y_true, y_pred, *, delta=1.0, reduction="mean"):
    r"""Huber loss: quadratic for small residuals, linear for large ones.

    .. math::
        L_\delta(r) = \begin{cases}
            \tfrac12 r^2 & |r| \le \delta \\
            \delta\,(|r| - \tfrac12\delta) & |r| > \delta
        \end{cases}, \qquad r = \hat y - y

    This is the convention of ``scipy.special.huber`` and PyTorch's ``huber_loss``
    (PyTorch's ``smooth_l1_loss(beta)`` equals ``huber_loss(delta=beta) / beta``).
    The two pieces meet with equal value and slope at ``|r| = δ``.

    Parameters
    ----------
    y_true, y_pred : array_like
        Targets and predictions of the same shape.
    delta : float, default 1.0
        Threshold ``δ > 0`` between the quadratic and the linear part.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> huber([0.0, 0.0], [0.5, 3.0], reduction="none")
    array([0.125, 2.5  ])
    """
    y, p, check = _inputs(y_true, y_pred, reduction, "huber")
    delta = _check_delta(delta, "huber")
    return reduce_residual(_huber, reduction, y, p, check, summer=_sum_huber, fused="huber_sum",
                           delta=delta)


@positional_options("delta", "reduction")
def huber_grad(y_true, y_pred, *, delta=1.0, reduction="mean"):
    r"""Gradient of :func:`huber` with respect to ``y_pred``.

    .. math:: \frac{\partial L_\delta}{\partial \hat y} = \operatorname{clip}(r, -\delta, \delta)

    Huber is differentiable everywhere: at ``|r| = δ`` both sides give ``±δ``.
    Divided by ``n`` for ``reduction="mean"``.

    Parameters
    ----------
    y_true, y_pred, delta, reduction
        As for :func:`huber`.

    Returns
    -------
    ndarray
        Same shape as ``y_pred``.

    Examples
    --------
    >>> huber_grad([0.0, 0.0, 0.0], [0.5, 3.0, -3.0], reduction="sum")
    array([ 0.5,  1. , -1. ])
    """
    y, p, check = _inputs(y_true, y_pred, reduction, "huber_grad")
    delta = _check_delta(delta, "huber_grad")
    return grad_residual(_clip, reduction, y, p, check, delta=delta)


def log_cosh(y_true, y_pred, *, reduction="mean"):
    r"""Log-cosh loss, a smooth loss close to ½r² for small and |r| − log 2 for large r.

    .. math:: L(r) = \log\cosh(r) = |r| + \log\!\left(1 + e^{-2|r|}\right) - \log 2

    The right-hand form is what is computed: ``cosh`` overflows for ``|r| > 710``,
    this form never does.

    Parameters
    ----------
    y_true, y_pred : array_like
        Targets and predictions of the same shape.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> log_cosh([0.0, 0.0], [0.0, 1000.0], reduction="none")
    array([  0.        , 999.30685282])
    """
    y, p, check = _inputs(y_true, y_pred, reduction, "log_cosh")
    if reduction == "none" or p.size <= SMALL:
        return reduce_residual(_log_cosh, reduction, y, p, check)
    # in C where it was built (the per-element form), else through _sum_log_cosh
    result = reduce_residual(_log_cosh, "sum", y, p, check, summer=_sum_log_cosh,
                             fused="log_cosh_sum")
    if result < _LOG_COSH_MIN_MEAN * p.size and not _compute.fusable(y, p):
        # tiny residuals: sum the per-element form
        result = reduce_residual(_log_cosh, "sum", y, p, check)
    return result if reduction == "sum" else result / p.size


def log_cosh_grad(y_true, y_pred, *, reduction="mean"):
    r"""Gradient of :func:`log_cosh` with respect to ``y_pred``.

    .. math:: \frac{\partial}{\partial \hat y}\log\cosh(\hat y - y) = \tanh(\hat y - y)

    Divided by ``n`` for ``reduction="mean"``.

    Parameters
    ----------
    y_true, y_pred, reduction
        As for :func:`log_cosh`.

    Returns
    -------
    ndarray
        Same shape as ``y_pred``.

    Examples
    --------
    >>> log_cosh_grad([0.0, 0.0], [0.0, 1000.0], reduction="sum")
    array([0., 1.])
    """
    y, p, check = _inputs(y_true, y_pred, reduction, "log_cosh_grad")
    return grad_residual(np.tanh, reduction, y, p, check)


def _check_q(q, func):
    return check_scalar(q, "q", func, low=0.0, high=1.0, low_open=True, high_open=True,
                        fix="q is the quantile to predict, e.g. q=0.5 for the median, "
                            "q=0.9 for the 90th percentile")


def quantile(y_true, y_pred, *, q=0.5, reduction="mean"):
    r"""Quantile (pinball) loss for predicting the ``q``-quantile.

    .. math::
        L_q(y, \hat y) = q\,\max(y - \hat y, 0) + (1 - q)\,\max(\hat y - y, 0)

    Under-prediction costs ``q`` per unit, over-prediction ``1 − q``. This is
    scikit-learn's ``mean_pinball_loss`` with ``alpha=q``; ``q=0.5`` gives half the MAE.

    Parameters
    ----------
    y_true, y_pred : array_like
        Targets and predictions of the same shape.
    q : float, default 0.5
        Quantile level, strictly between 0 and 1.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> quantile([10.0, 10.0], [8.0, 12.0], q=0.9, reduction="none")
    array([1.8, 0.2])
    """
    y, p, check = _inputs(y_true, y_pred, reduction, "quantile")
    q = _check_q(q, "quantile")
    return reduce_residual(_pinball, reduction, y, p, check, q=q)


def quantile_grad(y_true, y_pred, *, q=0.5, reduction="mean"):
    r"""(Sub)gradient of :func:`quantile` with respect to ``y_pred``.

    .. math::
        \frac{\partial L_q}{\partial \hat y} = \begin{cases}
            -q & \hat y < y \\ 1 - q & \hat y > y \\ 0 & \hat y = y \end{cases}

    At the kink ``ŷ = y`` the subgradient 0 is chosen (it lies in ``[−q, 1 − q]``).
    Divided by ``n`` for ``reduction="mean"``.

    Parameters
    ----------
    y_true, y_pred, q, reduction
        As for :func:`quantile`.

    Returns
    -------
    ndarray
        Same shape as ``y_pred``.

    Examples
    --------
    >>> quantile_grad([10.0, 10.0, 10.0], [8.0, 12.0, 10.0], q=0.9, reduction="sum")
    array([-0.9,  0.1,  0. ])
    """
    y, p, check = _inputs(y_true, y_pred, reduction, "quantile_grad")
    q = _check_q(q, "quantile_grad")
    return grad_residual(_quantile_grad_into, reduction, y, p, check, q=q)
