"""The results file beside the gradebook: its records, and re-grading merged exactly as the CSV."""
from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import numpy as np
import pytest

from lossbook import notebook_roles as roles
from lossbook.grading.assemble import load_solutions
from lossbook.grading.batch import _apply_merge, Report, to_row
from lossbook.grading.gradebook import read_rows, write_rows
from lossbook.grading.results import (SCHEMA, VERSION, ResultsError, read_results, record, results_path,
                                      write_results, write_results_beside)
from lossbook.grading import run as grading_run
from lossbook.grading.run import SubmissionResult

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def solutions():
    return load_solutions(ROOT / "solutions")


def printed_by(solution, exercise: str, fn) -> list[str]:
    """What each hidden-test cell of ``exercise`` prints with the learner's ``fn`` (run here, as the kernel would)."""
    out = []
    for _, cell in roles.cells_with_role(solution.notebook, roles.HIDDEN_TESTS):
        if roles.exercise_of(cell) != exercise:
            continue
        buffer = io.StringIO()
        with contextlib.redirect_stdout(buffer):
            exec(compile(roles.source_of(cell), "<hidden>", "exec"), {"np": np, exercise: fn})  # noqa: S102
        out.append(buffer.getvalue())
    return out


def result_with(solution, learner: str, wrong: dict, *, source: str | None = None) -> SubmissionResult:
    """A graded lesson-02 result: exercises in ``wrong`` fail with what the wrong function printed."""
    from lossbook import losses

    right = {"mse": losses.mse, "mse_grad": losses.mse_grad}
    result = SubmissionResult(learner, "02_mse", "graded", {}, dict(solution.exercises),
                              source=source or f"/s/{learner}/02_mse.ipynb", content_hash="abc", seconds=2.0)
    for exercise, max_points in solution.exercises.items():
        fn = wrong.get(exercise, right[exercise])
        texts = printed_by(solution, exercise, fn)
        per = max_points / len(texts)
        for number, text in enumerate(texts, 1):
            failed = exercise in wrong
            result.tests.append(grading_run.TestResult(exercise, number, 0 if failed else per, per,
                                           "output differs from the expected output" if failed else "", text))
        result.points[exercise] = 0 if exercise in wrong else max_points
    return result


def summed(y, p):
    return float(np.sum((np.asarray(p, float) - y) ** 2))


def test_a_record_names_the_misconception_by_its_catalog_key(solutions):
    sol = solutions["02_mse"]
    data = record(result_with(sol, "ana", {"mse": summed}), sol)
    assert data["schema"] == SCHEMA and data["version"] == VERSION
    by = {e["exercise"]: e for e in data["exercises"]}
    assert by["mse"]["status"] == "failed"
    assert by["mse"]["misconception"] == {"id": "sum", "message": "exactly n times too large: did you sum "
                                                                  "instead of averaging?"}
    assert by["mse"]["failing_case"].startswith("test 1 (y_true")
    assert by["mse_grad"]["status"] == "passed" and by["mse_grad"]["misconception"] is None
    assert data["total"] == sol.exercises["mse_grad"] and data["seconds"] == 2.0
    json.dumps(data, allow_nan=False)


def test_a_generic_pattern_gets_a_generic_id(solutions):
    sol = solutions["02_mse"]
    data = record(result_with(sol, "ben", {"mse": lambda y, p: 0.0}), sol)
    mse = data["exercises"][0]
    assert mse["misconception"]["id"] == "generic:zero"


def _grade(path: Path, results, solutions, replace=False):
    """What batch._grade does with the results: the CSV, then the results file, merged alike."""
    report = Report(results)
    merge = write_rows(path, [to_row(r) for r in results], replace_other_source=replace)
    _apply_merge(report, merge)
    write_results_beside(path, results, merge, solutions)
    return report


def _keys(path: Path) -> dict:
    return {(r["learner"], r["lesson"]): r for r in read_results(results_path(path))}


def test_regrading_updates_the_results_exactly_as_the_gradebook(tmp_path, solutions):
    sol = solutions["02_mse"]
    book = tmp_path / "grades.csv"
    _grade(book, [result_with(sol, "ana", {"mse": summed}), result_with(sol, "ben", {})], solutions)
    assert set(_keys(book)) == {("ana", "02_mse"), ("ben", "02_mse")}
    # ana re-grades from the same file and fixes mse: her record is replaced, ben's kept
    _grade(book, [result_with(sol, "ana", {})], solutions)
    records = _keys(book)
    assert records[("ana", "02_mse")]["total"] == 6 and records[("ben", "02_mse")]["total"] == 6
    # ben again, from ANOTHER file: the CSV refuses it, so do the results
    report = _grade(book, [result_with(sol, "ben", {"mse": summed}, source="/elsewhere/02_mse.ipynb")], solutions)
    assert report.not_replaced
    assert _keys(book)[("ben", "02_mse")]["source"] == "/s/ben/02_mse.ipynb"
    assert {r["learner"]: r["source"] for r in read_rows(book)}["ben"] == "/s/ben/02_mse.ipynb"
    # ... unless --replace-from-other-source
    _grade(book, [result_with(sol, "ben", {"mse": summed}, source="/elsewhere/02_mse.ipynb")], solutions, replace=True)
    assert _keys(book)[("ben", "02_mse")]["source"] == "/elsewhere/02_mse.ipynb"
    assert {r["learner"]: r["source"] for r in read_rows(book)}["ben"] == "/elsewhere/02_mse.ipynb"
    assert len(read_rows(book)) == len(_keys(book)) == 2


def test_hostile_learner_and_lesson_text_round_trips_and_merges(tmp_path, solutions):
    sol = solutions["02_mse"]
    book = tmp_path / "grades.csv"
    odd = result_with(sol, "=cmd|x", {})
    odd.lesson = "-2+3\x1b[2J"
    _grade(book, [odd], solutions)
    _grade(book, [odd], solutions)  # same key again: replaced, not duplicated
    (only,) = list(read_results(results_path(book)))
    assert only["learner"] == "=cmd|x" and only["lesson"] == "-2+3\x1b[2J"   # raw in JSON: escaping is the reader's job
    assert read_rows(book)[0]["learner"] == "'=cmd|x"


def test_lines_this_version_cannot_read_are_kept(tmp_path):
    path = tmp_path / "g.results.jsonl"
    path.write_text('{"schema": "lossbook-results", "version": 2, "learner": "zoe", "lesson": "02_mse"}\n'
                    "not json at all\n", encoding="utf-8")
    write_results(path, [{"schema": SCHEMA, "version": VERSION, "learner": "ana", "lesson": "02_mse"}])
    text = path.read_text(encoding="utf-8")
    assert "not json at all" in text and '"zoe"' in text and '"ana"' in text


def test_reading_errors_name_the_file_line_and_fix(tmp_path):
    with pytest.raises(ResultsError, match="no results file .*grade"):
        list(read_results(tmp_path / "none.results.jsonl"))
    bad = tmp_path / "bad.results.jsonl"
    bad.write_text('{"schema": "lossbook-results", "version": 1, "learner": "a", "lesson": "b"}\n{oops\n')
    with pytest.raises(ResultsError, match="line 2: not JSON"):
        list(read_results(bad))
    bad.write_text('{"schema": "lossbook-results", "version": 99}\n')
    with pytest.raises(ResultsError, match="version 99"):
        list(read_results(bad))
    bad.write_text('{"learner": "x"}\n')
    with pytest.raises(ResultsError, match="not a lossbook results record"):
        list(read_results(bad))


def test_the_file_is_written_atomically_with_the_gradebooks_mode(tmp_path, monkeypatch):
    import lossbook.grading.results as results

    calls = []
    monkeypatch.setattr(results, "write_atomically", lambda path, text, **kw: calls.append((path, kw)))
    results.write_results(tmp_path / "x.results.jsonl", [])
    assert calls and calls[0][1]["mode"] == 0o644
