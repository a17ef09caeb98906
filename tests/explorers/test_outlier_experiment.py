"""Outlier-experiment explorer (lesson 07): data, exact fits, test errors and readout."""
import importlib

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
linear_model = pytest.importorskip("sklearn.linear_model")
sk_metrics = pytest.importorskip("sklearn.metrics")
optimize = pytest.importorskip("scipy.optimize")

from lossbook import data, fitting, losses  # noqa: E402
from lossbook.explorers.base import fmt  # noqa: E402
from lossbook.figures import outlier_experiment as outlier_figure  # noqa: E402

# importlib: `from lossbook.explorers import outlier_experiment` is the factory function.
outlier_module = importlib.import_module("lossbook.explorers.outlier_experiment")

STATES = [(0.0, 0.0, 1.0), (0.1, 10.0, 1.0), (0.2, 5.0, 0.25), (0.3, 15.0, 2.0),
          (0.45, 30.0, 5.0), (0.05, 1.0, 0.5), (0.4, 22.0, 1.5)]
NAMES = {"mse": "MSE", "mae": "MAE", "huber": "Huber"}


@pytest.fixture(scope="module")
def explorer():
    return outlier_module.outlier_experiment()


def set_state(explorer, fraction, size, delta):
    with explorer.hold():
        explorer.controls["outlier_fraction"].value = fraction
        explorer.controls["outlier_size"].value = size
        explorer.controls["delta"].value = delta


def reference_lines(x, y, delta):
    """Each loss's best line from independent solvers (NumPy, scikit-learn, SciPy)."""
    slope, intercept = np.polyfit(x, y, 1)
    median = linear_model.QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs")
    median.fit(x[:, None], y)

    def huber_cost(theta):
        return losses.huber(y, theta[1] + theta[0] * x, delta=delta)

    res = optimize.minimize(huber_cost, x0=[slope, intercept], method="Nelder-Mead",
                            options={"xatol": 1e-10, "fatol": 1e-15, "maxiter": 20000})
    return {"mse": (slope, intercept), "mae": (median.coef_[0], median.intercept_),
            "huber": tuple(res.x)}


@pytest.mark.parametrize("fraction, size, delta", STATES)
def test_fits_errors_and_readout(explorer, fraction, size, delta):
    set_state(explorer, fraction, size, delta)
    train = data.regression_1d(n=60, slope=2.0, intercept=1.0, noise=1.0,
                               outlier_fraction=fraction, outlier_size=size, seed=0)
    test = data.regression_1d(n=200, slope=2.0, intercept=1.0, noise=1.0, seed=1)
    x, y = train.x, train.y
    plot = explorer._plot
    np.testing.assert_array_equal(np.column_stack(plot.inliers.get_data()),
                                  np.column_stack([x, y])[~train.is_outlier])
    np.testing.assert_array_equal(np.column_stack(plot.outliers.get_data()),
                                  np.column_stack([x, y])[train.is_outlier])

    s = explorer.state()
    ref = reference_lines(x, y, delta)
    np.testing.assert_allclose(s["lines"]["mse"], ref["mse"], rtol=1e-10, atol=1e-10)
    costs = {
        "mae": lambda sl, ic: losses.mae(y, ic + sl * x),
        "huber": lambda sl, ic: losses.huber(y, ic + sl * x, delta=delta),
    }
    for name, cost in costs.items():
        # the explorer's line is at least as good as the independent solver's
        assert cost(*s["lines"][name]) <= cost(*ref[name]) + 1e-9, name
    np.testing.assert_allclose(s["lines"]["huber"], ref["huber"], rtol=1e-5, atol=1e-6)
    grad = losses.huber_grad(y, s["lines"]["huber"][1] + s["lines"]["huber"][0] * x,
                             delta=delta)
    np.testing.assert_allclose([grad @ x, grad.sum()], 0.0, atol=1e-10)

    expected_lines = [f"outliers: {train.n_outliers} of 60 points, shifted by {fmt(size)}",
                      f"Huber δ = {fmt(delta)}"]
    errors = {}
    for name in outlier_figure.LOSSES:
        slope, intercept = s["lines"][name]
        errors[name] = sk_metrics.mean_squared_error(test.y, intercept + slope * test.x)
        np.testing.assert_allclose(s["test_mse"][name], errors[name], rtol=1e-12)
        np.testing.assert_allclose(plot.fits[name].get_ydata(),
                                   intercept + slope * plot.fits[name].get_xdata(), rtol=1e-12)
        np.testing.assert_allclose(plot.bars[name].get_height(), errors[name], rtol=1e-12)
        assert plot.bar_labels[name].get_text() == f"{errors[name]:.3g}"
        expected_lines.append(f"{NAMES[name]}: y = {fmt(slope)}·x + {fmt(intercept)}, "
                              f"test MSE = {fmt(s['test_mse'][name])}")
    winner = min(errors, key=errors.get)
    expected_lines += ["true line: y = 2·x + 1", f"lowest test error: {NAMES[winner]}"]
    assert explorer.readout_text.splitlines() == expected_lines


def test_outliers_hurt_mse_more_than_the_robust_losses(explorer):
    set_state(explorer, 0.0, 0.0, 1.0)
    clean = explorer.state()["test_mse"]
    set_state(explorer, 0.3, 20.0, 1.0)
    dirty = explorer.state()
    assert dirty["test_mse"]["mse"] > 10 * clean["mse"]
    assert dirty["winner"] in ("mae", "huber")
    assert dirty["test_mse"]["huber"] < 2 * clean["huber"]


def test_same_setting_same_data(explorer):
    set_state(explorer, 0.25, 12.0, 1.0)
    first = explorer.state()
    set_state(explorer, 0.1, 3.0, 2.0)
    set_state(explorer, 0.25, 12.0, 1.0)
    again = explorer.state()
    np.testing.assert_array_equal(first["run"].y, again["run"].y)
    assert first["lines"] == again["lines"]


def test_fit_line_rejects_unknown_loss():
    with pytest.raises(ValueError, match="loss must be one of"):
        fitting.fit_line([0.0, 1.0], [0.0, 1.0], loss="hinge")
    with pytest.raises(ValueError, match="outlier_fraction must be between"):
        outlier_module.outlier_experiment(outlier_fraction=0.9)


def test_contract_and_updates_in_place(explorer, check_contract, in_place, sweep, frame):
    check_contract(explorer)
    before = frame(explorer)
    with in_place(explorer):
        for control in explorer.controls.values():
            for value in sweep(control):
                control.value = value
    set_state(explorer, 0.35, 25.0, 1.0)
    assert not np.array_equal(frame(explorer), before)
    assert outlier_figure.ALT_TEXT


from hypothesis import given, settings, strategies as st  # noqa: E402
from hypothesis.extra import numpy as hnp  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(hnp.arrays(np.float64, st.integers(4, 25), elements=st.floats(-1, 1)),
       st.integers(0, 2**31 - 1), st.floats(0.25, 5.0))
def test_fit_line_minimises_each_loss(x, seed, delta):
    x = np.cumsum(np.abs(x) + 0.05) - 10.0       # strictly increasing: distinct x
    y = 2.0 * x + np.random.default_rng(seed).standard_t(2, x.size)
    slope, intercept = fitting.fit_line(x, y, loss="mae")
    mae = losses.mae(y, intercept + slope * x)
    median = linear_model.QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs")
    median.fit(x[:, None], y)
    assert mae <= losses.mae(y, median.intercept_ + median.coef_[0] * x) + 1e-9
    slope, intercept = fitting.fit_line(x, y, loss="huber", delta=delta)
    grad = losses.huber_grad(y, intercept + slope * x, delta=delta)
    np.testing.assert_allclose([grad @ x, grad.sum()], 0.0, atol=1e-9)
    np.testing.assert_allclose(fitting.fit_line(x, y, loss="mse"), np.polyfit(x, y, 1),
                               rtol=1e-8, atol=1e-8)


def test_fit_line_refuses_a_vertical_line():
    with pytest.raises(ValueError, match="at least two different values"):
        fitting.fit_line([1.0, 1.0, 1.0], [0.0, 1.0, 2.0], loss="mse")


def test_layout_cached_labels_draw_the_same_pixels_as_plain_text():
    """The bar labels cache their text layout per string: the pixels must be a plain
    ``Text``'s, state after state (including a string seen before, from the cache)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.text import Text

    from lossbook.figures.text_cache import LayoutCachedText

    plot = outlier_figure.build()
    FigureCanvasAgg(plot.figure)
    assert all(isinstance(label, LayoutCachedText) for label in plot.bar_labels.values())
    plot.figure.canvas.draw()   # the first draw runs the layout engine

    def frames():
        out = []
        for state in [*STATES, STATES[1]]:
            plot.show(outlier_figure.experiment(*state))
            plot.figure.canvas.draw()
            out.append(np.asarray(plot.figure.canvas.buffer_rgba()).copy())
        return out

    cached = frames()
    for label in plot.bar_labels.values():
        label.__class__ = Text      # the same artists, drawn by matplotlib's own code
    plain = frames()
    for state, a, b in zip([*STATES, STATES[1]], cached, plain):
        np.testing.assert_array_equal(a, b, err_msg=str(state))
