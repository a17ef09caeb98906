"""Lesson 06, regularization: L1 and L2 penalties, and a regularized cost."""
from __future__ import annotations

import numpy as np

from lossbook import regularization, train
from lossbook.exercises import cases
from lossbook.exercises.model import Case, Exercise, Misconception

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
        "The idea: the penalty grows with the size of every weight, whatever its sign, and is scaled by lam.",
        "The formula: R(w) = λ Σⱼ |wⱼ|, a sum over all weights (not a mean).",
        "return float(lam * np.sum(____))",
    ),
    misconceptions=(
        Misconception("l2", lambda w, lam: float(lam * np.sum(_f(w) ** 2)),
                      "this is the L2 penalty λΣw²; L1 uses absolute values λΣ|w|",
                      reteach='Put λΣ|w| (diamond) and λΣw² (circle) side by side; L1 is the one that gives exact zeros.',
                      section='06_regularization: L1 regularization (lasso) and soft-thresholding',
                      explorer='regularization_paths'),
        Misconception("no lam", lambda w, lam: float(np.sum(np.abs(_f(w)))),
                      "forgot to multiply by lam: the penalty is λ·Σ|w|",
                      reteach='λ is the knob: the penalty is λ·Σ|w|; move λ in the explorer and watch the weights.',
                      section='06_regularization: L1 regularization (lasso) and soft-thresholding',
                      explorer='regularization_paths'),
        Misconception("mean", lambda w, lam: float(lam * np.mean(np.abs(_f(w)))),
                      "averaged over the weights: the penalty is a sum, λΣ|w|, not a mean",
                      reteach='The penalty is a sum over the weights (λΣ|w|), not a mean: adding a feature adds to the penalty.',
                      section='06_regularization: L1 regularization (lasso) and soft-thresholding'),
        Misconception("no abs", lambda w, lam: float(lam * np.sum(_f(w))),
                      "missing the absolute value: negative weights must add to the penalty too",
                      reteach='Without |·| negative weights lower the penalty; the penalty measures size, whatever the sign.',
                      section='06_regularization: L1 regularization (lasso) and soft-thresholding'),
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
        "The idea: the penalty is the squared length of the weight vector, scaled by lam.",
        "The formula: R(w) = λ Σⱼ wⱼ², with no ½ in this course, summed over all weights.",
        "w = np.asarray(w, dtype=float); return float(lam * ____)",
    ),
    misconceptions=(
        Misconception("half", lambda w, lam: float(0.5 * lam * np.sum(_f(w) ** 2)),
                      "an extra ½: this course's L2 penalty is λΣw² (some books use ½λΣw² to tidy the gradient)",
                      reteach='State the course convention: λΣw² without ½ (so its gradient is 2λw); some books use ½λΣw².',
                      section='06_regularization: L2 regularization (ridge) as a Gaussian prior'),
        Misconception("norm", lambda w, lam: float(lam * np.sqrt(np.sum(_f(w) ** 2))),
                      "this is λ‖w‖ (the norm itself); the L2 penalty uses the squared norm Σw²",
                      reteach="λ‖w‖ is not the ridge penalty: ridge uses the squared norm Σw², the Gaussian prior's log-density.",
                      section='06_regularization: L2 regularization (ridge) as a Gaussian prior'),
        Misconception("no lam", lambda w, lam: float(np.sum(_f(w) ** 2)),
                      "forgot to multiply by lam: the penalty is λ·Σw²",
                      reteach='The penalty is λ·Σw²: λ sets how strong the prior is; λ = 0 is no regularization.',
                      section='06_regularization: L2 regularization (ridge) as a Gaussian prior',
                      explorer='regularization_paths'),
        Misconception("l1", lambda w, lam: float(lam * np.sum(np.abs(_f(w)))),
                      "this is the L1 penalty λΣ|w|; L2 squares the weights",
                      reteach='Contrast squaring with absolute value: L2 shrinks every weight smoothly, L1 zeroes some.',
                      section='06_regularization: L2 regularization (ridge) as a Gaussian prior',
                      explorer='regularization_paths'),
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
        "The idea: two parts, how badly the model fits (the MSE of its predictions) plus how big its weights "
        "are (the penalty); the bias b only shifts predictions, so it is not penalised.",
        "The formula: J = (1/n) Σᵢ (xᵢ·w + b − yᵢ)² + λ Σⱼ wⱼ² for penalty='l2', or + λ Σⱼ |wⱼ| for 'l1'.",
        "data = np.mean((X @ w + b - y) ** 2); pen = ____ if penalty == 'l1' else lam * np.sum(w ** 2); "
        "return float(data + pen)",
    ),
    misconceptions=(
        Misconception("bias penalised", _cost_variant(bias_penalised=True),
                      "penalising the bias: only the weights w are penalised, b is left free",
                      reteach="Show why b stays free: penalising it pulls predictions towards 0 instead of towards the data's mean.",
                      section='06_regularization: Why the bias is not penalised'),
        Misconception("always l2", _cost_variant(always_l2=True),
                      "your function ignores penalty: with penalty='l1' the penalty is λΣ|w|",
                      reteach="The penalty argument chooses the penalty: branch on it (λΣ|w| for 'l1', λΣw² for 'l2').",
                      section='06_regularization: L1 regularization (lasso) and soft-thresholding'),
        Misconception("sum of errors", _cost_variant(sum_errors=True),
                      "the data term is the mean of the squared errors, not their sum",
                      reteach="The data term is the MSE, a mean of the squared errors; a sum makes λ's effect depend on n.",
                      section='06_regularization: L2 as weight decay'),
        Misconception("no bias", _cost_variant(no_bias=True),
                      "the predictions are X @ w + b: the bias is missing",
                      reteach='The model is ŷ = X @ w + b: write the prediction before the cost, with the bias.',
                      section='06_regularization: Why the bias is not penalised'),
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



def _thresholds():
    """``(z, t)``: weights inside, outside and exactly at ±t, t = 0, a matrix, random ones."""
    rng = np.random.default_rng(604)
    out = [
        Case("one weight above t", (np.array([2.5]), 1.0)),
        Case("inside, outside and exactly at ±t", (np.array([-2.0, -1.0, -0.4, 0.0, 0.3, 1.0, 1.7]), 1.0)),
        Case("t = 0 changes nothing", (np.array([1.5, -0.2, 0.0, 3.0]), 0.0)),
        Case("all weights inside the band", (np.array([0.1, -0.3, 0.25]), 0.5)),
        Case("integer weights", (np.array([3, -1, 0, -4, 2]), 1.5)),
        Case("weight matrix of shape (3, 2)", (rng.normal(0.0, 1.5, (3, 2)), 0.7)),
    ]
    for n, t in ((5, 0.3), (9, 1.2), (13, 0.05)):
        out.append(Case(f"random, {n} weights, t = {t}", (rng.normal(0.0, 1.5, n), t)))
    return out


SOFT_THRESHOLD = Exercise(
    id="soft_threshold",
    title="Soft-thresholding, the proximal step of the L1 penalty",
    lesson=LESSON,
    params="z, t",
    docstring="""Soft-thresholding: the u that minimises 0.5 * (u - z)**2 + t * |u|, entry by entry:

    u = sign(z) * max(|z| - t, 0)

Weights with |z| <= t become exactly 0; the others move t towards 0.

Parameters
----------
z : numpy array of weights (any shape)
t : float, the threshold (step size times lam), >= 0

Returns
-------
numpy array, same shape as z (do not change z itself)""",
    reference=lambda z, t: regularization.soft_threshold(z, t),
    output="array",
    build_cases=_thresholds,
    count=_weights,
    hints=(
        "The idea: weights smaller than t in size are set to exactly 0; larger ones keep their sign and move "
        "t closer to 0 (lesson 06's three cases u > 0, u < 0, u = 0).",
        "The formula: u = sign(z) · max(|z| − t, 0). np.sign gives the sign, np.maximum clips at 0, entry by entry.",
        "z = np.asarray(z, dtype=float); return np.sign(z) * ____",
    ),
    misconceptions=(
        Misconception("no sign", lambda z, t: np.maximum(np.abs(_f(z)) - t, 0.0),
                      "the sign is lost: negative weights must stay negative, u = sign(z)·max(|z| − t, 0)",
                      reteach='Soft-thresholding moves each weight t towards 0 and keeps its sign: sign(z)·max(|z| − t, 0).',
                      section='06_regularization: L1 regularization (lasso) and soft-thresholding',
                      explorer='regularization_paths'),
        Misconception("no clip", lambda z, t: _f(z) - t * np.sign(_f(z)),
                      "weights with |z| < t crossed zero: they must stop at exactly 0 (the max(·, 0) is missing)",
                      reteach='Plot z − t·sign(z) vs soft-thresholding: small weights must stop at exactly 0, not cross it.',
                      section='06_regularization: L1 regularization (lasso) and soft-thresholding',
                      explorer='regularization_paths'),
        Misconception("hard threshold", lambda z, t: np.where(np.abs(_f(z)) > t, _f(z), 0.0),
                      "this is hard-thresholding: it zeroes the small weights but leaves the large ones unchanged; "
                      "soft-thresholding also moves them t towards 0",
                      reteach='Plot hard vs soft thresholding: soft also shrinks the large weights by t (the L1 proximal step).',
                      section='06_regularization: L1 regularization (lasso) and soft-thresholding'),
        Misconception("L2 shrink", lambda z, t: _f(z) / (1.0 + 2.0 * t),
                      "this is the L2 proximal step z/(1 + 2t): it shrinks every weight but never to zero; L1's step is "
                      "sign(z)·max(|z| − t, 0)",
                      reteach='Contrast the two proximal steps: L2 scales (z/(1 + 2t)), never to 0; L1 subtracts t and stops at 0.',
                      section='06_regularization: L1 regularization (lasso) and soft-thresholding',
                      explorer='regularization_paths'),
    ),
    solution='''def soft_threshold(z, t):
    z = np.asarray(z, dtype=float)
    return np.sign(z) * np.maximum(np.abs(z) - t, 0.0)
''',
    forbidden=(
        "lossbook.regularization.soft_threshold",
    ),
)

EXERCISES = (L1_PENALTY, L2_PENALTY, REGULARIZED_COST, SOFT_THRESHOLD)
