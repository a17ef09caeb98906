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
Every submission gets a row; a submission file is only ever read.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from lossbook.grading.assemble import (SubmissionError, assemble, file_digest, lesson_by_name,
                                      lesson_of_submission, load_solutions, load_submission)
from lossbook.grading.gradebook import Row, write_rows
from lossbook.grading.kernel import KernelPool, KernelStartError
from lossbook.grading.run import SubmissionResult, execute
from lossbook.grading.runtime import build_runtime
from lossbook.grading.safe_text import printable
from lossbook.grading.sandbox import Limits, make_sandbox

DEFAULT_CELL_TIMEOUT = 10.0

#: Every status a gradebook row can have, and what it means.
STATUSES = {
    "graded": "every cell ran (failed tests still have their reasons)",
    "incomplete": "the kernel stopped part-way (see reasons); the cells not run score 0",
    "timed-out": "a cell ignored the interrupt, or the submission ran out of time; the kernel was killed",
    "kernel-died": "the kernel exited (os._exit, exit()) or crashed",
    "not-a-notebook": "not notebook JSON, or a notebook whose structure is broken (e.g. a cell's "
                      "metadata that is not a mapping): not run",
    "wrong-nbformat": "not an nbformat 4 notebook: not run",
    "too-large": "over the size limit: not run",
    "unreadable": "the file cannot be read: not run",
    "not-a-regular-file": "a symbolic link or a special file: not run",
    "unknown-lesson": "no lesson in the metadata and none in the file name: not run",
    "wrong-lesson": "the metadata's lesson contradicts the file name: not run",
    "ambiguous": "several files for one learner and lesson and none named exactly <lesson>.ipynb: "
                 "none run, the reason names every file",
    "refused-identity": "the learner id collides with another after sanitising, or the gradebook "
                        "already holds this learner and lesson from another file: not run or not written",
    "kernel-failed": "the grader's kernel did not start (the grader's trouble, not the submission's)",
    "internal-error": "a bug in the grader itself (please report it with the reasons)",
}
#: Rows that stand for no graded file: no feedback file is written for them.
NO_FEEDBACK = ("ambiguous", "refused-identity")


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
    import lossbook

    return Path(lossbook.__file__).resolve().parent.parent / "solutions"


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


def grade(paths, out: Path | None, *, solutions: Path | None = None, jobs: int | None = None,
          cell_timeout: float = DEFAULT_CELL_TIMEOUT, submission_timeout: float | None = None,
          no_sandbox: bool = False, learner: str | None = None, limits: Limits | None = None,
          feedback: Path | None = None, feedback_format: str = "md", progress=None,
          replace_other_source: bool = False, warn=None) -> Report:
    """Grade every submission in ``paths``; write the gradebook ``out`` (merged) and feedback.

    Returns a :class:`Report` (the results, one per row, and what the summary lists).
    Raises :class:`~lossbook.grading.sandbox.SandboxUnavailable` when there is no sandbox
    and ``no_sandbox`` is false; every other problem becomes a row's status. ``warn`` is
    called once with each warning about the sandbox (default: print to stderr).
    """
    solutions_dir = Path(solutions) if solutions else default_solutions()
    if not solutions_dir.is_dir():
        raise FileNotFoundError(f"solutions folder {str(solutions_dir)!r} does not exist; pass --solutions FOLDER")
    forbidden_by_exercise(solutions_dir)  # a malformed policy file stops here, before any kernel starts
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
        for warning in sandbox.warnings:
            (warn or (lambda text: print(f"lossbook grade: WARNING: {text}", file=sys.stderr)))(warning)
        # Kernels boot (in their own processes) while this process reads the notebooks.
        if submissions:
            pool = KernelPool(sandbox, base, size=2 * jobs + 2, expected=len(submissions))
        report = _grade(submissions, solutions_dir, sandbox, pool, jobs, cell_timeout, submission_timeout,
                        out, feedback, feedback_format, progress, replace_other_source)
        report.notes[:0] = list(sandbox.warnings)
        return report
    finally:
        if pool is not None:
            pool.close()
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
            "internal-error", f"grader error reading it: {type(error).__name__}: {str(error)[:200]}"))


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
                    chosen.append(make_error(cand, "refused-identity", (
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
        chosen.append(make_error(group[0], "ambiguous", (
            f"{len(group)} files for {learner} × {lesson} and {'none' if not exact else 'more than one'} "
            f"named exactly {lesson}.ipynb: {files}; nothing graded: keep one (named {lesson}.ipynb)"),
            source=", ".join(_source(c.sub.path) for c in group), digest=""))
    return chosen


def _grade(submissions, solutions_dir, sandbox, pool, jobs, cell_timeout, submission_timeout, out,
           feedback, feedback_format, progress, replace_other_source=False) -> Report:
    from lossbook.grading.compare import warm_up

    solutions_by_lesson = load_solutions(solutions_dir)
    forbidden = forbidden_by_exercise(solutions_dir)
    warm_up()  # import nbval now, while the kernels boot
    sandbox_name = sandbox.name
    report = Report()

    def make_error(cand: _Candidate, status: str, message: str, learner: str | None = None,
                   source: str | None = None, digest: str | None = None) -> SubmissionResult:
        lesson = cand.lesson or cand.sub.path.stem
        sol = solutions_by_lesson.get(lesson)
        result = _error_result(cand.sub, lesson, status, message, sol.exercises if sol else None,
                               sol.digest if sol else "", sandbox_name, learner)
        result.source = source if source is not None else result.source
        result.content_hash = cand.digest if digest is None else digest
        return result

    candidates = [_read(sub, solutions_by_lesson) for sub in submissions]
    prepared = []  # (submission, (lesson, grading notebook, digest) or an error result)
    for item in _choose(candidates, report, make_error):
        if isinstance(item, SubmissionResult):
            prepared.append((None, item))
            continue
        cand = item
        if cand.error is not None:
            prepared.append((cand, make_error(cand, cand.error.status, str(cand.error))))
            continue
        solution = solutions_by_lesson[cand.lesson]
        try:
            grading = assemble(solution, cand.notebook, forbidden)
        except Exception as error:  # noqa: BLE001 - a grader bug: that row says so, the batch goes on
            prepared.append((cand, make_error(cand, "internal-error", f"grader error assembling it: "
                                              f"{type(error).__name__}: {str(error)[:200]}")))
            continue
        prepared.append((cand, (cand.lesson, grading, solution.digest)))

    stream = sys.stderr
    bar = _Progress(len(prepared), stream, stream.isatty() if progress is None else progress)
    results: list[SubmissionResult | None] = [None] * len(prepared)
    texts: list[str | None] = [None] * len(prepared)

    def work(index: int):
        cand, item = prepared[index]
        if isinstance(item, SubmissionResult):
            result = item
        else:
            lesson, grading, digest = item
            sub = cand.sub
            try:
                kernel = pool.get()
                result = execute(grading, kernel, cell_timeout=cell_timeout,
                                 submission_timeout=submission_timeout, learner=sub.learner,
                                 solutions_hash=digest, sandbox=sandbox_name)
            except KernelStartError as error:
                result = make_error(cand, "kernel-failed", f"the grading kernel did not start: {error}")
            except Exception as error:  # noqa: BLE001 - one submission must not end the batch
                result = make_error(cand, "internal-error", f"grader error: {type(error).__name__}: "
                                    f"{str(error)[:200]}")
            result.source = _source(sub.path)
            result.content_hash = cand.digest
        if not sandbox.isolated:
            result.reasons.insert(0, "graded WITHOUT a sandbox (--no-sandbox)")
        results[index] = result
        bar.step(result)

    def guarded(index: int):
        try:
            work(index)
        except BaseException as error:  # noqa: BLE001 - the last line of defence: the row says so
            cand, item = prepared[index]
            if isinstance(item, SubmissionResult):
                result = item
                result.status = "internal-error"
                result.reasons.append(f"grader error: {type(error).__name__}: {str(error)[:200]}")
            else:
                result = make_error(cand, "internal-error", f"grader error: {type(error).__name__}: "
                                    f"{str(error)[:200]}")
            results[index] = result

    with ThreadPoolExecutor(max_workers=jobs) as executor:
        list(executor.map(guarded, range(len(prepared))))
    if feedback is not None:
        # Here, one at a time: the diagnosis redirects sys.stdout while it replays hidden tests.
        for index, result in enumerate(results):
            if result is None or result.status in NO_FEEDBACK:
                continue
            try:
                texts[index] = _feedback_text(result, solutions_by_lesson, feedback_format)
            except Exception as error:  # noqa: BLE001 - feedback must not stop the batch
                report.notes.append(f"feedback for {result.learner} × {result.lesson} not written: grader "
                                    f"error {type(error).__name__}: {str(error)[:200]}")
    final = [r for r in results if r is not None]
    report.extend(final)
    if out is not None:
        rows = [to_row(r) for r in final]
        merge = write_rows(Path(out), rows, replace_other_source=replace_other_source)
        _apply_merge(report, merge)
        # The machine-readable results beside it (gradebook.results.jsonl), merged alike.
        from lossbook.grading.results import write_results_beside
        write_results_beside(Path(out), final, merge, solutions_by_lesson, feedback=feedback,
                             feedback_format=feedback_format, notes=report.notes)
    if feedback is not None:
        for result, text in zip(results, texts):
            if text is None or result is None or result.status in NO_FEEDBACK:
                continue
            try:
                _write_feedback_file(Path(feedback), result, text, feedback_format)
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
            result.status = "refused-identity"
            result.reasons.insert(0, f"the gradebook already has {row.learner} × {row.lesson} from another "
                                  f"file ({conflict.old_source}, total {conflict.old_total or '?'}); not replaced: "
                                  "pass --replace-from-other-source to replace it")


def _feedback_text(result: SubmissionResult, solutions_by_lesson, fmt: str) -> str | None:
    from lossbook.grading.feedback import render

    return render(result, solutions_by_lesson.get(result.lesson), fmt)


def feedback_path(folder: Path, learner: str, lesson: str, fmt: str = "md") -> Path:
    """``folder/<learner>/<lesson>.<md|html>``: keyed by learner and lesson, always inside ``folder``."""
    lesson = re.sub(r"[^A-Za-z0-9._-]+", "_", printable(lesson, keep_newlines=False)).strip(".") or "unknown"
    learner = re.sub(r"[^A-Za-z0-9._%-]+", "_", learner).strip(".") or "unknown"
    return Path(folder) / learner / f"{lesson}.{'html' if fmt == 'html' else 'md'}"


def _write_feedback_file(folder: Path, result: SubmissionResult, text: str, fmt: str) -> Path:
    path = feedback_path(folder, result.learner, result.lesson, fmt)
    if Path(os.path.abspath(path)).parent.parent != Path(os.path.abspath(folder)):
        raise OSError(f"unsafe feedback path for {result.learner!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
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
