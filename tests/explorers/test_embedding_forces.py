"""Embedding-forces explorer (lesson 11): plotted points, arrows and readout match the math."""
import importlib

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

import lossbook.losses as L  # noqa: E402
from lossbook import embeddings  # noqa: E402
from lossbook.explorers.base import fmt  # noqa: E402
from lossbook.figures import embedding_forces as forces_figure  # noqa: E402

forces_module = importlib.import_module("lossbook.explorers.embedding_forces")

STATES = [("triplet", 1.0, 0.5, 0), ("triplet", 0.3, 0.5, 7), ("triplet", 3.0, 0.5, 60),
          ("contrastive", 1.0, 0.5, 0), ("contrastive", 2.0, 0.5, 12),
          ("info_nce", 1.0, 0.5, 0), ("info_nce", 1.0, 0.05, 5), ("info_nce", 1.0, 2.0, 60)]


@pytest.fixture(scope="module")
def explorer():
    return forces_module.embedding_forces()


def set_state(explorer, loss, margin, temperature, steps):
    with explorer.hold():
        explorer.controls["loss"].value = loss
        explorer.controls["margin"].value = margin
        explorer.controls["temperature"].value = temperature
        explorer.controls["steps"].value = steps


def _loss_by_hand(X, loss, margin, temperature):
    """The loss of the paired points written out with loops (partners 2k, 2k+1)."""
    n = len(X)
    partner = [i ^ 1 for i in range(n)]
    if loss == "contrastive":
        terms = []
        for i in range(n):
            for j in range(i + 1, n):
                d = np.linalg.norm(X[i] - X[j])
                terms.append(d**2 if partner[i] == j else max(0.0, margin - d) ** 2)
        return np.mean(terms)
    if loss == "triplet":
        terms = [max(0.0, np.linalg.norm(X[a] - X[partner[a]]) - np.linalg.norm(X[a] - X[k]) + margin)
                 for a in range(n) for k in range(n) if k not in (a, partner[a])]
        return np.mean(terms)
    U = X / np.linalg.norm(X, axis=1, keepdims=True)
    S = U @ U[partner].T / temperature
    return np.mean([np.log(np.exp(S[i]).sum()) - S[i, i] for i in range(n)])


@pytest.mark.parametrize("loss, margin, temperature, steps", STATES)
def test_points_arrows_and_readout(explorer, loss, margin, temperature, steps):
    set_state(explorer, loss, margin, temperature, steps)
    s = explorer.state()
    X = s["positions"]
    # the positions are those of plain (projected, for InfoNCE) gradient descent
    expected = embeddings.toy_pairs(seed=3)
    lr = forces_figure.LR * (temperature if loss == "info_nce" else 1.0)
    if loss == "info_nce":
        expected = expected / np.linalg.norm(expected, axis=1, keepdims=True)
    for _ in range(steps):
        _, g = embeddings.point_forces(expected, loss, margin=margin, temperature=temperature)
        expected = expected - lr * len(expected) * g
        if loss == "info_nce":
            expected = expected / np.linalg.norm(expected, axis=1, keepdims=True)
    np.testing.assert_allclose(X, expected, rtol=1e-12, atol=1e-12)
    assert s["loss"] == pytest.approx(_loss_by_hand(X, loss, margin, temperature), rel=1e-10, abs=1e-14)
    # the gradient is the numeric gradient of that loss
    from lossbook.gradcheck import numeric_gradient
    numeric = numeric_gradient(lambda V: _loss_by_hand(V, loss, margin, temperature), X.copy())
    np.testing.assert_allclose(s["gradient"], numeric, rtol=1e-5, atol=1e-7)
    plot = explorer._plot
    for k, pts in enumerate(plot.pair_points):
        np.testing.assert_array_equal(np.column_stack(pts.get_data()), X[2 * k:2 * k + 2])
    np.testing.assert_allclose(plot.arrows.get_offsets(), X)
    np.testing.assert_allclose(np.column_stack([plot.arrows.U, plot.arrows.V]),
                               -s["gradient"] * len(X) * forces_figure.ARROW_SCALE)
    assert plot.circle.get_visible() == (loss == "info_nce")
    mark_x, mark_y = plot.loss_mark.get_data()
    assert mark_x[0] == steps and mark_y[0] == pytest.approx(s["curve"][steps] / s["curve"][0])
    lines = explorer.readout_text.splitlines()
    assert lines[0] == f"loss = {fmt(s['loss'])} after {steps} steps"
    if loss == "info_nce":
        U = X / np.linalg.norm(X, axis=1, keepdims=True)
        cos = [U[i] @ U[i ^ 1] for i in range(len(X))]
        assert lines[2] == f"mean cosine of partners = {fmt(np.mean(cos))}"
    else:
        d = [np.linalg.norm(X[i] - X[i ^ 1]) for i in range(len(X))]
        assert lines[2] == f"mean distance of partners = {fmt(np.mean(d))}"


def test_descent_lowers_each_loss_and_margin_is_met(explorer):
    for loss in ("triplet", "contrastive", "info_nce"):
        set_state(explorer, loss, 1.0, 0.5, 0)
        start = explorer.state()["loss"]
        set_state(explorer, loss, 1.0, 0.5, 60)
        end = explorer.state()
        assert end["loss"] < 0.5 * start, loss
    set_state(explorer, "contrastive", 1.0, 0.5, 60)
    s = explorer.state()
    assert -s["closest_other"] >= 1.0 - 1e-3     # non-partners pushed out to the margin
    assert -s["partner_score"] < 1e-3            # partners pulled together


def test_uses_lossbook_triplet_on_every_triplet(explorer):
    X = embeddings.toy_pairs(seed=3)
    value, _ = embeddings.point_forces(X, "triplet", margin=0.7)
    a = [i for i in range(10) for k in range(10) if k not in (i, i ^ 1)]
    k = [k for i in range(10) for k in range(10) if k not in (i, i ^ 1)]
    p = [i ^ 1 for i in a]
    assert value == pytest.approx(L.triplet_margin(X[a], X[p], X[k], margin=0.7))


def test_contract_and_updates_in_place(explorer, check_contract, in_place, sweep, frame):
    check_contract(explorer)
    set_state(explorer, "triplet", 1.0, 0.5, 0)
    before = frame(explorer)
    with in_place(explorer):
        for control in explorer.controls.values():
            for value in sweep(control):
                control.value = value
                assert np.isfinite(explorer.state()["loss"])
    set_state(explorer, "contrastive", 2.0, 0.5, 30)
    assert not np.array_equal(frame(explorer), before)
    assert explorer.figure.legends or explorer._plot.loss_ax.get_legend()
    assert forces_figure.ALT_TEXT


def test_factory_rejects_bad_values():
    with pytest.raises(ValueError, match="loss must be one of"):
        forces_module.embedding_forces(loss="hinge")
    with pytest.raises(ValueError, match="margin must be between"):
        forces_module.embedding_forces(margin=0.0)
    with pytest.raises(ValueError, match="steps must be between"):
        forces_module.embedding_forces(steps=61)
