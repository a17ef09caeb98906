"""lossbook.train.fit: gradient descent reaches the optimum that independent solvers find.

The scaling between our cost and each peer's objective is derived where it is used:
our cost is the *mean* loss plus λ·R(w), peers often use a sum and put the constant
on the other term.
"""
import warnings

import numpy as np
import pytest
import scipy.optimize
import scipy.special
from sklearn.linear_model import Lasso, LogisticRegression, QuantileRegressor, Ridge
from sklearn.metrics import mean_pinball_loss

from lossbook import data, train


@pytest.fixture(scope="module")
def regression_data():
    return data.regression(n=80, n_features=3, coef=[1.5, -2.0, 0.5], intercept=0.7, noise=0.5,
                           x_range=(-1.5, 1.5), seed=11)


def test_mse_converges_to_least_squares(regression_data):
    X, y = regression_data.X, regression_data.y
    result = train.fit_linear(X, y, lr=0.2, steps=3000)
    design = np.column_stack([X, np.ones(len(y))])
    solution, *_ = np.linalg.lstsq(design, y, rcond=None)
    np.testing.assert_allclose(result.w, solution[:-1], atol=1e-8)
    assert result.b == pytest.approx(solution[-1], abs=1e-8)


@pytest.mark.parametrize("lam", [0.01, 0.3])
def test_l2_converges_to_sklearn_ridge(regression_data, lam):
    X, y = regression_data.X, regression_data.y
    n = len(y)
    # ours: (1/n)||r||² + λ||w||²;  Ridge: ||r||² + α||w||²  (= n × ours with α = nλ)
    ridge = Ridge(alpha=n * lam, fit_intercept=True, solver="cholesky").fit(X, y)
    result = train.fit_linear(X, y, penalty="l2", lam=lam, lr=0.2, steps=3000)
    np.testing.assert_allclose(result.w, ridge.coef_, atol=1e-8)
    assert result.b == pytest.approx(ridge.intercept_, abs=1e-8)
    # and regularized_cost agrees with the trainer's own bookkeeping
    assert result.costs[-1] == pytest.approx(train.regularized_cost(result.w, result.b, X, y, lam))


def test_l1_proximal_converges_to_sklearn_lasso(regression_data):
    X, y = regression_data.X, regression_data.y
    X = np.column_stack([X, 0.1 * X[:, 0] + 0.05])  # a redundant feature Lasso drops
    lam = 0.2
    # ours: (1/n)||r||² + λ||w||₁;  Lasso: (1/(2n))||r||² + α||w||₁  (= ours / 2 with α = λ/2)
    lasso = Lasso(alpha=lam / 2, tol=1e-12, max_iter=100_000).fit(X, y)
    result = train.fit_linear(X, y, penalty="l1", lam=lam, proximal=True, lr=0.2, steps=5000)
    np.testing.assert_allclose(result.w, lasso.coef_, atol=1e-6)
    assert result.b == pytest.approx(lasso.intercept_, abs=1e-6)
    assert np.sum(result.w == 0.0) == np.sum(lasso.coef_ == 0.0) >= 1   # exact zeros


def test_l1_subgradient_gets_close_but_not_exactly_sparse(regression_data):
    X, y = regression_data.X, regression_data.y
    X = np.column_stack([X, 0.1 * X[:, 0] + 0.05])
    prox = train.fit_linear(X, y, penalty="l1", lam=0.2, proximal=True, lr=0.05, steps=4000)
    sub = train.fit_linear(X, y, penalty="l1", lam=0.2, lr=0.05, steps=4000)
    np.testing.assert_allclose(sub.w, prox.w, atol=0.02)
    assert prox.costs[-1] <= sub.costs[-1] <= prox.costs[-1] * 1.005


def test_elastic_net_cost_is_minimised():
    ds = data.regression(n=60, n_features=2, noise=0.3, seed=1)
    lam, rho = 0.3, 0.4

    def objective(theta):   # the elastic net as lossbook.regularization defines it, written out
        w, b = theta[:-1], theta[-1]
        return np.mean((ds.X @ w + b - ds.y) ** 2) + lam * (rho * np.abs(w).sum() + (1 - rho) * (w @ w))

    best = scipy.optimize.minimize(objective, np.zeros(3), method="Powell",
                                   options={"xtol": 1e-10, "ftol": 1e-14, "maxfev": 100_000})
    result = train.fit_linear(ds.X, ds.y, penalty="elastic_net", lam=lam, l1_ratio=rho,
                              proximal=True, lr=0.05, steps=4000)
    assert result.costs[-1] == pytest.approx(best.fun, rel=1e-7)
    np.testing.assert_allclose(np.append(result.w, result.b), best.x, atol=1e-4)


def test_huber_matches_scipy_minimisation_of_scipy_huber():
    ds = data.regression_1d(n=60, noise=0.5, outlier_fraction=0.15, outlier_size=12.0, seed=4)
    delta = 1.0

    def objective(theta):   # SciPy's own Huber function, minimised by SciPy
        return np.mean(scipy.special.huber(delta, ds.x * theta[0] + theta[1] - ds.y))

    best = scipy.optimize.minimize(objective, np.zeros(2), method="BFGS", options={"gtol": 1e-12})
    result = train.fit_linear(ds.X, ds.y, loss="huber", delta=delta, lr=0.3, steps=4000)
    np.testing.assert_allclose([result.w[0], result.b], best.x, atol=1e-5)
    # and the outliers drag MSE much further from the true line than Huber
    mse_fit = train.fit_linear(ds.X, ds.y, lr=0.1, steps=2000)
    assert abs(mse_fit.b - ds.intercept) > 3 * abs(result.b - ds.intercept)


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_quantile_reaches_the_linear_programming_optimum_of_sklearn(q):
    ds = data.regression_1d(n=60, noise=1.0, seed=3)
    peer = QuantileRegressor(quantile=q, alpha=0.0, solver="highs").fit(ds.X, ds.y)
    optimum = mean_pinball_loss(ds.y, peer.predict(ds.X), alpha=q)
    # a subgradient method with a constant step hovers near the optimum, not on it
    result = train.fit_linear(ds.X, ds.y, loss="quantile", q=q, lr=0.05, steps=3000)
    assert optimum <= result.costs[-1] <= optimum * (1 + 1e-3)
    np.testing.assert_allclose([result.w[0], result.b], [peer.coef_[0], peer.intercept_], atol=0.01)


@pytest.mark.parametrize("lam", [0.001, 0.05])
def test_logistic_converges_to_sklearn(lam):
    ds = data.two_class(n=120, separable=False, separation=1.5, seed=3)
    n = len(ds.y)
    # ours: (1/n)Σ logloss + λ||w||²;  sklearn: C Σ logloss + ½||w||²  (= Cn × ours with C = 1/(2nλ))
    peer = LogisticRegression(C=1 / (2 * n * lam), tol=1e-12, max_iter=10_000).fit(ds.X, ds.y)
    result = train.fit_logistic(ds.X, ds.y, penalty="l2", lam=lam, lr=1.0, steps=5000)
    np.testing.assert_allclose(result.w, peer.coef_[0], atol=1e-6)
    assert result.b == pytest.approx(peer.intercept_[0], abs=1e-6)
    np.testing.assert_array_equal(result.predict(ds.X), peer.predict(ds.X))


def test_softmax_converges_to_sklearn_multinomial():
    ds = data.three_class_blobs(n=90, spread=1.5, seed=5)
    n, lam = len(ds.y), 0.01
    peer = LogisticRegression(C=1 / (2 * n * lam), tol=1e-12, max_iter=10_000).fit(ds.X, ds.y)
    result = train.fit_softmax(ds.X, ds.y, penalty="l2", lam=lam, lr=0.5, steps=5000)
    # the weights are unique (the penalty picks the columns summing to 0); the biases only
    # up to a common shift, which softmax ignores: compare them centred
    np.testing.assert_allclose(result.w, peer.coef_.T, atol=1e-6)
    np.testing.assert_allclose(result.b - result.b.mean(), peer.intercept_ - peer.intercept_.mean(), atol=1e-6)
    probabilities = scipy.special.softmax(result.scores(ds.X), axis=1)
    np.testing.assert_allclose(probabilities, peer.predict_proba(ds.X), atol=1e-6)


@pytest.mark.parametrize("loss", ["hinge", "squared_hinge"])
def test_hinge_separates_separable_data(loss):
    ds = data.two_class(n=80, separable=True, separation=1.0, seed=2)
    y = data.to_plus_minus_one(ds.y)
    result = train.fit_linear(ds.X, y, loss=loss, lr=0.1, steps=500)
    np.testing.assert_array_equal(result.predict(ds.X), y)


def test_multiclass_hinge_classifies_blobs():
    ds = data.three_class_blobs(n=90, spread=0.7, seed=1)
    result = train.fit(ds.X, ds.y, loss="multiclass_hinge", lr=0.1, steps=300)
    assert result.w.shape == (2, 3)
    assert (result.predict(ds.X) == ds.y).mean() > 0.95


# --- the history -----------------------------------------------------------------------

@pytest.mark.parametrize("loss, penalty, kwargs", [
    ("mse", None, {}), ("mse", "l2", {}), ("huber", "l2", {"delta": 0.5}), ("log_cosh", None, {}),
    ("binary_cross_entropy_with_logits", "l2", {}), ("softmax_cross_entropy", "l2", {}),
])
def test_cost_never_increases_for_a_small_learning_rate(loss, penalty, kwargs):
    if loss == "binary_cross_entropy_with_logits":
        ds = data.two_class(n=50, separable=False, seed=0)
    elif loss == "softmax_cross_entropy":
        ds = data.three_class_blobs(n=60, seed=0)
    else:
        ds = data.regression(n=50, n_features=2, outlier_fraction=0.1, seed=0)
    result = train.fit(ds.X, ds.y, loss=loss, penalty=penalty, lam=0.1, lr=0.01, steps=300, **kwargs)
    assert np.all(np.diff(result.costs) <= 1e-12)
    assert result.costs[-1] < result.costs[0]


def test_history_shapes_and_recording():
    ds = data.three_class_blobs(n=30, seed=0)
    result = train.fit_softmax(ds.X, ds.y, lr=0.1, steps=25, record_every=10)
    assert result.n_steps == 25 and result.costs.shape == result.data_costs.shape == (26,)
    assert result.recorded_steps.tolist() == [0, 10, 20, 25]
    assert result.weights.shape == (4, 2, 3) and result.biases.shape == (4, 3)
    np.testing.assert_array_equal(result.weights[0], 0.0)
    np.testing.assert_array_equal(result.weights[-1], result.w)
    # each recorded cost is the cost of the recorded weights
    from lossbook.losses import softmax_cross_entropy
    for k, step in enumerate(result.recorded_steps):
        scores = ds.X @ result.weights[k] + result.biases[k]
        assert result.data_costs[step] == pytest.approx(softmax_cross_entropy(ds.y, scores))


def test_steps_zero_and_starting_point_and_inputs_untouched():
    ds = data.regression_1d(n=10, seed=0)
    w0 = np.array([3.0])
    result = train.fit_linear(ds.X, ds.y, steps=0, w0=w0, b0=1.0)
    assert result.n_steps == 0 and result.w.tolist() == [3.0] and result.b == 1.0
    assert result.costs[0] == pytest.approx(np.mean((3.0 * ds.x + 1.0 - ds.y) ** 2))
    train.fit_linear(ds.X, ds.y, steps=5, w0=w0, b0=1.0)
    assert w0.tolist() == [3.0]


def test_penalty_data_cost_split():
    ds = data.regression(n=40, seed=0)
    result = train.fit_linear(ds.X, ds.y, penalty="l2", lam=0.5, lr=0.05, steps=50)
    np.testing.assert_allclose(result.costs - result.data_costs,
                               [0.5 * (w @ w) for w in result.weights])


def test_divergence_stops_with_a_warning_naming_the_learning_rate():
    ds = data.regression_1d(n=20, seed=0)
    with pytest.warns(RuntimeWarning, match=r"diverged at step \d+ .*with lr=5.0; try a smaller learning rate, e.g. lr=0.5"):
        result = train.fit_linear(ds.X, ds.y, lr=5.0, steps=500)
    assert result.diverged and result.n_steps < 500
    assert np.all(np.isfinite(result.costs)) and np.all(np.isfinite(result.w))
    assert result.recorded_steps[-1] == result.n_steps
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert not train.fit_linear(ds.X, ds.y, lr=0.01, steps=50).diverged


def test_predict_by_loss():
    ds = data.regression_1d(n=10, seed=0)
    result = train.fit_linear(ds.X, ds.y, steps=10)
    np.testing.assert_allclose(result.predict(ds.X), ds.X @ result.w + result.b)
    with pytest.raises(ValueError, match=r"FitResult.scores: X must have 1 columns"):
        result.predict(np.ones((3, 2)))


@pytest.mark.parametrize("call, error, message", [
    (lambda X, y: train.fit(X, y, loss="mean_squared"), ValueError, r"fit: loss 'mean_squared' cannot be trained here; choose one of .*huber.*mse"),
    (lambda X, y: train.fit(X, y, loss="binary_cross_entropy"), ValueError, r"it takes probabilities.*use 'binary_cross_entropy_with_logits'"),
    (lambda X, y: train.fit(X, y, loss=len), TypeError, r"loss must be the name of a loss in lossbook.losses"),
    (lambda X, y: train.fit(X, y, penalty="ridge"), ValueError, r"penalty must be None, 'l1', 'l2' or 'elastic_net', got 'ridge'"),
    (lambda X, y: train.fit(X, y, lr=-0.1), ValueError, r"fit: lr must be .*got -0.1; the learning rate must be positive"),
    (lambda X, y: train.fit(X, y, steps=10.5), TypeError, r"fit: steps must be a whole number, got 10.5"),
    (lambda X, y: train.fit(X, y, steps=-1), ValueError, r"fit: steps must be at least 0"),
    (lambda X, y: train.fit(X, y, record_every=0), ValueError, r"record_every must be at least 1"),
    (lambda X, y: train.fit(X, y, l1_ratio=2), ValueError, r"fit: l1_ratio must be .*got 2"),
    (lambda X, y: train.fit(X, y, proximal="yes"), TypeError, r"proximal must be True or False"),
    (lambda X, y: train.fit(X[:, 0], y), ValueError, r"fit: X must be 2-D.*X.reshape\(-1, 1\)"),
    (lambda X, y: train.fit(X, y[:-1]), ValueError, r"fit: y must have one target per row of X, shape \(10,\), got shape \(9,\)"),
    (lambda X, y: train.fit(X, y, w0=[1.0, 2.0]), ValueError, r"fit: w0 must have shape \(1,\), got \(2,\)"),
    (lambda X, y: train.fit(X, y, w0=[1e300], b0=1e300), ValueError, r"cost at the starting point is not finite"),
    (lambda X, y: train.fit(X, np.where(y > 0, 1, 0), loss="hinge"), ValueError, r"hinge.*-1 and \+1"),
    (lambda X, y: train.fit(X, y, loss="softmax_cross_entropy"), TypeError, r"y must hold class indices"),
    (lambda X, y: train.fit(X, -np.ones(10, int), loss="softmax_cross_entropy"), ValueError, r"negative class indices \[-1\]"),
    (lambda X, y: train.fit(X, np.arange(10) % 3, loss="softmax_cross_entropy", n_classes=2), ValueError, r"class index 2 but n_classes=2"),
    (lambda X, y: train.fit(X, y, loss="huber", delta=-1), ValueError, r"huber: delta must be"),
    (lambda X, y: train.fit(X, y, loss="huber", delt=1), TypeError, r"fit: delt=1 is not an option of huber; its options are delta"),
    (lambda X, y: train.fit(X, y, loss="mse", q=0.3), TypeError, r"fit: q=0.3 is not an option of mse; mse has no options"),
    (lambda X, y: train.fit(X, y, reduction="sum"), TypeError, r"fit: reduction cannot be chosen here"),
])
def test_bad_input_gets_a_clear_error(call, error, message):
    ds = data.regression_1d(n=10, seed=0)
    with pytest.raises(error, match=message):
        call(ds.X, ds.y)
