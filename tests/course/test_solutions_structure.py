"""solutions/: one notebook per lesson, every exercise of the registry with its answer, check and hidden tests.

The hidden tests are checked the way the grader will use them: their stored outputs are
what the reference prints, also what the registry's own solution prints (any correct
implementation prints the same text), and every known misconception prints something else.
"""
from __future__ import annotations

import ast
import contextlib
import io
import re
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lossbook import exercises
from lossbook import notebook_roles as roles

ROOT = Path(__file__).resolve().parents[2]
SOLUTIONS = ROOT / "solutions"

BY_LESSON: dict[str, list] = {}
for _exercise in exercises.EXERCISES:
    BY_LESSON.setdefault(_exercise.lesson, []).append(_exercise)
LESSONS = sorted(BY_LESSON)
ALL = [exercise for lesson in LESSONS for exercise in BY_LESSON[lesson]]
IMPORTS = "import numpy as np\nfrom lossbook import check, hint, solution, progress"


def _notebook(lesson):
    return nbformat.read(SOLUTIONS / f"{lesson}.ipynb", as_version=4)


def _cells(exercise):
    """(notebook, answer cell, check cell, hidden-test cells) of one exercise."""
    nb = _notebook(exercise.lesson)
    (_, answer), = roles.cells_with_role(nb, roles.ANSWER, exercise.id)
    (_, check), = roles.cells_with_role(nb, roles.CHECK, exercise.id)
    hidden = [cell for _, cell in roles.cells_with_role(nb, roles.HIDDEN_TESTS, exercise.id)]
    return nb, answer, check, hidden


def _stdout(cell) -> str:
    return "".join(output.get("text", "") for output in cell.outputs
                   if output.get("output_type") == "stream" and output.get("name") == "stdout")


def _run_hidden(cell, name, function) -> str:
    """What a hidden-test cell prints with ``function`` as the learner's answer (or the error)."""
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed), warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            exec(compile(cell.source, f"<hidden tests of {name}>", "exec"), {name: function})
    except Exception as error:  # a wrong implementation may raise: that is a different output
        return f"{printed.getvalue()}<{type(error).__name__}>"
    return printed.getvalue()


# --- the notebooks as a whole ------------------------------------------------------------------------


def test_one_solution_notebook_per_lesson_with_exercises():
    assert sorted(path.stem for path in SOLUTIONS.glob("*.ipynb")) == LESSONS
    assert LESSONS == ["01_loss_vs_cost", "02_mse", "03_mae_huber", "04_cross_entropy", "05_hinge",
                       "06_regularization", "07_choosing_a_loss", "08_beyond", "09_training_networks",
                       "10_imbalance_calibration", "11_embeddings"]


@pytest.mark.parametrize("lesson", LESSONS)
def test_notebook_layout(lesson):
    nb = _notebook(lesson)
    assert roles.lesson_of(nb) == lesson
    assert roles.problems(nb) == []
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert code[0].source == IMPORTS
    assert nb.cells[0].cell_type == "markdown" and f"../notebooks/{lesson}.ipynb" in nb.cells[0].source
    # Exactly the registry's exercises of this lesson, in its order.
    assert list(roles.exercise_cells(nb)) == [exercise.id for exercise in BY_LESSON[lesson]]


@pytest.mark.parametrize("lesson", LESSONS)
def test_outputs_are_stored_and_clean(lesson):
    """Executed top to bottom (tools.run_notebooks), no errors, nothing on stderr."""
    nb = _notebook(lesson)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    assert [cell.execution_count for cell in code] == list(range(1, len(code) + 1))
    for cell in code:
        for output in cell.outputs:
            assert output.output_type != "error", (cell.id, output)
            assert not (output.output_type == "stream" and output.name == "stderr"), (cell.id, output.text)


# --- each exercise --------------------------------------------------------------------------------


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
def test_exercise_has_statement_answer_check_and_hidden_tests(exercise):
    nb, answer, check, hidden = _cells(exercise)
    index = nb.cells.index(answer)
    statement = nb.cells[index - 1]
    assert statement.cell_type == "markdown" and f"`{exercise.id}`" in statement.source and "$" in statement.source
    assert check.source == f'check("{exercise.id}", {exercise.name})'
    assert roles.CHECK_OUTPUT_TAG in roles.tags_of(check)
    assert nb.cells.index(check) == index + 1
    assert hidden and all(isinstance(roles.points_of(cell), int) for cell in hidden)
    assert [nb.cells.index(cell) for cell in hidden] == list(range(index + 2, index + 2 + len(hidden)))


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
def test_answer_is_a_real_numpy_implementation(exercise):
    """The solution is written out, not borrowed from lossbook's references."""
    _, answer, _, _ = _cells(exercise)
    tree = ast.parse(answer.source)
    imports = [node for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert imports == [], "answer cells use the notebook's `np`; no imports (numpy only)"
    names = {node.id for node in ast.walk(tree) if isinstance(node, ast.Name)}
    assert not names & {"lossbook", "check", "hint", "solution", "progress", "__import__", "importlib", "exec", "eval"}
    assert "lossbook" not in answer.source
    (function,) = [node for node in tree.body if isinstance(node, ast.FunctionDef)]
    expected = ast.parse(f"{exercise.signature}\n    pass").body[0]
    assert function.name == exercise.name
    assert ast.dump(function.args) == ast.dump(expected.args), "signature differs from the exercise's"
    assert any(isinstance(node, ast.Return) for node in ast.walk(function))
    assert not any(isinstance(node, ast.Raise) and "NotImplementedError" in ast.unparse(node) for node in ast.walk(function))


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
def test_stored_check_output_says_passed(exercise):
    _, _, check, _ = _cells(exercise)
    (result,) = [output for output in check.outputs if output.output_type == "execute_result"]
    assert set(result.data) == {"text/plain"}, "the verdict's text is stored (and compared), not its HTML"
    verdict = result.data["text/plain"].splitlines()[0]
    assert re.match(r"\W*passed\b", verdict, re.IGNORECASE), verdict
    assert not re.search(r"\b(failed|not attempted)\b", result.data["text/plain"], re.IGNORECASE)


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
def test_hidden_tests_are_self_contained_and_print_computed_values(exercise):
    _, _, _, hidden = _cells(exercise)
    for cell in hidden:
        tree = ast.parse(cell.source)
        imports = [ast.unparse(node) for node in ast.walk(tree) if isinstance(node, (ast.Import, ast.ImportFrom))]
        assert imports == ["import numpy as np", "from lossbook.canonical import show"]
        calls = [node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)]
        assert exercise.name in calls and "show" in calls and "print" not in calls
        assert "check(" not in cell.source
        # Every value shown comes from a call, never a constant.
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "show":
                assert node.args and not any(isinstance(arg, ast.Constant) for arg in node.args)
        # only printed text (the kernel may deliver it in several chunks; nbval joins them)
        assert {(output.output_type, output.get("name")) for output in cell.outputs} == {("stream", "stdout")}
        printed = _stdout(cell)
        assert printed and re.search(r"\d", printed)


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
def test_hidden_outputs_are_what_any_correct_implementation_prints(exercise):
    _, answer, _, hidden = _cells(exercise)
    namespace = {"np": np}
    exec(exercise.solution, namespace)
    registry_solution = namespace[exercise.name]
    namespace = {"np": np}
    exec(answer.source, namespace)
    notebook_answer = namespace[exercise.name]
    for cell in hidden:
        expected = _stdout(cell)
        assert _run_hidden(cell, exercise.name, exercise.reference) == expected, "reference"
        assert _run_hidden(cell, exercise.name, registry_solution) == expected, "registry solution"
        assert _run_hidden(cell, exercise.name, notebook_answer) == expected, "notebook answer"


def _same_inputs(args, kwargs, case) -> bool:
    if len(args) != len(case.args) or dict(kwargs) != dict(case.kwargs):
        return False
    return all(_same_value(a, b) for a, b in zip(args, case.args))


def _same_value(a, b) -> bool:
    if isinstance(a, dict) or isinstance(b, dict):      # e.g. a dict of parameter arrays
        return isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys() and all(
            _same_value(a[k], b[k]) for k in a)
    return np.shape(a) == np.shape(b) and np.array_equal(np.asarray(a, dtype=float), np.asarray(b, dtype=float))


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
def test_hidden_inputs_are_not_the_check_cases(exercise):
    """What the learner's check shows them must not be what grades them."""
    _, _, _, hidden = _cells(exercise)
    calls = []

    def recording_reference(*args, **kwargs):
        calls.append((args, kwargs))
        return exercise.reference(*args, **kwargs)

    for cell in hidden:
        _run_hidden(cell, exercise.name, recording_reference)
    assert calls
    for args, kwargs in calls:
        assert not any(_same_inputs(args, kwargs, case) for case in exercise.cases), (args, kwargs)


def _scaled(value, factor):
    if isinstance(value, tuple):
        return tuple(_scaled(item, factor) for item in value)
    if isinstance(value, dict):
        return {key: _scaled(item, factor) for key, item in value.items()}
    return np.asarray(value, dtype=float) * factor


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
@pytest.mark.parametrize("factor", [1 - 1e-9, 1 + 1e-9])
def test_hidden_inputs_are_far_from_rounding_boundaries(exercise, factor):
    """An answer off by a relative 1e-9 (far more than rounding differences between correct
    implementations) prints the same text: no printed value sits near a rounding boundary."""
    _, _, _, hidden = _cells(exercise)

    def nearly_the_reference(*args, **kwargs):
        return _scaled(exercise.reference(*args, **kwargs), factor)

    for cell in hidden:
        assert _run_hidden(cell, exercise.name, nearly_the_reference) == _stdout(cell)


@pytest.mark.parametrize("exercise", ALL, ids=lambda e: e.id)
def test_hidden_tests_catch_every_misconception_and_the_starter(exercise):
    _, _, _, hidden = _cells(exercise)
    namespace = {"np": np}
    exec(exercise.starter, namespace)
    wrong = [("starter", namespace[exercise.name])]
    wrong += [(m.name, m.implementation) for m in exercise.misconceptions]
    for name, implementation in wrong:
        outputs = [_run_hidden(cell, exercise.name, implementation) for cell in hidden]
        assert outputs != [_stdout(cell) for cell in hidden], f"hidden tests do not catch misconception {name!r}"
