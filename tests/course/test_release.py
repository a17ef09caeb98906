"""`lossbook release`: exercises/ is exactly what release makes from solutions/, and bad input is refused."""
from __future__ import annotations

import ast
import json
import os
import shutil
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from lossbook import exercises
from lossbook import notebook_roles as roles
from lossbook import release
from lossbook.cli import main

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
LESSONS = sorted(path.stem for path in SOLUTIONS.glob("*.ipynb"))


def _read(path: Path):
    return nbformat.read(path, as_version=4)


# --- the committed exercises/ ---------------------------------------------------------------


def test_committed_exercises_are_what_release_produces():
    planned = release.plan(SOLUTIONS, EXERCISES)
    assert [item.target.name for item in planned] == [f"{lesson}.ipynb" for lesson in LESSONS]
    assert release.differences(planned, EXERCISES) == [], "run `lossbook release` and commit exercises/"


@pytest.mark.parametrize("lesson", LESSONS)
def test_released_notebook_has_starters_no_hidden_tests_and_no_outputs(lesson):
    solution, released = _read(SOLUTIONS / f"{lesson}.ipynb"), _read(EXERCISES / f"{lesson}.ipynb")
    assert released.metadata["lossbook"] == {"lesson": lesson}
    assert roles.cells_with_role(released, roles.HIDDEN_TESTS) == []
    # Every other cell is kept, in order, with its id and lossbook metadata.
    kept = [cell for cell in solution.cells if roles.role_of(cell) != roles.HIDDEN_TESTS]
    assert [cell.id for cell in released.cells] == [cell.id for cell in kept]
    for before, after in zip(kept, released.cells):
        assert after.metadata.get("lossbook") == before.metadata.get("lossbook")
        if after.cell_type == "code":
            assert after.outputs == [] and after.execution_count is None
        if roles.role_of(after) not in (roles.ANSWER,):
            assert after.source == before.source
    for _, cell in roles.cells_with_role(released, roles.ANSWER):
        exercise = exercises.get(roles.exercise_of(cell))
        assert cell.source == exercise.starter.strip("\n")
        tree = ast.parse(cell.source)
        (function,) = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
        assert function.name == exercise.name
        last = function.body[-1]
        assert isinstance(last, ast.Raise) and ast.unparse(last.exc) == "NotImplementedError"
    for _, cell in roles.cells_with_role(released, roles.CHECK):
        # released copies store no output, so nbval must not compare one
        assert roles.CHECK_OUTPUT_TAG not in roles.tags_of(cell)


def test_released_answers_run_and_checks_say_not_attempted():
    """What a learner gets before writing anything: every check says "not attempted"."""
    from lossbook import check

    for lesson in LESSONS:
        nb = _read(EXERCISES / f"{lesson}.ipynb")
        for _, cell in roles.cells_with_role(nb, roles.ANSWER):
            namespace = {}
            exec(compile("import numpy as np\n" + cell.source, f"<{lesson} answer>", "exec"), namespace)
            exercise = exercises.get(roles.exercise_of(cell))
            result = check(exercise.id, namespace[exercise.name])
            assert result.status == "not-attempted", (exercise.id, result.message)
            assert not result.passed


@pytest.mark.slow
def test_released_notebooks_execute_and_every_check_output_says_not_attempted(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("LOSSBOOK_PROGRESS_DIR", str(tmp_path / "progress"))
    release.release(SOLUTIONS, tmp_path / "out")
    for lesson in LESSONS:
        nb = _read(tmp_path / "out" / f"{lesson}.ipynb")
        NotebookClient(nb, timeout=120, kernel_name="python3",
                       resources={"metadata": {"path": str(tmp_path / "out")}}).execute()
        checks = roles.cells_with_role(nb, roles.CHECK)
        assert checks
        for _, cell in checks:
            texts = [output.get("data", {}).get("text/plain", "") for output in cell.outputs]
            assert any("not attempted" in text.lower() for text in texts), (lesson, cell.id, cell.outputs)


# --- release on scratch folders ----------------------------------------------------------------


def _answer(exercise_id, source="def f():\n    return 1", **extra):
    cell = new_code_cell(source, id=f"{exercise_id}-answer")
    roles.set_role(cell, roles.ANSWER, exercise_id, **extra)
    return cell


def _check(exercise_id):
    cell = new_code_cell(f'check("{exercise_id}", {exercise_id})', id=f"{exercise_id}-check")
    roles.set_role(cell, roles.CHECK, exercise_id)
    return cell


def _hidden(exercise_id, points=1):
    cell = new_code_cell("from lossbook.canonical import show\nshow(1.5)", id=f"{exercise_id}-hidden")
    roles.set_role(cell, roles.HIDDEN_TESTS, exercise_id, points=points)
    cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1.5\n")]
    cell.execution_count = 3
    return cell


def _mse_notebook(**metadata):
    nb = new_notebook(cells=[new_markdown_cell("# MSE", id="title"), _answer("mse"), _check("mse"), _hidden("mse")],
                      metadata={"lossbook": {"lesson": "02_mse"}, **metadata})
    return nb


def _write(folder: Path, name: str, nb) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    nbformat.write(nb, path)
    return path


def test_release_is_deterministic_idempotent_and_touches_only_changed_files(tmp_path):
    out = tmp_path / "out"
    first = release.release(SOLUTIONS, out)
    assert [path.name for path in first] == [f"{lesson}.ipynb" for lesson in LESSONS]
    contents = {path.name: path.read_bytes() for path in out.iterdir()}
    stamps = {path.name: path.stat().st_mtime_ns for path in out.iterdir()}
    assert release.release(SOLUTIONS, out) == []
    assert {path.name: path.read_bytes() for path in out.iterdir()} == contents
    assert {path.name: path.stat().st_mtime_ns for path in out.iterdir()} == stamps
    # And the same bytes as the committed copies.
    assert contents == {path.name: path.read_bytes() for path in EXERCISES.glob("*.ipynb")}


def test_release_leaves_unrelated_files_alone(tmp_path):
    out = tmp_path / "out"
    out.mkdir()
    (out / "README.md").write_text("mine")
    (out / "99_extra.ipynb").write_text("{not even json")
    release.release(SOLUTIONS, out)
    assert (out / "README.md").read_text() == "mine"
    assert (out / "99_extra.ipynb").read_text() == "{not even json"
    assert not [path for path in out.iterdir() if path.name.endswith(".tmp")]


def test_starter_metadata_wins_over_the_registry(tmp_path):
    starter = 'def mse(y_true, y_pred):\n    """Your turn."""\n    raise NotImplementedError("write mse")\n'
    nb = _mse_notebook()
    nb.cells[1] = _answer("mse", starter=starter)
    _write(tmp_path / "sol", "02_mse.ipynb", nb)
    release.release(tmp_path / "sol", tmp_path / "out")
    released = _read(tmp_path / "out" / "02_mse.ipynb")
    assert released.cells[1].source == starter.rstrip("\n")
    assert released.cells[1].metadata["lossbook"]["starter"] == starter
    assert [roles.role_of(cell) for cell in released.cells] == [None, roles.ANSWER, roles.CHECK]


def test_release_does_not_change_the_solution_notebook_in_memory():
    nb = _mse_notebook()
    before = json.dumps(nb, sort_keys=True)
    release.release_notebook(nb)
    assert json.dumps(nb, sort_keys=True) == before


def test_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path, monkeypatch):
    out = tmp_path / "out"
    out.mkdir()
    (out / "01_loss_vs_cost.ipynb").write_text("old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="disk full"):
        release.release(SOLUTIONS, out)
    assert (out / "01_loss_vs_cost.ipynb").read_text() == "old"
    assert sorted(path.name for path in out.iterdir()) == ["01_loss_vs_cost.ipynb"]


# --- the command line ---------------------------------------------------------------------------


def test_cli_release_then_check(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["release", "--solutions", str(SOLUTIONS), "--out", str(out)]) == 0
    assert f"{len(LESSONS)} written" in capsys.readouterr().out
    assert main(["release", "--solutions", str(SOLUTIONS), "--out", str(out), "--check"]) == 0
    assert "up to date" in capsys.readouterr().out


def test_cli_check_lists_differences_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out"
    shutil.copytree(EXERCISES, out)
    stale = out / f"{LESSONS[0]}.ipynb"
    nb = _read(stale)
    answer_index, answer = roles.cells_with_role(nb, roles.ANSWER)[0]
    answer.source = "def cheat(): pass"
    nbformat.write(nb, stale)
    (out / f"{LESSONS[1]}.ipynb").unlink()
    (out / "99_orphan.ipynb").write_text("{}")
    before = {path.name: path.read_bytes() for path in out.iterdir()}

    assert main(["release", "--solutions", str(SOLUTIONS), "--out", str(out), "--check"]) == 1
    err = capsys.readouterr().err
    assert f"{LESSONS[0]}.ipynb: differs in cell {answer_index} (source)" in err
    assert f"{LESSONS[1]}.ipynb: missing" in err
    assert "99_orphan.ipynb: not produced by release" in err
    assert "run `lossbook release`" in err
    assert {path.name: path.read_bytes() for path in out.iterdir()} == before


# --- refusals -------------------------------------------------------------------------------------


def _refusal(tmp_path, capsys, nb, name="02_mse.ipynb"):
    """Release a folder holding ``nb``: exit status 2, nothing written; returns stderr."""
    _write(tmp_path / "sol", name, nb)
    out = tmp_path / "out"
    assert main(["release", "--solutions", str(tmp_path / "sol"), "--out", str(out)]) == 2
    assert not out.exists()
    return capsys.readouterr().err


def test_refuses_notebook_without_lesson(tmp_path, capsys):
    nb = _mse_notebook()
    del nb.metadata["lossbook"]
    err = _refusal(tmp_path, capsys, nb)
    assert "02_mse.ipynb: no lesson id" in err and '"lossbook": {"lesson"' in err


def test_refuses_answer_without_exercise_id(tmp_path, capsys):
    nb = _mse_notebook()
    nb.cells.insert(1, new_code_cell("def g(): pass", metadata={"lossbook": {"role": "answer"}}))
    err = _refusal(tmp_path, capsys, nb)
    assert "cell 1: answer cell without an exercise id" in err


def test_refuses_unknown_exercise(tmp_path, capsys):
    nb = _mse_notebook()
    nb.cells += [_answer("mse_typo"), _check("mse_typo")]
    err = _refusal(tmp_path, capsys, nb)
    assert "exercise 'mse_typo' is not in the exercise registry" in err


def test_refuses_exercise_without_check(tmp_path, capsys):
    nb = _mse_notebook()
    del nb.cells[2]
    err = _refusal(tmp_path, capsys, nb)
    assert "exercise 'mse': 0 check cells" in err


def test_refuses_check_before_answer_and_duplicate_answers(tmp_path, capsys):
    nb = _mse_notebook()
    nb.cells = [nb.cells[2], nb.cells[1], _answer("mse")]
    nb.cells[2].id = "mse-answer-2"
    err = _refusal(tmp_path, capsys, nb)
    assert "exercise 'mse': 2 answer cells" in err
    assert "check cell 0 comes before answer cell 1" in err


def test_refuses_exercise_of_another_lesson(tmp_path, capsys):
    nb = _mse_notebook()
    nb.cells += [_answer("cost"), _check("cost")]
    err = _refusal(tmp_path, capsys, nb)
    assert "exercise 'cost' belongs to lesson '01_loss_vs_cost', not to this notebook's lesson '02_mse'" in err


def test_refuses_file_named_unlike_its_lesson(tmp_path, capsys):
    err = _refusal(tmp_path, capsys, _mse_notebook(), name="02_msee.ipynb")
    assert "name it 02_mse.ipynb" in err


def test_refuses_bad_starter_and_bad_points(tmp_path, capsys):
    nb = _mse_notebook()
    nb.cells[1] = _answer("mse", starter="def mse(y_true, y_pred):\n    pass\n")
    nb.cells[3].metadata["lossbook"]["points"] = 0
    err = _refusal(tmp_path, capsys, nb)
    assert "starter code must end in `raise NotImplementedError`" in err
    assert "hidden-tests cell without valid points (got 0)" in err


def test_refuses_unreadable_notebook_and_reports_every_problem(tmp_path, capsys):
    (tmp_path / "sol").mkdir()
    (tmp_path / "sol" / "01_loss_vs_cost.ipynb").write_text("{not json")
    nb = _mse_notebook()
    del nb.metadata["lossbook"]
    err = _refusal(tmp_path, capsys, nb)
    assert "01_loss_vs_cost.ipynb: not a readable notebook" in err
    assert "02_mse.ipynb: no lesson id" in err


def test_refuses_empty_or_missing_folder_and_out_equal_to_solutions(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["release", "--solutions", str(tmp_path / "empty"), "--out", str(tmp_path / "out")]) == 2
    assert "no notebooks" in capsys.readouterr().err
    assert main(["release", "--solutions", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out")]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["release", "--solutions", str(SOLUTIONS), "--out", str(SOLUTIONS)]) == 2
    assert "would overwrite the solutions" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_one_bad_notebook_means_nothing_is_written(tmp_path, capsys):
    shutil.copytree(SOLUTIONS, tmp_path / "sol")
    nb = _read(tmp_path / "sol" / f"{LESSONS[-1]}.ipynb")
    del nb.metadata["lossbook"]
    nbformat.write(nb, tmp_path / "sol" / f"{LESSONS[-1]}.ipynb")
    assert main(["release", "--solutions", str(tmp_path / "sol"), "--out", str(tmp_path / "out")]) == 2
    assert not (tmp_path / "out").exists()


# --- notebook_roles, the helpers release and the grader share -------------------------------------


def test_roles_problems_name_each_mistake():
    nb = _mse_notebook()
    nb.cells.append(new_markdown_cell("x", metadata={"lossbook": {"role": "answer", "exercise": "mae"}}))
    nb.cells.append(new_code_cell("x", metadata={"lossbook": {"role": "solution", "exercise": "mae"}}))
    nb.cells[2].metadata["tags"] = []
    for points in (True, -1, "2"):
        nb.cells[3].metadata["lossbook"]["points"] = points
        found = roles.problems(nb)
        assert f"cell 3: hidden-tests cell without valid points (got {points!r})" in found[1]
    assert found[0] == "cell 2: check cell not tagged 'nbval-check-output'; add the tag so nbval compares its output"
    assert "cell 4: a answer cell must be a code cell, not 'markdown'" in found
    assert "cell 5: unknown role 'solution'; use one of answer, check, hidden-tests" in found
    assert "exercise 'mae': 0 check cells (cells []); need exactly one" in found


def test_roles_lookups_on_a_solution_notebook():
    nb = nbformat.read(SOLUTIONS / "03_mae_huber.ipynb", as_version=4)
    cells = roles.exercise_cells(nb)
    assert list(cells) == ["mae", "mae_grad", "huber", "huber_grad"]
    for exercise, where in cells.items():
        assert [roles.role_of(nb.cells[i]) for i in where.answers + where.checks] == [roles.ANSWER, roles.CHECK]
        assert all(roles.exercise_of(nb.cells[i]) == exercise for i in where.hidden_tests)
    points = roles.points_by_exercise(nb)
    assert set(points) == set(cells) and all(value >= 1 for value in points.values())
    cell = {"metadata": {"tags": ["keep"]}}
    roles.set_role(cell, roles.HIDDEN_TESTS, "mae", points=2)
    assert cell["metadata"] == {"tags": ["keep"], "lossbook": {"role": "hidden-tests", "exercise": "mae", "points": 2}}
    with pytest.raises(ValueError, match="role must be one of"):
        roles.set_role({"metadata": {}}, "solution", "mae")


def test_a_withdrawn_policy_file_is_named_by_check_and_the_release_note(tmp_path, capsys):
    """The policy relaxes check in the learners' copies: one left behind is listed, never kept silently."""
    from lossbook.exercises.forbidden import POLICY_FILE

    solutions, out = tmp_path / "solutions", tmp_path / "exercises"
    solutions.mkdir()
    shutil.copyfile(SOLUTIONS / "02_mse.ipynb", solutions / "02_mse.ipynb")
    (solutions / POLICY_FILE).write_text('[allow]\nmse = true\n')
    assert main(["release", "--solutions", str(solutions), "--out", str(out)]) == 0
    assert (out / POLICY_FILE).read_text() == '[allow]\nmse = true\n'
    assert main(["release", "--solutions", str(solutions), "--out", str(out), "--check"]) == 0
    (solutions / POLICY_FILE).unlink()
    capsys.readouterr()
    assert main(["release", "--solutions", str(solutions), "--out", str(out), "--check"]) == 1
    assert f"{out / POLICY_FILE}: not produced by release (no library policy file {POLICY_FILE})" in \
        capsys.readouterr().err
    assert main(["release", "--solutions", str(solutions), "--out", str(out)]) == 0
    assert f"note: {out / POLICY_FILE} is no longer in the solutions" in capsys.readouterr().out
    assert (out / POLICY_FILE).is_file()  # left alone: the instructor deletes it
