"""The losses with exp and log in C (lossbook/losses/_fused.c; issue 13's speed goal).

``binary_cross_entropy_with_logits`` (also with one ``pos_weight``), ``focal_with_logits``,
``log_cosh``, ``barron`` and ``softmax_cross_entropy`` (class indices, no class weights) of
more than ``SMALL`` C-contiguous float64 values are summed in C, and the gradients of the
first and last computed there; their exp/log/log1p/expm1 go through glibc's libmvec (AVX2,
four elements at a time) where it was found at import, else through libm's scalar functions.

Also ``binary_cross_entropy``, ``focal`` and ``cross_entropy`` (their input checks too).
Checked here, in both modes where the machine has both: each C function against an
independent reference (SciPy's ``log_expit``/``expit``/``logsumexp``/``softmax`` and
closed forms, summed with ``math.fsum``) at every remainder of its 4-wide vectors and
512-element tiles (hypothesis) and at extreme logits (±1e3, ±745, denormals); the same
input giving the same bits wherever it lies in the array; the losses against the numpy
path that installs without a C compiler (``FUSED = None``), which still runs for
``reduction="none"``, other dtypes and layouts; NaN/inf and bad labels still named;
torch CPU on the sizes that take the C path; that libmvec is used exactly where the
machine has it; and, in a process where the extension cannot be imported at all, that every
loss with a C path still works and gives the same values.
"""
import ctypes
import math
import os
import platform
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import special

import lossbook.losses as L
from lossbook.losses import _compute
from lossbook.losses.classification import probability_bounds

from lazymodules import lazy

torch = lazy("torch")
F = lazy("torch.nn.functional")

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    derandomize=bool(os.environ.get("CI")))
EPS = float(np.finfo(np.float64).eps)
TILE = 512
#: relative error allowed of a C sum of non-negative terms against the fsum of the
#: reference terms: libmvec is documented within 4 ulp per function, a term chains up to
#: three of them and a few roundings, the tiles' sums add up to TILE / 8 roundings
RTOL_SUM = (TILE / 8 + 64) * EPS

fused = _compute.FUSED
needs_fused = pytest.mark.skipif(
    fused is None, reason="lossbook.losses._fused was not built (no C compiler when the "
                          "course was installed): run `pip install -e .` with one")


def numpy_path():
    return mock.patch.object(_compute, "FUSED", None)


def _modes():
    if fused is None:
        return [True]  # (the tests skip)
    return [True, False] if fused.VECTOR_MATH_FOUND else [False]


@pytest.fixture(params=_modes(), ids=lambda on: "libmvec" if on else "libm")
def vector(request):
    """Each test in each mode of the extension: libmvec's vector functions, libm's scalar."""
    if fused is None:
        yield request.param
        return
    previous = fused.vector_math(request.param)
    try:
        assert fused.vector_math() == request.param
        yield request.param
    finally:
        fused.vector_math(previous)


def _libmvec_usable() -> bool:
    """Independently of the extension: x86-64 Linux, a processor with AVX2 and FMA, and a
    libmvec.so.1 with the four AVX2 functions."""
    if platform.machine() != "x86_64" or not os.path.exists("/proc/cpuinfo"):
        return False
    with open("/proc/cpuinfo") as f:
        flags = next((line.split(":", 1)[1].split() for line in f
                      if line.startswith("flags")), [])
    if "avx2" not in flags or "fma" not in flags:
        return False
    try:
        lib = ctypes.CDLL("libmvec.so.1")
    except OSError:
        return False
    return all(hasattr(lib, f"_ZGVdN4v_{name}") for name in ("exp", "log", "log1p", "expm1"))


@needs_fused
def test_libmvec_is_used_exactly_where_the_machine_has_it():
    assert fused.VECTOR_MATH_FOUND is _libmvec_usable()
    assert fused.vector_math() is fused.VECTOR_MATH_FOUND
    previous = fused.vector_math(True)
    try:
        assert fused.vector_math(False) is fused.VECTOR_MATH_FOUND
        assert fused.vector_math() is False
    finally:
        fused.vector_math(previous)


# --- references -------------------------------------------------------------------------
def bce_terms(y, z, weight=None):
    """−[w y log σ(z) + (1 − y) log(1 − σ(z))], from SciPy's log_expit."""
    w = 1.0 if weight is None else weight
    return -(w * y * special.log_expit(z) + (1.0 - y) * special.log_expit(-z))


def focal_terms(y, z, gamma, a_pos, a_neg):
    s = np.where(y == 1.0, z, -z)
    alpha_t = np.where(y == 1.0, a_pos, a_neg)
    return alpha_t * special.expit(-s) ** gamma * -special.log_expit(s)


def log_cosh_terms(y, p):
    r = np.abs(p - y)
    # log cosh r = r + log((1 + e^{−2r}) / 2); NumPy's libm, a different formula's rounding
    return np.logaddexp(0.0, -2.0 * r) + (r - np.log(2.0))


def barron_terms(y, p, alpha, c):
    x2 = ((p - y) / c) ** 2
    if alpha == 2.0:
        return 0.5 * x2
    if alpha == 0.0:
        return np.log(0.5 * x2 + 1.0)
    if alpha == -np.inf:
        return 1.0 - np.exp(-0.5 * x2)
    if alpha == 1.0:  # pseudo-Huber
        return np.sqrt(x2 + 1.0) - 1.0
    if alpha == -2.0:  # Geman–McClure
        return 2.0 * x2 / (x2 + 4.0)
    # other alphas: the formula of the docstring with NumPy's (libm's) log1p and expm1
    # ((x²/b + 1)^(α/2) − 1 itself cancels for small α or x)
    b = abs(alpha - 2.0)
    return b / alpha * np.expm1(0.5 * alpha * np.log1p(x2 / b))


def softmax_ce_terms(idx, z, smoothing=0.0):
    target = z[np.arange(z.shape[0]), idx]
    if smoothing:
        target = (1.0 - smoothing) * target + smoothing * z.mean(axis=1)
    return special.logsumexp(z, axis=1) - target


def fsum(a):
    return math.fsum(np.ravel(a).tolist())


def assert_sum(got, terms, rtol=RTOL_SUM, atol=0.0):
    exact = fsum(terms)
    # the terms are >= 0, so sum |terms| = exact (atol: where a formula cancels)
    assert abs(got - exact) <= rtol * exact + atol, (got, exact)


sizes = st.one_of(st.sampled_from([1, 2, 3, 4, 5, 7, 8, 9, TILE - 1, TILE, TILE + 1,
                                   2 * TILE + 3, 4096 + 5]),
                  st.integers(1, 3 * TILE))
logit_scales = st.sampled_from([1e-3, 1.0, 5.0, 40.0, 800.0])


def labels(g, n, soft):
    return g.uniform(0.0, 1.0, size=n) if soft else g.integers(0, 2, size=n).astype(float)


# --- the C functions against the references -------------------------------------------------
@needs_fused
@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**32 - 1), scale=logit_scales, soft=st.booleans(),
       weight=st.sampled_from([None, 0.0, 0.3, 1.0, 7.5]))
def test_bce_logit_sum_matches_scipy_at_every_remainder(n, seed, scale, soft, weight):
    g = np.random.default_rng(seed)
    y, z = labels(g, n, soft), g.normal(scale=scale, size=n)
    for on in _modes():
        previous = fused.vector_math(on)
        try:
            if weight is None:
                got = fused.logit_sum(y, z, _compute.LOGIT_BCE, 1.0, 0.0, 1.0, 1.0)
            else:
                got = fused.logit_sum(y, z, _compute.LOGIT_WEIGHTED_BCE, weight, 0.0, 1.0, 1.0)
        finally:
            fused.vector_math(previous)
        assert_sum(got, bce_terms(y, z, weight))


@needs_fused
@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**32 - 1), scale=logit_scales,
       gamma=st.sampled_from([0.0, 0.5, 1.0, 2.0, 3.7]),
       alpha=st.sampled_from([None, 0.0, 0.25, 0.5, 1.0]))
def test_focal_logit_sum_matches_scipy_at_every_remainder(n, seed, scale, gamma, alpha):
    g = np.random.default_rng(seed)
    y, z = labels(g, n, soft=False), g.normal(scale=scale, size=n)
    a_pos, a_neg = (1.0, 1.0) if alpha is None else (alpha, 1.0 - alpha)
    for on in _modes():
        previous = fused.vector_math(on)
        try:
            got = fused.logit_sum(y, z, _compute.LOGIT_FOCAL, 1.0, gamma, a_pos, a_neg)
        finally:
            fused.vector_math(previous)
        # (σ^γ of a tiny σ: γ times the relative error of σ)
        assert_sum(got, focal_terms(y, z, gamma, a_pos, a_neg), rtol=(1 + gamma) * RTOL_SUM)


@needs_fused
@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([1e-4, 0.1, 1.0, 30.0, 400.0, 1e300]))
def test_log_cosh_sum_matches_numpy_at_every_remainder(n, seed, scale):
    g = np.random.default_rng(seed)
    y, p = g.normal(scale=scale, size=n), g.normal(scale=scale, size=n)
    terms = log_cosh_terms(y, p)
    for on in _modes():
        previous = fused.vector_math(on)
        try:
            got = fused.log_cosh_sum(y, p)
        finally:
            fused.vector_math(previous)
        if math.isinf(fsum(terms)):
            assert got == math.inf
        else:
            # |r| − log 2 + log(1 + e^{−2|r|}) cancels for small r: a few ε per element
            assert_sum(got, terms, atol=4 * EPS * n)


@needs_fused
@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**32 - 1),
       alpha=st.sampled_from([2.0, 1.0, 0.5, 0.0, -2.0, -np.inf, 1.999, 1e-9, -30.0]),
       c=st.sampled_from([0.1, 1.0, 4.0]), scale=st.sampled_from([1e-3, 1.0, 100.0]))
def test_barron_sum_matches_closed_forms_at_every_remainder(n, seed, alpha, c, scale):
    g = np.random.default_rng(seed)
    y, p = g.normal(size=n), g.normal(scale=scale, size=n)
    terms = barron_terms(y, p, alpha, c)
    for on in _modes():
        previous = fused.vector_math(on)
        try:
            got = fused.barron_sum(y, p, alpha, c)
        finally:
            fused.vector_math(previous)
        # (the closed forms' roundings: e.g. √(x² + 1) − 1 cancels for small x)
        assert_sum(got, terms, rtol=1e-12, atol=1e-15 * n)


@needs_fused
@SETTINGS
@given(rows=sizes, k=st.sampled_from([1, 2, 3, 10, 33, TILE - 1, TILE + 1]),
       seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([1e-3, 1.0, 30.0, 1e3]),
       smoothing=st.sampled_from([0.0, 0.1, 1.0]))
def test_softmax_ce_sum_matches_scipy_logsumexp(rows, k, seed, scale, smoothing):
    rows = min(rows, 40_000 // k)  # (large k: a few rows, across the one-row tiles)
    g = np.random.default_rng(seed)
    idx, z = g.integers(0, k, size=rows), g.normal(scale=scale, size=(rows, k))
    terms = softmax_ce_terms(idx, z, smoothing)
    for on in _modes():
        previous = fused.vector_math(on)
        try:
            got = fused.softmax_ce_sum(idx, z, k, smoothing)
        finally:
            fused.vector_math(previous)
        # terms >= 0 up to rounding; m + log Σ − z_y cancels when one class dominates
        assert_sum(got, terms, atol=8 * EPS * fsum(np.abs(z).max(axis=1)))


@needs_fused
@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**32 - 1), scale=logit_scales, soft=st.booleans())
def test_bce_logit_grad_matches_scipy_expit(n, seed, scale, soft):
    g = np.random.default_rng(seed)
    y, z = labels(g, n, soft), g.normal(scale=scale, size=n)
    expected = (special.expit(z) - y) / n
    for on in _modes():
        previous = fused.vector_math(on)
        try:
            out = np.full(n, np.nan)
            fused.bce_logit_grad(y, z, 1.0 / n, out)
        finally:
            fused.vector_math(previous)
        np.testing.assert_allclose(out, expected, rtol=16 * EPS, atol=2 * EPS / n)


@needs_fused
@SETTINGS
@given(rows=sizes, k=st.sampled_from([1, 2, 5, 10, TILE + 3]),
       seed=st.integers(0, 2**32 - 1), scale=st.sampled_from([1e-3, 1.0, 30.0, 1e3]),
       smoothing=st.sampled_from([0.0, 0.1]))
def test_softmax_ce_grad_matches_scipy_softmax(rows, k, seed, scale, smoothing):
    rows = min(rows, 20_000 // k)
    g = np.random.default_rng(seed)
    idx, z = g.integers(0, k, size=rows), g.normal(scale=scale, size=(rows, k))
    target = np.full((rows, k), smoothing / k)
    target[np.arange(rows), idx] += 1.0 - smoothing
    expected = (special.softmax(z, axis=1) - target) * 0.5
    for on in _modes():
        previous = fused.vector_math(on)
        try:
            out = np.full_like(z, np.nan)
            fused.softmax_ce_grad(idx, z, k, smoothing, 0.5, out)
        finally:
            fused.vector_math(previous)
        np.testing.assert_allclose(out, expected, rtol=32 * EPS, atol=2 * EPS)


@needs_fused
@SETTINGS
@given(rows=sizes, k=st.sampled_from([1, 2, 3, 10, 600]), seed=st.integers(0, 2**32 - 1),
       scale=st.sampled_from([1e-3, 1.0, 1e3, 1e300]), margin=st.sampled_from([0.0, 1.0, 2.5]))
def test_multiclass_hinge_sum_matches_numpy(rows, k, seed, scale, margin):
    rows = min(rows, 20_000 // k)
    g = np.random.default_rng(seed)
    idx, s = g.integers(0, k, size=rows), g.normal(scale=scale, size=(rows, k))
    with np.errstate(over="ignore"):
        v = np.maximum(s - s[np.arange(rows), idx][:, None] + margin, 0.0)
    v[np.arange(rows), idx] = 0.0  # (the correct class: no term)
    got = fused.multiclass_hinge_sum(idx, s, k, margin)
    exact = fsum(v)
    if math.isinf(exact):
        assert got == math.inf
    else:
        # (each row's sum counts Δ for the correct class and subtracts it again)
        assert abs(got - exact) <= RTOL_SUM * exact + 4 * EPS * margin * rows * k


# --- extreme logits -------------------------------------------------------------------------
EXTREME = np.array([0.0, 5e-324, -5e-324, 1e-310, -1e-310, 1e-20, 1.0, -1.0, 36.0, -36.0,
                    709.0, -709.0, 745.0, -745.0, 746.0, -746.0, 1e3, -1e3, 1e300, -1e300])


@needs_fused
@pytest.mark.parametrize("soft", [False, True])
def test_extreme_logits(vector, soft):
    z = np.tile(EXTREME, 3)
    y = np.repeat([0.0, 1.0, 0.3 if soft else 1.0], EXTREME.size)
    for i in range(z.size):  # each alone (a padded vector) and all at once
        assert_sum(fused.logit_sum(y[i:i + 1], z[i:i + 1], 0, 1.0, 0.0, 1.0, 1.0),
                   bce_terms(y[i:i + 1], z[i:i + 1]))
    assert_sum(fused.logit_sum(y, z, 0, 1.0, 0.0, 1.0, 1.0), bce_terms(y, z))
    if not soft:
        assert_sum(fused.logit_sum(y, z, 2, 1.0, 2.0, 0.25, 0.75),
                   focal_terms(y, z, 2.0, 0.25, 0.75), rtol=3 * RTOL_SUM)
    out = np.empty_like(z)
    fused.bce_logit_grad(y, z, 1.0, out)
    np.testing.assert_allclose(out, special.expit(z) - y, rtol=16 * EPS, atol=2 * EPS)


@needs_fused
def test_confident_right_answers_keep_their_relative_precision(vector):
    # every loss e^{−z} far below 1 (no sum_log shortcut here: each term keeps its digits)
    z = np.linspace(30.0, 700.0, 5000)
    y = np.ones_like(z)
    assert_sum(fused.logit_sum(y, z, 0, 1.0, 0.0, 1.0, 1.0), bce_terms(y, z))
    assert_sum(fused.logit_sum(y, z, 2, 1.0, 2.0, 1.0, 1.0), focal_terms(y, z, 2.0, 1, 1),
               rtol=3 * RTOL_SUM)
    assert L.binary_cross_entropy_with_logits(y, z, reduction="sum") == pytest.approx(
        fsum(bce_terms(y, z)), rel=1e-13)


@needs_fused
def test_extreme_softmax_rows(vector):
    rows = np.array([[1e3, -1e3, 0.0], [-745.0, 745.0, 0.0], [1e300, -1e300, 1e300],
                     [5e-324, 0.0, -5e-324], [-1e3, -1e3, -1e3], [700.0, 700.0, -700.0]])
    z = np.tile(rows, (700, 1))  # 4200 rows: several tiles
    idx = np.tile([0, 0, 1, 2, 1, 2], 700)
    # (z − m of 1e300 − (−1e300) overflows to −inf: exp gives 0, as it should)
    assert_sum(fused.softmax_ce_sum(idx, z, 3, 0.0), softmax_ce_terms(idx, z))
    assert L.softmax_cross_entropy(idx, z, reduction="sum") == pytest.approx(
        fsum(softmax_ce_terms(idx, z)), rel=1e-13)


# --- determinism ----------------------------------------------------------------------------
@needs_fused
def test_each_element_gives_the_same_bits_wherever_it_lies(vector):
    g = np.random.default_rng(3)
    z = np.concatenate([EXTREME, g.normal(scale=10.0, size=3 * TILE + 5)])
    y = g.integers(0, 2, size=z.size).astype(float)
    first = np.empty_like(z)
    fused.bce_logit_grad(y, z, 1.0, first)
    for shift in (1, 2, 3, 5, TILE - 1):  # other lanes of the vector, other tiles
        out = np.empty_like(z)
        fused.bce_logit_grad(np.roll(y, shift), np.roll(z, shift), 1.0, out)
        assert np.array_equal(np.roll(first, shift), out)
    rows = g.normal(scale=5.0, size=(997, 7))
    idx = g.integers(0, 7, size=997)
    grad = np.empty_like(rows)
    fused.softmax_ce_grad(idx, rows, 7, 0.0, 1.0, grad)
    for shift in (1, 3, 73):  # 73 rows = one tile of 7 classes
        out = np.empty_like(rows)
        fused.softmax_ce_grad(np.roll(idx, shift), np.roll(rows, shift, axis=0), 7, 0.0, 1.0,
                              out)
        assert np.array_equal(np.roll(grad, shift, axis=0), out)


@needs_fused
def test_same_input_same_sum_whatever_its_address(vector):
    g = np.random.default_rng(4)
    base_y, base_z = g.integers(0, 2, size=10_003).astype(float), g.normal(size=10_003)
    for offset in range(4):  # views at 8-byte offsets, and aligned copies of them
        y, z = base_y[offset:offset + 9_999], base_z[offset:offset + 9_999]
        for kind in (0, 2):
            got = fused.logit_sum(y, z, kind, 1.0, 2.0, 1.0, 1.0)
            assert got == fused.logit_sum(y.copy(), z.copy(), kind, 1.0, 2.0, 1.0, 1.0)
            assert got == fused.logit_sum(y, z, kind, 1.0, 2.0, 1.0, 1.0)
        assert fused.log_cosh_sum(y, z) == fused.log_cosh_sum(y.copy(), z.copy())
        assert fused.barron_sum(y, z, 0.5, 1.0) == fused.barron_sum(y.copy(), z.copy(), 0.5, 1.0)


# --- the losses: C where it applies, numpy where it does not --------------------------------
def _logit_data(n, seed=0):
    g = np.random.default_rng(seed)
    return g.integers(0, 2, size=n).astype(float), g.normal(scale=3.0, size=n)


def _rows_data(n, k=10, seed=0):
    g = np.random.default_rng(seed)
    return g.integers(0, k, size=n // k), g.normal(scale=2.0, size=(n // k, k))


def _probability_data(n, seed=0):
    """0/1 labels and probabilities, some exactly 0 or 1 (clipped to eps before the log)."""
    g = np.random.default_rng(seed)
    p = g.uniform(0.0, 1.0, size=n)
    p[::97], p[1::97] = 0.0, 1.0
    return g.integers(0, 2, size=n).astype(float), p


def _probability_rows_data(n, k=10, seed=0):
    idx, z = _rows_data(n, k, seed)
    p = special.softmax(z, axis=1)
    p[::7, 0] = 0.0  # some rows with a zero (clipped to eps before the log) ...
    p[::7, 1:] /= p[::7, 1:].sum(axis=1, keepdims=True)
    idx[::14] = 0  # ... which half of them pick
    return idx, p


LOSSES = {
    "bce_with_logits": (lambda y, z, **kw: L.binary_cross_entropy_with_logits(y, z, **kw),
                        _logit_data, "logit_sum"),
    "bce_with_logits pos_weight": (
        lambda y, z, **kw: L.binary_cross_entropy_with_logits(y, z, pos_weight=2.5, **kw),
        _logit_data, "logit_sum"),
    "focal_with_logits": (lambda y, z, **kw: L.focal_with_logits(y, z, **kw),
                          _logit_data, "logit_sum"),
    "focal_with_logits alpha gamma": (
        lambda y, z, **kw: L.focal_with_logits(y, z, alpha=0.25, gamma=1.5, **kw),
        _logit_data, "logit_sum"),
    "log_cosh": (lambda y, p, **kw: L.log_cosh(y, p, **kw), _logit_data, "log_cosh_sum"),
    "barron": (lambda y, p, **kw: L.barron(y, p, alpha=0.5, **kw), _logit_data, "barron_sum"),
    "barron welsch": (lambda y, p, **kw: L.barron(y, p, alpha=-np.inf, c=2.0, **kw),
                      _logit_data, "barron_sum"),
    "softmax_cross_entropy": (lambda y, z, **kw: L.softmax_cross_entropy(y, z, **kw),
                              _rows_data, "softmax_ce_sum"),
    "softmax_cross_entropy smoothing": (
        lambda y, z, **kw: L.softmax_cross_entropy(y, z, label_smoothing=0.1, **kw),
        _rows_data, "softmax_ce_sum"),
    "binary_cross_entropy": (lambda y, p, **kw: L.binary_cross_entropy(y, p, **kw),
                             _probability_data, "probability_sum"),
    "binary_cross_entropy eps": (
        lambda y, p, **kw: L.binary_cross_entropy(y, p, eps=1e-4, **kw), _probability_data,
        "probability_sum"),
    "focal": (lambda y, p, **kw: L.focal(y, p, **kw), _probability_data, "probability_sum"),
    "focal alpha gamma": (lambda y, p, **kw: L.focal(y, p, alpha=0.25, gamma=1.5, **kw),
                          _probability_data, "probability_sum"),
    "cross_entropy": (lambda y, p, **kw: L.cross_entropy(y, p, **kw), _probability_rows_data,
                      "nll_sum"),
    "cross_entropy eps": (lambda y, p, **kw: L.cross_entropy(y, p, eps=1e-3, **kw),
                          _probability_rows_data, "nll_sum"),
    "multiclass_hinge": (lambda y, s, **kw: L.multiclass_hinge(y, s, **kw), _rows_data,
                         "multiclass_hinge_sum"),
    "multiclass_hinge margin": (lambda y, s, **kw: L.multiclass_hinge(y, s, margin=0.3, **kw),
                                _rows_data, "multiclass_hinge_sum"),
    "bce_with_logits_grad": (lambda y, z, **kw: L.bce_with_logits_grad(y, z, **kw),
                             _logit_data, "bce_logit_grad"),
    "softmax_cross_entropy_grad": (
        lambda y, z, **kw: L.softmax_cross_entropy_grad(y, z, label_smoothing=0.1, **kw),
        _rows_data, "softmax_ce_grad"),
}


@needs_fused
@pytest.mark.parametrize("name", LOSSES)
def test_the_losses_call_c_above_small_and_numpy_below(name):
    loss, data, c_name = LOSSES[name]
    for n, in_c in ((_compute.SMALL, False), (_compute.SMALL + 10, True)):
        y, z = data(n)
        with mock.patch.object(fused, c_name, wraps=getattr(fused, c_name)) as called:
            loss(y, z)
        assert called.call_count == in_c, (n, in_c)
        with mock.patch.object(fused, c_name, wraps=getattr(fused, c_name)) as called:
            loss(y, z, reduction="sum")
            assert called.call_count == in_c
            if not name.endswith("_grad"):  # one loss per element or row: numpy, as before
                loss(y, z, reduction="none")
                assert called.call_count == in_c


@needs_fused
@pytest.mark.parametrize("name", LOSSES)
@pytest.mark.parametrize("n", [_compute.SMALL + 10, 16_387, 100_003])
def test_c_and_numpy_give_the_same_losses(vector, name, n):
    loss, data, _ = LOSSES[name]
    y, z = data(n, seed=n)
    for reduction in ("mean", "sum"):
        in_c = loss(y, z, reduction=reduction)
        with numpy_path():
            in_numpy = loss(y, z, reduction=reduction)
        if name.endswith("_grad"):
            scale = np.abs(in_numpy).max()
            np.testing.assert_allclose(in_c, in_numpy, rtol=1e-13, atol=4 * EPS * scale)
            assert in_c.shape == in_numpy.shape and in_c.dtype == in_numpy.dtype
        else:
            assert in_c == pytest.approx(in_numpy, rel=1e-13), reduction
            assert isinstance(in_c, float)
    if not name.endswith("_grad"):
        per_element = loss(y, z, reduction="none")
        assert loss(y, z, reduction="sum") == pytest.approx(fsum(per_element), rel=1e-13)


def _pred_name(name):
    if name.startswith(("log_cosh", "barron")):
        return "y_pred"
    if name.startswith("multiclass"):
        return "scores"
    if "logits" in name or name.startswith("softmax"):
        return "z"
    return "p"  # (the losses on probabilities)


def _nan_cases():
    return [pytest.param(loss, data, _pred_name(name), id=name)
            for name, (loss, data, _) in LOSSES.items()]


@needs_fused
@pytest.mark.parametrize("loss, data, pred_name", _nan_cases())
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_are_named_in_c_as_in_numpy(loss, data, pred_name, bad):
    y, z = data(10_000)
    z = z.copy()
    z.reshape(-1)[4099] = bad
    for context in (mock.patch.object(_compute, "FUSED", fused), numpy_path()):
        with context, pytest.raises(ValueError, match=f"{pred_name} must be finite"):
            loss(y, z)


@needs_fused
@pytest.mark.parametrize("name", ["bce_with_logits", "focal_with_logits", "log_cosh",
                                  "barron", "bce_with_logits_grad"])
def test_bad_targets_are_named_in_c_as_in_numpy(name):
    loss, data, _ = LOSSES[name]
    y, z = data(10_000)
    y = y.copy()
    y[5000] = np.nan
    for context in (mock.patch.object(_compute, "FUSED", fused), numpy_path()):
        with context, pytest.raises(ValueError, match="y_true must be finite"):
            loss(y, z)
    if name.startswith(("bce", "focal")):
        y[5000] = 1.5
        for context in (mock.patch.object(_compute, "FUSED", fused), numpy_path()):
            with context, pytest.raises(ValueError, match="y_true"):
                loss(y, z)


@needs_fused
def test_bad_class_indices_are_named_in_c_as_in_numpy():
    idx, z = _rows_data(10_000)
    idx = idx.copy()
    idx[700] = 10
    for loss in (L.softmax_cross_entropy, L.softmax_cross_entropy_grad, L.multiclass_hinge):
        for context in (mock.patch.object(_compute, "FUSED", fused), numpy_path()):
            with context, pytest.raises(ValueError, match="y_true holds class indices outside"):
                loss(idx, z)


@needs_fused
@pytest.mark.parametrize("name", LOSSES)
def test_other_dtypes_and_layouts_take_the_numpy_path(name):
    loss, data, c_name = LOSSES[name]
    y, z = data(20_000, seed=5)
    expected = loss(y, z, reduction="sum")
    two_d = z.ndim == 2
    cases = {
        "float32": (y, z.astype(np.float32), 2e-6),
        "float16": (y, z.astype(np.float16), 2e-2),
        "strided": (y, np.repeat(z, 2, axis=-1)[..., ::2], 1e-13),
        "Fortran order": (y, np.asfortranarray(z), 1e-13),
    }
    if not two_d:
        cases["strided"] = (np.repeat(y, 2)[::2], np.repeat(z, 2)[::2], 1e-13)
    for case, (yy, zz, rtol) in cases.items():
        if case == "Fortran order" and not two_d:
            continue  # (a 1-D array is both)
        with mock.patch.object(fused, c_name, wraps=getattr(fused, c_name)) as called:
            got = loss(yy, zz, reduction="sum")
        assert called.call_count == 0, case
        if _pred_name(name) == "p" and (case == "float16" or case == "float32"
                                        and not name.startswith("cross_entropy")):
            # (p = 0 and 1 are clipped to bounds of p's dtype: probability_bounds)
            continue
        np.testing.assert_allclose(np.asarray(got, dtype=np.float64), expected, rtol=rtol,
                                   atol=rtol * np.abs(expected).max(), err_msg=case)


# --- binary_cross_entropy and focal on probabilities: checked and summed in C ---------------
def probability_terms(kind, y, p, lo, hi, gamma=2.0, a_pos=1.0, a_neg=1.0):
    c = np.clip(p, lo, hi)
    if kind == _compute.PROB_BCE:
        return -(y * np.log(c) + (1.0 - y) * np.log1p(-c))
    log_p_t = np.where(y == 1.0, np.log(c), np.log1p(-c))
    other = np.where(y == 1.0, 1.0 - c, c)
    return -np.where(y == 1.0, a_pos, a_neg) * other ** gamma * log_p_t


@needs_fused
@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**32 - 1), kind=st.sampled_from([0, 1]),
       eps=st.sampled_from([1e-12, 1e-3, 0.0]), gamma=st.sampled_from([0.0, 1.0, 2.0, 2.5]),
       alpha=st.sampled_from([None, 0.25]), soft=st.booleans(),
       flaw=st.sampled_from([None, None, "p<0", "p>1", "p nan", "y", "y nan"]))
def test_probability_sum_matches_numpy_and_flags_bad_input(n, seed, kind, eps, gamma, alpha,
                                                           soft, flaw):
    g = np.random.default_rng(seed)
    y = labels(g, n, soft and kind == _compute.PROB_BCE)
    p = g.uniform(0.0, 1.0, size=n) ** g.choice([1.0, 30.0])  # (some very small p)
    p[g.integers(n)] = g.choice([0.0, 1.0])
    i = g.integers(n)
    if flaw == "p<0":
        p[i] = -1e-300
    elif flaw == "p>1":
        p[i] = 1.0 + EPS
    elif flaw == "p nan":
        p[i] = np.nan
    elif flaw == "y":
        y[i] = 0.5 if kind == _compute.PROB_FOCAL else 1.0 + EPS
    elif flaw == "y nan":
        y[i] = np.nan
    lo, hi = probability_bounds(np.dtype(np.float64), eps)
    a_pos, a_neg = (1.0, 1.0) if alpha is None else (alpha, 1.0 - alpha)
    for on in _modes():
        previous = fused.vector_math(on)
        try:
            got, ok = fused.probability_sum(y, p, kind, gamma, a_pos, a_neg, float(lo), float(hi))
        finally:
            fused.vector_math(previous)
        assert ok is (flaw is None)
        if flaw is None:
            terms = probability_terms(kind, y, p, lo, hi, gamma, a_pos, a_neg)
            assert_sum(got, terms, rtol=(1 + gamma) * RTOL_SUM)


@needs_fused
@pytest.mark.parametrize("loss", [L.binary_cross_entropy, L.focal])
@pytest.mark.parametrize("where, bad, message", [
    ("y_true", np.nan, "y_true must be finite"),
    ("y_true", 0.5, "y_true must contain only 0 and 1"),  # (focal only)
    ("y_true", 1.5, "y_true must hold probabilities"),     # (bce; focal: only 0 and 1)
    ("p", np.nan, "p must be finite"),
    ("p", -0.1, "p must hold probabilities"),
    ("p", 1.1, "p must hold probabilities"),
])
def test_bad_labels_and_probabilities_are_named_in_c_as_in_numpy(loss, where, bad, message):
    if loss is L.binary_cross_entropy and bad == 0.5:
        return  # (a soft target: valid for the cross-entropy)
    if loss is L.focal and bad == 1.5:
        message = "y_true must contain only 0 and 1"
    y, p = _probability_data(10_000)
    (y if where == "y_true" else p)[4321] = bad
    for context in (mock.patch.object(_compute, "FUSED", fused), numpy_path()):
        with context, pytest.raises(ValueError, match=f"{loss.__name__}: {message}"):
            loss(y, p)
        # the arrays' errors first, whatever is wrong with the options, as before
        with context, pytest.raises(ValueError, match=f"{loss.__name__}: {message}"):
            loss(y, p, eps=0.7)


@needs_fused
@pytest.mark.parametrize("loss, options, message", [
    (L.binary_cross_entropy, {"eps": 0.5}, "eps must be"),
    (L.focal, {"eps": -1.0}, "eps must be"),
    (L.focal, {"gamma": -1.0}, "gamma must be"),
    (L.focal, {"alpha": 2.0}, "alpha must be"),
])
def test_bad_options_are_named_in_c_as_in_numpy(loss, options, message):
    y, p = _probability_data(10_000)
    for context in (mock.patch.object(_compute, "FUSED", fused), numpy_path()):
        with context, pytest.raises(ValueError, match=f"{loss.__name__}: {message}"):
            loss(y, p, **options)


# --- cross_entropy: its probability rows checked and its picks' logs summed in C -------------
@needs_fused
@SETTINGS
@given(rows=sizes, k=st.sampled_from([1, 2, 3, 10, 600]), seed=st.integers(0, 2**32 - 1),
       flaw=st.sampled_from([None, "sum", "negative", "nan", "inf", "near"]))
def test_probability_rows_ok_agrees_with_the_numpy_checks(rows, k, seed, flaw):
    from lossbook._validation import row_sum_tolerance
    rows = min(rows, 20_000 // k)
    g = np.random.default_rng(seed)
    p = special.softmax(g.normal(scale=3.0, size=(rows, k)), axis=1)
    row, col = g.integers(rows), g.integers(k)
    if flaw == "sum":
        p[row, col] += 1e-5
    elif flaw == "negative":  # a negative entry in a row that still sums to 1
        p[row, col] -= 0.5
        p[row, (col + 1) % k] += 0.5
    elif flaw in ("nan", "inf"):
        p[row, col] = np.nan if flaw == "nan" else np.inf
    elif flaw == "near":  # within the tolerance
        p[row, col] += 0.5e-6
    atol = row_sum_tolerance(p)
    sums = p.sum(axis=1)
    expected = bool(np.all(np.abs(sums - 1.0) <= atol) and p.min() >= 0.0)
    assert fused.probability_rows_ok(p, k, atol) is expected


@needs_fused
@SETTINGS
@given(rows=sizes, k=st.sampled_from([1, 2, 10, 600]), seed=st.integers(0, 2**32 - 1),
       lo=st.sampled_from([1e-12, 1e-3, 5e-324]))
def test_nll_sum_matches_numpy_logs(rows, k, seed, lo):
    rows = min(rows, 20_000 // k)
    g = np.random.default_rng(seed)
    p = special.softmax(g.normal(scale=10.0, size=(rows, k)), axis=1)
    p[g.integers(rows), :] = np.eye(k)[0]  # zeros and an exact 1
    idx = g.integers(0, k, size=rows)
    terms = -np.log(np.maximum(p[np.arange(rows), idx], lo))
    for on in _modes():
        previous = fused.vector_math(on)
        try:
            got = fused.nll_sum(idx, p, k, lo)
        finally:
            fused.vector_math(previous)
        assert_sum(got, terms)


@needs_fused
@pytest.mark.parametrize("loss", [L.cross_entropy, L.cross_entropy_grad])
@pytest.mark.parametrize("flaw, message", [
    ("sum", "each row of p must sum to 1"),
    ("negative", "p must hold probabilities in \\[0, 1\\]"),
    ("nan", "p must be finite"),
    ("inf", "p must be finite"),
])
def test_bad_probability_rows_are_named_in_c_as_in_numpy(loss, flaw, message):
    idx, p = _probability_rows_data(10_000)
    if flaw == "sum":
        p[503, 2] += 1e-3
    elif flaw == "negative":
        p[503, 2] -= 0.25
        p[503, 3] += 0.25
    else:
        p[503, 2] = np.nan if flaw == "nan" else np.inf
    with mock.patch.object(fused, "probability_rows_ok",
                           wraps=fused.probability_rows_ok) as called:
        with pytest.raises(ValueError, match=f"{loss.__name__}: {message}"):
            loss(idx, p)
    assert called.call_count == 1
    with numpy_path(), pytest.raises(ValueError, match=f"{loss.__name__}: {message}"):
        loss(idx, p)


@needs_fused
def test_the_c_functions_refuse_what_they_cannot_read():
    y, z = np.zeros(10), np.zeros(10)
    idx, rows = np.zeros(5, dtype=np.int64), np.zeros((5, 2))
    with pytest.raises(ValueError, match="kind must be"):
        fused.logit_sum(y, z, 3, 1.0, 0.0, 1.0, 1.0)
    with pytest.raises(TypeError, match="float64"):
        fused.logit_sum(y.astype(np.float32), z, 0, 1.0, 0.0, 1.0, 1.0)
    with pytest.raises(ValueError, match="same size"):
        fused.log_cosh_sum(y, np.zeros(11))
    with pytest.raises(ValueError, match="out must be"):
        fused.bce_logit_grad(y, z, 1.0, np.zeros(9))
    read_only = np.zeros(10)
    read_only.setflags(write=False)
    with pytest.raises((ValueError, BufferError)):
        fused.bce_logit_grad(y, z, 1.0, read_only)
    with pytest.raises(TypeError, match="int64"):
        fused.softmax_ce_sum(idx.astype(np.int32), rows, 2, 0.0)
    with pytest.raises(ValueError, match="k values for each index"):
        fused.softmax_ce_sum(idx, rows, 3, 0.0)
    with pytest.raises(ValueError, match="k .* must be >= 1"):
        fused.softmax_ce_sum(idx, rows, 0, 0.0)
    for bad in (-1, 2):
        idx[3] = bad
        with pytest.raises(ValueError, match=r"idx\[3\] is not a class index"):
            fused.softmax_ce_sum(idx, rows, 2, 0.0)
        with pytest.raises(ValueError, match=r"idx\[3\] is not a class index"):
            fused.softmax_ce_grad(idx, rows, 2, 0.0, 1.0, np.empty_like(rows))
    with pytest.raises(ValueError, match="kind must be 0 .* or 1"):
        fused.probability_sum(y, z, 2, 2.0, 1.0, 1.0, 1e-12, 1.0)
    with pytest.raises(ValueError, match="whole rows"):
        fused.probability_rows_ok(np.zeros(7), 2, 1e-6)
    with pytest.raises(ValueError, match=r"p must hold k values"):
        fused.nll_sum(np.zeros(5, dtype=np.int64), np.zeros(7), 2, 1e-12)
    with pytest.raises(ValueError, match=r"idx\[3\] is not a class index"):
        fused.nll_sum(idx, rows, 2, 1e-12)
    assert fused.logit_sum(np.zeros(0), np.zeros(0), 0, 1.0, 0.0, 1.0, 1.0) == 0.0
    assert fused.softmax_ce_sum(np.zeros(0, dtype=np.int64), np.zeros((0, 4)), 4, 0.0) == 0.0


# --- against torch, on sizes that take the C path -------------------------------------------
def _t(a, grad=False):
    return torch.tensor(np.asarray(a), requires_grad=grad)


@needs_fused
@pytest.mark.parametrize("n", [_compute.SMALL + 1, 100_003])
def test_against_torch(vector, n):
    y, z = _logit_data(n, seed=7)
    zt = _t(z, grad=True)
    loss = F.binary_cross_entropy_with_logits(zt, _t(y))
    loss.backward()
    assert L.binary_cross_entropy_with_logits(y, z) == pytest.approx(loss.item(), rel=1e-13)
    np.testing.assert_allclose(L.bce_with_logits_grad(y, z), zt.grad.numpy(), rtol=1e-12,
                               atol=4 * EPS / n)
    weighted = F.binary_cross_entropy_with_logits(_t(z), _t(y), pos_weight=_t(2.5))
    assert L.binary_cross_entropy_with_logits(y, z, pos_weight=2.5) == pytest.approx(
        weighted.item(), rel=1e-13)
    p = torch.sigmoid(_t(z))
    ce = F.binary_cross_entropy_with_logits(_t(z), _t(y), reduction="none")
    p_t = p * _t(y) + (1 - p) * (1 - _t(y))
    alpha_t = 0.25 * _t(y) + 0.75 * (1 - _t(y))
    focal = (alpha_t * ce * (1 - p_t) ** 2).mean()  # torchvision's sigmoid_focal_loss
    assert L.focal_with_logits(y, z, alpha=0.25) == pytest.approx(focal.item(), rel=1e-12)
    r = _t(z) - _t(y)
    assert L.log_cosh(y, z) == pytest.approx(torch.log(torch.cosh(r)).mean().item(), rel=1e-13)
    barron = (1.5 / 0.5 * ((r ** 2 / 1.5 + 1) ** 0.25 - 1)).mean()
    assert L.barron(y, z, alpha=0.5) == pytest.approx(barron.item(), rel=1e-12)
    idx, rows = _rows_data(n, seed=8)
    rows_t = _t(rows, grad=True)
    ce = F.cross_entropy(rows_t, torch.from_numpy(idx), label_smoothing=0.1)
    ce.backward()
    assert L.softmax_cross_entropy(idx, rows, label_smoothing=0.1) == pytest.approx(
        ce.item(), rel=1e-13)
    np.testing.assert_allclose(L.softmax_cross_entropy_grad(idx, rows, label_smoothing=0.1),
                               rows_t.grad.numpy(), rtol=1e-12, atol=4 * EPS / len(idx))


# --- without the extension at all -------------------------------------------------------------
#: Every loss that takes a C path, on inputs above SMALL: run here and in a process where
#: the extension cannot be imported.
EVERY_C_PATH = """
g = np.random.default_rng(0)
n = 30_000
y01, z = g.integers(0, 2, size=n).astype(float), g.normal(scale=3.0, size=n)
y, p = g.normal(size=n), g.uniform(0.0, 1.0, size=n)
idx, rows = g.integers(0, 10, size=n // 10), g.normal(size=(n // 10, 10))
e = np.exp(rows - rows.max(axis=1, keepdims=True))
probs = e / e.sum(axis=1, keepdims=True)
values = [L.mse(y, z), L.mae(y, z), L.huber(y, z), L.hinge(2 * y01 - 1, z),
          L.log_cosh(y, z), L.barron(y, z, alpha=0.5),
          L.binary_cross_entropy(y01, p), L.focal(y01, p),
          L.binary_cross_entropy_with_logits(y01, z), L.focal_with_logits(y01, z),
          L.cross_entropy(idx, probs), L.softmax_cross_entropy(idx, rows),
          L.multiclass_hinge(idx, rows), float(L.bce_with_logits_grad(y01, z).sum()),
          float(np.abs(L.softmax_cross_entropy_grad(idx, rows)).sum())]
"""


def test_the_losses_work_where_the_extension_cannot_be_imported():
    """As on a machine where it was not built: ``import lossbook.losses._fused`` fails, so
    ``FUSED`` is None and every loss takes its numpy path, with the same values as here."""
    import json
    import subprocess
    import sys
    code = ("import json, sys\n"
            "import numpy as np\n"
            "sys.modules['lossbook.losses._fused'] = None  # the import raises ImportError\n"
            "import lossbook.losses as L\n"
            "from lossbook.losses import _compute\n"
            + EVERY_C_PATH
            + "print(json.dumps({'fused': _compute.FUSED is not None, 'values': values}))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, timeout=120)
    result = json.loads(out.stdout)
    assert result["fused"] is False
    here = {"np": np, "L": L}  # with the extension, where it was built
    exec(EVERY_C_PATH, here)
    np.testing.assert_allclose(result["values"], here["values"], rtol=1e-12)
