"""Every loss and gradient gives the same numbers whatever the memory layout of its arrays.

C-ordered, Fortran-ordered and strided (every other column of a wider array) inputs, at a
size that takes the whole-array formulas (at most ``SMALL`` values) and at one that takes
the blocked or C paths. Regression tests: session 6 found that a Fortran-ordered array
made ``huber_grad``, ``mae_grad``, ``log_cosh_grad`` and ``quantile_grad`` (small arrays)
return the residual instead of the gradient, and ``multiclass_hinge`` (+ grad) skip the
``max(0, ·)``: an in-place step wrote into ``reshape(-1)``, which is a copy for those
layouts.
"""
import numpy as np
import pytest
from scipy import special

import lossbook.losses as L
from lossbook.losses import _compute

COLUMNS = 4
N_CLASSES = 10


def _inputs(kind, rows, seed=0):
    g = np.random.default_rng(seed)
    shape = (rows, COLUMNS)
    if kind == "pair":
        return g.normal(size=shape), g.normal(scale=2.0, size=shape)
    if kind == "logit":
        return g.integers(0, 2, size=shape).astype(float), g.normal(scale=3.0, size=shape)
    if kind == "prob":
        return g.integers(0, 2, size=shape).astype(float), g.uniform(0.01, 0.99, size=shape)
    if kind == "signed":
        return g.choice([-1.0, 1.0], size=shape), g.normal(scale=2.0, size=shape)
    idx, z = g.integers(0, N_CLASSES, size=rows), g.normal(scale=2.0, size=(rows, N_CLASSES))
    return idx, special.softmax(z, axis=1) if kind == "prob rows" else z


CASES = {
    "mse": (L.mse, "pair"), "mse_grad": (L.mse_grad, "pair"),
    "mae": (L.mae, "pair"), "mae_grad": (L.mae_grad, "pair"),
    "huber": (L.huber, "pair"), "huber_grad": (L.huber_grad, "pair"),
    "log_cosh": (L.log_cosh, "pair"), "log_cosh_grad": (L.log_cosh_grad, "pair"),
    "quantile": (L.quantile, "pair"), "quantile_grad": (L.quantile_grad, "pair"),
    "barron": (lambda y, p, **kw: L.barron(y, p, alpha=0.5, **kw), "pair"),
    "barron_grad": (lambda y, p, **kw: L.barron_grad(y, p, alpha=0.5, **kw), "pair"),
    "binary_cross_entropy": (L.binary_cross_entropy, "prob"),
    "binary_cross_entropy_grad": (L.binary_cross_entropy_grad, "prob"),
    "focal": (L.focal, "prob"), "focal_grad": (L.focal_grad, "prob"),
    "bce_with_logits": (L.binary_cross_entropy_with_logits, "logit"),
    "bce_with_logits_grad": (L.bce_with_logits_grad, "logit"),
    "focal_with_logits": (L.focal_with_logits, "logit"),
    "focal_with_logits_grad": (L.focal_with_logits_grad, "logit"),
    "hinge": (L.hinge, "signed"), "hinge_grad": (L.hinge_grad, "signed"),
    "squared_hinge": (L.squared_hinge, "signed"),
    "squared_hinge_grad": (L.squared_hinge_grad, "signed"),
    "multiclass_hinge": (L.multiclass_hinge, "rows"),
    "multiclass_hinge_grad": (L.multiclass_hinge_grad, "rows"),
    "softmax_cross_entropy": (L.softmax_cross_entropy, "rows"),
    "softmax_cross_entropy_grad": (L.softmax_cross_entropy_grad, "rows"),
    "cross_entropy": (L.cross_entropy, "prob rows"),
    "cross_entropy_grad": (L.cross_entropy_grad, "prob rows"),
}


def _layouts(a):
    if a.ndim < 2:
        return {"C": a}
    wide = np.zeros((a.shape[0], 2 * a.shape[1]), dtype=a.dtype)
    wide[:, ::2] = a
    return {"C": a, "Fortran": np.asfortranarray(a), "strided": wide[:, ::2]}


@pytest.mark.parametrize("name", CASES)
@pytest.mark.parametrize("rows", [_compute.SMALL // (2 * N_CLASSES), 3000])
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_same_numbers_in_every_layout(name, rows, reduction):
    loss, kind = CASES[name]
    target, pred = _inputs(kind, rows)
    expected = loss(target, pred, reduction=reduction)
    for t_layout, t in _layouts(target).items():
        for p_layout, p in _layouts(pred).items():
            got = loss(t, p, reduction=reduction)
            np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-15,
                                       err_msg=f"target {t_layout}, pred {p_layout}")
            assert np.shape(got) == np.shape(expected)
