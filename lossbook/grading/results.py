"""The machine-readable results beside the gradebook: ``<gradebook stem>.results.jsonl``.

``lossbook grade ... --out gradebook.csv`` writes ``gradebook.results.jsonl`` beside the
CSV: JSON Lines, one object per learner × lesson row of the gradebook, every value as the
grader knew it (not escaped for spreadsheets: that is the CSV's job). Tools read this file,
``lossbook report`` and ``lossbook export`` among them.

Schema (``"schema": "lossbook-results"``, ``"version": 1``), one line per row::

    {"schema": "lossbook-results", "version": 1,
     "learner": "ana", "lesson": "02_mse",
     "status": "graded",               # a row status of lossbook.grading.batch.STATUSES
     "total": 3.0, "max": 6.0,
     "exercises": [                     # in the solution notebook's order
       {"exercise": "mse", "points": 0.0, "max": 3.0,
        "status": "failed",             # passed | failed | not-attempted | not-run
        "failing_case": "y_true 1-D of shape (3,), y_pred 1-D of shape (3,)",  # or null
        "reasons": ["all tests: output differs from the expected output"],
        "misconception": {"id": "sum",  # the catalog's key (stable), or a generic:… id
                          "message": "exactly n times too large: did you sum instead of averaging?"}
        },                              # misconception is null when nothing was diagnosed
       ...],
     "reasons": [...],                  # the gradebook row's reasons
     "refusals": [...],                 # what the sandbox refused ("refused: …" reasons)
     "seconds": 4.2,                    # wall time of the grading run (0 when not run)
     "source": "/abs/path/ana/02_mse.ipynb", "content_hash": "…16 hex…",
     "solutions_hash": "…", "sandbox": "bwrap",
     "feedback": "/abs/path/feedback/ana/02_mse.md",   # or null (no --feedback)
     "graded_at": "2026-12-03T21:04:05Z"}

Version 1 readers must ignore keys they do not know; a change that removes or changes the
meaning of a key raises ``version``. Writing merges exactly as the CSV does
(:mod:`lossbook.grading.gradebook`): the rows the gradebook wrote now replace the records
of the same learner × lesson, every other record is kept (lines this version cannot read
are kept as they are), and the rows the gradebook refused (another source, no
``--replace-from-other-source``) are not written. The file is replaced atomically.

Examples
--------
>>> results_path("marks/gradebook.csv").as_posix()
'marks/gradebook.results.jsonl'
"""
from __future__ import annotations

import datetime
import json
import os
from pathlib import Path
from typing import Iterator

from lossbook._files import write_atomically
from lossbook.grading.safe_text import spreadsheet_cell

SCHEMA = "lossbook-results"
VERSION = 1
EXERCISE_STATUSES = ("passed", "failed", "not-attempted", "not-run")


class ResultsError(ValueError):
    """The results file is missing, or a line of it cannot be read."""


def results_path(gradebook) -> Path:
    """Where the results of ``gradebook`` (``x.csv``) live: ``x.results.jsonl`` beside it."""
    gradebook = Path(gradebook)
    return gradebook.with_name(f"{gradebook.stem}.results.jsonl")


def _key(learner, lesson) -> tuple[str, str]:
    """The gradebook's key for a row (the CSV compares escaped cells; so does this)."""
    return (spreadsheet_cell(str(learner)), spreadsheet_cell(str(lesson)))


def _exercise_status(item: dict, tests: list) -> str:
    if not tests:
        return "not-run"
    if item["passed"]:
        return "passed"
    if all("not attempted" in (t.reason or "") for t in tests):
        return "not-attempted"
    return "failed"


def record(result, solution=None, *, feedback: str | None = None, graded_at: str | None = None,
           items: list[dict] | None = None) -> dict:
    """The results record of one :class:`~lossbook.grading.run.SubmissionResult`.

    ``solution`` (the lesson's :class:`~lossbook.grading.assemble.Solution`) lets the
    diagnosis replay the hidden tests; without it no misconception is recorded. ``items``:
    the result's :func:`lossbook.grading.feedback.exercise_feedback` when already computed
    (``lossbook grade`` diagnoses each submission once, for this record and its feedback).
    """
    from lossbook.grading.feedback import exercise_feedback

    exercises = []
    for item in exercise_feedback(result, solution) if items is None else items:
        tests = [t for t in result.tests if t.exercise == item["exercise"]]
        status = _exercise_status(item, tests)
        misconception = None
        if item.get("misconception"):
            misconception = {"id": item["misconception"], "message": item["diagnosis"]}
        exercises.append({
            "exercise": item["exercise"], "points": float(item["points"]), "max": float(item["max"]),
            "status": status,
            "failing_case": None if status in ("passed", "not-run") else item.get("failing_case"),
            "reasons": list(item["reasons"]) if status != "passed" else [],
            "misconception": misconception,
        })
    return {
        "schema": SCHEMA, "version": VERSION,
        "learner": result.learner, "lesson": result.lesson, "status": result.status,
        "total": float(result.total), "max": float(result.max_total),
        "exercises": exercises,
        "reasons": list(result.reasons),
        "refusals": [r[len("refused: "):] for r in result.reasons if r.startswith("refused: ")],
        "seconds": round(float(result.seconds or 0.0), 3),
        "source": result.source, "content_hash": result.content_hash,
        "solutions_hash": result.solutions_hash, "sandbox": result.sandbox,
        "feedback": feedback,
        "graded_at": graded_at or _now(),
    }


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _old_lines(path: Path) -> list[tuple[tuple[str, str] | None, str]]:
    """The existing file's lines with their keys (``None``: a line this version cannot read)."""
    if not path.exists():
        return []
    lines = []
    with open(path, encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\n")
            if not line.strip():
                continue
            try:
                data = json.loads(line)
                key = _key(data["learner"], data["lesson"]) if isinstance(data, dict) else None
            except (ValueError, KeyError):
                key = None
            lines.append((key, line))
    return lines


def write_results(path, records: list[dict]) -> None:
    """Merge ``records`` into the results file at ``path``, atomically (see the module)."""
    path = Path(path)
    new = {_key(r["learner"], r["lesson"]): r for r in records}
    kept = [(key, line) for key, line in _old_lines(path) if key is None or key not in new]
    lines = kept + [(key, json.dumps(r, ensure_ascii=False, allow_nan=False, separators=(",", ":")))
                    for key, r in new.items()]
    lines.sort(key=lambda item: (item[0] is None, item[0] or ("", "")))
    text = "".join(f"{line}\n" for _, line in lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(path, text, mode=0o644 if not path.exists() else None)


def write_results_beside(gradebook, results, merge, solutions_by_lesson: dict, *, feedback=None,
                         feedback_format: str = "md", notes: list[str] | None = None,
                         items: list | None = None) -> Path:
    """Write the records of ``results`` that the gradebook wrote (``merge`` says which it refused).

    ``items``: per result (same order), its :func:`~lossbook.grading.feedback.exercise_feedback`
    already computed, or ``None`` (computed here). A grader bug building one record never
    costs the others: that record is left out and ``notes`` says so. Raises ``OSError``
    when the file cannot be written.
    """
    from lossbook.grading.batch import NO_FEEDBACK, feedback_path

    refused = {(c.row.learner, c.row.lesson, c.row.source) for c in getattr(merge, "refused", [])}
    graded_at = _now()
    records = []
    for index, result in enumerate(results):
        if (result.learner, result.lesson, result.source) in refused:
            continue
        where = None
        if feedback is not None and result.status not in NO_FEEDBACK:
            where = os.path.abspath(feedback_path(Path(feedback), result.learner, result.lesson, feedback_format))
        try:
            records.append(record(result, solutions_by_lesson.get(result.lesson), feedback=where,
                                  graded_at=graded_at, items=items[index] if items is not None else None))
        except Exception as error:  # noqa: BLE001 - the gradebook is written; say what is missing
            if notes is not None:
                notes.append(f"results record for {result.learner} × {result.lesson} not written: grader "
                             f"error {type(error).__name__}: {str(error)[:200]}")
    path = results_path(gradebook)
    write_results(path, records)
    return path


def read_results(path) -> Iterator[dict]:
    """The records of a results file, one at a time (one pass; 10,000 rows stream).

    Raises :class:`ResultsError` naming the file and line when the file is missing, a line
    is not JSON, or its schema or version is not one this lossbook reads.
    """
    path = Path(path)
    if not path.exists():
        raise ResultsError(f"no results file {str(path)!r}: it is written beside the gradebook by "
                           "`lossbook grade --out GRADEBOOK.csv`; grade (or re-grade) to create it")
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except ValueError as error:
                raise ResultsError(f"{path}, line {number}: not JSON ({error.msg}); the file was edited or "
                                   "truncated: re-grade, or remove that line") from None
            if not isinstance(data, dict) or data.get("schema") != SCHEMA:
                raise ResultsError(f"{path}, line {number}: not a lossbook results record "
                                   f"(\"schema\" must be {SCHEMA!r})")
            if data.get("version") != VERSION:
                raise ResultsError(f"{path}, line {number}: results version {data.get('version')!r}; this "
                                   f"lossbook reads version {VERSION}: upgrade lossbook, or re-grade")
            yield data


__all__ = ["EXERCISE_STATUSES", "ResultsError", "SCHEMA", "VERSION", "read_results", "record", "results_path",
           "write_results", "write_results_beside"]
