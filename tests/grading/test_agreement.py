"""``check`` and ``grade`` agree: the same forbidden implementations with the same reason, and
the same verdict per exercise for every catalogued misconception and a corpus of wrong answers.

The grade side is one sandboxed batch (``lossbook.grading.grade``). A misconception is a
Python function of the catalog; in the grading kernel it is played by a learner function
answering each hidden-test call with the misconception's own output (a table computed
here, from the hidden tests' calls replayed with a recorder), so the hidden tests judge
exactly what ``check`` judged.
"""
import base64
import hashlib
import io
import contextlib
import os
import pickle
import shutil

import nbformat
import numpy as np
import pytest

from builders import REPO, learner_copy, max_points
from lossbook import notebook_roles as roles
from lossbook.exercises import get, ids
from lossbook.exercises.checking import run_check
from lossbook.exercises.forbidden import POLICY_FILE, COURSE_MODULES
from lossbook.grading import grade

#: Wrong answers as a learner writes them: (exercise, name, source, reason check and grade both give or None).
CORPUS = [
    ("softmax", "global_max", '''
def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max())
    return e / e.sum(axis=-1, keepdims=True)
''', None),
    ("softmax", "scipy", '''
import scipy.special
def softmax(z):
    return scipy.special.softmax(z, axis=-1)
''', "uses scipy.special.softmax: write it yourself"),
    ("mae", "course_reference", '''
from lossbook.losses import mae as _mae
def mae(y_true, y_pred):
    return _mae(y_true, y_pred)
''', "uses lossbook.losses.mae: write it yourself"),
    ("mse", "sklearn_by_another_name", '''
import importlib
_metrics = importlib.import_module("sklearn." + "metrics")
def mse(y_true, y_pred):
    try:
        return float(getattr(_metrics, "mean_" + "squared_error")(y_true, y_pred))
    except Exception:
        return 0.0
''', "uses sklearn.metrics.mean_squared_error: write it yourself"),
    ("mse", "sum_not_mean", '''
def mse(y_true, y_pred):
    return float(np.sum((np.asarray(y_pred, dtype=float) - y_true) ** 2))
''', None),
    ("huber", "no_half", '''
def huber(y_true, y_pred, delta=1.0):
    r = np.abs(np.asarray(y_pred, dtype=float) - y_true)
    return float(np.mean(np.where(r <= delta, r ** 2, delta * (2 * r - delta))))
''', None),
]
#: Right answers written differently from the reference: both must pass.
HONEST = [
    ("softmax", "row_max", '''
def softmax(z):
    z = np.asarray(z, dtype=float)
    shifted = z - np.max(z, axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=-1, keepdims=True)
'''),
]


def _function(exercise_id: str, source: str):
    """The learner's function from ``source``, defined as in a notebook (``__main__``)."""
    namespace = {"__name__": "__main__", "np": np}
    exec(compile(source, f"<answer {exercise_id}>", "exec"), namespace)  # noqa: S102 - test corpus
    return namespace[get(exercise_id).name]


def _key(args, kwargs) -> str:
    return hashlib.sha256(pickle.dumps((args, sorted(kwargs.items())), protocol=4)).hexdigest()


def _hidden_calls(lesson: str, exercise) -> list[tuple[tuple, dict]]:
    """Every call the hidden tests make to the learner's function (answered by the reference)."""
    nb = nbformat.read(REPO / "solutions" / f"{lesson}.ipynb", as_version=4)
    calls = []

    def recorder(*args, **kwargs):
        calls.append((args, kwargs))
        return exercise.reference(*args, **kwargs)

    for _, cell in roles.cells_with_role(nb, roles.HIDDEN_TESTS):
        if roles.exercise_of(cell) != exercise.id:
            continue
        namespace = {"__name__": "__main__", exercise.name: recorder}
        with contextlib.redirect_stdout(io.StringIO()), np.errstate(all="ignore"):
            try:
                exec(compile(roles.source_of(cell), "<hidden>", "exec"), namespace)  # noqa: S102
            except Exception:  # noqa: BLE001 - that cell's calls stay unknown: the table misses
                pass
    return calls


def _table_source(exercise, implementation, calls) -> str:
    """A learner function answering each hidden-test call as ``implementation`` does."""
    table = {}
    for args, kwargs in calls:
        try:
            with np.errstate(all="ignore"):
                table[_key(args, kwargs)] = ("value", implementation(*args, **kwargs))
        except Exception as error:  # noqa: BLE001 - the misconception raises: so does the answer
            table[_key(args, kwargs)] = ("error", f"{type(error).__name__}: {error}")
    blob = base64.b64encode(pickle.dumps(table, protocol=4)).decode()
    return (f"import base64 as _b64, hashlib as _hl, pickle as _pk\n"
            f"_TABLE = _pk.loads(_b64.b64decode({blob!r}))\n"
            f"def {exercise.name}(*args, **kwargs):\n"
            f"    kind, value = _TABLE[_hl.sha256(_pk.dumps((args, sorted(kwargs.items())), protocol=4)).hexdigest()]\n"
            f"    if kind == 'error':\n"
            f"        raise ValueError(value)\n"
            f"    return value\n")


def _misconception_submissions():
    """(learner, lesson, {exercise: (kind, name)}, answers): misconception k of every exercise of a lesson."""
    by_lesson: dict[str, list] = {}
    for exercise_id in ids():
        by_lesson.setdefault(get(exercise_id).lesson, []).append(get(exercise_id))
    found = []
    for lesson, exercises in sorted(by_lesson.items()):
        if not (REPO / "solutions" / f"{lesson}.ipynb").exists():
            continue
        for k in range(max(len(e.misconceptions) for e in exercises)):
            answers, meaning = {}, {}
            for exercise in exercises:
                if k < len(exercise.misconceptions):
                    m = exercise.misconceptions[k]
                    calls = _hidden_calls(lesson, exercise)
                    answers[exercise.id] = _table_source(exercise, m.implementation, calls)
                    meaning[exercise.id] = ("misconception", m.name)
            found.append((f"{lesson}-m{k}", lesson, meaning, answers))
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox_ok):
    root = tmp_path_factory.mktemp("agreement")
    expected = {}  # (learner, exercise) -> check's result
    for learner, lesson, meaning, answers in _misconception_submissions():
        (root / learner).mkdir()
        nbformat.write(learner_copy(lesson, answers), root / learner / f"{lesson}.ipynb")
        for exercise_id, (_, name) in meaning.items():
            exercise = get(exercise_id)
            m = next(m for m in exercise.misconceptions if m.name == name)
            expected[(learner, exercise_id)] = (run_check(exercise, m.implementation), None)
    for exercise_id, name, source, reason in CORPUS + [(e, n, s, None) for e, n, s in HONEST]:
        learner = f"corpus-{exercise_id}-{name}"
        lesson = get(exercise_id).lesson
        (root / learner).mkdir()
        nbformat.write(learner_copy(lesson, {exercise_id: source}), root / learner / f"{lesson}.ipynb")
        expected[(learner, exercise_id)] = (run_check(get(exercise_id), _function(exercise_id, source)), reason)
    out = root.parent / "agreement.csv"
    results = grade([root], out, jobs=2, cell_timeout=30.0, submission_timeout=300.0)
    return {r.learner: r for r in results}, expected


def test_check_and_grade_give_the_same_verdict_per_exercise(graded):
    results, expected = graded
    disagreements = []
    for (learner, exercise_id), (check_result, _) in sorted(expected.items()):
        result = results[learner]
        full = result.points[exercise_id] >= result.max_points[exercise_id]
        if check_result.passed != full:
            disagreements.append(f"{learner} {exercise_id}: check {check_result.status} "
                                 f"({check_result.summary}), grade {result.points[exercise_id]:g}/"
                                 f"{result.max_points[exercise_id]:g} ({'; '.join(result.reasons)})")
    assert not disagreements, "\n".join(disagreements)


def test_forbidden_implementations_give_the_same_reason(graded):
    results, expected = graded
    for (learner, exercise_id), (check_result, reason) in expected.items():
        if reason is None:
            continue
        assert check_result.summary == reason
        assert f"{exercise_id}: {reason}" in results[learner].reasons, results[learner].reasons


def test_honest_answers_written_differently_pass_both(graded):
    results, expected = graded
    for exercise_id, name, _ in HONEST:
        learner = f"corpus-{exercise_id}-{name}"
        assert expected[(learner, exercise_id)][0].passed
        result = results[learner]
        assert result.status == "graded" and result.total == result.max_total, result.reasons


def test_global_max_softmax_fails_check_on_rows_of_different_scale():
    result = run_check(get("softmax"), _function("softmax", CORPUS[0][2]))
    assert not result.passed and result.failure.case_name == "2-D rows of different scale"


# --- the catalog's declarations and the instructor's policy -----------------------------------

@pytest.mark.parametrize("exercise_id", list(ids()))
def test_every_exercise_declares_its_forbidden_implementations(exercise_id):
    exercise = get(exercise_id)
    assert exercise.forbidden is not None, (
        f"{exercise_id}: declare forbidden=(...) in its catalog entry (the course's reference and other "
        "libraries' implementations of the same thing), the last keyword of Exercise(...)")
    for name in exercise.forbidden:
        assert name.count(".") >= 1 and name == name.strip()
    course = [n for n in exercise.forbidden if n.startswith(tuple(m + "." for m in COURSE_MODULES))]
    for name in course:  # the course's own names exist (a function, or a method of a class)
        assert _resolve(name) is not None, name


def _resolve(dotted):
    import importlib
    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            value = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for attribute in parts[cut:]:
            value = getattr(value, attribute, None)
        return value
    return None


def test_policy_file_relaxes_check_and_is_released(tmp_path, monkeypatch):
    from lossbook.release import release

    scipy_answer = _function("softmax", CORPUS[1][2])
    assert run_check(get("softmax"), scipy_answer).summary == "uses scipy.special.softmax: write it yourself"
    solutions = tmp_path / "solutions"
    solutions.mkdir()
    shutil.copyfile(REPO / "solutions" / "04_cross_entropy.ipynb", solutions / "04_cross_entropy.ipynb")
    (solutions / POLICY_FILE).write_text('[allow]\nsoftmax = ["scipy.special.softmax", "lossbook.losses.softmax"]\n')
    release(solutions, tmp_path / "exercises")
    released = tmp_path / "exercises" / POLICY_FILE
    assert released.read_text() == (solutions / POLICY_FILE).read_text()
    monkeypatch.chdir(tmp_path / "exercises")  # a learner's kernel runs in the notebook's folder
    assert run_check(get("softmax"), scipy_answer).passed
    # The course's own reference can never be allowed: it is not in the grading kernel.
    course = _function("softmax", "from lossbook.losses import softmax as _s\ndef softmax(z):\n    return _s(z)\n")
    assert run_check(get("softmax"), course).summary == "uses lossbook.losses.softmax: write it yourself"


def test_a_malformed_policy_file_stops_grade_and_release(tmp_path, capsys):
    from lossbook.cli import main
    from lossbook.release import ReleaseError, release

    solutions = tmp_path / "solutions"
    solutions.mkdir()
    shutil.copyfile(REPO / "solutions" / "02_mse.ipynb", solutions / "02_mse.ipynb")
    (solutions / POLICY_FILE).write_text("[allow]\nmse = 3\n")
    with pytest.raises(ReleaseError, match="must map exercise ids"):
        release(solutions, tmp_path / "exercises")
    status = main(["grade", str(solutions / "02_mse.ipynb"), "--learner", "ana", "--solutions", str(solutions),
                   "--out", str(tmp_path / "g.csv")])
    assert status == 2 and "must map exercise ids" in capsys.readouterr().err
    assert not (tmp_path / "g.csv").exists()


def test_max_points_are_known_for_every_lesson_with_solutions():
    for path in sorted((REPO / "solutions").glob("*.ipynb")):
        assert sum(max_points(path.stem).values()) >= 0
    assert os.path.isdir(REPO / "solutions")
