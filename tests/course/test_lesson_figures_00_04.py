"""The static figures of lessons 00–04: labelled, and plotting exactly the lossbook math.

Each expected value is recomputed here independently (numpy formulas, SciPy's
``special.huber``), not read back from the builder's own helpers.
"""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from matplotlib.figure import Figure
from scipy import special

from lossbook.data import regression_1d
from lossbook.figures.lessons import (
    lesson00_welcome, lesson01_loss_vs_cost, lesson02_mse, lesson03_mae_huber,
    lesson04_cross_entropy,
)


def assert_labelled(fig):
    assert isinstance(fig, Figure)
    assert fig.axes, "figure has no axes"
    for ax in fig.axes:
        assert ax.get_title().strip(), "axes without a title"
        assert ax.get_xlabel().strip(), "axes without an x label"
        assert ax.get_ylabel().strip(), "axes without a y label"
    assert any(ax.get_legend() is not None for ax in fig.axes), "figure without a legend"


def line_by_label(ax, prefix):
    lines = [ln for ln in ax.get_lines() if ln.get_label().startswith(prefix)]
    assert len(lines) == 1, f"expected one line labelled {prefix!r}, got {[l.get_label() for l in ax.get_lines()]}"
    return lines[0]


# --- lesson 00 ---------------------------------------------------------------------

def test_training_figure_plots_lines_and_costs():
    data = regression_1d(n=30, seed=0)
    history = [(0.05 * k, -0.02 * k) for k in range(12)]
    fig = lesson00_welcome.training_figure(data.x, data.y, history, shown_steps=(0, 1, 3, 11))
    assert_labelled(fig)
    left, right = fig.axes
    for step in (0, 1, 3, 11):
        label = f"after {step} step" + ("" if step == 1 else "s")
        line = line_by_label(left, label)
        assert line.get_label() == label
        w, b = history[step]
        xs, ys = line.get_data()
        np.testing.assert_allclose(ys, w * np.asarray(xs) + b)
    expected = [np.mean((data.y - (w * data.x + b)) ** 2) for w, b in history]
    np.testing.assert_allclose(line_by_label(right, "cost").get_ydata(), expected, rtol=1e-12)


@pytest.mark.parametrize("history, steps, match", [
    ([], (0,), "history"),
    ([(1.0, 2.0, 3.0)], (0,), "history"),
    ([(1.0, 2.0)], (0, 5), "shown_steps"),
])
def test_training_figure_rejects_bad_input(history, steps, match):
    with pytest.raises(ValueError, match=match):
        lesson00_welcome.training_figure([0.0, 1.0], [0.0, 1.0], history, shown_steps=steps)


# --- lesson 01 ---------------------------------------------------------------------

def test_per_example_losses_figure_bars_and_cost():
    y_true = np.array([3.0, 5.0, 2.5, 7.0, 4.0])
    y_pred = np.array([2.5, 5.0, 4.0, 8.0, 1.0])
    fig = lesson01_loss_vs_cost.per_example_losses_figure(y_true, y_pred)
    assert_labelled(fig)
    (ax,) = fig.axes
    heights = [patch.get_height() for patch in ax.patches]
    np.testing.assert_allclose(heights, (y_true - y_pred) ** 2)
    cost_line = line_by_label(ax, "cost")
    np.testing.assert_allclose(cost_line.get_ydata(), np.mean((y_true - y_pred) ** 2))


# --- lesson 02 ---------------------------------------------------------------------

def test_constant_cost_figure_is_minimised_at_the_mean():
    y = regression_1d(n=25, slope=0.0, intercept=3.0, noise=2.0, seed=3).y
    fig = lesson02_mse.constant_cost_figure(y, n_grid=301)
    assert_labelled(fig)
    (ax,) = fig.axes
    curve = line_by_label(ax, "J(c)")
    c, cost = (np.asarray(v) for v in curve.get_data())
    np.testing.assert_allclose(cost, ((y[None, :] - c[:, None]) ** 2).mean(axis=1), rtol=1e-12)
    spacing = c[1] - c[0]
    assert abs(c[np.argmin(cost)] - y.mean()) <= spacing
    np.testing.assert_allclose(line_by_label(ax, "mean").get_xdata(), y.mean())
    np.testing.assert_allclose(line_by_label(ax, "targets").get_xdata(), y)


# --- lesson 03 ---------------------------------------------------------------------

@settings(max_examples=50, deadline=None)
@given(r=st.lists(st.floats(-50, 50), min_size=1, max_size=20),
       delta=st.floats(0.05, 10.0))
def test_loss_and_influence_match_independent_formulas(r, delta):
    r = np.asarray(r)
    curves = lesson03_mae_huber.loss_and_influence(r, delta)
    np.testing.assert_allclose(curves["mse"][0], 0.5 * r**2, rtol=1e-12)
    np.testing.assert_allclose(curves["mse"][1], r, rtol=1e-12, atol=1e-300)
    np.testing.assert_allclose(curves["mae"][0], np.abs(r), rtol=1e-12)
    away = r != 0
    np.testing.assert_allclose(curves["mae"][1][away], np.sign(r[away]))
    assert np.all(np.abs(curves["mae"][1]) <= 1)
    np.testing.assert_allclose(curves["huber"][0], special.huber(delta, r), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(curves["huber"][1], np.clip(r, -delta, delta), rtol=1e-12, atol=1e-300)


def test_loss_and_influence_figure_plots_the_curves():
    fig = lesson03_mae_huber.loss_and_influence_figure(delta=0.7, r_max=2.0, n=81)
    assert_labelled(fig)
    left, right = fig.axes
    r = np.linspace(-2.0, 2.0, 81)
    huber_loss = line_by_label(left, "Huber")
    np.testing.assert_allclose(huber_loss.get_xdata(), r)
    np.testing.assert_allclose(huber_loss.get_ydata(), special.huber(0.7, r), rtol=1e-10, atol=1e-300)
    np.testing.assert_allclose(line_by_label(right, "Huber").get_ydata(), np.clip(r, -0.7, 0.7),
                               atol=1e-15)
    np.testing.assert_allclose(line_by_label(right, "½r²").get_ydata(), r, atol=1e-15)
    assert "δ = 0.7" in huber_loss.get_label()


def test_location_estimates_figure_marks_each_estimate():
    y = np.append(regression_1d(n=20, slope=0.0, intercept=5.0, seed=7).y, 50.0)
    estimates = {"mean": float(np.mean(y)), "median": float(np.median(y)), "Huber": 4.63}
    fig = lesson03_mae_huber.location_estimates_figure(y, estimates)
    assert_labelled(fig)
    for ax in fig.axes:
        for name, value in estimates.items():
            line = line_by_label(ax, name)
            np.testing.assert_allclose(line.get_xdata(), value)
            assert f"{value:.3f}" in line.get_label()
        np.testing.assert_allclose(line_by_label(ax, "data").get_xdata(), y)
    low, high = fig.axes[1].get_xlim()
    assert low < min(estimates.values()) and max(estimates.values()) < high < 50.0


def test_location_estimates_figure_rejects_no_estimates():
    with pytest.raises(ValueError, match="estimates"):
        lesson03_mae_huber.location_estimates_figure([1.0, 2.0], {})


# --- lesson 04 ---------------------------------------------------------------------

def test_bce_curves_are_negative_log_probabilities():
    p = np.linspace(0.01, 0.99, 99)
    curves = lesson04_cross_entropy.bce_curves(p)
    np.testing.assert_allclose(curves[1], -np.log(p), rtol=1e-12)
    np.testing.assert_allclose(curves[0], -np.log1p(-p), rtol=1e-12)


def test_bce_curves_figure_plots_both_labels():
    fig = lesson04_cross_entropy.bce_curves_figure(p_min=0.01, n=99)
    assert_labelled(fig)
    (ax,) = fig.axes
    p = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(line_by_label(ax, "true label y = 1").get_ydata(), -np.log(p), rtol=1e-12)
    np.testing.assert_allclose(line_by_label(ax, "true label y = 0").get_ydata(), -np.log1p(-p),
                               rtol=1e-12)


@pytest.mark.parametrize("build", [
    lambda: lesson00_welcome.training_figure([0.0, 1.0], [1.0, 3.0], [(0.0, 0.0), (1.0, 1.0)],
                                             shown_steps=(0, 1)),
    lambda: lesson01_loss_vs_cost.per_example_losses_figure([1.0, 2.0], [0.0, 0.0]),
    lambda: lesson02_mse.constant_cost_figure([1.0, 2.0, 4.0]),
    lambda: lesson03_mae_huber.loss_and_influence_figure(),
    lambda: lesson03_mae_huber.location_estimates_figure([1.0, 2.0, 9.0], {"median": 2.0}),
    lambda: lesson04_cross_entropy.bce_curves_figure(),
])
def test_figures_are_built_without_pyplot(build):
    fig = build()
    assert fig.canvas.manager is None, "figure was registered with pyplot"
