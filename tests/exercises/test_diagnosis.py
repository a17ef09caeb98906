"""``diagnose`` is a pure function of (exercise, inputs, outputs): it works on printed,
rounded numbers without the learner's function, as the grader uses it."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossbook import losses
from lossbook.exercises import diagnose, get


def _printed(value, digits=8):
    """What a hidden-test cell prints and the grader parses back: ~8 significant digits."""
    if np.ndim(value) == 0:
        return float(f"{float(value):.{digits}g}")
    return [float(f"{v:.{digits}g}") for v in np.ravel(value)]


def _inputs(exercise_id):
    return [case.args if not case.kwargs else {**dict(zip(get(exercise_id).param_names, case.args)), **case.kwargs}
            for case in get(exercise_id).cases]


def test_right_outputs_have_no_diagnosis():
    ex = get("mse")
    assert diagnose("mse", ex.cases, [ex.expected(c) for c in ex.cases]) is None
    assert diagnose("mse", ex.cases, [_printed(ex.expected(c)) for c in ex.cases]) is None


@pytest.mark.parametrize("exercise_id", ["mse", "mae", "hinge", "quantile", "log_cosh", "multiclass_hinge"])
def test_sum_instead_of_mean_from_printed_numbers(exercise_id):
    ex = get(exercise_id)
    outputs = [_printed(ex.expected(c) * ex.n_examples(c)) for c in ex.cases]
    assert diagnose(exercise_id, _inputs(exercise_id), outputs) == \
        "exactly n times too large: did you sum instead of averaging?"


def test_gradient_misconceptions_from_plain_tuples_and_lists():
    inputs = [([1.0, 2.0, 3.0], [1.5, 1.0, 4.0]), ([0.0, 1.0], [2.0, -1.0]), ([5.0], [4.0])]
    right = [losses.mse_grad(np.array(y), np.array(p)) for y, p in inputs]
    assert diagnose("mse_grad", inputs, [list(-g) for g in right]).startswith("gradient has the wrong sign")
    assert diagnose("mse_grad", inputs, [list(g * len(g)) for g in right]).startswith("gradient not divided by n")
    assert diagnose("mse_grad", inputs, [list(g / 2) for g in right]).startswith("missing the factor 2")


def test_generic_patterns_without_a_named_misconception():
    ex = get("l2_penalty")
    cases = ex.cases
    # -3x the answer: no misconception says so, the constant-factor rule does.
    assert diagnose("l2_penalty", cases, [-3 * ex.expected(c) for c in cases]) == \
        "off by a constant factor of -3 (a sign and a constant) on every case"
    assert diagnose("l2_penalty", cases, [4 * ex.expected(c) for c in cases]) == \
        "off by a constant factor of 4 on every case: check the constants (a missing ½ or 2?)"
    assert diagnose("l2_penalty", cases, [-ex.expected(c) for c in cases]) == \
        "wrong sign: your result is exactly the negative of the answer"
    ex = get("mae")
    assert diagnose("mae", ex.cases, [ex.expected(c) / ex.n_examples(c) for c in ex.cases]) == \
        "exactly n times too small: did you divide by n twice?"


def test_right_for_1d_but_not_2d():
    ex = get("mae")
    outputs = [ex.expected(c) if c.ndim == 1 else ex.expected(c) * 1.7 for c in ex.cases]
    assert diagnose("mae", ex.cases, outputs).startswith("right for 1-D input but not for 2-D")


def test_overflow_is_named_on_large_inputs():
    ex = get("log_cosh")
    outputs = [np.inf if c.name.startswith("residual") else ex.expected(c) for c in ex.cases]
    assert "overflowed" in diagnose("log_cosh", ex.cases, outputs)


def test_misconceptions_are_found_from_outputs_alone():
    for exercise_id, name in [("binary_cross_entropy", "no clip"), ("softmax", "no max"),
                              ("hinge", "0/1 labels"), ("regularized_cost", "bias penalised"),
                              ("gradient_descent_step", "bias penalised"), ("huber", "no half")]:
        ex = get(exercise_id)
        m = next(m for m in ex.misconceptions if m.name == name)
        with np.errstate(all="ignore"):
            outputs = [m.implementation(*c.args, **c.kwargs) for c in ex.cases]
        assert diagnose(exercise_id, ex.cases, outputs) == m.message


def test_unrecognised_mistakes_and_unusable_outputs_give_none():
    ex = get("mse")
    rng = np.random.default_rng(0)
    assert diagnose("mse", ex.cases, list(rng.uniform(5, 6, len(ex.cases)))) is None
    assert diagnose("mse", ex.cases, [None] * len(ex.cases)) is None
    assert diagnose("mse", ex.cases, ["not a number"] * len(ex.cases)) is None


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="2 inputs but 1 outputs"):
        diagnose("mse", [([1.0], [2.0]), ([1.0], [2.0])], [1.0])
    with pytest.raises(ValueError, match="does not take"):
        diagnose("mse", [{"y": [1.0], "yhat": [2.0]}], [1.0])
    with pytest.raises(TypeError, match="inputs\\[0\\] must be"):
        diagnose("mse", [3.0], [1.0])
    with pytest.raises(KeyError, match="did you mean 'mse'"):
        diagnose("mes", [], [])


@settings(max_examples=40, deadline=None)
@given(factor=st.sampled_from([2.0, 3.0, 0.25, 5.0, 10.0]))
def test_a_constant_factor_is_never_mistaken_for_n(factor):
    """Cases of different sizes tell "n times" apart from any constant factor."""
    ex = get("quantile")
    message = diagnose("quantile", ex.cases, [factor * ex.expected(c) for c in ex.cases])
    assert message is not None and "constant factor" in message
    assert "n times" not in message


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=2, max_size=8), st.data())
def test_diagnose_matches_check_on_random_inputs(y, data):
    """On any inputs, the sum-instead-of-mean outputs are diagnosed as such when n varies."""
    y = np.array(y)
    p = np.array(data.draw(st.lists(st.floats(-50, 50), min_size=len(y), max_size=len(y))))
    inputs = [(y, p), (y[:1], p[:1] + 1.0)]
    outputs = [float(np.sum((p - y) ** 2)), float((p[0] + 1.0 - y[0]) ** 2)]
    message = diagnose("mse", inputs, outputs)
    if np.allclose(p, y, atol=1e-3) or abs(p[0] + 1.0 - y[0]) < 1e-3:
        return  # a zero answer scaled by n is still zero; nothing to tell apart
    assert message == "exactly n times too large: did you sum instead of averaging?"


def test_printed_canonical_text_is_understood():
    from lossbook.canonical import canonical
    from lossbook.exercises.diagnosis import parse_printed

    assert parse_printed("0.5") == 0.5
    parsed = parse_printed("[1, nan, -inf, inf]")
    assert parsed[0] == 1 and np.isnan(parsed[1]) and parsed[2:] == [-np.inf, np.inf]
    assert parse_printed("([1, 2], 0.5)") == ([1, 2], 0.5)
    with pytest.raises(ValueError, match="not a printed number"):
        parse_printed("<function mse at 0x7f>")
    ex = get("gradient_descent_step")
    m = next(m for m in ex.misconceptions if m.name == "no n")
    printed = [canonical(m.implementation(*c.args, **c.kwargs)) for c in ex.cases]
    assert diagnose("gradient_descent_step", ex.cases, printed) == m.message
    assert diagnose("gradient_descent_step", ex.cases, ["garbage"] * len(ex.cases)) is None


# --- the mistakes issue #12 found with only "expected vs got" --------------------------------
def _outputs(exercise_id, wrong):
    ex = get(exercise_id)
    printed = (_printed(wrong(*c.args, **c.kwargs)) for c in ex.cases)  # flattened: reshape as printed
    return [np.reshape(v, np.shape(ex.expected(c))).tolist() for v, c in zip(printed, ex.cases)]


def _huber_delta_offset(y, p, delta=1.0):
    r = np.abs(np.asarray(p, float) - y)
    return float(np.mean(np.where(r <= delta, 0.5 * r ** 2, delta * (r - delta))))


def _bce_arguments_swapped(y, p):
    p = np.clip(np.asarray(p, float), 1e-12, 1 - 1e-12)
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(np.mean(-(p * np.log(y) + (1 - p) * np.log(1 - np.asarray(y, float)))))


def _softmax_grad_over_size(y, Z):
    return losses.softmax_cross_entropy_grad(y, Z) * len(y) / np.size(Z)


@pytest.mark.parametrize("exercise_id, wrong, words", [
    ("huber", _huber_delta_offset, "not δ·(|r| − δ)"),
    ("binary_cross_entropy", _bce_arguments_swapped, "y_true and p are swapped"),
    ("softmax_cross_entropy_grad", _softmax_grad_over_size, "divided by Z.size"),
    ("mae_grad", lambda y, p: np.where(np.asarray(p, float) - y >= 0, 1.0, -1.0) / np.size(p), "uses 0 there"),
    ("mae_grad", lambda y, p: np.where(np.asarray(p, float) - y > 0, 1.0, -1.0) / np.size(p), "returned −1/n"),
])
def test_the_issue_12_mistakes_are_named_from_printed_outputs(exercise_id, wrong, words):
    message = diagnose(exercise_id, _inputs(exercise_id), _outputs(exercise_id, wrong))
    assert message is not None and words in message, message


def test_bce_swapped_from_printed_infinities():
    # What a hidden-test cell prints for the swapped formula: inf (or nan) on every case.
    ex = get("binary_cross_entropy")
    message = diagnose("binary_cross_entropy", _inputs("binary_cross_entropy"), ["inf"] * len(ex.cases))
    assert message is not None and "swapped" in message


@pytest.mark.parametrize("exercise_id", ["huber", "mse", "mae_grad", "softmax", "bce_with_logits_grad"])
def test_a_constant_zero_answer_gets_its_own_message(exercise_id):
    ex = get(exercise_id)
    outputs = [np.zeros(np.shape(ex.expected(c))).tolist() if np.ndim(ex.expected(c)) else 0
               for c in ex.cases]
    message = diagnose(exercise_id, _inputs(exercise_id), outputs)
    assert message is not None and "returns 0 on every case" in message
    assert "factor of 0" not in message


def test_a_zero_answer_where_the_answer_is_zero_is_not_a_mistake():
    ex = get("mse")
    zero_cases = [c for c in ex.cases if ex.expected(c) == 0]
    assert zero_cases and diagnose("mse", zero_cases, [0.0] * len(zero_cases)) is None


def test_check_names_the_constant_zero_answer():
    from lossbook.exercises.checking import run_check

    result = run_check(get("huber"), lambda y, p, delta=1: 0)
    assert "returns 0 on every case" in result.diagnosis
    assert "factor of 0" not in result.message


# --- the catalog's outputs are remembered; the learner's never are ------------------------------

def test_a_learner_who_changes_their_function_gets_the_new_verdict():
    """The diagnosis remembers what the catalog's misconceptions return, never the learner's
    outputs: each check of a changed function (same name, same object) is judged afresh."""
    from lossbook.exercises.checking import run_check

    exercise = get("mse")
    by_name = {m.name: m for m in exercise.misconceptions}
    behaviour = {"as": "sum"}

    def mse(y_true, y_pred):                   # one function object, edited between checks
        if behaviour["as"] == "right":
            return exercise.reference(y_true, y_pred)
        return by_name[behaviour["as"]].implementation(y_true, y_pred)

    for step in ["sum", "half", "right", "rmse", "sum", "right", "len"]:
        behaviour["as"] = step
        result = run_check(exercise, mse)
        if step == "right":
            assert result.passed and result.diagnosis is None
        else:
            assert not result.passed and result.diagnosis == by_name[step].message, step


@pytest.mark.slow  # three checks of choose_loss: the learner's 3 x 8 fits under the forbidden-call hook
def test_choose_loss_verdicts_follow_the_learner_across_checks():
    from lossbook.exercises.checking import run_check

    exercise = get("choose_loss")
    first, second = exercise.misconceptions[:2]
    for m in (first, second, first):
        result = run_check(exercise, m.implementation)
        assert result.diagnosis == m.message
    assert run_check(exercise, exercise.reference).passed


def test_outputs_are_remembered_by_the_content_of_the_inputs():
    from lossbook.exercises import diagnosis
    from lossbook.exercises.model import Case

    calls = []

    def counted(y, p, **kwargs):
        calls.append(1)
        return np.asarray(p, dtype=float) - np.asarray(y, dtype=float)

    def output(*args, **kwargs):
        return diagnosis._catalog_output(counted, Case("c", args, kwargs))

    y, p = np.array([1.0, 2.0]), np.array([0.0, 0.0])
    first = output(y, p)
    assert len(calls) == 1 and np.array_equal(output(y.copy(), p.copy()), first) and len(calls) == 1
    different = [
        (np.array([1.0, 2.5]), p),                 # one value
        (y.reshape(2, 1), p.reshape(2, 1)),        # same bytes, another shape
        (y.astype(np.float32), p),                 # another dtype
        (y, np.array([-0.0, 0.0])),                # -0.0 is not 0.0
        ([1.0, 2.0], [0.0, 0.0]),                  # a list is not an array
    ]
    for args in different:
        before = len(calls)
        output(*args)
        assert len(calls) == before + 1, args
    output(y, p, delta=1.0)
    output(y, p, delta=2.0)
    assert len(calls) == len(different) + 3
    with pytest.raises(ValueError, match="read-only"):
        first[0] = 5.0                             # a remembered output cannot be changed
    marker = object()                              # not keyable by content: never remembered
    output(y, marker), output(y, marker)
    assert len(calls) == len(different) + 5


def test_a_reference_that_raises_is_not_remembered():
    from lossbook.exercises import diagnosis
    from lossbook.exercises.model import Case

    calls = []

    def reference(y):
        calls.append(1)
        raise ValueError("no")

    case = Case("c", (np.array([1.0]),))
    for _ in range(2):
        with pytest.raises(ValueError, match="no"):
            diagnosis._catalog_output(reference, case, expected=True)
    assert len(calls) == 2
    assert diagnosis._catalog_output(reference, case) is None   # as a misconception: None, once
    assert diagnosis._catalog_output(reference, case) is None
    assert len(calls) == 3
