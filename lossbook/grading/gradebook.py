"""The gradebook: one CSV row per learner × lesson.

Columns: ``learner``, ``lesson``, one points column per exercise id (in course order),
``total``, ``max``, ``status``, ``reasons`` (``; ``-separated), ``solutions_hash`` (which
solution notebook graded it), ``sandbox`` (``bwrap`` or ``NONE``). Writing merges with the
existing file: rows of the learner × lesson pairs just graded are replaced, every other
row is kept. The file is replaced atomically (a temporary file in the same folder, then
:func:`os.replace`), so a crash never leaves half a gradebook.

Examples
--------
>>> import tempfile, pathlib
>>> path = pathlib.Path(tempfile.mkdtemp()) / "grades.csv"
>>> write_rows(path, [Row("ana", "02_mse", {"mse": 3, "mse_grad": 0}, 3, 6, "graded", ["mse_grad: not attempted"], "abc")])
>>> write_rows(path, [Row("ben", "02_mse", {"mse": 0, "mse_grad": 3}, 3, 6, "graded", [], "abc")])
>>> [(r["learner"], r["mse"], r["total"]) for r in read_rows(path)]
[('ana', '3', '3'), ('ben', '0', '3')]
"""
from __future__ import annotations

import csv
import io
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

FIXED_HEAD = ["learner", "lesson"]
FIXED_TAIL = ["total", "max", "status", "reasons", "solutions_hash", "sandbox"]


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


def _number(value) -> str:
    if value is None or value == "":
        return ""
    value = float(value)
    return str(int(value)) if value == int(value) else f"{value:g}"


def _cell(text: str) -> str:
    """Neutralise spreadsheet formulas in learner-controlled text (CSV injection)."""
    text = str(text).replace("\r", " ").replace("\n", " ")
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


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


def write_rows(path: Path, rows: list[Row]) -> None:
    """Merge ``rows`` into the gradebook at ``path`` (created if missing), atomically."""
    path = Path(path)
    old = read_rows(path)
    replaced = {(r.learner, r.lesson) for r in rows}
    kept = [r for r in old if (r.get("learner"), r.get("lesson")) not in replaced]
    new = []
    for row in rows:
        # Learner ids are sanitised (letters, digits, . _ -, never a leading -) before this.
        record = {"learner": row.learner, "lesson": row.lesson, "total": _number(row.total),
                  "max": _number(row.max), "status": row.status,
                  "reasons": _cell("; ".join(row.reasons)), "solutions_hash": row.solutions_hash,
                  "sandbox": row.sandbox}
        record.update({exercise: _number(points) for exercise, points in row.points.items()})
        new.append(record)
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
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
