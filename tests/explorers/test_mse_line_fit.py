"""Lesson 02 explorer: line, residuals, cost and gradient arrow equal lossbook's math."""
from __future__ import annotations

import numpy as np
import pytest

from lossbook import data, explorers, gradcheck, losses, train
from lossbook.explorers.base import fmt
from lossbook.figures import mse_line_fit as figure


@pytest.fixture(scope="module")
def explorer():
    return explorers.mse_line_fit()


def _assert_matches_lossbook(explorer):
    parts = explorer.parts
    w, b = explorer.controls["w"].value, explorer.controls["b"].value
    x, y = explorer.x, explorer.y
    np.testing.assert_array_equal(parts.line.get_ydata(), w * parts.line.get_xdata() + b)
    for segment, xi, yi in zip(parts.residual_lines.get_segments(), x, y):
        np.testing.assert_array_equal(segment, [[xi, yi], [xi, w * xi + b]])
    assert parts.current_point.get_data() == ([w], [b])
    cost = losses.mse(y, w * x + b)
    # the gradient two independent ways: finite differences of lossbook.mse, and the
    # trainer's own gradient-descent step (2/n Xᵀr, written out separately)
    numeric = gradcheck.numeric_gradient(lambda p: losses.mse(y, p[0] * x + p[1]),
                                         np.array([w, b]))
    state = explorer.state()
    assert state["cost"] == cost
    np.testing.assert_allclose([state["grad_w"], state["grad_b"]], numeric, rtol=1e-6,
                               atol=1e-7)
    new_w, new_b = train.gradient_descent_step(np.array([w]), b, x[:, None], y,
                                               lr=figure.STEP_SIZE)
    start, end = parts.step_arrow._posA_posB
    assert start == (w, b)
    np.testing.assert_allclose(end, (new_w[0], new_b), rtol=1e-12, atol=1e-12)
    assert explorer.readout_text.splitlines()[:4] == [
        f"slope w = {fmt(w)}, intercept b = {fmt(b)}",
        f"cost J(w, b) = MSE = {fmt(cost)}",
        f"∂J/∂w = {fmt(state['grad_w'])}", f"∂J/∂b = {fmt(state['grad_b'])}"]


def test_contract(explorer, check_contract):
    check_contract(explorer)


def test_sweeping_slope_and_intercept(explorer, sweep, in_place, frame):
    previous = frame(explorer)
    with in_place(explorer):
        for w in sweep(explorer.controls["w"], 5):
            explorer.controls["w"].value = w
            for b in sweep(explorer.controls["b"], 5):
                explorer.controls["b"].value = b
                _assert_matches_lossbook(explorer)
            pixels = frame(explorer)
            assert not np.array_equal(pixels, previous)
            previous = pixels


def test_minimum_is_least_squares_and_has_zero_gradient(explorer):
    from sklearn.linear_model import LinearRegression

    model = LinearRegression().fit(explorer.x[:, None], explorer.y)
    w_best, b_best = explorer.best
    np.testing.assert_allclose([w_best, b_best], [model.coef_[0], model.intercept_],
                               rtol=1e-10)
    state = figure.compute(explorer.x, explorer.y, w_best, b_best)
    assert abs(state["grad_w"]) < 1e-10 and abs(state["grad_b"]) < 1e-10
    assert f"minimum: w = {fmt(w_best)}, b = {fmt(b_best)}" in explorer.readout_text


def test_surface_is_the_lossbook_mse():
    points = data.regression_1d(n=12, seed=3)
    w_grid, b_grid = np.linspace(-1, 3, 5), np.linspace(-2, 2, 4)
    surface = figure.cost_surface(points.x, points.y, w_grid, b_grid)
    assert surface.shape == (4, 5)
    for i, b in enumerate(b_grid):
        for j, w in enumerate(w_grid):
            assert surface[i, j] == pytest.approx(losses.mse(points.y, w * points.x + b),
                                                  rel=1e-13)


def test_arrow_disappears_at_the_minimum():
    x, y = np.array([0.0, 1.0, 2.0]), np.array([1.0, 3.0, 5.0])
    parts = figure.build(x, y, w=2.0, b=1.0, w_range=(0, 4), b_range=(-1, 3))
    assert not parts.step_arrow.get_visible()
    parts.show(figure.compute(x, y, 1.0, 1.0))
    assert parts.step_arrow.get_visible()
    assert "gradient" in figure.ALT_TEXT
