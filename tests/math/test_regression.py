"""Regression losses vs scikit-learn and SciPy (float64, 1e-10 relative)."""
import numpy as np
import pytest
from scipy import special
from sklearn.metrics import mean_absolute_error, mean_pinball_loss, mean_squared_error

from lossbook.losses import (
    huber, huber_grad, log_cosh, log_cosh_grad, mae, mae_grad, mse, mse_grad, quantile,
    quantile_grad,
)

from mathhelpers import assert_close, regression_pair


def test_mse_matches_sklearn():
    y, p = regression_pair()
    assert_close(mse(y, p), mean_squared_error(y, p))
    assert_close(mse(y, p, reduction="sum"), len(y) * mean_squared_error(y, p))
    assert_close(mse(y, p, reduction="none"), (p - y) ** 2)


def test_mse_2d_is_mean_over_all_elements():
    g = np.random.default_rng(3)
    y, p = g.normal(size=(7, 3)), g.normal(size=(7, 3))
    assert_close(mse(y, p), mean_squared_error(y, p))  # uniform_average over outputs
    assert mse(y, p, reduction="none").shape == (7, 3)


def test_mae_matches_sklearn():
    y, p = regression_pair(seed=1)
    assert_close(mae(y, p), mean_absolute_error(y, p))


@pytest.mark.parametrize("delta", [0.1, 1.0, 2.5])
def test_huber_matches_scipy(delta):
    y, p = regression_pair(seed=2)
    assert_close(huber(y, p, delta=delta, reduction="none"), special.huber(delta, p - y))
    assert_close(huber(y, p, delta=delta), special.huber(delta, p - y).mean())


def test_huber_pieces_meet_at_delta():
    delta = 1.5
    r = np.array([delta - 1e-12, delta, delta + 1e-12])
    values = huber(np.zeros(3), r, delta=delta, reduction="none")
    assert np.ptp(values) < 1e-11
    assert_close(huber_grad(np.zeros(3), r, delta=delta, reduction="sum"), [delta] * 3, rtol=1e-11)


def test_log_cosh_matches_naive_and_is_stable():
    y, p = regression_pair(seed=3)
    assert_close(log_cosh(y, p, reduction="none"), np.log(np.cosh(p - y)))
    big = log_cosh([0.0, 0.0], [1e4, -1e4], reduction="none")
    assert_close(big, [1e4 - np.log(2.0)] * 2)


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_quantile_matches_sklearn_pinball(q):
    y, p = regression_pair(seed=4)
    assert_close(quantile(y, p, q=q), mean_pinball_loss(y, p, alpha=q))


def test_quantile_half_is_half_mae():
    y, p = regression_pair(seed=5)
    assert_close(quantile(y, p, q=0.5), 0.5 * mae(y, p))


def test_gradients_closed_forms():
    y, p = regression_pair(seed=6)
    n = len(y)
    r = p - y
    assert_close(mse_grad(y, p), 2 * r / n)
    assert_close(mae_grad(y, p), np.sign(r) / n)
    assert_close(huber_grad(y, p, delta=0.7), np.clip(r, -0.7, 0.7) / n)
    assert_close(log_cosh_grad(y, p), np.tanh(r) / n)
    assert_close(quantile_grad(y, p, q=0.3), np.where(r > 0, 0.7, -0.3) / n)


def test_subgradients_at_kinks():
    zero = np.zeros(2)
    assert_close(mae_grad(zero, zero, reduction="sum"), [0.0, 0.0])
    assert_close(quantile_grad(zero, zero, q=0.9, reduction="sum"), [0.0, 0.0])


def test_mse_is_minimised_by_mean_and_mae_by_median():
    y = np.array([1.0, 2.0, 3.0, 10.0])
    grid = np.linspace(0, 11, 1101)  # steps of 0.01: the mean 4 and the median 2.5 are on it
    best_mse = grid[np.argmin([mse(y, np.full(4, c)) for c in grid])]
    best_mae = [c for c in grid if np.isclose(mae(y, np.full(4, c)), mae(y, np.full(4, 2.5)))]
    assert abs(best_mse - y.mean()) < 1e-3
    assert min(best_mae) <= np.median(y) <= max(best_mae)


def test_lists_scalars_and_ints_accepted():
    assert mse([1, 2, 3], [1, 2, 5]) == pytest.approx(4 / 3)
    assert mse(1.0, 3.0) == 4.0
    assert mse(1, 3, reduction="none").tolist() == [4.0]  # a scalar is one example
    assert mse(np.float32([1, 2]), np.float32([1, 4])) == pytest.approx(2.0)
