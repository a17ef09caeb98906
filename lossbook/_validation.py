"""Input checking shared by every public function of the math layer.

Every check raises ``ValueError`` or ``TypeError`` with a message of the form::

    <function>: <argument> <what is wrong>, got <what was given>; <how to fix it>

The checks are written for the hot path: the common (valid) case costs one cheap
pass over the data (a sum, a min/max, or one boolean reduction); the detailed
diagnosis that builds the message only runs once something is already known to be
wrong.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

REDUCTIONS = ("mean", "sum", "none")


def _preview(values, limit: int = 6) -> str:
    """Short, readable text for a few offending values (for error messages)."""
    flat = np.unique(np.asarray(values).ravel())
    shown = ", ".join(_format_number(v) for v in flat[:limit])
    more = ", ..." if flat.size > limit else ""
    return "{" + shown + more + "}"


def _format_number(v) -> str:
    v = v.item() if isinstance(v, np.generic) else v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return f"{v:.6g}" if isinstance(v, float) else repr(v)


def check_reduction(reduction, func: str) -> str:
    """Return ``reduction`` if it is one of ``"mean"``, ``"sum"``, ``"none"``."""
    if isinstance(reduction, str) and reduction in REDUCTIONS:
        return reduction
    raise ValueError(
        f"{func}: reduction must be one of 'mean', 'sum', 'none', got {reduction!r}; "
        "use 'mean' for the cost (average loss), 'sum' for the total, "
        "'none' for one loss per example"
    )


def as_float_array(x, name: str, func: str, *, allow_empty: bool = False,
                   finite: bool = True) -> np.ndarray:
    """Convert ``x`` (array, list or scalar) to a floating-point ndarray and check it.

    Integers are converted to float64; float16/32/64 are kept. Booleans, strings,
    objects and complex numbers are refused with a ``TypeError``. Empty input and
    NaN/inf are refused with a ``ValueError``.
    """
    try:
        arr = np.asarray(x)
    except (ValueError, TypeError):  # ragged nested lists, odd objects
        raise TypeError(
            f"{func}: {name} must be an array of numbers, got a {type(x).__name__} that "
            "numpy cannot turn into an array (e.g. rows of different lengths); pass a "
            "list of numbers, or equal-length rows, or an ndarray"
        ) from None
    kind = arr.dtype.kind
    if kind == "f":
        pass
    elif kind in "iu":
        arr = arr.astype(np.float64)
    elif kind == "b":
        raise TypeError(
            f"{func}: {name} must hold numbers, got booleans (dtype bool); "
            f"convert with {name}.astype(float) if True/False mean 1/0"
        )
    elif kind == "c":
        raise TypeError(
            f"{func}: {name} must hold real numbers, got complex values (dtype "
            f"{arr.dtype}); pass the real part, e.g. {name}.real"
        )
    else:
        example = arr.ravel()[0] if arr.size else None
        if isinstance(example, np.generic):
            example = example.item()
        raise TypeError(
            f"{func}: {name} must hold numbers, got dtype {arr.dtype}"
            + (f" (e.g. {example!r})" if example is not None else "")
            + "; convert to floats first, e.g. np.asarray(values, dtype=float)"
        )
    if arr.size == 0 and not allow_empty:
        raise ValueError(
            f"{func}: {name} is empty (shape {arr.shape}); pass at least one example"
        )
    if finite:
        check_finite(arr, name, func)
    return arr


#: Above this many values check_finite's fast path is one sum instead of a min and a max.
_ONE_PASS_FINITE_CHECK = 4096


def check_finite(arr: np.ndarray, name: str, func: str) -> None:
    """Raise ``ValueError`` if ``arr`` holds NaN or +-inf."""
    if arr.size == 0:
        return
    # The minimum and the maximum are cheaper than np.isfinite(arr).all() (no boolean
    # temporary) and cannot overflow: a NaN anywhere makes both NaN, and an inf shows as
    # one of them. Large arrays take one pass, a sum, instead of those two: it is finite
    # unless there is a NaN or inf, or finite values overflow it (then the two are taken).
    # Only when they fail is the exact (slower) diagnosis needed.
    if arr.size > _ONE_PASS_FINITE_CHECK:
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(np.add.reduce(arr, axis=None)):
                return
    if -np.inf < np.minimum.reduce(arr, axis=None) and \
            np.maximum.reduce(arr, axis=None) < np.inf:
        return
    bad = ~np.isfinite(arr)
    if not bad.any():
        return
    idx = np.argwhere(bad)[0]
    where = tuple(int(i) for i in idx) if arr.ndim > 1 else (int(idx[0]) if arr.ndim else ())
    n_nan = int(np.isnan(arr).sum())
    n_inf = int(bad.sum()) - n_nan
    what = ", ".join(s for s in (f"{n_nan} NaN" if n_nan else "",
                                 f"{n_inf} inf" if n_inf else "") if s)
    raise ValueError(
        f"{func}: {name} must be finite, got {what} (first at index {where}); "
        "remove or impute missing values, and check the step that produced them "
        "(e.g. log(0) or a division by zero)"
    )


def check_same_shape(a: np.ndarray, b: np.ndarray, name_a: str, name_b: str,
                     func: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same shape."""
    if a.shape != b.shape:
        hint = "pass one prediction per target"
        if a.size == b.size:
            hint = f"reshape one of them, e.g. {name_b}.reshape({name_a}.shape)"
        raise ValueError(
            f"{func}: {name_a} and {name_b} must have the same shape, got "
            f"{name_a}.shape={a.shape} and {name_b}.shape={b.shape}; {hint}"
        )


def check_probabilities(p: np.ndarray, name: str, func: str, fix: str | None = None) -> None:
    """Raise ``ValueError`` unless every entry of ``p`` lies in [0, 1] (so is also finite).

    Two reductions (min and max) check both the range and finiteness (NaN makes the
    comparisons fail); callers can skip :func:`check_finite` for ``p``.
    """
    if p.min() >= 0.0 and p.max() <= 1.0:
        return
    check_finite(p, name, func)
    outside = p[(p < 0.0) | (p > 1.0)]
    raise ValueError(
        f"{func}: {name} must hold probabilities in [0, 1], got values "
        f"{_preview(outside)}; "
        + (fix or "if these are logits (raw scores), use the *_with_logits / softmax_* "
           "variant, or apply sigmoid/softmax first")
    )


def row_sum_tolerance(p: np.ndarray) -> float:
    """How far from 1 :func:`check_rows_sum_to_one` lets a row sum of ``p`` be (see there)."""
    return max(1e-6, 4 * p.shape[-1] * float(np.finfo(p.dtype).eps))


def check_rows_sum_to_one(p: np.ndarray, name: str, func: str, atol: float | None = None) -> None:
    """Raise ``ValueError`` unless every row (last axis) of ``p`` sums to 1.

    The tolerance is 1e-6, or more for low precision (float32 softmax outputs over
    many classes are off by a few units in the last place per class). Row sums are
    finite only if every entry is, so this also checks finiteness.
    """
    if atol is None:
        atol = row_sum_tolerance(p)
    sums = np.einsum("...j->...", p)  # p.sum(axis=-1), much faster for few columns
    bad = ~(np.abs(sums - 1.0) <= atol)
    if not bad.any():
        return
    check_finite(p, name, func)
    raise ValueError(
        f"{func}: each row of {name} must sum to 1 (a probability distribution over "
        f"classes), got row sums {_preview(sums[bad])}; normalise with "
        f"{name} / {name}.sum(axis=-1, keepdims=True), or use softmax on raw scores"
    )


def check_signed_labels(y: np.ndarray, name: str, func: str) -> None:
    """Labels for margin losses: only -1 and +1."""
    # Counting matches needs no float temporary (np.abs(y) == 1 needs two); also rules
    # out NaN/inf.
    if np.count_nonzero(y == 1.0) + np.count_nonzero(y == -1.0) == y.size:
        return
    check_finite(y, name, func)
    values = np.unique(y)
    if set(values.tolist()) <= {0.0, 1.0}:
        fix = "convert 0/1 labels with y = 2*y - 1"
    else:
        fix = "map the negative class to -1 and the positive class to +1"
    raise ValueError(
        f"{func}: {name} must contain only -1 and +1, got values {_preview(values)}; {fix}"
    )


def check_binary_labels(y: np.ndarray, name: str, func: str) -> None:
    """Labels for focal-type losses: only 0 and 1."""
    if np.count_nonzero(y == 0.0) + np.count_nonzero(y == 1.0) == y.size:  # rules out NaN/inf
        return
    check_finite(y, name, func)
    values = np.unique(y)
    if set(values.tolist()) <= {-1.0, 1.0}:
        fix = "convert -1/+1 labels with y = (y + 1) / 2"
    else:
        fix = "map the negative class to 0 and the positive class to 1"
    raise ValueError(
        f"{func}: {name} must contain only 0 and 1, got values {_preview(values)}; {fix}"
    )


def as_class_indices(y, n_classes: int, name: str, func: str) -> np.ndarray:
    """Convert ``y`` to an integer array of class indices in ``range(n_classes)``."""
    arr = np.asarray(y)
    kind = arr.dtype.kind
    if kind == "b" or kind not in "iuf":
        raise TypeError(
            f"{func}: {name} as class indices must be integers, got dtype {arr.dtype}; "
            "pass integer labels 0..C-1, e.g. np.asarray(labels, dtype=int)"
        )
    if arr.size == 0:
        raise ValueError(f"{func}: {name} is empty (shape {arr.shape}); pass at least one example")
    if kind == "f":
        check_finite(arr, name, func)
        as_int = arr.astype(np.int64)
        if not (as_int == arr).all():
            raise ValueError(
                f"{func}: {name} as class indices must be whole numbers, got values "
                f"{_preview(arr[as_int != arr])}; pass integer class labels 0..C-1 "
                "(or one-hot / probability rows with the same shape as the predictions)"
            )
        arr = as_int
    lo, hi = arr.min(), arr.max()
    if lo < 0 or hi >= n_classes:
        bad = arr[(arr < 0) | (arr >= n_classes)]
        raise ValueError(
            f"{func}: {name} holds class indices outside 0..{n_classes - 1} "
            f"(the predictions have {n_classes} columns), got {_preview(bad)}; "
            "number the classes 0..C-1 (e.g. subtract 1 from 1-based labels) or give "
            "the predictions one column per class"
        )
    return arr


def check_scalar(value, name: str, func: str, *, low: float | None = None,
                 high: float | None = None, low_open: bool = False,
                 high_open: bool = False, fix: str = "") -> float:
    """Check that ``value`` is one finite real number in the given interval; return it."""
    if type(value) is float:  # the common case, without the ABC and numpy checks below
        fine = math.isfinite(value) and \
            (low is None or (value > low if low_open else value >= low)) and \
            (high is None or (value < high if high_open else value <= high))
        if fine:
            return value
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value.item()
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{func}: {name} must be a single real number, got "
            f"{type(value).__name__} {value!r}; pass e.g. {name}=1.0"
        )
    v = float(value)
    if not np.isfinite(v):
        raise ValueError(
            f"{func}: {name} must be a finite number, got {v}"
            + (f"; {fix}" if fix else "")
        )
    too_low = low is not None and (v <= low if low_open else v < low)
    too_high = high is not None and (v >= high if high_open else v > high)
    if too_low or too_high:
        if high is None:
            rule = (">" if low_open else ">=") + f" {_format_number(float(low))}"
        elif low is None:
            rule = ("<" if high_open else "<=") + f" {_format_number(float(high))}"
        else:
            rule = ("in " + ("(" if low_open else "[") + _format_number(float(low)) + ", "
                    + _format_number(float(high)) + (")" if high_open else "]"))
        raise ValueError(
            f"{func}: {name} must be {rule}, got {_format_number(v)}"
            + (f"; {fix}" if fix else "")
        )
    return v


def check_2d_scores(s: np.ndarray, name: str, func: str) -> np.ndarray:
    """Scores/probabilities for multi-class losses: shape (n, C), or (C,) for one example."""
    if s.ndim not in (1, 2):
        raise ValueError(
            f"{func}: {name} must have shape (n_examples, n_classes) or (n_classes,), "
            f"got shape {s.shape}; reshape to one row per example"
        )
    return s


def check_callable(f, name: str, func: str) -> None:
    if not callable(f):
        raise TypeError(
            f"{func}: {name} must be a function, got {type(f).__name__}; pass the "
            "function itself (e.g. lambda x: mse(y, x)), not its value"
        )


def check_pair(y_true, y_pred, func: str, reduction: str = "mean",
               pred_name: str = "y_pred", finite: bool = True):
    """The common first line of an element-wise loss: two same-shape finite arrays.

    Scalars become arrays of one element (one example), so that the losses can
    work in place on the arrays they compute. ``finite=False`` leaves the NaN/inf
    check to the caller (e.g. :func:`check_probabilities`, which implies it).
    """
    check_reduction(reduction, func)
    t = as_float_array(y_true, "y_true", func, finite=finite)
    p = as_float_array(y_pred, pred_name, func, finite=finite)
    check_same_shape(t, p, "y_true", pred_name, func)
    if p.ndim == 0:
        t, p = t.reshape(1), p.reshape(1)
    return t, p


# ---------------------------------------------------------------------------
# Embeddings, divergences and metrics (lessons 10-11): vectors as rows,
# non-negative distances, probability rows.
# ---------------------------------------------------------------------------
def check_nonnegative(arr: np.ndarray, name: str, func: str, fix: str) -> None:
    """Raise ``ValueError`` if any entry of ``arr`` (already finite) is negative."""
    if arr.min() >= 0.0:
        return
    raise ValueError(
        f"{func}: {name} must be >= 0, got negative values {_preview(arr[arr < 0.0])}; {fix}"
    )


def check_vector_rows(x, name: str, func: str, *, matrix: bool = False) -> np.ndarray:
    """Embeddings as rows: a finite float array of shape ``(n, d)``, or ``(d,)`` for one
    vector unless ``matrix`` (then exactly 2-D)."""
    arr = as_float_array(x, name, func)
    allowed = (2,) if matrix else (1, 2)
    if arr.ndim not in allowed:
        shape = "(n_examples, dim)" if matrix else "(n_examples, dim) or (dim,)"
        raise ValueError(
            f"{func}: {name} must have shape {shape} (one embedding per row), got shape "
            f"{arr.shape}; reshape to one row per example, e.g. {name}.reshape(len({name}), -1)"
        )
    return arr


def check_distribution_rows(x, name: str, func: str) -> np.ndarray:
    """Probability distributions as rows, ``(n, C)`` or ``(C,)``: entries in [0, 1],
    each row summing to 1."""
    arr = check_2d_scores(as_float_array(x, name, func, finite=False), name, func)
    check_rows_sum_to_one(arr, name, func)
    if not arr.min() >= 0.0:
        check_probabilities(arr, name, func, fix="a distribution has no negative entries; "
                                                 "if these are logits, apply softmax first")
    return arr


def check_count(value, name: str, func: str | None = None, *, minimum: int, example: int | None = None) -> int:
    """A whole number (not a bool) of at least ``minimum``, returned as ``int``: a size, a
    number of steps or sweeps. ``func`` names the caller (``"lasso: max_sweeps ..."``); without
    it the argument is quoted (``"`n` ..."``). ``example`` is the value the fix suggests."""
    subject = f"{func}: {name}" if func else f"`{name}`"
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        suggestion = max(minimum, 10) if example is None else example
        raise TypeError(f"{subject} must be a whole number, got {value!r} ({type(value).__name__}); "
                        f"pass e.g. {name}={suggestion}")
    if value < minimum:
        raise ValueError(f"{subject} must be at least {minimum}, got {value}; pass a larger {name}")
    return int(value)
