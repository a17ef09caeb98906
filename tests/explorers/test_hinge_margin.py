"""Hinge-margin explorer (lesson 05): plotted geometry, margins and readout match the math."""
import importlib

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
sklearn_metrics = pytest.importorskip("sklearn.metrics")

from lossbook.explorers.base import fmt  # noqa: E402
from lossbook.figures import hinge_margin as hinge_figure  # noqa: E402

# importlib: `from lossbook.explorers import hinge_margin` is the factory function.
hinge_module = importlib.import_module("lossbook.explorers.hinge_margin")

STATES = [(0.0, 0.0, 1.0), (30.0, 0.5, 1.0), (53.0, -0.3, 2.0), (90.0, 1.5, 0.2),
          (145.0, -4.0, 3.0), (233.0, 4.0, 0.55), (300.0, 0.0, 1.45), (359.0, -1.0, 0.8)]


@pytest.fixture(scope="module")
def explorer():
    return hinge_module.hinge_margin()


def set_state(explorer, angle, bias, norm):
    with explorer.hold():
        explorer.controls["angle"].value = angle
        explorer.controls["bias"].value = bias
        explorer.controls["norm"].value = norm


def test_data_are_the_lessons_two_class_set(explorer):
    from lossbook import data

    d = data.two_class(n=40, separable=False, separation=2.5, seed=5)
    np.testing.assert_array_equal(explorer.X, d.X)
    np.testing.assert_array_equal(explorer.y, 2 * d.y - 1)


@pytest.mark.parametrize("angle, bias, norm", STATES)
def test_geometry_margins_and_readout(explorer, angle, bias, norm):
    set_state(explorer, angle, bias, norm)
    X, y = explorer.X, explorer.y
    theta = np.radians(angle)
    w = norm * np.array([np.cos(theta), np.sin(theta)])
    f = X @ w + bias
    m = y * f
    plot = explorer._plot

    for line, level in ((plot.boundary, 0.0), (plot.margin_lines[0], 1.0),
                        (plot.margin_lines[1], -1.0)):
        pts = np.column_stack(line.get_data())
        np.testing.assert_allclose(pts @ w + bias, level, atol=1e-9)
    band = plot.band.get_xy()
    np.testing.assert_allclose(np.abs(band @ w + bias), 1.0, atol=1e-9)

    np.testing.assert_array_equal(np.column_stack(plot.inside.get_data()), X[m < 1])
    np.testing.assert_array_equal(np.column_stack(plot.wrong.get_data()), X[m <= 0])
    for mark, label in zip(plot.margin_marks, (-1, 1)):
        mx, my = mark.get_data()
        np.testing.assert_allclose(mx, m[y == label], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(my, np.maximum(0.0, 1.0 - m[y == label]), atol=1e-12)

    mean_hinge = sklearn_metrics.hinge_loss(y, f)
    mean_sq = np.mean(np.maximum(0.0, 1.0 - m) ** 2)
    logistic_bits = sklearn_metrics.log_loss((y + 1) // 2, 1.0 / (1.0 + np.exp(-f))) / np.log(2)
    s = explorer.state()
    np.testing.assert_allclose(s["mean_hinge"], mean_hinge, rtol=1e-12)
    np.testing.assert_allclose(s["mean_squared_hinge"], mean_sq, rtol=1e-12)
    np.testing.assert_allclose(s["mean_logistic_bits"], logistic_bits, rtol=1e-9)
    assert explorer.readout_text.splitlines() == [
        f"w = ({fmt(w[0])}, {fmt(w[1])}), b = {fmt(bias)}",
        f"band width 2/‖w‖ = {fmt(2 / norm)}",
        f"mean hinge loss = {fmt(mean_hinge)}",
        f"mean squared hinge = {fmt(mean_sq)}",
        f"mean logistic loss (bits) = {fmt(s['mean_logistic_bits'])}",
        f"margin violations (y·f < 1): {np.sum(m < 1)} of {len(y)}",
        f"errors (y·f ≤ 0): {np.sum(m <= 0)} of {len(y)}",
    ]


def test_loss_curves_are_lossbook_and_bound_zero_one(explorer):
    curves = {line.get_label(): line for line in explorer._plot.loss_ax.lines}
    m = curves["hinge"].get_xdata()
    np.testing.assert_allclose(curves["hinge"].get_ydata(), np.maximum(0, 1 - m), atol=1e-15)
    np.testing.assert_allclose(curves["squared hinge"].get_ydata(),
                               np.maximum(0, 1 - m) ** 2, atol=1e-15)
    np.testing.assert_allclose(curves["logistic (in bits)"].get_ydata(),
                               np.log2(1 + np.exp(-m)), rtol=1e-12)
    zero_one = curves["0-1"].get_ydata()
    np.testing.assert_array_equal(zero_one, (m <= 0).astype(float))
    for name in ("hinge", "squared hinge", "logistic (in bits)"):
        assert np.all(curves[name].get_ydata() >= zero_one - 1e-12), name


def test_true_direction_separates_better_than_the_opposite(explorer):
    set_state(explorer, 53.0, 0.0, 1.0)
    good = explorer.state()
    set_state(explorer, 233.0, 0.0, 1.0)
    bad = explorer.state()
    assert good["n_errors"] < bad["n_errors"] and good["mean_hinge"] < bad["mean_hinge"]


def test_contract_and_updates_in_place(explorer, check_contract, in_place, sweep, frame):
    check_contract(explorer)
    before = frame(explorer)
    with in_place(explorer):
        for control in explorer.controls.values():
            for value in sweep(control):
                control.value = value
                s = explorer.state()
                assert s["n_errors"] <= s["n_violations"] <= s["n"]
    set_state(explorer, 120.0, 1.0, 1.7)
    assert not np.array_equal(frame(explorer), before)
    assert explorer.figure.legends and hinge_figure.ALT_TEXT


def test_factory_and_builder_reject_bad_values():
    with pytest.raises(ValueError, match="norm must be between"):
        hinge_module.hinge_margin(norm=0.0)
    with pytest.raises(ValueError, match="to_plus_minus_one"):
        hinge_figure.build(np.zeros((3, 2)), np.array([0, 1, 1]))
