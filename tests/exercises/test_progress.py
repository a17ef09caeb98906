"""The progress store: location, atomic writes, corruption, two writers, read-only folder;
``progress()`` and the ``lossbook progress`` command."""
from __future__ import annotations

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


def test_location_env_then_marker_then_home(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_PROGRESS_DIR", str(tmp_path / "env"))
    assert progress_dir() == tmp_path / "env"
    monkeypatch.delenv("LOSSBOOK_PROGRESS_DIR")
    course = tmp_path / "course"
    deep = course / "exercises" / "sub"
    deep.mkdir(parents=True)
    (course / MARKER).touch()
    assert progress_dir(deep) == course
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert progress_dir(tmp_path / "elsewhere") == tmp_path / "home" / ".lossbook"


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

    total = len(EXERCISES)
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


def test_cli_prints_progress_and_reset_asks_first(tmp_path):
    ProgressStore(tmp_path).record_check("mse", "passed")
    shown = _cli(env_dir=tmp_path)
    assert shown.returncode == 0 and "✔ mse" in shown.stdout
    refused = _cli("--reset", env_dir=tmp_path)  # no terminal to ask on
    assert refused.returncode == 1 and "--yes" in refused.stderr
    assert ProgressStore(tmp_path).status("mse") == "passed"
    done = _cli("--reset", "--yes", env_dir=tmp_path)
    assert done.returncode == 0 and "Progress reset" in done.stdout
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
