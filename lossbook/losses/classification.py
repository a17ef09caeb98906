"""Classification losses: cross-entropy on probabilities and on logits.

Binary losses are element-wise: ``y_true`` and the predictions have the same shape
and ``reduction="mean"`` averages over every element. Multi-class losses work on rows:
predictions have shape ``(n, C)`` (or ``(C,)`` for a single example), ``"none"`` returns
one loss per row and ``"mean"`` divides by the number of rows ``n``.

Gradients (``*_grad``) have the shape of the predictions; with ``"mean"`` they are the
gradient of the mean (they carry the 1/n), with ``"none"`` and ``"sum"`` they are the
gradient of the sum.

Why two forms: the *probability* forms (``binary_cross_entropy``, ``cross_entropy``)
read like the textbook formula but need clipping, since ``log(0) = -inf``; the *logit*
forms (``binary_cross_entropy_with_logits``, ``softmax_cross_entropy``) never form a
probability that can round to 0 or 1, and stay exact for logits of any size.
"""
from __future__ import annotations

import functools

import numpy as np

from lossbook._validation import (
    as_class_indices, as_float_array, check_2d_scores, check_finite, check_pair,
    check_probabilities, check_reduction, check_rows_sum_to_one, check_scalar,
    row_sum_tolerance,
)
from lossbook.losses import _compute
from lossbook.losses._compute import SMALL, full, grad_terms, reduce_terms, row_max, \
    row_sum, sum_blocks, sum_log, total

__all__ = [
    "EPS", "sigmoid", "softmax", "log_softmax",
    "binary_cross_entropy", "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad",
    "bce_with_logits_grad",
    "cross_entropy", "cross_entropy_grad",
    "softmax_cross_entropy", "softmax_cross_entropy_grad",
]

#: Default clipping for probability-based losses: ``p`` is clipped to
#: ``[EPS, 1 - EPS]`` before the log (see :func:`probability_bounds` for what a float16 or
#: float32 ``p`` changes). Why 1e-12: it caps one example's loss at
#: ``-log(1e-12) ≈ 27.6`` (a finite, readable number on a plot), it is far above
#: float64's resolution near 1 (1.1e-16), so ``1 - EPS`` is a distinct number, and it
#: leaves every probability a real model produces untouched, so results match the
#: unclipped formula. PyTorch instead clamps each log at -100 and scikit-learn's
#: ``log_loss`` clips at the dtype's machine epsilon (2.2e-16 for float64).
EPS = 1e-12


def check_eps(eps, func: str) -> float:
    """The clipping margin ``eps`` of the probability losses (here and in focal)."""
    return check_scalar(eps, "eps", func, low=0.0, high=0.5, high_open=True,
                        fix="eps is the clipping margin, e.g. eps=1e-12")


@functools.lru_cache(maxsize=64)
def probability_bounds(dtype, eps: float):
    """The interval ``[lo, hi]`` that the probability losses clip ``p`` to, as numbers of
    ``p``'s dtype: ``lo = max(eps, tiny)`` and ``hi = 1 − max(eps, epsneg)``, where
    ``tiny`` is the dtype's smallest normal number and ``epsneg`` its spacing just below 1
    (``np.finfo``). For float64 and the default ``eps = 1e-12`` this is exactly
    ``[eps, 1 − eps]``. In float32 ``1 − 1e-12`` would round to 1 (a wrong answer at
    ``p = 1`` would cost ``inf``, a right one ``0·log 0 = NaN``), so ``hi = 1 − 2⁻²⁴``
    (``epsneg`` ≈ 6.0e-8: a loss of at most ≈ 16.6 there); in float16 1e-12 rounds to 0
    as well, so ``lo = 2⁻¹⁴`` ≈ 6.1e-5 and ``hi = 1 − 2⁻¹¹`` (``epsneg`` ≈ 4.9e-4).
    Both bounds are then distinct from 0 and 1 and both logs, and ``1/lo``, are finite.

    >>> probability_bounds(np.dtype(np.float32), 1e-12)
    (np.float32(1e-12), np.float32(0.99999994))
    """
    info = np.finfo(dtype)
    lo = dtype.type(max(eps, float(info.tiny)))
    hi = dtype.type(1.0 - max(eps, float(info.epsneg)))
    return lo, hi


def clip_probability(p: np.ndarray, eps: float) -> np.ndarray:
    """``p`` clipped to :func:`probability_bounds` of its dtype (a new array)."""
    lo, hi = probability_bounds(p.dtype, eps)
    return np.clip(p, lo, hi)

_PROB_FIX = ("pass probabilities (e.g. sigmoid(z)); if these are raw scores (logits), "
             "use binary_cross_entropy_with_logits instead")
_TARGET_FIX = "targets are 0/1 labels (or probabilities of the positive class)"


# ---------------------------------------------------------------------------
# Link functions
# ---------------------------------------------------------------------------
def sigmoid(z):
    r"""Logistic sigmoid, computed without overflow.

    .. math:: \sigma(z) = \frac{1}{1 + e^{-z}}
              = \frac{e^{z}}{1 + e^{z}}

    The first form is used for ``z ≥ 0`` and the second for ``z < 0`` so that
    ``exp`` only ever sees a non-positive argument.

    Parameters
    ----------
    z : array_like
        Logits.

    Returns
    -------
    ndarray
        Same shape as ``z``, values in [0, 1].

    Examples
    --------
    >>> sigmoid([-1000.0, 0.0, 1000.0])
    array([0. , 0.5, 1. ])
    """
    return _sigmoid(as_float_array(z, "z", "sigmoid"))


def _sigmoid(z):
    # 1 / (1 + e^{−z}) for z ≥ 0, e^{z} / (1 + e^{z}) for z < 0: exp never overflows.
    return _compute.sigmoid(z)


def log_softmax(z, *, axis=-1):
    r"""Log of the softmax, via the log-sum-exp trick.

    .. math:: \log \operatorname{softmax}(z)_k = z_k - m - \log\sum_j e^{z_j - m},
              \qquad m = \max_j z_j

    Subtracting the row maximum makes every exponent ≤ 0, so nothing overflows and
    the largest term is exactly 1.

    Parameters
    ----------
    z : array_like
        Logits, a vector ``(C,)`` or rows ``(n, C)``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    ndarray
        Same shape as ``z``.

    Examples
    --------
    >>> log_softmax([1000.0, 1000.0])
    array([-0.69314718, -0.69314718])
    """
    z = as_float_array(z, "z", "log_softmax")
    return z - _logsumexp(z, axis)


def softmax(z, *, axis=-1):
    r"""Softmax: turns logits into a probability distribution.

    .. math:: \operatorname{softmax}(z)_k = \frac{e^{z_k - m}}{\sum_j e^{z_j - m}},
              \qquad m = \max_j z_j

    Parameters
    ----------
    z : array_like
        Logits, a vector ``(C,)`` or rows ``(n, C)``.
    axis : int, default -1
        The class axis.

    Returns
    -------
    ndarray
        Same shape as ``z``; entries in [0, 1], each slice along ``axis`` sums to 1.

    Examples
    --------
    >>> softmax([0.0, 0.0, np.log(2.0)])
    array([0.25, 0.25, 0.5 ])
    """
    z = as_float_array(z, "z", "softmax")
    return _softmax(z, axis)


def _logsumexp(z, axis=-1):
    """``log Σ_j exp(z_j)`` along ``axis`` (kept as a size-1 axis), shifted by the max."""
    if axis in (-1, z.ndim - 1):
        m = row_max(z)[..., None]
        e = z - m
        np.exp(e, out=e)
        return m + np.log(row_sum(e))[..., None]
    m = z.max(axis=axis, keepdims=True)
    return m + np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def _softmax(z, axis=-1):
    if axis in (-1, z.ndim - 1):
        if z.ndim == 2 and z.size and z.shape[1] >= 2:
            # Shifted by the whole array's maximum (one reduction instead of a row
            # maximum's several passes), unless a row's sum comes out too small
            e = z - np.maximum.reduce(z, axis=None)
            np.exp(e, out=e)
            sums = row_sum(e)
            if sums.min() >= _tiny_row_sum(z.dtype):
                e /= sums[:, None]
                return e
        e = z - row_max(z)[..., None]
        np.exp(e, out=e)
        e /= row_sum(e)[..., None]
        return e
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------
# Binary cross-entropy
# ---------------------------------------------------------------------------
def _bce_inputs(y_true, p, eps, reduction, func):
    y_true, p = check_pair(y_true, p, func, reduction, pred_name="p", finite=False)
    return _bce_checks(y_true, p, eps, func)


def _bce_checks(y_true, p, eps, func):
    check_probabilities(y_true, "y_true", func, fix=_TARGET_FIX)
    check_probabilities(p, "p", func, fix=_PROB_FIX)
    eps = check_eps(eps, func)
    return y_true, p, eps


def _bce(y, p, eps):
    p = clip_probability(p, eps)
    return -(y * np.log(p) + (1.0 - y) * _compute.log1p(-p))


def _bce_grad(y, p, eps):
    p = clip_probability(p, eps)
    return (p - y) / (p * (1.0 - p))


def _bce_with_logits(y, z):
    # −[y log σ(z) + (1 − y) log(1 − σ(z))] = softplus(z) − y·z, with
    # softplus(z) = log(1 + e^z) = max(z, 0) + log(1 + e^{−|z|}). The large terms
    # max(z, 0) − y·z are taken first: for a confident right answer (y = 1, z = 200) they
    # cancel exactly and the loss keeps its relative precision (e^{−200}, not 0).
    losses = np.maximum(z, 0.0)
    losses -= y * z
    losses += _compute.log1p_exp_minus_abs(z)
    return losses


def _sum_bce_with_logits(y, z, a, u):
    # Σ [max(z, 0) − y·z] + Σ log(1 + e^{−|z|}): the large terms per element as in
    # _bce_with_logits, the small ones through one log per 64 elements (_compute.sum_log).
    np.abs(z, out=a)
    np.negative(a, out=u)
    np.exp(u, out=u)
    u += 1.0
    small = sum_log(u)
    np.maximum(z, full(0.0, z), out=a)
    a -= np.multiply(y, z, out=u)
    return total(a) + small


#: sum_log's result is within about 2·n·ε of the exact sum (the per-element form within
#: n·ε); a mean loss below this (only very confident, right predictions) is summed
#: element by element instead, so that it keeps a relative precision of 1e-12.
_SUM_LOG_MIN_MEAN = 4 * float(np.finfo(np.float64).eps) / 1e-12


def _reduce_bce_with_logits(y, z, reduction):
    if reduction != "none":
        result = _compute.fused_logit_sum(_compute.LOGIT_BCE, y, z)  # in C, if built
        if result is not None:
            return result if reduction == "sum" else result / z.size
    if reduction != "none" and z.dtype == np.float64 and z.size > SMALL:
        result = sum_blocks(_sum_bce_with_logits, y, z)
        if result >= _SUM_LOG_MIN_MEAN * z.size:
            return result if reduction == "sum" else result / z.size
    return reduce_terms(_bce_with_logits, reduction, y, z)


def binary_cross_entropy(y_true, p, *, eps=EPS, reduction="mean"):
    r"""Binary cross-entropy (log loss) on predicted probabilities.

    .. math:: L_i = -\bigl[y_i \log p_i + (1 - y_i)\log(1 - p_i)\bigr]

    ``p`` is clipped to ``[eps, 1 − eps]`` first, so a confident wrong prediction
    costs at most ``−log(eps)`` (≈ 27.6 for the default ``eps = 1e-12``) instead of
    infinity. That is for float64 ``p``; a float32 or float16 ``p`` is clipped to the
    nearest bounds its dtype tells apart from 0 and 1 (:func:`probability_bounds`): in
    float32 ``[1e-12, 1 − 2⁻²⁴]``, so a wrong answer at ``p = 1`` costs at most ≈ 16.6 and
    a right one ≈ 6e-8 (never ``inf`` or ``0·log 0 = NaN``). Use :func:`binary_cross_entropy_with_logits` when the model outputs
    logits: it needs no clipping.

    Parameters
    ----------
    y_true : array_like
        Labels in {0, 1} (probabilities in [0, 1] are accepted as soft targets).
    p : array_like
        Predicted probability of class 1, same shape, in [0, 1].
    eps : float, default 1e-12
        Clipping margin (see :data:`EPS`); ``eps=0`` clips at the dtype's own limits.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(binary_cross_entropy([1, 0], [0.9, 0.2]), 6)
    0.164252
    """
    func = "binary_cross_entropy"
    y, p = check_pair(y_true, p, func, reduction, pred_name="p", finite=False)
    if reduction != "none":  # in C, with the checks of y and p, where it applies
        result = _compute.fused_probability_sum(
            _compute.PROB_BCE, y, p,
            lambda: (*probability_bounds(p.dtype, check_eps(eps, func)), 0.0, 1.0, 1.0))
        if result is not None:
            return result if reduction == "sum" else result / p.size
    y, p, eps = _bce_checks(y, p, eps, func)
    return reduce_terms(_bce, reduction, y, p, eps=eps)


def binary_cross_entropy_grad(y_true, p, *, eps=EPS, reduction="mean"):
    r"""Gradient of :func:`binary_cross_entropy` with respect to ``p``.

    .. math:: \frac{\partial L_i}{\partial p_i} = -\frac{y_i}{p_i} + \frac{1 - y_i}{1 - p_i}
              = \frac{p_i - y_i}{p_i (1 - p_i)}

    evaluated at the clipped ``p`` (the clipping is treated as the identity, so the
    gradient stays informative at ``p = 0`` or ``1``). Divided by ``n`` for
    ``reduction="mean"``.

    Parameters
    ----------
    y_true, p, eps, reduction
        As for :func:`binary_cross_entropy`.

    Returns
    -------
    ndarray
        Same shape as ``p``.

    Examples
    --------
    >>> binary_cross_entropy_grad([1, 0], [0.5, 0.5], reduction="sum")
    array([-2.,  2.])
    """
    y, p, eps = _bce_inputs(y_true, p, eps, reduction, "binary_cross_entropy_grad")
    return grad_terms(_bce_grad, reduction, p.size, y, p, eps=eps)


def _check_pos_weight(pos_weight, y: np.ndarray, func: str):
    """``None``, one non-negative number, or an array that broadcasts to ``y``'s shape
    (e.g. one weight per column of multi-label targets, shape ``(C,)``)."""
    if pos_weight is None:
        return None
    w = as_float_array(pos_weight, "pos_weight", func)
    try:
        fits = np.broadcast_shapes(w.shape, y.shape) == y.shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"{func}: pos_weight must be one number or broadcast to y_true's shape "
            f"{y.shape}, got shape {w.shape}; pass a single weight, or one weight per "
            f"column (shape ({y.shape[-1]},)) for multi-label targets"
        )
    if not w.min() >= 0.0:
        raise ValueError(
            f"{func}: pos_weight must be >= 0, got {_preview_negative(w)}; it multiplies the "
            "loss of the positive examples, e.g. pos_weight = n_negative / n_positive"
        )
    return float(w) if w.ndim == 0 else np.broadcast_to(w, y.shape)


def _preview_negative(w: np.ndarray) -> str:
    return ", ".join(f"{v:g}" for v in np.unique(w[w < 0.0])[:6])


def _softplus(z):
    """``log(1 + e^z)``, never overflowing: ``max(z, 0) + log(1 + e^{−|z|})``."""
    return _compute.softplus(z)


def _bce_with_logits_weighted(y, z, pos_weight):
    # −[w·y·log σ(z) + (1 − y)·log(1 − σ(z))] = w·y·softplus(−z) + (1 − y)·softplus(z), with
    # softplus(±z) = max(±z, 0) + log(1 + e^{−|z|}) (no cancellation of large terms).
    small = _compute.log1p_exp_minus_abs(z)
    return pos_weight * y * (np.maximum(-z, 0.0) + small) + (1.0 - y) * (np.maximum(z, 0.0) + small)


def _bce_with_logits_weighted_grad(y, z, pos_weight):
    # d/dz: w·y·(σ(z) − 1) + (1 − y)·σ(z)
    s = _sigmoid(z)
    return pos_weight * y * (s - 1.0) + (1.0 - y) * s


def _bce_logit_inputs(y_true, z, pos_weight, reduction, func):
    y, z = check_pair(y_true, z, func, reduction, pred_name="z", finite=False)
    check_probabilities(y, "y_true", func, fix=_TARGET_FIX)
    check_finite(z, "z", func)
    return y, z, _check_pos_weight(pos_weight, y, func)


def binary_cross_entropy_with_logits(y_true, z, *, pos_weight=None, reduction="mean"):
    r"""Binary cross-entropy on logits, in the numerically stable form.

    With ``p = σ(z)`` the cross-entropy ``−[y log p + (1−y) log(1−p)]`` simplifies to

    .. math:: L_i = \max(z_i, 0) - z_i y_i + \log\!\left(1 + e^{-|z_i|}\right)

    which never evaluates ``exp`` of a positive number and never takes ``log(0)``:
    it is exact for logits of any size (e.g. ±1e4, where ``σ(z)`` rounds to 0 or 1).

    With ``pos_weight = w`` the positives' term is multiplied by ``w`` (PyTorch's
    ``BCEWithLogitsLoss(pos_weight=w)``, the usual answer to class imbalance, e.g.
    ``w = n_negative / n_positive``):

    .. math:: L_i = -\bigl[w\, y_i \log\sigma(z_i) + (1 - y_i)\log(1 - \sigma(z_i))\bigr]
              = w\, y_i \operatorname{softplus}(-z_i) + (1 - y_i)\operatorname{softplus}(z_i)

    ``reduction="mean"`` is still the plain mean over the elements (as in PyTorch),
    not divided by the total weight.

    Parameters
    ----------
    y_true : array_like
        Labels in {0, 1} (probabilities in [0, 1] are accepted as soft targets).
    z : array_like
        Logits (raw scores), same shape.
    pos_weight : float or array_like or None, default None
        Weight ``w ≥ 0`` of the positive examples' loss: one number, or an array that
        broadcasts to ``y_true`` (one weight per column of multi-label targets, as in
        PyTorch). ``None`` is ``w = 1``.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> binary_cross_entropy_with_logits([1.0, 0.0], [1e4, 1e4], reduction="none")
    array([    0., 10000.])
    >>> binary_cross_entropy_with_logits([1.0, 0.0], [0.0, 0.0], pos_weight=3.0,
    ...                                  reduction="none") / np.log(2)
    array([3., 1.])
    """
    y, z, pos_weight = _bce_logit_inputs(y_true, z, pos_weight, reduction,
                                         "binary_cross_entropy_with_logits")
    if pos_weight is None:
        return _reduce_bce_with_logits(y, z, reduction)
    if isinstance(pos_weight, float):
        result = None if reduction == "none" else _compute.fused_logit_sum(
            _compute.LOGIT_WEIGHTED_BCE, y, z, weight=pos_weight)
        if result is not None:  # summed in C
            return result if reduction == "sum" else result / z.size
        return reduce_terms(_bce_with_logits_weighted, reduction, y, z, pos_weight=pos_weight)
    # One weight per element (broadcast, e.g. from one per column): cut into blocks with y, z.
    return reduce_terms(lambda w, y, z: _bce_with_logits_weighted(y, z, w), reduction,
                        pos_weight, y, z)


def binary_cross_entropy_with_logits_grad(y_true, z, *, pos_weight=None, reduction="mean"):
    r"""Gradient of :func:`binary_cross_entropy_with_logits` with respect to ``z``.

    .. math:: \frac{\partial L_i}{\partial z_i} = \sigma(z_i) - y_i

    and with ``pos_weight = w``: ``w y_i (σ(z_i) − 1) + (1 − y_i) σ(z_i)``. Divided by
    ``n`` for ``reduction="mean"``. Also available as ``bce_with_logits_grad``.

    Parameters
    ----------
    y_true, z, pos_weight, reduction
        As for :func:`binary_cross_entropy_with_logits`.

    Returns
    -------
    ndarray
        Same shape as ``z``.

    Examples
    --------
    >>> binary_cross_entropy_with_logits_grad([1.0, 0.0], [0.0, 0.0], reduction="sum")
    array([-0.5,  0.5])
    >>> binary_cross_entropy_with_logits_grad([1.0, 0.0], [0.0, 0.0], pos_weight=3.0,
    ...                                       reduction="sum")
    array([-1.5,  0.5])
    """
    y, z, pos_weight = _bce_logit_inputs(y_true, z, pos_weight, reduction,
                                         "binary_cross_entropy_with_logits_grad")
    if pos_weight is None:
        if z.size > SMALL and y.shape == z.shape and _compute.fusable(y, z):  # in C
            grad = np.empty(z.shape)
            _compute.FUSED.bce_logit_grad(y, z, 1.0 / z.size if reduction == "mean" else 1.0,
                                          grad)
            return grad
        return grad_terms(lambda y, z: _sigmoid(z) - y, reduction, z.size, y, z)
    if isinstance(pos_weight, float):
        return grad_terms(_bce_with_logits_weighted_grad, reduction, z.size, y, z,
                          pos_weight=pos_weight)
    return grad_terms(lambda w, y, z: _bce_with_logits_weighted_grad(y, z, w), reduction,
                      z.size, pos_weight, y, z)


bce_with_logits_grad = binary_cross_entropy_with_logits_grad


# ---------------------------------------------------------------------------
# Multi-class cross-entropy
# ---------------------------------------------------------------------------
def _targets(y_true, pred: np.ndarray, func: str, pred_name: str):
    """Targets as class indices (one fewer axis than ``pred``) or rows shaped like ``pred``."""
    n_classes = pred.shape[-1]
    y_arr = np.asarray(y_true)
    if y_arr.ndim == pred.ndim - 1:
        idx = as_class_indices(y_arr, n_classes, "y_true", func)
        if idx.shape != pred.shape[:-1]:
            raise ValueError(
                f"{func}: y_true as class indices must have one label per row of "
                f"{pred_name}, got y_true.shape={idx.shape} and {pred_name}.shape="
                f"{pred.shape}; pass {pred.shape[0] if pred.ndim == 2 else 1} labels"
            )
        return idx
    y = as_float_array(y_true, "y_true", func)
    if y.shape != pred.shape:
        raise ValueError(
            f"{func}: y_true must be class indices of shape {pred.shape[:-1]} or "
            f"one-hot/probability rows of shape {pred.shape}, got y_true.shape={y.shape}; "
            f"pass one label per row of {pred_name}"
        )
    check_probabilities(y, "y_true", func, fix="one-hot or probability rows have entries in [0, 1]")
    check_rows_sum_to_one(y, "y_true", func)
    return y


_flat_index = _compute.flat_index
_pick = _compute.pick


def _subtract_at(a: np.ndarray, idx: np.ndarray, values) -> None:
    """In place: ``a[i, idx[i]] -= values[i]``."""
    flat = _flat_index(a, idx)
    if flat is not None:
        view = a.reshape(-1)
        view[flat] -= values
        return
    new = _pick(a, idx) - values
    np.put_along_axis(a, idx[..., None], np.asarray(new)[..., None], axis=-1)


def _is_index(target: np.ndarray, pred: np.ndarray) -> bool:
    return target.ndim == pred.ndim - 1


# Per-row formulas; ``target`` is class indices or target rows ``Y``.
def _cross_entropy(target, p, eps):
    lo = probability_bounds(p.dtype, eps)[0]  # eps, unless p's dtype rounds it to 0
    if _is_index(target, p):
        return -np.log(np.maximum(_pick(p, target), lo))  # −log p[i, y_i]
    return -row_sum(target * np.log(np.maximum(p, lo)))  # −Σ_k Y_ik log p_ik


def _cross_entropy_grad(target, p, eps):
    lo = probability_bounds(p.dtype, eps)[0]
    if _is_index(target, p):
        grad = np.zeros_like(p)
        _subtract_at(grad, target, 1.0 / np.maximum(_pick(p, target), lo))
        return grad
    return -target / np.maximum(p, lo)


def _softmax_cross_entropy(target, z, smoothing):
    # logsumexp(z_i) − Σ_k Y_ik z_ik, with Y smoothed to (1 − ε) Y + ε / C
    target_score = _pick(z, target) if _is_index(target, z) else row_sum(target * z)
    if smoothing:
        target_score = (1.0 - smoothing) * target_score + smoothing * row_sum(z) / z.shape[-1]
    return _logsumexp(z)[..., 0] - target_score


def _softmax_cross_entropy_rows(target, z, smoothing):
    """:func:`_softmax_cross_entropy` for class indices and rows ``(n, C)``, with the
    log-sum-exp shifted by the block's maximum ``M`` instead of each row's: one max and one
    ``exp`` pass over the block (a row maximum of few classes costs numpy several passes).
    Every exponent is still ≤ 0; a row whose maximum lies more than 40 below ``M``
    (:func:`_tiny_row_sum`) makes the block take the per-row form."""
    if z.ndim != 2 or z.shape[1] < 2 or not _is_index(target, z):
        # (one class: the per-row form gives the exact loss 0, which a numeric gradient needs)
        return _softmax_cross_entropy(target, z, smoothing)
    n_rows, n_classes = z.shape
    shift = np.maximum.reduce(z, axis=None)
    e = np.subtract(z, shift)
    np.exp(e, out=e)
    sums = row_sum(e)
    if not sums.min() >= _tiny_row_sum(z.dtype):
        return _softmax_cross_entropy(target, z, smoothing)
    losses = np.log(sums, out=sums)
    losses += shift
    target_score = _pick(z, target)
    if smoothing:
        target_score = (1.0 - smoothing) * target_score + smoothing * row_sum(z) / n_classes
    losses -= target_score
    return losses


def _tiny_row_sum(dtype) -> float:
    """The smallest row sum ``Σ_j e^{z_j − M}`` kept with the shift ``M`` of a block: the
    row's maximum is then at most 40 below ``M`` (so ``exp`` loses at most the precision
    it loses on a row spread over 40), and every term that matters to the row is a normal
    number (float16: the largest term is at least 6.9e-4)."""
    return max(float(np.exp(-40.0)), float(np.finfo(dtype).tiny) ** 0.75)


def _softmax_cross_entropy_grad(target, z, smoothing):
    grad = _softmax(z)  # softmax(z) − Y
    if _is_index(target, z):
        _subtract_at(grad, target, 1.0 - smoothing)
    else:
        grad -= (1.0 - smoothing) * target
    if smoothing:
        grad -= smoothing / z.shape[-1]
    return grad


def _rows(pred, func: str, pred_name: str) -> np.ndarray:
    pred = as_float_array(pred, pred_name, func)
    return check_2d_scores(pred, pred_name, func)


def _probability_rows(p, eps, reduction, func):
    check_reduction(reduction, func)
    p = check_2d_scores(as_float_array(p, "p", func, finite=False), "p", func)
    # Row sums near 1 (which also rules out NaN/inf) and no negative entry: then no
    # entry exceeds 1 either, so p.max() need not be computed. Both in one pass in C where
    # it applies; if that finds a bad row, the checks below say what is wrong.
    if not _rows_are_probabilities_in_c(p):
        check_rows_sum_to_one(p, "p", func)
        if not p.min() >= 0.0:
            check_probabilities(p, "p", func, fix="if these are raw scores (logits), use "
                                                  "softmax_cross_entropy, or apply softmax first")
    eps = check_eps(eps, func)
    return p, eps


def _rows_are_probabilities_in_c(p: np.ndarray) -> bool:
    """True if :data:`~lossbook.losses._compute.FUSED` found every row of ``p`` to sum to 1
    (within :func:`~lossbook._validation.row_sum_tolerance`) with no negative entry; False
    if it found otherwise or does not take ``p`` (then the numpy checks run)."""
    if p.ndim != 2 or p.size <= SMALL or not _compute.fusable(p):
        return False
    return _compute.FUSED.probability_rows_ok(p, p.shape[1], row_sum_tolerance(p))


def _n_rows(pred: np.ndarray) -> int:
    return pred.shape[0] if pred.ndim == 2 else 1


def cross_entropy(y_true, p, *, eps=EPS, reduction="mean"):
    r"""Cross-entropy between target distributions and predicted probabilities.

    .. math:: L_i = -\sum_{k=1}^{C} Y_{ik} \log p_{ik}

    With class indices ``y_i`` (one-hot ``Y``) only the correct class's term is left:
    ``L_i = −log p_{i, y_i}``, the negative log-probability given to the correct class
    (that is what is computed then). ``p`` is clipped to ``[eps, 1]`` before the log
    (see :data:`EPS`; for a float16 ``p``, where 1e-12 rounds to 0, to
    ``[max(eps, 2⁻¹⁴), 1]``: :func:`probability_bounds`).

    Parameters
    ----------
    y_true : array_like
        Either class indices, shape ``(n,)`` (or a scalar for one example), or
        one-hot / probability rows of the same shape as ``p``.
    p : array_like
        Predicted probabilities, shape ``(n, C)`` (or ``(C,)``), rows summing to 1.
    eps : float, default 1e-12
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` gives one loss per row; ``"mean"`` divides by the number of rows.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> p = [[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]
    >>> cross_entropy([0, 2], p, reduction="none")
    array([0.35667494, 0.22314355])
    >>> cross_entropy([[1, 0, 0], [0, 0, 1]], p, reduction="none")
    array([0.35667494, 0.22314355])
    """
    p, eps = _probability_rows(p, eps, reduction, "cross_entropy")
    target = _targets(y_true, p, "cross_entropy", "p")
    fused = None if reduction == "none" else _compute.fused_rows(target, p)
    if fused is not None:  # in C
        result = _compute.FUSED.nll_sum(*fused, float(probability_bounds(p.dtype, eps)[0]))
        return result if reduction == "sum" else result / p.shape[0]
    return reduce_terms(_cross_entropy, reduction, target, p, rowwise=True, eps=eps)


def cross_entropy_grad(y_true, p, *, eps=EPS, reduction="mean"):
    r"""Gradient of :func:`cross_entropy` with respect to ``p``.

    .. math:: \frac{\partial L_i}{\partial p_{ik}} = -\frac{Y_{ik}}{p_{ik}}

    (``p`` treated as free variables, evaluated at the clipped ``p``): with class
    indices, ``−1/p_{i,y_i}`` in the correct class's column and 0 elsewhere. Divided
    by the number of rows for ``reduction="mean"``.

    Parameters
    ----------
    y_true, p, eps, reduction
        As for :func:`cross_entropy`.

    Returns
    -------
    ndarray
        Same shape as ``p``.

    Examples
    --------
    >>> cross_entropy_grad([0], [[0.5, 0.25, 0.25]], reduction="sum")
    array([[-2.,  0.,  0.]])
    """
    p, eps = _probability_rows(p, eps, reduction, "cross_entropy_grad")
    target = _targets(y_true, p, "cross_entropy_grad", "p")
    return grad_terms(_cross_entropy_grad, reduction, _n_rows(p), target, p, rowwise=True,
                      eps=eps)


def _logit_rows(y_true, z, label_smoothing, weight, reduction, func):
    check_reduction(reduction, func)
    z = _rows(z, func, "z")
    smoothing = check_scalar(label_smoothing, "label_smoothing", func, low=0.0, high=1.0,
                             fix="label_smoothing is the probability mass spread over all "
                                 "classes, e.g. 0.1")
    target = _targets(y_true, z, func, "z")
    return z, smoothing, target, _check_class_weight(weight, z.shape[-1], func)


def _check_class_weight(weight, n_classes: int, func: str):
    """``None`` or one finite weight ``≥ 0`` per class, shape ``(C,)``."""
    if weight is None:
        return None
    w = as_float_array(weight, "weight", func)
    if w.shape != (n_classes,):
        raise ValueError(
            f"{func}: weight must hold one weight per class, shape ({n_classes},) (z has "
            f"{n_classes} columns), got shape {w.shape}; e.g. weight = n / (C * counts) "
            "for class counts counts = np.bincount(y, minlength=C)"
        )
    if not w.min() >= 0.0:
        raise ValueError(
            f"{func}: weight must be >= 0 for every class, got {_preview_negative(w)}; a "
            "class weight multiplies that class's loss"
        )
    return w


def _weighted_targets(target, z, smoothing, weight):
    """``T_ik = w_k · Y'_ik``: the (smoothed) target rows ``Y' = (1 − ε) Y + ε / C``,
    each class's column scaled by its weight (``Y`` one-hot for class indices)."""
    n_classes = z.shape[-1]
    rows = np.eye(n_classes, dtype=z.dtype)[target] if _is_index(target, z) else target
    return weight * ((1.0 - smoothing) * rows + smoothing / n_classes)


def _weighted_softmax_cross_entropy(target, z, smoothing, weight):
    # −Σ_k T_ik log softmax(z_i)_k = (Σ_k T_ik)·logsumexp(z_i) − Σ_k T_ik z_ik
    t = _weighted_targets(target, z, smoothing, weight)
    return row_sum(t) * _logsumexp(z)[..., 0] - row_sum(t * z)


def _weighted_softmax_cross_entropy_grad(target, z, smoothing, weight):
    # (Σ_k T_ik)·softmax(z_i) − T_i
    t = _weighted_targets(target, z, smoothing, weight)
    return row_sum(t)[..., None] * _softmax(z) - t


def _weighted_denominator(target, z, weight, reduction, func) -> float:
    """What ``reduction="mean"`` divides by with class weights (PyTorch's convention):
    the total weight ``Σ_i w_{y_i}`` of the examples for class indices, the number of
    rows for target rows."""
    if reduction != "mean":
        return 1.0
    if not _is_index(target, z):
        return float(_n_rows(z))
    total = float(weight[target].sum())
    if total == 0.0:
        raise ValueError(
            f"{func}: every example's class has weight 0, so the weighted mean (the loss "
            "divided by the examples' total weight) is undefined; give some of these "
            "classes a positive weight, or use reduction='sum'"
        )
    return total


def softmax_cross_entropy(y_true, z, *, label_smoothing=0.0, weight=None, reduction="mean"):
    r"""Cross-entropy of ``softmax(z)``, computed stably from the logits.

    .. math:: L_i = -\sum_{k} Y_{ik} \log\operatorname{softmax}(z_i)_k
              = \operatorname{logsumexp}(z_i) - \sum_k Y_{ik} z_{ik}

    (the right-hand form, used here, holds because each target row sums to 1; the
    log-sum-exp is computed with the row maximum subtracted, so nothing overflows).
    With class indices the sum is just ``z_{i,y_i}``. With
    ``label_smoothing = ε`` the targets become ``(1 − ε) Y + ε / C`` (PyTorch's
    ``cross_entropy(label_smoothing=ε)``).

    With class weights ``weight = w`` (PyTorch's ``cross_entropy(weight=w)``) each
    class's term is multiplied by its weight,

    .. math:: L_i = -\sum_k w_k Y_{ik} \log\operatorname{softmax}(z_i)_k

    (for class indices and no smoothing: ``w_{y_i} · (−log softmax(z_i)_{y_i})``), and
    ``reduction="mean"`` follows PyTorch: with **class indices** it is the *weighted*
    mean ``Σ_i L_i / Σ_i w_{y_i}`` (so a constant weight changes nothing); with
    **target rows** (one-hot or probabilities) it divides by the number of rows ``n``
    (so one-hot rows and the same labels as indices then give different means).

    Parameters
    ----------
    y_true : array_like
        Class indices ``(n,)`` or one-hot / probability rows shaped like ``z``.
    z : array_like
        Logits, shape ``(n, C)`` (or ``(C,)`` for one example).
    label_smoothing : float, default 0.0
        In [0, 1].
    weight : array_like of shape (C,) or None, default None
        One weight ``≥ 0`` per class, e.g. ``n / (C · count_k)`` to balance the classes;
        ``None`` weights every class 1.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` gives one loss per row; ``"mean"`` divides by the number of rows
        (by the examples' total weight with ``weight`` and class indices, see above).

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> softmax_cross_entropy([0, 1], [[2.0, 0.0], [1e4, -1e4]], reduction="none")
    array([1.26928011e-01, 2.00000000e+04])
    >>> z = [[0.0, 0.0], [0.0, 0.0]]          # every loss is log 2
    >>> softmax_cross_entropy([0, 1], z, weight=[3.0, 1.0], reduction="none") / np.log(2)
    array([3., 1.])
    >>> weighted_mean = softmax_cross_entropy([0, 1], z, weight=[3.0, 1.0])  # (3 + 1)·log 2 / 4
    >>> weighted_mean == softmax_cross_entropy([0, 1], z)
    True
    """
    func = "softmax_cross_entropy"
    z, smoothing, target, weight = _logit_rows(y_true, z, label_smoothing, weight,
                                               reduction, func)
    if weight is None:
        fused = None if reduction == "none" else _compute.fused_rows(target, z)
        if fused is not None:  # in C
            result = _compute.FUSED.softmax_ce_sum(*fused, smoothing)
            return result if reduction == "sum" else result / z.shape[0]
        return reduce_terms(_softmax_cross_entropy_rows, reduction, target, z, rowwise=True,
                            block=_compute.ROW_BLOCKS * _compute.BLOCK, smoothing=smoothing)
    denominator = _weighted_denominator(target, z, weight, reduction, func)
    losses = reduce_terms(_weighted_softmax_cross_entropy,
                          "none" if reduction == "none" else "sum", target, z,
                          rowwise=True, smoothing=smoothing, weight=weight)
    return losses if reduction == "none" else losses / denominator


def softmax_cross_entropy_grad(y_true, z, *, label_smoothing=0.0, weight=None,
                               reduction="mean"):
    r"""Gradient of :func:`softmax_cross_entropy` with respect to the logits ``z``.

    .. math:: \frac{\partial L_i}{\partial z_{ik}} = \operatorname{softmax}(z_i)_k - Y_{ik}

    (with ``Y`` label-smoothed when asked). With class weights, writing
    ``T_ik = w_k Y_ik``:

    .. math:: \frac{\partial L_i}{\partial z_{ik}}
              = \Bigl(\sum_j T_{ij}\Bigr)\operatorname{softmax}(z_i)_k - T_{ik}

    Divided by the number of rows for ``reduction="mean"`` (by the examples' total
    weight ``Σ_i w_{y_i}`` with ``weight`` and class indices, as PyTorch does).

    Parameters
    ----------
    y_true, z, label_smoothing, weight, reduction
        As for :func:`softmax_cross_entropy`.

    Returns
    -------
    ndarray
        Same shape as ``z``.

    Examples
    --------
    >>> softmax_cross_entropy_grad([0], [[0.0, 0.0]], reduction="sum")
    array([[-0.5,  0.5]])
    >>> softmax_cross_entropy_grad([0], [[0.0, 0.0]], weight=[3.0, 1.0], reduction="sum")
    array([[-1.5,  1.5]])
    """
    func = "softmax_cross_entropy_grad"
    z, smoothing, target, weight = _logit_rows(y_true, z, label_smoothing, weight,
                                               reduction, func)
    if weight is None:
        fused = _compute.fused_rows(target, z)
        if fused is not None:  # in C
            grad = np.empty(z.shape)
            _compute.FUSED.softmax_ce_grad(*fused, smoothing,
                                           1.0 / z.shape[0] if reduction == "mean" else 1.0,
                                           grad)
            return grad
        return grad_terms(_softmax_cross_entropy_grad, reduction, _n_rows(z), target, z,
                          rowwise=True, smoothing=smoothing)
    denominator = _weighted_denominator(target, z, weight, reduction, func)
    grad = grad_terms(_weighted_softmax_cross_entropy_grad, "sum", 1, target, z,
                      rowwise=True, smoothing=smoothing, weight=weight)
    if denominator != 1.0:
        grad /= denominator
    return grad
