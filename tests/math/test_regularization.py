"""Penalties: definitions, gradients, the proximal step, sklearn's conventions."""
import numpy as np
import pytest

from lossbook.gradcheck import check_gradient
from lossbook.regularization import (
    elastic_net, elastic_net_grad, l1, l1_grad, l2, l2_grad, soft_threshold,
)

from mathhelpers import assert_close

W = np.array([0.7, -1.3, 2.0, -0.05])


def test_definitions():
    assert_close(l1(W, 0.3), 0.3 * np.abs(W).sum())
    assert_close(l2(W, 0.3), 0.3 * (W ** 2).sum())
    assert_close(elastic_net(W, 0.3, 0.25), l1(W, 0.3 * 0.25) + l2(W, 0.3 * 0.75))
    assert_close(elastic_net(W, 0.3, 1.0), l1(W, 0.3))
    assert_close(elastic_net(W, 0.3, 0.0), l2(W, 0.3))
    assert l1(W, 0.0) == 0.0 and l2(W, 0.0) == 0.0


def test_gradients():
    assert_close(l2_grad(W, 0.3), 2 * 0.3 * W)
    assert_close(l1_grad(W, 0.3), 0.3 * np.sign(W))
    assert_close(elastic_net_grad(W, 0.3, 0.4), l1_grad(W, 0.12) + l2_grad(W, 0.18))
    assert_close(l1_grad([0.0, 1.0], 1.0), [0.0, 1.0])
    for f, g in [(l1, l1_grad), (l2, l2_grad), (elastic_net, elastic_net_grad)]:
        assert check_gradient(lambda w: f(w, 0.3), lambda w: g(w, 0.3), W) < 1e-8


def test_l2_matches_sklearn_ridge_objective():
    # sklearn Ridge minimises ||y - Xw||² + alpha ||w||²: with our l2 the closed form agrees.
    from sklearn.linear_model import Ridge
    g = np.random.default_rng(0)
    X, y = g.normal(size=(30, 3)), g.normal(size=30)
    w = Ridge(alpha=2.0, fit_intercept=False).fit(X, y).coef_
    grad = -2 * X.T @ (y - X @ w) + l2_grad(w, 2.0)
    assert np.abs(grad).max() < 1e-9


def test_soft_threshold_is_l1_prox():
    t = 0.5
    assert_close(soft_threshold(W, t), np.sign(W) * np.maximum(np.abs(W) - t, 0))
    grid = np.linspace(-3, 3, 60001)
    for w in W:
        objective = 0.5 * (grid - w) ** 2 + t * np.abs(grid)
        assert abs(grid[np.argmin(objective)] - soft_threshold([w], t)[0]) < 2e-4


def test_soft_threshold_matches_sklearn_lasso_one_feature():
    from sklearn.linear_model import Lasso
    # One orthonormal feature: the lasso solution is the soft-threshold of X^T y.
    g = np.random.default_rng(1)
    x = g.normal(size=50)
    x /= np.linalg.norm(x)
    y = 0.8 * x + 0.1 * g.normal(size=50)
    alpha = 0.01
    coef = Lasso(alpha=alpha, fit_intercept=False, tol=1e-12).fit(x[:, None], y).coef_[0]
    # sklearn: (1/2n)||y - xw||² + alpha|w|  ->  w = S(x·y, n·alpha)
    assert coef == pytest.approx(soft_threshold([x @ y], 50 * alpha)[0], rel=1e-8)
