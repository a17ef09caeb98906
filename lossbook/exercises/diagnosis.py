"""Why is the learner's answer wrong? A pure function of (exercise, inputs, outputs).

:func:`diagnose` never sees the learner's function, only what it returned on known
inputs, so the grader can call it outside the learner's kernel with the numbers the
learner's hidden-test cells printed. It tries, in order:

1. the exercise's named misconceptions: the learner's outputs equal a known wrong
   implementation's on every case (where that implementation differs from the right
   answer somewhere) → that misconception's message;
2. generic patterns: NaN/inf where the answer is finite (overflow), right on 1-D inputs
   but not on 2-D ones, 0 on every case (a placeholder), the negative of the answer (wrong
   sign), ``n`` times too large (a sum instead of a mean) or too small, a constant factor.

Returns the message, or ``None`` when nothing is recognised (or nothing is wrong).
:func:`diagnose_detail` also returns the diagnosis's stable id: the misconception's
catalog key (its ``name``), or one of the :data:`GENERIC` pattern ids (``generic:…``).
"""
from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from typing import Any, Callable, Mapping, NamedTuple, Sequence

import numpy as np

from lossbook.exercises.model import Case, Exercise

#: Relative tolerance when matching outputs: printed outputs carry ~8 significant digits.
MATCH_RTOL = 1e-5
MATCH_ATOL = 1e-8


class Diagnosis(NamedTuple):
    """A diagnosis: ``id`` is stable across releases (the catalog's misconception key, or a
    :data:`GENERIC` id), ``message`` is what the learner is told."""

    id: str
    message: str


#: The generic patterns' ids → (what to reteach, the lesson section that addresses it as
#: ``"<lesson id>: <heading>"`` or ``""`` for "the exercise's own lesson").
GENERIC = {
    "generic:overflow": ("Show a large input overflowing exp/cosh in float64, then the stable rewrite "
                         "(subtract the max, log-sum-exp, softplus).",
                         "04_cross_entropy: Where naive code breaks"),
    "generic:non-finite": ("Find the log(0) or the division by zero: clip probabilities, guard 0·log 0, "
                           "use np.sign instead of r/|r|.", "04_cross_entropy: Where naive code breaks"),
    "generic:1-d-only": ("Run the function on a 2-D array: len() counts rows only and sums/maxima need an axis; "
                         "use .size, np.mean, or axis=-1 with keepdims=True.", ""),
    "generic:zero": ("Check that the answer cell returns the computed value: a leftover placeholder "
                     "(return 0) scores nothing.", ""),
    "generic:sign": ("Write the residual as r = ŷ − y and check the sign with one hand-computed example.", ""),
    "generic:gradient-sign": ("Differentiate with respect to the prediction (ŷ − y, not y − ŷ) and check "
                              "one entry with a finite difference.", "02_mse: The gradient"),
    "generic:sum": ("Re-derive the cost as the average of the per-example losses (1/n Σ); a sum grows with "
                    "the data set, a mean does not.", "01_loss_vs_cost: Why the mean and not the sum?"),
    "generic:gradient-no-n": ("The gradient of a mean carries the mean's 1/n: differentiate (1/n) Σ term by "
                              "term, keeping the 1/n.", "02_mse: The gradient"),
    "generic:divided-twice": ("Count the divisions by n: the mean divides once; a second division makes the "
                              "result n times too small.", "01_loss_vs_cost: Why the mean and not the sum?"),
    "generic:constant-factor": ("Compare the formula's constants with the lesson's (a ½, a 2, a missing "
                                "weight); the course uses no ½ unless a formula says so.", ""),
}


def _as_case(exercise: Exercise, item: Any, index: int) -> Case:
    if isinstance(item, Case):
        return item
    if isinstance(item, Mapping):
        names = [n for n in exercise.param_names if n in item]
        unknown = set(item) - set(exercise.param_names)
        if unknown:
            raise ValueError(f"diagnose: inputs[{index}] has {sorted(unknown)}, which {exercise.signature} "
                             f"does not take; use the names {list(exercise.param_names)}")
        return Case(f"case {index + 1}", tuple(_arrayish(item[n]) for n in names))
    if isinstance(item, (tuple, list)):
        return Case(f"case {index + 1}", tuple(_arrayish(a) for a in item))
    raise TypeError(f"diagnose: inputs[{index}] must be a Case, a tuple of positional arguments or a dict "
                    f"of arguments by name; got {type(item).__name__}")


def _arrayish(value: Any) -> Any:
    return np.asarray(value) if isinstance(value, list) else value


def parse_printed(text: str) -> Any:
    """A value from its printed canonical text (:func:`lossbook.canonical.canonical`):
    ``"0.5"``, ``"[1, nan, -inf]"``, ``"([1, 2], 0.5)"``. Raises ``ValueError`` otherwise
    (:func:`lossbook.canonical.parse`)."""
    from lossbook.canonical import parse

    try:
        return parse(text)
    except ValueError:
        raise ValueError(f"not a printed number, list or tuple of numbers: {str(text)[:80]!r}") from None


def _numeric(exercise: Exercise, value: Any) -> list[np.ndarray] | None:
    """The output as float arrays (two for a step), or None when it is not numbers at all."""
    if isinstance(value, str):
        try:
            value = parse_printed(value)
        except ValueError:
            return None
    try:
        if exercise.output == "step":
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                return None
            parts = list(value)
        elif exercise.output == "tuple":
            parts = _tuple_leaves(exercise, value)
        else:
            parts = [value]
        arrays = [np.asarray(p, dtype=float) for p in parts]
    except (TypeError, ValueError, KeyError):
        return None
    return arrays


def _tuple_leaves(exercise: Exercise, value: Any) -> list[Any]:
    """A tuple output's numbers and arrays: from the nested output itself, or from the
    flat sequence of them that a hidden-test cell prints one per line (in the order of
    :func:`lossbook.exercises.compare.leaves`)."""
    from lossbook.exercises.compare import leaves, n_leaves

    template = exercise.template
    if isinstance(value, (tuple, list)) and any(isinstance(v, str) for v in value):
        value = tuple(parse_printed(v) if isinstance(v, str) else v for v in value)
    try:
        return leaves(value, template)
    except (TypeError, ValueError, KeyError):
        if isinstance(value, (tuple, list)) and len(value) == n_leaves(template) != len(template):
            return list(value)
        raise


def _finite_or_nan(a: np.ndarray) -> np.ndarray:
    """NaN and ±inf all become NaN: "it blew up" is one outcome, however it blew up."""
    return np.where(np.isfinite(a), a, np.nan)


def _agree(a: list[np.ndarray] | None, b: list[np.ndarray] | None, strict: bool = False) -> bool:
    """Same values within tolerance; non-finite values agree with any non-finite value
    (``strict``: only NaN with NaN, and inf with inf of the same sign)."""
    if a is None or b is None or len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.shape != y.shape:
            return False
        if not strict:
            x, y = _finite_or_nan(x), _finite_or_nan(y)
        with np.errstate(invalid="ignore"):
            if not np.all(np.isclose(x, y, rtol=MATCH_RTOL, atol=MATCH_ATOL, equal_nan=True)):
                return False
    return True


def _call(fn, case: Case) -> Any:
    with np.errstate(all="ignore"):
        try:
            return fn(*case.args, **case.kwargs)
        except Exception:  # noqa: BLE001 - a misconception may not apply to every case
            return None


# --- the catalog's own outputs, remembered ------------------------------------------------
#
# A diagnosis runs the exercise's reference and every misconception on every case, twice for
# the misconceptions (strict, then lenient matching): for choose_loss that is 24 fits of 300
# descent steps per implementation, about 0.25 s each. These implementations are the catalog's
# own code, pure functions of their inputs, so their outputs are remembered, keyed by the
# implementation itself and by the *content* of the inputs (dtype, shape and bytes of every
# array, type and value of every other argument). The learner's outputs are never remembered:
# they are what each diagnosis is given, so a learner who changes their function gets a
# verdict on the new outputs. Inputs that cannot be keyed by content (objects other than
# numbers, strings, arrays and containers of them) are never cached.

#: How many (implementation, inputs) outputs are kept (least recently used dropped first).
CACHE_SIZE = 1024
_cache: OrderedDict[tuple, Any] = OrderedDict()
_cache_lock = threading.Lock()
_MISSING = object()


def _content_key(value: Any, digest) -> bool:
    """Feed ``value``'s type and content to ``digest``; False if it cannot be keyed by content."""
    if isinstance(value, np.ndarray):
        if value.dtype.hasobject:
            return False
        digest.update(f"array {value.dtype.str} {value.shape}:".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
        return True
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes, np.generic)):
        digest.update(f"{type(value).__name__} {value!r};".encode())
        return True
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        items = [item for k in sorted(value) for item in (k, value[k])]
    elif isinstance(value, (tuple, list)):
        items = list(value)
    else:
        return False
    digest.update(f"{type(value).__name__} {len(value)}(".encode())
    if not all(_content_key(item, digest) for item in items):
        return False
    digest.update(b")")
    return True


def _case_key(case: Case) -> bytes | None:
    digest = hashlib.blake2b(digest_size=20)
    if _content_key(tuple(case.args), digest) and _content_key(dict(case.kwargs), digest):
        return digest.digest()
    return None


def _frozen(value: Any) -> Any:
    """``value`` with every array in it read-only: a remembered output cannot be changed by a caller."""
    if isinstance(value, np.ndarray):
        value = value.copy()
        value.flags.writeable = False
        return value
    if isinstance(value, tuple):
        return tuple(_frozen(v) for v in value)
    if isinstance(value, list):
        return [_frozen(v) for v in value]
    if isinstance(value, dict):
        return {k: _frozen(v) for k, v in value.items()}
    return value


def _catalog_output(fn: Callable, case: Case, *, expected: bool = False) -> Any:
    """What the catalog's own ``fn`` (a misconception; the reference with ``expected``) returns
    on ``case``, remembered by ``fn`` and the content of ``case``'s inputs. A misconception that
    raises gives None (it may not apply to every case); the reference's error is raised, as
    :meth:`Exercise.expected` raises it, and is not remembered."""
    def run():
        return fn(*case.args, **case.kwargs) if expected else _call(fn, case)

    content = _case_key(case)
    if content is None:
        return run()
    key = (fn, expected, content)
    with _cache_lock:
        found = _cache.get(key, _MISSING)
        if found is not _MISSING:
            _cache.move_to_end(key)
            return found
    value = _frozen(run())
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def clear_cache() -> None:
    """Forget the remembered outputs of references and misconceptions (see :func:`_catalog_output`)."""
    with _cache_lock:
        _cache.clear()


class _Row:
    """One case: its inputs, the learner's output, the right answer (or accepted interval)."""

    def __init__(self, exercise: Exercise, case: Case, got: list[np.ndarray]):
        self.case, self.got = case, got
        self.expected = _numeric(exercise, _catalog_output(exercise.reference, case, expected=True))
        self.ambiguous = False
        self.correct = _agree(got, self.expected)
        if exercise.bounds is not None:
            low, high = (np.asarray(v, dtype=float) for v in exercise.bounds(case))
            self.ambiguous = bool(np.any(high - low > MATCH_ATOL + MATCH_RTOL * np.abs(high)))
            g = got[0]
            slack = MATCH_ATOL + MATCH_RTOL * np.maximum(np.abs(low), np.abs(high))
            self.correct = g.shape == low.shape and bool(np.all((g >= low - slack) & (g <= high + slack)))


def _rows(exercise: Exercise, inputs: Sequence[Any], outputs: Sequence[Any]) -> list[_Row]:
    if len(inputs) != len(outputs):
        raise ValueError(f"diagnose: got {len(inputs)} inputs but {len(outputs)} outputs; give one output per input")
    rows = []
    for index, (item, out) in enumerate(zip(inputs, outputs)):
        case = _as_case(exercise, item, index)
        got = None if out is None else _numeric(exercise, out)
        if got is not None:
            rows.append(_Row(exercise, case, got))
    return rows


class _Flat:
    """A row whose parts are joined into one flat array (for the ratio patterns)."""

    def __init__(self, row: _Row):
        self.case, self.correct = row.case, row.correct
        self.got = [np.concatenate([a.ravel() for a in row.got])]
        self.expected = [np.concatenate([a.ravel() for a in row.expected])]


def _misconception(exercise: Exercise, rows: list[_Row], strict: bool):
    for m in exercise.misconceptions:
        compared, explains_a_mistake = 0, False
        for row in rows:
            m_out = _catalog_output(m.implementation, row.case)
            m_num = None if m_out is None else _numeric(exercise, m_out)
            if m_num is None:
                continue
            m_blows_up = any(not np.all(np.isfinite(a)) for a in m_num)
            if row.ambiguous and not m_blows_up:
                continue  # any clip epsilon is right here, so the values say nothing
            if not _agree(row.got, m_num, strict):
                break
            compared += 1
            explains_a_mistake |= not row.correct
        else:
            if compared and explains_a_mistake:
                return Diagnosis(m.name, m.message)
    return None


def _ratios(rows: list[_Row]) -> list[tuple[_Row, float]] | None:
    """Per row, the c with got ≈ c · expected (rows where the answer is 0 must be 0 too)."""
    out = []
    for row in rows:
        g, e = row.got[0].ravel(), row.expected[0].ravel()
        if g.shape != e.shape or not (np.all(np.isfinite(g)) and np.all(np.isfinite(e))):
            return None
        scale = float(e @ e)
        if scale < 1e-24:
            if np.max(np.abs(g), initial=0.0) > 1e-9:
                return None
            continue
        c = float(g @ e) / scale
        if not np.allclose(g, c * e, rtol=MATCH_RTOL, atol=MATCH_ATOL * 10):
            return None
        out.append((row, c))
    return out or None


def _same(values: Sequence[float], targets: Sequence[float]) -> bool:
    return bool(np.allclose(values, targets, rtol=1e-4, atol=1e-9))


def _nice(c: float) -> str:
    for num, text in ((0.5, "½"), (0.25, "¼"), (1 / 3, "⅓")):
        if abs(c - num) < 1e-4 * num:
            return text
    return f"{c:.4g}"


def _constant_zero(rows: list[_Row]) -> Diagnosis | None:
    """The message for an answer that is 0 everywhere while the answer is not (a placeholder
    ``return 0``, or a result computed and then not returned), else None."""
    if not all(np.all(a == 0) for r in rows for a in r.got):
        return None
    if not any(not r.correct for r in rows):
        return None
    return Diagnosis("generic:zero", "your function returns 0 on every case, but the answer is not 0: is it "
                     "still a placeholder (return 0), or does it compute the result and return something else?")


def _generic(exercise: Exercise, rows: list[_Row]) -> Diagnosis | None:
    wrong = [r for r in rows if not r.correct]
    blown = [r for r in wrong if any(not np.all(np.isfinite(a)) for a in r.got)
             and all(np.all(np.isfinite(a)) for a in r.expected)]
    if blown:
        large = any(np.max(np.abs(np.asarray(a, dtype=float)), initial=0.0) >= 100
                    for r in blown for a in r.case.args if np.ndim(a) or isinstance(a, (int, float)))
        if large:
            return Diagnosis("generic:overflow", "returned inf or NaN on large inputs where the answer is "
                             "finite: something overflowed (exp or cosh of a large number?); rewrite it in a "
                             "numerically stable form")
        return Diagnosis("generic:non-finite",
                         "returned inf or NaN where the answer is finite: a log(0) or a division by zero?")
    flat = [r for r in rows if r.case.ndim <= 1]
    multi = [r for r in rows if r.case.ndim >= 2]
    if flat and multi and all(r.correct for r in flat) and not all(r.correct for r in multi):
        return Diagnosis("generic:1-d-only", "right for 1-D input but not for 2-D: len() counts rows only and "
                         "sums/maxima need an axis; use .size, np.mean, or axis=-1 with keepdims=True where it applies")
    if exercise.output == "step":
        return None
    if exercise.output == "tuple":   # one ratio over all the parts at once
        rows = [_Flat(r) for r in rows]
    zero = _constant_zero(rows)
    if zero:
        return zero
    ratios = _ratios([r for r in rows])
    if not ratios or all(abs(c - 1) < 1e-6 for _, c in ratios):
        return None
    cs = [c for _, c in ratios]
    ns = [exercise.n_examples(r.case) for r, _ in ratios]
    gradient = exercise.is_gradient
    if len(cs) >= 2 and _same(cs, [-1.0] * len(cs)):
        return (Diagnosis("generic:gradient-sign", "gradient has the wrong sign: differentiate with respect to "
                          "the prediction (ŷ − y, not y − ŷ)") if gradient else
                Diagnosis("generic:sign", "wrong sign: your result is exactly the negative of the answer"))
    if len(set(ns)) > 1 and _same(cs, ns):
        return (Diagnosis("generic:gradient-no-n", "gradient not divided by n: the cost is a mean, so each "
                          "example's gradient carries 1/n") if gradient else
                Diagnosis("generic:sum", "exactly n times too large: did you sum instead of averaging?"))
    if len(set(ns)) > 1 and _same(cs, [1 / n for n in ns]):
        return Diagnosis("generic:divided-twice", "exactly n times too small: did you divide by n twice?")
    if len(cs) >= 3 and _same(cs, [cs[0]] * len(cs)):
        c = cs[0]
        if c > 0:
            return Diagnosis("generic:constant-factor", f"off by a constant factor of {_nice(c)} on every case: "
                             "check the constants (a missing ½ or 2?)")
        return Diagnosis("generic:constant-factor",
                         f"off by a constant factor of {_nice(c)} (a sign and a constant) on every case")
    return None


def diagnose_exercise(exercise: Exercise, inputs: Sequence[Any], outputs: Sequence[Any]) -> str | None:
    """:func:`diagnose` for an :class:`Exercise` object."""
    found = diagnose_exercise_detail(exercise, inputs, outputs)
    return None if found is None else found.message


def diagnose_exercise_detail(exercise: Exercise, inputs: Sequence[Any], outputs: Sequence[Any]
                             ) -> Diagnosis | None:
    """:func:`diagnose_detail` for an :class:`Exercise` object."""
    rows = _rows(exercise, inputs, outputs)
    if not rows or all(r.correct for r in rows):
        return None
    return (_misconception(exercise, rows, strict=True) or _misconception(exercise, rows, strict=False)
            or _generic(exercise, rows))


def diagnose(exercise_id: str, inputs: Sequence[Any], outputs: Sequence[Any]) -> str | None:
    """Name the learner's likely mistake from their outputs on known inputs.

    Parameters
    ----------
    exercise_id : str
        The exercise (``"mse"``).
    inputs : sequence
        One entry per case: a :class:`~lossbook.exercises.model.Case`, a tuple of
        positional arguments, or a dict of arguments by the learner's parameter names.
    outputs : sequence
        What the learner's function returned on each input: numbers, arrays, lists, or
        the text a hidden-test cell printed for it (canonical text such as
        ``"[0.5, nan, -inf]"``, see :mod:`lossbook.canonical`); ``None`` for a case that
        raised or printed nothing usable.

    Returns
    -------
    str or None
        A short message ("exactly n times too large: did you sum instead of
        averaging?"), or None when the outputs are right or the mistake is not recognised.

    Examples
    --------
    >>> diagnose("mse", [([1.0, 2.0], [2.0, 4.0]), ([0.0], [3.0])], [5.0, 9.0])
    'exactly n times too large: did you sum instead of averaging?'
    >>> diagnose("mse", [([1.0, 2.0], [2.0, 4.0])], [2.5]) is None
    True
    >>> diagnose("mse_grad", [([1.0, 2.0], [2.0, 4.0]), ([0.0], [3.0])], ["[-1, -2]", "[-6]"])
    'gradient has the wrong sign: differentiate with respect to y_pred, giving (ŷ − y), not (y − ŷ)'
    """
    from lossbook.exercises.registry import get

    return diagnose_exercise(get(exercise_id), inputs, outputs)


def diagnose_detail(exercise_id: str, inputs: Sequence[Any], outputs: Sequence[Any]) -> Diagnosis | None:
    """:func:`diagnose`, with the diagnosis's stable id.

    >>> diagnose_detail("mse", [([1.0, 2.0], [2.0, 4.0]), ([0.0], [3.0])], [5.0, 9.0])
    Diagnosis(id='sum', message='exactly n times too large: did you sum instead of averaging?')
    """
    from lossbook.exercises.registry import get

    return diagnose_exercise_detail(get(exercise_id), inputs, outputs)
