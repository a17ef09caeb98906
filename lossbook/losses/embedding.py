"""Losses that shape embeddings (lesson 11): contrastive, triplet, InfoNCE, ranking.

These losses do not compare a prediction with a target value: they compare *distances*
or *similarities* between vectors, and their gradients move the vectors themselves —
pull matching pairs together, push the others apart.

Shapes: vectors are rows, ``(n, d)`` for ``n`` examples of dimension ``d`` (or ``(d,)``
for one example). ``reduction="mean"`` averages over the ``n`` examples (rows, or
pairs for the element-wise ranking losses); ``"none"`` gives one loss per example.

Gradients (``*_grad``) come as one array per input array (a tuple when there are
several), each shaped like that input; with ``"mean"`` they are the gradient of the
mean (they carry the 1/n), with ``"none"`` and ``"sum"`` that of the sum.

Distances are Euclidean, ``‖a − b‖₂`` (not squared). Where a distance is exactly 0 its
gradient (a unit vector) is undefined; the functions use 0 there, a valid subgradient.

Each loss has one implementation, an unchecked ``*_terms`` function that gives the
per-example losses and (on request) the gradient of their sum at once. The public
functions validate their arguments, then call it; code that has already validated its
arrays and calls a loss many times in a loop (:func:`lossbook.embeddings.descent_path`,
lesson 11's explorer) calls the ``*_terms`` function directly.
"""
from __future__ import annotations

import numpy as np

from lossbook._validation import (
    as_float_array, check_binary_labels, check_nonnegative, check_reduction,
    check_same_shape, check_scalar, check_signed_labels, check_vector_rows,
)

__all__ = [
    "contrastive", "contrastive_grad",
    "triplet_margin", "triplet_margin_grad",
    "info_nce", "info_nce_grad",
    "margin_ranking", "margin_ranking_grad",
    "pairwise_logistic", "pairwise_logistic_grad",
]


def _reduce(losses: np.ndarray, reduction: str):
    if reduction == "none":
        return losses
    total = float(losses.sum())
    return total if reduction == "sum" else total / losses.size


def _scale(reduction: str, n: int) -> float:
    return 1.0 / n if reduction == "mean" else 1.0


# ---------------------------------------------------------------------------
# Contrastive loss (Hadsell, Chopra & LeCun, 2006)
# ---------------------------------------------------------------------------
def _contrastive_inputs(distance, same, margin, reduction, func):
    check_reduction(reduction, func)
    d = as_float_array(distance, "distance", func)
    s = as_float_array(same, "same", func, finite=False)
    check_same_shape(d, s, "distance", "same", func)
    check_binary_labels(s, "same", func)
    check_nonnegative(d, "distance", func,
                      fix="pass distances ‖a − b‖ (≥ 0), e.g. np.linalg.norm(a - b, axis=1)")
    margin = check_scalar(margin, "margin", func, low=0.0,
                          fix="margin is how far apart different pairs must be, e.g. 1.0")
    if d.ndim == 0:
        d, s = d.reshape(1), s.reshape(1)
    return d, s, margin


def contrastive(distance, same, *, margin=1.0, reduction="mean"):
    r"""Contrastive loss of pairs at a given distance.

    .. math:: L_i = s_i\, d_i^2 + (1 - s_i)\, \max(0,\; m - d_i)^2

    A pair that should match (``s_i = 1``) pays its squared distance: the loss pulls
    it together. A pair that should not (``s_i = 0``) pays only while it is closer
    than the margin ``m``: the loss pushes it apart until ``d_i ≥ m``, then ignores it.

    Parameters
    ----------
    distance : array_like
        Euclidean distances ``d_i ≥ 0`` between the two embeddings of each pair.
    same : array_like
        1 where the pair should match (same class), 0 where it should not; same shape.
    margin : float, default 1.0
        ``m ≥ 0``.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> contrastive([0.5, 0.5, 2.0], [1, 0, 0], margin=1.0, reduction="none")
    array([0.25, 0.25, 0.  ])
    """
    d, s, m = _contrastive_inputs(distance, same, margin, reduction, "contrastive")
    return _reduce(contrastive_terms(d, s, m, grad=False)[0], reduction)


def contrastive_grad(distance, same, *, margin=1.0, reduction="mean"):
    r"""Gradient of :func:`contrastive` with respect to ``distance``.

    .. math:: \frac{\partial L_i}{\partial d_i} = 2 s_i d_i - 2 (1 - s_i) \max(0,\; m - d_i)

    Positive (pull: a smaller distance lowers the loss) for matching pairs, negative
    (push) for non-matching pairs inside the margin, 0 beyond it.

    Parameters
    ----------
    distance, same, margin, reduction
        As for :func:`contrastive`.

    Returns
    -------
    ndarray
        Same shape as ``distance``.

    Examples
    --------
    >>> contrastive_grad([0.5, 0.5, 2.0], [1, 0, 0], reduction="sum")
    array([ 1., -1.,  0.])
    """
    d, s, m = _contrastive_inputs(distance, same, margin, reduction, "contrastive_grad")
    return contrastive_terms(d, s, m)[1] * _scale(reduction, d.size)


def contrastive_terms(d: np.ndarray, s: np.ndarray, m: float, *, grad: bool = True):
    """Unchecked: per-pair losses of :func:`contrastive` and ``∂L_i/∂d_i`` (or None).

    ``d`` and ``s`` are 1-D float arrays of one shape (distances ≥ 0, labels 0/1),
    ``m ≥ 0`` a float; nothing is checked (the public functions do that).
    """
    short = np.maximum(0.0, m - d)
    losses = s * d**2 + (1.0 - s) * short**2
    return losses, (2.0 * s * d - 2.0 * (1.0 - s) * short) if grad else None


# ---------------------------------------------------------------------------
# Triplet margin loss (Schroff et al., 2015, FaceNet)
# ---------------------------------------------------------------------------
def _unit(diff: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """``diff / norm`` row-wise, 0 where the norm is 0 (a subgradient of ‖·‖ at 0)."""
    safe = np.where(norm > 0.0, norm, 1.0)
    return np.where(norm[:, None] > 0.0, diff / safe[:, None], 0.0)


def _triplet_inputs(anchor, positive, negative, margin, reduction, func):
    check_reduction(reduction, func)
    a = check_vector_rows(anchor, "anchor", func)
    p = check_vector_rows(positive, "positive", func)
    n = check_vector_rows(negative, "negative", func)
    check_same_shape(a, p, "anchor", "positive", func)
    check_same_shape(a, n, "anchor", "negative", func)
    margin = check_scalar(margin, "margin", func, low=0.0,
                          fix="margin is how much closer the positive must be, e.g. 1.0")
    single = a.ndim == 1
    if single:
        a, p, n = a[None], p[None], n[None]
    return a, p, n, margin, single


def triplet_margin(anchor, positive, negative, *, margin=1.0, reduction="mean"):
    r"""Triplet margin loss with Euclidean distances.

    .. math:: L_i = \max\bigl(0,\; \lVert a_i - p_i\rVert - \lVert a_i - n_i\rVert + m\bigr)

    Zero once the negative ``n_i`` is farther from the anchor ``a_i`` than the
    positive ``p_i`` by at least the margin ``m``. PyTorch's ``TripletMarginLoss``
    (``p=2``) computes ``‖a − p + ε‖`` with ``ε = 1e-6`` inside the norm; this function
    uses the exact distance, so the two differ by up to about ``2·ε·√d``.

    Parameters
    ----------
    anchor, positive, negative : array_like
        Embeddings, each ``(n, d)`` (or ``(d,)`` for one triplet), the same shape.
    margin : float, default 1.0
        ``m ≥ 0``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` gives one loss per triplet; ``"mean"`` divides by ``n``.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> a, p = [[0.0, 0.0], [0.0, 0.0]], [[0.6, 0.8], [0.3, 0.4]]
    >>> triplet_margin(a, p, [[3.0, 4.0], [0.0, 1.0]], margin=1.0, reduction="none")
    array([0. , 0.5])
    """
    a, p, n, m, _ = _triplet_inputs(anchor, positive, negative, margin, reduction,
                                    "triplet_margin")
    return _reduce(triplet_terms(a, p, n, m, grad=False)[0], reduction)


def triplet_margin_grad(anchor, positive, negative, *, margin=1.0, reduction="mean"):
    r"""Gradients of :func:`triplet_margin` with respect to the three embeddings.

    With unit vectors :math:`u_i = (a_i - p_i)/\lVert a_i - p_i\rVert` and
    :math:`v_i = (a_i - n_i)/\lVert a_i - n_i\rVert`, for a triplet whose loss is
    positive (0 otherwise):

    .. math:: \frac{\partial L_i}{\partial a_i} = u_i - v_i,\qquad
              \frac{\partial L_i}{\partial p_i} = -u_i,\qquad
              \frac{\partial L_i}{\partial n_i} = v_i

    A gradient step (minus the gradient) moves the positive towards the anchor and the
    negative away from it.

    Parameters
    ----------
    anchor, positive, negative, margin, reduction
        As for :func:`triplet_margin`.

    Returns
    -------
    tuple of ndarray
        ``(d_anchor, d_positive, d_negative)``, each shaped like its input.

    Examples
    --------
    >>> triplet_margin_grad([0.0, 0.0], [3.0, 4.0], [0.0, 1.0])
    (array([-0.6,  0.2]), array([0.6, 0.8]), array([ 0., -1.]))
    """
    a, p, n, m, single = _triplet_inputs(anchor, positive, negative, margin, reduction,
                                         "triplet_margin_grad")
    grads = triplet_terms(a, p, n, m, scale=_scale(reduction, a.shape[0]))[1]
    return tuple(g[0] for g in grads) if single else grads


def triplet_terms(a: np.ndarray, p: np.ndarray, n: np.ndarray, m: float, *,
                  grad: bool = True, scale: float = 1.0):
    """Unchecked: per-triplet losses of :func:`triplet_margin` and ``scale`` × the
    gradients of their sum, ``(d_anchor, d_positive, d_negative)`` (or None).

    ``a``, ``p``, ``n`` are finite float arrays of one shape ``(rows, d)``, ``m ≥ 0``
    a float; nothing is checked (the public functions do that).
    """
    to_positive, to_negative = a - p, a - n
    d_pos = np.linalg.norm(to_positive, axis=1)
    d_neg = np.linalg.norm(to_negative, axis=1)
    excess = d_pos - d_neg + m
    losses = np.maximum(0.0, excess)
    if not grad:
        return losses, None
    active = (excess > 0.0)[:, None] * scale
    u = _unit(to_positive, d_pos) * active
    v = _unit(to_negative, d_neg) * active
    return losses, (u - v, -u, v)


# ---------------------------------------------------------------------------
# InfoNCE (van den Oord et al., 2018; SimCLR; CLIP)
# ---------------------------------------------------------------------------
def _info_nce_inputs(queries, keys, temperature, reduction, func):
    check_reduction(reduction, func)
    q = check_vector_rows(queries, "queries", func, matrix=True)
    k = check_vector_rows(keys, "keys", func, matrix=True)
    if q.shape[1] != k.shape[1]:
        raise ValueError(
            f"{func}: queries and keys must have the same dimension (columns), got "
            f"queries.shape={q.shape} and keys.shape={k.shape}; embed both with the "
            "same output size"
        )
    if k.shape[0] < q.shape[0]:
        raise ValueError(
            f"{func}: keys must have at least one row per query (the positive of query i "
            f"is key i), got queries.shape={q.shape} and keys.shape={k.shape}; pass the "
            "matching keys first, then any extra negatives"
        )
    temperature = check_scalar(temperature, "temperature", func, low=0.0, low_open=True,
                               fix="temperature scales the similarities, e.g. 0.1")
    q_norm = _row_norms(q, "queries", func)
    k_norm = _row_norms(k, "keys", func)
    return q, k, q_norm, k_norm, temperature


def _row_norms(x: np.ndarray, name: str, func: str) -> np.ndarray:
    norms = np.linalg.norm(x, axis=1)
    if not (norms > 0.0).all():
        row = int(np.flatnonzero(~(norms > 0.0))[0])
        raise ValueError(
            f"{func}: every row of {name} must be a non-zero vector (rows are divided by "
            f"their length), got an all-zero row at index {row}; drop that example or "
            "check the layer that produced it"
        )
    return norms


def _info_nce_logits(q, k, q_norm, k_norm, temperature):
    qh, kh = q / q_norm[:, None], k / k_norm[:, None]
    return qh, kh, (qh @ kh.T) / temperature


def _log_softmax_rows(s: np.ndarray) -> np.ndarray:
    shifted = s - s.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def info_nce(queries, keys, *, temperature=0.1, reduction="mean"):
    r"""InfoNCE: softmax cross-entropy over cosine similarities (SimCLR / CLIP style).

    Rows are L2-normalised, :math:`\hat q_i = q_i/\lVert q_i\rVert`,
    :math:`\hat k_j = k_j/\lVert k_j\rVert`; the logits are the cosine similarities
    divided by the temperature, :math:`S_{ij} = \hat q_i \cdot \hat k_j / \tau`; the
    positive of query ``i`` is key ``i`` and every other key is a negative:

    .. math:: L_i = -\log \frac{e^{S_{ii}}}{\sum_j e^{S_{ij}}}
              = \operatorname{logsumexp}_j S_{ij} - S_{ii}

    i.e. the softmax cross-entropy of the row ``S_i`` with the correct class ``i``.
    A small ``τ`` sharpens the softmax: the hardest negatives dominate the gradient.

    Parameters
    ----------
    queries : array_like
        ``(n, d)``, no all-zero row.
    keys : array_like
        ``(m, d)`` with ``m ≥ n``: keys ``0..n−1`` are the positives of the queries,
        any further keys are extra negatives.
    temperature : float, default 0.1
        ``τ > 0``.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` gives one loss per query; ``"mean"`` divides by ``n``.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> q = [[1.0, 0.0], [0.0, 2.0]]
    >>> info_nce(q, q, temperature=1.0, reduction="none")  # log(1 + e^(0 - 1))
    array([0.31326169, 0.31326169])
    """
    q, k, qn, kn, tau = _info_nce_inputs(queries, keys, temperature, reduction, "info_nce")
    return _reduce(info_nce_terms(q, k, qn, kn, tau, grad=False)[0], reduction)


def info_nce_grad(queries, keys, *, temperature=0.1, reduction="mean"):
    r"""Gradients of :func:`info_nce` with respect to ``queries`` and ``keys``.

    With :math:`G = \operatorname{softmax}(S) - [I\;0]` (the softmax cross-entropy
    gradient of each row, divided by ``n`` for ``"mean"``), the chain rule through
    :math:`S = \hat Q \hat K^\top/\tau` and through the normalisation
    :math:`\hat x = x/\lVert x\rVert` gives

    .. math:: \frac{\partial L}{\partial \hat Q} = \frac{G \hat K}{\tau},\quad
              \frac{\partial L}{\partial \hat K} = \frac{G^\top \hat Q}{\tau},\quad
              \frac{\partial L}{\partial x} = \frac{g - \hat x\,(\hat x\cdot g)}{\lVert x\rVert}
              \text{ for each row } x \text{ with } g = \partial L/\partial \hat x

    (the last step removes the part of ``g`` along ``x``: stretching a vector does not
    change its direction, so it does not change the loss).

    Parameters
    ----------
    queries, keys, temperature, reduction
        As for :func:`info_nce`.

    Returns
    -------
    tuple of ndarray
        ``(d_queries, d_keys)``, shaped like ``queries`` and ``keys``.

    Examples
    --------
    Each query's gradient is perpendicular to the query (it only turns it):

    >>> q = [[1.0, 0.0], [0.0, 1.0]]
    >>> dq, dk = info_nce_grad(q, q, temperature=1.0, reduction="sum")
    >>> dq.round(6)  # 1 / (1 + e) = 0.268941
    array([[0.      , 0.268941],
           [0.268941, 0.      ]])
    """
    q, k, qn, kn, tau = _info_nce_inputs(queries, keys, temperature, reduction,
                                         "info_nce_grad")
    return info_nce_terms(q, k, qn, kn, tau, scale=_scale(reduction, q.shape[0]))[1]


def info_nce_terms(q: np.ndarray, k: np.ndarray, q_norm: np.ndarray, k_norm: np.ndarray,
                   temperature: float, *, grad: bool = True, scale: float = 1.0):
    """Unchecked: per-query losses of :func:`info_nce` and ``scale`` × the gradients of
    their sum, ``(d_queries, d_keys)`` (or None).

    ``q`` ``(n, d)`` and ``k`` ``(m ≥ n, d)`` are finite float arrays, ``q_norm`` and
    ``k_norm`` their row norms (all > 0), ``temperature > 0``; nothing is checked (the
    public functions do that).
    """
    qh, kh, s = _info_nce_logits(q, k, q_norm, k_norm, temperature)
    log_p = _log_softmax_rows(s)
    rows = np.arange(q.shape[0])
    losses = -log_p[rows, rows]
    if not grad:
        return losses, None
    g = np.exp(log_p)
    g[rows, rows] -= 1.0
    g *= scale
    d_qh = g @ kh / temperature
    d_kh = g.T @ qh / temperature
    d_q = (d_qh - qh * np.einsum("ij,ij->i", qh, d_qh)[:, None]) / q_norm[:, None]
    d_k = (d_kh - kh * np.einsum("ij,ij->i", kh, d_kh)[:, None]) / k_norm[:, None]
    return losses, (d_q, d_k)


# ---------------------------------------------------------------------------
# Pairwise ranking losses
# ---------------------------------------------------------------------------
def _ranking_inputs(scores_1, scores_2, y, reduction, func):
    check_reduction(reduction, func)
    s1 = as_float_array(scores_1, "scores_1", func)
    s2 = as_float_array(scores_2, "scores_2", func)
    t = as_float_array(y, "y", func, finite=False)
    check_same_shape(s1, s2, "scores_1", "scores_2", func)
    check_same_shape(s1, t, "scores_1", "y", func)
    check_signed_labels(t, "y", func)
    if s1.ndim == 0:
        s1, s2, t = s1.reshape(1), s2.reshape(1), t.reshape(1)
    return s1, s2, t


def margin_ranking(scores_1, scores_2, y, *, margin=0.0, reduction="mean"):
    r"""Margin ranking loss for pairs of scores (PyTorch's ``MarginRankingLoss``).

    .. math:: L_i = \max\bigl(0,\; -y_i (s_{1,i} - s_{2,i}) + m\bigr)

    ``y_i = +1`` says the first item should rank higher (``s_1 > s_2``), ``y_i = −1``
    the second. Zero once the right item leads by at least the margin ``m``.

    Parameters
    ----------
    scores_1, scores_2 : array_like
        Scores of the two items of each pair, the same shape.
    y : array_like
        Only +1 and -1, same shape.
    margin : float, default 0.0
        ``m ≥ 0``.
    reduction : {"mean", "sum", "none"}, default "mean"

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> margin_ranking([2.0, 0.5, 0.0], [1.0, 1.0, 1.0], [1, 1, -1], margin=0.5,
    ...                reduction="none")
    array([0., 1., 0.])
    """
    func = "margin_ranking"
    s1, s2, t = _ranking_inputs(scores_1, scores_2, y, reduction, func)
    m = check_scalar(margin, "margin", func, low=0.0,
                     fix="margin is how far ahead the right item must be, e.g. 0.5")
    return _reduce(np.maximum(0.0, -t * (s1 - s2) + m), reduction)


def margin_ranking_grad(scores_1, scores_2, y, *, margin=0.0, reduction="mean"):
    r"""Gradients of :func:`margin_ranking` with respect to both scores.

    .. math:: \frac{\partial L_i}{\partial s_{1,i}} = -y_i\,[L_i > 0],\qquad
              \frac{\partial L_i}{\partial s_{2,i}} = y_i\,[L_i > 0]

    Parameters
    ----------
    scores_1, scores_2, y, margin, reduction
        As for :func:`margin_ranking`.

    Returns
    -------
    tuple of ndarray
        ``(d_scores_1, d_scores_2)``.

    Examples
    --------
    >>> margin_ranking_grad([2.0, 0.5], [1.0, 1.0], [1, 1], margin=0.5, reduction="sum")
    (array([-0., -1.]), array([0., 1.]))
    """
    func = "margin_ranking_grad"
    s1, s2, t = _ranking_inputs(scores_1, scores_2, y, reduction, func)
    m = check_scalar(margin, "margin", func, low=0.0,
                     fix="margin is how far ahead the right item must be, e.g. 0.5")
    active = (-t * (s1 - s2) + m > 0.0) * _scale(reduction, s1.size)
    return -t * active, t * active


def pairwise_logistic(scores_1, scores_2, y, *, reduction="mean"):
    r"""Pairwise logistic ranking loss (RankNet; Burges et al., 2005).

    .. math:: L_i = \log\bigl(1 + e^{-y_i (s_{1,i} - s_{2,i})}\bigr)

    the binary cross-entropy of "item 1 ranks above item 2" with the score difference
    as the logit: a smooth margin ranking loss that never stops pushing. Computed as
    ``max(x, 0) + log(1 + e^{−|x|})`` with ``x = −y (s₁ − s₂)``, exact for any size.

    Parameters
    ----------
    scores_1, scores_2, y, reduction
        As for :func:`margin_ranking`.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> pairwise_logistic([1.0, 0.0], [1.0, 1e4], [1, 1], reduction="none")
    array([6.93147181e-01, 1.00000000e+04])
    """
    s1, s2, t = _ranking_inputs(scores_1, scores_2, y, reduction, "pairwise_logistic")
    x = -t * (s1 - s2)
    return _reduce(np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x))), reduction)


def pairwise_logistic_grad(scores_1, scores_2, y, *, reduction="mean"):
    r"""Gradients of :func:`pairwise_logistic` with respect to both scores.

    .. math:: \frac{\partial L_i}{\partial s_{1,i}} = -y_i\,\sigma\bigl(-y_i (s_{1,i} - s_{2,i})\bigr)
              = -\frac{\partial L_i}{\partial s_{2,i}}

    Parameters
    ----------
    scores_1, scores_2, y, reduction
        As for :func:`pairwise_logistic`.

    Returns
    -------
    tuple of ndarray
        ``(d_scores_1, d_scores_2)``.

    Examples
    --------
    >>> pairwise_logistic_grad([0.0], [0.0], [1], reduction="sum")
    (array([-0.5]), array([0.5]))
    """
    s1, s2, t = _ranking_inputs(scores_1, scores_2, y, reduction, "pairwise_logistic_grad")
    x = -t * (s1 - s2)
    e = np.exp(-np.abs(x))
    sig = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))
    d1 = -t * sig * _scale(reduction, s1.size)
    return d1, -d1
