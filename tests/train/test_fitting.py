"""lossbook.fitting: the exact solvers, against scikit-learn and by their optimality conditions."""
from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import example, given, settings, strategies as st
from sklearn import linear_model

from lossbook import fitting, losses, train

SETTINGS = settings(max_examples=40, deadline=None)


def problem(seed, n=40, d=3, noise="normal"):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d)) @ (np.eye(d) + 0.4 * rng.random((d, d))) + rng.normal(0, 2, d)
    errors = rng.standard_t(2, n) if noise == "t" else rng.standard_normal(n)
    y = X @ rng.uniform(-3, 3, d) + rng.normal(0, 5) + errors
    return X, y


def mae_cost(x, y, line):
    return losses.mae(y, line[0] * x + line[1])


# --- against scikit-learn -------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("seed", range(4))
def test_least_squares_matches_linear_regression(seed, fit_intercept):
    X, y = problem(seed)
    w, b = fitting.least_squares(X, y, fit_intercept=fit_intercept)
    ref = linear_model.LinearRegression(fit_intercept=fit_intercept).fit(X, y)
    np.testing.assert_allclose(w, ref.coef_, rtol=1e-9, atol=1e-10)
    assert b == pytest.approx(ref.intercept_, rel=1e-9, abs=1e-10)
    assert isinstance(b, float) and w.shape == (X.shape[1],)


def test_least_squares_dependent_columns_give_the_minimum_norm_solution_as_sklearn():
    X, y = problem(7, d=2)
    X = np.column_stack([X, X[:, 0] + X[:, 1]])          # a repeated direction
    w, b = fitting.least_squares(X, y)
    ref = linear_model.LinearRegression().fit(X, y)
    np.testing.assert_allclose(w, ref.coef_, rtol=1e-8, atol=1e-9)
    assert b == pytest.approx(ref.intercept_, rel=1e-9)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("lam", [1e-4, 0.03, 1.0, 50.0])
def test_ridge_matches_sklearn_ridge(lam, fit_intercept):
    X, y = problem(1)
    w, b = fitting.ridge(X, y, lam=lam, fit_intercept=fit_intercept)
    # Ridge(alpha) minimises ‖y − Xw − b‖² + α‖w‖²: our mean-based cost is that over n
    ref = linear_model.Ridge(alpha=X.shape[0] * lam, fit_intercept=fit_intercept,
                             solver="cholesky").fit(X, y)
    np.testing.assert_allclose(w, ref.coef_, rtol=1e-9, atol=1e-11)
    assert b == pytest.approx(ref.intercept_, rel=1e-9, abs=1e-11)


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("lam", [1e-3, 0.1, 1.0, 5.0, 100.0])
def test_lasso_matches_sklearn_lasso(lam, fit_intercept):
    X, y = problem(2, d=6)
    w, b = fitting.lasso(X, y, lam=lam, fit_intercept=fit_intercept)
    # Lasso(alpha) minimises ‖y − Xw − b‖²/(2n) + α‖w‖₁ = (our cost)/2 for α = λ/2
    ref = linear_model.Lasso(alpha=lam / 2, fit_intercept=fit_intercept, tol=1e-14,
                             max_iter=1_000_000).fit(X, y)
    np.testing.assert_allclose(w, ref.coef_, atol=1e-8)
    assert b == pytest.approx(ref.intercept_, abs=1e-7)
    np.testing.assert_array_equal(w == 0, ref.coef_ == 0)   # the same exact zeros


@pytest.mark.parametrize("epsilon", [1.1, 1.35, 2.0])
@pytest.mark.parametrize("seed", range(3))
def test_huber_matches_sklearn_huber_regressor(seed, epsilon):
    X, y = problem(seed, n=80, noise="t")
    ref = linear_model.HuberRegressor(epsilon=epsilon, alpha=0.0, tol=1e-12,
                                      max_iter=100_000).fit(X, y)
    # HuberRegressor also fits a scale σ; at its optimum (w, b) minimises
    # Σ σ·H_ε(r/σ) = (2/σ)·Σ huber(r, δ = εσ): our cost with delta = ε·scale_
    delta = epsilon * ref.scale_
    w, b = fitting.huber_regression(X, y, delta=delta)
    # (L-BFGS-B inside HuberRegressor stops a few digits short of the exact minimiser)
    np.testing.assert_allclose(w, ref.coef_, rtol=1e-4, atol=1e-5)
    assert b == pytest.approx(ref.intercept_, rel=1e-4, abs=1e-5)
    ours = losses.huber(y, X @ w + b, delta=delta)
    theirs = losses.huber(y, X @ ref.coef_ + ref.intercept_, delta=delta)
    assert ours <= theirs + 1e-12


@pytest.mark.parametrize("seed", range(6))
def test_mae_line_matches_quantile_regressor(seed):
    rng = np.random.default_rng(seed)
    x = rng.uniform(-3, 3, 25 + 10 * seed)
    y = 1.5 * x - 2 + rng.standard_t(1.5, x.size)
    ours = fitting.mae_line(x, y)
    ref = linear_model.QuantileRegressor(quantile=0.5, alpha=0.0, solver="highs")
    ref.fit(x[:, None], y)
    # MAE minimisers need not be unique: the optimal costs agree
    assert mae_cost(x, y, ours) == pytest.approx(
        mae_cost(x, y, (ref.coef_[0], ref.intercept_)), rel=1e-10, abs=1e-12)


def test_fit_line_is_the_three_solvers():
    rng = np.random.default_rng(3)
    x = rng.uniform(-3, 3, 30)
    y = 2 * x + 1 + rng.standard_t(2, 30)
    assert fitting.fit_line(x, y) == fitting.fit_line(x, y, loss="mse")
    w, b = fitting.least_squares(x[:, None], y)
    assert fitting.fit_line(x, y, loss="mse") == pytest.approx((w[0], b), rel=1e-12)
    assert fitting.fit_line(x, y, loss="mae") == fitting.mae_line(x, y)
    w, b = fitting.huber_regression(x[:, None], y, delta=0.7)
    assert fitting.fit_line(x, y, loss="huber", delta=0.7) == pytest.approx((w[0], b),
                                                                            rel=1e-10)
    slope, intercept = fitting.fit_line(x, y, loss="huber", delta=0.7,
                                        start=fitting.mae_line(x, y))
    assert (slope, intercept) == pytest.approx((w[0], b), rel=1e-10)
    assert all(type(v) is float for v in fitting.fit_line(x, y, loss="mae"))


def test_problem_paths_equal_the_single_fits():
    X, y = problem(4, d=4)
    p = fitting.LeastSquaresProblem.from_data(X, y)
    lams = np.logspace(-3, 1, 7)
    ridge_path, lasso_path = p.ridge(lams), p.lasso(lams)
    assert ridge_path.shape == lasso_path.shape == (7, 4)
    for lam, wr, wl in zip(lams, ridge_path, lasso_path):
        np.testing.assert_allclose(wr, fitting.ridge(X, y, lam=lam)[0], rtol=1e-12)
        np.testing.assert_allclose(wl, fitting.lasso(X, y, lam=lam)[0], atol=1e-10)
    # warm start from a neighbour: same answer
    np.testing.assert_allclose(p.lasso(lams[3] * 1.1, start=lasso_path[3]),
                               p.lasso(lams[3] * 1.1), atol=1e-10)
    # the cost is the mean squared error with the best bias
    w = ridge_path[2]
    assert p.cost(w) == pytest.approx(losses.mse(y, X @ w + p.bias(w)), rel=1e-12)


def test_mae_line_in_blocks_equals_in_one_go(monkeypatch):
    rng = np.random.default_rng(5)
    x, y = rng.uniform(-3, 3, 41), rng.standard_normal(41)
    whole = fitting.mae_line(x, y)
    monkeypatch.setattr(fitting, "_MAE_BLOCK", 41 * 3)      # 3 pivots per block
    assert fitting.mae_line(x, y) == pytest.approx(whole, rel=1e-13)


# --- optimality conditions and invariances (hypothesis) --------------------------------


def lines(min_size=3, max_size=30):
    """Points with at least two distinct x, heavy-tailed targets."""
    return st.tuples(
        st.integers(min_size, max_size), st.integers(0, 2**31 - 1),
        st.floats(-1e3, 1e3), st.floats(0.01, 100.0),
    ).map(_line_data)


def _line_data(args):
    n, seed, offset, scale = args
    rng = np.random.default_rng(seed)
    x = offset + scale * rng.uniform(-1, 1, n)
    x[:2] = offset - scale, offset + scale                   # two distinct x at least
    if seed % 3 == 0:
        x = offset + scale * np.round((x - offset) / scale, 1)   # repeated x values
    y = rng.normal(0, 5) * x + rng.standard_t(1.5, n) * scale
    return x, y


def brute_force_mae(x, y):
    """Cheapest line through two points of distinct x (independent of mae_line)."""
    best = np.inf
    for i, j in itertools.combinations(range(x.size), 2):
        if x[i] != x[j]:
            w = (y[j] - y[i]) / (x[j] - x[i])
            best = min(best, mae_cost(x, y, (w, y[i] - w * x[i])))
    return best


@SETTINGS
@given(lines(max_size=14))
def test_mae_line_is_the_best_line_through_two_points(data):
    x, y = data
    slope, intercept = fitting.mae_line(x, y)
    assert mae_cost(x, y, (slope, intercept)) <= brute_force_mae(x, y) * (1 + 1e-12) + 1e-12


@SETTINGS
@given(lines(), st.floats(0.05, 20.0))
def test_huber_line_has_zero_gradient(data, delta_factor):
    x, y = data
    delta = delta_factor * (np.std(y) + 1e-3)
    slope, intercept = fitting.fit_line(x, y, loss="huber", delta=delta)
    g = losses.huber_grad(y, slope * x + intercept, delta=delta)
    scale = delta * (1 + np.abs(x).max())
    np.testing.assert_allclose([g @ x, g.sum()], 0.0, atol=1e-9 * scale)


@SETTINGS
@given(st.integers(0, 2**31 - 1), st.integers(1, 6), st.floats(-3, 2),
       st.booleans())
def test_penalised_fits_satisfy_their_optimality_conditions(seed, d, log_lam, intercept):
    X, y = problem(seed, n=30, d=d)
    lam = 10.0 ** log_lam
    for penalty, solver in (("l2", fitting.ridge), ("l1", fitting.lasso)):
        w, b = solver(X, y, lam=lam, fit_intercept=intercept)
        g = losses.mse_grad(y, X @ w + b)          # ∂(mean squared error)/∂ŷ
        grad_w = X.T @ g
        if intercept:
            assert abs(g.sum()) <= 1e-9 * (1 + np.abs(y).max())
        else:
            assert b == 0.0
        tol = 1e-8 * (1 + np.abs(X).max() * np.abs(y).max())
        if penalty == "l2":
            np.testing.assert_allclose(grad_w + 2 * lam * w, 0.0, atol=tol)
        else:
            nz = w != 0
            np.testing.assert_allclose(grad_w[nz] + lam * np.sign(w[nz]), 0.0, atol=tol)
            assert np.all(np.abs(grad_w[~nz]) <= lam + tol)
        # the cost the course writes down is at its minimum
        best = train.regularized_cost(w, b, X, y, lam, penalty=penalty)
        for dw in np.random.default_rng(seed).standard_normal((5, d)) * 1e-4:
            assert best <= train.regularized_cost(w + dw, b, X, y, lam, penalty=penalty) + 1e-12


@SETTINGS
@given(lines(), st.floats(-50, 50), st.floats(-50, 50), st.floats(0.1, 5.0))
@example(_line_data((7, 212814, 1.0, 1.0)), 1.0, 0.0, 0.125)   # huber's minimiser not unique
def test_line_fits_are_regression_equivariant(data, c, d, delta):
    """Adding the line c·x + d to the targets adds (c, d) to every fit; residuals unchanged."""
    x, y = data
    for loss in fitting.LINE_LOSSES:
        before = fitting.fit_line(x, y, loss=loss, delta=delta)
        after = fitting.fit_line(x, y + c * x + d, loss=loss, delta=delta)
        r_before = before[0] * x + before[1] - y
        r_after = after[0] * x + after[1] - (y + c * x + d)
        cost = {"mse": losses.mse, "mae": losses.mae,
                "huber": lambda t, p: losses.huber(t, p, delta=delta)}[loss]
        zero = np.zeros_like(x)
        # the optimal cost only depends on the residuals
        assert cost(zero, r_after) == pytest.approx(cost(zero, r_before), rel=1e-7,
                                                    abs=1e-9 * (1 + np.abs(y).max()))
        # mse's minimiser is unique (two distinct x); huber's only where two examples of
        # distinct x sit strictly inside the quadratic zone |r| < δ (the Hessian is then
        # positive definite at the minimiser); with fewer it can be flat like mae's
        # (found by hypothesis: 7 points, δ = 0.125, two fits of equal cost 0.0606).
        inside = np.abs(r_before) < delta * (1 - 1e-6)
        unique = loss == "mse" or (loss == "huber" and np.unique(x[inside]).size >= 2)
        if unique:                                  # unique minimisers: the same residuals
            np.testing.assert_allclose(r_after, r_before,
                                       atol=1e-6 * (1 + np.abs(y).max() + abs(c) * np.abs(x).max() + abs(d)))


@SETTINGS
@given(st.integers(0, 2**31 - 1), st.integers(1, 4), st.floats(-5, 5))
def test_fits_ignore_the_order_of_examples_and_shift_with_y(seed, d, shift):
    X, y = problem(seed, n=25, d=d)
    order = np.random.default_rng(seed).permutation(y.size)
    fits = {"ls": lambda X, y: fitting.least_squares(X, y),
            "ridge": lambda X, y: fitting.ridge(X, y, lam=0.1),
            "lasso": lambda X, y: fitting.lasso(X, y, lam=0.1),
            "huber": lambda X, y: fitting.huber_regression(X, y, delta=1.0)}
    for name, fit in fits.items():
        w, b = fit(X, y)
        w2, b2 = fit(X[order], y[order])
        np.testing.assert_allclose(w2, w, rtol=1e-7, atol=1e-9, err_msg=name)
        assert b2 == pytest.approx(b, rel=1e-7, abs=1e-9)
        if name != "huber":                  # the bias is not penalised: y + s moves only b
            w3, b3 = fit(X, y + shift)
            np.testing.assert_allclose(w3, w, rtol=1e-7, atol=1e-9, err_msg=name)
            assert b3 == pytest.approx(b + shift, rel=1e-7, abs=1e-8)


def test_huber_copes_with_extreme_scales_and_tiny_delta():
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 50)
    for scale, delta in ((1e8, 1e6), (1e-6, 1e-9), (1.0, 1e-6)):
        y = scale * (3 * x + rng.standard_t(1.5, 50))
        slope, intercept = fitting.fit_line(x, y, loss="huber", delta=delta)
        g = losses.huber_grad(y, slope * x + intercept, delta=delta)
        assert abs(g @ x) <= 1e-8 * delta and abs(g.sum()) <= 1e-8 * delta


# --- hostile input: clear errors naming the argument ---------------------------------


X_OK, Y_OK = np.arange(12.0).reshape(6, 2) ** 1.5, np.arange(6.0)


@pytest.mark.parametrize("call, error, match", [
    (lambda: fitting.least_squares(np.arange(5.0), np.arange(5.0)), ValueError,
     r"least_squares: X must be 2-D.*X.reshape\(-1, 1\)"),
    (lambda: fitting.least_squares(X_OK, np.arange(5.0)), ValueError,
     r"y must have one target per row of X, shape \(6,\)"),
    (lambda: fitting.least_squares(X_OK, Y_OK[:, None]), ValueError, r"flatten it with y.ravel"),
    (lambda: fitting.least_squares(np.where(X_OK > 3, np.nan, X_OK), Y_OK), ValueError,
     r"X must be finite, got 1 NaN|X must be finite"),
    (lambda: fitting.ridge(X_OK, np.r_[Y_OK[:5], np.inf], lam=1.0), ValueError,
     r"ridge: y must be finite"),
    (lambda: fitting.least_squares(X_OK > 2, Y_OK), TypeError, r"X must hold numbers, got booleans"),
    (lambda: fitting.least_squares(X_OK.astype(str), Y_OK), TypeError, r"X must hold numbers"),
    (lambda: fitting.least_squares(np.empty((0, 2)), np.empty(0)), ValueError, r"X is empty"),
    (lambda: fitting.least_squares(np.empty((3, 0)), np.zeros(3)), ValueError, r"X is empty|X has no columns"),
    (lambda: fitting.least_squares(X_OK, Y_OK, fit_intercept="yes"), TypeError,
     r"fit_intercept must be True or False"),
    (lambda: fitting.ridge(X_OK, Y_OK, lam=-1.0), ValueError, r"ridge: lam must be >= 0, got -1"),
    (lambda: fitting.ridge(X_OK, Y_OK, lam=True), TypeError, r"ridge: lam must be a single real number"),
    (lambda: fitting.ridge(X_OK, Y_OK, lam="0.1"), TypeError, r"lam must be a single real number"),
    (lambda: fitting.ridge(X_OK, Y_OK, lam=np.nan), ValueError, r"lam must be a finite number"),
    (lambda: fitting.ridge(np.column_stack([X_OK[:, 0], 2 * X_OK[:, 0]]), Y_OK, lam=0.0),
     ValueError, r"ridge: with lam = 0 the features are linearly dependent.*least_squares"),
    (lambda: fitting.lasso(X_OK, Y_OK, lam=0.0), ValueError, r"lasso: lam must be > 0.*least_squares"),
    (lambda: fitting.lasso(np.column_stack([X_OK[:, 0], np.ones(6)]), Y_OK, lam=0.1), ValueError,
     r"lasso: a feature is constant .*column 1"),
    (lambda: fitting.lasso(np.column_stack([X_OK[:, 0], np.zeros(6)]), Y_OK, lam=0.1,
                           fit_intercept=False), ValueError, r"a feature is all zeros.*column 1"),
    (lambda: fitting.LeastSquaresProblem.from_data(X_OK, Y_OK).lasso([0.1, -1.0]), ValueError,
     r"lasso: every lam must be > 0, got \{-1\}"),
    (lambda: fitting.LeastSquaresProblem.from_data(X_OK, Y_OK).lasso([[0.1]]), ValueError,
     r"lam must be one number or a 1-D array"),
    (lambda: fitting.LeastSquaresProblem.from_data(X_OK, Y_OK).lasso(0.1, start=np.zeros(3)),
     ValueError, r"start must have shape \(1, 2\)"),
    (lambda: fitting.LeastSquaresProblem.from_data(X_OK, Y_OK).lasso(0.1, max_sweeps=0),
     ValueError, r"max_sweeps must be at least 1"),
    (lambda: fitting.LeastSquaresProblem.from_data(X_OK, Y_OK).ridge({"lam": 1}), TypeError,
     r"ridge: lam must be a number \(or a 1-D array"),
    (lambda: fitting.huber_regression(X_OK, Y_OK, delta=0.0), ValueError,
     r"huber_regression: delta must be > 0, got 0"),
    (lambda: fitting.huber_regression(np.column_stack([X_OK[:, 0], X_OK[:, 0]]), Y_OK),
     ValueError, r"linearly dependent .*drop the redundant columns"),
    (lambda: fitting.huber_regression(np.column_stack([X_OK[:, 0], np.ones(6)]), Y_OK),
     ValueError, r"the columns of X and the intercept are linearly dependent"),
    (lambda: fitting.huber_regression(X_OK, Y_OK, start=(np.zeros(3), 0.0)), ValueError,
     r"start\[0\] \(w\) must hold 2 weights"),
    (lambda: fitting.huber_regression(X_OK, Y_OK, start=5.0), TypeError,
     r"start must be a pair \(w, b\)"),
    (lambda: fitting.huber_regression(X_OK, Y_OK, max_iter=1.5), TypeError,
     r"max_iter must be a whole number"),
    (lambda: fitting.fit_line([1.0, 1.0, 1.0], [0.0, 1.0, 2.0], loss="huber"), ValueError,
     r"fit_line: x must hold at least two different values, got only x = 1"),
    (lambda: fitting.mae_line([[0.0, 1.0]], [[0.0, 1.0]]), ValueError,
     r"mae_line: x and y must be 1-D arrays of the same length"),
    (lambda: fitting.fit_line([0.0, 1.0], [0.0, 1.0, 2.0]), ValueError, r"got shapes \(2,\) and \(3,\)"),
    (lambda: fitting.fit_line([0.0, 1.0], [0.0, 1.0], loss="hinge"), ValueError,
     r"loss must be one of \('mse', 'mae', 'huber'\), got 'hinge'.*lossbook.train.fit"),
    (lambda: fitting.fit_line([0.0, 1.0], [0.0, 1.0], loss=None), ValueError, r"loss must be one of"),
    (lambda: fitting.fit_line([0.0, 1.0], [0.0, 1.0], loss="huber", delta=-1), ValueError,
     r"delta must be > 0"),
    (lambda: fitting.fit_line([0.0, 1.0, 2.0], [0.0, 1.0, 5.0], loss="huber", start=(1.0,)),
     TypeError, r"start must be a pair"),
])
def test_bad_input_is_refused_with_a_clear_message(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_options_are_keyword_only():
    with pytest.raises(TypeError):
        fitting.ridge(X_OK, Y_OK, 0.1)                   # noqa: the point of the test
    with pytest.raises(TypeError):
        fitting.fit_line([0.0, 1.0], [0.0, 1.0], "mae")  # noqa


def test_inputs_are_not_modified_and_float32_is_accepted():
    X, y = problem(9)
    X32, y32 = X.astype(np.float32), y.astype(np.float32)
    copies = X32.copy(), y32.copy()
    w, b = fitting.huber_regression(X32, y32, delta=1.0)
    np.testing.assert_array_equal(X32, copies[0])
    np.testing.assert_array_equal(y32, copies[1])
    assert w.dtype == np.float64
    w64, b64 = fitting.huber_regression(X32.astype(float), y32.astype(float), delta=1.0)
    np.testing.assert_allclose(w, w64, rtol=1e-12)


def test_fitting_is_in_the_training_layer_and_loads_no_heavy_library():
    """Layer 2 (docs/architecture.md): numpy and the math layer only."""
    import json
    import subprocess
    import sys

    code = ("import sys, json, lossbook.fitting; "
            "print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    loaded = set(json.loads(done.stdout))
    assert loaded & {"matplotlib", "ipywidgets", "scipy", "sklearn", "IPython", "torch"} == set()
