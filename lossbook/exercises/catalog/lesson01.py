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
        "One loss per example: compare each prediction with its own target and keep one number per example (no averaging here: that is the cost's job).",
        "L_i = (ŷ_i − y_i)², the residual r_i = ŷ_i − y_i squared. numpy subtracts and squares whole arrays entry by entry, so the result has the shape of y_true.",
        "r = y_pred - y_true     # one residual per example\n"
        "return ____             # square each residual",
    ),
    misconceptions=(
        Misconception("absolute", lambda y, p: np.abs(np.asarray(p, float) - y),
                      "these are absolute errors |ŷ − y| (MAE's loss), not squared errors"),
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
        "The cost is one number that summarises all the per-example losses, every example counting equally.",
        "J = (1/n) Σ_i L_i: add the losses up and divide by n, how many there are (losses.size).",
        "total = ____                   # the sum of all the losses\n"
        "return float(total / losses.size)",
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
