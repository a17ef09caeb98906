"""How the losses evaluate their formulas on large arrays (not part of the API).

Each loss writes its formula once, as a small function of whole arrays (``_huber``,
``_hinge``, ...), exactly as in the lesson. :func:`reduce_terms` and
:func:`grad_terms` then evaluate that function on blocks of about 32 thousand
values at a time: every temporary array of the formula then stays in the processor's
cache instead of making a round trip to memory, which for arrays of millions of values
is several times faster than evaluating the formula on the whole arrays at once. The
numbers are the same (up to the order of summation).

``row_sum`` and ``row_max`` are ``a.sum(axis=-1)`` and ``a.max(axis=-1)``, which numpy
computes an order of magnitude slower than a whole-array reduction when the last axis
is short (a few classes).
"""
from __future__ import annotations

import numpy as np

#: Values per block: a few arrays of 32768 float64 (256 KiB each) fit in L2/L3 cache.
BLOCK = 1 << 15
_FEW_CLASSES = 64


def _blocks(arrays, rowwise: bool):
    """Yield ``(slice, blocks)``: the arrays cut along axis 0 (flattened first, unless
    ``rowwise``), about :data:`BLOCK` values of the last array (the predictions) each."""
    pred = arrays[-1]
    if rowwise:
        n_rows, row_size = pred.shape[0], max(1, pred.size // max(pred.shape[0], 1))
    else:
        arrays = [a.reshape(-1) for a in arrays]
        n_rows, row_size = pred.size, 1
    step = max(1, BLOCK // row_size)
    for start in range(0, n_rows, step):
        sl = slice(start, min(start + step, n_rows))
        yield sl, [a[sl] for a in arrays]


def _is_small(pred: np.ndarray, rowwise: bool) -> bool:
    return pred.size <= BLOCK or (rowwise and pred.ndim < 2)


def reduce_terms(terms, reduction: str, *arrays, rowwise: bool = False, **params):
    """Evaluate ``terms(*arrays, **params)`` (one loss per element, or per row if
    ``rowwise``) and apply ``reduction``; ``"mean"`` divides by the number of losses.

    The predictions are the last of ``arrays``; all arrays share their leading axis;
    ``params`` are scalars (delta, q, eps, ...).
    """
    pred = arrays[-1]
    if _is_small(pred, rowwise):
        per_example = terms(*arrays, **params)
        if reduction == "none":
            return per_example
        total = float(per_example.sum())
        return total if reduction == "sum" else total / per_example.size
    if reduction == "none":
        parts = [terms(*block, **params) for _, block in _blocks(arrays, rowwise)]
        out = np.concatenate(parts)
        return out if rowwise else out.reshape(pred.shape)
    total, count = 0.0, 0
    for _, block in _blocks(arrays, rowwise):
        losses = terms(*block, **params)
        total += float(losses.sum())
        count += losses.size
    return total if reduction == "sum" else total / count


def grad_terms(terms, reduction: str, n: int, *arrays, rowwise: bool = False, **params):
    """Evaluate the gradient formula ``terms(*arrays, **params)``, shaped like the
    predictions (the last of ``arrays``), divided by ``n`` for ``reduction="mean"``."""
    scale = 1.0 / n if reduction == "mean" else 1.0
    pred = arrays[-1]
    if _is_small(pred, rowwise):
        grad = np.asarray(terms(*arrays, **params), dtype=np.result_type(pred, 1.0))
        return grad * scale if scale != 1.0 else grad
    out = np.empty(pred.shape if rowwise else pred.size, dtype=np.result_type(pred, 1.0))
    for sl, block in _blocks(arrays, rowwise):
        np.multiply(terms(*block, **params), scale, out=out[sl])
    return out if rowwise else out.reshape(pred.shape)


def row_sum(a: np.ndarray) -> np.ndarray:
    """``a.sum(axis=-1)``."""
    return np.einsum("...j->...", a)


def row_max(a: np.ndarray) -> np.ndarray:
    """``a.max(axis=-1)``: for few classes, one ``np.maximum`` per class column."""
    if a.ndim != 2 or a.shape[-1] > _FEW_CLASSES:
        return a.max(axis=-1)
    out = a[:, 0].copy()
    for j in range(1, a.shape[1]):
        np.maximum(out, a[:, j], out=out)
    return out
