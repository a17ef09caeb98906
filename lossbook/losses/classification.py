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

import numpy as np

from lossbook._validation import (
    as_class_indices, as_float_array, check_2d_scores, check_pair, check_probabilities,
    check_reduction, check_rows_sum_to_one, check_scalar, reduce,
    reduce_grad,
)

__all__ = [
    "EPS", "sigmoid", "softmax", "log_softmax",
    "binary_cross_entropy", "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits", "binary_cross_entropy_with_logits_grad",
    "bce_with_logits_grad",
    "cross_entropy", "cross_entropy_grad",
    "softmax_cross_entropy", "softmax_cross_entropy_grad",
]

#: Default clipping for probability-based losses: ``p`` is clipped to
#: ``[EPS, 1 - EPS]`` before the log. Why 1e-12: it caps one example's loss at
#: ``-log(1e-12) ≈ 27.6`` (a finite, readable number on a plot), it is far above
#: float64's resolution near 1 (1.1e-16), so ``1 - EPS`` is a distinct number, and it
#: leaves every probability a real model produces untouched, so results match the
#: unclipped formula. PyTorch instead clamps each log at -100 and scikit-learn's
#: ``log_loss`` clips at the dtype's machine epsilon (2.2e-16 for float64).
EPS = 1e-12

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
    z = as_float_array(z, "z", "sigmoid")
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def log_softmax(z, axis=-1):
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
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def softmax(z, axis=-1):
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
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# ---------------------------------------------------------------------------
# Binary cross-entropy
# ---------------------------------------------------------------------------
def _bce_inputs(y_true, p, eps, reduction, func):
    y_true, p = check_pair(y_true, p, func, reduction, pred_name="p")
    check_probabilities(y_true, "y_true", func, fix=_TARGET_FIX)
    check_probabilities(p, "p", func, fix=_PROB_FIX)
    eps = check_scalar(eps, "eps", func, low=0.0, high=0.5, high_open=True,
                       fix="eps is the clipping margin, e.g. eps=1e-12")
    return y_true, np.clip(p, eps, 1.0 - eps)


def binary_cross_entropy(y_true, p, eps=EPS, reduction="mean"):
    r"""Binary cross-entropy (log loss) on predicted probabilities.

    .. math:: L_i = -\bigl[y_i \log p_i + (1 - y_i)\log(1 - p_i)\bigr]

    ``p`` is clipped to ``[eps, 1 − eps]`` first, so a confident wrong prediction
    costs at most ``−log(eps)`` (≈ 27.6 for the default ``eps = 1e-12``) instead of
    infinity. Use :func:`binary_cross_entropy_with_logits` when the model outputs
    logits: it needs no clipping.

    Parameters
    ----------
    y_true : array_like
        Labels in {0, 1} (probabilities in [0, 1] are accepted as soft targets).
    p : array_like
        Predicted probability of class 1, same shape, in [0, 1].
    eps : float, default 1e-12
        Clipping margin (see :data:`EPS`).
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> round(binary_cross_entropy([1, 0], [0.9, 0.2]), 6)
    0.164252
    """
    y, p = _bce_inputs(y_true, p, eps, reduction, "binary_cross_entropy")
    return reduce(-(y * np.log(p) + (1.0 - y) * np.log1p(-p)), reduction)


def binary_cross_entropy_grad(y_true, p, eps=EPS, reduction="mean"):
    r"""Gradient of :func:`binary_cross_entropy` with respect to ``p``.

    .. math:: \frac{\partial L_i}{\partial p_i} = -\frac{y_i}{p_i} + \frac{1 - y_i}{1 - p_i}
              = \frac{p_i - y_i}{p_i (1 - p_i)}

    evaluated at the clipped ``p`` (the clipping is treated as the identity, so the
    gradient stays informative at ``p = 0`` or ``1``). Divided by ``n`` for
    ``reduction="mean"``.

    Examples
    --------
    >>> binary_cross_entropy_grad([1, 0], [0.5, 0.5], reduction="sum")
    array([-2.,  2.])
    """
    y, p = _bce_inputs(y_true, p, eps, reduction, "binary_cross_entropy_grad")
    return reduce_grad((p - y) / (p * (1.0 - p)), reduction, p.size)


def binary_cross_entropy_with_logits(y_true, z, reduction="mean"):
    r"""Binary cross-entropy on logits, in the numerically stable form.

    With ``p = σ(z)`` the cross-entropy ``−[y log p + (1−y) log(1−p)]`` simplifies to

    .. math:: L_i = \max(z_i, 0) - z_i y_i + \log\!\left(1 + e^{-|z_i|}\right)

    which never evaluates ``exp`` of a positive number and never takes ``log(0)``:
    it is exact for logits of any size (e.g. ±1e4, where ``σ(z)`` rounds to 0 or 1).

    Parameters
    ----------
    y_true : array_like
        Labels in {0, 1} (probabilities in [0, 1] are accepted as soft targets).
    z : array_like
        Logits (raw scores), same shape.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> binary_cross_entropy_with_logits([1.0, 0.0], [1e4, 1e4], reduction="none")
    array([    0., 10000.])
    """
    y, z = check_pair(y_true, z, "binary_cross_entropy_with_logits", reduction, pred_name="z")
    check_probabilities(y, "y_true", "binary_cross_entropy_with_logits", fix=_TARGET_FIX)
    return reduce(np.maximum(z, 0.0) - z * y + np.log1p(np.exp(-np.abs(z))), reduction)


def binary_cross_entropy_with_logits_grad(y_true, z, reduction="mean"):
    r"""Gradient of :func:`binary_cross_entropy_with_logits` with respect to ``z``.

    .. math:: \frac{\partial L_i}{\partial z_i} = \sigma(z_i) - y_i

    Divided by ``n`` for ``reduction="mean"``. Also available as
    ``bce_with_logits_grad``.

    Examples
    --------
    >>> binary_cross_entropy_with_logits_grad([1.0, 0.0], [0.0, 0.0], reduction="sum")
    array([-0.5,  0.5])
    """
    func = "binary_cross_entropy_with_logits_grad"
    y, z = check_pair(y_true, z, func, reduction, pred_name="z")
    check_probabilities(y, "y_true", func, fix=_TARGET_FIX)
    return reduce_grad(sigmoid(z) - y, reduction, z.size)


bce_with_logits_grad = binary_cross_entropy_with_logits_grad


# ---------------------------------------------------------------------------
# Multi-class cross-entropy
# ---------------------------------------------------------------------------
def _target_rows(y_true, pred: np.ndarray, func: str, pred_name: str) -> np.ndarray:
    """Targets as probability rows shaped like ``pred`` (class indices → one-hot)."""
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
        return np.eye(n_classes, dtype=pred.dtype)[idx]
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


def _rows(pred, func: str, pred_name: str) -> np.ndarray:
    pred = as_float_array(pred, pred_name, func)
    return check_2d_scores(pred, pred_name, func)


def cross_entropy(y_true, p, eps=EPS, reduction="mean"):
    r"""Cross-entropy between target distributions and predicted probabilities.

    .. math:: L_i = -\sum_{k=1}^{C} Y_{ik} \log p_{ik}

    With class indices ``y_i`` (one-hot ``Y``) this is ``−log p_{i, y_i}``: the
    negative log-probability given to the correct class. ``p`` is clipped to
    ``[eps, 1]`` before the log (see :data:`EPS`).

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
    func = "cross_entropy"
    check_reduction(reduction, func)
    p = _rows(p, func, "p")
    check_probabilities(p, "p", func, fix="if these are raw scores (logits), use "
                                          "softmax_cross_entropy, or apply softmax first")
    check_rows_sum_to_one(p, "p", func)
    eps = check_scalar(eps, "eps", func, low=0.0, high=0.5, high_open=True,
                       fix="eps is the clipping margin, e.g. eps=1e-12")
    Y = _target_rows(y_true, p, func, "p")
    return reduce(-(Y * np.log(np.maximum(p, eps))).sum(axis=-1), reduction)


def cross_entropy_grad(y_true, p, eps=EPS, reduction="mean"):
    r"""Gradient of :func:`cross_entropy` with respect to ``p``.

    .. math:: \frac{\partial L_i}{\partial p_{ik}} = -\frac{Y_{ik}}{p_{ik}}

    (``p`` treated as free variables, evaluated at the clipped ``p``). Divided by the
    number of rows for ``reduction="mean"``.

    Examples
    --------
    >>> cross_entropy_grad([0], [[0.5, 0.25, 0.25]], reduction="sum")
    array([[-2., -0., -0.]])
    """
    func = "cross_entropy_grad"
    check_reduction(reduction, func)
    p = _rows(p, func, "p")
    check_probabilities(p, "p", func, fix="if these are raw scores (logits), use "
                                          "softmax_cross_entropy_grad, or apply softmax first")
    check_rows_sum_to_one(p, "p", func)
    eps = check_scalar(eps, "eps", func, low=0.0, high=0.5, high_open=True,
                       fix="eps is the clipping margin, e.g. eps=1e-12")
    Y = _target_rows(y_true, p, func, "p")
    n_rows = p.shape[0] if p.ndim == 2 else 1
    return reduce_grad(-Y / np.maximum(p, eps), reduction, n_rows)


def _smoothed_targets(y_true, z, label_smoothing, func):
    eps = check_scalar(label_smoothing, "label_smoothing", func, low=0.0, high=1.0,
                       fix="label_smoothing is the probability mass spread over all "
                           "classes, e.g. 0.1")
    Y = _target_rows(y_true, z, func, "z")
    if eps:
        Y = (1.0 - eps) * Y + eps / z.shape[-1]
    return Y


def softmax_cross_entropy(y_true, z, label_smoothing=0.0, reduction="mean"):
    r"""Cross-entropy of ``softmax(z)``, computed stably from the logits.

    .. math:: L_i = -\sum_{k} Y_{ik} \log\operatorname{softmax}(z_i)_k
              = \operatorname{logsumexp}(z_i) - \sum_k Y_{ik} z_{ik}
              \quad (\textstyle\sum_k Y_{ik} = 1)

    using :func:`log_softmax`. With ``label_smoothing = ε`` the targets become
    ``(1 − ε) Y + ε / C`` (PyTorch's ``cross_entropy(label_smoothing=ε)``).

    Parameters
    ----------
    y_true : array_like
        Class indices ``(n,)`` or one-hot / probability rows shaped like ``z``.
    z : array_like
        Logits, shape ``(n, C)`` (or ``(C,)`` for one example).
    label_smoothing : float, default 0.0
        In [0, 1].
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` gives one loss per row; ``"mean"`` divides by the number of rows.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> softmax_cross_entropy([0, 1], [[2.0, 0.0], [1e4, -1e4]], reduction="none")
    array([1.26928011e-01, 2.00000000e+04])
    """
    func = "softmax_cross_entropy"
    check_reduction(reduction, func)
    z = _rows(z, func, "z")
    Y = _smoothed_targets(y_true, z, label_smoothing, func)
    return reduce(-(Y * log_softmax(z)).sum(axis=-1), reduction)


def softmax_cross_entropy_grad(y_true, z, label_smoothing=0.0, reduction="mean"):
    r"""Gradient of :func:`softmax_cross_entropy` with respect to the logits ``z``.

    .. math:: \frac{\partial L_i}{\partial z_{ik}} = \operatorname{softmax}(z_i)_k - Y_{ik}

    (with ``Y`` label-smoothed when asked). Divided by the number of rows for
    ``reduction="mean"``.

    Examples
    --------
    >>> softmax_cross_entropy_grad([0], [[0.0, 0.0]], reduction="sum")
    array([[-0.5,  0.5]])
    """
    func = "softmax_cross_entropy_grad"
    check_reduction(reduction, func)
    z = _rows(z, func, "z")
    Y = _smoothed_targets(y_true, z, label_smoothing, func)
    n_rows = z.shape[0] if z.ndim == 2 else 1
    return reduce_grad(softmax(z) - Y, reduction, n_rows)
