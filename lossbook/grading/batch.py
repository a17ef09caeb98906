"""Grade a batch of submissions: find them, grade each in parallel, write the gradebook.

Submissions are notebook files or folders. In a folder, ``<learner>/<lesson>.ipynb``
gives the learner id from the sub-folder's name; a notebook directly in it (or named on
the command line) is the learner's own file: the learner id is its parent folder's name
when the file is named after a lesson (``ana/02_mse.ipynb``), else its stem
(``ana.ipynb``); ``learner=`` overrides both. Learner ids are sanitised (letters, digits,
``. _ -``) before they go anywhere near a path.

Every submission gets a row, malformed ones included (with a status saying what is
wrong); a submission file is only ever read. Statuses:

- ``graded``: every cell ran (failed tests still have their reasons);
- ``timed-out``: a cell ignored the interrupt, or the submission ran out of time; the
  kernel was killed and the cells not run score 0;
- ``kernel-died``: the kernel exited (``os._exit``, ``exit()``) or crashed;
- ``not-a-notebook``, ``wrong-nbformat``, ``too-large``, ``unreadable``,
  ``not-a-regular-file`` (a symbolic link), ``unknown-lesson``, ``wrong-lesson``,
  ``duplicate``: not run, zero points;
- ``kernel-failed``, ``internal-error``: the grader's own trouble (reasons say which).
"""
from __future__ import annotations

import os
import re
import shutil
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from lossbook.grading.assemble import (SubmissionError, assemble, lesson_of_submission, load_solutions,
                                      read_submission)
from lossbook.grading.gradebook import Row, write_rows
from lossbook.grading.kernel import KernelPool, KernelStartError
from lossbook.grading.run import SubmissionResult, execute
from lossbook.grading.runtime import build_runtime
from lossbook.grading.sandbox import Limits, make_sandbox

DEFAULT_CELL_TIMEOUT = 10.0


@dataclass(frozen=True)
class Submission:
    path: Path
    learner: str


def sanitize_learner(name: str) -> str:
    """A learner id safe in paths and spreadsheets.

    >>> sanitize_learner("../../etc/passwd"), sanitize_learner("=cmd|x"), sanitize_learner("Ana Lima")
    ('etc_passwd', 'cmd_x', 'Ana_Lima')
    """
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._-")
    cleaned = re.sub(r"\.{2,}", ".", cleaned)
    return cleaned[:64] or "unknown"


def default_solutions() -> Path:
    """``solutions/`` next to the ``lossbook`` package (the course checkout)."""
    import lossbook

    return Path(lossbook.__file__).resolve().parent.parent / "solutions"


def find_submissions(paths, lessons, learner: str | None = None) -> list[Submission]:
    """Every notebook named by ``paths`` (files, or folders searched one level deep)."""
    found: list[Submission] = []

    def add(path: Path, folder_name: str | None):
        if learner:
            name = learner
        elif path.stem in lessons and folder_name:
            name = folder_name
        else:
            name = path.stem
        found.append(Submission(path, sanitize_learner(name)))

    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for item in sorted(path.iterdir()):
                if item.name.startswith("."):
                    continue
                if item.is_dir():
                    for nb in sorted(item.glob("*.ipynb")):
                        add(nb, item.name)
                elif item.suffix == ".ipynb":
                    add(item, path.resolve().name)
        else:
            add(path, path.resolve().parent.name)
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
            line = (f"\rgrading [{'#' * filled}{'.' * (width - filled)}] {self.done}/{self.total} "
                    f"{result.learner[:20]} {result.lesson}")
            self.stream.write(line.ljust(78)[:100])
            if self.done == self.total:
                self.stream.write("\n")
            self.stream.flush()


def _error_result(sub: Submission, lesson: str, status: str, message: str, max_points=None,
                  digest: str = "", sandbox: str = "bwrap") -> SubmissionResult:
    max_points = dict(max_points or {})
    return SubmissionResult(sub.learner, lesson, status, {e: 0 for e in max_points}, max_points,
                            [message], solutions_hash=digest, sandbox=sandbox, source=str(sub.path))


def grade(paths, out: Path | None, *, solutions: Path | None = None, jobs: int | None = None,
          cell_timeout: float = DEFAULT_CELL_TIMEOUT, submission_timeout: float | None = None,
          no_sandbox: bool = False, learner: str | None = None, limits: Limits | None = None,
          feedback: Path | None = None, feedback_format: str = "md", progress=None,
          ) -> list[SubmissionResult]:
    """Grade every submission in ``paths``; write the gradebook ``out`` (merged) and feedback.

    Raises :class:`~lossbook.grading.sandbox.SandboxUnavailable` when there is no sandbox
    and ``no_sandbox`` is false; every other problem becomes a row's status.
    """
    solutions_dir = Path(solutions) if solutions else default_solutions()
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"solutions folder {str(solutions_dir)!r} does not exist; pass --solutions FOLDER")
    submissions = find_submissions(paths, {p.stem for p in solutions_dir.glob("*.ipynb")}, learner)
    jobs = max(1, jobs or os.cpu_count() or 1)
    submission_timeout = submission_timeout or max(60.0, 6 * cell_timeout)
    base = Path(tempfile.mkdtemp(prefix="lbg-"))
    os.chmod(base, 0o711)
    import lossbook

    hidden = (Path(lossbook.__file__).resolve().parent, solutions_dir.resolve(),
              *(Path(p).resolve() for p in paths))
    pool = None
    try:
        sandbox = make_sandbox(build_runtime(base / "runtime"), no_sandbox=no_sandbox, limits=limits,
                               hidden=hidden)
        # Kernels boot (in their own processes) while this process reads the notebooks.
        if submissions:
            pool = KernelPool(sandbox, base, size=2 * jobs + 2, expected=len(submissions))
        return _grade(submissions, solutions_dir, sandbox, pool, jobs, cell_timeout, submission_timeout,
                      out, feedback, feedback_format, progress)
    finally:
        if pool is not None:
            pool.close()
        shutil.rmtree(base, ignore_errors=True)


def _grade(submissions, solutions_dir, sandbox, pool, jobs, cell_timeout, submission_timeout, out,
           feedback, feedback_format, progress) -> list[SubmissionResult]:
    from lossbook.grading.compare import warm_up

    solutions_by_lesson = load_solutions(solutions_dir)
    warm_up()  # import nbval now, while the kernels boot
    sandbox_name = sandbox.name
    seen: dict[tuple[str, str], Path] = {}
    prepared = []  # (submission, (lesson, grading notebook, digest) or an error result)
    for sub in submissions:
        try:
            nb = read_submission(sub.path)
            lesson = lesson_of_submission(nb, sub.path, solutions_by_lesson)
        except Exception as error:  # noqa: BLE001 - a bad file gets a row, the batch goes on
            if not isinstance(error, SubmissionError):
                error = SubmissionError("internal-error", f"grader error reading it: {type(error).__name__}: {error}")
            lesson = sub.path.stem if sub.path.stem in solutions_by_lesson else ""
            sol = solutions_by_lesson.get(lesson)
            prepared.append((sub, _error_result(sub, lesson or sub.path.stem, error.status, str(error),
                                                sol.exercises if sol else None, sol.digest if sol else "",
                                                sandbox_name)))
            continue
        solution = solutions_by_lesson[lesson]
        key = (sub.learner, lesson)
        if key in seen:
            prepared.append((sub, _error_result(sub, lesson, "duplicate",
                                                f"{sub.learner} handed in {lesson} twice: graded "
                                                f"{seen[key]}, not {sub.path}", solution.exercises,
                                                solution.digest, sandbox_name)))
            continue
        seen[key] = sub.path
        try:
            grading = assemble(solution, nb)
        except Exception as error:  # noqa: BLE001 - a bad file gets a row, the batch goes on
            prepared.append((sub, _error_result(sub, lesson, "internal-error", f"grader error assembling it: "
                                                f"{type(error).__name__}: {error}", solution.exercises,
                                                solution.digest, sandbox_name)))
            continue
        prepared.append((sub, (lesson, grading, solution.digest)))

    stream = sys.stderr
    bar = _Progress(len(prepared), stream, stream.isatty() if progress is None else progress)
    results: list[SubmissionResult | None] = [None] * len(prepared)

    def work(index: int):
        sub, item = prepared[index]
        if isinstance(item, SubmissionResult):
            result = item
        else:
            lesson, grading, digest = item
            try:
                kernel = pool.get()
                result = execute(grading, kernel, cell_timeout=cell_timeout,
                                 submission_timeout=submission_timeout, learner=sub.learner,
                                 solutions_hash=digest, sandbox=sandbox_name)
            except KernelStartError as error:
                result = _error_result(sub, lesson, "kernel-failed", f"the grading kernel did not start: "
                                       f"{error}", grading.max_points, digest, sandbox_name)
            except Exception as error:  # noqa: BLE001 - one submission must not end the batch
                result = _error_result(sub, lesson, "internal-error", f"grader error: "
                                       f"{type(error).__name__}: {error}", grading.max_points, digest, sandbox_name)
        result.source = str(sub.path)
        if not sandbox.isolated:
            result.reasons.insert(0, "graded WITHOUT a sandbox (--no-sandbox)")
        results[index] = result
        bar.step(result)

    with ThreadPoolExecutor(max_workers=jobs) as executor:
        list(executor.map(work, range(len(prepared))))
    final = [r for r in results if r is not None]
    if out is not None:
        write_rows(Path(out), [to_row(r) for r in final])
    if feedback is not None:
        from lossbook.grading.feedback import write_feedback

        write_feedback(Path(feedback), final, solutions_by_lesson, fmt=feedback_format)
    return final


def to_row(result: SubmissionResult) -> Row:
    return Row(result.learner, result.lesson, dict(result.points), result.total, result.max_total,
               result.status, list(result.reasons), result.solutions_hash,
               result.sandbox)


def summary_table(results: list[SubmissionResult]) -> str:
    """A plain-text table: learner, lesson, points, status."""
    rows = [("learner", "lesson", "points", "status")]
    for r in sorted(results, key=lambda r: (r.lesson, r.learner)):
        rows.append((r.learner, r.lesson, f"{r.total:g}/{r.max_total:g}", r.status))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)
