"""Lessons 05–08's exercises: the three-step hint ladder, and the new exercises
(multiclass_hinge_grad, soft_threshold, choose_loss, label_smoothing_cross_entropy)
against independent implementations (PyTorch autograd, SciPy, scikit-learn)."""
from __future__ import annotations

import numpy as np
import pytest

import lossbook.exercises as ex
from lossbook.exercises.catalog import lesson07
from lossbook.exercises.checking import run_check

from lazymodules import lazy

torch = lazy("torch")  # imported by the first test that uses it; those tests are slow (root conftest.py)
F = lazy("torch.nn.functional")
scipy_optimize = pytest.importorskip("scipy.optimize")
sklearn_linear = pytest.importorskip("sklearn.linear_model")

LESSONS = ("05_hinge", "06_regularization", "07_choosing_a_loss", "08_beyond")
MINE = [e for e in ex.EXERCISES if e.lesson in LESSONS]
BLANK = "____"


def _solution(exercise):
    namespace = {"np": np}
    exec(exercise.solution, namespace)  # noqa: S102 - the catalog's own code
    return namespace[exercise.name]


@pytest.mark.parametrize("exercise", MINE, ids=lambda e: e.id)
def test_hints_are_three_real_steps_idea_formula_skeleton(exercise):
    idea, formula, skeleton = exercise.hints          # exactly three
    assert idea.startswith("The idea:") and formula.startswith("The formula:")
    assert "return" not in idea and BLANK not in idea + formula
    assert BLANK in skeleton and "return" in skeleton, "the last hint is a code skeleton with a blank"
    # The skeleton is not the solution: with the blank it does not even compile as a body.
    body = "def f():\n    " + skeleton
    with pytest.raises(SyntaxError):
        compile(body.replace(BLANK, "____ ____"), "<skeleton>", "exec")
    code_lines = {line.strip() for line in exercise.solution.splitlines()[1:] if line.strip()}
    assert not code_lines <= {part.strip() for part in skeleton.split(";")}


def test_new_exercises_are_registered_in_their_lessons():
    by_lesson = {lesson: [e.id for e in exs] for lesson, exs in ex.by_lesson().items()}
    assert by_lesson["05_hinge"][-1] == "multiclass_hinge_grad"
    assert by_lesson["06_regularization"][-1] == "soft_threshold"
    assert by_lesson["07_choosing_a_loss"][-1] == "choose_loss"
    assert by_lesson["08_beyond"][-1] == "label_smoothing_cross_entropy"


# --- against independent implementations ---------------------------------------------------------------


def test_multiclass_hinge_grad_is_torch_autograd_of_k_times_multi_margin_loss():
    exercise = ex.get("multiclass_hinge_grad")
    solution = _solution(exercise)
    for case in exercise.cases:
        if not case.numeric_gradient:                 # a kink: any subgradient is right
            continue
        y, S = case.args
        scores = torch.tensor(np.asarray(S, dtype=float), dtype=torch.float64, requires_grad=True)
        k = scores.shape[1]
        (k * F.multi_margin_loss(scores, torch.tensor(y, dtype=torch.long))).backward()
        np.testing.assert_allclose(solution(y, S), scores.grad.numpy(), rtol=1e-12, atol=1e-15, err_msg=case.name)


def test_soft_threshold_solves_its_prox_problem_by_scipy():
    exercise = ex.get("soft_threshold")
    solution = _solution(exercise)
    for case in exercise.cases:
        z, t = case.args
        got = solution(z, t)
        for zj, uj in zip(np.ravel(z), np.ravel(got)):
            best = scipy_optimize.minimize_scalar(lambda u: 0.5 * (u - zj) ** 2 + t * abs(u),
                                                  bounds=(-10, 10), method="bounded", options={"xatol": 1e-10})
            assert abs(best.x - uj) < 1e-6, (case.name, zj, uj, best.x)


def test_label_smoothing_matches_torch_cross_entropy():
    exercise = ex.get("label_smoothing_cross_entropy")
    solution = _solution(exercise)
    for case in exercise.cases:
        y, Z, smoothing = case.args
        expected = F.cross_entropy(torch.tensor(np.asarray(Z, dtype=float)), torch.tensor(y, dtype=torch.long),
                                   label_smoothing=smoothing).item()
        assert solution(y, Z, smoothing) == pytest.approx(expected, rel=1e-12, abs=1e-12), case.name


def test_choose_loss_mse_candidate_is_least_squares_and_metric_is_validation_mae():
    from sklearn.metrics import mean_absolute_error

    for case in ex.get("choose_loss").cases:
        X_train, y_train, X_val, y_val = case.args
        scored = lesson07.validation_scores(X_train, y_train, X_val, y_val)
        assert [loss for loss, _fit, _score in scored] == list(lesson07.CANDIDATES)
        (w, b) = scored[0][1]
        ols = sklearn_linear.LinearRegression().fit(X_train, y_train)
        # a fixed budget of steps, so close to the least-squares solution rather than on it
        np.testing.assert_allclose(w, ols.coef_, rtol=1e-4, atol=1e-6, err_msg=case.name)
        assert b == pytest.approx(ols.intercept_, abs=1e-5)
        for _loss, (w, b), score in scored:
            assert score == pytest.approx(mean_absolute_error(y_val, X_val @ w + b), rel=1e-12)


def test_choose_loss_cases_let_every_candidate_win_by_a_clear_margin():
    """Each candidate is the right answer somewhere (so "always MSE" fails), and the winner leads by
    more than rounding could ever change: any correct implementation picks the same fit."""
    winners = set()
    for case in ex.get("choose_loss").cases:
        scores = sorted(score for _loss, _fit, score in lesson07.validation_scores(*case.args))
        assert scores[1] - scores[0] > 1e-4 * scores[0], case.name
        winners.add(min(lesson07.validation_scores(*case.args), key=lambda item: item[2])[0])
    assert winners == set(lesson07.CANDIDATES)


@pytest.mark.slow  # three checks of choose_loss: the learner's 3 x 8 fits under the forbidden-call hook
def test_choose_loss_always_the_same_candidate_fails():
    exercise = ex.get("choose_loss")
    for loss in lesson07.CANDIDATES:
        def always(X_train, y_train, X_val, y_val, lr=0.05, steps=300, loss=loss):
            return lesson07.fit_by_descent(loss, X_train, y_train, lr, steps)
        result = run_check(exercise, always)
        assert result.status == "failed", loss
