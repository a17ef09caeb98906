"""`lossbook workspace`: the learner's copies are made once and never overwritten."""
import errno
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from lossbook.cli import main
from lossbook.commands import workspace as ws

NOTEBOOK = '{"cells": [], "metadata": {"lossbook": {"lesson": "%s"}}, "nbformat": 4, "nbformat_minor": 5}\n'


def make_course(root: Path, names=("01_loss_vs_cost.ipynb", "02_mse.ipynb")) -> Path:
    (root / "exercises").mkdir(parents=True)
    (root / "pyproject.toml").write_text("[project]\nname = 'lossbook'\n")
    for name in names:
        (root / "exercises" / name).write_text(NOTEBOOK % name[:-6])
    (root / "exercises" / "README.md").write_text("not a notebook\n")
    return root


def snapshot(folder: Path) -> dict:
    return {p.name: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(folder.iterdir())}


@pytest.fixture
def course(tmp_path):
    return make_course(tmp_path / "course")


def test_first_run_copies_every_exercise_and_writes_the_marker(course, capsys):
    assert main(["workspace", "--course", str(course)]) == 0
    copied = sorted(p.name for p in (course / "workspace").iterdir())
    assert copied == ["01_loss_vs_cost.ipynb", "02_mse.ipynb"]
    for name in copied:
        assert (course / "workspace" / name).read_bytes() == (course / "exercises" / name).read_bytes()
    assert (course / ".lossbook-course").is_file()
    out = capsys.readouterr().out
    assert "Created your workspace" in out and "Copied 2 new exercise notebook(s)" in out
    assert "+ 01_loss_vs_cost.ipynb" in out and "+ 02_mse.ipynb" in out


def test_second_run_changes_nothing(course, capsys):
    main(["workspace", "--course", str(course)])
    before = snapshot(course / "workspace"), (course / ".lossbook-course").read_bytes()
    capsys.readouterr()
    assert main(["workspace", "--course", str(course)]) == 0
    assert (snapshot(course / "workspace"), (course / ".lossbook-course").read_bytes()) == before
    out = capsys.readouterr().out
    assert "Kept 2 notebook(s) you already have" in out and "up to date" in out
    assert "Copied" not in out


def test_learner_edits_survive_a_course_update_and_new_exercises_arrive(course, capsys):
    main(["workspace", "--course", str(course)])
    mine = course / "workspace" / "02_mse.ipynb"
    mine.write_bytes(b'{"my": "work in progress \xc3\xa9"}\n')
    edited = mine.read_bytes()
    # the course is updated: an existing exercise changes, a new one appears
    (course / "exercises" / "02_mse.ipynb").write_text(NOTEBOOK % "updated")
    (course / "exercises" / "03_mae_huber.ipynb").write_text(NOTEBOOK % "03_mae_huber")
    capsys.readouterr()
    assert main(["workspace", "--course", str(course)]) == 0
    assert mine.read_bytes() == edited
    assert (course / "workspace" / "03_mae_huber.ipynb").read_text() == NOTEBOOK % "03_mae_huber"
    out = capsys.readouterr().out
    assert "Copied 1 new" in out and "+ 03_mae_huber.ipynb" in out and "Kept 2" in out


def test_a_removed_exercise_leaves_the_learner_copy_alone(course):
    main(["workspace", "--course", str(course), "--quiet"])
    (course / "exercises" / "01_loss_vs_cost.ipynb").unlink()
    main(["workspace", "--course", str(course), "--quiet"])
    assert (course / "workspace" / "01_loss_vs_cost.ipynb").exists()


def test_course_found_by_walking_up_and_quiet_prints_nothing(course, monkeypatch, capsys):
    deeper = course / "notebooks" / "sub"
    deeper.mkdir(parents=True)
    monkeypatch.chdir(deeper)
    assert main(["workspace", "--quiet"]) == 0
    assert (course / "workspace" / "02_mse.ipynb").exists()
    assert capsys.readouterr() == ("", "")


def test_no_course_found_is_a_clear_error(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["workspace"]) == 1
    err = capsys.readouterr().err
    assert "no lossbook course found" in err and "--course" in err


def test_course_option_without_exercises_is_a_clear_error(tmp_path, capsys):
    assert main(["workspace", "--course", str(tmp_path)]) == 1
    assert "no exercises/ folder there" in capsys.readouterr().err


def test_workspace_that_is_a_file_is_a_clear_error(course, capsys):
    (course / "workspace").write_text("oops")
    assert main(["workspace", "--course", str(course)]) == 1
    assert "exists but is not a folder" in capsys.readouterr().err
    assert (course / "workspace").read_text() == "oops"


def test_an_existing_file_is_never_replaced_even_in_a_race(course, monkeypatch):
    # the file appears between the existence check and the copy: O_EXCL refuses it
    (course / "workspace").mkdir()
    real_exists = Path.exists

    def racing_exists(self):
        if self.name == "02_mse.ipynb" and self.parent.name == "workspace":
            self.write_text("the learner's")
            return False
        return real_exists(self)

    monkeypatch.setattr(Path, "exists", racing_exists)
    report = ws.sync_workspace(course)
    monkeypatch.undo()
    assert (course / "workspace" / "02_mse.ipynb").read_text() == "the learner's"
    assert report.kept == ["02_mse.ipynb"] and report.copied == ["01_loss_vs_cost.ipynb"]


def test_write_failure_gives_a_clear_error_and_keeps_existing_files(course, monkeypatch, capsys):
    main(["workspace", "--course", str(course), "--quiet"])
    (course / "exercises" / "03_mae_huber.ipynb").write_text(NOTEBOOK % "03")
    before = snapshot(course / "workspace")

    def refuse(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(ws.os, "open", refuse)
    assert main(["workspace", "--course", str(course)]) == 1
    err = capsys.readouterr().err
    assert "cannot write into" in err and "Permission denied" in err and "nothing of yours was changed" in err
    assert snapshot(course / "workspace") == before


def _bwrap_works() -> bool:
    if shutil.which("bwrap") is None:
        return False
    probe = subprocess.run(["bwrap", "--bind", "/", "/", "--dev", "/dev", "true"], capture_output=True)
    return probe.returncode == 0


def test_really_read_only_workspace(course):
    """A read-only folder for real: chmod for a normal user, a read-only mount for root."""
    main(["workspace", "--course", str(course), "--quiet"])
    (course / "exercises" / "03_mae_huber.ipynb").write_text(NOTEBOOK % "03")
    before = snapshot(course / "workspace")
    command = [sys.executable, "-m", "lossbook", "workspace", "--course", str(course)]
    if os.name == "posix" and os.geteuid() != 0:
        (course / "workspace").chmod(0o555)
    elif _bwrap_works():
        # root ignores permissions: mount the workspace read-only instead
        ro = str(course / "workspace")
        command = ["bwrap", "--bind", "/", "/", "--ro-bind", ro, ro, "--dev", "/dev", "--proc", "/proc", *command]
    elif os.environ.get("LOSSBOOK_REQUIRE_SANDBOX") == "1":
        pytest.fail("running as root without a working bubblewrap: cannot make a read-only folder")
    else:
        pytest.skip("running as root without bubblewrap: cannot make a read-only folder")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    finally:
        (course / "workspace").chmod(0o755)
    assert done.returncode == 1, done.stderr
    assert "lossbook workspace: cannot write into" in done.stderr
    assert "Traceback" not in done.stderr
    assert snapshot(course / "workspace") == before


def test_the_workspace_is_git_ignored():
    """Learners' copies must never show up as changes to the course repository."""
    root = Path(__file__).resolve().parents[2]
    ignored = {line.strip() for line in (root / ".gitignore").read_text().splitlines()}
    assert ignored & {"workspace/", "/workspace/", "workspace"}


# ----------------------------------------------------------------------- the library policy file

POLICY = '[allow]\nsoftmax = ["scipy.special.softmax"]\n'
SCIPY_SOFTMAX = "import scipy.special\ndef softmax(z):\n    return scipy.special.softmax(z, axis=-1)\n"


def _learner_function(source: str, name: str):
    namespace = {"__name__": "__main__"}  # defined as in a notebook
    exec(compile(source, "<answer>", "exec"), namespace)  # noqa: S102 - the test's own answer
    return namespace[name]


def test_the_released_policy_file_reaches_the_workspace_where_check_reads_it(tmp_path, monkeypatch, capsys):
    """release → exercises/lossbook-policy.toml → workspace/ (the learner's kernel runs there)."""
    from lossbook.exercises import get
    from lossbook.exercises.checking import run_check
    from lossbook.exercises.forbidden import POLICY_FILE
    from lossbook.release import release

    repo = Path(__file__).resolve().parents[2]
    course = tmp_path / "course"
    (course / "solutions").mkdir(parents=True)
    (course / "pyproject.toml").write_text("[project]\nname = 'lossbook'\n")
    shutil.copyfile(repo / "solutions" / "04_cross_entropy.ipynb", course / "solutions" / "04_cross_entropy.ipynb")
    (course / "solutions" / POLICY_FILE).write_text(POLICY)
    release(course / "solutions", course / "exercises")
    assert (course / "exercises" / POLICY_FILE).read_text() == POLICY
    assert main(["workspace", "--course", str(course)]) == 0
    assert (course / "workspace" / POLICY_FILE).read_text() == POLICY
    assert f"+ {POLICY_FILE}" in capsys.readouterr().out
    answer = _learner_function(SCIPY_SOFTMAX, "softmax")
    monkeypatch.chdir(course / "workspace")
    assert run_check(get("softmax"), answer).passed
    monkeypatch.chdir(tmp_path)  # without the policy: the same answer is refused
    assert run_check(get("softmax"), answer).summary == "uses scipy.special.softmax: write it yourself"


def test_a_policy_file_already_in_the_workspace_is_never_overwritten(course, capsys):
    from lossbook.exercises.forbidden import POLICY_FILE

    (course / "exercises" / POLICY_FILE).write_text(POLICY)
    (course / "workspace").mkdir()
    mine = course / "workspace" / POLICY_FILE
    mine.write_text("# my own\n[allow]\n")
    before = snapshot(course / "workspace")[POLICY_FILE]
    report = ws.sync_workspace(course)
    assert snapshot(course / "workspace")[POLICY_FILE] == before
    assert POLICY_FILE not in report.copied and POLICY_FILE in report.kept
    text = report.text()
    assert f"{mine} differs from the course's" in text and f"delete {mine}" in text
    # The same file as the course's: nothing to say.
    mine.write_text(POLICY)
    assert "differs" not in ws.sync_workspace(course).text()
    # A symbolic link where the file would go is left alone, never followed.
    mine.unlink()
    elsewhere = course / "elsewhere.toml"
    elsewhere.write_text("x = 1\n")
    mine.symlink_to(elsewhere)
    ws.sync_workspace(course)
    assert mine.is_symlink() and elsewhere.read_text() == "x = 1\n"


def test_a_course_without_a_policy_file_copies_none(course):
    from lossbook.exercises.forbidden import POLICY_FILE

    ws.sync_workspace(course)
    assert not (course / "workspace" / POLICY_FILE).exists()
    assert sorted(p.name for p in (course / "workspace").iterdir()) == ["01_loss_vs_cost.ipynb", "02_mse.ipynb"]
