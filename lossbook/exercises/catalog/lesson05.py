"""Lesson 05, hinge: the margin loss, its subgradient, and the multi-class SVM loss."""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.exercises import cases
from lossbook.exercises.model import Exercise, GradientSpec, Misconception

LESSON = "05_hinge"


def _f(x):
    return np.asarray(x, dtype=float)


def _hinge_grad_bounds(case):
    """Any subgradient is right at a kink (margin exactly 1): anything between −y/n and 0."""
    y, s = _f(case.args[0]), _f(case.args[1])
    n = s.size
    margin = y * s
    outside = np.where(margin < 1, -y / n, 0.0)
    kink = np.isclose(margin, 1.0, rtol=0, atol=1e-12)
    low = np.where(kink, np.minimum(-y / n, 0.0), outside)
    high = np.where(kink, np.maximum(-y / n, 0.0), outside)
    return low, high


HINGE = Exercise(
    id="hinge",
    title="Hinge loss",
    lesson=LESSON,
    params="y, s",
    docstring="""Hinge cost: the mean over examples of max(0, 1 - y_i * s_i).

Parameters
----------
y : numpy array of labels in {-1, +1}
s : numpy array, same shape, scores (raw model outputs)

Returns
-------
float""",
    reference=lambda y, s: losses.hinge(y, s),
    output="scalar",
    build_cases=lambda: cases.signed_scores(501),
    hints=(
        "y·s is the margin: positive when the score has the right sign, ≥ 1 when it is right with room to spare.",
        "Examples with margin ≥ 1 cost nothing; the others cost 1 - margin. np.maximum(0, ...) does both, then average.",
        "return float(np.mean(np.maximum(0, 1 - y * s)))",
    ),
    misconceptions=(
        Misconception("0/1 labels", lambda y, s: float(np.mean(np.maximum(0, 1 - (2 * _f(y) - 1) * _f(s)))),
                      "labels must be ±1 for hinge: y already is ±1, so don't convert it with 2y − 1 (that is for {0, 1} labels)"),
        Misconception("no max", lambda y, s: float(np.mean(1 - _f(y) * _f(s))),
                      "missing max(0, ·): examples beyond the margin must cost 0, not a negative amount"),
        Misconception("margin 0", lambda y, s: float(np.mean(np.maximum(0, -_f(y) * _f(s)))),
                      "the margin is 1: max(0, 1 − y·s) (max(0, −y·s) is the perceptron loss)"),
        Misconception("sum", lambda y, s: float(np.sum(np.maximum(0, 1 - _f(y) * _f(s)))),
                      "exactly n times too large: did you sum instead of averaging?"),
    ),
    solution='''def hinge(y, s):
    margins = np.asarray(y, dtype=float) * s
    return float(np.mean(np.maximum(0, 1 - margins)))
''',
    forbidden=(
        "lossbook.losses.hinge",
        "sklearn.metrics.hinge_loss",
    ),
)


HINGE_GRAD = Exercise(
    id="hinge_grad",
    title="Subgradient of the hinge loss",
    lesson=LESSON,
    params="y, s",
    docstring="""A subgradient of the mean hinge loss with respect to the scores:

    d cost / d s_i = -y_i / n   if y_i * s_i < 1,   0 if y_i * s_i > 1.

At the kink (y_i * s_i == 1) any value between -y_i / n and 0 is accepted.

Parameters
----------
y : numpy array of labels in {-1, +1}
s : numpy array, same shape, scores

Returns
-------
numpy array, same shape as s""",
    reference=lambda y, s: losses.hinge_grad(y, s),
    output="array",
    bounds=_hinge_grad_bounds,
    build_cases=lambda: cases.signed_scores(502),
    gradient=GradientSpec(cost=lambda y, s: losses.hinge(y, s), wrt=1),
    hints=(
        "Where the loss is 0 (margin beyond 1) its slope is 0; elsewhere the loss is 1 - y·s, a straight line in s.",
        "So the slope is -y where y·s < 1 and 0 elsewhere (np.where), divided by n for the mean.",
        "return np.where(y * s < 1, -y, 0.0) / s.size",
    ),
    misconceptions=(
        Misconception("sign", lambda y, s: np.where(_f(y) * _f(s) < 1, _f(y), 0.0) / np.size(s),
                      "gradient has the wrong sign: d/ds (1 − y·s) = −y"),
        Misconception("no n", lambda y, s: np.where(_f(y) * _f(s) < 1, -_f(y), 0.0),
                      "gradient not divided by n: the cost is a mean, so each example's gradient carries 1/n"),
        Misconception("no indicator", lambda y, s: -_f(y) / np.size(s),
                      "the gradient is 0 for examples beyond the margin (y·s ≥ 1): the max(0, ·) is flat there"),
        Misconception("margin 0", lambda y, s: np.where(_f(y) * _f(s) < 0, -_f(y), 0.0) / np.size(s),
                      "the margin is 1: examples with 0 ≤ y·s < 1 still get a gradient"),
    ),
    solution='''def hinge_grad(y, s):
    y = np.asarray(y, dtype=float)
    return np.where(y * s < 1, -y, 0.0) / np.size(s)
''',
    forbidden=(
        "lossbook.losses.hinge_grad",
        "torch.autograd.grad",
        "torch.Tensor.backward",
    ),
)


def _wrong_class_margins(y, S):
    S = _f(S)
    rows = np.arange(len(y))
    margins = np.maximum(0, S - S[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    return margins


MULTICLASS_HINGE = Exercise(
    id="multiclass_hinge",
    title="Multi-class hinge loss (Weston–Watkins, the CS231n SVM loss)",
    lesson=LESSON,
    params="y, S",
    docstring="""Multi-class hinge cost: the mean over rows of sum_{j != y_i} max(0, S_ij - S_i,y_i + 1).

Parameters
----------
y : numpy array of class indices, shape (n,)
S : numpy array of scores, shape (n, C)

Returns
-------
float""",
    reference=lambda y, S: losses.multiclass_hinge(y, S),
    output="scalar",
    build_cases=lambda: cases.class_scores(503),
    count=lambda case: len(case.args[0]),
    hints=(
        "Every wrong class whose score comes within 1 of the correct class's score adds to the loss.",
        "Compute margins S - S[rows, y][:, None] + 1, clip at 0, set the correct class's entries to 0, sum each row, average rows.",
        "rows = np.arange(len(y)); M = np.maximum(0, S - S[rows, y][:, None] + 1); M[rows, y] = 0; return float(M.sum(axis=1).mean())",
    ),
    misconceptions=(
        Misconception("includes true class", lambda y, S: float(np.mean(np.maximum(0, _f(S) - _f(S)[np.arange(len(y)), y][:, None] + 1).sum(axis=1))),
                      "the sum skips the correct class (j ≠ yᵢ): including it adds 1 per example"),
        Misconception("divided by C", lambda y, S: float(np.mean(_wrong_class_margins(y, S).sum(axis=1)) / np.shape(S)[1]),
                      "divided by the number of classes: Weston–Watkins (CS231n) sums over wrong classes without dividing by C "
                      "(PyTorch's multi_margin_loss divides)"),
        Misconception("max not sum", lambda y, S: float(np.mean(_wrong_class_margins(y, S).max(axis=1))),
                      "this is the Crammer–Singer loss (the worst wrong class only); Weston–Watkins sums over all wrong classes"),
        Misconception("sum", lambda y, S: float(np.sum(_wrong_class_margins(y, S))),
                      "exactly n times too large: did you sum instead of averaging?"),
    ),
    solution='''def multiclass_hinge(y, S):
    S = np.asarray(S, dtype=float)
    rows = np.arange(len(y))
    margins = np.maximum(0, S - S[rows, y][:, None] + 1)
    margins[rows, y] = 0
    return float(margins.sum(axis=1).mean())
''',
    forbidden=(
        "lossbook.losses.multiclass_hinge",
        "sklearn.metrics.hinge_loss",
        "torch.nn.functional.multi_margin_loss",
    ),
)

EXERCISES = (HINGE, HINGE_GRAD, MULTICLASS_HINGE)
