"""Tuple outputs (``output="tuple"``): ``(dW, db)`` and ``(loss, grads)`` with a dict of arrays.

Form problems name the part ("grads['b1']"), values are compared part by part, the
diagnosis works from the nested output and from the lines a hidden-test cell prints, and
a dict argument the learner changes in place is reported (and one left alone is not).
"""
import numpy as np
import pytest

from lossbook.canonical import canonical
from lossbook.exercises import compare, diagnose, get
from lossbook.exercises.checking import run_check
from lossbook.exercises.model import Case, Exercise, Misconception
from lossbook.grading.feedback import diagnosis_for

LINEAR = get("linear_softmax_grad")
MLP = get("mlp_forward_backward")


def _wrapping(exercise, change):
    def fn(*args):
        return change(*exercise.reference(*args))
    return fn


@pytest.mark.parametrize("change, expected", [
    (lambda dW, db: dW, "returned a numpy array of shape (2, 2); return the tuple (dW, db)"),
    (lambda dW, db: (dW, db, db), "returned a tuple of 3 items; return the tuple (dW, db)"),
    (lambda dW, db: (dW.T.copy()[:1], db), "dW returned an array of shape (1, 2) but the expected shape is (2, 2)"),
    (lambda dW, db: (dW, db[:, None]), "db returned an array of shape (2, 1) but the expected shape is (2,)"),
    (lambda dW, db: (dW.tolist(), db), "dW returned a list"),
])
def test_form_problems_name_the_part(change, expected):
    result = run_check(LINEAR, _wrapping(LINEAR, change))
    assert result.status == "failed"
    assert expected in result.failure.problem


def test_none_asks_for_the_return():
    expected = LINEAR.expected(LINEAR.cases[0])
    assert compare.tuple_problem(None, expected, LINEAR.parts) == "returned None: did you forget `return dW, db`?"


@pytest.mark.parametrize("change, expected", [
    (lambda loss, g: (loss, [g["W1"], g["b1"]]), "grads returned a list where a dict with the keys"),
    (lambda loss, g: (loss, {k: v for k, v in g.items() if k != "b2"}), "grads has no key 'b2'"),
    (lambda loss, g: (loss, {**g, "W3": g["W1"]}), "grads has the unexpected key 'W3'"),
    (lambda loss, g: (loss, {**g, "b1": g["b1"][None, :]}), "grads['b1'] returned an array of shape (1, "),
    (lambda loss, g: (np.array([loss]), g), "loss returned a numpy array of shape (1,) where a single number"),
    (lambda loss, g: (loss, {**g, "W2": g["W2"] * np.nan}), "grads['W2'] returned nan"),
])
def test_dict_parts_are_checked_key_by_key(change, expected):
    result = run_check(MLP, _wrapping(MLP, change))
    assert result.status == "failed"
    assert expected in result.failure.problem, result.failure.problem


def test_a_wrong_value_in_one_gradient_fails_and_shows_the_dict():
    result = run_check(MLP, _wrapping(MLP, lambda loss, g: (loss, {**g, "b2": g["b2"] + 1e-3})))
    assert result.status == "failed" and result.failure.problem == "Wrong value."
    assert "'b2':" in result.failure.expected and "'W1':" in result.failure.got


def test_leaves_follow_sorted_keys_and_accept_any_key_order():
    template = (1.0, {"b": np.zeros(2), "A": np.ones(1)})
    value = (2.0, {"A": np.array([3.0]), "b": np.array([4.0, 5.0])})
    assert [np.asarray(v).tolist() for v in compare.leaves(value, template)] == [2.0, [3.0], [4.0, 5.0]]
    assert compare.n_leaves(template) == 3
    with pytest.raises(ValueError):
        compare.leaves((2.0, {"A": 1.0}), template)


def test_diagnose_from_nested_outputs_and_from_printed_lines():
    wrong = next(m for m in MLP.misconceptions if m.name == "no relu mask")
    inputs = [case for case in MLP.cases[:4]]
    nested = [wrong.implementation(*case.args) for case in inputs]
    assert diagnose("mlp_forward_backward", inputs, nested) == wrong.message
    # what a hidden-test cell prints: one canonical line per part, gradients in sorted key order
    printed = [tuple(canonical(v) for v in compare.leaves(out, MLP.template)) for out in nested]
    assert diagnose("mlp_forward_backward", inputs, printed) == wrong.message
    right = [MLP.reference(*case.args) for case in inputs]
    assert diagnose("mlp_forward_backward", inputs, right) is None


def test_generic_pattern_n_times_too_large_over_all_parts():
    def summed(W, b, X, y):
        dW, db = LINEAR.reference(W, b, X, y)
        return dW * len(X), db * len(X)
    inputs = list(LINEAR.cases)
    message = diagnose("linear_softmax_grad", inputs, [summed(*c.args) for c in inputs])
    assert message == next(m.message for m in LINEAR.misconceptions if m.name == "no n")


def test_grader_feedback_pairs_printed_parts_with_calls():
    source = (
        "import numpy as np\nfrom lossbook.canonical import show\n"
        "W = np.array([[0.5, -1.0], [2.0, 0.0]])\nX = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 1.0]])\n"
        "dW, db = linear_softmax_grad(W, np.zeros(2), X, np.array([1, 0, 1]))\nshow(dW, db)\n"
        "dW, db = linear_softmax_grad(W, np.array([0.5, -0.5]), X[:2], np.array([0, 0]))\nshow(dW, db)\n"
    )
    wrong = next(m for m in LINEAR.misconceptions if m.name == "sign")
    W = np.array([[0.5, -1.0], [2.0, 0.0]])
    X = np.array([[1.0, 2.0], [0.5, -1.0], [0.0, 1.0]])
    outs = [wrong.implementation(W, np.zeros(2), X, np.array([1, 0, 1])),
            wrong.implementation(W, np.array([0.5, -0.5]), X[:2], np.array([0, 0]))]
    printed = "".join(f"{canonical(dW)}\n{canonical(db)}\n" for dW, db in outs)
    assert diagnosis_for("linear_softmax_grad", [source], [printed]) == wrong.message


def test_changing_the_params_dict_in_place_fails_and_reading_it_does_not():
    def in_place(params, X, y):
        loss, grads = MLP.reference(params, X, y)
        params["W1"] = params["W1"] - 0.1 * grads["W1"]     # replaces a value of the caller's dict
        return loss, grads

    result = run_check(MLP, in_place)   # an input changed in place fails check (issue 12), with the reason
    assert not result.passed and "params" in result.message and "in place" in result.message
    clean = run_check(MLP, MLP.reference)
    assert clean.passed and clean.warnings == []


def test_case_arrays_inside_dicts_are_read_only():
    params = MLP.cases[0].args[0]
    with pytest.raises(ValueError):
        params["W1"][0, 0] = 1.0


def test_a_tuple_output_needs_named_parts():
    common = dict(id="x", title="x", lesson="99_x", params="a", docstring="x", reference=lambda a: (a, a),
                  build_cases=lambda: [Case("one", (1.0,))], hints=("h",), solution="",
                  misconceptions=(Misconception("m1", lambda a: 0, "one"), Misconception("m2", lambda a: 1, "two")))
    with pytest.raises(ValueError, match="name the parts"):
        Exercise(output="tuple", **common)
    with pytest.raises(ValueError, match="name the parts"):
        Exercise(output="scalar", parts=("a",), **common)
