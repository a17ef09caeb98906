"""Turn a run of the learner's function into a :class:`~lossbook.exercises.feedback.CheckResult`.

The learner's function runs in :mod:`~lossbook.exercises.runner` (isolated, with a
timeout); everything here happens in the caller's process with the reference only:
expected values, form and value checks (:mod:`~lossbook.exercises.compare`), the numeric
gradient, and the diagnosis (:mod:`~lossbook.exercises.diagnosis`).
"""
from __future__ import annotations

import functools
import inspect
import os
from typing import Any, Callable

import numpy as np

from lossbook.exercises import compare, runner
from lossbook.exercises.diagnosis import diagnose_exercise
from lossbook.exercises.feedback import GRADIENT_LADDER, CheckResult, Failure, format_value
from lossbook.exercises.model import Case, Exercise
from lossbook.status import CheckStatus

#: A learner's gradient passes the numeric check below this CS231n relative error: the
#: "acceptable" rung of :data:`~lossbook.exercises.feedback.GRADIENT_LADDER` (kinks and round-off in the
#: finite difference stay under it; real bugs are >= 1e-2).
GRADIENT_RTOL = 1e-4


def default_timeout() -> float:
    """``$LOSSBOOK_CHECK_TIMEOUT`` seconds, else :data:`runner.DEFAULT_TIMEOUT`."""
    value = os.environ.get("LOSSBOOK_CHECK_TIMEOUT")
    try:
        return float(value) if value else runner.DEFAULT_TIMEOUT
    except ValueError:
        return runner.DEFAULT_TIMEOUT


@functools.lru_cache(maxsize=None)
def _expected(exercise: Exercise, index: int) -> Any:
    return exercise.expected(exercise.cases[index])


@functools.lru_cache(maxsize=None)
def _numeric_gradient(exercise: Exercise, index: int) -> np.ndarray:
    from lossbook.gradcheck import numeric_gradient

    case = exercise.cases[index]
    spec = exercise.gradient
    args = list(case.args)

    def cost(x):
        args[spec.wrt] = x
        return spec.cost(*args, **case.kwargs)

    return numeric_gradient(cost, np.asarray(case.args[spec.wrt], dtype=float))


def gradient_error(exercise: Exercise, index: int, got: Any) -> float | None:
    """CS231n relative error of the learner's gradient against a numeric one (None: not checked here)."""
    from lossbook.gradcheck import relative_error

    case = exercise.cases[index]
    if exercise.gradient is None or not case.numeric_gradient:
        return None
    spec = exercise.gradient
    analytic = spec.extract(case.args, got) if spec.extract else got
    return float(relative_error(np.asarray(analytic, dtype=float), _numeric_gradient(exercise, index)))


def _gradient_note(exercise: Exercise) -> str:
    kinks = any(not case.numeric_gradient for case in exercise.cases)
    return (f"Also agrees with a numeric gradient{' away from the kinks' if kinks else ''}: relative error "
            f"below 1e-4 on every case. On CS231n's ladder ({GRADIENT_LADDER}), check asks for "
            f"\"acceptable near kinks\" or better.")


def _mutation_problem(mutated: list[str]) -> str:
    names = ", ".join(mutated)
    first = mutated[0]
    return (f"Your function changed its input {names} in place (an in-place operation such as "
            f"`{first} -= ...`, `{first} *= ...` or `{first}[...] = ...`), which would change the caller's "
            f"array too. Leave the arguments unchanged: compute a new array instead, e.g. "
            f"`new_{first} = {first} - ...`.")


def forbidden_names(exercise: Exercise, folder: str | os.PathLike | None = None) -> tuple[str, ...]:
    """The exercise's forbidden implementations, less what the instructor's policy file allows.

    The policy file (``lossbook-policy.toml``) is read from ``folder``, by default the
    current folder (a learner's kernel runs in the notebook's folder, where ``lossbook
    release`` puts it); a malformed file is ignored here (``lossbook grade`` reports it).
    """
    from lossbook.exercises.forbidden import read_policy, relaxed

    try:
        policy = read_policy(folder if folder is not None else os.getcwd())
    except (ValueError, OSError):
        policy = {}
    return relaxed(exercise.forbidden or (), exercise.id, policy)


def _inputs(exercise: Exercise, case: Case) -> list[tuple[str, str]]:
    names = exercise.param_names
    shown = [(names[i] if i < len(names) else f"arg{i + 1}", format_value(a)) for i, a in enumerate(case.args)]
    return shown + [(k, format_value(v)) for k, v in case.kwargs.items()]


def _error_problem(exercise: Exercise, error: runner.ErrorInfo) -> tuple[str, str | None]:
    problem = f"Your function raised {error.type}: {error.message}" if error.message else f"Your function raised {error.type}"
    if error.type == "TypeError" and "argument" in error.message:
        problem += f" (the signature is {exercise.signature[4:-1]})"
    line = f"at line {error.lineno}: {error.line}" if error.lineno and error.line else None
    return problem, line


def _not_attempted(exercise: Exercise, summary: str) -> CheckResult:
    return CheckResult(exercise.id, exercise.title, CheckStatus.NOT_ATTEMPTED, 0, len(exercise.cases), summary)


def _wrong_callable(exercise: Exercise, fn: Any) -> CheckResult:
    what = type(fn).__name__
    return CheckResult(exercise.id, exercise.title, CheckStatus.ERROR, 0, len(exercise.cases),
                       f"check needs your function itself, e.g. check({exercise.id!r}, {exercise.name}), "
                       f"not its result (got a {what})")


def _signature_problem(exercise: Exercise, fn: Callable) -> str | None:
    """Why ``fn`` cannot be called the way the cases call it (a missing parameter), or None."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # builtins and ufuncs may have no inspectable signature
        return None
    for case in exercise.cases:
        try:
            signature.bind(*case.args, **case.kwargs)
        except TypeError as exc:
            return (f"your function cannot be called as {exercise.name}({exercise.params}) ({exc}); "
                    f"define it as: {exercise.signature}")
    return None


def _judge(exercise: Exercise, outcome: runner.CaseOutcome) -> Failure | float | None:
    """One returned value: None (right), its gradient's relative error (right, checked
    numerically), or the :class:`Failure` to show."""
    case, got = exercise.cases[outcome.index], outcome.value
    expected = _expected(exercise, outcome.index)
    problem = compare.form_problem(exercise, got, expected)
    grad_err = None
    if problem is None:
        grad_err = gradient_error(exercise, outcome.index, got)
        if not compare.matches(exercise, case, got, expected):
            problem = "Wrong value."
        elif grad_err is not None and not grad_err < GRADIENT_RTOL:
            problem = "The gradient disagrees with a numeric gradient of the cost."
        elif grad_err is not None:
            return grad_err
        else:
            return None
    elif problem.startswith("returned"):
        problem = f"Your function {problem}."
    else:  # "new_w returned ..." / "new_b returned ..."
        problem = f"Your {problem}."
    return Failure(case.name, _inputs(exercise, case), problem, expected=format_value(expected),
                   got=format_value(got), gradient_error=grad_err)


def _timeout_cause(run: runner.RunResult) -> str:
    """What stopped a run: its CPU-time limit, or the wall-clock backstop for code that waits."""
    if run.timeout_kind == "wall":
        return f"it waited {run.limit:g} s without finishing"
    return f"it used its {run.limit:g} s of CPU time" if run.limit is not None else "it was stopped"


def _timeout_problem(run: runner.RunResult) -> str:
    if run.timeout_kind == "wall":
        return (f"Stopped on this case after {run.limit:g} s of waiting without computing (time.sleep, "
                "or waiting for something that never comes?). The kernel is fine; fix it and check again.")
    return ("Stopped on this case: it used the check's CPU-time limit (an infinite loop, or very slow code?). "
            "The kernel is fine; fix the loop and check again.")


def run_check(exercise: Exercise, fn: Callable, *, timeout: float | None = None,
              isolation: str | None = None) -> CheckResult:
    """Run ``fn`` on every case of ``exercise`` and build the verdict (see :func:`lossbook.exercises.api.check`)."""
    if not callable(fn):
        return _wrong_callable(exercise, fn)
    cases = exercise.cases
    n_total = len(cases)
    problem = _signature_problem(exercise, fn)
    if problem:
        return CheckResult(exercise.id, exercise.title, CheckStatus.ERROR, 0, n_total, problem)
    run = runner.run_cases(fn, cases, exercise.param_names,
                           timeout=default_timeout() if timeout is None else timeout, isolation=isolation,
                           forbidden=forbidden_names(exercise))
    outcomes = run.outcomes
    refused = next((o for o in outcomes if o.error is not None and o.error.type == "ForbiddenCall"), None)
    if refused is not None:
        # The same verdict and reason as the grader's (the hidden tests score 0).
        case = cases[refused.index]
        return CheckResult(exercise.id, exercise.title, CheckStatus.ERROR, 0, n_total, refused.error.message,
                           failure=Failure(case.name, _inputs(exercise, case), refused.error.message),
                           printed=run.stdout)
    first = outcomes[0] if outcomes else None
    if first is not None and first.error is not None and first.error.not_implemented:
        return _not_attempted(exercise, "not attempted yet: replace `raise NotImplementedError` with your code, "
                                        "then run the cell again")
    if outcomes and len(outcomes) == n_total and all(o.error is None and o.value is None for o in outcomes):
        return _not_attempted(exercise, "not attempted yet: your function returns None "
                                        "(if you wrote code, does it end with `return`?)")

    n_passed, failure, status = 0, None, CheckStatus.PASSED
    gradient_errors: list[float] = []
    inputs, values = [], []
    mutated: list[str] = []
    first_mutation: int | None = None
    warned: list[str] = []
    for outcome in outcomes:
        case = cases[outcome.index]
        mutated += [name for name in outcome.mutated if name not in mutated]
        if outcome.mutated and first_mutation is None:
            first_mutation = outcome.index
        warned += [text for text in outcome.warned if text not in warned]
        if outcome.error is not None:
            if failure is None:
                problem, line = _error_problem(exercise, outcome.error)
                failure, status = Failure(case.name, _inputs(exercise, case), problem, error_line=line), CheckStatus.ERROR
            continue
        inputs.append(case)
        values.append(None if isinstance(outcome.value, runner.Opaque) else outcome.value)
        verdict = _judge(exercise, outcome)
        if verdict is None:
            n_passed += not outcome.mutated
            continue
        if isinstance(verdict, float):
            gradient_errors.append(verdict)
            n_passed += not outcome.mutated
            continue
        if failure is None:
            failure, status = verdict, CheckStatus.FAILED

    if run.timed_out_case is not None:
        case = cases[min(run.timed_out_case, n_total - 1)]
        status = CheckStatus.TIMEOUT
        failure = Failure(case.name, _inputs(exercise, case), _timeout_problem(run))
    elif run.crashed is not None:
        index = run.crashed_case if run.crashed_case is not None else len(outcomes)
        index = min(index, n_total - 1)
        status = CheckStatus.ERROR
        failure = Failure(cases[index].name, _inputs(exercise, cases[index]),
                          f"{run.crashed[0].upper()}{run.crashed[1:]} on this case; the kernel is fine.")
    elif mutated and status in (CheckStatus.PASSED, CheckStatus.FAILED):
        # Changing an argument in place (w -= lr * grad) corrupts the caller's data: a real
        # bug even when the returned values are right, so it fails rather than warns.
        if failure is None:
            case = cases[first_mutation]
            failure = Failure(case.name, _inputs(exercise, case), _mutation_problem(mutated))
            mutated = []  # said in the failure; no warning repeats it
        status = CheckStatus.FAILED

    diagnosis = None
    if status in (CheckStatus.FAILED, CheckStatus.ERROR) and inputs:
        try:
            diagnosis = diagnose_exercise(exercise, inputs, values)
        except Exception:  # noqa: BLE001 - a diagnosis must never break the verdict
            diagnosis = None

    if status == CheckStatus.PASSED:
        summary = f"all {n_total} cases passed."
    elif status == CheckStatus.FAILED:
        summary = f"{n_passed} of {n_total} cases passed."
    elif status == CheckStatus.TIMEOUT:
        summary = (f"your function did not finish in time: {_timeout_cause(run)} "
                   f"({n_passed} of {n_total} cases had passed).")
    else:
        summary = f"your function raised an error ({n_passed} of {n_total} cases passed)." \
            if run.crashed is None else f"the process running your function ended ({n_passed} of {n_total} cases passed)."
    warnings = [f"your function changed its input {name} in place (it was given a copy, so nothing was lost; "
                "your function must leave its arguments unchanged)" for name in mutated]
    warnings += [f"Python warned while running your function: {text}" for text in warned[:3]]
    return CheckResult(
        exercise.id, exercise.title, status, n_passed, n_total, summary, failure=failure,
        diagnosis=diagnosis, warnings=warnings, printed=run.stdout,
        gradient_error=max(gradient_errors) if status == CheckStatus.PASSED and gradient_errors else None,
        gradient_note=_gradient_note(exercise) if status == CheckStatus.PASSED and gradient_errors else None,
    )
