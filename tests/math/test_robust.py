"""Focal loss and Barron's general robust loss: definitions, special cases, limits."""
import numpy as np
import pytest

from lossbook.gradcheck import check_gradient
from lossbook.losses import (
    barron, barron_grad, binary_cross_entropy, binary_cross_entropy_grad, focal,
    focal_grad, huber, mse,
)

from mathhelpers import assert_close, probabilities, regression_pair


def _focal_reference(y, p, gamma, alpha):
    """Lin et al. (2017), eq. (5): FL(p_t) = -alpha_t (1 - p_t)^gamma log(p_t)."""
    p_t = np.where(y == 1, p, 1 - p)
    a_t = 1.0 if alpha is None else np.where(y == 1, alpha, 1 - alpha)
    return -a_t * (1 - p_t) ** gamma * np.log(p_t)


@pytest.mark.parametrize("gamma, alpha", [(0.0, None), (2.0, None), (2.0, 0.25), (0.5, 0.75)])
def test_focal_matches_paper_formula(gamma, alpha):
    y, p = probabilities(seed=1)
    assert_close(focal(y, p, gamma=gamma, alpha=alpha, reduction="none"),
                 _focal_reference(y, p, gamma, alpha))


def test_focal_gamma_zero_is_bce():
    y, p = probabilities(seed=2)
    assert_close(focal(y, p, gamma=0.0), binary_cross_entropy(y, p))
    assert_close(focal_grad(y, p, gamma=0.0), binary_cross_entropy_grad(y, p))


@pytest.mark.parametrize("gamma, alpha", [(2.0, None), (2.0, 0.25), (0.5, 0.6), (3.0, 0.9)])
def test_focal_grad_matches_numeric(gamma, alpha):
    y, p = probabilities(n=12, seed=3)
    err = check_gradient(lambda q: focal(y, q, gamma=gamma, alpha=alpha),
                         lambda q: focal_grad(y, q, gamma=gamma, alpha=alpha), p)
    assert err < 1e-7


def _barron_general(x, alpha, c):
    b = abs(alpha - 2)
    return b / alpha * (((x / c) ** 2 / b + 1) ** (alpha / 2) - 1)


@pytest.mark.parametrize("alpha", [-5.0, -2.0, -0.5, 0.5, 1.0, 1.5, 3.0, 4.0])
def test_barron_general_formula(alpha):
    y, p = regression_pair(seed=4)
    assert_close(barron(y, p, alpha=alpha, c=0.7, reduction="none"), _barron_general(p - y, alpha, 0.7),
                 rtol=1e-9)


def test_barron_special_cases():
    y, p = regression_pair(seed=5)
    x = p - y
    assert_close(barron(y, p, alpha=2.0, reduction="none"), 0.5 * x ** 2)
    assert_close(barron(y, p, alpha=2.0), 0.5 * mse(y, p))
    assert_close(barron(y, p, alpha=0.0, reduction="none"), np.log(0.5 * x ** 2 + 1))
    assert_close(barron(y, p, alpha=-np.inf, reduction="none"), 1 - np.exp(-0.5 * x ** 2))
    assert_close(barron(y, p, alpha=1.0, reduction="none"), np.sqrt(x ** 2 + 1) - 1)
    assert_close(barron(y, p, alpha=-2.0, reduction="none"), 2 * x ** 2 / (x ** 2 + 4))
    # c scales the residual: rho(x, alpha, c) = rho(x / c, alpha, 1).
    assert_close(barron(y, p, alpha=1.0, c=2.0, reduction="none"), barron(y / 2, p / 2, alpha=1.0, reduction="none"))


@pytest.mark.parametrize("alpha, near", [(0.0, 1e-9), (2.0, 2.0 - 1e-9), (2.0, 2.0 + 1e-9),
                                         (-np.inf, -1e9)])
def test_barron_is_continuous_at_its_limits(alpha, near):
    y, p = regression_pair(seed=6)
    assert_close(barron(y, p, alpha=near, reduction="none"), barron(y, p, alpha=alpha, reduction="none"),
                 rtol=1e-6, atol=1e-12)
    assert_close(barron_grad(y, p, alpha=near, reduction="none"),
                 barron_grad(y, p, alpha=alpha, reduction="none"), rtol=1e-6, atol=1e-12)


def test_barron_pseudo_huber_near_huber_for_small_residuals():
    r = np.array([1e-3, -2e-3])
    assert_close(barron(np.zeros(2), r, alpha=1.0), huber(np.zeros(2), r), rtol=1e-5)


@pytest.mark.parametrize("alpha", [-np.inf, -3.0, -1e-3, 0.0, 1e-3, 1.0, 2.0, 2.5, 6.0])
def test_barron_grad_matches_numeric(alpha):
    y, p = regression_pair(n=10, seed=7)
    err = check_gradient(lambda q: barron(y, q, alpha=alpha, c=1.3, reduction="sum"),
                         lambda q: barron_grad(y, q, alpha=alpha, c=1.3, reduction="sum"), p)
    assert err < 1e-7


def test_barron_saturates_for_negative_alpha():
    # Welsch (alpha=-inf) saturates at 1; Geman-McClure (alpha=-2) at 2.
    big = np.array([1e6])
    assert barron([0.0], big, alpha=-np.inf) == pytest.approx(1.0)
    assert barron([0.0], big, alpha=-2.0) == pytest.approx(2.0, rel=1e-9)
    assert np.isfinite(barron([0.0], [1e150], alpha=0.5))
