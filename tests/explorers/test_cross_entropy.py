"""Lesson 04 explorer: p, naive, clipped and stable losses equal the lossbook math."""
from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import special

from lossbook import explorers, losses
from lossbook.explorers.base import fmt
from lossbook.figures import cross_entropy as figure


@pytest.fixture(scope="module")
def explorer():
    return explorers.cross_entropy()


def _assert_matches(explorer):
    c = explorer.controls
    z, T, y = c["logit"].value, c["temperature"].value, c["label"].value
    t = z / T
    parts, state = explorer.parts, explorer.state()
    # independent references: SciPy's expit / log_expit
    assert state["p"] == pytest.approx(special.expit(t), rel=1e-15, abs=0)
    stable = -(y * special.log_expit(t) + (1 - y) * special.log_expit(-t))
    assert state["stable"] == pytest.approx(stable, rel=1e-12, abs=0)
    assert state["stable"] == losses.binary_cross_entropy_with_logits([y], [t])
    assert state["clipped"] == losses.binary_cross_entropy([y], [losses.sigmoid(t)])
    assert state["clipped"] <= -math.log(1e-12) + 1e-4   # capped near -log(eps)
    naive = state["naive"]
    if -709 < t < 36:                      # the naive formula is finite here ...
        assert math.isfinite(naive)
        if abs(t) <= 15:                   # ... and accurate where p is not near 0 or 1
            assert naive == pytest.approx(stable, rel=1e-6, abs=1e-12)
    if t > 37 or t < -710:                 # ... and honestly broken out here
        assert not math.isfinite(naive)
    np.testing.assert_array_equal(parts.sigmoid_curve.get_ydata(),
                                  losses.sigmoid(parts.z_grid / T))
    assert parts.prob_point.get_data() == ([z], [state["p"]])
    for name in ("naive", "clipped", "stable"):
        xs, ys = parts.loss_points[name].get_data()
        assert xs == [t] and (ys == [state[name]] or (math.isnan(ys[0]) and math.isnan(naive)))
    np.testing.assert_array_equal(
        parts.loss_curves["stable"].get_ydata(),
        losses.binary_cross_entropy_with_logits(np.full_like(parts.t_grid, y), parts.t_grid,
                                                reduction="none"))
    assert explorer.readout_text.splitlines() == [
        f"label y = {y}",
        f"logit z = {fmt(z)}, temperature T = {fmt(T)}, z/T = {fmt(t)}",
        f"p = σ(z/T) = {fmt(state['p'], 6)}" + {1.0: " (exactly 1 in float64: 1 − p is lost)",
                                                0.0: " (exactly 0 in float64)"}.get(state["p"], ""),
        f"1 − p = {fmt(special.expit(-t))}",
        f"naive −[y log p + (1−y) log(1−p)] = {fmt(naive)}",
        f"clipped p (ε = 1e-12) = {fmt(state['clipped'])}",
        f"stable (with logits) = {fmt(state['stable'])}",
    ]


def test_contract(explorer, check_contract):
    check_contract(explorer)


@pytest.mark.parametrize("label", [1, 0])
def test_sweeping_logit_and_temperature(explorer, sweep, in_place, frame, label):
    explorer.controls["label"].value = label
    previous = frame(explorer)
    with in_place(explorer):
        for T in sweep(explorer.controls["temperature"], 4):
            explorer.controls["temperature"].value = T
            for z in sweep(explorer.controls["logit"], 9):
                explorer.controls["logit"].value = z
                _assert_matches(explorer)
            pixels = frame(explorer)
            assert not np.array_equal(pixels, previous)
            previous = pixels


@pytest.mark.parametrize("label, z, T, naive", [
    (0, 40.0, 1.0, "inf"),      # p rounds to 1: -log(1 - 1)
    (1, 40.0, 1.0, "nan"),      # 0 * log(0)
    (1, -80.0, 0.1, "inf"),     # exp(800) overflows: p = 0
    (0, -80.0, 0.1, "nan"),
    (1, 5.0, 1.0, None),
])
def test_naive_loss_is_shown_honestly(explorer, label, z, T, naive):
    with explorer.hold():
        explorer.controls["label"].value = label
        explorer.controls["logit"].value = z
        explorer.controls["temperature"].value = T
    line = explorer.readout_text.splitlines()[4]
    if naive is None:
        assert math.isfinite(explorer.state()["naive"])
    else:
        assert line.endswith(f"= {naive}")
        assert math.isfinite(explorer.state()["stable"])


def test_label_change_redraws_the_loss_curves(explorer, frame):
    explorer.controls["label"].value = 1
    before = frame(explorer)
    ones = explorer.parts.loss_curves["stable"].get_ydata().copy()
    explorer.controls["label"].value = 0
    after = explorer.parts.loss_curves["stable"].get_ydata()
    np.testing.assert_allclose(after, ones[::-1], rtol=1e-12, atol=1e-12)  # L(0,t) = L(1,-t)
    assert not np.array_equal(frame(explorer), before)


def test_shaded_ranges_are_where_the_naive_formula_breaks():
    parts = figure.build()
    spans = [p for p in parts.ax_loss.patches]
    assert len(spans) == 2
    edges = sorted(x for span in spans for x in (span.get_x(), span.get_x() + span.get_width()))
    assert edges[1] < -700 and 36 < edges[2] < 40
    assert "inf or nan" in figure.ALT_TEXT


def test_bad_inputs_are_clear_errors():
    with pytest.raises(ValueError, match="label must be 0 or 1"):
        figure.compute(1.0, 1.0, 2)
    with pytest.raises(ValueError, match="temperature must be positive"):
        figure.compute(1.0, 0.0, 1)
