"""Margin (hinge-type) losses for classifiers that output scores.

Binary losses take labels in {-1, +1} and real-valued scores ``s`` (the decision
function, e.g. ``w·x + b``) of the same shape; the *margin* of an example is
``y·s``: positive when it is classified correctly, at least 1 when it is also outside
the margin. ``multiclass_hinge`` takes class indices ``(n,)`` and a score matrix
``(n, C)``.

Gradients have the shape of the scores; with ``reduction="mean"`` they carry the 1/n.
"""
from __future__ import annotations

import numpy as np

from lossbook._validation import (
    as_class_indices, as_float_array, check_2d_scores, check_finite, check_pair,
    check_reduction,
    check_scalar, check_signed_labels,
)
from lossbook.losses import _compute
from lossbook.losses._compute import BLOCK, SMALL, dot, flat_index, full, fusable, grad_terms, \
    pick, reduce_terms, row_sum, sum_blocks, total

__all__ = [
    "hinge", "hinge_grad", "squared_hinge", "squared_hinge_grad",
    "multiclass_hinge", "multiclass_hinge_grad",
]


def _signed_pair(y_true, scores, reduction, func, finite=True):
    y, s = check_pair(y_true, scores, func, reduction, pred_name="scores", finite=False)
    check_signed_labels(y, "y_true", func)
    if finite:
        check_finite(s, "scores", func)
    return y, s


def _hinge(y, s):
    return np.maximum(0.0, 1.0 - y * s)


def _squared_hinge(y, s):
    return np.maximum(0.0, 1.0 - y * s) ** 2


def _hinges(y, s, h):
    """``h = max(0, 1 − y·s)`` of a block, in place; and ``0·max(y·s)``, which is NaN when
    a margin is NaN or +inf, which the hinge hides (``max(0, −inf) = 0``; a margin of
    −inf shows as an infinite hinge)."""
    np.multiply(y, s, out=h)
    poison = 0.0 * float(np.maximum.reduce(h))
    np.subtract(full(1.0, h), h, out=h)
    np.maximum(h, full(0.0, h), out=h)
    return poison


def _sum_hinge(y, s, h):
    poison = _hinges(y, s, h)
    return total(h) + poison


def _sum_squared_hinge(y, s, h):
    poison = _hinges(y, s, h)
    return dot(h, h) + poison


def _count_signed(y):
    """How many of ``y`` are exactly −1 or +1 (NaN counts as neither)."""
    return np.count_nonzero(y == 1.0) + np.count_nonzero(y == -1.0)


def _reduce_margins(terms, summer, y_true, scores, reduction, func):
    """The hinge-type loss ``terms``; its sum by blocks with the scores' NaN/inf check
    folded into the pass (``summer``), the exact check (and its message) only when the
    result is not finite. The labels are counted block by block too, while the block is
    in cache (``check_signed_labels`` reads all of ``y`` once more, from memory); any
    label that is not ±1 gets ``check_signed_labels``'s error, before the scores'.
    C-contiguous float64 arrays are summed and counted in one pass in C
    (``_compute.FUSED.margin_sum``), where it was built."""
    if reduction == "none" or np.size(scores) <= SMALL:
        y, s = _signed_pair(y_true, scores, reduction, func)
        return reduce_terms(terms, reduction, y, s)
    y, s = check_pair(y_true, scores, func, reduction, pred_name="scores", finite=False)
    n_signed = 0

    def counted(yb, sb, h):
        nonlocal n_signed
        n_signed += _count_signed(yb)
        return summer(yb, sb, h)

    with np.errstate(over="ignore", invalid="ignore"):  # the fallback below warns as before
        if fusable(y, s):
            result, signed = _compute.FUSED.margin_sum(y, s, terms is _squared_hinge)
            n_signed = y.size if signed else -1
        else:
            result = sum_blocks(counted, y, s, n_scratch=1)
    if n_signed != y.size:
        check_signed_labels(y, "y_true", func)  # raises, naming the labels found
    if not np.isfinite(result):
        check_finite(s, "scores", func)
        result = reduce_terms(terms, "sum", y, s)  # finite scores whose sum overflowed
    return result if reduction == "sum" else result / s.size


def hinge(y_true, scores, *, reduction="mean"):
    r"""Hinge loss (the soft-margin SVM loss).

    .. math:: L_i = \max(0,\; 1 - y_i s_i), \qquad y_i \in \{-1, +1\}

    Zero for examples classified correctly with margin ``y·s ≥ 1``; grows linearly
    for points inside the margin or on the wrong side. Same as scikit-learn's
    ``hinge_loss(y_true, pred_decision)`` for two classes.

    Parameters
    ----------
    y_true : array_like
        Labels, only -1 and +1 (convert 0/1 labels with ``y = 2*y - 1``).
    scores : array_like
        Decision values ``s``, same shape.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> hinge([1, -1, 1], [2.0, -0.5, -1.0], reduction="none")
    array([0. , 0.5, 2. ])
    """
    return _reduce_margins(_hinge, _sum_hinge, y_true, scores, reduction, "hinge")


def hinge_grad(y_true, scores, *, reduction="mean"):
    r"""Subgradient of :func:`hinge` with respect to the scores.

    .. math:: \frac{\partial L_i}{\partial s_i} = \begin{cases}
                 -y_i & y_i s_i < 1 \\ 0 & y_i s_i \ge 1 \end{cases}

    At the kink (margin exactly 1) the subgradient 0 is chosen: a point exactly on
    the margin is not pushed further. Divided by ``n`` for ``reduction="mean"``.

    Parameters
    ----------
    y_true, scores, reduction
        As for :func:`hinge`.

    Returns
    -------
    ndarray
        Same shape as ``scores``.

    Examples
    --------
    >>> hinge_grad([1, -1, 1], [2.0, -0.5, 1.0], reduction="sum")
    array([0., 1., 0.])
    """
    y, s = _signed_pair(y_true, scores, reduction, "hinge_grad")
    # −y inside the margin (y·s < 1), 0 outside and on it
    return grad_terms(lambda y, s: np.where(y * s < 1.0, -y, 0.0), reduction, s.size, y, s)


def squared_hinge(y_true, scores, *, reduction="mean"):
    r"""Squared hinge loss (L2-SVM loss).

    .. math:: L_i = \max(0,\; 1 - y_i s_i)^2, \qquad y_i \in \{-1, +1\}

    Differentiable everywhere, and penalises large violations more than the hinge.

    Parameters
    ----------
    y_true : array_like
        Labels, only -1 and +1.
    scores : array_like
        Decision values, same shape.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> squared_hinge([1, -1, 1], [2.0, -0.5, -1.0], reduction="none")
    array([0.  , 0.25, 4.  ])
    """
    return _reduce_margins(_squared_hinge, _sum_squared_hinge, y_true, scores, reduction,
                           "squared_hinge")


def squared_hinge_grad(y_true, scores, *, reduction="mean"):
    r"""Gradient of :func:`squared_hinge` with respect to the scores.

    .. math:: \frac{\partial L_i}{\partial s_i} = -2\,y_i \max(0,\; 1 - y_i s_i)

    Continuous, 0 at the margin from both sides. Divided by ``n`` for
    ``reduction="mean"``.

    Parameters
    ----------
    y_true, scores, reduction
        As for :func:`squared_hinge`.

    Returns
    -------
    ndarray
        Same shape as ``scores``.

    Examples
    --------
    >>> squared_hinge_grad([1, -1], [0.0, 0.0], reduction="sum")
    array([-2.,  2.])
    """
    y, s = _signed_pair(y_true, scores, reduction, "squared_hinge_grad")
    return grad_terms(lambda y, s: -2.0 * y * np.maximum(0.0, 1.0 - y * s), reduction,
                      s.size, y, s)


def _multiclass_inputs(y_true, scores, margin, reduction, func):
    check_reduction(reduction, func)
    s = check_2d_scores(as_float_array(scores, "scores", func), "scores", func)
    margin = check_scalar(margin, "margin", func, low=0.0,
                          fix="margin is the required score gap, e.g. margin=1.0")
    y_arr = np.asarray(y_true)
    if y_arr.ndim != s.ndim - 1:
        raise ValueError(
            f"{func}: y_true must be class indices, one per row of scores (shape "
            f"{s.shape[:-1]}), got shape {y_arr.shape}; for one-hot rows pass "
            "y_true.argmax(axis=-1)"
        )
    y = as_class_indices(y_arr, s.shape[-1], "y_true", func)
    if y.shape != s.shape[:-1]:
        raise ValueError(
            f"{func}: y_true must hold one class index per row of scores, got "
            f"y_true.shape={y.shape} and scores.shape={s.shape}; pass "
            f"{s.shape[0] if s.ndim == 2 else 1} labels"
        )
    return y, s, margin


def _violations(y, s, margin):
    """``max(0, s_j − s_y + margin)`` for every class (the true class's entry is ``margin``),
    with the correct score picked by one gather and the maximum taken against an array."""
    # (in C order whatever s's layout: a Fortran-ordered m.reshape(-1) below would be a copy,
    # and the maximum would miss m)
    m = np.subtract(s, pick(s, y)[..., None], order="C")
    m += margin
    flat = m.reshape(-1)
    np.maximum(flat, full(0.0, flat) if flat.size <= BLOCK else 0.0, out=flat)
    return m


def _margins(y, s, margin):
    """``max(0, s_j − s_y + margin)`` for every class, with the true class set to 0."""
    m = _violations(y, s, margin)
    flat = flat_index(m, y)
    if flat is not None:
        m.reshape(-1)[flat] = 0.0
    else:
        np.put_along_axis(m, y[..., None], 0.0, axis=-1)
    return m


def _multiclass_hinge(y, s, margin):
    # Summing over *all* classes also counts j = y_i, whose term is max(0, Δ) = Δ:
    # subtracting it is cheaper than zeroing that entry first.
    return row_sum(_violations(y, s, margin)) - margin


def _multiclass_hinge_grad(y, s, margin):
    active = (_margins(y, s, margin) > 0).astype(s.dtype)  # 1 for every violating class
    # The correct class's score is in every violated margin, with a minus sign.
    counts = -row_sum(active)
    flat = flat_index(active, y)
    if flat is not None:
        active.reshape(-1)[flat] = counts
    else:
        np.put_along_axis(active, y[..., None], counts[..., None], axis=-1)
    return active


def multiclass_hinge(y_true, scores, *, margin=1.0, reduction="mean"):
    r"""Multi-class hinge loss (Weston–Watkins; the CS231n SVM loss).

    .. math:: L_i = \sum_{j \ne y_i} \max(0,\; s_{ij} - s_{i y_i} + \Delta)

    Every wrong class whose score comes within ``Δ`` (``margin``) of the correct
    class's score adds to the loss. The sum over wrong classes is **not** divided by
    the number of classes ``C`` (CS231n convention); PyTorch's ``multi_margin_loss``
    divides by ``C``, so it equals this loss divided by ``C``. (scikit-learn's
    multi-class ``hinge_loss`` is the different Crammer–Singer loss, which takes the
    maximum over wrong classes instead of the sum.)

    Parameters
    ----------
    y_true : array_like of int
        Class indices, shape ``(n,)`` (or a scalar for one example).
    scores : array_like
        Class scores, shape ``(n, C)`` (or ``(C,)``).
    margin : float, default 1.0
        ``Δ ≥ 0``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` gives one loss per row; ``"mean"`` divides by the number of rows.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> multiclass_hinge([0], [[3.2, 5.1, -1.7]], reduction="none")
    array([2.9])
    """
    y, s, margin = _multiclass_inputs(y_true, scores, margin, reduction, "multiclass_hinge")
    fused = None if reduction == "none" else _compute.fused_rows(y, s)
    if fused is not None:  # in C
        result = _compute.FUSED.multiclass_hinge_sum(*fused, margin)
        return result if reduction == "sum" else result / s.shape[0]
    return reduce_terms(_multiclass_hinge, reduction, y, s, rowwise=True, margin=margin)


def multiclass_hinge_grad(y_true, scores, *, margin=1.0, reduction="mean"):
    r"""Subgradient of :func:`multiclass_hinge` with respect to the scores.

    .. math::
        \frac{\partial L_i}{\partial s_{ij}} = \mathbb 1[s_{ij} - s_{iy_i} + \Delta > 0]
        \;(j \ne y_i), \qquad
        \frac{\partial L_i}{\partial s_{iy_i}} = -\sum_{j \ne y_i}
        \mathbb 1[s_{ij} - s_{iy_i} + \Delta > 0]

    At a kink (a wrong class exactly at the margin) the subgradient 0 is chosen for
    that class. Divided by the number of rows for ``reduction="mean"``.

    Parameters
    ----------
    y_true, scores, margin, reduction
        As for :func:`multiclass_hinge`.

    Returns
    -------
    ndarray
        Same shape as ``scores``.

    Examples
    --------
    >>> multiclass_hinge_grad([0], [[3.2, 5.1, -1.7]], reduction="sum")
    array([[-1.,  1.,  0.]])
    """
    y, s, margin = _multiclass_inputs(y_true, scores, margin, reduction,
                                      "multiclass_hinge_grad")
    n_rows = s.shape[0] if s.ndim == 2 else 1
    return grad_terms(_multiclass_hinge_grad, reduction, n_rows, y, s, rowwise=True,
                      margin=margin)
