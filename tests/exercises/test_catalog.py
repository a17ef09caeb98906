"""Every exercise: the data is complete, the reference and the stored solution pass,
wrong implementations fail, every named misconception is diagnosed, the starter is
"not attempted"."""
from __future__ import annotations

import difflib
import inspect
import re

import numpy as np
import pytest

import lossbook.exercises as ex
from lossbook.exercises.checking import run_check

LESSONS = ("01_loss_vs_cost", "02_mse", "03_mae_huber", "04_cross_entropy", "05_hinge",
           "06_regularization", "07_choosing_a_loss", "08_beyond", "09_training_networks",
           "10_imbalance_calibration", "11_embeddings")
EXPECTED_IDS = {
    "01_loss_vs_cost": ["squared_errors", "cost"],
    "02_mse": ["mse", "mse_grad"],
    "03_mae_huber": ["mae", "mae_grad", "huber", "huber_grad"],
    "04_cross_entropy": ["binary_cross_entropy", "binary_cross_entropy_with_logits", "bce_with_logits_grad",
                         "softmax", "softmax_cross_entropy", "softmax_cross_entropy_grad"],
    "05_hinge": ["hinge", "hinge_grad", "multiclass_hinge", "multiclass_hinge_grad"],
    "06_regularization": ["l1_penalty", "l2_penalty", "regularized_cost", "soft_threshold"],
    "07_choosing_a_loss": ["gradient_descent_step", "choose_loss"],
    "08_beyond": ["quantile", "log_cosh", "label_smoothing_cross_entropy"],
    "10_imbalance_calibration": ["weighted_bce_with_logits", "focal_loss_with_logits",
                                 "expected_calibration_error"],
    "11_embeddings": ["contrastive_loss", "triplet_loss", "info_nce", "kl_divergence"],
    "09_training_networks": ["linear_softmax_grad", "mlp_forward_backward"],
}
EXERCISES = ex.EXERCISES
IDS = [e.id for e in EXERCISES]


#: Every check below runs twice: in-process (the fast lane, ``pytest -m "not slow"``: no fork
#: of this large test process per check) and in a forked child, as learners get it (``slow``,
#: run by ``make test``). The catalog entries checked and the assertions are the same.
@pytest.fixture(params=["inprocess", pytest.param("fork", marks=pytest.mark.slow)])
def isolation(request):
    return request.param


#: Exercises whose every check costs about a second of CPU (choose_loss: 8 data sets x 3 losses
#: x 300 descent steps of the learner's function under the forbidden-call profile hook; the
#: diagnosis remembers the catalog's own outputs, so it is cheap after the first check): the
#: tests that run several wrong answers through them are ``slow``.
HEAVY = {"choose_loss"}
SEVERAL_CHECKS = [pytest.param(e, id=e.id, marks=pytest.mark.slow) if e.id in HEAVY else pytest.param(e, id=e.id)
                  for e in EXERCISES]


def _define(code: str, name: str):
    namespace = {"np": np}
    exec(compile(code, f"<{name}>", "exec"), namespace)  # noqa: S102 - the catalog's own code
    return namespace[name]


def test_registry_is_the_issue_table_in_lesson_order():
    assert {lesson: [e.id for e in exs] for lesson, exs in ex.by_lesson().items()} == EXPECTED_IDS
    assert [e.lesson for e in EXERCISES] == sorted(e.lesson for e in EXERCISES)
    assert list(ex.by_lesson()) == list(LESSONS)


def test_unknown_id_lists_valid_ids_and_suggests_the_closest():
    with pytest.raises(KeyError) as info:
        ex.get("mse_grd")
    message = str(info.value)
    assert "did you mean 'mse_grad'?" in message
    assert all(i in message for i in IDS)
    with pytest.raises(ValueError):
        ex.get("no-such-exercise")
    with pytest.raises(TypeError, match="must be a string"):
        ex.get(3)


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_exercise_data_is_complete(exercise):
    assert exercise.title and exercise.docstring and exercise.params
    assert len(exercise.hints) >= 2, "hints go from a nudge to nearly the answer"
    assert len(exercise.misconceptions) >= 2
    assert len({m.message for m in exercise.misconceptions}) == len(exercise.misconceptions)
    assert len(exercise.cases) >= 6
    assert len({c.name for c in exercise.cases}) == len(exercise.cases), "case names identify the failing case"
    assert exercise.signature == f"def {exercise.name}({exercise.params}):"
    assert exercise.rtol <= 1e-5


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_starter_is_valid_code_and_not_attempted(exercise, isolation):
    starter = exercise.starter
    assert starter.startswith(exercise.signature + "\n")
    assert starter.rstrip().endswith("raise NotImplementedError")
    fn = _define(starter, exercise.name)
    assert inspect.getdoc(fn) == inspect.cleandoc(exercise.docstring)
    result = run_check(exercise, fn, isolation=isolation)
    assert result.status == "not-attempted" and not result.passed
    assert "not attempted" in result.message


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_reference_passes(exercise, isolation):
    result = run_check(exercise, exercise.reference, isolation=isolation)
    assert result.status == "passed", result.message
    assert result.n_passed == result.n_total == len(exercise.cases)


@pytest.mark.parametrize("exercise", EXERCISES, ids=IDS)
def test_stored_solution_passes(exercise, isolation):
    result = run_check(exercise, _define(exercise.solution, exercise.name), isolation=isolation)
    assert result.passed, result.message
    if exercise.is_gradient:
        assert "numeric gradient" in result.message


@pytest.mark.parametrize("exercise", SEVERAL_CHECKS)
def test_every_misconception_fails_and_is_diagnosed(exercise, isolation):
    for m in exercise.misconceptions:
        result = run_check(exercise, m.implementation, isolation=isolation)
        assert not result.passed, f"misconception {m.name!r} passed"
        assert result.diagnosis == m.message, f"{m.name!r}: {result.message}"
        assert f"Diagnosis: {m.message}" in result.message


def _perturbations(exercise):
    """Three wrong answers that no misconception declares: a small relative error, an
    offset, and values that ignore the input."""
    ref = exercise.reference
    if exercise.output == "tuple":
        return _tuple_perturbations(ref)

    def scale(*a, **k):
        out = ref(*a, **k)
        if exercise.output == "step":
            return np.asarray(out[0]) * 1.001, out[1]
        return type(out)(np.asarray(out) * 1.001 + 1e-3) if np.ndim(out) == 0 else np.asarray(out) * 1.001 + 1e-3

    def offset(*a, **k):
        out = ref(*a, **k)
        if exercise.output == "step":
            return out[0], out[1] + 0.01
        return float(out) + 0.01 if np.ndim(out) == 0 else np.asarray(out) + 0.01

    def constant(*a, **k):
        out = ref(*a, **k)
        if exercise.output == "step":
            return np.ones_like(np.asarray(out[0])), 1.0
        return 0.5 if np.ndim(out) == 0 else np.full(np.shape(out), 0.5)

    return scale, offset, constant


def _tuple_perturbations(ref):
    """The same three for tuple outputs, applied to every part (dicts of arrays included)."""
    def mapped(change):
        def apply(value):
            if isinstance(value, dict):
                return {k: apply(v) for k, v in value.items()}
            return float(change(np.asarray(value, dtype=float))) if np.ndim(value) == 0 else change(np.asarray(value))
        def wrong(*a, **k):
            return tuple(apply(part) for part in ref(*a, **k))
        return wrong

    scale, offset, constant = (mapped(lambda v: v * 1.001 + 1e-3), mapped(lambda v: v + 0.01),
                               mapped(lambda v: np.full(np.shape(v), 0.5)))
    scale.__name__, offset.__name__, constant.__name__ = "scale", "offset", "constant"
    return scale, offset, constant


@pytest.mark.parametrize("exercise", SEVERAL_CHECKS)
def test_three_wrong_implementations_fail(exercise, isolation):
    for wrong in _perturbations(exercise):
        result = run_check(exercise, wrong, isolation=isolation)
        assert result.status == "failed", (wrong.__name__, result.message)
        assert result.failure is not None and result.failure.expected is not None
        assert 0 <= result.n_passed < result.n_total


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.is_gradient], ids=lambda e: e.id)
def test_gradient_exercises_report_the_cs231n_relative_error(exercise, isolation):
    def wrong(*args, **kwargs):
        out = exercise.reference(*args, **kwargs)
        if exercise.output == "step":
            return np.asarray(out[0]) - 0.3 * args[4], out[1]
        if exercise.output == "tuple":
            return (np.asarray(out[0]) * 1.5, *out[1:])
        return np.asarray(out) * 1.5

    result = run_check(exercise, wrong, isolation=isolation)
    assert result.failure.gradient_error is not None and result.failure.gradient_error > 1e-2
    assert re.search(r"relative error against a numeric gradient: \d\.\de[+-]\d\d", result.message)


def test_hints_escalate_to_nearly_the_answer():
    # The last hint shows code, the first does not: the order is nudge -> nearly the answer.
    for exercise in EXERCISES:
        assert "return" in exercise.hints[-1], exercise.id
        assert "return" not in exercise.hints[0], exercise.id
        first, last = exercise.hints[0], exercise.hints[-1]
        assert difflib.SequenceMatcher(None, first, last).ratio() < 0.8


#: Lessons whose hints follow the three-step ladder of issue #12 (idea, formula, skeleton).
LADDER_LESSONS = ("01_loss_vs_cost", "02_mse", "03_mae_huber", "04_cross_entropy")
BLANK = "____"


def _code_lines(code: str) -> list[str]:
    """The solution's lines after the def line, comments and blank space removed."""
    lines = [line.split("#")[0] for line in code.strip().splitlines()[1:]]
    return [re.sub(r"\s+", "", line) for line in lines if line.strip()]


@pytest.mark.parametrize("exercise", [e for e in EXERCISES if e.lesson in LADDER_LESSONS], ids=lambda e: e.id)
def test_hints_are_idea_formula_skeleton_and_never_the_solution(exercise):
    idea, formula, skeleton = exercise.hints  # exactly three steps
    assert BLANK not in idea and BLANK not in formula and "return" not in idea + formula
    assert BLANK in skeleton, "the last hint is a code skeleton with a blank to fill in"
    body = "".join(f"    {line}\n" for line in skeleton.replace(BLANK, "_blank").splitlines())
    compile(f"{exercise.signature}\n{body}", f"<hint {exercise.id}>", "exec")  # valid code, blanks aside
    hints = re.sub(r"\s+", "", "".join(line.split("#")[0] for text in exercise.hints for line in text.splitlines()))
    solution = _code_lines(exercise.solution)
    assert "".join(solution) not in hints
    returned = [line for line in solution if line.startswith("return")]
    assert returned and not any(line in hints for line in returned), "the answer is solution()'s to give"
    # Filling the blank with the solution's own expression must not be a copy of the solution either:
    assert difflib.SequenceMatcher(None, "".join(solution), hints).ratio() < 0.9
