"""A learner's home on the hub (lossbook.hub.homes) and the read-only course files (contents)."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from lossbook.hub.homes import HomeError, prepare_home

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def course(tmp_path):
    """A copy of the course's notebooks/ and exercises/ (so a test can 'update' it)."""
    folder = tmp_path / "course"
    for name in ("notebooks", "exercises"):
        shutil.copytree(ROOT / name, folder / name)
    return folder


def test_first_start_lays_out_the_home_like_make_lab(course, tmp_path):
    home = tmp_path / "homes" / "ana"
    report = prepare_home(course, home)
    for name in ("notebooks", "exercises"):
        names = sorted(p.name for p in (course / name).glob("*.ipynb"))
        assert sorted(p.name for p in (home / name).glob("*.ipynb")) == names
        for path in (home / name).glob("*.ipynb"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o444
            assert path.read_bytes() == (course / name / path.name).read_bytes()
    assert sorted(report.copied) == sorted(p.name for p in (course / "exercises").glob("*.ipynb"))
    assert sorted(p.name for p in (home / "workspace").iterdir()) == sorted(report.copied)
    assert (home / ".lossbook-course").is_file() and (home / ".lossbook-progress").is_dir()
    # the progress store finds this home's store from any folder inside it
    from lossbook.exercises.progress import locate
    env = dict(os.environ)
    env.pop("LOSSBOOK_PROGRESS_DIR", None)
    code = "from lossbook.exercises.progress import locate; print(locate().directory)"
    done = subprocess.run([sys.executable, "-c", code], cwd=home / "workspace", env=env,
                          capture_output=True, text=True, check=True)
    assert Path(done.stdout.strip()) == home / ".lossbook-progress"
    assert locate  # imported for the reader: the one lookup order


def test_later_starts_never_overwrite_the_learners_work_and_add_new_exercises(course, tmp_path):
    home = tmp_path / "ana"
    prepare_home(course, home)
    mine = home / "workspace" / "02_mse.ipynb"
    mine.write_text('{"my": "work"}')
    (home / "workspace" / "03_mae_huber.ipynb").unlink()          # the learner deleted one
    # a course update: a new exercise, a changed lesson, a lesson dropped
    shutil.copy(course / "exercises" / "02_mse.ipynb", course / "exercises" / "12_new.ipynb")
    (course / "notebooks" / "01_loss_vs_cost.ipynb").write_text('{"changed": true}')
    (course / "notebooks" / "11_embeddings.ipynb").unlink()
    report = prepare_home(course, home)
    assert mine.read_text() == '{"my": "work"}'
    assert sorted(report.copied) == ["03_mae_huber.ipynb", "12_new.ipynb"]   # as `make lab`
    assert report.installed == ["notebooks/01_loss_vs_cost.ipynb", "exercises/12_new.ipynb"]
    assert (home / "notebooks" / "01_loss_vs_cost.ipynb").read_text() == '{"changed": true}'
    assert report.removed == ["notebooks/11_embeddings.ipynb"]
    assert not (home / "notebooks" / "11_embeddings.ipynb").exists()
    assert prepare_home(course, home).installed == []             # idempotent


def test_a_dropped_course_file_the_learner_changed_is_kept(course, tmp_path):
    home = tmp_path / "ana"
    prepare_home(course, home)
    lesson = home / "notebooks" / "11_embeddings.ipynb"
    lesson.chmod(0o644)
    lesson.write_text("notes")
    (course / "notebooks" / "11_embeddings.ipynb").unlink()
    report = prepare_home(course, home)
    assert report.kept == ["notebooks/11_embeddings.ipynb"] and lesson.read_text() == "notes"


def test_a_symlink_planted_in_the_lessons_is_replaced_not_followed(course, tmp_path):
    home = tmp_path / "ana"
    prepare_home(course, home)
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    target = home / "notebooks" / "02_mse.ipynb"
    target.unlink()
    target.symlink_to(outside)
    prepare_home(course, home)
    assert outside.read_text() == "keep me"
    assert not target.is_symlink() and target.read_bytes() == (course / "notebooks/02_mse.ipynb").read_bytes()


def test_bad_course_or_home_say_what_to_do(course, tmp_path):
    with pytest.raises(HomeError, match="LOSSBOOK_COURSE"):
        prepare_home(tmp_path / "nowhere", tmp_path / "ana")
    for wrong in (course, course / "notebooks" / "ana", course / "exercises"):
        with pytest.raises(HomeError, match="homes of their own"):
            prepare_home(course, wrong)
    # `lossbook hub`'s default: homes in the course's git-ignored .lossbook-hub/homes/
    assert prepare_home(course, course / ".lossbook-hub" / "homes" / "ana").copied
    home = tmp_path / "ben"
    home.mkdir()
    (home / "notebooks").write_text("a file")
    with pytest.raises(HomeError, match="not a folder"):
        prepare_home(course, home)


def test_singleuser_without_course_says_how_to_set_it(tmp_path):
    env = dict(os.environ, HOME=str(tmp_path))
    env.pop("LOSSBOOK_COURSE", None)
    done = subprocess.run([sys.executable, "-m", "lossbook.hub.singleuser"], env=env,
                          capture_output=True, text=True)
    assert done.returncode == 2 and "LOSSBOOK_COURSE" in done.stderr


# ------------------------------------------------------------------ read-only in JupyterLab
@pytest.fixture
def manager(course, tmp_path):
    from lossbook.hub.contents import CourseContentsManager

    home = tmp_path / "home"
    prepare_home(course, home)
    return CourseContentsManager(root_dir=str(home))


def _run(coroutine):
    return asyncio.run(coroutine)


def test_lessons_are_read_only_and_the_workspace_is_not(manager):
    from tornado.web import HTTPError

    lesson = _run(manager.get("notebooks/02_mse.ipynb", content=True))
    assert lesson["writable"] is False
    listing = _run(manager.get("notebooks"))
    assert listing["writable"] is False and all(not item["writable"] for item in listing["content"])
    assert _run(manager.get("workspace/02_mse.ipynb", content=False))["writable"] is True

    for attempt in (
        lambda: manager.save(lesson, "notebooks/02_mse.ipynb"),
        lambda: manager.save({"type": "file", "format": "text", "content": "x"}, "exercises/new.txt"),
        lambda: manager.save({"type": "file", "format": "text", "content": "x"},
                             "workspace/../notebooks/sneaky.txt"),
        lambda: manager.delete_file("notebooks/02_mse.ipynb"),
        lambda: manager.delete_file("notebooks"),
        lambda: manager.rename_file("notebooks/02_mse.ipynb", "workspace/mine.ipynb"),
        lambda: manager.rename_file("workspace/02_mse.ipynb", "exercises/02_mse.ipynb"),
        lambda: manager.copy("notebooks/02_mse.ipynb"),               # lands beside the original
        lambda: manager.copy("workspace/02_mse.ipynb", "notebooks"),
    ):
        with pytest.raises(HTTPError) as error:
            _run(attempt())
        assert error.value.status_code == 403 and "workspace/" in error.value.log_message

    # allowed: copying a lesson into the workspace, saving the learner's own notebook
    copied = _run(manager.copy("notebooks/02_mse.ipynb", "workspace"))
    assert copied["path"].startswith("workspace/")
    mine = _run(manager.get("workspace/02_mse.ipynb"))
    _run(manager.save(mine, "workspace/02_mse.ipynb"))


def test_a_symlink_into_the_lessons_is_read_only_too(manager):
    from tornado.web import HTTPError

    home = Path(manager.root_dir)
    (home / "workspace" / "door").symlink_to(home / "notebooks", target_is_directory=True)
    with pytest.raises(HTTPError):
        _run(manager.save({"type": "file", "format": "text", "content": "x"}, "workspace/door/x.txt"))
    assert not (home / "notebooks" / "x.txt").exists()


def test_an_untouched_copy_from_before_a_course_update_is_not_submitted(course, tmp_path):
    """The released version copied into workspace/ is remembered; collect compares with it too."""
    from lossbook.collect import collect

    homes = tmp_path / "homes"
    prepare_home(course, homes / "ana")
    prepare_home(course, homes / "ben")
    worked = homes / "ben" / "workspace" / "02_mse.ipynb"
    notebook = json.loads(worked.read_text())
    notebook["cells"].append({"cell_type": "code", "metadata": {}, "source": "x = 1",
                              "outputs": [], "execution_count": None})
    worked.write_text(json.dumps(notebook))
    # the course updates exercise 02 after both copied it
    exercise = course / "exercises" / "02_mse.ipynb"
    updated = json.loads(exercise.read_text())
    updated["cells"][0]["source"] = "# Exercises, second edition\n"
    exercise.write_text(json.dumps(updated))
    for name in ("ana", "ben"):
        prepare_home(course, homes / name)          # their next start: workspace/ untouched
    report = collect(homes, tmp_path / "out", course / "exercises")
    assert report.ok, report.text()
    assert report.collected == {"ben": ["02_mse"]}
    assert "02_mse" in report.not_submitted["ana"]


def test_the_course_policy_file_reaches_the_learners_workspace_and_theirs_is_kept(course, tmp_path):
    """check reads lossbook-policy.toml from the notebook's folder: workspace/ on the hub too."""
    from lossbook.exercises.forbidden import POLICY_FILE

    policy = '[allow]\nsoftmax = ["scipy.special.softmax"]\n'
    (course / "exercises" / POLICY_FILE).write_text(policy)
    home = tmp_path / "homes" / "ana"
    report = prepare_home(course, home)
    assert (home / "exercises" / POLICY_FILE).read_text() == policy
    assert stat.S_IMODE((home / "exercises" / POLICY_FILE).stat().st_mode) == 0o444
    assert (home / "workspace" / POLICY_FILE).read_text() == policy and POLICY_FILE in report.copied
    assert POLICY_FILE not in json.loads((home / ".lossbook-released.json").read_text())
    # The instructor changes the policy: exercises/ follows, the learner's workspace copy is kept, with a note.
    (course / "exercises" / POLICY_FILE).write_text('[allow]\nsoftmax = true\n')
    report = prepare_home(course, home)
    assert (home / "exercises" / POLICY_FILE).read_text() == '[allow]\nsoftmax = true\n'
    assert (home / "workspace" / POLICY_FILE).read_text() == policy
    assert f"{home / 'workspace' / POLICY_FILE} differs from the course's" in report.text()
