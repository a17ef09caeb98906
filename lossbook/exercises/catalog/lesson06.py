"""Lesson 06, regularization: L1 and L2 penalties, and a regularized cost."""
from __future__ import annotations

import numpy as np

from lossbook import regularization, train
from lossbook.exercises import cases
from lossbook.exercises.model import Exercise, Misconception

LESSON = "06_regularization"


def _f(x):
    return np.asarray(x, dtype=float)


def _weights(case):
    return np.size(case.args[0])


L1_PENALTY = Exercise(
    id="l1_penalty",
    title="The L1 penalty",
    lesson=LESSON,
    params="w, lam",
    docstring="""L1 penalty: lam * sum_j |w_j|.

Parameters
----------
w : numpy array of weights (any shape)
lam : float, the penalty strength (>= 0)

Returns
-------
float""",
    reference=lambda w, lam: regularization.l1(w, lam),
    output="scalar",
    build_cases=lambda: cases.penalties(601),
    count=_weights,
    hints=(
        "The penalty grows with the size of every weight, whatever its sign.",
        "Sum the absolute values of all weights, then multiply by lam.",
        "return float(lam * np.sum(np.abs(w)))",
    ),
    misconceptions=(
        Misconception("l2", lambda w, lam: float(lam * np.sum(_f(w) ** 2)),
                      "this is the L2 penalty λΣw²; L1 uses absolute values λΣ|w|"),
        Misconception("no lam", lambda w, lam: float(np.sum(np.abs(_f(w)))),
                      "forgot to multiply by lam: the penalty is λ·Σ|w|"),
        Misconception("mean", lambda w, lam: float(lam * np.mean(np.abs(_f(w)))),
                      "averaged over the weights: the penalty is a sum, λΣ|w|, not a mean"),
        Misconception("no abs", lambda w, lam: float(lam * np.sum(_f(w))),
                      "missing the absolute value: negative weights must add to the penalty too"),
    ),
    solution='''def l1_penalty(w, lam):
    return float(lam * np.sum(np.abs(w)))
''',
    forbidden=(
        "lossbook.regularization.l1",
    ),
)


L2_PENALTY = Exercise(
    id="l2_penalty",
    title="The L2 penalty",
    lesson=LESSON,
    params="w, lam",
    docstring="""L2 penalty: lam * sum_j w_j**2 (no 1/2 in this course).

Parameters
----------
w : numpy array of weights (any shape)
lam : float, the penalty strength (>= 0)

Returns
-------
float""",
    reference=lambda w, lam: regularization.l2(w, lam),
    output="scalar",
    build_cases=lambda: cases.penalties(602),
    count=_weights,
    hints=(
        "The penalty is the squared length of the weight vector, scaled by lam.",
        "Square every weight, sum them all, multiply by lam.",
        "return float(lam * np.sum(w ** 2))",
    ),
    misconceptions=(
        Misconception("half", lambda w, lam: float(0.5 * lam * np.sum(_f(w) ** 2)),
                      "an extra ½: this course's L2 penalty is λΣw² (some books use ½λΣw² to tidy the gradient)"),
        Misconception("norm", lambda w, lam: float(lam * np.sqrt(np.sum(_f(w) ** 2))),
                      "this is λ‖w‖ (the norm itself); the L2 penalty uses the squared norm Σw²"),
        Misconception("no lam", lambda w, lam: float(np.sum(_f(w) ** 2)),
                      "forgot to multiply by lam: the penalty is λ·Σw²"),
        Misconception("l1", lambda w, lam: float(lam * np.sum(np.abs(_f(w)))),
                      "this is the L1 penalty λΣ|w|; L2 squares the weights"),
    ),
    solution='''def l2_penalty(w, lam):
    return float(lam * np.sum(np.asarray(w, dtype=float) ** 2))
''',
    forbidden=(
        "lossbook.regularization.l2",
    ),
)


def _penalty(w, lam, penalty):
    return lam * (np.sum(np.abs(w)) if penalty == "l1" else np.sum(w ** 2))


def _cost_variant(bias_penalised=False, sum_errors=False, no_bias=False, always_l2=False):
    def cost(w, b, X, y, lam, penalty="l2"):
        w, X, y = _f(w), _f(X), _f(y)
        pred = X @ w + (0.0 if no_bias else b)
        errors = (pred - y) ** 2
        data = np.sum(errors) if sum_errors else np.mean(errors)
        pen = _penalty(w, lam, "l2" if always_l2 else penalty)
        if bias_penalised:
            pen += lam * (abs(b) if penalty == "l1" and not always_l2 else b ** 2)
        return float(data + pen)
    return cost


REGULARIZED_COST = Exercise(
    id="regularized_cost",
    title="A regularized cost for linear regression",
    lesson=LESSON,
    params='w, b, X, y, lam, penalty="l2"',
    docstring="""MSE of the linear model X @ w + b, plus a penalty on the weights (never on the bias b):

    J(w, b) = mean((X @ w + b - y)**2) + lam * sum(w**2)      (penalty="l2")
    J(w, b) = mean((X @ w + b - y)**2) + lam * sum(|w|)       (penalty="l1")

Parameters
----------
w : numpy array of weights, shape (d,)
b : float, the bias
X : numpy array, shape (n, d), one row per example
y : numpy array of targets, shape (n,)
lam : float, the penalty strength
penalty : "l2" or "l1"

Returns
-------
float""",
    reference=lambda w, b, X, y, lam, penalty="l2": train.regularized_cost(w, b, X, y, lam, penalty=penalty),
    output="scalar",
    build_cases=lambda: cases.linear_costs(603),
    count=lambda case: len(case.args[3]),
    hints=(
        "Two parts: how badly the model fits (the MSE of its predictions) plus how big its weights are (the penalty).",
        "Predictions are X @ w + b. The penalty uses w only; choose λΣw² or λΣ|w| with the penalty argument.",
        "data = np.mean((X @ w + b - y) ** 2); pen = lam * (np.sum(np.abs(w)) if penalty == 'l1' else np.sum(w ** 2)); "
        "return float(data + pen)",
    ),
    misconceptions=(
        Misconception("bias penalised", _cost_variant(bias_penalised=True),
                      "penalising the bias: only the weights w are penalised, b is left free"),
        Misconception("always l2", _cost_variant(always_l2=True),
                      "your function ignores penalty: with penalty='l1' the penalty is λΣ|w|"),
        Misconception("sum of errors", _cost_variant(sum_errors=True),
                      "the data term is the mean of the squared errors, not their sum"),
        Misconception("no bias", _cost_variant(no_bias=True),
                      "the predictions are X @ w + b: the bias is missing"),
    ),
    solution='''def regularized_cost(w, b, X, y, lam, penalty="l2"):
    w = np.asarray(w, dtype=float)
    data = np.mean((X @ w + b - y) ** 2)
    if penalty == "l1":
        return float(data + lam * np.sum(np.abs(w)))
    return float(data + lam * np.sum(w ** 2))
''',
    forbidden=(
        "lossbook.train.regularized_cost",
    ),
)

EXERCISES = (L1_PENALTY, L2_PENALTY, REGULARIZED_COST)
