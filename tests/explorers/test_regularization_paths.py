"""Regularization explorer (lesson 06): paths, current weights, constraint picture, readout."""
import importlib

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")
linear_model = pytest.importorskip("sklearn.linear_model")

from lossbook import losses, regularization, train  # noqa: E402
from lossbook.fitting import LeastSquaresProblem  # noqa: E402
from lossbook.explorers.base import fmt  # noqa: E402
from lossbook.figures import regularization_paths as paths_figure  # noqa: E402

# importlib: `from lossbook.explorers import regularization_paths` is the factory function.
paths_module = importlib.import_module("lossbook.explorers.regularization_paths")

LOG_LAMS = [-3.0, -2.0, -1.05, -0.5, 0.0, 0.4, 0.7, 1.0, 1.3, 2.0]


@pytest.fixture(scope="module")
def explorer():
    return paths_module.regularization_paths()


def sklearn_lasso(problem, lam):
    # scikit-learn's Lasso minimises ‖y − Xw − b‖²/(2n) + α‖w‖₁, so α = λ/2
    model = linear_model.Lasso(alpha=lam / 2, tol=1e-14, max_iter=1_000_000)
    return model.fit(problem.X, problem.y).coef_


def sklearn_ridge(problem, lam):
    # scikit-learn's Ridge minimises ‖y − Xw − b‖² + α‖w‖²: α = nλ for our cost
    model = linear_model.Ridge(alpha=problem.X.shape[0] * lam, solver="cholesky")
    return model.fit(problem.X, problem.y).coef_


def assert_optimal(problem, w, lam, penalty):
    """KKT conditions of regularized_cost, with the gradient from lossbook's mse_grad."""
    b = problem.bias(w)
    g = problem.X.T @ losses.mse_grad(problem.y, problem.X @ w + b)
    if penalty == "l2":
        np.testing.assert_allclose(g + regularization.l2_grad(w, lam), 0.0, atol=1e-10)
    else:
        nz = w != 0
        np.testing.assert_allclose(g[nz] + lam * np.sign(w[nz]), 0.0, atol=1e-9)
        assert np.all(np.abs(g[~nz]) <= lam + 1e-9)
    best = train.regularized_cost(w, b, problem.X, problem.y, lam, penalty=penalty)
    rng = np.random.default_rng(0)
    for _ in range(20):
        dw = 1e-3 * rng.standard_normal(w.size)
        assert best <= train.regularized_cost(w + dw, b, problem.X, problem.y, lam,
                                              penalty=penalty) + 1e-12


def test_paths_match_scikit_learn(explorer):
    plot = explorer._plot
    for key, ax, reference in (("l1", plot.l1_ax, sklearn_lasso), ("l2", plot.l2_ax,
                                                                      sklearn_ridge)):
        lines = ax.get_lines()[:len(paths_figure.PATH_COEF)]
        for k in (0, 40, 80, 120, 160, 200):
            lam = plot.lams[k]
            expected = reference(plot.problem, lam)
            plotted = np.array([line.get_ydata()[k] for line in lines])
            np.testing.assert_allclose(plotted, expected, atol=1e-8, err_msg=f"{key} λ={lam}")
            assert all(line.get_xdata()[k] == lam for line in lines)


@pytest.mark.parametrize("log_lam", LOG_LAMS)
def test_state_plot_and_readout_at_each_lambda(explorer, log_lam):
    explorer.controls["log10_lam"].value = log_lam
    lam = 10.0 ** log_lam
    s = explorer.state()
    plot = explorer._plot
    assert s["lam"] == lam
    for key, reference, penalty in (("l1", sklearn_lasso, "l1"), ("l2", sklearn_ridge, "l2")):
        np.testing.assert_allclose(s[key], reference(plot.problem, lam), atol=1e-8)
        assert_optimal(plot.problem, s[key], lam, penalty)
        vline, dots = plot.markers[key]
        assert list(vline.get_xdata()) == [lam, lam]
        np.testing.assert_array_equal(dots.get_ydata(), s[key])
        np.testing.assert_array_equal(dots.get_xdata(), np.full(6, lam))

    plane = plot.plane
    p1, p2 = s["plane_l1"], s["plane_l2"]
    np.testing.assert_allclose(p1, sklearn_lasso(plane, lam), atol=1e-8)
    np.testing.assert_allclose(p2, sklearn_ridge(plane, lam), atol=1e-8)
    t1, t2 = np.abs(p1).sum(), np.hypot(*p2)
    np.testing.assert_allclose(np.abs(plot.diamond.get_xy()).sum(axis=1), t1, rtol=1e-12)
    np.testing.assert_allclose(np.hypot(*plot.circle.get_data()), t2, rtol=1e-12)
    for key, w in (("l1", p1), ("l2", p2)):
        np.testing.assert_array_equal(np.ravel(plot.solutions[key].get_data()), w)
        # the dotted contour is the least-squares cost's level set through the solution
        ring = np.column_stack(plot.touching[key].get_data())
        level = losses.mse(plane.y, plane.X @ w + plane.bias(w))
        on_ring = [losses.mse(plane.y, plane.X @ v + plane.bias(v)) for v in ring[::15]]
        np.testing.assert_allclose(on_ring, level, rtol=1e-9)

    zeros1, zeros2 = int(np.sum(s["l1"] == 0)), int(np.sum(s["l2"] == 0))
    vec = lambda w: "(" + ", ".join(fmt(v, 3) for v in w) + ")"  # noqa: E731
    assert explorer.readout_text.splitlines() == [
        f"λ = {fmt(lam)}",
        f"L1 (lasso) w = {vec(s['l1'])}",
        f"L1 zeros: {zeros1} of 6",
        f"L2 (ridge) w = {vec(s['l2'])}",
        f"L2 zeros: {zeros2} of 6",
        f"2 features: lasso w = {vec(p1)}, ‖w‖₁ = {fmt(t1)}",
        f"2 features: ridge w = {vec(p2)}, ‖w‖₂ = {fmt(t2)}",
    ]


def test_lasso_makes_zeros_ridge_does_not(explorer):
    explorer.controls["log10_lam"].value = -3.0
    assert explorer.state()["l1_zeros"] == 0
    explorer.controls["log10_lam"].value = 0.7
    s = explorer.state()
    assert s["l1_zeros"] >= 2 and s["l2_zeros"] == 0
    assert s["plane_l1"][1] == 0.0 and s["plane_l2"][1] != 0.0   # the diamond's corner
    explorer.controls["log10_lam"].value = 2.0
    s = explorer.state()
    assert s["l1_zeros"] == 6 and s["l2_zeros"] == 0


def test_contract_and_updates_in_place(explorer, check_contract, in_place, sweep, frame):
    check_contract(explorer)
    before = frame(explorer)
    with in_place(explorer):
        for value in sweep(explorer.controls["log10_lam"], 11):
            explorer.controls["log10_lam"].value = value
    explorer.controls["log10_lam"].value = 0.35
    assert not np.array_equal(frame(explorer), before)
    assert paths_figure.ALT_TEXT


def test_bad_values_are_refused():
    with pytest.raises(ValueError, match="log10_lam must be between"):
        paths_module.regularization_paths(log10_lam=3.0)
    with pytest.raises(ValueError, match="lam must be > 0"):
        paths_figure.plane_problem().lasso([0.0])
    constant = LeastSquaresProblem.from_data(np.column_stack([np.arange(5.0), np.ones(5)]),
                                             np.arange(5.0))
    with pytest.raises(ValueError, match="a feature is constant"):
        constant.lasso([0.1])


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**31 - 1), st.integers(2, 6), st.floats(-2.5, 1.5))
def test_lasso_and_ridge_are_optimal_on_random_problems(seed, d, log_lam):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((30, d)) @ (np.eye(d) + 0.5 * rng.random((d, d)))
    y = X @ rng.standard_normal(d) + rng.standard_normal(30)
    problem = LeastSquaresProblem.from_data(X, y)
    lam = 10.0 ** log_lam
    assert_optimal(problem, problem.lasso(lam)[0], lam, "l1")
    assert_optimal(problem, problem.ridge(lam)[0], lam, "l2")
