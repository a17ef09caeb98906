"""The gradebook: one CSV row per learner × lesson.

Columns: ``learner``, ``lesson``, one points column per exercise id (in course order),
``total``, ``max``, ``status``, ``reasons`` (``; ``-separated), ``solutions_hash`` (which
solution notebook graded it), ``sandbox`` (``bwrap``, ``unshare`` or ``NONE``), ``source``
(the absolute path of the submission file) and ``content_hash`` (the first 16 hex digits
of its SHA-256). Every text cell is escaped against formula injection and stripped of
control characters (:func:`lossbook.grading.safe_text.spreadsheet_cell`).

Writing merges with the existing file: every row not graded now is kept. A row of a
learner × lesson pair graded now is replaced when it came from the same source path; a
row from a *different* path is never replaced silently: without
``replace_other_source=True`` the old row stays and the new one is returned as refused,
with it the replaced ones (old and new totals), for the summary. The file is replaced
atomically (a temporary file in the same folder, then :func:`os.replace`), so a crash
never leaves half a gradebook.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "grades.csv"
>>> _ = write_rows(path, [Row("ana", "02_mse", {"mse": 3, "mse_grad": 0}, 3, 6, "graded", ["mse_grad: not attempted"], "abc")])
>>> _ = write_rows(path, [Row("ben", "02_mse", {"mse": 0, "mse_grad": 3}, 3, 6, "graded", [], "abc")])
>>> [(r["learner"], r["mse"], r["total"]) for r in read_rows(path)]
[('ana', '3', '3'), ('ben', '0', '3')]
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

from lossbook._files import write_atomically
from lossbook.grading.safe_text import spreadsheet_cell

FIXED_HEAD = ["learner", "lesson"]
FIXED_TAIL = ["total", "max", "status", "reasons", "solutions_hash", "sandbox", "source", "content_hash"]
TEXT_COLUMNS = ("learner", "lesson", "status", "reasons", "solutions_hash", "sandbox", "source", "content_hash")


@dataclass
class Row:
    learner: str
    lesson: str
    points: dict[str, float]
    total: float
    max: float
    status: str
    reasons: list[str] = field(default_factory=list)
    solutions_hash: str = ""
    sandbox: str = "bwrap"
    source: str = ""
    content_hash: str = ""

    @property
    def key(self) -> tuple[str, str]:
        return (spreadsheet_cell(self.learner), spreadsheet_cell(self.lesson))


@dataclass
class Conflict:
    """A row graded now whose learner × lesson already has a row from another source."""

    row: Row
    old_source: str
    old_total: str


@dataclass
class Merge:
    """What :func:`write_rows` did: rows replaced from another source, rows refused."""

    replaced: list[Conflict] = field(default_factory=list)
    refused: list[Conflict] = field(default_factory=list)


def _number(value) -> str:
    if value is None or value == "":
        return ""
    value = float(value)
    return str(int(value)) if value == int(value) else f"{value:g}"


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas and control characters in learner-controlled text."""
    return spreadsheet_cell(text)


def read_rows(path: Path) -> list[dict[str, str]]:
    """The gradebook's rows as dicts (empty when the file does not exist)."""
    path = Path(path)
    if not path.exists():
        return []
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _exercise_order() -> list[str]:
    try:
        from lossbook.exercises import ids
        return list(ids())
    except Exception:  # noqa: BLE001 - ordering is cosmetic
        return []


def _record(row: Row) -> dict[str, str]:
    record = {"learner": row.learner, "lesson": row.lesson, "total": _number(row.total),
              "max": _number(row.max), "status": row.status, "reasons": "; ".join(row.reasons),
              "solutions_hash": row.solutions_hash, "sandbox": row.sandbox, "source": row.source,
              "content_hash": row.content_hash}
    for column in TEXT_COLUMNS:
        record[column] = _cell(record[column])
    record.update({_cell(exercise): _number(points) for exercise, points in row.points.items()})
    return record


def plan_merge(old: list[dict[str, str]], rows: list[Row], replace_other_source: bool = False
               ) -> tuple[list[Row], Merge]:
    """The rows to write over ``old`` and the conflicts (see the module's docstring)."""
    by_key = {(r.get("learner"), r.get("lesson")): r for r in old}
    merge = Merge()
    written = []
    for row in rows:
        previous = by_key.get(row.key)
        if previous is not None and previous.get("source", "") != _cell(row.source):
            conflict = Conflict(row, previous.get("source", "") or "(unknown: an older gradebook)",
                                previous.get("total", ""))
            if not replace_other_source:
                merge.refused.append(conflict)
                continue
            merge.replaced.append(conflict)
        written.append(row)
    return written, merge


def write_rows(path: Path, rows: list[Row], *, replace_other_source: bool = False) -> Merge:
    """Merge ``rows`` into the gradebook at ``path`` (created if missing), atomically."""
    path = Path(path)
    old = read_rows(path)
    rows, merge = plan_merge(old, rows, replace_other_source)
    replaced = {r.key for r in rows}
    kept = [r for r in old if (r.get("learner"), r.get("lesson")) not in replaced]
    new = [_record(row) for row in rows]
    exercises: list[str] = []
    for record in [*kept, *new]:
        for key in record:
            if key not in FIXED_HEAD and key not in FIXED_TAIL and key not in exercises and key is not None:
                exercises.append(key)
    order = {e: i for i, e in enumerate(_exercise_order())}
    exercises.sort(key=lambda e: (order.get(e, len(order)), e))
    columns = FIXED_HEAD + exercises + FIXED_TAIL
    merged = sorted([*kept, *new], key=lambda r: (r.get("lesson") or "", r.get("learner") or ""))
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
    writer.writeheader()
    for record in merged:
        writer.writerow({c: record.get(c, "") or "" for c in columns})
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, buffer.getvalue(), newline=None, mode=0o644)
    return merge
