"""Is the learner's output well-formed, and does it match? Type, shape, dtype, NaN, tolerance.

:func:`form_problem` says exactly what is wrong with the *form* of an output (a list, a
``(n, 1)`` column, an array where a number is expected, NaN); :func:`matches` compares
values within the exercise's tolerance (or its accepted interval). Both are pure.
"""
from __future__ import annotations

import numbers
from typing import Any, Mapping

import numpy as np

from lossbook.exercises.model import Case, Exercise


def _type_name(value: Any) -> str:
    if isinstance(value, np.ndarray):
        return f"numpy array of shape {value.shape}"
    # An output that could not leave the checking process arrives as a stand-in naming its type.
    return getattr(value, "type_name", None) or type(value).__name__


def _nonfinite_problem(got: np.ndarray, expected: np.ndarray) -> str | None:
    bad = ~np.isfinite(got) & np.isfinite(expected)
    if not bad.any():
        return None
    kinds = sorted({"nan" if np.isnan(v) else "inf" for v in got[bad].ravel()})
    what = " and ".join(kinds)
    if got.ndim == 0:
        return f"returned {what} where the answer is a finite number"
    first = tuple(int(i) for i in np.argwhere(bad)[0])
    where = first[0] if len(first) == 1 else first
    return f"returned {what} at {int(bad.sum())} of {got.size} positions (first at index {where}) where the answer is finite"


def _is_real_number(value: Any) -> bool:
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))


def scalar_problem(got: Any, expected: Any) -> str | None:
    """What is wrong with ``got`` as a single number, or None."""
    if got is None:
        return "returned None: did you forget `return`?"
    if isinstance(got, np.ndarray):
        if got.ndim == 0:
            got = got[()]
        elif got.size == 1:
            return f"returned a numpy array of shape {got.shape} where a single number is expected: use float(...) or drop keepdims"
        else:
            return (f"returned a numpy array of shape {got.shape} where a single number (the cost) is expected: "
                    "average the per-example losses")
    if isinstance(got, (list, tuple)):
        return f"returned a {type(got).__name__} where a single number is expected"
    if isinstance(got, (complex, np.complexfloating)):
        return "returned a complex number: a square root or log of a negative number somewhere?"
    if not _is_real_number(got):
        return f"returned a {_type_name(got)} where a single number (a float) is expected"
    return _nonfinite_problem(np.asarray(float(got)), np.asarray(expected, dtype=float))


def array_problem(got: Any, expected: np.ndarray) -> str | None:
    """What is wrong with ``got`` as an array shaped like ``expected``, or None."""
    if got is None:
        return "returned None: did you forget `return`?"
    shape = expected.shape
    if isinstance(got, (list, tuple)):
        return f"returned a {type(got).__name__}; return a numpy array of shape {shape} (np.asarray(...))"
    if _is_real_number(got) or (isinstance(got, np.ndarray) and got.ndim == 0):
        return f"returned a single number where an array of shape {shape} is expected (one value per entry): do not reduce it"
    if not isinstance(got, np.ndarray):
        return f"returned a {_type_name(got)} where a numpy array of shape {shape} is expected"
    if got.dtype.kind == "c":
        return "returned a complex array: a square root or log of a negative number somewhere?"
    if got.dtype.kind not in "fiu":
        return f"returned an array of dtype {got.dtype} where numbers (float) are expected"
    if got.shape != shape:
        hint = ""
        if got.size == expected.size:
            hint = f": same values count, so reshape or drop keepdims (a {got.shape} array broadcasts differently from {shape})"
        elif got.ndim < len(shape):
            hint = ": it looks reduced along an axis that should stay"
        elif got.ndim > len(shape):
            hint = ": an extra axis, e.g. broadcasting a column against a row"
        return f"returned an array of shape {got.shape} but the expected shape is {shape}{hint}"
    return _nonfinite_problem(got.astype(float), expected.astype(float))


def step_problem(got: Any, expected: tuple) -> str | None:
    """What is wrong with ``got`` as a ``(new_w, new_b)`` pair, or None."""
    if got is None:
        return "returned None: did you forget `return new_w, new_b`?"
    if not isinstance(got, (tuple, list)) or len(got) != 2:
        return f"returned a {_type_name(got)}; return the pair (new_w, new_b)"
    w_problem = array_problem(got[0], np.asarray(expected[0]))
    if w_problem:
        return f"new_w {w_problem}"
    b_problem = scalar_problem(got[1], expected[1])
    if b_problem:
        return f"new_b {b_problem}"
    return None


def _part_problem(label: str, got: Any, expected: Any) -> str | None:
    """What is wrong with one named part of a tuple output (a number, an array or a dict of them)."""
    if isinstance(expected, dict):
        keys = ", ".join(map(repr, sorted(expected)))
        if not isinstance(got, Mapping):
            return f"{label} returned a {_type_name(got)} where a dict with the keys {keys} is expected"
        missing = sorted(k for k in expected if k not in got)
        if missing:
            return f"{label} has no key {', '.join(map(repr, missing))}: it needs exactly the keys {keys}"
        extra = sorted((k for k in got if k not in expected), key=str)
        if extra:
            return f"{label} has the unexpected key {', '.join(map(repr, extra))}: it needs exactly the keys {keys}"
        for key in sorted(expected):
            problem = _part_problem(f"{label}[{key!r}]", got[key], expected[key])
            if problem:
                return problem
        return None
    problem = scalar_problem(got, expected) if np.ndim(expected) == 0 else array_problem(got, np.asarray(expected))
    return f"{label} {problem}" if problem else None


def tuple_problem(got: Any, expected: tuple, names: tuple[str, ...]) -> str | None:
    """What is wrong with ``got`` as the tuple of named parts ``names``, or None."""
    listing = ", ".join(names)
    if got is None:
        return f"returned None: did you forget `return {listing}`?"
    if not isinstance(got, (tuple, list)) or len(got) != len(names):
        size = f" of {len(got)} items" if isinstance(got, (tuple, list)) else ""
        return f"returned a {_type_name(got)}{size}; return the tuple ({listing})"
    for name, g, e in zip(names, got, expected):
        problem = _part_problem(name, g, e)
        if problem:
            return problem
    return None


def form_problem(exercise: Exercise, got: Any, expected: Any) -> str | None:
    """Dispatch on the exercise's output kind; None when the output is well-formed."""
    if exercise.output == "scalar":
        return scalar_problem(got, expected)
    if exercise.output == "array":
        return array_problem(got, np.asarray(expected))
    if exercise.output == "tuple":
        return tuple_problem(got, expected, exercise.parts)
    return step_problem(got, expected)


def leaves(value: Any, template: Any) -> list[Any]:
    """The numbers and arrays of ``value``, in the order of ``template``'s structure.

    Tuples and lists follow their order, dicts their sorted keys (as
    :func:`lossbook.canonical.canonical` prints them). Raises ``TypeError`` / ``KeyError``
    / ``ValueError`` when ``value`` does not have the structure.
    """
    if isinstance(template, dict):
        if not isinstance(value, Mapping) or set(value) != set(template):
            raise ValueError("not a dict with the expected keys")
        return [leaf for key in sorted(template) for leaf in leaves(value[key], template[key])]
    if isinstance(template, (tuple, list)):
        if not isinstance(value, (tuple, list)) or len(value) != len(template):
            raise ValueError("not a tuple of the expected length")
        return [leaf for v, t in zip(value, template) for leaf in leaves(v, t)]
    return [value]


def n_leaves(template: Any) -> int:
    """How many numbers and arrays an output shaped like ``template`` holds."""
    return len(leaves(template, template))


def as_arrays(exercise: Exercise, value: Any, template: Any = None) -> list[np.ndarray]:
    """A well-formed output as a list of float arrays (one for scalars and arrays, two for
    steps, one per number or array for tuples: see :func:`leaves`)."""
    if exercise.output == "tuple":
        parts = leaves(value, exercise.template if template is None else template)
    else:
        parts = value if exercise.output == "step" else (value,)
    return [np.asarray(p, dtype=float) for p in parts]


def close(got: Any, expected: Any, rtol: float, atol: float) -> bool:
    """Elementwise ``|got - expected| <= atol + rtol * |expected|``, NaN equal to NaN, same shapes."""
    got, expected = np.asarray(got, dtype=float), np.asarray(expected, dtype=float)
    if got.shape != expected.shape:
        return False
    with np.errstate(invalid="ignore"):
        return bool(np.all(np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)))


def matches(exercise: Exercise, case: Case, got: Any, expected: Any) -> bool:
    """Does a well-formed output match the reference (or lie in the accepted interval)?"""
    if exercise.bounds is not None:
        low, high = exercise.bounds(case)
        g = np.asarray(got, dtype=float)
        low, high = np.asarray(low, dtype=float), np.asarray(high, dtype=float)
        slack = exercise.atol + exercise.rtol * np.maximum(np.abs(low), np.abs(high))
        return g.shape == np.broadcast(low, high).shape and bool(np.all((g >= low - slack) & (g <= high + slack)))
    return all(close(g, e, exercise.rtol, exercise.atol)
               for g, e in zip(as_arrays(exercise, got, expected), as_arrays(exercise, expected, expected)))
