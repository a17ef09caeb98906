"""Grade a batch of submissions: find them, grade each in parallel, write the gradebook.

Who a row belongs to
--------------------
Submissions are notebook files or folders. A folder given on the command line holds
learner folders: in ``SUBMISSIONS/<learner>/*.ipynb`` the learner id is the folder's name,
always (a file's name never becomes a learner id there). A notebook directly in the given
folder, or a file named on the command line, is the learner's own file: the learner id is
its stem (``ana.ipynb``), except that a file named after a lesson (``ana/02_mse.ipynb``,
``ana/02_mse-Copy1.ipynb``) takes its folder's name; ``learner=`` (``--learner``)
overrides all of this. Ids are sanitised (letters, digits, ``. _ -``) before they go
anywhere near a path; two different ids that sanitise alike (``yan``, `` yan``) are never
merged or guessed: each of their submissions gets a ``refused-identity`` row (learner
column: the id as found, %-encoded) naming both paths.

The lesson comes from the notebook's ``metadata.lossbook.lesson``, then from its file
name (a copy's name such as ``03_mae_huber-Copy1`` counts). Several files of one learner
for one lesson: the one named exactly ``<lesson>.ipynb`` is graded and the others are
listed in the summary as ignored; with no such file (or several), the pair gets one
``ambiguous`` row naming every file, and nothing is graded for it.

Statuses (the one vocabulary, also in docs/architecture.md; :data:`STATUSES`)
------------------------------------------------------------------------------
Every submission gets a row; a submission file is only ever read. The words are
:class:`lossbook.status.RowStatus`; :data:`STATUSES` says what each means.

Where the cells run: the executor seam
--------------------------------------
The client (this module, in the grader's process) reads, resolves and assembles every
submission, then turns each one to run into a :class:`~lossbook.grading.run.GradingJob`
(plain, picklable data: the cells' code, timeouts, limits; **never the expected outputs**,
which stay here). An **executor** runs the jobs and hands back, for each, its
:class:`~lossbook.grading.run.SubmissionRuns` (plain run records); the client then scores
them (:func:`lossbook.grading.run.score`, against the expected outputs) and writes the
gradebook and the feedback itself, in the same order whatever the executor.

- :func:`run_job` ``(job, kernels) -> SubmissionRuns`` is the per-submission function an
  executor calls wherever it runs: ``kernels.get()`` must hand out a ready sandboxed
  kernel (a :class:`~lossbook.grading.kernel.KernelPool`); it never raises (a kernel that
  did not start, or a grader bug, is the records' ``failure``).
- :class:`Executor` is the protocol: ``run(jobs)`` yields ``(index, SubmissionRuns)`` once
  per job, in any order; ``sandbox_name`` / ``isolated`` / ``warnings`` describe the
  sandbox for the rows and the summary; ``close()`` frees what it holds.
- :class:`LocalExecutor` is the default: ``--jobs`` threads here, kernels from a local
  :class:`~lossbook.grading.kernel.KernelPool`. Another executor (a Dask cluster) is
  passed as ``grade(..., executor=...)``; :func:`grade` then starts no local sandbox.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

from lossbook.grading.assemble import (SubmissionError, assemble, file_digest, lesson_by_name,
                                      lesson_of_submission, load_solutions, load_submission)
from lossbook.grading.gradebook import Row, write_rows
from lossbook.grading.kernel import KernelPool, KernelStartError
from lossbook.grading.run import GradingJob, SubmissionResult, SubmissionRuns, job_for, run_cells, score
from lossbook.grading.runtime import build_runtime
from lossbook.grading.safe_text import printable
from lossbook.grading.sandbox import Limits, make_sandbox
from lossbook.status import RowStatus

DEFAULT_CELL_TIMEOUT = 10.0
#: The course checkout this module belongs to (lossbook/grading/batch.py → its root).
COURSE_ROOT = Path(__file__).resolve().parents[2]

#: Every status a gradebook row can have (:class:`~lossbook.status.RowStatus`), and what it means.
STATUSES = {
    RowStatus.GRADED: "every cell ran (failed tests still have their reasons)",
    RowStatus.TIMED_OUT: "a cell ignored the interrupt, or the submission ran out of time; the kernel was killed: "
                         "the cells that ran keep their points, the others score 0 (see reasons)",
    RowStatus.KERNEL_DIED: "the kernel exited (os._exit, exit()) or crashed: the cells that ran keep their "
                           "points, the others score 0 (see reasons)",
    RowStatus.NOT_A_NOTEBOOK: "not notebook JSON, or a notebook whose structure is broken (e.g. a cell's "
                              "metadata that is not a mapping): not run",
    RowStatus.WRONG_NBFORMAT: "not an nbformat 4 notebook: not run",
    RowStatus.TOO_LARGE: "over the size limit: not run",
    RowStatus.UNREADABLE: "the file cannot be read: not run",
    RowStatus.NOT_A_REGULAR_FILE: "a symbolic link or a special file: not run",
    RowStatus.UNKNOWN_LESSON: "no lesson in the metadata and none in the file name: not run",
    RowStatus.WRONG_LESSON: "the metadata's lesson contradicts the file name: not run",
    RowStatus.AMBIGUOUS: "several files for one learner and lesson and none named exactly <lesson>.ipynb: "
                         "none run, the reason names every file",
    RowStatus.REFUSED_IDENTITY: "the learner id collides with another after sanitising, or the gradebook "
                                "already holds this learner and lesson from another file: not run or not written",
    RowStatus.KERNEL_FAILED: "the grader's kernel did not start (the grader's trouble, not the submission's)",
    RowStatus.INTERNAL_ERROR: "a bug in the grader itself (please report it with the reasons)",
}
#: Rows that stand for no graded file: no feedback file is written for them.
NO_FEEDBACK = (RowStatus.AMBIGUOUS, RowStatus.REFUSED_IDENTITY)


@dataclass(frozen=True)
class Submission:
    path: Path
    learner: str  # sanitised id
    raw: str = ""  # the id as found (folder name, file stem, --learner)

    def __post_init__(self):
        if not self.raw:
            object.__setattr__(self, "raw", self.learner)


class Report(list):
    """The results (a list of :class:`SubmissionResult`) and what the summary must say."""

    def __init__(self, results=()):
        super().__init__(results)
        self.ignored: list[str] = []
        self.replaced: list[str] = []
        self.not_replaced: list[str] = []
        self.notes: list[str] = []


def sanitize_learner(name: str) -> str:
    """A learner id safe in paths and spreadsheets.

    >>> sanitize_learner("../../etc/passwd"), sanitize_learner("=cmd|x"), sanitize_learner("Ana Lima")
    ('etc_passwd', 'cmd_x', 'Ana_Lima')
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    return cleaned[:64] or "unknown"


def identity_label(raw: str) -> str:
    """A refused id, shown as found: %-encoded (so `` yan`` and ``yan `` stay apart), path-safe.

    >>> identity_label(" yan"), identity_label("yan "), identity_label(".."), identity_label("yan")
    ('%20yan', 'yan%20', '%2E.', 'yan')
    """
    label = urllib.parse.quote(raw, safe="")[:120] or "%00"
    if label[0] in ".-_~":
        label = f"%{ord(label[0]):02X}{label[1:]}"
    return label


def default_solutions() -> Path:
    """``solutions/`` next to the ``lossbook`` package (the course checkout)."""
    return COURSE_ROOT / "solutions"


def _notebooks(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix == ".ipynb" and not p.name.startswith("."))


def find_submissions(paths, lessons, learner: str | None = None) -> list[Submission]:
    """Every notebook named by ``paths`` (files, or folders of learner folders), with its learner."""
    found: list[Submission] = []
    seen: set[Path] = set()

    def add(path: Path, raw: str):
        key = Path(os.path.abspath(path))
        if key in seen:  # the same file reached twice (a folder and a file in it): one row
            return
        seen.add(key)
        raw = learner if learner else raw
        found.append(Submission(path, sanitize_learner(raw), raw))

    def own_file(path: Path):
        """A file given directly, or directly in a given folder: named after a lesson → its folder's."""
        lesson, _ = lesson_by_name(path.stem, lessons)
        add(path, Path(os.path.abspath(path)).parent.name if lesson else path.stem)

    for raw_path in paths:
        path = Path(raw_path)
        if path.is_dir() and not path.is_symlink():
            for item in sorted(path.iterdir()):
                if item.name.startswith("."):
                    continue
                if item.is_dir():
                    if item.is_symlink():
                        continue
                    for nb in _notebooks(item):
                        add(nb, item.name)
                elif item.suffix == ".ipynb":
                    own_file(item)
        else:
            own_file(path)
    return found


class _Progress:
    def __init__(self, total: int, stream, enabled: bool):
        self.total, self.done, self.stream, self.enabled = total, 0, stream, enabled
        self.lock = threading.Lock()

    def step(self, result: SubmissionResult):
        with self.lock:
            self.done += 1
            if not self.enabled:
                return
            width = 30
            filled = width * self.done // max(self.total, 1)
            who = printable(f"{result.learner[:20]} {result.lesson[:30]}", keep_newlines=False)
            line = f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} {who}"
            self.stream.write(line.ljust(78)[:100])
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def _error_result(sub: Submission, lesson: str, status: str, message: str, max_points=None,
                  digest: str = "", sandbox: str = "bwrap", learner: str | None = None) -> SubmissionResult:
    max_points = dict(max_points or {})
    return SubmissionResult(learner or sub.learner, lesson, status, {e: 0 for e in max_points}, max_points,
                            [message], solutions_hash=digest, sandbox=sandbox, source=_source(sub.path))


def _source(path: Path) -> str:
    return os.path.abspath(path)


def remove_tree(path: Path) -> None:
    """Remove ``path`` whatever is in it (a folder chain thousands deep included).

    :func:`shutil.rmtree` recurses once per level in Python and fails (``RecursionError``)
    on deep chains; ``rm -rf`` (coreutils, fts) does not.
    """
    path = Path(path)
    try:
        shutil.rmtree(path)
    except FileNotFoundError:
        return
    except (OSError, RecursionError):
        pass
    if os.path.lexists(path):
        subprocess.run(["rm", "-rf", "--one-file-system", "--", str(path)], capture_output=True, check=False)


@dataclass
class _Candidate:
    sub: Submission
    lesson: str | None  # None: no lesson at all
    exact: bool  # named exactly <lesson>.ipynb
    notebook: object = None
    digest: str = ""
    error: SubmissionError | None = None


@dataclass(frozen=True)
class GradeOptions:
    """How :func:`grade` grades (the settings of ``lossbook grade``); ``None`` = the default.

    ``solutions``: the solution notebooks' folder (default: the course's ``solutions/``);
    ``jobs``: submissions graded at once (default: the number of cores); ``cell_timeout``
    and ``submission_timeout`` in seconds (default: max(60, 6 × cell_timeout));
    ``no_sandbox``: grade without an OS sandbox (every row says so); ``learner``: one
    learner id for every submission; ``limits``: the kernel's
    :class:`~lossbook.grading.sandbox.Limits`; ``feedback`` / ``feedback_format``
    (``"md"`` or ``"html"``): where and how to write each learner's feedback;
    ``progress``: draw the progress bar (default: when stderr is a terminal);
    ``replace_other_source``: let a row from another file replace a learner's row;
    ``warn``: called once with each warning about the sandbox (default: print to stderr).
    """

    solutions: Path | None = None
    jobs: int | None = None
    cell_timeout: float = DEFAULT_CELL_TIMEOUT
    submission_timeout: float | None = None
    no_sandbox: bool = False
    learner: str | None = None
    limits: Limits | None = None
    feedback: Path | None = None
    feedback_format: str = "md"
    progress: bool | None = None
    replace_other_source: bool = False
    warn: Callable[[str], None] | None = None

    def __post_init__(self):
        if self.feedback_format not in ("md", "html"):
            raise ValueError(f"feedback_format must be 'md' or 'html', got {self.feedback_format!r}")
        if not self.cell_timeout > 0:
            raise ValueError(f"cell_timeout must be a positive number of seconds, got {self.cell_timeout!r}")

    def resolved(self) -> "GradeOptions":
        """The same options with every default filled in (``solutions``, ``jobs``, ``submission_timeout``)."""
        return replace(self, solutions=Path(self.solutions) if self.solutions else default_solutions(),
                       jobs=max(1, self.jobs or os.cpu_count() or 1),
                       submission_timeout=self.submission_timeout or max(60.0, 6 * self.cell_timeout))


class Executor(Protocol):
    """Runs grading jobs somewhere and hands back their run records (see the module's docstring)."""

    sandbox_name: str  # the sandbox backend, for the rows of submissions never run ("NONE": none)
    isolated: bool  # False: rows say "graded WITHOUT a sandbox"
    warnings: Sequence[str]  # what the sandbox cannot protect, said once at the start

    def run(self, jobs: Sequence[GradingJob]) -> Iterable[tuple[int, SubmissionRuns]]:
        """``(index in jobs, records)`` once per job, as each finishes."""

    def close(self) -> None:
        """Free kernels, threads and connections (after the last job is handed back)."""


def run_job(job: GradingJob, kernels) -> SubmissionRuns:
    """The per-submission function: run ``job`` on a kernel from ``kernels.get()``; never raises.

    Executors call it wherever the kernel is (this process, a cluster's worker). A kernel
    that does not start gives records with ``failure = ("kernel-failed", ...)``; any other
    error ``("internal-error", ...)``: one submission never ends the batch.
    """
    try:
        return run_cells(job, kernels.get())
    except KernelStartError as error:
        return SubmissionRuns.failed(job, RowStatus.KERNEL_FAILED, f"the grading kernel did not start: {error}")
    except BaseException as error:  # noqa: BLE001 - the last line of defence: one submission, one row
        return SubmissionRuns.failed(job, RowStatus.INTERNAL_ERROR,
                                     f"grader error: {type(error).__name__}: {str(error)[:200]}")


class LocalExecutor:
    """The default executor: ``jobs`` threads of this process, each job on its own fresh
    sandboxed kernel from a :class:`KernelPool` (kernels boot ahead of use, in their own
    processes, while this process reads the notebooks)."""

    def __init__(self, sandbox, base: Path, jobs: int, expected: int):
        self.sandbox_name, self.isolated = sandbox.name, sandbox.isolated
        self.warnings = list(sandbox.warnings)
        self.jobs = jobs
        self.pool = KernelPool(sandbox, base, size=2 * jobs + 2, expected=expected) if expected else None

    def run(self, jobs: Sequence[GradingJob]) -> Iterator[tuple[int, SubmissionRuns]]:
        if not jobs:
            return
        with ThreadPoolExecutor(max_workers=self.jobs) as threads:
            futures = {threads.submit(run_job, job, self.pool): index for index, job in enumerate(jobs)}
            for future in as_completed(futures):
                yield futures[future], future.result()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def _options(options: GradeOptions | None, settings: dict) -> GradeOptions:
    try:
        return replace(options or GradeOptions(), **settings)
    except TypeError:
        unknown = sorted(set(settings) - set(GradeOptions.__dataclass_fields__))
        if not unknown:
            raise
        raise TypeError(f"grade() got unknown option(s) {', '.join(unknown)}; the options are "
                        f"{', '.join(GradeOptions.__dataclass_fields__)}") from None


def grade(paths, out: Path | None, options: GradeOptions | None = None, *, executor: Executor | None = None,
          **settings) -> Report:
    """Grade every submission in ``paths``; write the gradebook ``out`` (merged) and feedback.

    ``options`` is a :class:`GradeOptions`; keyword ``settings`` (``jobs=2``,
    ``cell_timeout=30``, …: its fields) override it. ``executor`` runs the kernels
    elsewhere (see the module's docstring; the caller closes it); by default a
    :class:`LocalExecutor` with a sandbox made here.

    Returns a :class:`Report` (the results, one per row, and what the summary lists).
    Raises :class:`~lossbook.grading.sandbox.SandboxUnavailable` when there is no sandbox
    and ``no_sandbox`` is false; every other problem becomes a row's status. ``warn`` is
    called once with each warning about the sandbox (default: print to stderr).
    """
    options = _options(options, settings).resolved()
    solutions_dir = options.solutions
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"solutions folder {str(solutions_dir)!r} does not exist; pass --solutions FOLDER")
    base = Path(tempfile.mkdtemp(prefix="lbg-"))
    os.chmod(base, 0o711)
    owned = None
    probing = None
    try:
        if executor is None:
            # The sandbox's start-up probes (bwrap, then a Python started in it as "nobody":
            # about a second, mostly in other processes) run in a thread of their own while
            # this one reads the policy and the submissions and imports what comparing needs.
            # The probe binds the runtime folder but reads nothing in it, so the folder is
            # filled here meanwhile (its imports take this thread a while).
            hidden = (COURSE_ROOT / "lossbook", solutions_dir.resolve(), *(Path(p).resolve() for p in paths))
            runtime = base / "runtime"
            runtime.mkdir(mode=0o755)
            probing = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lossbook-sandbox-probe")
            sandbox_made = probing.submit(make_sandbox, runtime, no_sandbox=options.no_sandbox,
                                          limits=options.limits, hidden=hidden)
            build_runtime(runtime)
        forbidden_by_exercise(solutions_dir)  # a malformed policy file stops here, before any kernel starts
        submissions = find_submissions(paths, {p.stem for p in solutions_dir.glob("*.ipynb")}, options.learner)
        # nbval, nbformat and jupyter_client are imported here, before any thread of a kernel
        # pool imports them too: two threads importing them at once can fail (a module seen
        # partially initialised).
        from lossbook.grading.compare import warm_up

        warm_up()
        if executor is None:
            sandbox = sandbox_made.result()
            executor = owned = LocalExecutor(sandbox, base, options.jobs, len(submissions))
        for warning in executor.warnings:
            (options.warn or (lambda text: print(f"lossbook grade: WARNING: {text}", file=sys.stderr)))(warning)
        report = _grade(submissions, out, options, executor)
        report.notes[:0] = list(executor.warnings)
        return report
    finally:
        if probing is not None:
            probing.shutdown(wait=True)  # the probe's folder is in ``base``
        if owned is not None:
            owned.close()
        remove_tree(base)


def _read(sub: Submission, lessons) -> _Candidate:
    """Read one submission and find its lesson; every failure becomes the candidate's error."""
    named, exact = lesson_by_name(sub.path.stem, lessons)
    try:
        nb, digest = load_submission(sub.path)
        lesson = lesson_of_submission(nb, sub.path, lessons)
        return _Candidate(sub, lesson, exact and named == lesson, nb, digest)
    except SubmissionError as error:
        return _Candidate(sub, named, exact, error=error, digest=file_digest(sub.path))
    except Exception as error:  # noqa: BLE001 - a grader bug: that row says so, the batch goes on
        return _Candidate(sub, named, exact, digest=file_digest(sub.path), error=SubmissionError(
            RowStatus.INTERNAL_ERROR, f"grader error reading it: {type(error).__name__}: {str(error)[:200]}"))


def _choose(candidates: list[_Candidate], report: Report, make_error) -> list:
    """Identity and lesson resolution: the candidates to grade, and rows for the others."""
    chosen: list = []
    raws: dict[str, dict[str, list[_Candidate]]] = {}
    for cand in candidates:
        raws.setdefault(cand.sub.learner, {}).setdefault(cand.sub.raw, []).append(cand)
    by_pair: dict[tuple[str, str], list[_Candidate]] = {}
    for learner, by_raw in raws.items():
        if len(by_raw) > 1:
            names = "; ".join(f"{raw!r} ({', '.join(str(c.sub.path) for c in group)})"
                              for raw, group in sorted(by_raw.items()))
            for raw, group in by_raw.items():
                for cand in group:
                    chosen.append(make_error(cand, RowStatus.REFUSED_IDENTITY, (
                        f"learner ids {names} are all {learner!r} once made safe: nothing is guessed; "
                        "rename the folders (or files) so that each learner has one id, then grade again"),
                        identity_label(raw)))
            continue
        for cand in next(iter(by_raw.values())):
            if cand.lesson is None:
                chosen.append(make_error(cand, cand.error.status, str(cand.error)) if cand.error else cand)
            else:
                by_pair.setdefault((learner, cand.lesson), []).append(cand)
    for (learner, lesson), group in by_pair.items():
        if len(group) == 1:
            chosen.append(group[0])
            continue
        exact = [c for c in group if c.exact]
        if len(exact) == 1:
            chosen.append(exact[0])
            for cand in group:
                if cand is not exact[0]:
                    report.ignored.append(f"{cand.sub.path}: {learner} × {lesson} is graded from "
                                          f"{exact[0].sub.path.name}")
            continue
        files = ", ".join(str(c.sub.path) for c in group)
        chosen.append(make_error(group[0], RowStatus.AMBIGUOUS, (
            f"{len(group)} files for {learner} × {lesson} and {'none' if not exact else 'more than one'} "
            f"named exactly {lesson}.ipynb: {files}; nothing graded: keep one (named {lesson}.ipynb)"),
            source=", ".join(_source(c.sub.path) for c in group), digest=""))
    return chosen


def _grade(submissions, out, options: GradeOptions, executor: Executor) -> Report:
    """Resolve, assemble, run (on ``executor``), score, then write; ``options`` resolved."""
    from lossbook.grading.compare import warm_up

    solutions_by_lesson = load_solutions(options.solutions)
    forbidden = forbidden_by_exercise(options.solutions)
    warm_up()  # (done by grade() already; here for callers of _grade)
    report = Report()

    def make_error(cand: _Candidate, status: str, message: str, learner: str | None = None,
                   source: str | None = None, digest: str | None = None) -> SubmissionResult:
        lesson = cand.lesson or cand.sub.path.stem
        sol = solutions_by_lesson.get(lesson)
        result = _error_result(cand.sub, lesson, status, message, sol.exercises if sol else None,
                               sol.digest if sol else "", executor.sandbox_name, learner)
        result.source = source if source is not None else result.source
        result.content_hash = cand.digest if digest is None else digest
        return result

    candidates = [_read(sub, solutions_by_lesson) for sub in submissions]
    results: list[SubmissionResult | None] = []
    graded: list[tuple[int, _Candidate, object, str]] = []  # (row, candidate, plan, solutions' digest)
    for item in _choose(candidates, report, make_error):
        if isinstance(item, SubmissionResult):
            results.append(item)
            continue
        cand = item
        if cand.error is not None:
            results.append(make_error(cand, cand.error.status, str(cand.error)))
            continue
        solution = solutions_by_lesson[cand.lesson]
        try:
            plan = assemble(solution, cand.notebook, forbidden)
        except Exception as error:  # noqa: BLE001 - a grader bug: that row says so, the batch goes on
            results.append(make_error(cand, RowStatus.INTERNAL_ERROR, f"grader error assembling it: "
                                      f"{type(error).__name__}: {str(error)[:200]}"))
            continue
        graded.append((len(results), cand, plan, solution.digest))
        results.append(None)

    stream = sys.stderr
    bar = _Progress(len(results), stream, stream.isatty() if options.progress is None else options.progress)
    for result in results:
        if result is not None:
            bar.step(result)
    # The expected outputs stay here: a job holds the cells' code, timeouts and limits only.
    jobs = [job_for(plan, cell_timeout=options.cell_timeout, submission_timeout=options.submission_timeout,
                    limits=options.limits, no_sandbox=options.no_sandbox,
                    key=f"{cand.sub.learner} × {cand.lesson}") for _, cand, plan, _ in graded]

    def scored(index: int, runs: SubmissionRuns) -> SubmissionResult:
        row, cand, plan, digest = graded[index]
        try:
            result = score(plan, runs, learner=cand.sub.learner, solutions_hash=digest)
            result.sandbox = runs.sandbox or executor.sandbox_name
        except Exception as error:  # noqa: BLE001 - one submission must not end the batch
            result = make_error(cand, RowStatus.INTERNAL_ERROR, f"grader error scoring it: "
                                f"{type(error).__name__}: {str(error)[:200]}")
        result.source = _source(cand.sub.path)
        result.content_hash = cand.digest
        return result

    try:
        for index, runs in executor.run(jobs):
            row = graded[index][0]
            results[row] = scored(index, runs)
            bar.step(results[row])
    except Exception as error:  # noqa: BLE001 - the executor broke: every row it did not return says so
        for row, cand, _, _ in graded:
            if results[row] is None:
                results[row] = make_error(cand, RowStatus.INTERNAL_ERROR, f"grader error running it: "
                                          f"{type(error).__name__}: {str(error)[:200]}")
    for row, cand, _, _ in graded:
        if results[row] is None:
            results[row] = make_error(cand, RowStatus.INTERNAL_ERROR, "grader error: the executor "
                                      "returned no run records for it")
    if not executor.isolated:
        for result in results:
            result.reasons.insert(0, "graded WITHOUT a sandbox (--no-sandbox)")

    # Each result is diagnosed once (its exercise_feedback items), for both its feedback file
    # and its results record. Here, one at a time: the diagnosis redirects sys.stdout while it
    # replays hidden tests. ``None``: not needed, or it failed (then the record tries again).
    items: list[list[dict] | None] = [None] * len(results)
    texts: list[str | None] = [None] * len(results)
    if out is not None or options.feedback is not None:
        from lossbook.grading.feedback import exercise_feedback, render

        for index, result in enumerate(results):
            wants_feedback = options.feedback is not None and result.status not in NO_FEEDBACK
            try:
                items[index] = exercise_feedback(result, solutions_by_lesson.get(result.lesson))
                if wants_feedback:
                    texts[index] = render(result, solutions_by_lesson.get(result.lesson), options.feedback_format,
                                          items=items[index])
            except Exception as error:  # noqa: BLE001 - feedback must not stop the batch
                if wants_feedback:
                    report.notes.append(f"feedback for {result.learner} × {result.lesson} not written: grader "
                                        f"error {type(error).__name__}: {str(error)[:200]}")
    report.extend(results)
    if out is not None:
        merge = write_rows(Path(out), [to_row(r) for r in results],
                           replace_other_source=options.replace_other_source)
        _apply_merge(report, merge)
        # The machine-readable results beside it (gradebook.results.jsonl), merged alike.
        from lossbook.grading.results import write_results_beside
        write_results_beside(Path(out), results, merge, solutions_by_lesson, feedback=options.feedback,
                             feedback_format=options.feedback_format, notes=report.notes, items=items)
    if options.feedback is not None:
        for result, text in zip(results, texts):
            if text is None or result.status in NO_FEEDBACK:
                continue
            try:
                write_feedback_file(Path(options.feedback), result, text, options.feedback_format)
            except OSError as error:
                report.notes.append(f"feedback for {result.learner} × {result.lesson} not written: "
                                    f"{error.strerror or error}")
    return report


def forbidden_by_exercise(solutions_dir: Path) -> dict[str, tuple[str, tuple[str, ...]]]:
    """Exercise id → (learner's function name, forbidden dotted names after the policy file).

    Raises ``ValueError`` when the policy file beside the solutions is malformed.
    """
    from lossbook.exercises import get, ids
    from lossbook.exercises.forbidden import read_policy, relaxed

    policy = read_policy(solutions_dir)
    table = {}
    for exercise_id in ids():
        exercise = get(exercise_id)
        table[exercise_id] = (exercise.name, relaxed(exercise.forbidden or (), exercise_id, policy))
    return table


def _apply_merge(report: Report, merge) -> None:
    """Put the gradebook's refusals and replacements into the results and the summary."""
    by_row = {(r.learner, r.lesson, r.source): r for r in report}
    for conflict in merge.replaced:
        row = conflict.row
        report.replaced.append(f"{row.learner} × {row.lesson}: the row from {conflict.old_source} (total "
                               f"{conflict.old_total or '?'}) was replaced by {row.source} (total {row.total:g})")
    for conflict in merge.refused:
        row = conflict.row
        report.not_replaced.append(f"{row.learner} × {row.lesson}: kept the row from {conflict.old_source} "
                                   f"(total {conflict.old_total or '?'}); {row.source} (total {row.total:g}) "
                                   "was not written (--replace-from-other-source replaces it)")
        result = by_row.get((row.learner, row.lesson, row.source))
        if result is not None:
            result.status = RowStatus.REFUSED_IDENTITY
            result.reasons.insert(0, f"the gradebook already has {row.learner} × {row.lesson} from another "
                                  f"file ({conflict.old_source}, total {conflict.old_total or '?'}); not replaced: "
                                  "pass --replace-from-other-source to replace it")


def feedback_path(folder: Path, learner: str, lesson: str, fmt: str = "md") -> Path:
    """``folder/<learner>/<lesson>.<md|html>``: keyed by learner and lesson, always inside ``folder``."""
    lesson = re.sub(r"[^A-Za-z0-9._-]+", "_", printable(lesson, keep_newlines=False)).strip(".") or "unknown"
    learner = re.sub(r"[^A-Za-z0-9._%-]+", "_", learner).strip(".") or "unknown"
    return Path(folder) / learner / f"{lesson}.{'html' if fmt == 'html' else 'md'}"


def write_feedback_file(folder: Path, result: SubmissionResult, text: str, fmt: str) -> Path:
    """Write one feedback file at :func:`feedback_path`, atomically (a reader, or a crash,
    sees the old file or the new one, never half of it); returns its path."""
    from lossbook import _files

    path = feedback_path(folder, result.learner, result.lesson, fmt)
    if Path(os.path.abspath(path)).parent.parent != Path(os.path.abspath(folder)):
        raise OSError(f"unsafe feedback path for {result.learner!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    _files.write_atomically(path, text)
    return path


def to_row(result: SubmissionResult) -> Row:
    return Row(result.learner, result.lesson, dict(result.points), result.total, result.max_total,
               result.status, list(result.reasons), result.solutions_hash,
               result.sandbox, result.source, result.content_hash)


def summary_table(results: list[SubmissionResult]) -> str:
    """A plain-text table: learner, lesson, points, status (control characters removed)."""
    rows = [("learner", "lesson", "points", "status")]
    for r in sorted(results, key=lambda r: (r.lesson, r.learner)):
        rows.append((printable(r.learner, keep_newlines=False), printable(r.lesson, keep_newlines=False),
                     f"{r.total:g}/{r.max_total:g}", r.status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary_text(report: Report) -> str:
    """The table, then what was ignored, replaced or kept, and the notes (all printable)."""
    parts = [summary_table(report)]
    for title, lines in (("ignored (another file of the same learner and lesson was graded)", report.ignored),
                         ("replaced rows from another source (--replace-from-other-source)", report.replaced),
                         ("NOT replaced: the gradebook's row from another source was kept", report.not_replaced),
                         ("notes", report.notes)):
        if lines:
            parts.append(f"\n{title}:\n" + "\n".join(f"  {printable(line, keep_newlines=False)}" for line in lines))
    return "\n".join(parts)
