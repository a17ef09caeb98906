"""Lesson 03, MAE and Huber: robust costs, and Huber's clipped gradient."""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.exercises import cases
from lossbook.exercises.model import Exercise, GradientSpec, Misconception

LESSON = "03_mae_huber"


def _r(y, p):
    return np.asarray(p, dtype=float) - np.asarray(y, dtype=float)


def _huber_terms(y, p, delta=1.0, half=True, linear_offset=True):
    r = np.abs(_r(y, p))
    quad = (0.5 if half else 1.0) * r ** 2
    lin = delta * (r - 0.5 * delta) if linear_offset else delta * r
    return np.where(r <= delta, quad, lin)


MAE = Exercise(
    id="mae",
    title="Mean absolute error",
    lesson=LESSON,
    params="y_true, y_pred",
    docstring="""Mean absolute error: MAE = (1/n) * sum_i |y_pred_i - y_true_i|.

Parameters
----------
y_true, y_pred : numpy arrays of the same shape

Returns
-------
float""",
    reference=lambda y, p: losses.mae(y, p),
    output="scalar",
    build_cases=lambda: cases.regression(301),
    hints=(
        "Like MSE, but each residual counts by its size, not its square.",
        "Take the absolute value of each residual (np.abs), then average.",
        "return float(np.mean(np.abs(y_pred - y_true)))",
    ),
    misconceptions=(
        Misconception("mse", lambda y, p: float(np.mean(_r(y, p) ** 2)),
                      "this is MSE, not MAE: take |ŷ − y| instead of squaring"),
        Misconception("sum", lambda y, p: float(np.sum(np.abs(_r(y, p)))),
                      "exactly n times too large: did you sum instead of averaging?"),
        Misconception("no abs", lambda y, p: float(np.mean(_r(y, p))),
                      "missing the absolute value: positive and negative residuals cancel out"),
    ),
    solution='''def mae(y_true, y_pred):
    return float(np.mean(np.abs(np.asarray(y_pred, dtype=float) - y_true)))
''',
    forbidden=(
        "lossbook.losses.mae",
        "sklearn.metrics.mean_absolute_error",
        "torch.nn.functional.l1_loss",
    ),
)


HUBER = Exercise(
    id="huber",
    title="Huber loss",
    lesson=LESSON,
    params="y_true, y_pred, delta=1.0",
    docstring="""Huber cost: the mean over examples of

    L(r) = 0.5 * r**2                   if |r| <= delta
    L(r) = delta * (|r| - 0.5 * delta)  otherwise,      with r = y_pred - y_true.

Parameters
----------
y_true, y_pred : numpy arrays of the same shape
delta : float, where the quadratic part turns linear

Returns
-------
float""",
    reference=lambda y, p, delta=1.0: losses.huber(y, p, delta=delta),
    output="scalar",
    build_cases=lambda: cases.huber(302),
    hints=(
        "Two regimes: small residuals are treated like MSE, large ones like MAE. Which one applies is decided per example.",
        "Compute both pieces for every residual, then pick one per example with np.where(np.abs(r) <= delta, ..., ...).",
        "r = y_pred - y_true; return float(np.mean(np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))))",
    ),
    misconceptions=(
        Misconception("no half", lambda y, p, delta=1.0: float(np.mean(_huber_terms(y, p, delta, half=False))),
                      "missing the ½ in the quadratic part: it is ½·r², which also makes the pieces meet at |r| = δ"),
        Misconception("no offset", lambda y, p, delta=1.0: float(np.mean(_huber_terms(y, p, delta, linear_offset=False))),
                      "the linear part is δ·(|r| − ½δ), not δ·|r|: without the −½δ the two pieces do not meet at |r| = δ"),
        Misconception("sum", lambda y, p, delta=1.0: float(np.sum(_huber_terms(y, p, delta))),
                      "exactly n times too large: did you sum instead of averaging?"),
        Misconception("delta ignored", lambda y, p, delta=1.0: float(np.mean(_huber_terms(y, p, 1.0))),
                      "your function ignores delta: use the delta argument, not the value 1"),
        Misconception("smooth l1", lambda y, p, delta=1.0: float(np.mean(_huber_terms(y, p, delta)) / delta),
                      "this is PyTorch's smooth_l1_loss (Huber divided by δ): don't divide by delta"),
    ),
    solution='''def huber(y_true, y_pred, delta=1.0):
    r = np.abs(np.asarray(y_pred, dtype=float) - y_true)
    per_example = np.where(r <= delta, 0.5 * r ** 2, delta * (r - 0.5 * delta))
    return float(np.mean(per_example))
''',
    forbidden=(
        "lossbook.losses.huber",
        "torch.nn.functional.huber_loss",
        "torch.nn.functional.smooth_l1_loss",
    ),
)


HUBER_GRAD = Exercise(
    id="huber_grad",
    title="Gradient of the Huber loss",
    lesson=LESSON,
    params="y_true, y_pred, delta=1.0",
    docstring="""Gradient of the Huber cost with respect to y_pred:

    d cost / d y_pred_i = clip(r_i, -delta, delta) / n,   with r = y_pred - y_true.

Parameters
----------
y_true, y_pred : numpy arrays of the same shape (n = the number of entries)
delta : float

Returns
-------
numpy array, same shape as y_pred""",
    reference=lambda y, p, delta=1.0: losses.huber_grad(y, p, delta=delta),
    output="array",
    build_cases=lambda: cases.huber(303),
    gradient=GradientSpec(cost=lambda y, p, delta=1.0: losses.huber(y, p, delta=delta), wrt=1),
    hints=(
        "Differentiate each piece: the quadratic part gives r, the linear part gives ±delta.",
        "So the gradient is r clipped to [-delta, delta] (np.clip), and the mean contributes 1/n.",
        "r = y_pred - y_true; return np.clip(r, -delta, delta) / r.size",
    ),
    misconceptions=(
        Misconception("sign", lambda y, p, delta=1.0: -np.clip(_r(y, p), -delta, delta) / np.size(p),
                      "gradient has the wrong sign: differentiate with respect to y_pred, r = ŷ − y"),
        Misconception("no n", lambda y, p, delta=1.0: np.clip(_r(y, p), -delta, delta),
                      "gradient not divided by n: the cost is a mean, so each example's gradient carries 1/n"),
        Misconception("no clip", lambda y, p, delta=1.0: _r(y, p) / np.size(p),
                      "the gradient must be clipped at ±δ where |r| > δ: that bounded influence is what makes Huber robust"),
        Misconception("clip at 1", lambda y, p, delta=1.0: np.clip(_r(y, p), -1.0, 1.0) / np.size(p),
                      "your function ignores delta: clip at ±delta, not ±1"),
    ),
    solution='''def huber_grad(y_true, y_pred, delta=1.0):
    r = np.asarray(y_pred, dtype=float) - y_true
    return np.clip(r, -delta, delta) / r.size
''',
    forbidden=(
        "lossbook.losses.huber_grad",
        "torch.autograd.grad",
        "torch.Tensor.backward",
    ),
)

EXERCISES = (MAE, HUBER, HUBER_GRAD)
