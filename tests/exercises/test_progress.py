"""The progress store: location, atomic writes, corruption, two writers, read-only folder;
``progress()`` and the ``lossbook progress`` command."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from lossbook.exercises import progress as store_mod
from lossbook.exercises.progress import MARKER, ProgressStore, ProgressWarning, progress_dir


@pytest.fixture
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_PROGRESS_DIR", str(tmp_path))
    store_mod._STORES.clear()
    yield tmp_path
    store_mod._STORES.clear()


def test_location_env_then_course_folder_then_user_data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_PROGRESS_DIR", str(tmp_path / "env"))
    assert progress_dir() == tmp_path / "env"
    assert store_mod.locate().reason == "environment"
    monkeypatch.delenv("LOSSBOOK_PROGRESS_DIR")
    course = tmp_path / "course"
    deep = course / "exercises" / "sub"
    deep.mkdir(parents=True)
    (course / MARKER).touch()
    assert progress_dir(deep) == course / ".lossbook-progress"
    assert store_mod.locate(deep).legacy == (course,)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    where = store_mod.locate(tmp_path / "elsewhere")
    assert where.directory == tmp_path / "data" / "lossbook" and where.reason == "user"
    assert where.legacy == (tmp_path / "home" / ".lossbook",)


def test_the_course_folder_is_the_one_git_ignores():
    """The store's course folder is listed in .gitignore (the walkthrough test below checks
    with git itself that nothing else appears)."""
    ignored = (Path(__file__).resolve().parents[2] / ".gitignore").read_text().split()
    assert store_mod.COURSE_FOLDER + "/" in ignored and MARKER in ignored


def _legacy_progress(folder: Path, exercises: dict) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "progress.json").write_text(json.dumps({"version": 1, "exercises": exercises}))
    (folder / "progress.json.lock").write_text("")
    return folder / "progress.json"


def test_progress_at_the_old_places_is_migrated_never_lost(tmp_path, monkeypatch):
    monkeypatch.delenv("LOSSBOOK_PROGRESS_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    store_mod._STORES.clear()
    # ~/.lossbook (no course): moved into the user data folder, the old folder removed.
    old = _legacy_progress(tmp_path / "home" / ".lossbook",
                           {"mse": {"attempts": 2, "last": "passed", "passed": True}})
    monkeypatch.chdir(tmp_path)
    store = ProgressStore()
    assert store.status("mse") == "passed"
    assert not old.exists() and not old.parent.exists()
    new = tmp_path / "data" / "lossbook" / "progress.json"
    assert json.loads(new.read_text())["exercises"]["mse"] == {"attempts": 2, "last": "passed", "passed": True}
    # Beside the marker (older versions): merged with what the new folder already has.
    course = tmp_path / "course"
    (course / "workspace").mkdir(parents=True)
    (course / MARKER).touch()
    _legacy_progress(course / ".lossbook-progress", {"hinge": {"attempts": 1, "hints": 3, "last": "failed"}})
    (course / ".lossbook-progress" / "progress.json.lock").unlink()
    old = _legacy_progress(course, {"hinge": {"attempts": 4, "hints": 1, "passed": True},
                                    "mae": {"attempts": 1, "solution_viewed": True}})
    monkeypatch.chdir(course / "workspace")
    store = ProgressStore()
    assert store.statuses(["hinge", "mae", "mse"]) == {"hinge": "passed", "mae": "attempted",
                                                       "mse": "not started"}
    assert store.hints_shown("hinge") == 3
    data = json.loads((course / ".lossbook-progress" / "progress.json").read_text())["exercises"]
    assert data["hinge"] == {"attempts": 4, "hints": 3, "last": "failed", "passed": True}
    assert data["mae"] == {"attempts": 1, "solution_viewed": True}
    assert sorted(p.name for p in course.iterdir()) == [".lossbook-course", ".lossbook-progress", "workspace"]
    # Migrating again (e.g. an old copy restored) changes nothing: counts merge by maximum.
    _legacy_progress(course, {"hinge": {"attempts": 4, "hints": 1, "passed": True}})
    assert ProgressStore().hints_shown("hinge") == 3
    assert json.loads((course / ".lossbook-progress" / "progress.json").read_text())["exercises"] == data
    store_mod._STORES.clear()


def test_an_unreadable_old_file_is_left_in_place_with_a_warning(tmp_path):
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "progress.json").write_text("{not json")
    store = ProgressStore(tmp_path / "new", legacy=[tmp_path / "old"])
    with pytest.warns(ProgressWarning, match="could not read it"):
        assert store.status("mse") == "not started"
    assert (tmp_path / "old" / "progress.json").read_text() == "{not json"


def test_records_are_kept_and_passed_is_sticky(folder):
    store = ProgressStore()
    store.record_check("mse", "failed")
    store.record_check("mse", "passed")
    store.record_check("mse", "failed")
    store.record_check("mae", "error")
    data = json.loads((folder / "progress.json").read_text())
    assert data["exercises"]["mse"] == {"attempts": 3, "last": "failed", "passed": True}
    assert store.status("mse") == "passed" and store.status("mae") == "attempted"
    assert store.status("hinge") == "not started"
    assert [p.name for p in folder.iterdir() if p.name.endswith(".tmp")] == []
    assert sorted(p.name for p in folder.iterdir()) == ["progress.json", "progress.json.lock"]


def test_hint_counter_advances_and_the_last_repeats(folder):
    store = ProgressStore()
    assert [store.next_hint("mse", 3) for _ in range(5)] == [0, 1, 2, 2, 2]


def test_corrupt_file_is_moved_aside_with_a_warning(folder):
    (folder / "progress.json").write_text('{"exercises": {"mse": ')
    store = ProgressStore()
    with pytest.warns(ProgressWarning, match="unreadable"):
        store.record_check("mse", "passed")
    assert (folder / "progress.json.corrupt").read_text() == '{"exercises": {"mse": '
    assert store.status("mse") == "passed"
    (folder / "progress.json").write_text('["not", "a", "store"]')
    with pytest.warns(ProgressWarning, match="not a lossbook progress file"):
        assert store.status("mse") == "not started"
    assert (folder / "progress.json.corrupt-2").exists()


WRITER_SCRIPT = textwrap.dedent('''
    import sys
    from lossbook.exercises.progress import ProgressStore
    store = ProgressStore(sys.argv[1])
    for _ in range(int(sys.argv[3])):
        store.record_check(sys.argv[2], "failed")
        store.next_hint(sys.argv[2], 3)
''')


@pytest.mark.slow
def test_two_writers_in_two_processes_lose_nothing(tmp_path):
    workers = [subprocess.Popen([sys.executable, "-c", WRITER_SCRIPT, str(tmp_path), eid, "40"])
               for eid in ("mse", "mae", "mse")]
    for w in workers:
        assert w.wait(120) == 0
    data = json.loads((tmp_path / "progress.json").read_text())
    assert data["exercises"]["mse"]["attempts"] == 80
    assert data["exercises"]["mse"]["hints"] == 80
    assert data["exercises"]["mae"]["attempts"] == 40


READ_ONLY_SCRIPT = textwrap.dedent('''
    import sys, warnings
    warnings.simplefilter("always")
    from lossbook.exercises.progress import ProgressStore
    store = ProgressStore(sys.argv[1])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        store.record_check("mse", "passed")
        store.record_check("mae", "failed")
    print(store.in_memory, store.status("mse"), store.status("mae"), len(caught))
    print(caught[0].message if caught else "")
''')


def _run_read_only(folder: Path) -> subprocess.CompletedProcess:
    """Run READ_ONLY_SCRIPT with ``folder`` really read-only (a read-only bind mount as root)."""
    cmd = [sys.executable, "-c", READ_ONLY_SCRIPT, str(folder)]
    if os.geteuid() == 0:
        bwrap = shutil.which("bwrap")
        if bwrap is None:
            pytest.skip("running as root (permissions are not enforced) and bubblewrap is missing")
        cmd = [bwrap, "--dev-bind", "/", "/", "--ro-bind", str(folder), str(folder), *cmd]
    else:
        folder.chmod(0o555)
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    finally:
        folder.chmod(0o755)


def test_read_only_folder_falls_back_to_memory_with_a_warning(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    proc = _run_read_only(folder)
    if proc.returncode != 0 and "bwrap" in proc.stderr:
        pytest.skip(f"bubblewrap cannot create a mount namespace here: {proc.stderr.strip()}")
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.splitlines()[:2]
    assert first == "True passed attempted 1"
    assert "progress is kept in memory for this session only" in second
    assert list(folder.iterdir()) == []


def test_progress_report_text_and_html(folder):
    from lossbook.exercises.api import progress

    ProgressStore().record_check("mse", "passed")
    ProgressStore().record_check("hinge", "failed")
    report = progress()
    text = report.message
    from lossbook.exercises import EXERCISES
    total = len(EXERCISES)      # grows with the course
    assert text.startswith(f"Progress: 1 of {total} exercises passed, 1 attempted, {total - 2} not started.")
    assert "✔ mse" in text and "◐ hinge (attempted)" in text and "· mae" in text
    lines = text.splitlines()
    assert [l.split()[0] for l in lines[1:9]] == ["01_loss_vs_cost", "02_mse", "03_mae_huber", "04_cross_entropy",
                                                  "05_hinge", "06_regularization", "07_choosing_a_loss", "08_beyond"]
    html = report._repr_html_()
    assert "<table>" in html and "passed" in html and "not started" in html and "attempted" in html
    assert repr(report) == text


def _cli(*args, stdin="", env_dir):
    env = {**os.environ, "LOSSBOOK_PROGRESS_DIR": str(env_dir)}
    return subprocess.run([sys.executable, "-m", "lossbook", "progress", *args], input=stdin,
                          capture_output=True, text=True, env=env, timeout=120)


def test_cli_prints_progress_and_reset_asks_first(tmp_path, folder, monkeypatch, capsys):
    """The command as learners run it (a fresh interpreter), then its --reset in this process
    (``lossbook.cli.main``, what ``python -m lossbook`` calls) with no terminal to ask on."""
    from lossbook import cli

    ProgressStore(tmp_path).record_check("mse", "passed")
    shown = _cli(env_dir=tmp_path)
    assert shown.returncode == 0 and "✔ mse" in shown.stdout
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))     # a pipe, as under subprocess.run
    assert cli.main(["progress", "--reset"]) == 1
    assert "--yes" in capsys.readouterr().err
    assert ProgressStore(tmp_path).status("mse") == "passed"
    assert cli.main(["progress", "--reset", "--yes"]) == 0
    assert "Progress reset" in capsys.readouterr().out
    assert ProgressStore(tmp_path).status("mse") == "not started"


def test_cli_reset_confirmation_in_a_terminal(tmp_path, monkeypatch):
    from lossbook.commands import progress as command

    ProgressStore(tmp_path).record_check("mse", "passed")
    monkeypatch.setenv("LOSSBOOK_PROGRESS_DIR", str(tmp_path))
    store_mod._STORES.clear()

    class TTY:
        def isatty(self):
            return True

    monkeypatch.setattr(sys, "stdin", TTY())
    for answer, code, status in (("n", 1, "passed"), ("yes", 0, "not started")):
        monkeypatch.setattr("builtins.input", lambda prompt, a=answer: a)
        args = type("Args", (), {"reset": True, "yes": False})()
        assert command.run(args) == code
        assert ProgressStore(tmp_path).status("mse") == status
    store_mod._STORES.clear()


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True,
                          timeout=120).stdout


CHECK_SCRIPT = textwrap.dedent('''
    import numpy as np
    from lossbook import check, hint, progress
    check("mse", lambda y_true, y_pred: float(np.mean((np.asarray(y_pred) - np.asarray(y_true)) ** 2)))
    check("mae", lambda y_true, y_pred: 0.0)
    hint("hinge")
    print(progress().location)
''')


@pytest.mark.slow
def test_checking_in_a_clone_leaves_git_status_clean(tmp_path, monkeypatch):
    """The walkthrough in a fresh copy of the repository: `lossbook workspace` (make lab),
    `check` from the course root, a lesson folder and the workspace, `lossbook check` on a
    notebook (its own kernel), `lossbook progress`: `git status` shows nothing new, and the
    progress is in the git-ignored `.lossbook-progress/`. Leftovers of older versions
    (`progress.json` and its lock in the course root) are migrated away."""
    root = Path(__file__).resolve().parents[2]
    clone = tmp_path / "clone"
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=root).split("\0")
    for name in filter(None, listed):
        if (root / name).is_file():
            (clone / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(root / name, clone / name)
    _git("init", "-q", cwd=clone)
    _git("add", "-A", cwd=clone)
    _git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "clone", cwd=clone)
    assert _git("status", "--porcelain", cwd=clone) == ""

    env = {k: v for k, v in os.environ.items() if k != "LOSSBOOK_PROGRESS_DIR"}
    env.update(HOME=str(tmp_path / "home"), XDG_DATA_HOME=str(tmp_path / "data"),
               LOSSBOOK_CHECK_TIMEOUT="60")

    def run(*command, cwd=clone):
        return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)

    done = run(sys.executable, "-m", "lossbook", "workspace")
    assert done.returncode == 0, done.stderr
    # an older version's leftovers in the course root
    (clone / "progress.json").write_text(json.dumps({"version": 1, "exercises": {"huber": {"attempts": 1, "passed": True}}}))
    (clone / "progress.json.lock").write_text("")
    for where in (clone, clone / "notebooks", clone / "workspace"):
        done = run(sys.executable, "-c", CHECK_SCRIPT, cwd=where)
        assert done.returncode == 0, done.stderr
        assert done.stdout.strip().splitlines()[-1] == str(clone / ".lossbook-progress")
    done = run(sys.executable, "-m", "lossbook", "check", "workspace/01_loss_vs_cost.ipynb")
    assert done.returncode in (0, 1), done.stdout + done.stderr  # starters fail their checks
    done = run(sys.executable, "-m", "lossbook", "progress")
    assert done.returncode == 0 and ".lossbook-progress" in done.stdout, done.stderr

    assert _git("status", "--porcelain", "--untracked-files=all", cwd=clone) == ""
    data = json.loads((clone / ".lossbook-progress" / "progress.json").read_text())["exercises"]
    assert data["mse"]["passed"] and data["mse"]["attempts"] == 3 and data["huber"]["passed"]
    assert data["hinge"]["hints"] == 3 and not data["mae"].get("passed")
    assert any(entry.get("attempts") for eid, entry in data.items() if eid not in ("mse", "mae", "huber"))
    assert not (tmp_path / "home" / ".lossbook").exists() and not (tmp_path / "data").exists()
