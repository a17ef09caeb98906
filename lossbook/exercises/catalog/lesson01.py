"""Lesson 01, loss vs cost: per-example losses, and the cost as their mean."""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.exercises import cases
from lossbook.exercises.model import Exercise, Misconception

LESSON = "01_loss_vs_cost"


def _squared_errors(y_true, y_pred):
    return losses.mse(y_true, y_pred, reduction="none")


SQUARED_ERRORS = Exercise(
    id="squared_errors",
    title="Per-example squared errors",
    lesson=LESSON,
    params="y_true, y_pred",
    docstring="""Squared error of each example: L_i = (y_pred_i - y_true_i)**2.

Parameters
----------
y_true, y_pred : numpy arrays of the same shape

Returns
-------
numpy array, same shape: one loss per example (do not average)""",
    reference=_squared_errors,
    output="array",
    build_cases=lambda: cases.regression(101),
    hints=(
        "One number per example: the result has the same shape as y_true.",
        "Subtract, then square, element by element; numpy does it for whole arrays at once.",
        "return (y_pred - y_true) ** 2",
    ),
    misconceptions=(
        Misconception("absolute", lambda y, p: np.abs(np.asarray(p, float) - y),
                      "these are absolute errors |y − ŷ| (MAE's loss), not squared errors"),
        Misconception("residual", lambda y, p: np.asarray(p, float) - y,
                      "these are the residuals ŷ − y: square them"),
        Misconception("half", lambda y, p: 0.5 * (np.asarray(p, float) - y) ** 2,
                      "an extra ½: the squared error is (ŷ − y)², without the ½"),
        Misconception("averaged", lambda y, p: float(np.mean((np.asarray(p, float) - y) ** 2)),
                      "that is the cost (the mean over examples); squared_errors returns one loss per example: don't average"),
    ),
    solution='''def squared_errors(y_true, y_pred):
    return (np.asarray(y_pred, dtype=float) - y_true) ** 2
''',
    forbidden=(
        "torch.nn.functional.mse_loss",
    ),
)


COST = Exercise(
    id="cost",
    title="The cost: average of the per-example losses",
    lesson=LESSON,
    params="losses",
    docstring="""The cost J = (1/n) * sum_i L_i: the mean of the per-example losses.

Parameters
----------
losses : 1-D numpy array, one loss per example

Returns
-------
float""",
    reference=lambda losses_: float(np.mean(losses_)),
    output="scalar",
    build_cases=lambda: cases.losses_list(102),
    count=lambda case: np.size(case.args[0]),
    hints=(
        "The cost is one number that summarises all the per-example losses.",
        "Add the losses up, then divide by how many there are (or let numpy do both).",
        "return float(np.mean(losses))",
    ),
    misconceptions=(
        Misconception("sum", lambda l: float(np.sum(l)),
                      "exactly n times too large: did you sum instead of averaging?"),
        Misconception("squared again", lambda l: float(np.mean(np.asarray(l, float) ** 2)),
                      "the losses are already per-example losses: average them as they are, don't square them"),
        Misconception("n - 1", lambda l: float(np.sum(l) / (np.size(l) - 1)),
                      "divided by n − 1 (the sample variance's correction); the cost divides by n"),
    ),
    solution='''def cost(losses):
    return float(np.mean(losses))
''',
    forbidden=(),
)

EXERCISES = (SQUARED_ERRORS, COST)
