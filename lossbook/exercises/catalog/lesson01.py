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
                      "these are absolute errors |ŷ − y| (MAE's loss), not squared errors",
                      reteach='Contrast (ŷ − y)² with |ŷ − y| on one residual of 3: 9 vs 3; squaring is what makes big misses cost more.',
                      section='01_loss_vs_cost: Definitions',
                      explorer='loss_vs_cost'),
        Misconception("residual", lambda y, p: np.asarray(p, float) - y,
                      "these are the residuals ŷ − y: square them",
                      reteach='Separate the residual r = ŷ − y from the loss it feeds: the squared error is r², never negative.',
                      section='01_loss_vs_cost: Definitions',
                      explorer='loss_vs_cost'),
        Misconception("half", lambda y, p: 0.5 * (np.asarray(p, float) - y) ** 2,
                      "an extra ½: the squared error is (ŷ − y)², without the ½",
                      reteach='State the course convention: no ½ unless a formula says so; the ½ of some books only tidies a derivative.',
                      section='01_loss_vs_cost: Definitions'),
        Misconception("averaged", lambda y, p: float(np.mean((np.asarray(p, float) - y) ** 2)),
                      "that is the cost (the mean over examples); squared_errors returns one loss per example: don't average",
                      reteach="Re-teach loss (one number per example, an array) vs cost (their mean, one number): the function's name says which.",
                      section='01_loss_vs_cost: Definitions',
                      explorer='loss_vs_cost'),
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
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='01_loss_vs_cost: Why the mean and not the sum?',
                      explorer='loss_vs_cost'),
        Misconception("squared again", lambda l: float(np.mean(np.asarray(l, float) ** 2)),
                      "the losses are already per-example losses: average them as they are, don't square them",
                      reteach='Walk the pipeline once: residual → loss (squared already) → cost (mean of the losses); the cost never touches residuals.',
                      section='01_loss_vs_cost: Definitions'),
        Misconception("n - 1", lambda l: float(np.sum(l) / (np.size(l) - 1)),
                      "divided by n − 1 (the sample variance's correction); the cost divides by n",
                      reteach="Contrast the sample variance's n − 1 (an unbiased estimate of a spread) with the cost, an average over exactly n examples.",
                      section='01_loss_vs_cost: Why the mean and not the sum?'),
    ),
    solution='''def cost(losses):
    return float(np.mean(losses))
''',
    forbidden=(),
)

EXERCISES = (SQUARED_ERRORS, COST)
