"""Metrics that are not losses (lesson 10): calibration of predicted probabilities.

A classifier is *calibrated* when, among the examples it gives confidence ``c``, a
fraction ``c`` is right. The reliability diagram bins the examples by confidence and
compares, bin by bin, the mean confidence with the accuracy; the expected calibration
error (ECE; Naeini et al., 2015; Guo et al., 2017) is the gap averaged over the bins,
weighted by how many examples each holds.

Confidence is the *top-class* probability ``max_k p_ik`` and an example is right when
its top class is its label. Bins are as in scikit-learn's ``calibration_curve``
(``strategy="uniform"``): ``n_bins`` equal-width bins ``(lo, hi]`` of [0, 1], the first
also holding 0. (Top-class confidences are at least ``1/K``, so with K classes the
bins below ``1/K`` stay empty.)
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lossbook._validation import as_class_indices, check_distribution_rows, check_scalar

__all__ = ["ReliabilityBins", "reliability_bins", "expected_calibration_error"]


class ReliabilityBins(NamedTuple):
    """Per-bin statistics of a reliability diagram (arrays of length ``n_bins``).

    ``confidence`` and ``accuracy`` are NaN in empty bins (``count == 0``).
    """

    edges: np.ndarray       #: the ``n_bins + 1`` bin edges, 0 to 1
    count: np.ndarray       #: examples per bin
    confidence: np.ndarray  #: mean top-class probability in the bin
    accuracy: np.ndarray    #: fraction of the bin's examples whose top class is right


def _n_bins(n_bins, func: str) -> int:
    if isinstance(n_bins, (bool, np.bool_)) or not isinstance(n_bins, (int, np.integer)):
        raise TypeError(
            f"{func}: n_bins must be a whole number, got {type(n_bins).__name__} "
            f"{n_bins!r}; pass e.g. n_bins=15"
        )
    check_scalar(int(n_bins), "n_bins", func, low=1, fix="use at least one bin, e.g. n_bins=15")
    return int(n_bins)


def _confidence_and_correct(y_true, proba, func: str):
    p = check_distribution_rows(proba, "proba", func)
    if p.ndim != 2 or p.shape[1] < 2:
        raise ValueError(
            f"{func}: proba must have shape (n_examples, n_classes) with at least 2 classes, "
            f"got shape {p.shape}; for a binary classifier that gives P(class 1) = p, pass "
            "np.column_stack([1 - p, p])"
        )
    y = as_class_indices(y_true, p.shape[1], "y_true", func)
    if y.shape != (p.shape[0],):
        raise ValueError(
            f"{func}: y_true must hold one integer label per row of proba, got "
            f"y_true.shape={y.shape} and proba.shape={p.shape}; pass {p.shape[0]} labels"
        )
    top = p.argmax(axis=1)
    confidence = p[np.arange(p.shape[0]), top]
    return confidence, (top == y).astype(np.float64)


def _bin_stats(confidence, correct, n_bins):
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    # searchsorted on the inner edges, side="left": a value equal to an edge goes to
    # the bin below it, so bins are (lo, hi] and the first also holds 0.
    which = np.searchsorted(edges[1:-1], confidence, side="left")
    count = np.bincount(which, minlength=n_bins)
    conf_sum = np.bincount(which, weights=confidence, minlength=n_bins)
    right_sum = np.bincount(which, weights=correct, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.where(count > 0, conf_sum / count, np.nan)
        accuracy = np.where(count > 0, right_sum / count, np.nan)
    return ReliabilityBins(edges, count, mean_conf, accuracy)


def reliability_bins(y_true, proba, *, n_bins=15) -> ReliabilityBins:
    """Bin examples by top-class confidence: what a reliability diagram plots.

    Parameters
    ----------
    y_true : array_like of int
        Class labels ``0..K−1``, shape ``(n,)``.
    proba : array_like
        Predicted probabilities, shape ``(n, K)``, rows summing to 1, ``K ≥ 2``.
    n_bins : int, default 15
        Number of equal-width bins of [0, 1].

    Returns
    -------
    ReliabilityBins
        ``edges``, ``count``, ``confidence`` and ``accuracy`` per bin.

    Examples
    --------
    >>> b = reliability_bins([0, 1, 1], [[0.9, 0.1], [0.8, 0.2], [0.4, 0.6]], n_bins=2)
    >>> b.count, b.confidence, b.accuracy
    (array([0, 3]), array([       nan, 0.76666667]), array([       nan, 0.66666667]))
    """
    func = "reliability_bins"
    n_bins = _n_bins(n_bins, func)
    return _bin_stats(*_confidence_and_correct(y_true, proba, func), n_bins)


def expected_calibration_error(y_true, proba, *, n_bins=15) -> float:
    r"""Expected calibration error of the top-class confidence.

    .. math:: \mathrm{ECE} = \sum_{b=1}^{B} \frac{n_b}{n}\,
              \bigl|\,\mathrm{acc}_b - \mathrm{conf}_b\bigr|

    where bin ``b`` holds the ``n_b`` examples whose top-class probability
    ``c_i = max_k p_ik`` lies in ``((b−1)/B, b/B]`` (the first bin also holds 0),
    ``conf_b`` is their mean ``c_i`` and ``acc_b`` the fraction of them whose top class
    is the label. Empty bins add nothing. 0 for a perfectly calibrated model; at most 1.

    Parameters
    ----------
    y_true : array_like of int
        Class labels ``0..K−1``, shape ``(n,)``.
    proba : array_like
        Predicted probabilities, shape ``(n, K)``, rows summing to 1, ``K ≥ 2``.
    n_bins : int, default 15
        Number of equal-width bins ``B`` (15 as in Guo et al., 2017).

    Returns
    -------
    float

    Examples
    --------
    Three examples given 0.9, 0.8 and 0.6, two of them right, one bin:
    ``|2/3 − (0.9 + 0.8 + 0.6)/3| = 0.1``

    >>> round(expected_calibration_error([0, 1, 1], [[0.9, 0.1], [0.8, 0.2], [0.4, 0.6]],
    ...                                  n_bins=1), 12)
    0.1
    """
    func = "expected_calibration_error"
    n_bins = _n_bins(n_bins, func)
    confidence, correct = _confidence_and_correct(y_true, proba, func)
    bins = _bin_stats(confidence, correct, n_bins)
    filled = bins.count > 0
    gaps = np.abs(bins.accuracy[filled] - bins.confidence[filled])
    return float((bins.count[filled] * gaps).sum() / confidence.size)
