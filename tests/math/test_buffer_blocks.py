"""The losses' block-by-block paths with preallocated ``out=`` buffers (issue 13).

``sum_blocks``, ``reduce_residual`` (with a summer) and ``grad_residual`` cut large inputs
into blocks of ``BUFFER_BLOCK`` values and reuse two or three scratch buffers; hinge and
squared_hinge also count their labels block by block. Checked here, with
``BUFFER_BLOCK`` and ``SMALL`` made tiny so that hypothesis reaches every boundary
(sizes 1, block − 1, block, block + 1, several blocks): against the per-element formula
summed with ``math.fsum``; for non-contiguous and float32 inputs; the same bits on every
call and for a strided view as for its copy; errors for bad labels or NaN in any block;
empty input and shapes that would broadcast still refused. At the real block size the
same paths are held to PyTorch's CPU losses and autograd (float64).
"""
import contextlib
import math
import os
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import lossbook.losses as L
from lossbook.losses import _compute, margin, regression

SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    derandomize=bool(os.environ.get("CI")))
EPS = float(np.finfo(np.float64).eps)
B = 16  # BUFFER_BLOCK in the hypothesis tests
sizes = st.one_of(st.sampled_from([1, 2, B - 1, B, B + 1, 2 * B - 1, 2 * B, 2 * B + 1, 5 * B + 3]),
                  st.integers(1, 7 * B))


@contextlib.contextmanager
def tiny_blocks():
    """Every input above 4 values takes the numpy buffered paths, in blocks of B values; yields
    the number of blocks cut so far (``blocks()``), to show that they were taken."""
    cut = []

    def counting(step):  # wraps _compute's two block generators
        def wrapper(*args, **kwargs):
            for item in step(*args, **kwargs):
                cut.append(1)
                yield item
        return wrapper

    def counting_sum_blocks(summer, *arrays, n_scratch=2):
        def counted(*blocks):
            cut.append(1)
            return summer(*blocks)
        return _compute.sum_blocks(counted, *arrays, n_scratch=n_scratch)

    with contextlib.ExitStack() as stack:
        for module in (_compute, regression, margin):
            stack.enter_context(mock.patch.object(module, "SMALL", 4))
        stack.enter_context(mock.patch.object(_compute, "BUFFER_BLOCK", B))
        stack.enter_context(mock.patch.object(_compute, "BLOCK", B))
        # the numpy paths, as where the C sums were not built (those: test_fused.py)
        stack.enter_context(mock.patch.object(_compute, "FUSED", None))
        stack.enter_context(mock.patch.object(_compute, "_flat_blocks",
                                              counting(_compute._flat_blocks)))
        stack.enter_context(mock.patch.object(margin, "sum_blocks", counting_sum_blocks))
        yield lambda: len(cut)


def fsum(values) -> float:
    return math.fsum(np.asarray(values, dtype=np.float64).ravel().tolist())


def huber_terms(r, delta):
    a = np.abs(r)
    return np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))


#: name -> (per-element loss of the residual r (regression) or of (y, s), gradient of the sum)
REGRESSION = {
    "mse": (lambda r: r * r, lambda r: 2 * r, {}),
    "mae": (np.abs, np.sign, {}),
    "huber": (lambda r: huber_terms(r, 0.7), lambda r: np.clip(r, -0.7, 0.7), {"delta": 0.7}),
    "log_cosh": (lambda r: np.log1p(2 * np.sinh(r / 2) ** 2), np.tanh, {}),  # no cancellation
}
MARGIN = {
    "hinge": (lambda y, s: np.maximum(0, 1 - y * s), lambda y, s: np.where(y * s < 1, -y, 0.0)),
    "squared_hinge": (lambda y, s: np.maximum(0, 1 - y * s) ** 2,
                      lambda y, s: -2 * y * np.maximum(0, 1 - y * s)),
}


def regression_data(n, seed, dtype=np.float64):
    g = np.random.default_rng(seed)
    return g.normal(size=n).astype(dtype), g.normal(scale=2.0, size=n).astype(dtype)


def margin_data(n, seed):
    g = np.random.default_rng(seed)
    return np.where(g.uniform(size=n) < 0.5, -1.0, 1.0), g.normal(scale=1.5, size=n)


def check_sum(got, terms, absolute=0.0):
    """``got`` within a pairwise/BLAS sum's error of the exact sum, plus ``absolute``."""
    exact = fsum(terms)
    bound = 4 * terms.size * EPS * fsum(np.abs(terms)) + absolute + 1e-300
    assert abs(got - exact) <= bound, (got, exact)


@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**16), name=st.sampled_from(sorted(REGRESSION)))
def test_regression_sums_and_gradients_across_block_boundaries(n, seed, name):
    terms, grad_terms, kw = REGRESSION[name]
    y, p = regression_data(n, seed)
    loss, grad = getattr(L, name), getattr(L, name + "_grad")
    with tiny_blocks() as blocks:
        total, mean = loss(y, p, reduction="sum", **kw), loss(y, p, **kw)
        g_sum, g_mean = grad(y, p, reduction="sum", **kw), grad(y, p, **kw)
    assert blocks() >= (4 * -(-n // B) if n > 4 else 0)  # two sums, two gradients
    # log cosh r is computed as |r| − log 2 + log1p(e^{−2|r|}), exact to a few ε·(|r| + 1)
    # absolute per element (not relative: the form cancels for small r)
    check_sum(total, terms(p - y), 8 * EPS * fsum(np.abs(p - y) + 1) if name == "log_cosh" else 0)
    assert mean == pytest.approx(total / n, rel=4 * EPS)
    np.testing.assert_allclose(g_sum, grad_terms(p - y), rtol=4 * EPS, atol=0)
    np.testing.assert_allclose(g_mean, grad_terms(p - y) / n, rtol=4 * EPS, atol=0)


@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**16), name=st.sampled_from(sorted(MARGIN)))
def test_margin_sums_across_block_boundaries(n, seed, name):
    terms, grad_terms = MARGIN[name]
    y, s = margin_data(n, seed)
    with tiny_blocks() as blocks:
        total = getattr(L, name)(y, s, reduction="sum")
        g = getattr(L, name + "_grad")(y, s, reduction="sum")
    assert blocks() == (-(-n // B) if n > 4 else 0)
    check_sum(total, terms(y, s))
    np.testing.assert_allclose(g, grad_terms(y, s), rtol=4 * EPS, atol=0)


@SETTINGS
@given(n=sizes, seed=st.integers(0, 2**16), step=st.integers(2, 3),
       name=st.sampled_from(sorted(REGRESSION) + sorted(MARGIN)))
def test_strided_views_give_the_bits_of_their_copies_every_time(n, seed, step, name):
    if name in MARGIN:
        y, p = margin_data(n * step, seed)
    else:
        y, p = regression_data(n * step, seed)
    y_view, p_view = y[::step], p[::step]
    assert not p_view.flags.c_contiguous or n == 1
    fn, grad = getattr(L, name), getattr(L, name + "_grad")
    with tiny_blocks():
        for reduction in ("mean", "sum"):
            first = fn(y_view, p_view, reduction=reduction)
            assert fn(y_view, p_view, reduction=reduction) == first  # deterministic
            assert fn(y_view.copy(), p_view.copy(), reduction=reduction) == first
            np.testing.assert_array_equal(grad(y_view, p_view, reduction=reduction),
                                          grad(y_view.copy(), p_view.copy(), reduction=reduction))


@pytest.mark.parametrize("name", sorted(REGRESSION) + sorted(MARGIN))
def test_two_dimensional_and_fortran_inputs(name):
    n = 3 * B + 2
    if name in MARGIN:
        y, p = margin_data(2 * n, 7)
    else:
        y, p = regression_data(2 * n, 7)
    y2, p2 = y.reshape(2, n), p.reshape(2, n)
    yt, pt = np.asfortranarray(y2.T), np.asfortranarray(p2.T)  # (n, 2), not C-contiguous
    fn, grad = getattr(L, name), getattr(L, name + "_grad")
    with tiny_blocks():
        assert fn(yt, pt, reduction="sum") == pytest.approx(fn(y, p, reduction="sum"), rel=1e-13)
        g = grad(yt, pt, reduction="sum")
        assert g.shape == (n, 2)
        np.testing.assert_array_equal(g, grad(y2, p2, reduction="sum").T)


@pytest.mark.parametrize("name", sorted(REGRESSION))
@pytest.mark.parametrize("n", [1, B - 1, B, B + 1, 4 * B + 1])
def test_float32_stays_float32_and_close_to_float64(name, n):
    _, _, kw = REGRESSION[name]
    y, p = regression_data(n, 3, np.float32)
    fn, grad = getattr(L, name), getattr(L, name + "_grad")
    with tiny_blocks():
        g32 = grad(y, p, **kw)
        assert g32.dtype == np.float32
        total = fn(y, p, reduction="sum", **kw)
        y64, p64 = y.astype(np.float64), p.astype(np.float64)
        np.testing.assert_allclose(g32, grad(y64, p64, **kw), rtol=2e-6, atol=1e-7 / n)
        assert total == pytest.approx(fn(y64, p64, reduction="sum", **kw), rel=2e-5, abs=1e-6)


@pytest.mark.parametrize("offset", [0, B // 2, B - 1])
@pytest.mark.parametrize("block", [0, 1, 2, 5])
@pytest.mark.parametrize("name", sorted(MARGIN))
def test_a_bad_label_in_any_block_gets_the_label_error(name, block, offset):
    y, s = margin_data(6 * B, 5)
    y[block * B + offset] = 0.0
    with tiny_blocks(), pytest.raises(ValueError, match=rf"{name}: y_true must contain only -1 "
                                                          r"and \+1, got values \{-1, 0, 1\}; "
                                                          r"map the negative class to -1"):
        getattr(L, name)(y, s)
    y[block * B + offset] = np.nan
    s[0] = np.nan  # the labels' error comes first, as before the labels were counted by block
    with tiny_blocks(), \
            pytest.raises(ValueError, match=f"{name}: y_true must be finite, got 1 NaN"):
        getattr(L, name)(y, s)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("name", sorted(REGRESSION) + sorted(MARGIN))
def test_non_finite_in_the_last_block_is_refused(name, bad):
    n = 3 * B + 1  # the last block holds one value
    if name in MARGIN:
        y, p = margin_data(n, 9)
        where = "scores"
    else:
        y, p = regression_data(n, 9)
        where = "y_pred"
    p[-1] = bad
    with tiny_blocks():
        with pytest.raises(ValueError, match=f"{name}: {where} must be finite"):
            getattr(L, name)(y, p)
        with pytest.raises(ValueError, match=f"{name}_grad: {where} must be finite"):
            getattr(L, name + "_grad")(y, p)


@pytest.mark.parametrize("name", sorted(REGRESSION) + sorted(MARGIN))
def test_empty_and_broadcasting_shapes_still_refused(name):
    fn = getattr(L, name)
    with pytest.raises(ValueError, match="is empty"):
        fn(np.zeros(0), np.zeros(0))
    y, p = (margin_data(5 * B, 1) if name in MARGIN else regression_data(5 * B, 1))
    with tiny_blocks():
        with pytest.raises(ValueError, match="shape"):
            fn(y, p.reshape(1, -1))  # would broadcast to (5B, 5B): refused, not summed
        with pytest.raises(ValueError, match="shape"):
            fn(y[:1], p)


# ---------------------------------------------------------------------------
# At the real block size, against PyTorch (float64 CPU, autograd for the gradients).
# ---------------------------------------------------------------------------
def test_real_blocks_match_torch():
    torch = pytest.importorskip("torch", reason="PyTorch cross-checks: CI installs torch")
    F = torch.nn.functional
    n = 2 * _compute.BUFFER_BLOCK + 3
    y, p = regression_data(n, 11)
    ys, s = margin_data(n, 12)
    regression = {
        "mse": lambda x, t: F.mse_loss(x, t, reduction="sum"),
        "mae": lambda x, t: F.l1_loss(x, t, reduction="sum"),
        "huber": lambda x, t: F.huber_loss(x, t, delta=0.7, reduction="sum"),
        "log_cosh": lambda x, t: torch.log(torch.cosh(x - t)).sum(),
    }
    margin = {
        "hinge": lambda x, t: torch.clamp(1 - t * x, min=0).sum(),
        "squared_hinge": lambda x, t: (torch.clamp(1 - t * x, min=0) ** 2).sum(),
    }
    for name, ref in [*regression.items(), *margin.items()]:
        target, pred = (ys, s) if name in margin else (y, p)
        kw = REGRESSION[name][2] if name in REGRESSION else {}
        x = torch.tensor(pred, requires_grad=True)
        value = ref(x, torch.tensor(target))
        value.backward()
        assert getattr(L, name)(target, pred, reduction="sum", **kw) == pytest.approx(
            value.item(), rel=1e-12), name
        np.testing.assert_allclose(getattr(L, name + "_grad")(target, pred, reduction="sum", **kw),
                                   x.grad.numpy(), rtol=1e-12, atol=1e-300, err_msg=name)
