"""The evaluation helpers behind the losses (lossbook.losses._compute): the fast log1p,
softplus and sigmoid, and the residual losses' deferred NaN/inf check (issue 13)."""
import os

import mpmath
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lossbook.losses as L
from lossbook.losses import _compute

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    derandomize=bool(os.environ.get("CI")))
ULP = np.finfo(np.float64).eps


@SETTINGS
@given(arrays(np.float64, 50, elements=st.floats(-1.0, 1e300, exclude_min=True,
                                                 allow_subnormal=True)))
def test_log1p_within_two_ulps_of_numpy(x):
    exact = np.log1p(x)
    assert np.all(np.abs(_compute.log1p(x) - exact) <= 2 * ULP * np.abs(exact))


def test_log1p_tiny_and_edge_values():
    x = np.array([0.0, 5e-324, 1e-300, 1e-17, 1e-16, 2.2e-16, 1e-8, 0.5, 1.0, 1e16, 1.7e308,
                  -5e-324, -1e-17, -1e-8, -0.5, -0.75, -1 + 1e-16])
    np.testing.assert_allclose(_compute.log1p(x), np.log1p(x), rtol=2 * ULP, atol=0)
    assert _compute.log1p(np.array([np.inf]))[0] == np.inf
    assert np.isnan(_compute.log1p(np.array([np.nan]))[0])


@pytest.mark.filterwarnings("ignore:overflow encountered in square:RuntimeWarning")
def test_barron_of_an_overflowing_residual_keeps_its_limit():
    # x² overflows to inf for x = 1e200: log1p(inf) must stay inf, so that the loss
    # saturates where it should (alpha < 0) instead of turning NaN.
    assert L.barron([0.0], [1e200], alpha=-2.0) == pytest.approx(2.0)
    assert L.barron([0.0], [1e200], alpha=-np.inf) == 1.0


@SETTINGS
@given(arrays(np.float64, 30, elements=st.floats(-800, 800)))
def test_softplus_and_sigmoid_match_50_digit_arithmetic(z):
    mpmath.mp.dps = 50
    soft = np.array([float(mpmath.log1p(mpmath.exp(mpmath.mpf(v)))) for v in z])
    sig = np.array([float(1 / (1 + mpmath.exp(-mpmath.mpf(v)))) for v in z])
    # below z ≈ -708 both are e^z, a subnormal: exact to its spacing (5e-324), not relatively
    tiny = 4 * np.finfo(np.float64).smallest_subnormal
    np.testing.assert_allclose(_compute.softplus(z), soft, rtol=4 * ULP, atol=tiny)
    np.testing.assert_allclose(_compute.sigmoid(z), sig, rtol=4 * ULP, atol=tiny)
    s, g = _compute.softplus_and_sigmoid(z)
    np.testing.assert_array_equal(s, _compute.softplus(z))
    np.testing.assert_array_equal(g, _compute.sigmoid(z))


def test_softplus_and_sigmoid_at_infinities_and_nan():
    z = np.array([-np.inf, np.inf, np.nan])
    np.testing.assert_array_equal(_compute.sigmoid(z)[:2], [0.0, 1.0])
    np.testing.assert_array_equal(_compute.softplus(z)[:2], [0.0, np.inf])
    assert np.isnan(_compute.sigmoid(z)[2]) and np.isnan(_compute.softplus(z)[2])


REGRESSION = [L.mse, L.mse_grad, L.mae, L.mae_grad, L.huber, L.huber_grad, L.log_cosh,
              L.log_cosh_grad, L.quantile, L.quantile_grad]


@pytest.mark.parametrize("fn", REGRESSION, ids=lambda f: f.__name__)
@pytest.mark.parametrize("n", [5, 3 * _compute.BUFFER_BLOCK + 7], ids=["small", "blocked"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("where, bad", [("y_true", np.inf), ("y_pred", -np.inf),
                                        ("y_true", np.nan), ("both", np.inf)])
def test_residual_losses_refuse_nan_and_inf_anywhere(fn, n, reduction, where, bad):
    # The regression losses check the residual, not each input, for NaN/inf: a gradient
    # like sign(r) or clip(r) hides an inf, and inf - inf is NaN: all must still fail.
    y, p = np.zeros(n), np.ones(n)
    index = n - 2  # in the last block
    if where in ("y_true", "both"):
        y[index] = bad
    if where in ("y_pred", "both"):
        p[index] = bad
    name = "y_pred" if where == "y_pred" else "y_true"
    with pytest.raises(ValueError, match=f"{fn.__name__}: {name} must be finite"):
        fn(y, p, reduction=reduction)


def test_residual_losses_keep_an_overflow_of_finite_values():
    # Huge but finite inputs are valid: their loss may overflow to inf, as before.
    assert L.mse([0.0], [1e200]) == np.inf
    assert L.mae([-1.7e308], [1.7e308]) == np.inf
