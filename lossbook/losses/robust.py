"""Losses beyond the basics: focal loss (lessons 08 and 10) and Barron's general robust
loss (lesson 08).

Two focal losses, the same formula from two kinds of input:

- :func:`focal_with_logits` takes **logits** ``z`` (what a network outputs; lesson 10), is
  exact for logits of any size and follows torchvision's ``sigmoid_focal_loss``;
- :func:`focal` takes **probabilities** ``p = σ(z)`` (lesson 08's derivation, where the
  learner plots the loss against ``p_t``), clipped to ``[eps, 1 − eps]`` (as far as
  ``p``'s dtype can tell those from 0 and 1) like
  :func:`~lossbook.losses.binary_cross_entropy`.

``focal_loss`` / ``focal_loss_grad`` are the deprecated old names of ``focal`` /
``focal_grad``.
"""
from __future__ import annotations

import numpy as np

from lossbook._validation import (
    check_binary_labels, check_finite, check_pair, check_probabilities, check_scalar,
)
from lossbook.losses._compat import positional_options, renamed
from lossbook.losses import _compute
from lossbook.losses._compute import SMALL, fusable, grad_terms, reduce_terms
from lossbook.losses._compute import log1p, softplus_and_sigmoid
from lossbook.losses.classification import EPS, check_eps, clip_probability, probability_bounds

__all__ = ["focal", "focal_grad", "focal_with_logits", "focal_with_logits_grad",
           "barron", "barron_grad"]


def _focal_inputs(y_true, p, gamma, alpha, eps, reduction, func):
    y, p = check_pair(y_true, p, func, reduction, pred_name="p", finite=False)
    return _focal_checks(y, p, gamma, alpha, eps, func)


def _focal_checks(y, p, gamma, alpha, eps, func):
    check_binary_labels(y, "y_true", func)
    check_probabilities(p, "p", func, fix="pass probabilities (e.g. sigmoid(z)); for logits "
                                          "use focal_with_logits")
    gamma, a_pos, a_neg = _check_gamma_alpha(gamma, alpha, func)
    eps = check_eps(eps, func)
    return y, p, dict(gamma=gamma, a_pos=a_pos, a_neg=a_neg, eps=eps)


def _check_gamma_alpha(gamma, alpha, func):
    gamma = check_scalar(gamma, "gamma", func, low=0.0,
                         fix="gamma is the focusing exponent; gamma=0 gives cross-entropy, "
                             "the paper uses gamma=2")
    if alpha is None:
        return gamma, 1.0, 1.0
    a_pos = check_scalar(alpha, "alpha", func, low=0.0, high=1.0,
                         fix="alpha is the weight of the positive class, e.g. 0.25; "
                             "pass alpha=None for no class weighting")
    return gamma, a_pos, 1.0 - a_pos


def _focal(y, p, gamma, a_pos, a_neg, eps):
    # −α_t (1 − p_t)^γ log p_t, with one log per element: p_t = p for a positive, 1 − p for
    # a negative (y is exactly 0 or 1). log(1 − p) is taken as log1p(−p) (see
    # lossbook.losses._compute.log1p): log(u) − ((u − 1) + p) / u with u = 1 − p. For a
    # positive, u = p and the correction ((p − 1) + (1 − p)) is exactly 0, since
    # fl(p − 1) = −fl(1 − p): the same numbers as log(p) and log1p(−p) taken apart.
    p = clip_probability(p, eps)
    q = np.subtract(1.0, p)
    positive = y != 0.0
    p_t = np.where(positive, p, q)
    other = np.where(positive, q, p)  # 1 − p_t
    correction = p_t - 1.0
    correction += other
    correction /= p_t
    np.fmin(correction, 1.0, out=correction)  # as log1p: p_t = 0 (float16 p) gives inf, not NaN
    log_p_t = np.log(p_t, out=p_t)
    log_p_t -= correction
    # (in y's dtype too, as the products with y were: float64 labels, float32 p give float64)
    weight = _power(other, gamma).astype(np.result_type(y, p), copy=False)
    weight *= _alpha_t(y, -a_pos, -a_neg)
    weight *= log_p_t
    return weight


def _power(x, gamma):
    """``x ** gamma``; ``x · x`` for the usual ``γ = 2`` (numpy's ``power`` calls ``pow``
    for each element, ten times slower than a multiplication; both are within half a unit
    in the last place of ``x²``)."""
    return np.square(x) if gamma == 2.0 else np.power(x, gamma)


def _focal_grad(y, p, gamma, a_pos, a_neg, eps):
    p = clip_probability(p, eps)
    q = 1.0 - p
    # gamma * x**(gamma - 1) would be 0 * inf at x = 0 for gamma = 0: handle it apart.
    d_pos = gamma * q ** (gamma - 1.0) * np.log(p) - q ** gamma / p if gamma else -1.0 / p
    d_neg = p ** gamma / q - gamma * p ** (gamma - 1.0) * log1p(-p) if gamma else 1.0 / q
    return a_pos * y * d_pos + a_neg * (1.0 - y) * d_neg


def focal(y_true, p, *, gamma=2.0, alpha=None, eps=EPS, reduction="mean"):
    r"""Binary focal loss (Lin et al., 2017, "Focal Loss for Dense Object Detection").

    With ``p_t = p`` for positives and ``1 − p`` for negatives,

    .. math:: \mathrm{FL}(p_t) = -\alpha_t (1 - p_t)^{\gamma} \log p_t

    i.e. ``L_i = −[α y (1−p)^γ log p + (1−α)(1−y) p^γ log(1−p)]``. The factor
    ``(1 − p_t)^γ`` shrinks the loss of examples that are already classified well, so
    training focuses on the hard ones. ``γ = 0`` and ``alpha=None`` give
    :func:`~lossbook.losses.binary_cross_entropy`. ``p`` is clipped to
    ``[eps, 1 − eps]`` as there (for float32 or float16 ``p``, to bounds its dtype tells
    apart from 0 and 1: :func:`~lossbook.losses.classification.probability_bounds`).

    Takes **probabilities** ``p``; for logits (a network's raw outputs) use
    :func:`focal_with_logits`, which needs no clipping and follows torchvision.
    (``focal_loss`` is this function's deprecated old name.)

    Parameters
    ----------
    y_true : array_like
        Labels, only 0 and 1.
    p : array_like
        Predicted probability of class 1, same shape.
    gamma : float, default 2.0
        Focusing exponent ``γ ≥ 0``.
    alpha : float in [0, 1] or None, default None
        Weight ``α`` of the positive class (``1 − α`` for the negative); ``None``
        weights both classes 1.
    eps : float, default 1e-12
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> focal([1, 1], [0.5, 0.1], gamma=2.0, reduction="none")
    array([0.1732868 , 1.86509393])
    """
    func = "focal"
    y, p = check_pair(y_true, p, func, reduction, pred_name="p", finite=False)
    if reduction != "none":  # in C, with the checks of y and p, where it applies
        def options():
            gamma_, a_pos, a_neg = _check_gamma_alpha(gamma, alpha, func)
            return (*probability_bounds(p.dtype, check_eps(eps, func)), gamma_, a_pos, a_neg)
        result = _compute.fused_probability_sum(_compute.PROB_FOCAL, y, p, options)
        if result is not None:
            return result if reduction == "sum" else result / p.size
    y, p, params = _focal_checks(y, p, gamma, alpha, eps, func)
    return reduce_terms(_focal, reduction, y, p, **params)


def focal_grad(y_true, p, *, gamma=2.0, alpha=None, eps=EPS, reduction="mean"):
    r"""Gradient of :func:`focal` with respect to ``p``.

    .. math::
        \frac{\partial L}{\partial p} =
        \alpha y \left[\gamma (1-p)^{\gamma-1}\log p - \frac{(1-p)^\gamma}{p}\right]
        + (1-\alpha)(1-y)\left[\frac{p^\gamma}{1-p} - \gamma p^{\gamma-1}\log(1-p)\right]

    evaluated at the clipped ``p``. Divided by ``n`` for ``reduction="mean"``.

    Parameters
    ----------
    y_true, p, gamma, alpha, eps, reduction
        As for :func:`focal`.

    Returns
    -------
    ndarray
        Same shape as ``p``.

    Examples
    --------
    >>> focal_grad([1, 0], [0.5, 0.5], gamma=0.0, reduction="sum")
    array([-2.,  2.])
    """
    y, p, params = _focal_inputs(y_true, p, gamma, alpha, eps, reduction, "focal_grad")
    return grad_terms(_focal_grad, reduction, p.size, y, p, **params)


def _focal_logit_inputs(y_true, z, gamma, alpha, reduction, func):
    y, z = check_pair(y_true, z, func, reduction, pred_name="z", finite=False)
    check_binary_labels(y, "y_true", func)
    check_finite(z, "z", func)
    gamma, a_pos, a_neg = _check_gamma_alpha(gamma, alpha, func)
    return y, z, dict(gamma=gamma, a_pos=a_pos, a_neg=a_neg)


def _focal_with_logits(y, z, gamma, a_pos, a_neg):
    # With the signed logit s = z for a positive, −z for a negative: p_t = σ(s),
    # 1 − p_t = σ(−s) and −log p_t = softplus(−s), all exact for any s.
    s = (2.0 * y - 1.0) * z
    alpha_t = _alpha_t(y, a_pos, a_neg)
    ce, one_minus_pt = softplus_and_sigmoid(-s)  # −log p_t, 1 − p_t
    return alpha_t * _power(one_minus_pt, gamma) * ce


def _alpha_t(y, a_pos, a_neg):
    # α for positives, 1 − α for negatives: exact for y in {0, 1}; one number (no pass over
    # the data) when both weights are equal, e.g. alpha=None
    return a_pos if a_pos == a_neg else a_pos * y + a_neg * (1.0 - y)


def _focal_with_logits_grad(y, z, gamma, a_pos, a_neg):
    # dFL/ds = −α_t (1 − p_t)^γ [γ p_t softplus(−s) + 1 − p_t], and ds/dz = ±1.
    sign = 2.0 * y - 1.0
    alpha_t = _alpha_t(y, a_pos, a_neg)
    ce, q = softplus_and_sigmoid(-sign * z)  # −log p_t, q = 1 − p_t
    return -sign * alpha_t * _power(q, gamma) * (gamma * (1.0 - q) * ce + q)


def focal_with_logits(y_true, z, *, gamma=2.0, alpha=None, reduction="mean"):
    r"""Binary focal loss on logits (torchvision's ``sigmoid_focal_loss`` convention).

    With ``p = σ(z)``, ``p_t = p`` for positives and ``1 − p`` for negatives, and
    ``α_t = α`` for positives and ``1 − α`` for negatives,

    .. math:: \mathrm{FL}_i = -\alpha_t (1 - p_t)^{\gamma} \log p_t
              = \alpha_t\, \sigma(-s_i)^{\gamma} \operatorname{softplus}(-s_i),
              \qquad s_i = \begin{cases} z_i & y_i = 1 \\ -z_i & y_i = 0 \end{cases}

    The right-hand form (used here) needs no clipping and is exact for logits of any
    size. ``γ = 0`` with ``alpha=None`` is
    :func:`~lossbook.losses.binary_cross_entropy_with_logits`. Takes **logits**; the
    probability version is :func:`focal` (same values for ``p = σ(z)`` away from
    its clipping), which lesson 08 derives. Unlike torchvision (default ``alpha=0.25``, ``reduction="none"``), the
    default here is no class weighting and the mean over elements.

    Parameters
    ----------
    y_true : array_like
        Labels, only 0 and 1.
    z : array_like
        Logits (raw scores), same shape.
    gamma : float, default 2.0
        Focusing exponent ``γ ≥ 0``.
    alpha : float in [0, 1] or None, default None
        Weight ``α`` of the positives (``1 − α`` of the negatives); ``None`` weights
        both classes 1 (torchvision's ``alpha=-1``).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> focal_with_logits([1, 1, 0], [0.0, 40.0, 40.0], reduction="none")  # e^-120 in the middle
    array([1.73286795e-01, 7.66764807e-53, 4.00000000e+01])
    >>> focal_with_logits([1, 0], [0.0, 0.0], gamma=0.0, alpha=0.25, reduction="none")
    array([0.1732868 , 0.51986039])
    """
    y, z, params = _focal_logit_inputs(y_true, z, gamma, alpha, reduction,
                                       "focal_with_logits")
    if reduction != "none":
        result = _compute.fused_logit_sum(_compute.LOGIT_FOCAL, y, z, **params)  # in C
        if result is not None:
            return result if reduction == "sum" else result / z.size
    return reduce_terms(_focal_with_logits, reduction, y, z, **params)


def focal_with_logits_grad(y_true, z, *, gamma=2.0, alpha=None, reduction="mean"):
    r"""Gradient of :func:`focal_with_logits` with respect to the logits ``z``.

    With ``s``, ``p_t = σ(s)`` and ``α_t`` as there, and ``±`` the sign of ``s = ±z``
    (``+`` for positives):

    .. math:: \frac{\partial \mathrm{FL}_i}{\partial z_i} = \mp\, \alpha_t (1 - p_t)^{\gamma}
              \left[\gamma\, p_t \operatorname{softplus}(-s_i) + 1 - p_t\right]

    ``γ = 0``, ``alpha=None`` give ``σ(z) − y``. Divided by ``n`` for
    ``reduction="mean"``.

    Parameters
    ----------
    y_true, z, gamma, alpha, reduction
        As for :func:`focal_with_logits`.

    Returns
    -------
    ndarray
        Same shape as ``z``.

    Examples
    --------
    >>> focal_with_logits_grad([1, 0], [0.0, 0.0], gamma=0.0, reduction="sum")
    array([-0.5,  0.5])
    """
    y, z, params = _focal_logit_inputs(y_true, z, gamma, alpha, reduction,
                                       "focal_with_logits_grad")
    return grad_terms(_focal_with_logits_grad, reduction, z.size, y, z, **params)


def _barron_inputs(y_true, y_pred, alpha, c, reduction, func):
    y, p = check_pair(y_true, y_pred, func, reduction)
    if isinstance(alpha, (float, np.floating)) and np.isinf(alpha):
        if alpha > 0:
            raise ValueError(
                f"{func}: alpha must be finite or -inf, got inf; the loss diverges as "
                "alpha -> +inf: pass a finite alpha (e.g. 2 for L2) or -np.inf (Welsch)"
            )
    else:
        alpha = check_scalar(alpha, "alpha", func,
                             fix="alpha is the shape parameter: 2 = L2, 1 = pseudo-Huber, "
                                 "0 = Cauchy, -2 = Geman-McClure, -np.inf = Welsch")
    c = check_scalar(c, "c", func, low=0.0, low_open=True,
                     fix="c is the scale of the quadratic bowl near 0, e.g. c=1.0")
    return y, p, float(alpha), c


def _barron(y, p, alpha, c):
    x2 = ((p - y) / c) ** 2
    if alpha == 2.0:
        return 0.5 * x2
    if alpha == 0.0:
        return log1p(0.5 * x2)
    if alpha == -np.inf:
        return -np.expm1(-0.5 * x2)
    b = abs(alpha - 2.0)
    return b / alpha * np.expm1(0.5 * alpha * log1p(x2 / b))


def _barron_grad(y, p, alpha, c):
    x = (p - y) / c
    x2 = x * x
    if alpha == 2.0:
        return x / c
    if alpha == 0.0:
        return 2.0 * x / (c * (x2 + 2.0))
    if alpha == -np.inf:
        return x / c * np.exp(-0.5 * x2)
    b = abs(alpha - 2.0)
    return x / c * np.exp((0.5 * alpha - 1.0) * log1p(x2 / b))


@positional_options("alpha", "c", "reduction")
def barron(y_true, y_pred, *, alpha, c=1.0, reduction="mean"):
    r"""Barron's general and adaptive robust loss (Barron, CVPR 2019).

    With ``x = (ŷ − y) / c``,

    .. math::
        \rho(x, \alpha) = \frac{|\alpha - 2|}{\alpha}
        \left[\left(\frac{x^2}{|\alpha - 2|} + 1\right)^{\alpha/2} - 1\right]

    and its limits ``α = 2``: ``½x²`` (L2); ``α = 0``: ``log(½x² + 1)`` (Cauchy);
    ``α → −∞``: ``1 − exp(−½x²)`` (Welsch). ``α = 1`` is the pseudo-Huber/Charbonnier
    loss ``√(x²+1) − 1``, ``α = −2`` Geman–McClure. Smaller ``α`` means more robust:
    large residuals cost less and less. The general case is computed as
    ``|α−2|/α · expm1(α/2 · log1p(x²/|α−2|))``, accurate also for ``α`` near 0 and 2.

    Parameters
    ----------
    y_true, y_pred : array_like
        Targets and predictions of the same shape.
    alpha : float
        Shape parameter, any finite value or ``-np.inf``.
    c : float, default 1.0
        Scale ``c > 0``: the width of the quadratic bowl around 0.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> barron([0.0, 0.0], [1.0, 10.0], alpha=2.0, reduction="none")
    array([ 0.5, 50. ])
    >>> barron([0.0, 0.0], [1.0, 10.0], alpha=-np.inf, reduction="none")
    array([0.39346934, 1.        ])
    """
    y, p, alpha, c = _barron_inputs(y_true, y_pred, alpha, c, reduction, "barron")
    if reduction != "none" and p.size > SMALL and y.shape == p.shape and fusable(y, p):
        result = _compute.FUSED.barron_sum(y, p, alpha, c)  # in C
        return result if reduction == "sum" else result / p.size
    return reduce_terms(_barron, reduction, y, p, alpha=alpha, c=c)


@positional_options("alpha", "c", "reduction")
def barron_grad(y_true, y_pred, *, alpha, c=1.0, reduction="mean"):
    r"""Gradient of :func:`barron` with respect to ``y_pred``.

    .. math::
        \frac{\partial \rho}{\partial \hat y} = \frac{x}{c}
        \left(\frac{x^2}{|\alpha-2|} + 1\right)^{\alpha/2 - 1}, \qquad x = \frac{\hat y - y}{c}

    with limits ``x/c`` (α = 2), ``2x / (c(x² + 2))`` (α = 0) and
    ``(x/c)·exp(−½x²)`` (α = −∞). Divided by ``n`` for ``reduction="mean"``.

    Parameters
    ----------
    y_true, y_pred, alpha, c, reduction
        As for :func:`barron`.

    Returns
    -------
    ndarray
        Same shape as ``y_pred``.

    Examples
    --------
    >>> barron_grad([0.0, 0.0], [1.0, 10.0], alpha=0.0, reduction="sum")
    array([0.66666667, 0.19607843])
    """
    y, p, alpha, c = _barron_inputs(y_true, y_pred, alpha, c, reduction, "barron_grad")
    return grad_terms(_barron_grad, reduction, p.size, y, p, alpha=alpha, c=c)


# Deprecated names (issue 10: no "_loss" suffix); they warn on every call.
focal_loss = renamed(focal, "focal_loss")
focal_loss_grad = renamed(focal_grad, "focal_loss_grad")
