"""The batch's own behaviour around the kernel: statuses, feedback and results files.

The fast tests run real lessons' cells in an in-process stand-in kernel (the cells are the
course's own solutions and hand-written wrong answers, never an attack: attacks run in the
sandbox, in test_attacks.py), so that the whole of ``_grade`` — assemble, run, score,
diagnose, write the gradebook, the results file and the feedback — runs in a second.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import traceback

import nbformat
import pytest

from builders import REPO, learner_copy
from lossbook.grading import batch, feedback, results
from lossbook.grading.gradebook import Row, read_rows, write_rows
from lossbook.grading.kernel import CellRun
from lossbook.grading.run import run_cells
from lossbook.status import RowStatus

SUM = {"mse": "def mse(y_true, y_pred):\n    import numpy as np\n"
              "    return float(np.sum((np.asarray(y_pred) - np.asarray(y_true)) ** 2))\n"}
#: A cell that ends the stand-in kernel as ``os._exit`` ends a real one.
DIE = "import os\nos._exit(3)\n"


class InProcessKernel:
    """Runs cells here with ``exec`` and captured stdout: the grader's kernel contract, no sandbox."""

    def __init__(self):
        self.namespace = {"__name__": "__main__"}
        self.dead = False

    def run_cell(self, code, timeout, deadline=None, max_output=None):
        if self.dead:
            raise AssertionError("a cell was run after the kernel died")
        if DIE in code:
            self.dead = True
            return CellRun("died", [], 0.0)
        buffer = io.StringIO()
        outputs, status = [], "ok"
        try:
            with contextlib.redirect_stdout(buffer):
                exec(compile(code, "<cell>", "exec"), self.namespace)  # noqa: S102 - the course's cells
        except Exception as error:  # noqa: BLE001 - the cell raised: an error output
            status = "error"
            error_output = {"output_type": "error", "ename": type(error).__name__, "evalue": str(error),
                            "traceback": traceback.format_exception_only(type(error), error)}
        if buffer.getvalue():
            outputs.append(nbformat.v4.new_output("stream", name="stdout", text=buffer.getvalue()))
        if status == "error":
            outputs.append(error_output)
        return CellRun(status, outputs, 0.0)

    def refusals(self):
        return []

    def kill(self):
        self.dead = True


class InProcessExecutor:
    """The executor protocol of lossbook.grading.batch, each job in a fresh in-process kernel."""

    sandbox_name = "in-process"
    isolated = True
    warnings: list = []

    def run(self, jobs):
        for index, job in enumerate(jobs):
            yield index, run_cells(job, InProcessKernel())

    def close(self):
        pass


def submissions(root, learners: dict[str, dict[str, str]], lesson="02_mse"):
    for learner, answers in learners.items():
        (root / learner).mkdir(parents=True, exist_ok=True)
        nbformat.write(learner_copy(lesson, answers), root / learner / f"{lesson}.ipynb")
    return root


def grade_here(root, out, **settings):
    options = batch.GradeOptions(progress=False, **settings).resolved()
    return batch._grade(batch.find_submissions([root], {p.stem for p in options.solutions.glob("*.ipynb")}),
                        out, options, InProcessExecutor())


# ----------------------------------------------------------------------- the row statuses

def test_row_statuses_are_one_vocabulary_in_the_enum_the_table_the_docs_and_the_report():
    """``incomplete`` is gone: a kernel that stops part-way is ``timed-out`` or ``kernel-died``."""
    import re

    from lossbook.report import plots
    from lossbook.report.aggregate import RUN_STATUSES

    words = [s.value for s in RowStatus]
    assert "incomplete" not in words and not hasattr(RowStatus, "INCOMPLETE")
    assert list(batch.STATUSES) == list(RowStatus)
    documented = (REPO / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = documented.split("- Row statuses", 1)[1].split("- Exit status of `lossbook grade`", 1)[0]
    assert set(re.findall(r"`([a-z-]+)`", section)) - {"duplicate", "incomplete"} == set(words)
    assert set(RUN_STATUSES) == {"graded", "timed-out", "kernel-died"}
    assert set(RUN_STATUSES) <= set(words)
    for _, statuses, _, _ in plots.STATUS_GROUPS:
        assert set(statuses) <= set(words), statuses


def test_a_kernel_that_dies_part_way_is_kernel_died_with_the_points_of_what_ran(tmp_path):
    """What ``incomplete`` was meant to say: the cells that ran keep their points, the rest score 0."""
    root = submissions(tmp_path / "subs", {"ana": {"mse_grad": DIE}, "ben": {}})
    report = grade_here(root, tmp_path / "gradebook.csv")
    by = {r.learner: r for r in report}
    assert by["ben"].status == RowStatus.GRADED and by["ben"].total == 6
    ana = by["ana"]
    assert ana.status == RowStatus.KERNEL_DIED == "kernel-died"
    assert ana.points == {"mse": 3, "mse_grad": 0}
    assert "mse_grad: the kernel exited or crashed (sys.exit/os._exit/exit() or a crash)" in ana.reasons
    (record,) = [r for r in results.read_results(tmp_path / "gradebook.results.jsonl") if r["learner"] == "ana"]
    assert record["status"] == "kernel-died"
    assert [(e["exercise"], e["status"], e["points"]) for e in record["exercises"]] == [
        ("mse", "passed", 3.0), ("mse_grad", "failed", 0.0)]
    from lossbook.report.aggregate import aggregate
    lesson = aggregate(tmp_path / "gradebook.csv").lessons[0]
    assert lesson.statuses == {"graded": 1, "kernel-died": 1} and lesson.not_run == 0


def test_an_old_gradebook_row_with_the_retired_word_is_kept_as_it_was(tmp_path):
    """Gradebooks of the first sessions' grader could say ``incomplete``: merging keeps such rows."""
    path = tmp_path / "g.csv"
    write_rows(path, [Row("old", "02_mse", {"mse": 3, "mse_grad": 0}, 3, 6, "incomplete", ["stopped"], "h")])
    write_rows(path, [Row("new", "02_mse", {"mse": 3, "mse_grad": 3}, 6, 6, RowStatus.GRADED, [], "h")])
    rows = {r["learner"]: r for r in read_rows(path)}
    assert rows["old"]["status"] == "incomplete" and rows["old"]["total"] == "3"
    assert rows["new"]["status"] == "graded"


# ----------------------------------------------------------------------- diagnosis once

def test_each_graded_submission_is_diagnosed_once_with_feedback(tmp_path, monkeypatch):
    calls = []
    real = feedback.diagnosis_detail_for

    def counting(exercise_id, hidden, printed):
        calls.append(exercise_id)
        return real(exercise_id, hidden, printed)

    monkeypatch.setattr(feedback, "diagnosis_detail_for", counting)
    root = submissions(tmp_path / "subs", {"ana": {}, "ben": SUM, "cy": SUM})
    report = grade_here(root, tmp_path / "gradebook.csv", feedback=tmp_path / "fb")
    assert [r.status for r in report] == ["graded"] * 3
    assert sorted(calls) == ["mse", "mse"]  # ben's and cy's failing mse, once each (ana passed all)
    records = {r["learner"]: r for r in results.read_results(tmp_path / "gradebook.results.jsonl")}
    text = (tmp_path / "fb" / "ben" / "02_mse.md").read_text(encoding="utf-8")
    mis = records["ben"]["exercises"][0]["misconception"]
    assert mis is not None and mis["id"] == "sum"
    assert f"Likely mistake: {mis['message']}" in text
    assert records["ben"]["feedback"] == os.path.abspath(tmp_path / "fb" / "ben" / "02_mse.md")


def test_without_feedback_the_results_records_are_diagnosed_once_too(tmp_path, monkeypatch):
    calls = []
    real = feedback.diagnosis_detail_for
    monkeypatch.setattr(feedback, "diagnosis_detail_for", lambda *a: calls.append(a[0]) or real(*a))
    grade_here(submissions(tmp_path / "subs", {"ben": SUM}), tmp_path / "gradebook.csv")
    assert calls == ["mse"]
    (record,) = results.read_results(tmp_path / "gradebook.results.jsonl")
    assert record["exercises"][0]["misconception"]["id"] == "sum" and record["feedback"] is None


# ----------------------------------------------------------------------- atomic feedback

def test_feedback_files_are_written_atomically(tmp_path, monkeypatch):
    """Through the one atomic-write helper: a crash mid-write leaves the old file, never half."""
    import lossbook._files as files

    written = []
    real = files.write_atomically

    def recording(path, data, **kwargs):
        written.append(os.path.abspath(path))
        return real(path, data, **kwargs)

    monkeypatch.setattr(files, "write_atomically", recording)
    root = submissions(tmp_path / "subs", {"ana": {}, "ben": SUM})
    grade_here(root, tmp_path / "gradebook.csv", feedback=tmp_path / "fb", feedback_format="html")
    for learner in ("ana", "ben"):
        assert os.path.abspath(tmp_path / "fb" / learner / "02_mse.html") in written
    # An old feedback file survives a write that fails half-way.
    target = tmp_path / "fb" / "ben" / "02_mse.html"
    before = target.read_bytes()

    def broken(path, data, **kwargs):
        if os.path.abspath(path).startswith(os.path.abspath(tmp_path / "fb")):
            raise OSError(28, "No space left on device")
        return real(path, data, **kwargs)

    monkeypatch.setattr(files, "write_atomically", broken)
    report = grade_here(root, tmp_path / "gradebook.csv", feedback=tmp_path / "fb", feedback_format="html")
    assert target.read_bytes() == before
    assert any("feedback for ben × 02_mse not written: No space left on device" in n for n in report.notes)
    assert sorted(p.name for p in target.parent.iterdir()) == ["02_mse.html"]  # no temporary file left


def test_a_feedback_path_outside_the_folder_is_refused(tmp_path):
    result = batch._error_result(batch.Submission(tmp_path / "x.ipynb", "ana"), "02_mse", RowStatus.GRADED, "m")
    result.learner = ".."
    path = batch.write_feedback_file(tmp_path / "fb", result, "text", "md")
    assert path.parent.parent == tmp_path / "fb"


@pytest.mark.parametrize("fmt", ["md", "html"])
def test_feedback_render_takes_the_items_computed_once(fmt):
    solution = batch.load_solutions(REPO / "solutions")["02_mse"]
    result = batch._error_result(batch.Submission(REPO / "x.ipynb", "ana"), "02_mse", RowStatus.KERNEL_FAILED,
                                 "no kernel", solution.exercises)
    items = feedback.exercise_feedback(result, solution)
    assert feedback.render(result, solution, fmt) == feedback.render(result, solution, fmt, items=items)
    assert json.dumps(items)  # plain data


# ----------------------------------------------------------------------- the command's summary

def test_the_grade_summary_names_the_gradebook_the_results_file_and_the_feedback(tmp_path, monkeypatch, capsys):
    import lossbook.grading as grading
    from lossbook.cli import main

    real = batch.grade
    monkeypatch.setattr(grading, "grade", lambda *a, **k: real(*a, **{**k, "executor": InProcessExecutor()}))
    root = submissions(tmp_path / "subs", {"ana": {}, "ben": SUM})
    out = tmp_path / "marks" / "book.csv"
    assert main(["grade", str(root), "--out", str(out), "--feedback", str(tmp_path / "fb")]) == 0
    printed = capsys.readouterr().out
    results_file = tmp_path / "marks" / "book.results.jsonl"
    assert results_file.is_file()
    assert f"\n2 rows; gradebook: {out}\nresults: {results_file}\nfeedback: {tmp_path / 'fb'}\n" in printed
