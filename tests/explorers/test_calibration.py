"""Calibration explorer (lesson 10): confusion matrix, PR point and reliability match the math."""
import importlib

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
sk = pytest.importorskip("sklearn.metrics")

from lossbook import metrics  # noqa: E402
from lossbook.explorers.base import fmt  # noqa: E402
from lossbook.figures.calibration import pr_curve  # noqa: E402

module = importlib.import_module("lossbook.explorers.calibration")
STATES = [("cross-entropy", 0.5, 1.0), ("cross-entropy", 0.1, 2.5), ("cross-entropy, pos_weight 9", 0.9, 0.25),
          ("focal loss, γ = 2", 0.3, 0.6), ("focal loss, γ = 5", 0.99, 4.0)]


@pytest.fixture(scope="module")
def explorer():
    return module.calibration()


def set_state(explorer, training, threshold, temperature):
    with explorer.hold():
        explorer.controls["training"].value = training
        explorer.controls["threshold"].value = threshold
        explorer.controls["temperature"].value = temperature


@pytest.mark.parametrize("training, threshold, temperature", STATES)
def test_panels_and_readout(explorer, training, threshold, temperature):
    set_state(explorer, training, threshold, temperature)
    s = explorer.state()
    y, z = explorer.y, explorer.logits[training]
    p = 1 / (1 + np.exp(-z / temperature))
    pred = (p >= threshold).astype(int)
    cm = sk.confusion_matrix(y, pred, labels=[0, 1])
    plot = explorer._plot
    assert [[t.get_text() for t in row] for row in plot.cells] == [[str(v) for v in row] for row in cm]
    np.testing.assert_allclose(plot.image.get_array(), cm / cm.sum(axis=1, keepdims=True))
    precision = sk.precision_score(y, pred, zero_division=1.0)
    recall = sk.recall_score(y, pred, zero_division=0.0)
    px, py = plot.pr_point.get_data()
    assert px[0] == pytest.approx(recall) and py[0] == pytest.approx(precision)
    # the plotted PR curve is scikit-learn's (without its final (recall 0, precision 1) point)
    sk_p, sk_r, _ = sk.precision_recall_curve(y, z)
    ours_p, ours_r = pr_curve(y, z)
    np.testing.assert_allclose(ours_p[::-1], sk_p[:-1])
    np.testing.assert_allclose(ours_r[::-1], sk_r[:-1])
    P = np.column_stack([1 - p, p])
    bins = metrics.reliability_bins(y, P, n_bins=10)
    np.testing.assert_allclose([b.get_height() for b in plot.reliability.bars], np.nan_to_num(bins.accuracy))
    ece = metrics.expected_calibration_error(y, P, n_bins=10)
    assert s["ece"] == pytest.approx(ece)
    nll = sk.log_loss(y, p, labels=[0, 1])
    assert s["nll"] == pytest.approx(nll, rel=1e-6)
    f1 = sk.f1_score(y, pred, zero_division=0.0)
    lines = explorer.readout_text.splitlines()
    assert lines[3] == f"precision {fmt(precision)}, recall {fmt(recall)}, F1 {fmt(f1)}"
    assert lines[5] == f"ECE {fmt(ece)}, cross-entropy {fmt(s['nll'])}"
    # threshold t on σ(z/T) is the logit cut T·logit(t)
    cut = temperature * np.log(threshold / (1 - threshold))
    np.testing.assert_array_equal(pred, (z >= cut - 1e-12).astype(int))


def test_temperature_keeps_the_ranking_and_pos_weight_raises_recall(explorer):
    set_state(explorer, "cross-entropy", 0.5, 1.0)
    curve = explorer._plot.pr_line.get_data()
    set_state(explorer, "cross-entropy", 0.5, 3.0)
    np.testing.assert_array_equal(explorer._plot.pr_line.get_data()[0], curve[0])
    assert explorer.state()["counts"].recall == pytest.approx(  # threshold 0.5 is logit 0 at any T
        sk.recall_score(explorer.y, (explorer.logits["cross-entropy"] >= 0).astype(int)))
    set_state(explorer, "cross-entropy, pos_weight 9", 0.5, 1.0)
    weighted = explorer.state()["counts"]
    set_state(explorer, "cross-entropy", 0.5, 1.0)
    plain = explorer.state()["counts"]
    assert weighted.tp + weighted.fp >= plain.tp + plain.fp   # more predicted positives


def test_contract_and_updates_in_place(explorer, check_contract, in_place, sweep, frame):
    check_contract(explorer)
    set_state(explorer, "cross-entropy", 0.5, 1.0)
    before = frame(explorer)
    with in_place(explorer):
        for control in explorer.controls.values():
            for value in sweep(control):
                control.value = value
                assert 0 <= explorer.state()["ece"] <= 1
    set_state(explorer, "focal loss, γ = 5", 0.2, 0.5)
    assert not np.array_equal(frame(explorer), before)


def test_factory_rejects_bad_values():
    with pytest.raises(ValueError, match="training must be one of"):
        module.calibration(training="hinge")
    with pytest.raises(ValueError, match="threshold must be between"):
        module.calibration(threshold=1.0)
