"""Grading the course's real notebooks: every solution against itself scores full marks,
every released exercise notebook scores zero with "not attempted" reasons. Through the
``lossbook grade`` command, so its exit status, summary and re-run behaviour are checked too.
"""
import shutil
from pathlib import Path

import pytest

from builders import REPO, max_points
from lossbook.cli import main
from lossbook.grading.gradebook import read_rows

LESSONS = sorted(p.stem for p in (REPO / "solutions").glob("*.ipynb"))


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox_ok):
    root = tmp_path_factory.mktemp("course")
    for lesson in LESSONS:
        for learner, folder in (("instructor", "solutions"), ("newcomer", "exercises")):
            (root / learner).mkdir(exist_ok=True)
            shutil.copyfile(REPO / folder / f"{lesson}.ipynb", root / learner / f"{lesson}.ipynb")
    out = root.parent / "gradebook.csv"
    status = main(["grade", str(root), "--out", str(out), "--jobs", "2", "--timeout", "20"])
    return status, read_rows(out), root, out


def test_exit_status_and_one_row_each(graded):
    status, rows, _, _ = graded
    assert status == 0
    assert sorted((r["learner"], r["lesson"]) for r in rows) == sorted(
        (learner, lesson) for lesson in LESSONS for learner in ("instructor", "newcomer"))


@pytest.mark.parametrize("lesson", LESSONS)
def test_solution_scores_full_marks(graded, lesson):
    row = next(r for r in graded[1] if r["learner"] == "instructor" and r["lesson"] == lesson)
    full = max_points(lesson)
    assert row["status"] == "graded" and row["reasons"] == ""
    assert {e: float(row[e]) for e in full} == full
    assert float(row["total"]) == float(row["max"]) == sum(full.values())
    assert row["sandbox"] == "bwrap" and len(row["solutions_hash"]) == 16


@pytest.mark.parametrize("lesson", LESSONS)
def test_released_notebook_scores_zero_not_attempted(graded, lesson):
    row = next(r for r in graded[1] if r["learner"] == "newcomer" and r["lesson"] == lesson)
    full = max_points(lesson)
    assert row["status"] == "graded"
    assert all(float(row[e]) == 0 for e in full) and float(row["total"]) == 0
    assert float(row["max"]) == sum(full.values())
    for exercise in full:
        assert f"{exercise}: not attempted" in row["reasons"]


def test_rerun_from_another_file_needs_the_explicit_flag(graded, tmp_path, capsys):
    _, rows, root, out = graded
    copy = tmp_path / "gradebook.csv"
    shutil.copyfile(out, copy)
    argv = ["grade", str(root / "newcomer" / "02_mse.ipynb"), "--learner", "instructor",
            "--out", str(copy), "--jobs", "1", "--timeout", "20"]
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "instructor  02_mse" in printed and "refused-identity" in printed and "NOT replaced" in printed
    assert read_rows(copy) == rows, "the old row stays"
    assert main(argv + ["--replace-from-other-source"]) == 0
    assert "was replaced by" in capsys.readouterr().out
    after = read_rows(copy)
    assert len(after) == len(rows)
    changed = next(r for r in after if r["learner"] == "instructor" and r["lesson"] == "02_mse")
    assert float(changed["total"]) == 0 and changed["source"] == str(root / "newcomer" / "02_mse.ipynb")
    untouched = [r for r in after if (r["learner"], r["lesson"]) != ("instructor", "02_mse")]
    assert untouched == [r for r in rows if (r["learner"], r["lesson"]) != ("instructor", "02_mse")]
