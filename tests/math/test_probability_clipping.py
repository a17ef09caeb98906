"""Clipping of the probability losses in every float dtype.

``binary_cross_entropy``, ``focal`` (and their gradients) clip ``p`` to ``[eps, 1 − eps]``
and ``cross_entropy`` to ``[eps, 1]``. Clipping in ``p``'s own dtype used to round
``1 − 1e-12`` to 1 in float32 (and 1e-12 to 0 in float16): a wrong answer at ``p = 1``
then cost ``inf`` and a right one ``0·log 0 = NaN``. The bounds now come from
:func:`lossbook.losses.classification.probability_bounds`; these tests pin them, compare
with PyTorch at the clipped ``p`` and check with hypothesis that every loss and gradient
stays finite, non-negative and capped in float16, float32 and float64.
"""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lossbook.losses as L
from lossbook.losses.classification import EPS, probability_bounds
from lazymodules import lazy

# Imported on first use: the tests that compare with PyTorch are marked slow (root conftest.py)
torch = lazy("torch")
F = lazy("torch.nn.functional")

DTYPES = [np.float16, np.float32, np.float64]
SETTINGS = settings(max_examples=60, deadline=None, database=None)


def test_bounds_are_eps_in_float64_and_representable_elsewhere():
    assert probability_bounds(np.dtype(np.float64), EPS) == (1e-12, 1.0 - 1e-12)
    lo, hi = probability_bounds(np.dtype(np.float32), EPS)
    assert lo == np.float32(1e-12) and hi == np.float32(1.0 - 2.0 ** -24)
    lo, hi = probability_bounds(np.dtype(np.float16), EPS)
    assert lo == np.float16(2.0 ** -14) and hi == np.float16(1.0 - 2.0 ** -11)
    for dtype in DTYPES:
        for eps in (0.0, 1e-300, EPS, 1e-3, 0.25):
            lo, hi = probability_bounds(np.dtype(dtype), eps)
            assert lo.dtype == hi.dtype == np.dtype(dtype)
            assert 0.0 < lo < hi < 1.0
            assert np.isfinite(np.float64(1.0) / lo) and np.isfinite(np.float64(1.0) / (1.0 - hi))
            if eps >= np.finfo(dtype).epsneg:  # a margin the dtype can hold is used as given
                assert hi == np.asarray(1.0 - eps).astype(dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_the_float32_bug_cases(dtype):
    """Right and wrong answers at p = 0 and p = 1: finite, the right ones tiny."""
    y = np.array([1, 0, 0, 1], dtype=dtype)
    p = np.array([1, 0, 1, 0], dtype=dtype)
    lo, hi = probability_bounds(np.dtype(dtype), EPS)
    with np.errstate(all="raise", under="ignore"):
        for loss in (L.binary_cross_entropy, L.focal):
            out = loss(y, p, reduction="none")
            assert out.dtype == np.dtype(dtype) and np.all(np.isfinite(out))
            assert np.all(out[:2] <= -np.log1p(-np.float64(hi)) * 1.01)
            assert out[2] == pytest.approx(-math.log1p(-float(hi)), rel=2e-3)
            assert out[3] == pytest.approx(-math.log(float(lo)), rel=2e-3)
        for grad in (L.binary_cross_entropy_grad, L.focal_grad):
            assert np.all(np.isfinite(grad(y, p, reduction="none")))
        rows = np.array([[1, 0], [0, 1]], dtype=dtype)
        assert np.all(np.isfinite(L.cross_entropy([0, 0], rows, reduction="none")))
        assert np.all(np.isfinite(L.cross_entropy(rows[[0, 0]], rows, reduction="none")))
        assert np.all(np.isfinite(L.cross_entropy_grad([0, 0], rows, reduction="none")))


def _torch_clipped(p, dtype):
    lo, hi = probability_bounds(np.dtype(dtype), EPS)
    return torch.tensor(np.clip(np.asarray(p, dtype=dtype), lo, hi))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_bce_matches_torch_at_the_clipped_p(dtype, reduction):
    rng = np.random.default_rng(3)
    p = rng.uniform(0, 1, 64).astype(dtype)
    p[:8] = [0, 1, 0, 1, 1e-30, 1 - 1e-9, 1e-12, 1e-7]
    y = rng.integers(0, 2, 64).astype(dtype)
    y[:4] = [0, 0, 1, 1]
    y[8:12] = [0.3, 0.7, 0.5, 1.0]  # soft targets
    x = _torch_clipped(p, dtype).requires_grad_(True)
    ref = F.binary_cross_entropy(x, torch.tensor(y), reduction=reduction)
    (ref.sum() if reduction == "none" else ref).backward()
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(L.binary_cross_entropy(y, p, reduction=reduction),
                               ref.detach().numpy(), rtol=rtol)
    # torch's backward divides by max(p(1 − p), 1e-12): at float64's clip points
    # p(1 − p) ≈ 1e-12 and that clamp moves the last digits, so those are compared with
    # the formula (p − y) / (p(1 − p)) instead
    grad = L.binary_cross_entropy_grad(y, p, reduction=reduction)
    pc = x.detach().numpy().astype(np.float64)
    free = pc * (1 - pc) > 2e-12
    np.testing.assert_allclose(grad[free], x.grad.numpy()[free], rtol=rtol)
    scale = 1 / p.size if reduction == "mean" else 1.0
    np.testing.assert_allclose(grad[~free], ((pc - y) / (pc * (1 - pc)) * scale)[~free], rtol=rtol)


def _torch_focal(x, y, gamma, alpha):
    # log p_t with log1p for negatives: log(1 − p) loses p's digits for p ≈ 1e-12
    log_p_t = torch.where(y == 1, torch.log(x), torch.log1p(-x))
    other = torch.where(y == 1, 1 - x, x)  # 1 − p_t
    a_t = torch.where(y == 1, alpha, 1 - alpha)
    return -a_t * other ** gamma * log_p_t


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("gamma", [0.0, 2.0, 0.5])
def test_focal_matches_torch_at_the_clipped_p(dtype, gamma):
    rng = np.random.default_rng(5)
    p = rng.uniform(0, 1, 64).astype(dtype)
    p[:6] = [0, 1, 0, 1, 1e-30, 1 - 1e-9]
    y = rng.integers(0, 2, 64).astype(dtype)
    y[:4] = [0, 0, 1, 1]
    # torch in float64 from the clipped p (float32's (1 − p)^γ near 1 is what is compared)
    x = torch.tensor(np.asarray(_torch_clipped(p, dtype).numpy(), np.float64), requires_grad=True)
    ref = _torch_focal(x, torch.tensor(y, dtype=torch.float64), gamma, 0.25)
    ref.sum().backward()
    rtol = 1e-5 if dtype == np.float32 else 1e-11
    np.testing.assert_allclose(L.focal(y, p, gamma=gamma, alpha=0.25, reduction="none"),
                               ref.detach().numpy(), rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(L.focal_grad(y, p, gamma=gamma, alpha=0.25, reduction="none"),
                               x.grad.numpy(), rtol=rtol * 10, atol=1e-30)


def _case(dtype):
    probs = st.one_of(st.sampled_from([0.0, 1.0, 1e-12, 1 - 1e-12, 0.5]),
                      st.floats(0.0, 1.0, width=np.finfo(dtype).bits))
    return st.tuples(arrays(dtype, st.integers(1, 12), elements=probs),
                     st.floats(0.0, 0.4) | st.sampled_from([0.0, EPS]),
                     st.sampled_from([0.0, 0.5, 2.0, 3.0]))


@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(data=st.data())
def test_clipped_losses_are_finite_and_capped(dtype, data):
    p, eps, gamma = data.draw(_case(dtype))
    y = data.draw(arrays(dtype, p.shape, elements=st.sampled_from([0.0, 1.0])))
    lo, hi = (float(b) for b in probability_bounds(np.dtype(dtype), eps))
    cap = max(-math.log(lo), -math.log1p(-hi)) * 1.01
    with np.errstate(all="raise", under="ignore"):
        bce = L.binary_cross_entropy(y, p, eps=eps, reduction="none")
        fl = L.focal(y, p, eps=eps, gamma=gamma, reduction="none")
        grads = [L.binary_cross_entropy_grad(y, p, eps=eps, reduction="none"),
                 L.focal_grad(y, p, eps=eps, gamma=gamma, reduction="none")]
    for out in [bce, fl, *grads]:
        assert np.all(np.isfinite(out)), (p, y, eps, out)
    b64, f64 = bce.astype(np.float64), fl.astype(np.float64)
    assert np.all((b64 >= 0) & (b64 <= cap))
    assert np.all((f64 >= 0) & (f64 <= b64 * 1.01 + 1e-30))  # (1 − p_t)^γ ≤ 1
    right = (y == 1) & (p == 1) | (y == 0) & (p == 0)
    assert np.all(b64[right] <= max(-math.log1p(-hi), -math.log1p(-lo)) * 1.01)
    # the gradient points the right way: down for a positive, up for a negative
    g = grads[0]
    assert np.all(g[y == 1] < 0) and np.all(g[y == 0] > 0)


@pytest.mark.parametrize("dtype", DTYPES)
@SETTINGS
@given(data=st.data())
def test_cross_entropy_is_finite_in_every_dtype(dtype, data):
    rows = data.draw(arrays(dtype, (3, 4), elements=st.sampled_from([0.0, 1.0])))
    rows[:, 0] = 1.0 - rows[:, 1:].max(axis=1)  # one-hot or all-zero: make each row one-hot
    rows[:, 1:] *= rows[:, 1:].cumsum(axis=1) == 1
    rows[:, 0] = 1.0 - rows[:, 1:].sum(axis=1)
    target = data.draw(arrays(np.int64, 3, elements=st.integers(0, 3)))
    with np.errstate(all="raise", under="ignore"):
        outs = [L.cross_entropy(target, rows, reduction="none"),
                L.cross_entropy(rows[::-1].copy(), rows, reduction="none"),
                L.cross_entropy_grad(target, rows, reduction="none")]
    for out in outs:
        assert np.all(np.isfinite(out))
    cap = -math.log(float(probability_bounds(np.dtype(dtype), EPS)[0])) * 1.01
    assert np.all((outs[0] >= 0) & (outs[0].astype(np.float64) <= cap))
