"""Expected calibration error and reliability bins, against scikit-learn's
calibration_curve and the written formula."""
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossbook import metrics as M

SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    derandomize=bool(os.environ.get("CI")))


def _problem(n, k, seed, sharpness=3.0):
    g = np.random.default_rng(seed)
    z = g.normal(scale=sharpness, size=(n, k))
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    return g.integers(0, k, size=n), p


def _sklearn_ece(y, p, n_bins):
    """ECE from scikit-learn's calibration_curve on (correct?, top-class confidence).

    calibration_curve returns the accuracy and mean confidence of the non-empty bins only;
    the bin counts come from np.histogram of the negated confidences, whose bins
    [−hi, −lo) are the (lo, hi] bins of calibration_curve (the last one closed: 0 ∈ bin 1).
    """
    from sklearn.calibration import calibration_curve
    confidence = p.max(axis=1)
    correct = (p.argmax(axis=1) == y).astype(int)
    acc, conf = calibration_curve(correct, confidence, n_bins=n_bins, strategy="uniform")
    edges = np.linspace(0, 1, n_bins + 1)
    counts = np.histogram(-confidence, bins=-edges[::-1])[0][::-1]
    counts = counts[counts > 0]
    assert counts.sum() == len(y) and len(counts) == len(acc)
    return float(np.sum(counts / len(y) * np.abs(acc - conf)))


@pytest.mark.parametrize("n,k,n_bins,seed", [(500, 10, 15, 0), (200, 2, 10, 1),
                                             (1000, 5, 15, 2), (50, 3, 1, 3), (300, 4, 40, 4)])
def test_ece_matches_sklearn_calibration_curve(n, k, n_bins, seed):
    y, p = _problem(n, k, seed)
    assert M.expected_calibration_error(y, p, n_bins=n_bins) == pytest.approx(
        _sklearn_ece(y, p, n_bins), rel=1e-12, abs=1e-15)


def test_confidences_on_bin_edges_go_to_the_lower_bin_as_in_sklearn():
    from sklearn.calibration import calibration_curve
    # top-class confidences exactly on the edges 0.5 and 0.75: bins are (lo, hi]
    p = np.array([[0.5, 0.5], [0.6, 0.4], [0.0, 1.0], [0.75, 0.25]])
    y = np.array([0, 1, 1, 0])
    b = M.reliability_bins(y, p, n_bins=4)
    assert b.count.tolist() == [0, 1, 2, 1]   # (0.25, 0.5] holds 0.5; (0.5, 0.75] 0.6, 0.75
    assert b.count.sum() == 4
    acc, conf = calibration_curve((p.argmax(1) == y).astype(int), p.max(1), n_bins=4)
    filled = b.count > 0
    np.testing.assert_allclose(b.accuracy[filled], acc)
    np.testing.assert_allclose(b.confidence[filled], conf)
    assert M.expected_calibration_error(y, p, n_bins=4) == pytest.approx(_sklearn_ece(y, p, 4))


def test_written_formula_by_hand():
    # 0.9 right, 0.8 wrong, 0.6 right, 0.55 wrong; two bins (0, .5], (.5, 1]: one bin holds all
    p = np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6], [0.55, 0.45]])
    y = np.array([0, 1, 1, 1])
    expected = abs(2 / 4 - (0.9 + 0.8 + 0.6 + 0.55) / 4)
    assert M.expected_calibration_error(y, p, n_bins=2) == pytest.approx(expected)
    # five bins: (.4,.6] holds 0.6 (right) and 0.55 (wrong); (.6,.8] holds 0.8 (wrong);
    # (.8, 1] holds 0.9 (right)
    expected = (2 / 4 * abs(0.5 - 0.575) + 1 / 4 * abs(0 - 0.8) + 1 / 4 * abs(1 - 0.9))
    assert M.expected_calibration_error(y, p, n_bins=5) == pytest.approx(expected)


def test_perfect_and_worst_cases():
    y = np.array([0, 1, 2])
    assert M.expected_calibration_error(y, np.eye(3)) == 0.0
    assert M.expected_calibration_error(y, np.eye(3)[[1, 2, 0]]) == 1.0


@SETTINGS
@given(st.integers(1, 60), st.integers(2, 6), st.integers(1, 30), st.integers(0, 2**31))
def test_ece_properties(n, k, n_bins, seed):
    y, p = _problem(n, k, seed)
    ece = M.expected_calibration_error(y, p, n_bins=n_bins)
    assert 0.0 <= ece <= 1.0
    b = M.reliability_bins(y, p, n_bins=n_bins)
    assert b.count.sum() == n and len(b.edges) == n_bins + 1
    filled = b.count > 0
    assert np.isnan(b.confidence[~filled]).all() and np.isnan(b.accuracy[~filled]).all()
    # each filled bin's mean confidence lies inside the bin
    lo, hi = b.edges[:-1][filled], b.edges[1:][filled]
    assert ((b.confidence[filled] >= lo - 1e-12) & (b.confidence[filled] <= hi + 1e-12)).all()
    # one bin: |accuracy − mean confidence|
    one = M.expected_calibration_error(y, p, n_bins=1)
    acc = np.mean(p.argmax(1) == y)
    assert one == pytest.approx(abs(acc - p.max(1).mean()), abs=1e-12)
    assert one <= ece + 1e-12  # finer bins never hide a gap (triangle inequality)


def test_metrics_and_new_losses_import_numpy_only():
    import json
    import subprocess
    import sys
    heavy = ["scipy", "matplotlib", "ipywidgets", "IPython", "sklearn", "torch"]
    code = ("import sys, json, lossbook.metrics, lossbook.losses.embedding, "
            "lossbook.losses.divergence\n"
            f"print(json.dumps([m for m in {heavy!r} if m in sys.modules]))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
