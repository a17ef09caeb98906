"""Lesson 03 explorer: the three lines are the exact MSE / MAE / Huber minimisers."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import optimize

from lossbook import data, explorers, fitting, losses
from lossbook.explorers.base import fmt
from lossbook.figures import robust_fit as figure


@pytest.fixture(scope="module")
def explorer():
    return explorers.robust_fit()


def _all_points(explorer):
    c = explorer.controls
    return (np.append(explorer.x, c["outlier_x"].value),
            np.append(explorer.y, c["outlier_y"].value), c["delta"].value)


def _line_cost(loss, x, y, params, **kwargs):
    w, b = params
    return loss(y, w * x + b, **kwargs)


def _assert_minimisers(x, y, delta, fits):
    from sklearn.linear_model import LinearRegression, QuantileRegressor

    ols = LinearRegression().fit(x[:, None], y)
    np.testing.assert_allclose(fits["mse"], [ols.coef_[0], ols.intercept_], rtol=1e-9,
                               atol=1e-9)
    # MAE minimisers need not be unique: compare the cost with an LP solver's optimum
    lad = QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs").fit(x[:, None], y)
    best = _line_cost(losses.mae, x, y, (lad.coef_[0], lad.intercept_))
    assert _line_cost(losses.mae, x, y, fits["mae"]) <= best + 1e-9
    # Huber is strictly convex near its minimiser here: a zero gradient, and no better
    # point found by a generic optimiser
    w, b = fits["huber"]
    g = losses.huber_grad(y, w * x + b, delta=delta)
    assert abs(g @ x) < 1e-9 and abs(g.sum()) < 1e-9
    found = optimize.minimize(lambda p: _line_cost(losses.huber, x, y, p, delta=delta),
                              x0=fits["mse"], method="Nelder-Mead",
                              options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 4000})
    assert _line_cost(losses.huber, x, y, fits["huber"], delta=delta) <= found.fun + 1e-10


def _assert_matches_lossbook(explorer):
    parts = explorer.parts
    x, y, delta = _all_points(explorer)
    ox, oy = x[-1], y[-1]
    state = explorer.state()
    fits = state["fits"]
    _assert_minimisers(x, y, delta, fits)
    assert parts.outlier_point.get_data() == ([ox], [oy])
    top = parts.ax_loss.get_ylim()[1]
    lines = explorer.readout_text.splitlines()
    assert lines[0] == f"outlier at x = {fmt(ox)}, y = {fmt(oy)}; Huber δ = {fmt(delta)}"
    for k, (name, label) in enumerate([("mse", "MSE"), ("mae", "MAE"), ("huber", "Huber")]):
        w, b = fits[name]
        line = parts.fit_lines[name]
        np.testing.assert_array_equal(line.get_ydata(), w * line.get_xdata() + b)
        residual = w * ox + b - oy
        loss = {"mse": losses.mse([oy], [oy + residual]),
                "mae": losses.mae([oy], [oy + residual]),
                "huber": losses.huber([oy], [oy + residual], delta=delta)}[name]
        assert state["outlier_losses"][name] == pytest.approx(loss, rel=1e-12, abs=1e-12)
        assert parts.residual_points[name].get_xdata()[0] == residual
        assert parts.residual_points[name].get_ydata()[0] == min(loss, 0.95 * top)
        assert lines[k + 1] == (f"{label} fit: slope {fmt(w)}, intercept {fmt(b)}, "
                                f"outlier residual {fmt(residual)}")
    grid = parts.huber_curve.get_xdata()
    np.testing.assert_array_equal(parts.huber_curve.get_ydata(),
                                  losses.huber(np.zeros_like(grid), grid, delta=delta,
                                               reduction="none"))
    np.testing.assert_array_equal(parts.delta_lines.get_xdata(),
                                  [-delta, -delta, np.nan, delta, delta])


def test_contract(explorer, check_contract):
    check_contract(explorer)


@pytest.mark.parametrize("name", ["outlier_y", "outlier_x", "delta"])
def test_sweeping_each_control(explorer, sweep, in_place, frame, name):
    previous = frame(explorer)
    with in_place(explorer):
        for value in sweep(explorer.controls[name], 7):
            explorer.controls[name].value = value
            _assert_matches_lossbook(explorer)
            pixels = frame(explorer)
            assert not np.array_equal(pixels, previous)
            previous = pixels


def test_robust_fits_ignore_a_far_outlier_that_pulls_the_mse_fit(explorer):
    with explorer.hold():
        explorer.controls["outlier_x"].value = 2.5
        explorer.controls["outlier_y"].value = 16.0
        explorer.controls["delta"].value = 1.0
    fits = explorer.state()["fits"]
    true_slope = 1.5
    assert abs(fits["mse"][0] - true_slope) > 2 * abs(fits["huber"][0] - true_slope)
    assert abs(fits["mse"][0] - true_slope) > 2 * abs(fits["mae"][0] - true_slope)
    # and its marker, far above the loss panel, is pinned to the top edge
    assert explorer.parts.residual_points["mse"].get_marker() == figure._PINNED


def test_fit_mae_is_exact_on_a_small_case():
    x = np.array([0.0, 1.0, 2.0, 3.0, 4.0])
    y = np.array([0.0, 1.0, 2.0, 3.0, 40.0])
    assert fitting.fit_line(x, y, loss="mae") == (1.0, 0.0)
    with pytest.raises(ValueError, match="at least two different values"):
        fitting.fit_line([1.0, 1.0], [0.0, 2.0], loss="mae")


def test_data_come_from_lossbook_data(explorer):
    points = data.regression_1d(n=12, slope=1.5, intercept=1.0, noise=0.6,
                                x_range=(-3.0, 3.0), seed=1)
    np.testing.assert_array_equal(explorer.x, points.x)
    np.testing.assert_array_equal(explorer.y, points.y)
    assert "outlier" in figure.ALT_TEXT
