"""Grades for a learning-management system: Canvas, Moodle, or a long (tidy) CSV.

``lossbook export gradebook.csv --to canvas|moodle|long --roster roster.csv [--out FILE]``
reads the machine-readable results beside the gradebook
(:mod:`lossbook.grading.results`) and a roster, and writes:

- **canvas**: Canvas's gradebook import CSV, laid out as Canvas exports it: the columns
  ``Student``, ``ID``, ``SIS User ID``, ``SIS Login ID``, ``Section``, then one column per
  lesson (``Lesson 02 MSE``), and a second row ``Points Possible`` with each lesson's
  maximum. ``Student`` is the roster's ``name``, ``ID`` its ``id`` (Canvas's user id); the
  SIS and section columns come from the roster's optional ``sis_user_id``,
  ``sis_login_id`` and ``section`` columns (blank otherwise).
- **moodle**: Moodle's grade import CSV: one identifier column (``Email address`` by
  default, or ``ID number`` with the roster's ``id``), then one column per grade item
  (lesson). In Moodle's import, map the identifier column to the same user field and each
  lesson column to its grade item.
- **long**: one row per learner × lesson × exercise (``learner, name, id, email, lesson,
  exercise, points, max, exercise_status, row_status, misconception, graded_at``), for
  pandas; learners of the results missing from the roster are kept, with blank roster
  columns.

The roster is a CSV with the columns ``learner`` (the submission folder's name), ``name``,
``id`` and ``email``; its learner ids are sanitised exactly as the grader sanitises folder
names (:func:`lossbook.grading.batch.sanitize_learner`) before they are joined with the
results. A learner of the roster without results gets blank grade cells (Canvas and
Moodle leave a blank cell unchanged); a learner of the results missing from the roster
cannot be matched to an LMS account and is left out of the Canvas and Moodle files. Both
lists are returned (:class:`Export`) and printed by the command: nobody is dropped
silently. Every text cell is escaped against formula injection as in the gradebook
(:func:`lossbook.grading.safe_text.spreadsheet_cell`).

Examples
--------
>>> lesson_column("02_mse"), lesson_column("99_new")
('Lesson 02 MSE', 'Lesson 99 new')
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from lossbook.grading.safe_text import spreadsheet_cell

FORMATS = ("canvas", "moodle", "long")
ROSTER_COLUMNS = ("learner", "name", "id", "email")
CANVAS_HEAD = ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
LONG_COLUMNS = ["learner", "name", "id", "email", "lesson", "exercise", "points", "max", "exercise_status",
                "row_status", "misconception", "graded_at"]

#: Short lesson names for LMS column headers.
SHORT_TITLES = {
    "00_welcome": "Welcome", "01_loss_vs_cost": "Loss vs cost", "02_mse": "MSE", "03_mae_huber": "MAE and Huber",
    "04_cross_entropy": "Cross-entropy", "05_hinge": "Hinge", "06_regularization": "Regularization",
    "07_choosing_a_loss": "Choosing a loss", "08_beyond": "Beyond", "09_training_networks": "Training networks",
    "10_imbalance_calibration": "Imbalance and calibration", "11_embeddings": "Embeddings",
}


class ExportError(ValueError):
    """The roster or the results cannot be used; the message names the file and the fix."""


def lesson_column(lesson: str) -> str:
    """The LMS column of a lesson: ``Lesson NN <short title>``."""
    number, _, rest = lesson.partition("_")
    title = SHORT_TITLES.get(lesson, rest or lesson)
    return f"Lesson {number} {title}" if number.isdigit() else f"Lesson {lesson}"


@dataclass
class RosterEntry:
    learner: str  # sanitised
    name: str
    id: str
    email: str
    extra: dict = field(default_factory=dict)


@dataclass
class Export:
    """What :func:`export` wrote and whom it could not match."""

    text: str
    not_in_roster: list[str] = field(default_factory=list)   # learners of the results
    no_results: list[str] = field(default_factory=list)      # learners of the roster


def read_roster(path) -> list[RosterEntry]:
    """The roster's rows, learner ids sanitised as the grader does; clear errors otherwise."""
    from lossbook.grading.batch import sanitize_learner

    path = Path(path)
    if not path.is_file():
        raise ExportError(f"--roster {str(path)!r}: no such file; give a CSV with the columns "
                          f"{', '.join(ROSTER_COLUMNS)}")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ExportError(f"--roster {str(path)!r} cannot be read ({error}); save it as UTF-8 CSV") from None
    reader = csv.DictReader(io.StringIO(text))
    header = {(h or "").strip().lower(): h for h in reader.fieldnames or []}
    missing = [c for c in ROSTER_COLUMNS if c not in header]
    if missing:
        raise ExportError(f"--roster {str(path)!r} lacks the column(s) {', '.join(missing)}; its header must "
                          f"name {', '.join(ROSTER_COLUMNS)} (found: {', '.join(header) or 'nothing'})")
    entries, seen = [], {}
    for number, row in enumerate(reader, 2):
        get = {k: (row.get(h) or "").strip() for k, h in header.items()}
        if not any(get.values()):
            continue
        if not get["learner"]:
            raise ExportError(f"--roster {str(path)!r}, line {number}: the learner column is empty; give the "
                              "learner's submission folder name")
        learner = sanitize_learner(get["learner"])
        if learner in seen:
            raise ExportError(f"--roster {str(path)!r}: lines {seen[learner]} and {number} are both learner "
                              f"{learner!r} once made safe as the grader does; give each learner one line")
        seen[learner] = number
        extra = {k: v for k, v in get.items() if k not in ROSTER_COLUMNS}
        entries.append(RosterEntry(learner, get["name"], get["id"], get["email"], extra))
    return entries


def _number(value) -> str:
    if value is None or value == "":
        return ""
    value = float(value)
    return str(int(value)) if value == int(value) else f"{value:g}"


def _collect(records):
    """learner → lesson → record (the last record wins), and lesson → max points."""
    by_learner: dict[str, dict[str, dict]] = {}
    maxima: dict[str, float] = {}
    for record in records:
        learner, lesson = str(record["learner"]), str(record["lesson"])
        by_learner.setdefault(learner, {})[lesson] = record
        maxima[lesson] = max(maxima.get(lesson, 0.0), float(record.get("max") or 0))
    return by_learner, maxima


def _csv(rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    for row in rows:
        writer.writerow(row)
    return buffer.getvalue()


def export(records, roster: list[RosterEntry], to: str, *, moodle_identifier: str = "email") -> Export:
    """The export of the results ``records`` (an iterable of results records) for ``to``."""
    if to not in FORMATS:
        raise ExportError(f"--to {to!r}: use one of {', '.join(FORMATS)}")
    if moodle_identifier not in ("email", "id"):
        raise ExportError(f"--moodle-identifier {moodle_identifier!r}: use email or id")
    by_learner, maxima = _collect(records)
    lessons = sorted(maxima)
    cell = spreadsheet_cell
    known = {e.learner for e in roster}
    result = Export("", not_in_roster=sorted(set(by_learner) - known),
                    no_results=sorted(e.learner for e in roster if e.learner not in by_learner))
    if to == "canvas":
        rows = [CANVAS_HEAD + [cell(lesson_column(l)) for l in lessons],
                ["Points Possible", "", "", "", ""] + [_number(maxima[l]) for l in lessons]]
        for entry in roster:
            done = by_learner.get(entry.learner, {})
            rows.append([cell(entry.name), cell(entry.id), cell(entry.extra.get("sis_user_id", "")),
                         cell(entry.extra.get("sis_login_id", "")), cell(entry.extra.get("section", ""))]
                        + [_number(done[l]["total"]) if l in done else "" for l in lessons])
    elif to == "moodle":
        head = "Email address" if moodle_identifier == "email" else "ID number"
        rows = [[head] + [cell(lesson_column(l)) for l in lessons]]
        for entry in roster:
            done = by_learner.get(entry.learner, {})
            rows.append([cell(entry.email if moodle_identifier == "email" else entry.id)]
                        + [_number(done[l]["total"]) if l in done else "" for l in lessons])
    else:
        rows = [list(LONG_COLUMNS)]
        people = {e.learner: e for e in roster}
        for learner in sorted(set(by_learner) | set(people)):
            entry = people.get(learner)
            who = [cell(learner), cell(entry.name if entry else ""), cell(entry.id if entry else ""),
                   cell(entry.email if entry else "")]
            for lesson in sorted(by_learner.get(learner, {})):
                record = by_learner[learner][lesson]
                for item in record.get("exercises") or []:
                    mis = item.get("misconception") or {}
                    rows.append(who + [cell(lesson), cell(item.get("exercise", "")), _number(item.get("points")),
                                       _number(item.get("max")), cell(item.get("status", "")),
                                       cell(record.get("status", "")), cell(mis.get("id", "") if mis else ""),
                                       cell(record.get("graded_at", ""))])
    result.text = _csv(rows)
    return result


__all__ = ["Export", "ExportError", "FORMATS", "RosterEntry", "export", "lesson_column", "read_roster"]
