"""Divergences between probability distributions (lesson 11: distillation).

Distributions are rows: ``(n, C)`` for ``n`` distributions over ``C`` outcomes (or
``(C,)`` for one); each row has entries in [0, 1] summing to 1. ``reduction="mean"``
averages over the rows (PyTorch's ``kl_div(..., reduction="batchmean")``), ``"none"``
gives one divergence per row.
"""
from __future__ import annotations

import numpy as np

from lossbook._validation import check_distribution_rows, check_reduction, check_same_shape

__all__ = ["kl_divergence", "kl_divergence_grad"]


def _kl_inputs(p, q, reduction, func):
    check_reduction(reduction, func)
    p = check_distribution_rows(p, "p", func)
    q = check_distribution_rows(q, "q", func)
    check_same_shape(p, q, "p", "q", func)
    return p, q


def _kl_terms(p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """``p log(p/q)`` element-wise, with ``0·log(0/q) = 0`` and ``p·log(p/0) = +inf``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = p * (np.log(p) - np.log(q))
    out[p == 0.0] = 0.0  # 0·(−inf − log q) is nan: the limit is 0
    return out


def kl_divergence(p, q, *, reduction="mean"):
    r"""Kullback–Leibler divergence KL(p ‖ q) of each row.

    .. math:: \mathrm{KL}(p_i \,\|\, q_i) = \sum_{k} p_{ik} \log\frac{p_{ik}}{q_{ik}}

    with ``0 · log(0/q) = 0`` (outcomes that ``p`` never produces cost nothing) and
    ``+inf`` where ``q_{ik} = 0 < p_{ik}`` (``q`` rules out something ``p`` produces).
    ``KL ≥ 0``, with equality only for ``p = q``; it is not symmetric:
    ``KL(p‖q)`` ("forward", the cross-entropy minus the entropy of ``p``) punishes a
    ``q`` that misses some of ``p``'s mass (mode-covering), ``KL(q‖p)`` ("reverse")
    a ``q`` that puts mass where ``p`` has none (mode-seeking).

    Parameters
    ----------
    p : array_like
        The reference (target, teacher) distributions, ``(n, C)`` or ``(C,)``.
    q : array_like
        The approximating (model, student) distributions, same shape.
    reduction : {"mean", "sum", "none"}, default "mean"
        ``"none"`` gives one divergence per row; ``"mean"`` divides by the number of rows.

    Returns
    -------
    float or ndarray

    Examples
    --------
    >>> kl_divergence([[0.5, 0.5], [1.0, 0.0]], [[0.5, 0.5], [0.5, 0.5]], reduction="none")
    array([0.        , 0.69314718])
    """
    p, q = _kl_inputs(p, q, reduction, "kl_divergence")
    losses = _kl_terms(p, q).sum(axis=-1)
    if reduction == "none":
        return losses
    total = float(losses.sum())
    return total if reduction == "sum" else total / losses.size


def kl_divergence_grad(p, q, *, reduction="mean"):
    r"""Gradient of :func:`kl_divergence` with respect to ``q``.

    .. math:: \frac{\partial\, \mathrm{KL}(p_i \| q_i)}{\partial q_{ik}} = -\frac{p_{ik}}{q_{ik}}

    (``q`` treated as free variables; 0 where ``p_{ik} = 0``). Divided by the number of
    rows for ``reduction="mean"``. Through a softmax, ``q = softmax(z)``, the chain rule
    gives the distillation gradient ``softmax(z) − p``.

    Parameters
    ----------
    p, q, reduction
        As for :func:`kl_divergence`.

    Returns
    -------
    ndarray
        Same shape as ``q``.

    Examples
    --------
    >>> kl_divergence_grad([1.0, 0.0], [0.5, 0.5])
    array([-2.,  0.])
    """
    p, q = _kl_inputs(p, q, reduction, "kl_divergence_grad")
    grad = np.zeros(q.shape, dtype=np.result_type(p, q))
    has_mass = p > 0.0
    with np.errstate(divide="ignore"):
        grad[has_mass] = -p[has_mass] / q[has_mass]
    n_rows = p.shape[0] if p.ndim == 2 else 1
    return grad / n_rows if reduction == "mean" else grad
