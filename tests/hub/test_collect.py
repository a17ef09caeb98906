"""``lossbook collect``: hub homes or folders -> <learner>/<lesson>.ipynb, and its hostile cases."""
from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lossbook.collect import CollectError, collect, fingerprint
from lossbook.grading.batch import find_submissions, sanitize_learner

ROOT = Path(__file__).resolve().parents[2]
RELEASED = ROOT / "exercises"
LESSON = "02_mse"


def released_notebook(lesson: str = LESSON) -> dict:
    return json.loads((RELEASED / f"{lesson}.ipynb").read_text(encoding="utf-8"))


def solved(lesson: str = LESSON, code: str = "def mse(y_true, y_pred):\n    return 0.0\n") -> dict:
    notebook = released_notebook(lesson)
    for cell in notebook["cells"]:
        if cell["metadata"].get("lossbook", {}).get("role") == "answer":
            cell["source"] = code
            break
    return notebook


def write(path: Path, notebook) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(notebook) if not isinstance(notebook, str) else notebook,
                    encoding="utf-8")
    return path


def home(homes: Path, name: str) -> Path:
    """A hub home as lossbook.hub.homes lays it out (only what collect reads)."""
    folder = homes / name / "workspace"
    folder.mkdir(parents=True)
    return folder


def test_hub_homes_are_collected_as_the_grader_reads_them(tmp_path):
    homes, out = tmp_path / "homes", tmp_path / "submissions"
    original = write(home(homes, "ana") / f"{LESSON}.ipynb", solved())
    os.utime(original, (1_600_000_000, 1_600_000_000))
    write(home(homes, "ben") / f"{LESSON}.ipynb", released_notebook())   # untouched
    report = collect(homes, out, RELEASED)

    assert report.ok, report.text()
    copy = out / "ana" / f"{LESSON}.ipynb"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*")) == ["ana", f"ana/{LESSON}.ipynb"]
    assert copy.read_bytes() == original.read_bytes()
    assert copy.stat().st_mtime == 1_600_000_000
    assert stat.S_IMODE(copy.stat().st_mode) == 0o444
    assert report.collected == {"ana": [LESSON]}
    assert LESSON in report.not_submitted["ben"] and "01_loss_vs_cost" in report.not_submitted["ana"]
    # ready for `lossbook grade`: the grader finds one submission, ana's 02_mse
    found = find_submissions([out], lessons=None)
    assert [(s.learner, s.path.name) for s in found] == [("ana", f"{LESSON}.ipynb")]


def test_collect_again_replaces_the_earlier_copy(tmp_path):
    homes, out = tmp_path / "homes", tmp_path / "out"
    path = write(home(homes, "ana") / f"{LESSON}.ipynb", solved(code="def mse(a, b):\n    return 1\n"))
    collect(homes, out, RELEASED)
    write(path, solved(code="def mse(a, b):\n    return 2\n"))
    assert collect(homes, out, RELEASED).ok
    assert "return 2" in (out / "ana" / f"{LESSON}.ipynb").read_text()


def test_running_the_notebook_is_not_submitting(tmp_path):
    """Outputs, execution counts, metadata, ids, trailing spaces, CRLF, empty cells: no change."""
    notebook = released_notebook()
    for index, cell in enumerate(notebook["cells"]):
        cell["metadata"]["collapsed"] = True
        cell["id"] = f"cell-{index}"
        if cell["cell_type"] == "code":
            cell["execution_count"] = index
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "noise\n"}]
            cell["source"] = "".join(cell["source"]).replace("\n", "  \r\n")
    notebook["cells"].append({"cell_type": "code", "metadata": {}, "source": "  \n", "outputs": [],
                              "execution_count": None})
    notebook["metadata"]["widgets"] = {"state": {}}
    assert fingerprint(notebook) == fingerprint(released_notebook())
    homes = tmp_path / "homes"
    write(home(homes, "ana") / f"{LESSON}.ipynb", notebook)
    report = collect(homes, tmp_path / "out", RELEASED)
    assert report.collected == {} and LESSON in report.not_submitted["ana"]


def test_a_changed_markdown_cell_counts_as_a_change(tmp_path):
    notebook = released_notebook()
    notebook["cells"].append({"cell_type": "markdown", "metadata": {}, "source": "my notes"})
    assert fingerprint(notebook) != fingerprint(released_notebook())


def test_plain_folders_of_notebooks_work_too(tmp_path):
    folder = tmp_path / "class"
    write(folder / "zoe" / f"{LESSON}.ipynb", solved())
    write(folder / "zoe" / "scratch.ipynb", solved())
    report = collect(folder, tmp_path / "out", RELEASED)
    assert report.collected == {"zoe": [LESSON]}
    assert report.ignored == ["zoe/scratch.ipynb"]
    assert "Ignored 1 (hidden folders, notebooks not named <lesson>.ipynb)" in report.text()


def test_colliding_learner_ids_are_never_merged(tmp_path):
    homes = tmp_path / "homes"
    for name in ("yan", " yan", "yan "):
        write(home(homes, name) / f"{LESSON}.ipynb", solved())
    write(home(homes, "zoe") / f"{LESSON}.ipynb", solved())
    report = collect(homes, tmp_path / "out", RELEASED)
    assert {sanitize_learner(n) for n in ("yan", " yan", "yan ")} == {"yan"}
    assert not report.ok and report.collected == {"zoe": [LESSON]}
    assert len(report.refused) == 3
    assert all("collide" in r.reason and "'%20yan'" in r.reason and "'yan%20'" in r.reason
               for r in report.refused)
    assert not (tmp_path / "out" / "yan").exists()


def test_names_with_control_characters_and_dots_are_sanitised_and_shown_safely(tmp_path):
    homes = tmp_path / "homes"
    names = ("e\x1b[31mvil\n", "x..y..", "Ana Lima")
    for name in (*names, "..hidden"):
        write(home(homes, name) / f"{LESSON}.ipynb", solved())
    report = collect(homes, tmp_path / "out", RELEASED)
    assert report.ok
    assert sorted(report.collected) == sorted(sanitize_learner(n) for n in names)
    assert report.ignored == ["..hidden/ (hidden)"]    # as the grader: said, not collected
    for learner in report.collected:
        assert (tmp_path / "out" / learner).parent == tmp_path / "out"
    text = report.text()
    assert "\x1b" not in text and "\n\n" not in text


def test_symlinks_are_never_followed(tmp_path):
    secret = write(tmp_path / "outside" / "secret.ipynb", solved(code="SECRET = 1\n"))
    homes = tmp_path / "homes"
    (home(homes, "ana") / f"{LESSON}.ipynb").symlink_to(secret)              # a notebook
    (homes / "ben").mkdir()
    (homes / "ben" / "workspace").symlink_to(secret.parent, target_is_directory=True)  # workspace/
    (homes / "cy").symlink_to(secret.parent, target_is_directory=True)       # the learner folder
    report = collect(homes, tmp_path / "out", RELEASED)
    assert not report.ok and report.collected == {}
    reasons = {Path(r.path).name: r.reason for r in report.refused}
    assert reasons == {f"{LESSON}.ipynb": "a symbolic link, not followed",
                       "workspace": "a symbolic link, not followed",
                       "cy": "a symbolic link, not followed"}
    assert not any("SECRET" in p.read_text() for p in (tmp_path / "out").rglob("*.ipynb"))


def test_huge_unreadable_and_special_files_are_refused(tmp_path):
    homes = tmp_path / "homes"
    big = home(homes, "big") / f"{LESSON}.ipynb"
    with open(big, "wb") as handle:
        handle.truncate(3_000_000)     # sparse: 3 MB of nothing
    fifo = home(homes, "fifo") / f"{LESSON}.ipynb"
    os.mkfifo(fifo)                    # opening it must not hang
    write(home(homes, "fine") / f"{LESSON}.ipynb", solved())
    report = collect(homes, tmp_path / "out", RELEASED, max_bytes=1_000_000)
    reasons = {r.learner: r.reason for r in report.refused}
    assert reasons["big"].startswith("too large") and "3.0 MB" in reasons["big"]
    assert reasons["fifo"] == "not a regular file"
    assert report.collected == {"fine": [LESSON]}
    # a directory named like a notebook: not a regular file either
    (home(homes, "dir") / f"{LESSON}.ipynb").mkdir()
    report = collect(homes, tmp_path / "out2", RELEASED)
    assert {r.learner: r.reason for r in report.refused}["dir"] == "not a regular file"


def test_unreadable_file_is_refused_and_the_rest_collected(tmp_path, monkeypatch):
    homes = tmp_path / "homes"
    locked = write(home(homes, "locked") / f"{LESSON}.ipynb", solved())
    write(home(homes, "open") / f"{LESSON}.ipynb", solved())
    if os.geteuid() != 0:
        locked.chmod(0)
    else:   # root reads anything: the file system's refusal, simulated for this one file
        real_open = os.open

        def refusing_open(path, *args, **kwargs):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied", str(path))
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", refusing_open)
    report = collect(homes, tmp_path / "out", RELEASED)
    assert report.collected == {"open": [LESSON]}
    assert [(r.learner, r.reason) for r in report.refused] == [("locked", "unreadable (Permission denied)")]


def test_not_json_is_collected_for_the_grader_to_report(tmp_path):
    homes = tmp_path / "homes"
    write(home(homes, "ana") / f"{LESSON}.ipynb", "{not json")
    report = collect(homes, tmp_path / "out", RELEASED)
    assert report.collected == {"ana": [LESSON]}   # the grader's row says not-a-notebook


@pytest.mark.parametrize("where", ["same", "inside", "around"])
def test_out_must_be_outside_the_source(tmp_path, where):
    homes = tmp_path / "homes"
    homes.mkdir()
    out = {"same": homes, "inside": homes / "out", "around": tmp_path}[where]
    with pytest.raises(CollectError, match="--out"):
        collect(homes, out, RELEASED)


def test_bad_released_folder_names_the_argument(tmp_path):
    (tmp_path / "homes").mkdir()
    with pytest.raises(CollectError, match="--released"):
        collect(tmp_path / "homes", tmp_path / "out", tmp_path / "nope")


def test_command_line_exit_status_and_report(tmp_path):
    homes = tmp_path / "homes"
    write(home(homes, "ana") / f"{LESSON}.ipynb", solved())
    command = [sys.executable, "-m", "lossbook", "collect", str(homes), "--out", str(tmp_path / "out"),
               "--released", str(RELEASED)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    assert "ana: submitted 02_mse" in done.stdout
    (homes / "evil").symlink_to(tmp_path)
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 1 and "REFUSED 1" in done.stdout
    done = subprocess.run(command[:5] + ["--out", str(homes)] + command[7:], capture_output=True,
                          text=True, cwd=ROOT)
    assert done.returncode == 2 and "--out" in done.stderr


def test_tljh_homes_with_a_prefix(tmp_path):
    homes = tmp_path / "home"
    write(home(homes, "jupyter-ana") / f"{LESSON}.ipynb", solved())
    write(home(homes, "ubuntu") / f"{LESSON}.ipynb", solved())          # an admin's account
    (homes / "jupyter-").mkdir()                                          # the prefix alone
    report = collect(homes, tmp_path / "out", RELEASED, prefix="jupyter-")
    assert report.collected == {"ana": [LESSON]}
    assert sorted(report.ignored) == ["jupyter-/ (not named jupyter-<learner>)",
                                      "ubuntu/ (not named jupyter-<learner>)"]
