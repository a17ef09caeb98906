"""Grade one submission: run its grading notebook in a fresh sandboxed kernel, score it.

Cells run one at a time, each with the cell timeout, all within the submission's
timeout. A hidden-test cell scores its points when nbval finds its outputs equal to the
stored expected outputs (:mod:`lossbook.grading.compare`), else 0 with a reason. When a
cell times out the kernel is interrupted; the exercise's remaining hidden tests are
skipped and grading goes on with the next exercise. A kernel that ignores the interrupt,
exits (``sys.exit``, ``os._exit``) or crashes ends the submission: the cells not run
score 0 with that reason. The kernel is killed afterwards in every case.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from lossbook import notebook_roles as roles
from lossbook.grading.assemble import GradingNotebook
from lossbook.grading.compare import compare, stdout_text
from lossbook.grading.kernel import CellRun

REFUSAL_NAMES = {
    "reference-import": "importing the reference implementation",
    "file-read": "reading a file (solutions, notebooks, or outside Python and /tmp)",
    "subprocess": "starting a subprocess",
    "ctypes": "ctypes (raw memory or C calls)",
    "network": "network access",
    "introspection": "walking the interpreter's heap (gc.get_objects and friends)",
    "profile-hook": "replacing the profile hook that watches for forbidden implementations",
}


@dataclass
class TestResult:
    """One hidden-test cell's outcome."""

    exercise: str
    number: int
    points: float
    max_points: float
    reason: str = ""
    stdout: str = ""  # what the learner's code printed (feedback diagnoses from it)


@dataclass
class SubmissionResult:
    """Everything the gradebook and the feedback need about one submission."""

    learner: str
    lesson: str
    status: str
    points: dict[str, float] = field(default_factory=dict)
    max_points: dict[str, float] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    tests: list[TestResult] = field(default_factory=list)
    solutions_hash: str = ""
    sandbox: str = "bwrap"  # the sandbox backend, or "NONE"
    seconds: float = 0.0
    source: str = ""
    content_hash: str = ""

    @property
    def sandboxed(self) -> bool:
        return self.sandbox != "NONE"

    @property
    def total(self) -> float:
        return sum(self.points.values())

    @property
    def max_total(self) -> float:
        return sum(self.max_points.values())


def _error_reason(run: CellRun) -> str:
    ename, evalue = run.error or ("", "")
    if ename == "NotImplementedError":
        return "not attempted (raise NotImplementedError)"
    if ename == "ForbiddenCall" and evalue.startswith("uses "):
        return evalue[:200]  # "uses scipy.special.softmax: write it yourself", as check says
    if "lossbook grader refused" in evalue:
        return evalue.split(": ", 1)[-1][:200]
    text = f"{ename}: {evalue}".strip(": ")
    return f"raised {text[:200]}"


def _stop_reason(run: CellRun, timeout: float) -> str:
    if run.status == "killed":
        return f"the kernel was stopped: a cell ran past its time ({timeout:g} s) and ignored the interrupt"
    if run.status == "died":
        return "the kernel exited or crashed (sys.exit/os._exit/exit() or a crash)"
    return run.status


def _test_reasons(tests: list[TestResult]) -> list[str]:
    """One reason per exercise when all its tests failed alike, else one per failed test."""
    by_exercise: dict[str, list[TestResult]] = {}
    for test in tests:
        by_exercise.setdefault(test.exercise, []).append(test)
    reasons = []
    for exercise, group in by_exercise.items():
        distinct = {t.reason for t in group}
        if len(distinct) == 1 and "" not in distinct:
            reasons.append(f"{exercise}: {group[0].reason}")
            continue
        reasons.extend(f"{exercise} test {t.number}: {t.reason}" for t in group if t.reason)
    return reasons


def execute(grading: GradingNotebook, kernel, *, cell_timeout: float, submission_timeout: float,
            learner: str = "", solutions_hash: str = "", sandbox: str = "bwrap") -> SubmissionResult:
    """Run ``grading`` in ``kernel`` (a ready :class:`SandboxedKernel`); kills it at the end."""
    start = time.monotonic()
    deadline = start + submission_timeout
    result = SubmissionResult(learner, grading.lesson, "graded", {e: 0 for e in grading.max_points},
                              dict(grading.max_points), solutions_hash=solutions_hash, sandbox=sandbox)
    exercise_notes: dict[str, str] = {e: "no answer cell (a code cell with role \"answer\" for this "
                                      "exercise) in the submission" for e in grading.missing}
    stopped: str | None = None
    try:
        for cell in grading.cells:
            skip = stopped or (exercise_notes.get(cell.exercise) if cell.role == roles.HIDDEN_TESTS else None)
            if cell.role == roles.HIDDEN_TESTS and skip:
                result.tests.append(TestResult(cell.exercise, cell.number, 0, cell.points, skip))
                continue
            if stopped:
                continue
            if time.monotonic() >= deadline:
                stopped = f"the submission ran out of time ({submission_timeout:g} s in all)"
                result.status = "timed-out"
                continue
            run = kernel.run_cell(cell.source, timeout=cell_timeout, deadline=deadline)
            if run.status in ("killed", "died"):
                stopped = _stop_reason(run, cell_timeout)
                if time.monotonic() >= deadline:
                    stopped = f"the submission ran out of time ({submission_timeout:g} s in all)"
                result.status = "timed-out" if run.status == "killed" else "kernel-died"
                if cell.role == roles.HIDDEN_TESTS:
                    result.tests.append(TestResult(cell.exercise, cell.number, 0, cell.points, stopped))
                continue
            if cell.role == roles.ANSWER:
                if run.status == "timeout":
                    exercise_notes[cell.exercise] = f"the answer cell timed out ({cell_timeout:g} s)"
                elif run.status == "error" and cell.exercise not in exercise_notes:
                    # Later hidden tests still run: a failing line after a good def is not fatal.
                    result.reasons.append(f"{cell.exercise}: answer cell {_error_reason(run)}")
                continue
            if cell.role != roles.HIDDEN_TESTS:
                continue
            printed = stdout_text(run.outputs)
            if run.status == "timeout":
                reason = f"timed out after {cell_timeout:g} s (an infinite loop?)"
                exercise_notes[cell.exercise] = f"skipped: an earlier hidden test of this exercise timed out"
            elif run.status == "output-too-large":
                reason = "printed too much output"
            elif run.status == "error":
                reason = _error_reason(run)
            else:
                try:
                    same, _ = compare(run.outputs, cell.expected)
                    reason = "" if same else "output differs from the expected output"
                except Exception as error:  # noqa: BLE001 - outputs nbval cannot compare
                    reason = f"its output could not be compared ({type(error).__name__})"
            points = cell.points if not reason else 0
            result.tests.append(TestResult(cell.exercise, cell.number, points, cell.points, reason, printed))
            result.points[cell.exercise] = result.points.get(cell.exercise, 0) + points
    finally:
        refusals = kernel.refusals() if hasattr(kernel, "refusals") else []
        kernel.kill()
    result.reasons.extend(_test_reasons(result.tests))
    seen = set()
    for kind, detail in refusals:
        if (kind, detail) not in seen:
            seen.add((kind, detail))
            result.reasons.append(f"refused: {REFUSAL_NAMES.get(kind, kind)} ({detail.strip(chr(39))[:120]})")
    if stopped and result.status == "graded":
        result.status = "incomplete"
    result.seconds = time.monotonic() - start
    return result
