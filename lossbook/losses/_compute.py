"""How the losses evaluate their formulas on large arrays (not part of the API).

Each loss writes its formula once, as a small function of whole arrays (``_huber``,
``_hinge``, ...), exactly as in the lesson. :func:`reduce_terms` and
:func:`grad_terms` then evaluate that function on blocks of :data:`BLOCK` (16384)
values at a time: every temporary array of the formula then stays in the processor's
cache instead of making a round trip to memory, which for arrays of millions of values
is several times faster than evaluating the formula on the whole arrays at once. The
numbers are the same (up to the order of summation). The paths that work in
preallocated ``out=`` buffers instead of temporaries take blocks of
:data:`BUFFER_BLOCK` (65536) values, which spends less on numpy's per-call overhead.

The sums of ``reduction="mean" | "sum"`` take fewer passes over a block than forming
every loss (issue 13): :func:`dot` (BLAS, in pieces of at most :data:`DOT_MAX` values so
that OpenBLAS stays on one thread), :func:`sum_log` (one ``log`` per 64 elements: the log
of their product), :func:`full` (``np.maximum``/``np.minimum`` against a constant array,
twice as fast as against a scalar) and :func:`sum_blocks`. Where such a sum is exact only
to about ``n·ε`` (absolute), the loss checks whether that could matter to its relative
precision and then sums element by element. Up to :data:`SMALL` values every loss
evaluates its formula on the whole arrays, which has the least overhead per call.

``row_sum`` and ``row_max`` are ``a.sum(axis=-1)`` and ``a.max(axis=-1)``, which numpy
computes an order of magnitude slower than a whole-array reduction when the last axis
is short (a few classes).

:func:`reduce_residual` and :func:`grad_residual` do the same for the regression losses,
whose formulas are functions of the residual ``r = ŷ − y`` alone: they form ``r`` block by
block and check *it* for NaN/inf (``r`` is finite exactly when both arrays are, up to
an overflow of huge values), one pass in cache instead of one pass over each input.

Where even those passes cost more than PyTorch's one fused pass (Huber: five passes; hinge:
seven), :data:`FUSED`, the optional C extension ``lossbook.losses._fused`` (built by
setup.py), sums the loss in one pass over C-contiguous float64 arrays (:func:`fusable`);
where it was not built (no C compiler at install), the numpy sums do the same work.

:func:`sigmoid` and :func:`softplus` are the two functions that every logit loss needs,
written to cost one ``exp`` (and one ``log``) per element and no ``np.where``;
:func:`log1p` is ``np.log1p`` at the cost of ``np.log`` (numpy's ``log1p`` is about twice
as slow as its ``log``).
"""
from __future__ import annotations

import functools

import numpy as np

try:  # the one-pass sums in C (setup.py builds them where a C compiler is at hand)
    from lossbook.losses import _fused as FUSED
except ImportError:  # pragma: no cover - an install without a C compiler
    FUSED = None

#: Values per block: a few arrays of 16384 float64 (128 KiB each) fit in the L2 cache, and
#: are small enough for malloc to recycle them (larger temporaries were mapped afresh,
#: page faults included, for every block: several times slower).
BLOCK = 1 << 14
#: Values per block where the block's work goes into preallocated ``out=`` buffers
#: (:func:`sum_blocks`, :func:`reduce_residual` with a summer, :func:`grad_residual`):
#: no temporaries, so nothing for malloc to map afresh, and each block costs a fixed
#: dozen numpy calls (about 1 µs each), which at :data:`BLOCK` values were ~0.5 ns of
#: the 2-3 ns per element; with 4 times the values they are a quarter of that. Measured
#: interleaved against torch (session 4, load 4-6): huber 1e6 1.90× → 1.66×, hinge 1e5
#: 1.63× → 1.24×, mse 1e5 1.58× → 1.18× of torch on one thread.
BUFFER_BLOCK = 1 << 16
#: softmax_cross_entropy's rows go in blocks of ``ROW_BLOCKS × BLOCK`` values (65536):
#: each block costs a fixed couple of dozen numpy calls (max, exp, row sums, gather, log)
#: whatever its size, and malloc reuses its temporaries at this size too. Measured
#: interleaved against torch on one thread (session 5, 10 classes, load 7.6): 10⁵ values
#: 1.002 → 0.786 ms (torch 0.906), 10⁶ 10.8 → 9.8 ms (torch 9.58). (A multiple of
#: BLOCK, so that tests which make BLOCK tiny reach this path's block boundaries too.)
ROW_BLOCKS = 4
_FEW_CLASSES = 64


def _blocks(arrays, rowwise: bool, block: int | None = None):
    """Yield ``(slice, blocks)``: the arrays cut along axis 0 (flattened first, unless
    ``rowwise``), about ``block`` values (default :data:`BLOCK`) of the last array (the
    predictions) each."""
    pred = arrays[-1]
    if rowwise:
        n_rows, row_size = pred.shape[0], max(1, pred.size // max(pred.shape[0], 1))
    else:
        arrays = [a.reshape(-1) for a in arrays]
        n_rows, row_size = pred.size, 1
    step = max(1, (block or BLOCK) // row_size)
    for start in range(0, n_rows, step):
        sl = slice(start, min(start + step, n_rows))
        yield sl, [a[sl] for a in arrays]


def _is_small(pred: np.ndarray, rowwise: bool, block: int | None = None) -> bool:
    return pred.size <= (block or BLOCK) or (rowwise and pred.ndim < 2)


def reduce_terms(terms, reduction: str, *arrays, rowwise: bool = False,
                 block: int | None = None, **params):
    """Evaluate ``terms(*arrays, **params)`` (one loss per element, or per row if
    ``rowwise``) and apply ``reduction``; ``"mean"`` divides by the number of losses.

    The predictions are the last of ``arrays``; all arrays share their leading axis;
    ``params`` are scalars (delta, q, eps, ...). ``terms`` gets blocks of about ``block``
    (default :data:`BLOCK`) values of the predictions (whole rows if ``rowwise``).
    """
    pred = arrays[-1]
    if _is_small(pred, rowwise, block):
        per_example = terms(*arrays, **params)
        if reduction == "none":
            return per_example
        total = float(per_example.sum())
        return total if reduction == "sum" else total / per_example.size
    if reduction == "none":
        parts = [terms(*part, **params) for _, part in _blocks(arrays, rowwise, block)]
        out = np.concatenate(parts)
        return out if rowwise else out.reshape(pred.shape)
    total, count = 0.0, 0
    for _, part in _blocks(arrays, rowwise, block):
        losses = terms(*part, **params)
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


def flat_index(a: np.ndarray, idx: np.ndarray):
    """Indices into ``a.reshape(-1)`` of ``a[i, idx[i]]`` for a C-contiguous ``(n, C)``
    array (one gather, several times faster than ``take_along_axis``), else None."""
    if a.ndim != 2 or idx.ndim != 1 or not a.flags.c_contiguous:
        return None
    flat = np.arange(0, a.size, a.shape[1])
    flat += idx
    return flat


def pick(a: np.ndarray, idx: np.ndarray) -> np.ndarray:
    """``a[i, idx[i]]`` for every row ``i`` (the entry of each row's correct class)."""
    flat = flat_index(a, idx)
    if flat is not None:
        return a.reshape(-1)[flat]
    return np.take_along_axis(a, idx[..., None], axis=-1)[..., 0]


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


# ---------------------------------------------------------------------------
# Sums with fewer passes over the block (issue 13). A block's temporaries stay in the
# L2 cache; what costs is the number of ufunc passes, so a sum of squares is one
# ``dot`` instead of a square and a sum, and a sum of logs takes one ``log`` per group of
# 64 factors (the log of their product) instead of one per element.
# ---------------------------------------------------------------------------
#: OpenBLAS spreads a ``dot`` of more than 10000 values over its threads: dots are cut
#: into pieces of at most this many values, so that the losses stay on one core.
DOT_MAX = 8192
#: Factors per product in :func:`sum_log`: 64 factors in [1, 2] stay below 2^64.
GROUP = 64
#: Up to this many values the fast sums do not pay for their set-up (buffers, more numpy
#: calls); the losses then evaluate their formula on the whole arrays, as for
#: ``reduction="none"`` (``train.fit`` on small data calls them thousands of times).
SMALL = 2048


def dot(a: np.ndarray, b: np.ndarray) -> float:
    """``Σ a_i b_i`` of two 1-D arrays. float64 goes through BLAS on one thread (about
    half the time of ``np.add.reduce(a * b)`` and no temporary); other dtypes use numpy's
    pairwise sum, which keeps float32 sums accurate."""
    if a.dtype != np.float64 or b.dtype != np.float64:
        return float(np.add.reduce(a * b))
    result = 0.0
    for i in range(0, a.size, DOT_MAX):
        result += float(np.dot(a[i:i + DOT_MAX], b[i:i + DOT_MAX]))
    return result


def total(a: np.ndarray) -> float:
    """``Σ a_i`` of a 1-D array (numpy's pairwise sum)."""
    return float(np.add.reduce(a))


_CONSTANTS: dict = {}


def full(value: float, like: np.ndarray) -> np.ndarray:
    """A read-only array of ``value`` shaped like the 1-D block ``like`` (at most
    :data:`BUFFER_BLOCK` values): ``np.maximum`` and ``np.minimum`` take about twice as long
    with a scalar as with an array."""
    n = like.shape[0]
    key = (value, like.dtype)
    constant = _CONSTANTS.get(key)
    if constant is None or constant.shape[0] < n:
        if len(_CONSTANTS) > 64:  # e.g. an explorer's slider trying many deltas
            _CONSTANTS.clear()
        # sized for a block of the temporaries' paths, or for the block asked (up to
        # BUFFER_BLOCK values): small arrays, e.g. an explorer's, keep small constants
        constant = np.full(max(n, BLOCK), value, dtype=like.dtype)
        constant.setflags(write=False)
        _CONSTANTS[key] = constant
    return constant[:n]


def sum_log(u: np.ndarray, halve: bool = False) -> float:
    """``Σ log u_i`` of a 1-D array of factors in [1, 2] (``Σ log(u_i / 2)`` if ``halve``),
    from the logs of products of :data:`GROUP` factors: one ``log`` per 64 elements.

    Each product of 64 factors rounds 63 times, so the result is within about
    ``n · ε`` (absolute) of the sum of the correctly rounded logs: as exact as the
    per-element sum for every loss whose terms are not all far below 1 (callers that
    need the relative precision of tiny sums check for them and take the per-element
    way). Halving multiplies by the exact ``2^−64`` per product."""
    n = u.size
    m = n // GROUP
    result = 0.0
    if m:
        products = np.multiply.reduce(u[:GROUP * m].reshape(GROUP, m), axis=0)
        if halve:
            products *= 2.0 ** -GROUP
        result = float(np.add.reduce(np.log(products, out=products)))
    if n > GROUP * m:
        rest = u[GROUP * m:]
        rest = rest * 0.5 if halve else rest
        result += float(np.add.reduce(np.log(rest)))
    return result


def sum_blocks(summer, *arrays, n_scratch: int = 2) -> float:
    """``Σ summer(*blocks, *scratch)`` over the flattened ``arrays`` (all of one shape) cut
    into blocks of :data:`BUFFER_BLOCK` values; ``summer`` gets ``n_scratch`` buffers of its
    block's size to work in (of the arrays' floating dtype) and returns a float."""
    flat = [a.reshape(-1) for a in arrays]
    size = flat[-1].size
    step = BUFFER_BLOCK
    scratch = np.empty((n_scratch, min(size, step)), dtype=np.result_type(*arrays, 1.0))
    result = 0.0
    for start in range(0, size, step):
        stop = min(start + step, size)
        result += summer(*(a[start:stop] for a in flat), *scratch[:, :stop - start])
    return result


def _check_residual(r: np.ndarray, y: np.ndarray, p: np.ndarray, check) -> None:
    """Run ``check(y, p)`` (the exact NaN/inf check with the precise message) only if the
    residual, and so one of the inputs, holds a NaN or inf."""
    if not np.isfinite(np.add.reduce(r, axis=None)):
        check(y, p)


def _flat_blocks(y: np.ndarray, p: np.ndarray, step: int):
    """``(slice, y block, p block)`` of the flattened arrays, ``step`` values each."""
    y, p = y.reshape(-1), p.reshape(-1)
    for start in range(0, p.size, step):
        sl = slice(start, min(start + step, p.size))
        yield sl, y[sl], p[sl]


def fusable(*arrays: np.ndarray) -> bool:
    """True when :data:`FUSED` (the C sums) was built and takes ``arrays`` as they are:
    C-contiguous float64 (other dtypes and strided views take the numpy path)."""
    return FUSED is not None and all(
        a.dtype == np.float64 and a.flags.c_contiguous for a in arrays)


#: ``kind`` of ``FUSED.logit_sum``: the binary cross-entropy on logits, the same with a
#: weight of the positives, the focal loss on logits.
LOGIT_BCE, LOGIT_WEIGHTED_BCE, LOGIT_FOCAL = 0, 1, 2


def fused_logit_sum(kind: int, y: np.ndarray, z: np.ndarray, *, weight: float = 1.0,
                    gamma: float = 0.0, a_pos: float = 1.0, a_neg: float = 1.0):
    """``Σ`` of a logit loss (``kind``) in one pass in C, or None where :data:`FUSED` does
    not take ``y`` and ``z`` (then the caller's numpy path runs). ``z`` must be finite."""
    if z.size <= SMALL or y.shape != z.shape or not fusable(y, z):
        return None
    return FUSED.logit_sum(y, z, kind, weight, gamma, a_pos, a_neg)


#: ``kind`` of ``FUSED.probability_sum``: the binary cross-entropy and the focal loss on
#: probabilities.
PROB_BCE, PROB_FOCAL = 0, 1


def fused_probability_sum(kind: int, y: np.ndarray, p: np.ndarray, options):
    """``Σ`` of a loss on probabilities (``kind``) in one pass in C, which also checks the
    labels and probabilities; or None where :data:`FUSED` does not take ``y`` and ``p``,
    where ``options()`` raises, or where an input is invalid: then the caller's numpy checks
    run and raise their errors in their order. ``options()`` checks the loss's scalar
    options and returns ``(lo, hi, gamma, a_pos, a_neg)``, ``[lo, hi]`` the clipping bounds."""
    if p.size <= SMALL or y.shape != p.shape or not fusable(y, p):
        return None
    try:
        lo, hi, gamma, a_pos, a_neg = options()
    except (TypeError, ValueError):
        return None
    result, ok = FUSED.probability_sum(y, p, kind, gamma, a_pos, a_neg, float(lo), float(hi))
    return result if ok else None


def fused_rows(target: np.ndarray, z: np.ndarray):
    """``(class indices as C-contiguous int64, z, number of classes)``, the first arguments
    of :data:`FUSED`'s softmax cross-entropy, where it takes ``target`` and the rows ``z``
    (class indices, ``(n, C)`` C-contiguous float64 rows, more than :data:`SMALL` values),
    else None."""
    if z.ndim != 2 or target.ndim != 1 or z.size <= SMALL or not fusable(z):
        return None
    return np.ascontiguousarray(target, dtype=np.int64), z, z.shape[1]


def reduce_residual(terms, reduction: str, y: np.ndarray, p: np.ndarray, check,
                    summer=None, fused=None, **params):
    """Evaluate ``terms(r, **params)`` on the residual ``r = p − y`` and apply ``reduction``.

    ``summer(r, scratch, **params)``, if given, returns ``Σ terms(r)`` of a block directly
    (it may overwrite ``r`` and ``scratch``, buffers of the block's size), in fewer passes
    than forming every loss. ``fused`` names the function of :data:`FUSED` that returns
    ``Σ terms(p − y)`` in one pass over the arrays (C, no temporaries); where the extension
    was not built, or for other dtypes, ``summer`` does it.
    ``check(y, p)`` raises the error for non-finite inputs; it runs only when the result
    is not finite (every regression formula turns a NaN or inf residual into a NaN or
    inf loss), so valid input costs no extra pass.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if reduction == "none" or (summer is None and p.size <= BLOCK) or p.size <= SMALL:
            losses = terms(p - y, **params)
            result = np.add.reduce(losses, axis=None)
            if not np.isfinite(result):
                check(y, p)
            if reduction == "none":
                return losses
            result = float(result)
            return result if reduction == "sum" else result / losses.size
        result = 0.0
        if fused is not None and fusable(y, p):
            result = getattr(FUSED, fused)(y, p, *params.values())
        elif summer is None:
            for _, yb, pb in _flat_blocks(y, p, BLOCK):
                result += float(np.add.reduce(terms(pb - yb, **params), axis=None))
        else:
            r_buffer, scratch = np.empty((2, min(p.size, BUFFER_BLOCK)),
                                         dtype=np.result_type(y, p))
            for _, yb, pb in _flat_blocks(y, p, BUFFER_BLOCK):
                n = pb.size
                r = np.subtract(pb, yb, out=r_buffer[:n])
                result += summer(r, scratch[:n], **params)
    if not np.isfinite(result):
        check(y, p)
    return result if reduction == "sum" else result / p.size


def grad_residual(terms, reduction: str, y: np.ndarray, p: np.ndarray, check, **params):
    """The gradient ``terms(r, **params)`` of a regression loss, shaped like ``p``, divided by
    ``n`` for ``reduction="mean"``; the residual of each block is checked for NaN/inf
    (a gradient such as ``sign(r)`` or ``clip(r)`` hides them).

    ``terms(r, out=...)`` writes the gradient of the residual block ``r`` (a scratch
    buffer that stays in cache) into the output block ``out`` and returns it: the whole
    gradient takes the residual's pass, the check's sum and the formula's passes.
    A number ``terms`` is a linear gradient ``terms · r`` (the MSE's ``2r``)."""
    scale = 1.0 / p.size if reduction == "mean" else 1.0
    dtype = np.result_type(p, 1.0)
    if p.size <= SMALL:
        with np.errstate(over="ignore", invalid="ignore"):
            # (in C order: r.reshape(-1) below must be a view of r, not a copy, as it is
            # for Fortran-ordered inputs)
            r = np.subtract(p, y, order="C")
            if not np.isfinite(np.add.reduce(r, axis=None)):
                check(y, p)
            if isinstance(terms, float):
                r *= terms * scale
                return r.astype(dtype, copy=False)
            flat = r.reshape(-1)  # the formulas take 1-D blocks
            terms(flat, out=flat, **params)
        if scale != 1.0:
            r *= scale
        return r.astype(dtype, copy=False)
    out = np.empty(p.size, dtype=dtype)
    r_buffer = np.empty(min(p.size, BUFFER_BLOCK), dtype=np.result_type(y, p, 1.0))
    with np.errstate(over="ignore", invalid="ignore"):
        for sl, yb, pb in _flat_blocks(y, p, BUFFER_BLOCK):
            r = np.subtract(pb, yb, out=r_buffer[:pb.size])
            if not np.isfinite(total(r)):
                check(y, p)
            if isinstance(terms, float):
                np.multiply(r, terms * scale, out=out[sl])
                continue
            grad = terms(r, out=out[sl], **params)
            if scale != 1.0:
                grad *= scale
    return out.reshape(p.shape)


def log1p(x: np.ndarray) -> np.ndarray:
    """``log(1 + x)`` for ``x > −1``, accurate to about one unit in the last place
    (``inf`` gives ``inf``, NaN stays NaN).

    ``u = 1 + x`` rounds; its rounding error ``(u − 1) − x`` is exact for ``½ ≤ u ≤ 2``
    (elsewhere ``|log u| > 0.69`` and the error is negligible), and
    ``log(u) − ((u − 1) − x) / u`` removes it to first order (for tiny ``x``: ``u = 1``
    and the result is ``x``).
    """
    u = x + 1.0
    correction = u - 1.0
    with np.errstate(invalid="ignore"):  # x = inf: inf − inf is NaN, which fmin drops
        correction -= x
    correction /= u
    np.fmin(correction, 1.0, out=correction)
    np.log(u, out=u)
    u -= correction
    return u


def _exp_minus_abs(z: np.ndarray) -> np.ndarray:
    """``e^{−|z|}``, in (0, 1]: the one ``exp`` that sigmoid and softplus need."""
    e = np.abs(z)
    np.negative(e, out=e)
    np.exp(e, out=e)
    return e


def _softplus_from(z, e):
    out = log1p(e)
    out += np.maximum(z, 0.0)
    return out


def _sigmoid_from(z, e):
    numerator = np.maximum(e, z >= 0)  # 1 where z ≥ 0 (e ≤ 1), else e
    numerator /= e + 1.0
    return numerator


def _scalars_as_1d(function):
    """Let ``function``, written with in-place ``out=`` steps, take a 0-d array too (NumPy
    turns 0-d results into scalars, which cannot be written in place); a 0-d input gives
    NumPy scalars back, as a ufunc would."""
    @functools.wraps(function)
    def wrapper(z):
        if np.ndim(z) != 0:
            return function(z)
        result = function(np.reshape(z, 1))
        return tuple(r[0] for r in result) if isinstance(result, tuple) else result[0]
    return wrapper


@_scalars_as_1d
def softplus(z: np.ndarray) -> np.ndarray:
    """``log(1 + e^z) = max(z, 0) + log(1 + e^{−|z|})``: never overflows, exact for any ``z``."""
    return _softplus_from(z, _exp_minus_abs(z))


@_scalars_as_1d
def log1p_exp_minus_abs(z: np.ndarray) -> np.ndarray:
    """``log(1 + e^{−|z|})``, in (0, log 2]: the small term of every stable logit loss."""
    return log1p(_exp_minus_abs(z))


@_scalars_as_1d
def sigmoid(z: np.ndarray) -> np.ndarray:
    """``σ(z) = 1 / (1 + e^{−z})``, with ``exp`` only ever of ``−|z|`` (no overflow):
    ``1 / (1 + e)`` for ``z ≥ 0`` and ``e / (1 + e)`` for ``z < 0``, ``e = e^{−|z|}``."""
    return _sigmoid_from(z, _exp_minus_abs(z))


@_scalars_as_1d
def softplus_and_sigmoid(z: np.ndarray):
    """``(softplus(z), σ(z))`` from one ``exp``."""
    e = _exp_minus_abs(z)
    return _softplus_from(z, e), _sigmoid_from(z, e)
