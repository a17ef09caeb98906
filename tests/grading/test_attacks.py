"""The attack corpus: every submission in attacks/*.toml gets exactly its expected grade.

All submissions are graded in one batch through ``lossbook grade`` (``--jobs 2``,
4-second cell timeout), as an instructor would, with ``TMPDIR`` pointing at an empty
folder. Each test then checks its case: the exact gradebook rows (points per exercise,
status, reasons), the summary's lines, the exit status (0: every submission got a row),
that the submission files are byte-identical afterwards and that nothing is left in
``TMPDIR``. One-file cases give ``expect*`` keys; several-file cases (``[[files]]``) list
their exact ``[[rows]]`` and ``summary`` lines.
"""
import contextlib
import hashlib
import io
import os
import tempfile

import pytest

from builders import load_attacks
from lossbook.cli import main
from lossbook.grading.batch import feedback_path
from lossbook.grading.gradebook import read_rows
from lossbook.grading.safe_text import spreadsheet_cell

ATTACKS = load_attacks()
SINGLE = [a for a in ATTACKS if not a.multi]
MULTI = [a for a in ATTACKS if a.multi]


@contextlib.contextmanager
def private_tmpdir(folder):
    """``TMPDIR`` (and :mod:`tempfile`'s cached choice) pointing at ``folder``."""
    old_env, old_cached = os.environ.get("TMPDIR"), tempfile.tempdir
    os.environ["TMPDIR"], tempfile.tempdir = str(folder), None
    try:
        yield
    finally:
        if old_env is None:
            os.environ.pop("TMPDIR", None)
        else:
            os.environ["TMPDIR"] = old_env
        tempfile.tempdir = old_cached


def run_cli(argv, tmpdir):
    """``lossbook grade ...`` with ``TMPDIR=tmpdir``: (exit status, stdout, stderr, files left in tmpdir)."""
    out, err = io.StringIO(), io.StringIO()
    with private_tmpdir(tmpdir), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["grade", *map(str, argv)])
    return status, out.getvalue(), err.getvalue(), sorted(p.name for p in tmpdir.iterdir())


def _hashes(paths):
    return {str(p): hashlib.sha256(p.read_bytes()).hexdigest() if not p.is_symlink() else os.readlink(p)
            for p in paths}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox_ok):
    root = tmp_path_factory.mktemp("submissions")
    paths = {}
    for attack in ATTACKS:
        attack.write(root)
        paths[attack.name] = attack.paths(root)
    before = _hashes([p for group in paths.values() for p in group])
    out = tmp_path_factory.mktemp("out") / "gradebook.csv"
    feedback = tmp_path_factory.mktemp("feedback")
    tmpdir = tmp_path_factory.mktemp("tmpdir")
    status, stdout, stderr, left = run_cli([root, "--out", out, "--jobs", "2", "--timeout", "4",
                                           "--submission-timeout", "20", "--feedback", feedback], tmpdir)
    rows = read_rows(out)
    return {"root": root, "paths": paths, "before": before, "rows": rows, "status": status, "stdout": stdout,
            "stderr": stderr, "left": left, "feedback": feedback, "out": out,
            "by_source": {r["source"]: r for r in rows}}


def _common(graded, attack):
    assert graded["status"] == 0, graded["stderr"]
    assert graded["left"] == [], "the batch left files in TMPDIR"
    paths = graded["paths"][attack.name]
    assert _hashes(paths) == {str(p): graded["before"][str(p)] for p in paths}, "a submission was changed"


def test_every_submission_has_a_row(graded):
    expected = len(SINGLE) + sum(len(a.spec["rows"]) for a in MULTI)
    assert len(graded["rows"]) == expected
    assert graded["status"] == 0 and graded["left"] == []
    assert f"{expected} rows; gradebook:" in graded["stdout"]


def test_nothing_printed_carries_a_control_character(graded):
    import re

    for stream in (graded["stdout"], graded["stderr"]):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", stream), repr(stream[:2000])
    for path in graded["feedback"].glob("*/*.md"):
        assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", path.read_text()), path


def test_every_text_column_is_escaped_against_formulas(graded):
    from lossbook.grading.gradebook import TEXT_COLUMNS

    for row in graded["rows"]:
        for column in TEXT_COLUMNS:
            assert not row[column].startswith(("=", "+", "-", "@", "\t", "\r")), (column, row[column])
            assert "\x1b" not in row[column] and "\r" not in row[column] and "\n" not in row[column]


@pytest.mark.parametrize("attack", SINGLE, ids=[a.name for a in SINGLE])
def test_attack(graded, attack):
    _common(graded, attack)
    path = graded["paths"][attack.name][0]
    row = graded["by_source"][os.path.abspath(path)]
    reasons = row["reasons"]
    assert row["status"] == attack.spec.get("expect_status", "graded"), reasons
    assert row["lesson"] == attack.expected_lesson
    assert row["learner"] == attack.spec.get("expect_learner", attack.learner)
    expected = attack.expected_points()
    assert {e: float(row[e]) for e in expected} == expected, reasons
    assert float(row["total"]) == sum(expected.values())
    for fragment in attack.spec.get("expect_reasons", []):
        assert fragment in reasons
    for fragment in attack.spec.get("expect_no_reasons", []):
        assert fragment not in reasons
    if sum(expected.values()) < float(row["max"]):
        assert reasons, "a lost point always comes with a reason"
    line = f"{row['learner']}  " if len(row["learner"]) > 0 else ""
    assert any(l.startswith(row["learner"]) and row["status"] in l for l in graded["stdout"].splitlines()), line


@pytest.mark.parametrize("attack", MULTI, ids=[a.name for a in MULTI])
def test_several_file_case(graded, attack):
    _common(graded, attack)
    root = graded["root"]
    mine = {spreadsheet_cell(os.path.abspath(p)) for p in graded["paths"][attack.name]}
    rows = [r for r in graded["rows"] if any(part in mine for part in r["source"].split(", "))]
    got = sorted((r["learner"], r["lesson"], r["status"], r["total"]) for r in rows)
    want = sorted((e["learner"], e["lesson"], e["status"], str(e["total"])) for e in attack.spec["rows"])
    assert got == want
    for expected in attack.spec["rows"]:
        assert set(expected) <= {"learner", "lesson", "status", "total", "reasons", "source"}, expected
        row = next(r for r in rows if (r["learner"], r["lesson"]) == (expected["learner"], expected["lesson"]))
        for fragment in expected.get("reasons", []):
            assert fragment.replace("{root}", str(root)) in row["reasons"], row["reasons"]
        if "source" in expected:
            assert row["source"] == spreadsheet_cell(", ".join(os.path.abspath(root / p) for p in expected["source"]))
    for fragment in attack.spec.get("summary", []):
        assert fragment.replace("{root}", str(root)) in graded["stdout"], graded["stdout"]


def _expected_texts(lesson):
    import nbformat
    from builders import REPO
    from lossbook import notebook_roles as roles

    nb = nbformat.read(REPO / "solutions" / f"{lesson}.ipynb", as_version=4)
    return [line for _, cell in roles.cells_with_role(nb, roles.HIDDEN_TESTS)
            for out in cell.outputs for line in out.get("text", "").splitlines() if line.strip()]


@pytest.mark.parametrize("learner, exercise, diagnosis", [
    ("honest_all_wrong", "mse", "exactly n times too large"),
    ("honest_all_wrong", "mse_grad", "gradient has the wrong sign"),
    ("honest_partly_right", "mse", "right for 1-D input but not for 2-D"),
])
def test_feedback_diagnoses_from_printed_outputs(graded, learner, exercise, diagnosis):
    text = (graded["feedback"] / learner / "02_mse.md").read_text()
    section = text.split(f"## `{exercise}`")[1].split("\n## ")[0]
    assert "✘ not yet" in section and f"Likely mistake: {diagnosis}" in section


def test_feedback_names_the_failing_case_without_expected_values(graded):
    text = (graded["feedback"] / "honest_partly_right" / "02_mse.md").read_text()
    section = text.split("## `mse`")[1].split("\n## ")[0]
    assert "2-D of shape" in section, section


def test_feedback_for_every_row_but_the_refused_and_never_the_expected_outputs(graded):
    expected = _expected_texts("02_mse")
    files = sorted(graded["feedback"].glob("*/*.md"))
    with_feedback = [r for r in graded["rows"] if r["status"] not in ("ambiguous", "refused-identity")]
    assert files == sorted(feedback_path(graded["feedback"], r["learner"], r["lesson"].lstrip("'"))
                           for r in with_feedback)
    for path in files:
        text = path.read_text()
        for line in expected:
            assert line not in text, (path, line)
    passed = (graded["feedback"] / "honest_all_correct_different" / "02_mse.md").read_text()
    assert passed.count("✔ passed") == 2 and "Likely mistake" not in passed


def test_regrading_from_another_source_is_refused_unless_allowed(graded, tmp_path):
    """A later file for a learner already in the gradebook: the old row stays; with the flag it is replaced."""
    import shutil

    gradebook = tmp_path / "gradebook.csv"
    shutil.copyfile(graded["out"], gradebook)
    before = read_rows(gradebook)
    old = next(r for r in before if r["learner"] == "honest_all_correct_different")
    late = tmp_path / "late" / "honest_all_correct_different"
    late.mkdir(parents=True)
    shutil.copyfile(graded["root"] / "honest_not_attempted" / "02_mse.ipynb", late / "02_mse.ipynb")
    tmpdir = tmp_path / "tmp"
    tmpdir.mkdir()
    status, stdout, _, left = run_cli([late.parent, "--out", gradebook, "--jobs", "1", "--timeout", "5"], tmpdir)
    assert status == 0 and left == []
    assert read_rows(gradebook) == before
    assert "NOT replaced" in stdout
    assert (f"honest_all_correct_different × 02_mse: kept the row from {old['source']} (total {old['total']}); "
            f"{late / '02_mse.ipynb'} (total 3) was not written") in stdout
    assert "refused-identity" in stdout

    status, stdout, _, left = run_cli([late.parent, "--out", gradebook, "--jobs", "1", "--timeout", "5",
                                       "--replace-from-other-source"], tmpdir)
    assert status == 0 and left == []
    after = read_rows(gradebook)
    row = next(r for r in after if r["learner"] == "honest_all_correct_different")
    assert (row["source"], row["total"], row["status"]) == (str(late / "02_mse.ipynb"), "3", "graded")
    assert (f"honest_all_correct_different × 02_mse: the row from {old['source']} (total {old['total']}) was "
            f"replaced by {late / '02_mse.ipynb'} (total 3)") in stdout
    assert [r for r in after if r is not row] == [r for r in before if r["learner"] != "honest_all_correct_different"]
