"""Lesson 02, MSE: the cost and its gradient with respect to the predictions."""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.exercises import cases
from lossbook.exercises.model import Exercise, GradientSpec, Misconception

LESSON = "02_mse"


def _r(y, p):
    return np.asarray(p, dtype=float) - np.asarray(y, dtype=float)


MSE = Exercise(
    id="mse",
    title="Mean squared error",
    lesson=LESSON,
    params="y_true, y_pred",
    docstring="""Mean squared error: MSE = (1/n) * sum_i (y_pred_i - y_true_i)**2.

Parameters
----------
y_true, y_pred : numpy arrays of the same shape (1-D or 2-D; average over every entry)

Returns
-------
float""",
    reference=lambda y, p: losses.mse(y, p),
    output="scalar",
    build_cases=lambda: cases.regression(201),
    hints=(
        "Start from the residuals r = ŷ − y: MSE treats each one the same way (squares it), then averages.",
        "MSE = (1/n) Σ_i (ŷ_i − y_i)². For a 2-D array n counts every entry, which is what np.mean does when you give it no axis.",
        "r = y_pred - y_true\n"
        "return float(np.mean(____))    # the mean of what, for each residual?",
    ),
    misconceptions=(
        Misconception("sum", lambda y, p: float(np.sum(_r(y, p) ** 2)),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not. np.mean does both steps.',
                      section='01_loss_vs_cost: Why the mean and not the sum?',
                      explorer='mse_line_fit'),
        Misconception("mae", lambda y, p: float(np.mean(np.abs(_r(y, p)))),
                      "this is MAE, not MSE: square the residuals instead of taking |·|",
                      reteach='Put MSE and MAE side by side on the same residuals: squaring vs absolute value, and why MSE punishes big residuals more.',
                      section='02_mse: Intuition',
                      explorer='mse_line_fit'),
        Misconception("half", lambda y, p: float(0.5 * np.mean(_r(y, p) ** 2)),
                      "an extra ½: MSE is the plain mean of the squared residuals (the ½ some books add is not part of it here)",
                      reteach="Show that the ½ only cancels the 2 of the derivative; the course's MSE (and scikit-learn's, torch's) has no ½.",
                      section='02_mse: Derivation: MSE is Gaussian maximum likelihood'),
        Misconception("rmse", lambda y, p: float(np.sqrt(np.mean(_r(y, p) ** 2))),
                      "this is RMSE (the square root of MSE): drop the square root",
                      reteach="Separate MSE (the cost minimised) from RMSE (its square root, reported in the target's units); both have the same minimiser.",
                      section='02_mse: Intuition'),
        Misconception("len", lambda y, p: float(np.sum(_r(y, p) ** 2) / len(y)),
                      "right for 1-D input but not for 2-D: len(y) counts rows only; divide by y.size or use np.mean",
                      reteach='Show len() on a 2-D array (rows only) vs .size (every entry); MSE averages over every entry.',
                      section='02_mse: Intuition'),
    ),
    solution='''def mse(y_true, y_pred):
    residuals = np.asarray(y_pred, dtype=float) - y_true
    return float(np.mean(residuals ** 2))
''',
    forbidden=(
        "lossbook.losses.mse",
        "sklearn.metrics.mean_squared_error",
        "torch.nn.functional.mse_loss",
    ),
)


MSE_GRAD = Exercise(
    id="mse_grad",
    title="Gradient of the MSE",
    lesson=LESSON,
    params="y_true, y_pred",
    docstring="""Gradient of the MSE cost with respect to y_pred: d MSE / d y_pred_i = 2 (y_pred_i - y_true_i) / n.

Parameters
----------
y_true, y_pred : numpy arrays of the same shape (n = the number of entries)

Returns
-------
numpy array, same shape as y_pred""",
    reference=lambda y, p: losses.mse_grad(y, p),
    output="array",
    build_cases=lambda: cases.regression(202),
    gradient=GradientSpec(cost=lambda y, p: losses.mse(y, p), wrt=1),
    hints=(
        "Differentiate with respect to one prediction ŷ_i: only one term of the sum, (ŷ_i − y_i)², contains it; then remember the 1/n in front.",
        "∂/∂ŷ_i (1/n) Σ_j (ŷ_j − y_j)² = 2 (ŷ_i − y_i) / n, with n = y_pred.size (every entry, for 2-D input too).",
        "r = y_pred - y_true\n"
        "return ____ / y_pred.size      # the derivative of r_i² with respect to ŷ_i",
    ),
    misconceptions=(
        Misconception("sign", lambda y, p: -2 * _r(y, p) / np.size(p),
                      "gradient has the wrong sign: differentiate with respect to y_pred, giving (ŷ − y), not (y − ŷ)",
                      reteach='Differentiate with respect to ŷ, where r = ŷ − y gives +2r/n; check the sign with one finite difference on the board.',
                      section='02_mse: The gradient',
                      explorer='mse_line_fit'),
        Misconception("no n", lambda y, p: 2 * _r(y, p),
                      "gradient not divided by n: the cost is a mean, so each example's gradient carries 1/n",
                      reteach="The gradient of a mean carries the mean's 1/n: differentiate (1/n) Σ r² term by term, keeping the 1/n in front.",
                      section='02_mse: The gradient'),
        Misconception("no 2", lambda y, p: _r(y, p) / np.size(p),
                      "missing the factor 2 that differentiating the square brings down",
                      reteach='Apply the power rule out loud: d/dŷ (ŷ − y)² = 2(ŷ − y); then a finite-difference check catches a missing 2.',
                      section='02_mse: The gradient'),
        Misconception("len", lambda y, p: 2 * _r(y, p) / len(p),
                      "right for 1-D input but not for 2-D: len(y_pred) counts rows only; divide by y_pred.size",
                      reteach='For 2-D predictions n is every entry (y_pred.size), not the number of rows that len() gives.',
                      section='02_mse: The gradient'),
    ),
    solution='''def mse_grad(y_true, y_pred):
    residuals = np.asarray(y_pred, dtype=float) - y_true
    return 2 * residuals / residuals.size
''',
    forbidden=(
        "lossbook.losses.mse_grad",
        "torch.autograd.grad",
        "torch.Tensor.backward",
    ),
)

EXERCISES = (MSE, MSE_GRAD)
