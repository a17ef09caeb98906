"""Grader pieces that need no sandbox: gradebook, discovery, assembling, parsing, the command."""
import csv
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest

from builders import REPO, learner_copy
from lossbook.cli import main
from lossbook.grading.assemble import (Solution, SubmissionError, assemble, lesson_by_name,
                                      lesson_of_submission, read_submission)
from lossbook.grading.batch import find_submissions, identity_label, sanitize_learner
from lossbook.grading.feedback import parse_canonical
from lossbook.grading.gradebook import Row, read_rows, write_rows

LESSONS = {"02_mse": None, "03_mae_huber": None}


def test_gradebook_merge_replaces_only_regraded_rows(tmp_path):
    path = tmp_path / "g.csv"
    write_rows(path, [Row("ana", "02_mse", {"mse": 3, "mse_grad": 0}, 3, 6, "graded", ["x"], "h1"),
                      Row("ben", "02_mse", {"mse": 1, "mse_grad": 3}, 4, 6, "graded", [], "h1"),
                      Row("ana", "03_mae_huber", {"mae": 2, "huber": 3, "huber_grad": 0}, 5, 8, "graded", [], "h2")])
    write_rows(path, [Row("ana", "02_mse", {"mse": 3, "mse_grad": 3}, 6, 6, "graded", [], "h9")])
    rows = read_rows(path)
    assert [(r["learner"], r["lesson"], r["total"], r["solutions_hash"]) for r in rows] == [
        ("ana", "02_mse", "6", "h9"), ("ben", "02_mse", "4", "h1"), ("ana", "03_mae_huber", "5", "h2")]
    header = path.read_text().splitlines()[0].split(",")
    assert header == ["learner", "lesson", "mse", "mse_grad", "mae", "huber", "huber_grad", "total", "max",
                      "status", "reasons", "solutions_hash", "sandbox", "source", "content_hash"]
    assert rows[2]["mse"] == "" and rows[0]["mae"] == ""
    assert not [p for p in tmp_path.iterdir() if p.name != "g.csv"], "no temporary files left behind"


def test_gradebook_neutralises_formulas_and_newlines(tmp_path):
    path = tmp_path / "g.csv"
    write_rows(path, [Row("ana", "02_mse", {"mse": 0}, 0, 3, "graded", ["=HYPERLINK(\"x\")\nmore"], "h")])
    with open(path, newline="") as handle:
        row = next(csv.DictReader(handle))
    assert row["reasons"] == "'=HYPERLINK(\"x\") more"


def test_gradebook_failed_write_keeps_old_file(tmp_path, monkeypatch):
    path = tmp_path / "g.csv"
    write_rows(path, [Row("ana", "02_mse", {"mse": 3}, 3, 3, "graded")])
    before = path.read_bytes()

    def boom(*args):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", boom)
    with pytest.raises(OSError):
        write_rows(path, [Row("ben", "02_mse", {"mse": 3}, 3, 3, "graded")])
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["g.csv"]


@pytest.mark.parametrize("raw, clean", [
    ("ana", "ana"), ("../../etc", "etc"), ("Ana Lima", "Ana_Lima"), ("=1+2", "1_2"), ("", "unknown"),
    ("-rf", "rf"), ("a/b\\c", "a_b_c"), ("x" * 100, "x" * 64), ("ñandú", "and"),
])
def test_sanitize_learner(raw, clean):
    assert sanitize_learner(raw) == clean


def test_find_submissions_learner_ids(tmp_path):
    (tmp_path / "ana").mkdir()
    (tmp_path / "ana" / "02_mse.ipynb").write_text("{}")
    (tmp_path / "ben.ipynb").write_text("{}")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    (tmp_path / ".ipynb_checkpoints" / "02_mse.ipynb").write_text("{}")
    found = find_submissions([tmp_path], LESSONS)
    assert sorted((s.learner, s.path.name) for s in found) == [("ana", "02_mse.ipynb"), ("ben", "ben.ipynb")]
    direct = find_submissions([tmp_path / "ana" / "02_mse.ipynb"], LESSONS)
    assert [s.learner for s in direct] == ["ana"]
    assert [s.learner for s in find_submissions([tmp_path / "ben.ipynb"], LESSONS, "c d")] == ["c_d"]


def test_in_a_learner_folder_the_folder_names_the_learner(tmp_path):
    for folder, name in (("alice", "zoe.ipynb"), ("ivy", "homework.ipynb"), ("jack", "homework.ipynb"),
                         ("kim", "02_mse-Copy1.ipynb")):
        (tmp_path / folder).mkdir(exist_ok=True)
        (tmp_path / folder / name).write_text("{}")
    found = find_submissions([tmp_path], LESSONS)
    assert sorted((s.learner, s.path.name) for s in found) == [
        ("alice", "zoe.ipynb"), ("ivy", "homework.ipynb"), ("jack", "homework.ipynb"), ("kim", "02_mse-Copy1.ipynb")]
    # A file given directly: its stem, unless it is named after a lesson (then its folder's name).
    assert [s.learner for s in find_submissions([tmp_path / "alice" / "zoe.ipynb"], LESSONS)] == ["zoe"]
    assert [s.learner for s in find_submissions([tmp_path / "kim" / "02_mse-Copy1.ipynb"], LESSONS)] == ["kim"]
    # The same file reached twice is one submission.
    assert len(find_submissions([tmp_path, tmp_path / "alice" / "zoe.ipynb"], LESSONS)) == 4


@pytest.mark.parametrize("stem, lesson", [
    ("02_mse", ("02_mse", True)), ("02_mse-Copy1", ("02_mse", False)), ("02_mse (2)", ("02_mse", False)),
    ("02_mse_copy", ("02_mse", False)), ("02_mse-checkpoint", ("02_mse", False)), ("02_mse_v2", (None, False)),
    ("zoe", (None, False)), ("-Copy1", (None, False)),
])
def test_lesson_by_name(stem, lesson):
    assert lesson_by_name(stem, LESSONS) == lesson


def test_identity_labels_keep_colliding_ids_apart():
    raws = ["yan", " yan", "yan ", "..", "-x", "ñandú", "and"]
    labels = [identity_label(r) for r in raws]
    assert len(set(labels)) == len(raws)
    assert all("/" not in label and not label.startswith((".", "-")) for label in labels)


def _row(learner, source, total=3, status="graded"):
    return Row(learner, "02_mse", {"mse": total}, total, 3, status, [], "h", "bwrap", source, "c0ffee")


def test_regrading_never_silently_replaces_a_row_from_another_source(tmp_path):
    path = tmp_path / "g.csv"
    assert not write_rows(path, [_row("ana", "/s/ana/02_mse.ipynb", 3)]).refused
    # The same source: replaced, nothing to report.
    merge = write_rows(path, [_row("ana", "/s/ana/02_mse.ipynb", 2)])
    assert not merge.refused and not merge.replaced and read_rows(path)[0]["total"] == "2"
    # Another source: refused, the old row stays.
    merge = write_rows(path, [_row("ana", "/late/ana/02_mse.ipynb", 0)])
    assert [(c.row.source, c.old_source, c.old_total) for c in merge.refused] == [
        ("/late/ana/02_mse.ipynb", "/s/ana/02_mse.ipynb", "2")]
    assert [(r["total"], r["source"], r["content_hash"]) for r in read_rows(path)] == [
        ("2", "/s/ana/02_mse.ipynb", "c0ffee")]
    # Explicitly allowed: replaced, and said so.
    merge = write_rows(path, [_row("ana", "/late/ana/02_mse.ipynb", 0)], replace_other_source=True)
    assert [(c.old_source, c.old_total) for c in merge.replaced] == [("/s/ana/02_mse.ipynb", "2")]
    assert [(r["total"], r["source"]) for r in read_rows(path)] == [("0", "/late/ana/02_mse.ipynb")]


def test_a_gradebook_without_sources_is_never_overwritten_silently(tmp_path):
    path = tmp_path / "g.csv"
    path.write_text("learner,lesson,mse,total,max,status,reasons,solutions_hash,sandbox\n"
                    "ana,02_mse,3,3,3,graded,,h,bwrap\n")
    merge = write_rows(path, [_row("ana", "/s/ana/02_mse.ipynb", 0)])
    assert [c.old_source for c in merge.refused] == ["(unknown: an older gradebook)"]
    assert read_rows(path)[0]["total"] == "3"


def test_lesson_from_metadata_checked_against_file_name(tmp_path):
    nb = learner_copy("02_mse")
    assert lesson_of_submission(nb, tmp_path / "02_mse.ipynb", LESSONS) == "02_mse"
    assert lesson_of_submission(nb, tmp_path / "ana.ipynb", LESSONS) == "02_mse"
    with pytest.raises(SubmissionError) as error:
        lesson_of_submission(nb, tmp_path / "03_mae_huber.ipynb", LESSONS)
    assert error.value.status == "wrong-lesson"
    nb.metadata.pop("lossbook")
    assert lesson_of_submission(nb, tmp_path / "02_mse.ipynb", LESSONS) == "02_mse"
    with pytest.raises(SubmissionError) as error:
        lesson_of_submission(nb, tmp_path / "ana.ipynb", LESSONS)
    assert error.value.status == "unknown-lesson"


@pytest.mark.parametrize("content, status", [
    (b"\xff\xfe not utf8", "not-a-notebook"), (b"[1, 2]", "not-a-notebook"),
    (json.dumps({"nbformat": 3, "cells": []}).encode(), "wrong-nbformat"),
])
def test_read_submission_statuses(tmp_path, content, status):
    path = tmp_path / "02_mse.ipynb"
    path.write_bytes(content)
    with pytest.raises(SubmissionError) as error:
        read_submission(path)
    assert error.value.status == status


def test_assemble_takes_only_answers_from_the_learner():
    solution_nb = nbformat.read(REPO / "solutions" / "02_mse.ipynb", as_version=4)
    solution = Solution.from_notebook(solution_nb)
    learner = learner_copy("02_mse", {"mse": "def mse(a, b):\n    return 0.0\n"})
    for cell in learner.cells:
        if cell.cell_type == "code" and cell.metadata.get("lossbook", {}).get("role") != "answer":
            cell.source = "print('tampered')"
    grading = assemble(solution, learner)
    from_learner = [c.source for c in grading.cells if c.from_learner]
    assert from_learner[0] == "def mse(a, b):\n    return 0.0\n" and len(from_learner) == 2
    instructor = [c.source for c in grading.cells if not c.from_learner]
    assert "print('tampered')" not in instructor
    hidden = [c for c in grading.cells if c.role == "hidden-tests"]
    assert [(c.exercise, c.number, c.points) for c in hidden] == [("mse", 1, 1), ("mse", 2, 2),
                                                                   ("mse_grad", 1, 1), ("mse_grad", 2, 2)]
    assert all(c.expected for c in hidden)
    assert grading.max_points == {"mse": 3, "mse_grad": 3} and grading.missing == []


@pytest.mark.parametrize("text, value", [
    ("1.5", 1.5), ("-0.25", -0.25), ("[1, 2.5e-08, -inf]", [1, 2.5e-08, float("-inf")]),
    ("[[1, 2], [3, 4]]", [[1, 2], [3, 4]]), ("(3,)", [3]), ("True", None), ("hello", None), ("", None),
    ("[" * 20000, None), ("[" * 20000 + "0.5", None), ("[" * 900 + "1" + "]" * 900, None),
])
def test_parse_canonical(text, value):
    assert parse_canonical(text) == value


def test_cli_refuses_without_sandbox(tmp_path, monkeypatch, capsys):
    import lossbook.grading.sandbox as sandbox_module

    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: None)
    monkeypatch.setattr(sandbox_module, "find_unshare", lambda: None)
    shutil.copyfile(REPO / "solutions" / "02_mse.ipynb", tmp_path / "02_mse.ipynb")
    status = main(["grade", str(tmp_path / "02_mse.ipynb"), "--out", str(tmp_path / "g.csv")])
    assert status == 2
    assert "--no-sandbox" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()


def test_cli_missing_path(tmp_path, capsys):
    assert main(["grade", str(tmp_path / "nope"), "--out", str(tmp_path / "g.csv")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_no_sandbox_rows_say_so(tmp_path, monkeypatch, capsys):
    import lossbook.grading.sandbox as sandbox_module

    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: None)
    monkeypatch.setattr(sandbox_module, "find_unshare", lambda: None)
    shutil.copyfile(REPO / "solutions" / "02_mse.ipynb", tmp_path / "02_mse.ipynb")
    status = main(["grade", str(tmp_path / "02_mse.ipynb"), "--learner", "ana", "--no-sandbox",
                   "--out", str(tmp_path / "g.csv"), "--timeout", "20"])
    assert status == 0
    (row,) = read_rows(tmp_path / "g.csv")
    assert row["sandbox"] == "NONE" and row["reasons"].startswith("graded WITHOUT a sandbox")
    assert row["total"] == row["max"] == "6"
    assert capsys.readouterr().err.count("--no-sandbox: learners' code runs unconfined") == 1, "said once, at start"


@pytest.mark.parametrize("folder, status, text", [
    ("solutions", 0, "all checks passed"), ("exercises", 1, "Not attempted — mse"),
])
def test_lossbook_check_runs_visible_checks(tmp_path, capsys, folder, status, text):
    path = tmp_path / "mine.ipynb"
    shutil.copyfile(REPO / folder / "02_mse.ipynb", path)
    before = path.read_bytes()
    assert main(["check", str(path), "--timeout", "60"]) == status
    out = capsys.readouterr().out
    assert text in out and "── mse_grad" in out
    assert path.read_bytes() == before


def test_lossbook_check_bad_input(tmp_path, capsys):
    (tmp_path / "x.ipynb").write_text("nope")
    assert main(["check", str(tmp_path / "x.ipynb")]) == 2
    assert main(["check", str(tmp_path / "missing.ipynb")]) == 2
    assert "not a readable notebook" in capsys.readouterr().err


def test_feedback_html_escapes_learner_text():
    from lossbook.grading.feedback import render_html
    from lossbook.grading.run import SubmissionResult, TestResult

    result = SubmissionResult("ana", "02_mse", "graded", {"mse": 0}, {"mse": 3},
                              ["mse: raised ValueError: <script>alert(1)</script>"],
                              [TestResult("mse", 1, 0, 3, "raised ValueError: <script>alert(1)</script>")])
    items = [{"exercise": "mse", "points": 0, "max": 3, "passed": False,
              "reasons": ["test 1: raised ValueError: <script>alert(1)</script>"], "diagnosis": "n times too large"}]
    page = render_html(result, items)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "Likely mistake:</strong> n times too large" in page and page.startswith("<!doctype html>")


def test_root_grader_makes_the_kernel_nobody_inside_without_a_user_namespace(tmp_path):
    from lossbook.grading import sandbox as sandbox_module

    box = sandbox_module.Sandbox(tmp_path / "runtime", "/usr/bin/bwrap", as_root=True)
    cmd = box.command(tmp_path / "k", ["python", "boot.py"])
    assert "--unshare-all" not in cmd and "--unshare-user" not in cmd and "--uid" not in cmd
    assert {"--unshare-pid", "--unshare-net", "--unshare-ipc"} <= set(cmd)
    added = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "--cap-add"]
    assert sorted(added) == ["CAP_SETGID", "CAP_SETPCAP", "CAP_SETUID", "CAP_SYS_ADMIN"]
    script = cmd[cmd.index("lossbook-sandbox") - 1]
    assert f"nr_inodes={box.limits.tmp_files}" in script and "uid=65534" in script
    assert "setpriv " + " ".join(sandbox_module.DROP_TO_NOBODY) + " --" in script
    assert cmd[-2:] == ["python", "boot.py"]
    # Nothing of the host is writable: the connection file alone is bound, read-only.
    assert "--bind" not in cmd
    connection = str(tmp_path / "k" / "kernel.json")
    assert cmd[cmd.index(connection) - 1] == "--ro-bind"


def test_root_grader_says_once_what_is_at_risk_when_nobody_cannot_be_made(tmp_path, monkeypatch):
    from lossbook.grading import sandbox as sandbox_module

    class Failed:
        returncode, stderr = 1, b"setpriv: setresuid failed: Operation not permitted"

    monkeypatch.setattr(sandbox_module.os, "geteuid", lambda: 0)
    monkeypatch.setattr(sandbox_module.subprocess, "run", lambda *a, **k: Failed())
    (tmp_path / "runtime").mkdir()
    box = sandbox_module._for_this_user(sandbox_module.Sandbox(tmp_path / "runtime", "/usr/bin/bwrap"))
    assert box.as_root is False
    assert len(box.warnings) == 1
    assert "could not be made uid 65534" in box.warnings[0] and "setresuid failed" in box.warnings[0]
    assert "root's files" in box.warnings[0]


def test_private_tmp_is_mounted_before_the_python_environment(monkeypatch, tmp_path):
    """A venv under /tmp (e.g. a CI clone) must stay visible: binds after the tmpfs win."""
    from lossbook.grading import sandbox as sandbox_module

    venv = Path("/tmp/some-clone/.venv")
    monkeypatch.setattr(sandbox_module, "python_roots", lambda: [Path("/opt/python"), venv])
    box = sandbox_module.Sandbox(runtime=tmp_path / "runtime", bwrap="/usr/bin/bwrap")
    cmd = box.command(tmp_path / "kernel", ["python"])
    tmpfs_tmp = next(i for i in range(len(cmd) - 1) if cmd[i:i + 2] == ["--tmpfs", "/tmp"])
    venv_bind = next(i for i in range(len(cmd) - 2) if cmd[i:i + 3] == ["--ro-bind", str(venv), str(venv)])
    assert tmpfs_tmp < venv_bind


@pytest.mark.parametrize("mutate, reason", [
    (lambda d: d["cells"][1].__setitem__("metadata", []), "cell 2: its metadata is a list, not a mapping"),
    (lambda d: d["cells"].__setitem__(0, "text"), "cell 1 is a str, not a cell"),
    (lambda d: d["cells"][1].__setitem__("source", [1, 2]), "cell 2: its source is not text"),
    (lambda d: d["cells"][1].__setitem__("outputs", {}), "cell 2: its outputs are not a list"),
    (lambda d: d.__setitem__("metadata", [1]), "the notebook's metadata is not a mapping"),
])
def test_broken_notebook_structure_is_the_submissions_status(tmp_path, mutate, reason):
    data = json.loads(nbformat.writes(learner_copy("02_mse")))
    mutate(data)
    path = tmp_path / "02_mse.ipynb"
    path.write_text(json.dumps(data))
    with pytest.raises(SubmissionError) as error:
        read_submission(path)
    assert error.value.status == "not-a-notebook" and reason in str(error.value)


def test_remove_tree_removes_a_chain_deeper_than_the_recursion_limit(tmp_path):
    from lossbook.grading.batch import remove_tree

    top = tmp_path / "top"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    try:
        for _ in range(3000):
            os.mkdir("d", dir_fd=fd)
            new = os.open("d", os.O_RDONLY, dir_fd=fd)
            os.close(fd)
            fd = new
    finally:
        os.close(fd)
    remove_tree(top)
    assert not top.exists()


def _check_notebook(path, *cells):
    import nbformat

    from lossbook.notebook_roles import set_role

    nb = nbformat.v4.new_notebook()
    for source, role in cells:
        cell = nbformat.v4.new_code_cell(source)
        if role:
            set_role(cell, role, "mse")
        nb.cells.append(cell)
    nbformat.write(nb, path)


MSE = "import numpy as np\ndef mse(y_true, y_pred):\n    return float(np.mean((np.asarray(y_pred, float) - np.asarray(y_true, float)) ** 2))"


@pytest.mark.slow
def test_lossbook_check_decides_from_the_status_not_the_text(tmp_path, capsys):
    """A check cell that prints a tick without a passing CheckResult fails; a passing
    result after other printed text passes."""
    fake = tmp_path / "fake.ipynb"
    _check_notebook(fake, ("def mse(y_true, y_pred):\n    return 0.0", "answer"),
                    ("print('✔ Passed — mse: all cases passed.')", "check"))
    assert main(["check", str(fake), "--timeout", "60"]) == 1
    assert "some checks did not pass" in capsys.readouterr().out
    real = tmp_path / "real.ipynb"
    _check_notebook(real, (MSE, "answer"),
                    ("from lossbook import check\nprint('checking mse')\ncheck('mse', mse)", "check"))
    assert main(["check", str(real), "--timeout", "60"]) == 0
    out = capsys.readouterr().out
    assert "checking mse\n✔ Passed — mse" in out and "all checks passed" in out
    wrong = tmp_path / "wrong.ipynb"
    _check_notebook(wrong, (MSE.replace("np.mean", "np.sum"), "answer"),
                    ("from lossbook import check\ncheck('mse', mse)", "check"))
    assert main(["check", str(wrong), "--timeout", "60"]) == 1
    assert "Not yet — mse" in capsys.readouterr().out


def test_status_enums_keep_their_words_and_match_the_tables(tmp_path):
    from lossbook.exercises.feedback import STATUSES as CHECK_STYLES
    from lossbook.grading.batch import NO_FEEDBACK, STATUSES
    from lossbook.status import CellStatus, CheckStatus, ProgressStatus, RowStatus

    assert [s.value for s in CheckStatus] == ["passed", "failed", "not-attempted", "error", "timeout"]
    assert set(CHECK_STYLES) == set(CheckStatus)
    assert [s.value for s in ProgressStatus] == ["passed", "attempted", "not started"]
    assert [s.value for s in CellStatus] == ["ok", "error", "timeout", "killed", "died", "output-too-large"]
    assert list(STATUSES) == list(RowStatus) and set(NO_FEEDBACK) <= set(RowStatus)
    assert "duplicate" not in {s.value for s in RowStatus}  # retired
    write_rows(tmp_path / "g.csv", [Row("ana", "02_mse", {"mse": 0}, 0, 3, RowStatus.TIMED_OUT, [], "h")])
    (row,) = read_rows(tmp_path / "g.csv")
    assert row["status"] == "timed-out" and type(row["status"]) is str
    assert json.dumps({"s": CheckStatus.NOT_ATTEMPTED}) == '{"s": "not-attempted"}'


def test_submission_errors_carry_row_statuses(tmp_path):
    from lossbook.grading.assemble import load_submission
    from lossbook.status import RowStatus

    (tmp_path / "x.ipynb").write_text('{"cells": [], "nbformat": 3}')
    with pytest.raises(SubmissionError) as caught:
        load_submission(tmp_path / "x.ipynb")
    assert caught.value.status is RowStatus.WRONG_NBFORMAT
