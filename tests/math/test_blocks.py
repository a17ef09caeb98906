"""Large inputs are evaluated block by block (lossbook.losses._compute): same results.

BLOCK and BUFFER_BLOCK are made tiny here, so that small inputs take the blocked paths,
with a last block shorter than the others, and compared with the whole-array evaluation.
"""
import numpy as np
import pytest

import lossbook.losses as L
from lossbook.losses import _compute

from mathhelpers import assert_close, class_problem, probabilities, regression_pair

ELEMENTWISE = [
    (L.mse, {}), (L.mae, {}), (L.huber, {"delta": 0.7}), (L.log_cosh, {}), (L.quantile, {"q": 0.2}),
    (L.barron, {"alpha": 0.5}), (L.barron, {"alpha": -np.inf}),
]
BINARY = [(L.binary_cross_entropy, {}), (L.binary_cross_entropy_with_logits, {}),
          (L.focal, {"gamma": 2.0, "alpha": 0.25})]
SIGNED = [(L.hinge, {}), (L.squared_hinge, {})]
ROWWISE = [(L.cross_entropy, {}), (L.softmax_cross_entropy, {"label_smoothing": 0.1}),
           (L.multiclass_hinge, {"margin": 0.5})]


def _grad(fn):
    return getattr(L, fn.__name__ + "_grad")


def _cases():
    y, p = regression_pair(n=103, seed=21)
    yb, pb = probabilities(n=103, seed=22)
    g = np.random.default_rng(23)
    ys, s = np.where(g.uniform(size=103) < 0.5, -1.0, 1.0), g.normal(size=103)
    yc, z, pc = class_problem(n=53, c=3, seed=24)
    for fn, kw in ELEMENTWISE:
        yield fn, kw, y, p
        yield fn, kw, y.reshape(1, 103), p.reshape(1, 103)  # any shape
    for fn, kw in BINARY:
        yield fn, kw, yb, (pb if "logits" not in fn.__name__ else 4 * pb - 2)
    for fn, kw in SIGNED:
        yield fn, kw, ys, s
    for fn, kw in ROWWISE:
        pred = pc if fn is L.cross_entropy else z
        yield fn, kw, yc, pred
        if fn is not L.multiclass_hinge:
            yield fn, kw, np.eye(3)[yc], pred  # target rows


@pytest.mark.parametrize("case", list(_cases()), ids=lambda c: c[0].__name__)
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_blocked_equals_whole_array(case, reduction, monkeypatch):
    fn, kw, y, pred = case
    whole = fn(y, pred, reduction=reduction, **kw)
    whole_grad = _grad(fn)(y, pred, reduction=reduction, **kw)
    monkeypatch.setattr(_compute, "BLOCK", 10)
    monkeypatch.setattr(_compute, "BUFFER_BLOCK", 17)
    blocked = fn(y, pred, reduction=reduction, **kw)
    blocked_grad = _grad(fn)(y, pred, reduction=reduction, **kw)
    assert np.shape(blocked) == np.shape(whole)
    assert np.shape(blocked_grad) == np.shape(pred)
    assert_close(blocked, whole, rtol=1e-13)
    assert_close(blocked_grad, whole_grad, rtol=1e-13)


def test_large_input_takes_blocked_path_and_matches_formula():
    n = 3 * _compute.BUFFER_BLOCK + 5
    g = np.random.default_rng(25)
    y, p = g.normal(size=n), g.normal(size=n)
    assert_close(L.mse(y, p), np.mean((p - y) ** 2), rtol=1e-12)
    assert_close(L.huber(y, p, reduction="none"),
                 np.where(np.abs(p - y) <= 1, 0.5 * (p - y) ** 2, np.abs(p - y) - 0.5))
    assert_close(L.mse_grad(y, p), 2 * (p - y) / n)


@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_softmax_cross_entropy_row_blocks_at_full_size(reduction):
    """softmax_cross_entropy takes rows in blocks of ROW_BLOCKS × BLOCK values, each shifted
    by its own maximum: at the real block size (several blocks, the last one short) it
    still matches SciPy's per-row log-sum-exp."""
    from scipy.special import logsumexp

    g = np.random.default_rng(26)
    n, c = 2 * _compute.ROW_BLOCKS * _compute.BLOCK // 10 + 7, 10
    z = g.normal(scale=3.0, size=(n, c))
    z[n // 2] += 30.0  # one block's maximum far above its other rows
    y = g.integers(0, c, size=n)
    assert z.size > 2 * _compute.ROW_BLOCKS * _compute.BLOCK
    expected = logsumexp(z, axis=1) - z[np.arange(n), y]
    got = L.softmax_cross_entropy(y, z, reduction=reduction)
    # (absolute 1e-13: a loss near 0 is a difference of terms of the logits' size)
    assert_close(got, expected if reduction == "none" else expected.mean(), rtol=1e-12,
                 atol=1e-13)
