"""Grade one submission in two halves: run its cells in a kernel, then score the runs.

1. :func:`run_cells` (the running side; it can run on another machine) takes a
   :class:`GradingJob`: plain, picklable data holding the cells to run (learner's answers,
   the instructor's other cells, the hidden tests' *code*), the timeouts and the kernel's
   limits, but **never the expected outputs**. It runs the cells one at a time in a ready
   sandboxed kernel, each with the cell timeout, all within the submission's timeout, kills
   the kernel in every case, and returns :class:`SubmissionRuns`: plain run records (each
   cell's :class:`~lossbook.grading.kernel.CellRun` or why it was not run, the refusals
   the kernel's guards reported, timings, how the kernel stopped).
2. :func:`score` (the grading side, pure) compares the records with the plan's expected
   outputs (:mod:`lossbook.grading.compare`, nbval's way) and gives the
   :class:`SubmissionResult` the gradebook and the feedback are written from.

The policy, decided while running: when a cell times out the kernel is interrupted; the
exercise's remaining hidden tests are not run and grading goes on with the next exercise
(likewise for an exercise whose answer cell timed out or is missing). A kernel that
ignores the interrupt, exits (``sys.exit``, ``os._exit``) or crashes, or a submission out
of time, ends the run: the cells not run score 0 with that reason.
:func:`execute` is both halves in one call.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field

from lossbook import notebook_roles as roles
from lossbook.grading.assemble import GradingNotebook, PlanCell
from lossbook.grading.compare import compare, stdout_text
from lossbook.grading.kernel import MAX_CELL_OUTPUT, MAX_SUBMISSION_OUTPUT, CellRun, output_size
from lossbook.grading.sandbox import Limits
from lossbook.status import KERNEL_GONE, CellStatus, RowStatus

REFUSAL_NAMES = {
    "reference-import": "importing the reference implementation",
    "file-read": "reading a file (solutions, notebooks, or outside Python and /tmp)",
    "subprocess": "starting a subprocess",
    "ctypes": "ctypes (raw memory or C calls)",
    "network": "network access",
    "introspection": "walking the interpreter's heap (gc.get_objects and friends)",
    "profile-hook": "replacing the profile hook that watches for forbidden implementations",
}

# Why a cell's exercise is blocked (its hidden tests are not run): CellRecord.blocked.
NO_ANSWER = "no-answer"
ANSWER_TIMED_OUT = "answer-timed-out"
TEST_TIMED_OUT = "test-timed-out"
# How a run ended early: SubmissionRuns.stop (or None: every cell came up).
STOP_KILLED, STOP_DIED, STOP_DEADLINE = CellStatus.KILLED.value, CellStatus.DIED.value, "deadline"
# Which output limit cut a cell's outputs: CellRecord.output_limit.
CELL_LIMIT, SUBMISSION_LIMIT = "cell", "submission"


# ----------------------------------------------------------------------------- the job
@dataclass(frozen=True)
class JobCell:
    """One cell to run: its code, and the role and exercise the running policy needs."""

    source: str
    role: str | None
    exercise: str | None


@dataclass(frozen=True)
class GradingJob:
    """Everything a kernel needs to run one submission: plain data, no expected outputs.

    ``cells`` line up one to one with the plan's cells (:class:`GradingNotebook`);
    ``missing`` are the exercises without an answer cell (their hidden tests are not run);
    ``limits`` and ``no_sandbox`` say what kernel to start for it where none is given.
    """

    lesson: str
    cells: tuple[JobCell, ...]
    missing: tuple[str, ...]
    cell_timeout: float
    submission_timeout: float
    limits: Limits | None = None
    no_sandbox: bool = False
    key: str = ""  # a name for logs and schedulers: "<learner> × <lesson>"


def job_for(plan: GradingNotebook, *, cell_timeout: float, submission_timeout: float,
            limits: Limits | None = None, no_sandbox: bool = False, key: str = "") -> GradingJob:
    """The job of ``plan``: its cells' code, role and exercise only (never ``expected``)."""
    cells = tuple(JobCell(str(c.source), c.role, c.exercise) for c in plan.cells)
    return GradingJob(plan.lesson, cells, tuple(plan.missing), float(cell_timeout), float(submission_timeout),
                      limits, bool(no_sandbox), key)


# ----------------------------------------------------------------------------- the runs
@dataclass(frozen=True)
class CellRecord:
    """One cell of the job: its run (``None``: not run), and the block on its exercise.

    ``blocked`` (:data:`NO_ANSWER`, :data:`ANSWER_TIMED_OUT`, :data:`TEST_TIMED_OUT`, or
    ``""``) is what held the cell's exercise when the cell came up: a blocked hidden test is
    not run; a blocked answer cell still runs, but its error is not reported twice.
    ``output_limit`` (:data:`CELL_LIMIT`, :data:`SUBMISSION_LIMIT`, or ``""``) is the limit
    that cut the cell's outputs (its status is then ``output-too-large``).
    """

    run: CellRun | None
    blocked: str = ""
    output_limit: str = ""


@dataclass
class SubmissionRuns:
    """What running a :class:`GradingJob` gave: plain, picklable records.

    ``cells`` line up with the job's cells; those after ``stop`` are ``None``. ``stop`` is
    ``"killed"``, ``"died"``, ``"deadline"`` (the submission's time ran out before a cell)
    or ``None``; ``out_of_time``: the submission's timeout had passed when it stopped.
    ``failure`` is ``(row status, message)`` when nothing could be run (the kernel did not
    start: ``kernel-failed``; a grader bug: ``internal-error``).
    """

    cells: list[CellRecord | None] = field(default_factory=list)
    stop: str | None = None
    out_of_time: bool = False
    refusals: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0
    cell_timeout: float = 0.0
    submission_timeout: float = 0.0
    sandbox: str = ""  # the sandbox backend the kernel ran in ("NONE": none)
    failure: tuple[str, str] | None = None

    @classmethod
    def failed(cls, job: GradingJob, status: str, message: str) -> "SubmissionRuns":
        return cls([None] * len(job.cells), cell_timeout=job.cell_timeout,
                   submission_timeout=job.submission_timeout, failure=(str(status), message))


def _plain(value):
    """``value`` with every mapping a plain ``dict`` (kernel outputs are NotebookNodes)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def truncation_note(limit: str) -> dict:
    """The visible note put after the outputs an output limit cut (stderr: never compared)."""
    if limit == SUBMISSION_LIMIT:
        why = (f"this submission's cells printed more than {MAX_SUBMISSION_OUTPUT:,} characters in all, "
               "the most the grader keeps for one submission")
    else:
        why = f"this cell printed more than {MAX_CELL_OUTPUT:,} characters, the most the grader keeps for one cell"
    return {"output_type": "stream", "name": "stderr", "text": f"[lossbook grader: output truncated here: {why}]\n"}


def _capped(run: CellRun, budget: int) -> tuple[CellRun, str]:
    """``run`` with its outputs within ``budget`` characters, and the limit that cut them."""
    kept, size = [], 0
    for out in run.outputs:
        size += output_size(out)
        if size > budget:
            break
        kept.append(out)
    status = run.status
    if len(kept) < len(run.outputs) and status not in KERNEL_GONE and status != CellStatus.TIMEOUT:
        status = CellStatus.OUTPUT_TOO_LARGE
    if status != CellStatus.OUTPUT_TOO_LARGE:
        return CellRun(status, kept, run.seconds, run.reply_status), ""
    limit = SUBMISSION_LIMIT if budget < MAX_CELL_OUTPUT else CELL_LIMIT
    return CellRun(status, [*kept, truncation_note(limit)], run.seconds, run.reply_status), limit


def run_cells(job: GradingJob, kernel) -> SubmissionRuns:
    """Run ``job`` in ``kernel`` (ready; ``run_cell``/``refusals``/``kill``); kills it at the end.

    The cells' outputs together are kept up to ``MAX_SUBMISSION_OUTPUT`` characters: each
    cell is run with what is left of it, and a cell cut by a limit gets a visible note.
    """
    start = time.monotonic()
    deadline = start + job.submission_timeout
    sandbox = getattr(getattr(kernel, "sandbox", None), "name", "")
    runs = SubmissionRuns(cell_timeout=job.cell_timeout, submission_timeout=job.submission_timeout,
                          sandbox=sandbox)
    blocked: dict[str, str] = {exercise: NO_ANSWER for exercise in job.missing}
    spent = 0  # output characters kept so far
    try:
        for cell in job.cells:
            if runs.stop:
                runs.cells.append(None)
                continue
            block = blocked.get(cell.exercise, "") if cell.exercise else ""
            if cell.role == roles.HIDDEN_TESTS and block:
                runs.cells.append(CellRecord(None, block))
                continue
            if time.monotonic() >= deadline:
                runs.stop, runs.out_of_time = STOP_DEADLINE, True
                runs.cells.append(None)
                continue
            budget = max(0, MAX_SUBMISSION_OUTPUT - spent)
            run = kernel.run_cell(cell.source, timeout=job.cell_timeout, deadline=deadline,
                                  max_output=min(budget, MAX_CELL_OUTPUT))
            run = CellRun(CellStatus(run.status), _plain(run.outputs), float(run.seconds),
                          str(getattr(run, "reply_status", "")))
            # Also enforced here: the records stay bounded whatever kernel object ran the cell.
            run, limit = _capped(run, min(budget, MAX_CELL_OUTPUT))
            spent += sum(output_size(out) for out in run.outputs)
            runs.cells.append(CellRecord(run, block, limit))
            if run.status in KERNEL_GONE:
                runs.stop, runs.out_of_time = run.status.value, time.monotonic() >= deadline
            elif run.status == CellStatus.TIMEOUT and cell.role == roles.ANSWER:
                blocked[cell.exercise] = ANSWER_TIMED_OUT
            elif run.status == CellStatus.TIMEOUT and cell.role == roles.HIDDEN_TESTS:
                blocked[cell.exercise] = TEST_TIMED_OUT
    finally:
        try:
            runs.refusals = [(str(kind), str(detail)) for kind, detail in
                             (kernel.refusals() if hasattr(kernel, "refusals") else [])]
        finally:
            kernel.kill()
    runs.seconds = time.monotonic() - start
    return runs


# ----------------------------------------------------------------------------- scoring
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
    if run.error is None and run.reply_status == "aborted":
        return "the kernel aborted the cell without running it (its execute_reply said \"aborted\")"
    ename, evalue = run.error or ("", "")
    if ename == "NotImplementedError":
        return "not attempted (raise NotImplementedError)"
    if ename == "ForbiddenCall" and evalue.startswith("uses "):
        return evalue[:200]  # "uses scipy.special.softmax: write it yourself", as check says
    if "lossbook grader refused" in evalue:
        return evalue.split(": ", 1)[-1][:200]
    text = f"{ename}: {evalue}".strip(": ")
    if not text:
        return "raised an error without a name or a message"
    return f"raised {text[:200]}"


def _stop_reason(runs: SubmissionRuns) -> str:
    if runs.out_of_time:
        return f"the submission ran out of time ({runs.submission_timeout:g} s in all)"
    if runs.stop == STOP_KILLED:
        return (f"the kernel was stopped: a cell ran past its time ({runs.cell_timeout:g} s) and ignored "
                "the interrupt")
    return "the kernel exited or crashed (sys.exit/os._exit/exit() or a crash)"


def _blocked_reason(block: str, runs: SubmissionRuns) -> str:
    if block == NO_ANSWER:
        return "no answer cell (a code cell with role \"answer\" for this exercise) in the submission"
    if block == ANSWER_TIMED_OUT:
        return f"the answer cell timed out ({runs.cell_timeout:g} s)"
    return "skipped: an earlier hidden test of this exercise timed out"


def _test_reason(cell: PlanCell, record: CellRecord | None, runs: SubmissionRuns, stopped: str) -> str:
    """Why a hidden test scores 0 (``""``: it passed)."""
    if record is None or record.run is None:
        return _blocked_reason(record.blocked, runs) if record is not None else stopped
    run = record.run
    if run.status in KERNEL_GONE:
        return stopped
    if run.status == CellStatus.TIMEOUT:
        return f"timed out after {runs.cell_timeout:g} s (an infinite loop?)"
    if run.status == CellStatus.OUTPUT_TOO_LARGE:
        if record.output_limit == SUBMISSION_LIMIT:
            return (f"printed too much output: the submission's output limit ({MAX_SUBMISSION_OUTPUT:,} "
                    "characters across all its cells) was reached")
        return f"printed too much output: the cell output limit ({MAX_CELL_OUTPUT:,} characters) was reached"
    if run.status == CellStatus.ERROR:
        return _error_reason(run)
    try:
        same, _ = compare(run.outputs, cell.expected)
    except Exception as error:  # noqa: BLE001 - outputs that cannot be compared
        return f"its output could not be compared ({type(error).__name__})"
    return "" if same else "output differs from the expected output"


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


def _refusal_reasons(refusals) -> list[str]:
    reasons, seen = [], set()
    for kind, detail in refusals:
        if (kind, detail) not in seen:
            seen.add((kind, detail))
            reasons.append(f"refused: {REFUSAL_NAMES.get(kind, kind)} ({detail.strip(chr(39))[:120]})")
    return reasons


def _status(runs: SubmissionRuns) -> RowStatus:
    if runs.stop == STOP_DIED:
        return RowStatus.KERNEL_DIED
    if runs.stop in (STOP_KILLED, STOP_DEADLINE):
        return RowStatus.TIMED_OUT
    return RowStatus.GRADED


def score(plan: GradingNotebook, runs: SubmissionRuns, *, learner: str = "",
          solutions_hash: str = "") -> SubmissionResult:
    """The result of ``plan`` from its ``runs``: each hidden test's output against the expected.

    Pure: reads only its arguments (``plan`` holds the expected outputs, ``runs`` what the
    kernel did). A hidden test scores its points when nbval finds its outputs equal to the
    expected ones, else 0 with a reason.
    """
    result = SubmissionResult(learner, plan.lesson, RowStatus.GRADED, {e: 0 for e in plan.max_points},
                              dict(plan.max_points), solutions_hash=solutions_hash,
                              sandbox=runs.sandbox or "bwrap", seconds=runs.seconds)
    if runs.failure is not None:
        status, message = runs.failure
        result.status, result.reasons = RowStatus(status), [message]
        return result
    if len(runs.cells) != len(plan.cells):
        raise ValueError(f"runs has {len(runs.cells)} cell records for a plan of {len(plan.cells)} cells: "
                         "run the job made from this plan (job_for(plan, ...))")
    stopped = _stop_reason(runs) if runs.stop else ""
    for cell, record in zip(plan.cells, runs.cells):
        if cell.role == roles.HIDDEN_TESTS:
            reason = _test_reason(cell, record, runs, stopped)
            printed = stdout_text(record.run.outputs) if record is not None and record.run is not None \
                and record.run.status not in KERNEL_GONE else ""
            points = 0 if reason else cell.points
            result.tests.append(TestResult(cell.exercise, cell.number, points, cell.points, reason, printed))
            result.points[cell.exercise] = result.points.get(cell.exercise, 0) + points
        elif (cell.role == roles.ANSWER and record is not None and record.run is not None
              and record.run.status == CellStatus.ERROR and not record.blocked):
            # Later hidden tests still run: a failing line after a good def is not fatal.
            result.reasons.append(f"{cell.exercise}: answer cell {_error_reason(record.run)}")
    result.reasons.extend(_test_reasons(result.tests))
    result.reasons.extend(_refusal_reasons(runs.refusals))
    result.status = _status(runs)
    return result


def execute(grading: GradingNotebook, kernel, *, cell_timeout: float, submission_timeout: float,
            learner: str = "", solutions_hash: str = "", sandbox: str = "bwrap") -> SubmissionResult:
    """Run ``grading`` in ``kernel`` (a ready :class:`SandboxedKernel`) and score it; kills it at the end."""
    job = job_for(grading, cell_timeout=cell_timeout, submission_timeout=submission_timeout)
    runs = run_cells(job, kernel)
    result = score(grading, runs, learner=learner, solutions_hash=solutions_hash)
    result.sandbox = sandbox
    return result
