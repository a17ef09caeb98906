"""The one-pass C sums (lossbook/losses/_fused.c, built by setup.py; issue 13).

``huber(reduction="mean" | "sum")`` of more than ``SMALL`` C-contiguous float64 values is
summed in C (so are hinge, squared_hinge, mse and mae: their tests follow huber's). Checked here: the extension was built (CI must build it: where it is not, this
skips, and ``LOSSBOOK_NO_SKIPS=1`` makes that a failure); against the per-element formula
summed with ``math.fsum`` at every remainder of its 8 lanes and 4096-value chunks
(hypothesis), at huge and tiny residuals; against the numpy path that installs without a C
compiler; NaN/inf in either input still named; float32, strided and non-contiguous inputs
take the numpy path; the function's own argument checks.
"""
import math
import os
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook.losses as L
from lossbook.losses import _compute

SETTINGS = settings(max_examples=60, deadline=None, database=None,
                    derandomize=bool(os.environ.get("CI")))
EPS = float(np.finfo(np.float64).eps)
CHUNK = 4096

fused = _compute.FUSED
needs_fused = pytest.mark.skipif(
    fused is None, reason="lossbook.losses._fused was not built (no C compiler when the "
                          "course was installed): run `pip install -e .` with one")


def huber_fsum(y, p, delta):
    r = np.asarray(p, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    a = np.abs(r)
    m = np.minimum(a, delta)
    return math.fsum((m * (a - 0.5 * m)).ravel().tolist())


def numpy_path():
    return mock.patch.object(_compute, "FUSED", None)


@needs_fused
def test_the_extension_is_built_and_is_what_huber_uses():
    y, p = np.zeros(5000), np.full(5000, 3.0)
    with mock.patch.object(fused, "huber_sum", wraps=fused.huber_sum) as called:
        with mock.patch.object(_compute, "FUSED", mock.Mock(huber_sum=called)):
            assert L.huber(y, p) == 2.5
    called.assert_called_once()


sizes = st.one_of(st.sampled_from([1, 7, 8, 9, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK + 7]),
                  st.integers(1, 3 * CHUNK))


@needs_fused
@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**32 - 1),
       delta=st.sampled_from([1e-3, 0.7, 1.0, 5.0]),
       scale=st.sampled_from([1e-9, 1.0, 1e3, 1e150]))
def test_huber_sum_matches_fsum_at_every_remainder(n, seed, delta, scale):
    g = np.random.default_rng(seed)
    y, p = g.normal(scale=scale, size=n), g.normal(scale=scale, size=n)
    exact = huber_fsum(y, p, delta)
    got = fused.huber_sum(y, p, delta)
    # terms are >= 0: each chunk's 8 lanes add at most CHUNK / 8 roundings, the chunks are
    # added with compensation
    assert abs(got - exact) <= (CHUNK / 8 + 4) * EPS * exact


@needs_fused
@pytest.mark.parametrize("n", [2049, 10**5, 10**6 + 3])
@pytest.mark.parametrize("delta", [0.3, 1.0])
def test_huber_takes_the_same_value_in_c_and_in_numpy(n, delta):
    g = np.random.default_rng(n)
    y, p = g.normal(size=n), g.normal(scale=2.0, size=n)
    exact = huber_fsum(y, p, delta)
    for reduction, scale in (("sum", 1.0), ("mean", 1.0 / n)):
        in_c = L.huber(y, p, delta=delta, reduction=reduction)
        with numpy_path():
            in_numpy = L.huber(y, p, delta=delta, reduction=reduction)
        assert in_c == pytest.approx(exact * scale, rel=4 * EPS)
        assert in_numpy == pytest.approx(exact * scale, rel=16 * EPS)
    assert L.huber(y, p, delta=delta, reduction="sum") == L.huber(y, p, delta=delta,
                                                                 reduction="sum")


@needs_fused
@pytest.mark.parametrize("name", ["huber", "mse", "mae"])
@pytest.mark.parametrize("where", ["y_true", "y_pred"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("index", [0, 4099, 9999])
def test_nan_and_inf_are_named_in_c_as_in_numpy(name, where, bad, index):
    y, p = np.zeros(10_000), np.ones(10_000)
    (y if where == "y_true" else p)[index] = bad
    for context in (mock.patch.object(_compute, "FUSED", fused), numpy_path()):
        with context, pytest.raises(ValueError, match=f"{name}: {where} must be finite"):
            getattr(L, name)(y, p)


@needs_fused
def test_huge_finite_residuals_overflow_to_inf_as_in_numpy():
    y, p = np.full(5000, -1e308), np.full(5000, 1e308)
    assert L.huber(y, p) == np.inf
    with numpy_path():
        assert L.huber(y, p) == np.inf


def test_other_dtypes_and_layouts_take_the_numpy_path():
    g = np.random.default_rng(1)
    y, p = g.normal(size=(3000, 4)), g.normal(size=(3000, 4))
    exact = huber_fsum(y, p, 1.0)
    cases = {
        "float32": (y.astype(np.float32), p.astype(np.float32)),
        "strided": (y[:, ::2], p[:, ::2]),
        "Fortran order": (np.asfortranarray(y), np.asfortranarray(p)),
        "mixed": (y.astype(np.float32), p),
    }
    assert not _compute.fusable(*cases["float32"])
    assert not _compute.fusable(*cases["strided"])
    assert not _compute.fusable(*cases["Fortran order"])
    for name, (yy, pp) in cases.items():
        expected = huber_fsum(yy, pp, 1.0) if name == "strided" else exact
        rel = 1e-6 if "float32" in name or name == "mixed" else 16 * EPS
        assert L.huber(yy, pp, reduction="sum") == pytest.approx(expected, rel=rel), name


@needs_fused
def test_huber_sum_refuses_what_it_cannot_read():
    y = np.zeros(10)
    with pytest.raises(TypeError, match="float64"):
        fused.huber_sum(y.astype(np.float32), y, 1.0)
    with pytest.raises(ValueError, match="same size"):
        fused.huber_sum(y, np.zeros(11), 1.0)
    with pytest.raises(ValueError, match="C-contiguous"):
        fused.huber_sum(np.zeros((4, 4))[:, ::2], np.zeros(8), 1.0)
    with pytest.raises(TypeError):
        fused.huber_sum([0.0], [1.0], 1.0)
    assert fused.huber_sum(np.zeros(0), np.zeros(0), 1.0) == 0.0


# --- hinge and squared_hinge: margin_sum ----------------------------------------------------
def hinge_fsum(y, s, squared):
    with np.errstate(over="ignore"):
        h = np.maximum(0.0, 1.0 - np.asarray(y, dtype=np.float64) * np.asarray(s))
        return math.fsum((h * h if squared else h).ravel().tolist())


@needs_fused
@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**32 - 1), squared=st.booleans(),
       scale=st.sampled_from([1e-9, 1.0, 3.0, 1e100]))
def test_margin_sum_matches_fsum_and_counts_the_labels(n, seed, squared, scale):
    g = np.random.default_rng(seed)
    y = g.choice([-1.0, 1.0], size=n)
    if g.random() < 0.5:  # one label that is not ±1 (as close as a double can be, or NaN)
        y[g.integers(n)] = g.choice([0.0, 0.5, 1.0 + EPS, 1.0 - EPS / 2, -1.0 - EPS, np.nan,
                                     np.inf, 1e200])
    s = g.normal(scale=scale, size=n)
    total, signed = fused.margin_sum(y, s, squared)
    assert signed == (np.count_nonzero(np.abs(y) == 1.0) == n)
    with np.errstate(invalid="ignore", over="ignore"):
        margins_finite = np.isfinite(y * s).all()
    if not margins_finite:
        assert math.isnan(total)  # a NaN or infinite margin, which max(0, ·) may hide
    else:
        exact = hinge_fsum(y, s, squared)
        if math.isinf(exact):  # (a label of 1e200, squared)
            assert total == exact
        else:
            assert abs(total - exact) <= (CHUNK / 4 + 4) * EPS * exact  # 4 lanes here


@needs_fused
@pytest.mark.parametrize("name", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("n", [2049, 10**5 + 1])
def test_hinge_takes_the_same_value_in_c_and_in_numpy(name, n):
    g = np.random.default_rng(n)
    y, s = g.choice([-1.0, 1.0], size=n), g.normal(scale=2.0, size=n)
    exact = hinge_fsum(y, s, name == "squared_hinge")
    loss = getattr(L, name)
    for reduction, scale in (("sum", 1.0), ("mean", 1.0 / n)):
        in_c = loss(y, s, reduction=reduction)
        with numpy_path():
            in_numpy = loss(y, s, reduction=reduction)
        assert in_c == pytest.approx(exact * scale, rel=4 * EPS)
        assert in_numpy == pytest.approx(exact * scale, rel=16 * EPS)


@needs_fused
@pytest.mark.parametrize("name", ["hinge", "squared_hinge"])
@pytest.mark.parametrize("label, score, message", [
    (0.0, 1.0, "y_true must contain only -1 and \\+1"),
    (np.nan, 1.0, "y_true must be finite"),
    (1.0, np.nan, "scores must be finite"),
    (1.0, np.inf, "scores must be finite"),   # margin +inf: hinge 0, the inf hidden
    (1.0, -np.inf, "scores must be finite"),
    (-1.0, np.inf, "scores must be finite"),
])
@pytest.mark.parametrize("index", [0, 4100])
def test_bad_labels_and_scores_are_named_in_c_as_in_numpy(name, label, score, message, index):
    y, s = np.ones(10_000), np.zeros(10_000)
    y[index], s[index] = label, score
    for context in (mock.patch.object(_compute, "FUSED", fused), numpy_path()):
        with context, pytest.raises(ValueError, match=f"{name}: {message}"):
            getattr(L, name)(y, s)


@needs_fused
@pytest.mark.filterwarnings("ignore:overflow encountered")  # the numpy sum's, as before
def test_margin_sum_of_huge_finite_scores_overflows_as_in_numpy():
    y, s = np.ones(5000), np.full(5000, -1e308)
    assert L.hinge(y, s, reduction="sum") == np.inf
    with numpy_path():
        assert L.hinge(y, s, reduction="sum") == np.inf


# --- mse and mae: squared_sum, absolute_sum -------------------------------------------------
def residual_fsum(y, p, squared):
    r = np.asarray(p, dtype=np.float64) - np.asarray(y, dtype=np.float64)
    return math.fsum((r * r if squared else np.abs(r)).ravel().tolist())


@needs_fused
@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**32 - 1), squared=st.booleans(),
       scale=st.sampled_from([1e-150, 1e-9, 1.0, 1e3, 1e150]))
def test_residual_sums_match_fsum_at_every_remainder(n, seed, squared, scale):
    g = np.random.default_rng(seed)
    y, p = g.normal(scale=scale, size=n), g.normal(scale=scale, size=n)
    exact = residual_fsum(y, p, squared)
    got = (fused.squared_sum if squared else fused.absolute_sum)(y, p)
    assert abs(got - exact) <= (CHUNK / 8 + 4) * EPS * exact


@needs_fused
@pytest.mark.parametrize("name, c_name", [("mse", "squared_sum"), ("mae", "absolute_sum")])
@pytest.mark.parametrize("n", [2049, 10**5 + 3])
def test_mse_and_mae_take_the_same_value_in_c_and_in_numpy(name, c_name, n):
    g = np.random.default_rng(n)
    y, p = g.normal(size=n), g.normal(scale=2.0, size=n)
    exact = residual_fsum(y, p, name == "mse")
    loss = getattr(L, name)
    for reduction, scale in (("sum", 1.0), ("mean", 1.0 / n)):
        with mock.patch.object(fused, c_name, wraps=getattr(fused, c_name)) as called:
            in_c = loss(y, p, reduction=reduction)
        called.assert_called_once()
        with numpy_path():
            in_numpy = loss(y, p, reduction=reduction)
        assert in_c == pytest.approx(exact * scale, rel=4 * EPS)
        assert in_numpy == pytest.approx(exact * scale, rel=16 * EPS)
    with mock.patch.object(fused, c_name, wraps=getattr(fused, c_name)) as called:
        loss(y[:2048], p[:2048])  # up to SMALL values: the whole-array formula
        loss(y, p, reduction="none")
    called.assert_not_called()


@needs_fused
@pytest.mark.filterwarnings("ignore:overflow encountered")  # the numpy sum's, as before
def test_residual_sums_of_huge_finite_values_overflow_to_inf_as_in_numpy():
    y, p = np.full(5000, -1e308), np.full(5000, 1e308)
    for name in ("mse", "mae"):
        assert getattr(L, name)(y, p) == np.inf
        with numpy_path():
            assert getattr(L, name)(y, p) == np.inf
