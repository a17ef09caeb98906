"""lossbook export: Canvas's and Moodle's grade-import CSVs and a long CSV, joined with a roster."""
from __future__ import annotations

import csv
import io

import pytest

from lossbook.cli import main
from lossbook.grading.batch import sanitize_learner
from lossbook.grading.export import ExportError, export, read_roster
from lossbook.grading.results import read_results, results_path

from classes import exercise, mse_class, record, write_class


def rows(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


@pytest.fixture
def book(tmp_path):
    records = mse_class(n_sum=3, n=5)
    records.append(record("learner0", "03_mae_huber", [exercise("mae", 2), exercise("mae_grad", 0), exercise("huber", 3)]))
    records.append(record("Ana_Lima", "02_mse", [exercise("mse", 3), exercise("mse_grad", 1.5)]))
    records.append(record("ghost", "02_mse", [exercise("mse", 3), exercise("mse_grad", 3)]))
    return write_class(tmp_path, records)


@pytest.fixture
def roster(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_text("\ufefflearner,name,id,email,section\n"
                    "learner0,\"Zero, Learner\",101,zero@example.org,A\n"
                    "learner1,=HYPERLINK(\"http://x\"),102,one@example.org,A\n"
                    "learner2,Two,103,two@example.org,B\n"
                    "learner3,Three,104,three@example.org,B\n"
                    "learner4,Four,105,four@example.org,B\n"
                    "Ana Lima,Ana Lima,106,ana@example.org,A\n"
                    "nobody,No Submission,107,nobody@example.org,A\n", encoding="utf-8")
    return path


def test_canvas_has_its_columns_points_possible_and_one_column_per_lesson(book, roster):
    out = rows(export(read_results(results_path(book)), read_roster(roster), "canvas").text)
    assert out[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Lesson 02 MSE", "Lesson 03 MAE and Huber"]
    assert out[1][0] == "Points Possible" and out[1][5:] == ["6", "9"]
    by_id = {r[1]: r for r in out[2:]}
    assert by_id["101"][:5] == ["Zero, Learner", "101", "", "", "A"] and by_id["101"][5:] == ["3", "5"]
    assert by_id["102"][0] == "'=HYPERLINK(\"http://x\")", "formula escaped as in the gradebook"
    assert by_id["106"][5:] == ["4.5", ""], "'Ana Lima' joins the folder Ana_Lima; no lesson 03: blank"
    assert by_id["107"][5:] == ["", ""]
    assert len(out) == 2 + 7, "every roster learner has a row"


def test_moodle_has_an_identifier_column_then_one_per_grade_item(book, roster):
    done = export(read_results(results_path(book)), read_roster(roster), "moodle")
    out = rows(done.text)
    assert out[0] == ["Email address", "Lesson 02 MSE", "Lesson 03 MAE and Huber"]
    assert ["zero@example.org", "3", "5"] in out and ["two@example.org", "3", ""] in out
    assert done.not_in_roster == ["ghost"] and done.no_results == ["nobody"]
    by_id = rows(export(read_results(results_path(book)), read_roster(roster), "moodle", moodle_identifier="id").text)
    assert by_id[0][0] == "ID number" and ["105", "3", ""] in by_id


def test_long_has_one_row_per_learner_lesson_exercise_and_keeps_learners_missing_from_the_roster(book, roster):
    out = list(csv.DictReader(io.StringIO(export(read_results(results_path(book)), read_roster(roster), "long").text)))
    assert len(out) == 5 * 2 + 3 + 2 + 2
    first = [r for r in out if r["learner"] == "learner0" and r["exercise"] == "mse"][0]
    assert first == {"learner": "learner0", "name": "Zero, Learner", "id": "101", "email": "zero@example.org",
                     "lesson": "02_mse", "exercise": "mse", "points": "0", "max": "3", "exercise_status": "failed",
                     "row_status": "graded", "misconception": "sum", "graded_at": "2026-12-03T20:00:00Z"}
    assert {r["name"] for r in out if r["learner"] == "ghost"} == {""}
    assert sum(r["misconception"] == "sum" for r in out) == 3


def test_roster_ids_are_sanitised_exactly_as_the_grader_does(tmp_path):
    path = tmp_path / "r.csv"
    odd = ["../../etc/passwd", "=cmd|x", " Ana Lima ", "é-accent"]
    path.write_text("learner,name,id,email\n" + "".join(f"\"{o}\",n,{k},e{k}@x\n" for k, o in enumerate(odd)))
    assert [e.learner for e in read_roster(path)] == [sanitize_learner(o.strip()) for o in odd]


def test_bad_rosters_get_errors_naming_the_argument_and_the_fix(tmp_path):
    with pytest.raises(ExportError, match="--roster .*no such file"):
        read_roster(tmp_path / "none.csv")
    path = tmp_path / "r.csv"
    path.write_text("learner,name\nana,Ana\n")
    with pytest.raises(ExportError, match="lacks the column.*id, email"):
        read_roster(path)
    path.write_text("learner,name,id,email\nana,A,1,a@x\n ana ,A2,2,b@x\n")
    with pytest.raises(ExportError, match="lines 2 and 3 are both learner 'ana'"):
        read_roster(path)
    path.write_text("learner,name,id,email\n,A,1,a@x\n")
    with pytest.raises(ExportError, match="line 2: the learner column is empty"):
        read_roster(path)


def test_the_command_lists_who_is_missing_and_writes_out(book, roster, tmp_path, capsys):
    out = tmp_path / "canvas.csv"
    assert main(["export", str(book), "--to", "canvas", "--roster", str(roster), "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "1 learner(s) with results are not in the roster (left out of this file" in err and "ghost" in err
    assert "1 learner(s) of the roster have no results" in err and "nobody" in err
    assert rows(out.read_text())[0][0] == "Student"
    assert main(["export", str(book), "--to", "long", "--roster", str(roster)]) == 0
    assert capsys.readouterr().out.startswith("learner,name,id,email,lesson")
    assert main(["export", str(tmp_path / "nothing.csv"), "--to", "long", "--roster", str(roster)]) == 2
    assert "no results file" in capsys.readouterr().err
