"""Synthetic classes for the report and export tests: results records and the gradebook beside them."""
from __future__ import annotations

from pathlib import Path

from lossbook.grading.gradebook import Row, write_rows
from lossbook.grading.results import SCHEMA, VERSION, results_path, write_results

SUM = "exactly n times too large: did you sum instead of averaging?"
SIGN = "gradient has the wrong sign: differentiate with respect to y_pred, giving (ŷ − y), not (y − ŷ)"


def exercise(name: str, points: float, max_points: float = 3.0, status: str | None = None,
             misconception: tuple[str, str] | None = None, reasons=()) -> dict:
    status = status or ("passed" if points >= max_points else "failed")
    return {"exercise": name, "points": float(points), "max": float(max_points), "status": status,
            "failing_case": None if status == "passed" else "test 1",
            "reasons": list(reasons) or ([] if status == "passed" else ["all tests: output differs"]),
            "misconception": None if misconception is None else {"id": misconception[0], "message": misconception[1]}}


def record(learner: str, lesson: str, exercises: list[dict], status: str = "graded", *, feedback=None,
           refusals=(), source: str | None = None) -> dict:
    total = sum(e["points"] for e in exercises)
    top = sum(e["max"] for e in exercises)
    return {"schema": SCHEMA, "version": VERSION, "learner": learner, "lesson": lesson, "status": status,
            "total": total, "max": top, "exercises": exercises, "reasons": [], "refusals": list(refusals),
            "seconds": 1.5, "source": source or f"/submissions/{learner}/{lesson}.ipynb",
            "content_hash": "0123456789abcdef", "solutions_hash": "fedcba9876543210", "sandbox": "bwrap",
            "feedback": feedback, "graded_at": "2026-12-03T20:00:00Z"}


def write_class(folder: Path, records: list[dict], name: str = "gradebook.csv") -> Path:
    """The gradebook CSV and its results file for ``records``; returns the gradebook's path."""
    gradebook = Path(folder) / name
    rows = [Row(r["learner"], r["lesson"], {e["exercise"]: e["points"] for e in r["exercises"]}, r["total"],
                r["max"], r["status"], [], r["solutions_hash"], r["sandbox"], r["source"], r["content_hash"])
            for r in records]
    write_rows(gradebook, rows)
    write_results(results_path(gradebook), records)
    return gradebook


def mse_class(n_sum: int = 3, n: int = 5) -> list[dict]:
    """Lesson 02: ``n`` learners, the first ``n_sum`` sum instead of averaging in ``mse``;
    one of the others gets the gradient's sign wrong."""
    records = []
    for k in range(n):
        if k < n_sum:
            mse = exercise("mse", 0, misconception=("sum", SUM))
        else:
            mse = exercise("mse", 3)
        grad = exercise("mse_grad", 0, misconception=("sign", SIGN)) if k == n - 1 else exercise("mse_grad", 3)
        records.append(record(f"learner{k}", "02_mse", [mse, grad]))
    return records
