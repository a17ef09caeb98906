"""What the class got wrong, from the grader's results file, in one pass.

:func:`aggregate` reads the records of ``<gradebook>.results.jsonl``
(:mod:`lossbook.grading.results`) once and returns a :class:`ClassReport`: per lesson the
submissions, score distribution and status counts; per exercise the pass rate, the
misconceptions the grader diagnosed (counts and share of the lesson's submissions, with the
catalog's "what to reteach" note and the lesson section or explorer that addresses each),
and classical item statistics; and the learners who may need help.

Item statistics (classical test theory), per lesson, over the submissions that ran:

- **difficulty** of an exercise: its mean score as a fraction of its points, p = mean(xᵢ / maxᵢ);
- **discrimination**: the point-biserial (Pearson) correlation between the exercise's score
  and the *rest* of the lesson (the lesson total minus this exercise), so the exercise is
  not correlated with itself. An exercise is flagged as not separating learners when this
  is below :data:`LOW_DISCRIMINATION` (0.2, the usual rule of thumb), or when everybody
  got the same score on it (the correlation is undefined), given at least
  :data:`MIN_FOR_STATISTICS` submissions.
"""
from __future__ import annotations

import csv
import math
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lossbook.grading.results import read_results, results_path

#: Row statuses whose notebook ran (its exercises scored on what it did).
RUN_STATUSES = ("graded", "timed-out", "kernel-died")
#: Below this point-biserial correlation with the rest of the lesson, an exercise does not separate learners.
LOW_DISCRIMINATION = 0.2
#: Fewer submissions than this: no item statistics (too noisy to read).
MIN_FOR_STATISTICS = 5
#: A learner below this share of the points of the lessons they handed in may need help.
HELP_SHARE = 0.5
#: A learner with at least this many timed-out submissions or exercises may need help.
HELP_TIMEOUTS = 2


@dataclass
class MisconceptionCount:
    """One diagnosed misconception of one exercise, over the class."""

    id: str
    message: str
    count: int
    share: float  # of the lesson's submissions
    reteach: str = ""
    section_lesson: str = ""
    section_heading: str = ""
    explorer: str = ""
    catalogued: bool = True


@dataclass
class ExerciseSummary:
    lesson: str
    exercise: str
    title: str
    max: float
    submissions: int = 0
    passed: int = 0
    failed: int = 0
    not_attempted: int = 0
    not_run: int = 0
    undiagnosed: int = 0  # failed without a recognised misconception
    misconceptions: list[MisconceptionCount] = field(default_factory=list)
    difficulty: float | None = None
    discrimination: float | None = None
    flag: str | None = None

    @property
    def pass_rate(self) -> float:
        return self.passed / self.submissions if self.submissions else 0.0


@dataclass
class LessonSummary:
    lesson: str
    title: str
    submissions: int = 0
    not_submitted: int = 0
    statuses: Counter = field(default_factory=Counter)
    timed_out: int = 0
    refused: int = 0
    scores: list[float] = field(default_factory=list)  # total / max of every submission
    max: float = 0.0
    exercises: list[ExerciseSummary] = field(default_factory=list)
    statistics_note: str = ""

    @property
    def mean(self) -> float | None:
        return float(np.mean(self.scores)) if self.scores else None

    @property
    def median(self) -> float | None:
        return float(np.median(self.scores)) if self.scores else None

    @property
    def not_run(self) -> int:
        return sum(n for s, n in self.statuses.items() if s not in RUN_STATUSES)


@dataclass
class LearnerFlag:
    learner: str
    points: float
    max: float
    timeouts: int
    lessons: int
    why: list[str]
    feedback: list[tuple[str, str]]  # (lesson, path)

    @property
    def share(self) -> float:
        return self.points / self.max if self.max else 0.0


@dataclass
class ClassReport:
    gradebook: str
    results: str
    rows: int = 0
    learners: int = 0
    lessons: list[LessonSummary] = field(default_factory=list)
    needs_help: list[LearnerFlag] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def exercises(self) -> list[ExerciseSummary]:
        return [e for lesson in self.lessons for e in lesson.exercises]


def lesson_title(lesson: str) -> str:
    """A lesson's display title (``"02_mse"`` → ``"Lesson 02 MSE"``), from the export table."""
    from lossbook.grading.export import lesson_column

    return lesson_column(lesson)


def _catalog(exercise: str):
    """(title, {misconception name: Misconception}, lesson order) for an exercise id, or empty."""
    try:
        from lossbook.exercises import get

        ex = get(exercise)
    except Exception:  # noqa: BLE001 - an exercise this release does not know
        return exercise, {}
    return ex.title, {m.name: m for m in ex.misconceptions}


def _misconception_info(exercise: str, mid: str, known: dict) -> dict:
    from lossbook.exercises.diagnosis import GENERIC

    if mid in known:
        m = known[mid]
        return {"reteach": m.reteach, "section_lesson": m.section_lesson, "section_heading": m.section_heading,
                "explorer": m.explorer, "catalogued": True}
    if mid in GENERIC:
        note, section = GENERIC[mid]
        lesson, _, heading = section.partition(": ")
        return {"reteach": note, "section_lesson": lesson, "section_heading": heading, "explorer": "",
                "catalogued": True}
    return {"reteach": "", "section_lesson": "", "section_heading": "", "explorer": "", "catalogued": False}


def _with_lesson(info: dict, lesson: str) -> dict:
    """A misconception addressed nowhere in particular is addressed by the exercise's own lesson."""
    if not info["section_lesson"] and not info["explorer"] and lesson:
        info = {**info, "section_lesson": lesson}
    return info


def _pearson(x: np.ndarray, y: np.ndarray) -> float | None:
    if x.size < 2:
        return None
    dx, dy = x - x.mean(), y - y.mean()
    den = math.sqrt(float(dx @ dx) * float(dy @ dy))
    if den <= 1e-12 * max(1.0, float(np.abs(x).max(initial=0)) * float(np.abs(y).max(initial=0))):
        return None
    return float(dx @ dy) / den


def item_statistics(scores: np.ndarray, maxima: np.ndarray) -> list[tuple[float, float | None]]:
    """(difficulty, discrimination) per column of ``scores`` (points; one row per submission).

    Difficulty is the mean of ``scores[:, j] / maxima[j]``; discrimination the Pearson
    (point-biserial for pass/fail items) correlation of column ``j`` with the row totals
    without column ``j``; ``None`` when either has no spread.

    >>> s = np.array([[1., 1.], [1., 0.], [0., 0.], [1., 1.]])
    >>> [(d, round(r, 3)) for d, r in item_statistics(s, np.array([1., 1.]))]
    [(0.75, 0.577), (0.5, 0.577)]
    """
    totals = scores.sum(axis=1)
    out = []
    for j in range(scores.shape[1]):
        item = scores[:, j]
        difficulty = float(np.mean(item / maxima[j])) if maxima[j] > 0 else 0.0
        out.append((difficulty, _pearson(item, totals - item)))
    return out


def _flag(difficulty: float, discrimination: float | None) -> str | None:
    if discrimination is None:
        if difficulty >= 1.0:
            return "does not separate learners: every submission got full marks"
        if difficulty <= 0.0:
            return "does not separate learners: no submission scored on it"
        return "does not separate learners: its score does not vary with the rest of the lesson"
    if discrimination < 0:
        return (f"negative discrimination ({discrimination:.2f}): learners strong on the rest of the lesson "
                "fail it more often; check the exercise and its hidden tests")
    if discrimination < LOW_DISCRIMINATION:
        return f"separates learners poorly: discrimination {discrimination:.2f} < {LOW_DISCRIMINATION}"
    return None


def _feedback_link(folder: Path | None, record: dict) -> str | None:
    if folder is not None:
        from lossbook.grading.batch import feedback_path

        for fmt in ("md", "html"):
            path = feedback_path(folder, str(record["learner"]), str(record["lesson"]), fmt)
            if path.exists():
                return str(path)
        return None
    path = record.get("feedback")
    return str(path) if isinstance(path, str) and path else None


def _gradebook_keys(gradebook: Path) -> set[tuple[str, str]] | None:
    if not gradebook.exists():
        return None
    with open(gradebook, newline="", encoding="utf-8") as handle:
        return {(r.get("learner") or "", r.get("lesson") or "") for r in csv.DictReader(handle)}


def aggregate(gradebook, *, feedback=None, results=None) -> ClassReport:
    """The class report of ``gradebook`` (its results file ``results`` by default).

    ``feedback``: the folder ``lossbook grade --feedback`` wrote; the learners who may need
    help link to their files there (else to the paths the results recorded).
    Raises :class:`lossbook.grading.results.ResultsError` when the results cannot be read.
    """
    from lossbook.grading.safe_text import spreadsheet_cell

    gradebook = Path(gradebook)
    results = Path(results) if results is not None else results_path(gradebook)
    folder = Path(feedback) if feedback is not None else None
    report = ClassReport(str(gradebook), str(results))
    lessons: dict[str, dict] = {}
    learners: dict[str, dict] = {}
    seen: set[tuple[str, str]] = set()
    for record in read_results(results):
        learner, lesson = str(record.get("learner", "")), str(record.get("lesson", ""))
        if (learner, lesson) in seen:
            report.warnings.append(f"{learner} × {lesson} appears twice in the results; the later record counts")
        seen.add((learner, lesson))
        report.rows += 1
        status = str(record.get("status", ""))
        exercises = record.get("exercises") or []
        ls = lessons.get(lesson)
        if ls is None:
            ls = lessons[lesson] = {"summary": LessonSummary(lesson, lesson_title(lesson)), "learners": set(),
                                    "exercises": {}, "matrix": [], "order": []}
        summary: LessonSummary = ls["summary"]
        ls["learners"].add(learner)
        summary.submissions += 1
        summary.statuses[status] += 1
        total, top = float(record.get("total") or 0), float(record.get("max") or 0)
        summary.max = max(summary.max, top)
        if top > 0:
            summary.scores.append(total / top)
        timeouts = int(status == "timed-out")
        if status == "refused-identity" or record.get("refusals"):
            summary.refused += 1
        run = status in RUN_STATUSES
        row_points = {}
        for item in exercises:
            name = str(item.get("exercise", ""))
            ex = ls["exercises"].get(name)
            if ex is None:
                title, known = _catalog(name)
                ex = ls["exercises"][name] = {"summary": ExerciseSummary(lesson, name, title, float(item.get("max") or 0)),
                                              "known": known, "counts": Counter(), "messages": {}}
                ls["order"].append(name)
            es: ExerciseSummary = ex["summary"]
            es.max = max(es.max, float(item.get("max") or 0))
            es.submissions += 1
            state = item.get("status")
            if state == "passed":
                es.passed += 1
            elif state == "not-attempted":
                es.not_attempted += 1
            elif state == "not-run":
                es.not_run += 1
            else:
                es.failed += 1
            if any("timed out" in str(r) for r in item.get("reasons") or ()):
                timeouts += 1
            mis = item.get("misconception")
            if isinstance(mis, dict) and mis.get("id"):
                ex["counts"][str(mis["id"])] += 1
                ex["messages"].setdefault(str(mis["id"]), str(mis.get("message") or ""))
            elif state == "failed":
                es.undiagnosed += 1
            row_points[name] = float(item.get("points") or 0)
        if run:
            ls["matrix"].append(row_points)
        person = learners.setdefault(learner, {"points": 0.0, "max": 0.0, "timeouts": 0, "lessons": 0,
                                               "statuses": Counter(), "feedback": []})
        person["points"] += total
        person["max"] += top
        person["timeouts"] += timeouts
        person["lessons"] += 1
        person["statuses"][status] += 1
        link = _feedback_link(folder, record)
        if link:
            person["feedback"].append((lesson, link))
        summary.timed_out += int(status == "timed-out")

    everyone = set(learners)
    from lossbook.exercises import ids

    order = {e: i for i, e in enumerate(ids())}
    for lesson in sorted(lessons):
        ls = lessons[lesson]
        summary = ls["summary"]
        summary.not_submitted = len(everyone - ls["learners"])
        names = sorted(ls["order"], key=lambda e: (order.get(e, len(order)), e))
        for name in names:
            ex = ls["exercises"][name]
            es = ex["summary"]
            for mid, count in ex["counts"].most_common():
                info = _with_lesson(_misconception_info(name, mid, ex["known"]), lesson)
                es.misconceptions.append(MisconceptionCount(mid, ex["messages"][mid], count,
                                                            count / summary.submissions, **info))
            summary.exercises.append(es)
        matrix = ls["matrix"]
        if len(matrix) >= MIN_FOR_STATISTICS and names:
            scores = np.array([[row.get(n, 0.0) for n in names] for row in matrix], dtype=float)
            maxima = np.array([ls["exercises"][n]["summary"].max for n in names], dtype=float)
            for es, (difficulty, discrimination) in zip(summary.exercises, item_statistics(scores, maxima)):
                es.difficulty, es.discrimination = difficulty, discrimination
                es.flag = _flag(difficulty, discrimination) if len(names) > 1 else None
            if len(names) == 1:
                summary.statistics_note = "one exercise: discrimination needs the rest of a lesson to compare with"
        else:
            summary.statistics_note = (f"{len(matrix)} submission(s) ran: item statistics need at least "
                                       f"{MIN_FOR_STATISTICS}")
        report.lessons.append(summary)

    for learner, person in learners.items():
        why = []
        share = person["points"] / person["max"] if person["max"] else 0.0
        if person["max"] and share < HELP_SHARE:
            why.append(f"{share:.0%} of the points")
        if person["timeouts"] >= HELP_TIMEOUTS:
            why.append(f"{person['timeouts']} timeouts")
        failed = sum(n for s, n in person["statuses"].items() if s in ("kernel-died", "timed-out"))
        if failed >= HELP_TIMEOUTS and not why:
            why.append(f"{failed} submissions stopped (timed out or kernel died)")
        if why:
            report.needs_help.append(LearnerFlag(learner, person["points"], person["max"], person["timeouts"],
                                                 person["lessons"], why, sorted(person["feedback"])))
    report.needs_help.sort(key=lambda f: (f.share, -f.timeouts, f.learner))
    report.learners = len(learners)

    keys = _gradebook_keys(gradebook)
    if keys is None:
        report.warnings.append(f"no gradebook {str(gradebook)!r} beside the results: the report is built from "
                               "the results alone")
    else:
        results_keys = {(spreadsheet_cell(a), spreadsheet_cell(b)) for a, b in seen}
        missing = keys - results_keys
        if missing:
            report.warnings.append(
                f"{len(missing)} gradebook row(s) have no results record (graded by an older lossbook, or the "
                f"results file was removed), e.g. {sorted(missing)[0][0]} × {sorted(missing)[0][1]}: re-grade "
                "them to include them in this report")
        extra = results_keys - keys
        if extra:
            report.warnings.append(f"{len(extra)} results record(s) are not in the gradebook (was it edited?), "
                                   f"e.g. {sorted(extra)[0][0]} × {sorted(extra)[0][1]}")
    return report


def relative_link(path: str, base: Path) -> str:
    """``path`` as an href relative to the folder ``base`` (the report's), percent-encoded.

    Never a URL with a scheme: ``javascript:x`` becomes ``./javascript%3Ax``.

    >>> relative_link("/c/fb/ana/02_mse.md", Path("/c"))
    './fb/ana/02_mse.md'
    >>> relative_link("javascript:alert(1)", Path("/c"))[:14]
    './javascript%3'
    """
    import urllib.parse

    target = os.path.abspath(os.path.join(base, path))
    try:
        text = os.path.relpath(target, os.path.abspath(base))
    except ValueError:  # another drive (Windows)
        text = target
    text = text.replace(os.sep, "/")
    quoted = urllib.parse.quote(text, safe="/")
    if not quoted.startswith(("../", "/")):
        quoted = "./" + quoted
    return quoted
