"""The losses' fast sums (issue 13) against forms that cannot share their bugs.

``reduction="mean" | "sum"`` of mse, mae, huber, log_cosh, hinge, squared_hinge,
binary_cross_entropy_with_logits and softmax_cross_entropy no longer forms every loss:
they use dots (lossbook.losses._compute.dot), one log per 64 elements
(``sum_log``: the log of a product), a block's maximum instead of each row's in the
log-sum-exp, and NaN/inf checks folded into those passes. Each is compared here with
the per-element formula summed with ``math.fsum`` (or SciPy/torch), at extreme values,
in float32, across the block and group boundaries (``BLOCK`` and ``BUFFER_BLOCK`` made
small), and with the errors of bad input unchanged.
"""
import math
import os

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import special

import lossbook.losses as L
from lossbook.losses import _compute

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    derandomize=bool(os.environ.get("CI")))
EPS = float(np.finfo(np.float64).eps)
# Sizes around a group of 64 (sum_log) and, with BLOCK = 100, several blocks.
sizes = st.sampled_from([1, 2, 63, 64, 65, 127, 128, 129, 250, 333])


@pytest.fixture
def small_blocks(monkeypatch):
    monkeypatch.setattr(_compute, "BLOCK", 100)
    monkeypatch.setattr(_compute, "BUFFER_BLOCK", 100)


def fsum(values) -> float:
    return math.fsum(np.asarray(values, dtype=np.float64).ravel().tolist())


def log_cosh_exact(r):
    # log cosh r = log1p(2 sinh²(r/2)) for small |r| (no cancellation), |r| − log 2 +
    # log1p(e^{−2|r|}) for large |r|
    r = np.abs(np.asarray(r, dtype=np.float64))
    small = np.log1p(2 * np.sinh(np.minimum(r, 20) / 2) ** 2)
    return np.where(r < 20, small, r - np.log(2) + np.log1p(np.exp(-2 * r)))


# ---------------------------------------------------------------------------
# The helpers
# ---------------------------------------------------------------------------
@SETTINGS
@given(arrays(np.float64, st.integers(1, 3000), elements=st.floats(0.0, 1.0)))
def test_sum_log_within_2n_eps_of_the_sum_of_logs(e):
    u = 1.0 + e
    exact = fsum(np.log(u))
    assert abs(_compute.sum_log(u) - exact) <= 2 * u.size * EPS
    halved = fsum(np.log(u / 2))
    assert abs(_compute.sum_log(u, halve=True) - halved) <= 2 * u.size * EPS + 1e-12 * abs(halved)


@SETTINGS
@given(arrays(np.float64, st.integers(1, 20000), elements=st.floats(-1e6, 1e6)))
def test_dot_and_total_match_exact_sums(x):
    scale = fsum(np.abs(x))
    # a BLAS dot sums with a handful of partial sums: its error is below n·ε·Σ|x| (far
    # below in practice); float64 pieces of at most DOT_MAX values stay on one thread
    assert abs(_compute.total(x) - fsum(x)) <= x.size * EPS * scale + 1e-300
    assert abs(_compute.dot(x, x) - fsum(x * x)) <= x.size * EPS * fsum(x * x) + 1e-300


def test_full_is_a_read_only_constant_of_the_blocks_dtype():
    for dtype in (np.float64, np.float32):
        block = np.zeros(37, dtype=dtype)
        c = _compute.full(0.5, block)
        assert c.shape == (37,) and c.dtype == dtype and (c == 0.5).all()
        with pytest.raises(ValueError):
            c[0] = 1.0


# ---------------------------------------------------------------------------
# Regression sums
# ---------------------------------------------------------------------------
extreme = st.floats(-1e150, 1e150, allow_nan=False, allow_subnormal=True)
moderate = st.floats(-50.0, 50.0, allow_nan=False, allow_subnormal=True)
REGRESSION_REFERENCE = {
    "mse": (L.mse, {}, lambda r: r * r),
    "mae": (L.mae, {}, np.abs),
    "huber": (L.huber, {"delta": 0.7},
              lambda r: np.where(np.abs(r) <= 0.7, 0.5 * r * r, 0.7 * (np.abs(r) - 0.35))),
}


@pytest.mark.parametrize("name", sorted(REGRESSION_REFERENCE))
def test_regression_sums_match_the_exact_sum(name, small_blocks):
    loss, kw, formula = REGRESSION_REFERENCE[name]

    @SETTINGS
    @given(sizes.flatmap(lambda n: st.tuples(arrays(np.float64, n, elements=extreme),
                                             arrays(np.float64, n, elements=extreme))))
    def check(pair):
        y, p = pair
        exact = fsum(formula(p - y))
        got = loss(y, p, reduction="sum", **kw)
        assert got == pytest.approx(exact, rel=1e-12, abs=1e-300)
        assert loss(y, p, **kw) == pytest.approx(exact / y.size, rel=1e-12, abs=1e-300)

    check()


def test_log_cosh_sum_matches_the_exact_sum(small_blocks):
    @SETTINGS
    @given(sizes.flatmap(lambda n: st.tuples(arrays(np.float64, n, elements=moderate),
                                             arrays(np.float64, n, elements=moderate))))
    def check(pair):
        y, p = pair
        r = p - y
        exact = fsum(log_cosh_exact(r))
        # both of lossbook's forms are within a few ε·(|r| + 1) per element of the exact sum
        slack = 8 * EPS * fsum(np.abs(r) + 1.0)
        assert abs(L.log_cosh(y, p, reduction="sum") - exact) <= slack + 1e-12 * exact
        assert L.log_cosh(y, p, reduction="sum") == pytest.approx(
            L.log_cosh(y, p, reduction="none").sum(), rel=1e-12, abs=1e-300)

    check()


@pytest.mark.parametrize("residual", [1e-9, 1e-4, 0.05, 0.07, 3.0, 700.0, 1e6])
def test_log_cosh_sum_of_many_equal_residuals(residual):
    # tiny residuals take the per-element form (the fast sum is exact only to ~n·ε);
    # large ones the fast sum: both agree with reduction="none"
    n = 3 * _compute.BUFFER_BLOCK + 11
    y, p = np.zeros(n), np.full(n, residual)
    per_element = L.log_cosh(y, p, reduction="none")
    assert L.log_cosh(y, p) == pytest.approx(per_element.mean(), rel=1e-12)
    if residual >= 0.05:
        assert L.log_cosh(y, p) == pytest.approx(float(log_cosh_exact(residual)), rel=1e-12)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", ["mse", "mae", "huber", "log_cosh", "quantile"])
def test_regression_keeps_float32_and_its_precision(name, dtype):
    g = np.random.default_rng(3)
    n = 2 * _compute.BUFFER_BLOCK + 3
    y, p = g.normal(size=n).astype(dtype), g.normal(scale=2, size=n).astype(dtype)
    loss, grad = getattr(L, name), getattr(L, name + "_grad")
    y64, p64 = y.astype(np.float64), p.astype(np.float64)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    assert loss(y, p) == pytest.approx(loss(y64, p64), rel=rtol)
    g32 = grad(y, p)
    assert g32.dtype == dtype and g32.shape == p.shape
    np.testing.assert_allclose(g32, grad(y64, p64), rtol=rtol, atol=1e-7 / n)


@pytest.mark.parametrize("n", [1, 5, _compute.BUFFER_BLOCK + 1, 3 * _compute.BUFFER_BLOCK])
def test_regression_gradients_equal_their_formulas(n):
    g = np.random.default_rng(4)
    y, p = g.normal(size=(n, 1)), g.normal(scale=2, size=(n, 1))
    r = p - y
    for reduction, scale in (("mean", 1 / r.size), ("sum", 1.0), ("none", 1.0)):
        np.testing.assert_allclose(L.mse_grad(y, p, reduction=reduction), 2 * r * scale, rtol=1e-15)
        np.testing.assert_array_equal(L.mae_grad(y, p, reduction=reduction), np.sign(r) * scale)
        np.testing.assert_array_equal(L.huber_grad(y, p, delta=0.3, reduction=reduction),
                                      np.clip(r, -0.3, 0.3) * scale)
        np.testing.assert_array_equal(L.log_cosh_grad(y, p, reduction=reduction),
                                      np.tanh(r) * scale)


# ---------------------------------------------------------------------------
# Margin sums
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("loss, formula", [(L.hinge, lambda h: h), (L.squared_hinge, lambda h: h * h)],
                         ids=["hinge", "squared_hinge"])
def test_hinge_sums_match_the_exact_sum(loss, formula, small_blocks):
    @SETTINGS
    @given(sizes.flatmap(lambda n: st.tuples(
        arrays(np.float64, n, elements=st.sampled_from([-1.0, 1.0])),
        arrays(np.float64, n, elements=st.floats(-1e100, 1e100, allow_subnormal=True)))))
    def check(pair):
        y, s = pair
        exact = fsum(formula(np.maximum(0.0, 1.0 - y * s)))
        assert loss(y, s, reduction="sum") == pytest.approx(exact, rel=1e-12, abs=1e-300)
        assert loss(y, s) == pytest.approx(exact / y.size, rel=1e-12, abs=1e-300)

    check()


@pytest.mark.parametrize("loss", [L.hinge, L.squared_hinge], ids=lambda f: f.__name__)
@pytest.mark.parametrize("bad", [np.inf, -np.inf, np.nan])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_hinge_sums_still_refuse_nan_and_inf_scores(loss, bad, reduction):
    # a score of +inf for a positive example has hinge max(0, −inf) = 0: the fast sum
    # must still see it (its check is folded into the pass)
    n = 2 * _compute.BUFFER_BLOCK + 9
    y, s = np.ones(n), np.zeros(n)
    s[n - 4] = bad
    with pytest.raises(ValueError, match=f"{loss.__name__}: scores must be finite, got 1 "
                                         f"{'NaN' if np.isnan(bad) else 'inf'} \\(first at "
                                         f"index {n - 4}\\)"):
        loss(y, s, reduction=reduction)


def test_hinge_sums_of_huge_finite_scores_overflow_as_before():
    # Σ y·s overflows (the folded NaN/inf check fires), the scores are finite: the
    # per-element sum is taken instead
    y, s = np.array([1.0, -1.0, 1.0]), np.array([1e308, -1e308, 0.5])
    assert L.hinge(y, s, reduction="sum") == 0.5
    with np.errstate(over="ignore"):
        assert L.squared_hinge(-y, s, reduction="sum") == np.inf


# ---------------------------------------------------------------------------
# Logit sums
# ---------------------------------------------------------------------------
def bce_reference(y, z):
    return -(y * special.log_expit(z) + (1 - y) * special.log_expit(-z))


@st.composite
def logit_case(draw):
    n = draw(sizes)
    y = draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0]) | st.floats(0.0, 1.0)))
    z = draw(arrays(np.float64, n, elements=st.floats(-1e3, 1e3, allow_subnormal=True)))
    return y, z


def test_bce_with_logits_sum_keeps_its_precision(small_blocks):
    @SETTINGS
    @given(logit_case())
    def check(case):
        y, z = case
        exact = fsum(bce_reference(y, z))
        assert L.binary_cross_entropy_with_logits(y, z, reduction="sum") == pytest.approx(
            exact, rel=1e-12, abs=1e-300)
        assert L.binary_cross_entropy_with_logits(y, z) == pytest.approx(
            exact / y.size, rel=1e-12, abs=1e-300)

    check()


@pytest.mark.parametrize("z", [5.0, 8.0, 20.0, 37.0, 200.0, 700.0])
def test_bce_with_logits_mean_of_confident_right_answers(z):
    # mean losses below 1e-3 take the per-element form: relative precision kept
    n = 3 * _compute.BUFFER_BLOCK + 5
    y = np.tile([1.0, 0.0], n)[:n]
    logits = np.where(y == 1.0, z, -z)
    got = L.binary_cross_entropy_with_logits(y, logits)
    assert got == pytest.approx(float(-special.log_expit(z)), rel=1e-12)


def test_bce_with_logits_float32_sum():
    g = np.random.default_rng(5)
    n = 2 * _compute.BUFFER_BLOCK + 1
    y, z = g.integers(0, 2, n).astype(np.float32), g.normal(scale=3, size=n).astype(np.float32)
    exact = fsum(bce_reference(y.astype(np.float64), z.astype(np.float64)))
    assert L.binary_cross_entropy_with_logits(y, z, reduction="sum") == pytest.approx(exact, rel=1e-5)


@st.composite
def class_case(draw):
    n, c = draw(st.sampled_from([1, 2, 33, 34, 70])), draw(st.integers(2, 7))
    spread = draw(st.sampled_from([1.0, 50.0, 800.0, 1e4]))
    y = draw(arrays(np.int64, n, elements=st.integers(0, c - 1)))
    z = draw(arrays(np.float64, (n, c), elements=st.floats(-spread, spread, allow_subnormal=True)))
    smoothing = draw(st.sampled_from([0.0, 0.1]))
    return y, z, smoothing


def test_softmax_cross_entropy_with_a_block_shift(small_blocks):
    # rows far below the block's maximum (spread 800, 1e4) take the per-row form
    @SETTINGS
    @given(class_case())
    def check(case):
        y, z, smoothing = case
        c = z.shape[1]
        lse = special.logsumexp(z, axis=1)
        target = (1 - smoothing) * z[np.arange(len(y)), y] + smoothing * z.mean(axis=1)
        exact = lse - target
        scale = np.abs(z).max(axis=1) + 1
        per_row = L.softmax_cross_entropy(y, z, label_smoothing=smoothing, reduction="none")
        # the log-sum-exp's own rounding: a few ε of the row's largest |z|
        assert (np.abs(per_row - exact) <= 16 * c * EPS * scale + 1e-12 * exact).all()
        assert L.softmax_cross_entropy(y, z, label_smoothing=smoothing, reduction="sum") == \
            pytest.approx(per_row.sum(), rel=1e-12, abs=1e-300)

    check()


def test_softmax_cross_entropy_float32_and_empty_and_shape_errors():
    g = np.random.default_rng(6)
    z = g.normal(scale=3, size=(5000, 10))
    y = g.integers(0, 10, 5000)
    assert L.softmax_cross_entropy(y, z.astype(np.float32)) == pytest.approx(
        L.softmax_cross_entropy(y, z), rel=1e-5)
    with pytest.raises(ValueError, match="softmax_cross_entropy: z is empty"):
        L.softmax_cross_entropy([], np.zeros((0, 3)))
    with pytest.raises(ValueError, match="one label per row"):
        L.softmax_cross_entropy(y[:-1], z)


@pytest.mark.parametrize("loss", [L.mse, L.huber, L.log_cosh, L.hinge, L.squared_hinge,
                                  L.binary_cross_entropy_with_logits],
                         ids=lambda f: f.__name__)
def test_fast_sums_keep_the_empty_and_shape_errors(loss):
    with pytest.raises(ValueError, match=f"{loss.__name__}: y_true is empty"):
        loss([], [])
    with pytest.raises(ValueError, match="must have the same shape"):
        loss(np.zeros(4), np.zeros((4, 1)))


# ---------------------------------------------------------------------------
# The validation's fast paths
# ---------------------------------------------------------------------------
def _outcome(fn, *args, **kwargs):
    try:
        return ("value", fn(*args, **kwargs))
    except (TypeError, ValueError) as error:
        return (type(error).__name__, str(error))


@SETTINGS
@given(value=st.floats(allow_nan=True, allow_infinity=True),
       low=st.sampled_from([None, 0.0, -1.0]), high=st.sampled_from([None, 1.0, 0.5]),
       low_open=st.booleans(), high_open=st.booleans())
def test_check_scalar_float_fast_path_agrees_with_the_general_path(value, low, high, low_open,
                                                                   high_open):
    from lossbook._validation import check_scalar
    kw = dict(low=low, high=high, low_open=low_open, high_open=high_open, fix="a fix")
    fast = _outcome(check_scalar, value, "q", "f", **kw)
    general = _outcome(check_scalar, np.float64(value), "q", "f", **kw)  # not a plain float
    assert fast == general


@SETTINGS
@given(arrays(np.float64, st.integers(4097, 6000),
              elements=st.floats(allow_nan=True, allow_infinity=True)
              | st.sampled_from([1.7e308, -1.7e308, 0.0])))
def test_check_finite_one_pass_path_refuses_exactly_nan_and_inf(a):
    from lossbook._validation import check_finite
    outcome = _outcome(check_finite, a, "z", "f")
    if np.isfinite(a).all():
        assert outcome == ("value", None)  # huge finite values overflow the sum: still fine
    else:
        bad = np.flatnonzero(~np.isfinite(a))[0]
        assert outcome[0] == "ValueError" and f"(first at index {bad})" in outcome[1]


def test_softmax_cross_entropy_of_one_class_is_exactly_zero():
    # the block shift would leave a rounding residue of log(exp(z − M)) − (z − M); one
    # class keeps the per-row form, whose loss is exactly 0 (a numeric gradient needs it)
    z = np.array([[1.0], [-2.0], [5.0]])
    assert (L.softmax_cross_entropy([0, 0, 0], z, reduction="none") == 0.0).all()
    assert (L.softmax_cross_entropy_grad([0, 0, 0], z) == 0.0).all()
