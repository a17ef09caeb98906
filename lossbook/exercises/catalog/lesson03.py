"""Lesson 03, MAE and Huber: robust costs, and Huber's clipped gradient."""
from __future__ import annotations

import dataclasses

import numpy as np

from lossbook import losses
from lossbook.exercises import cases
from lossbook.exercises.model import Case, Exercise, GradientSpec, Misconception

LESSON = "03_mae_huber"


def _r(y, p):
    return np.asarray(p, dtype=float) - np.asarray(y, dtype=float)


def _huber_terms(y, p, delta=1.0, half=True, linear_offset=True, offset=0.5):
    r = np.abs(_r(y, p))
    quad = (0.5 if half else 1.0) * r ** 2
    lin = delta * (r - offset * delta) if linear_offset else delta * r
    return np.where(r <= delta, quad, lin)


def _mae_grad_cases():
    """Regression pairs and a few residuals exactly 0 (the kink, where the convention decides);
    no numeric gradient on cases with a zero residual, where a finite difference straddles the kink."""
    built = cases.regression(304) + [
        Case("some residuals exactly 0", (np.array([1.0, 2.0, 3.0, 4.0, -1.5]), np.array([1.0, 2.5, 3.0, 3.0, -1.5]))),
        Case("2-D, one residual exactly 0", (np.array([[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]),
                                              np.array([[0.5, 1.0, -2.0], [3.5, 3.0, 9.0]]))),
    ]
    return [dataclasses.replace(c, numeric_gradient=False) if np.any(_r(*c.args) == 0) else c for c in built]


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
        "Like MSE, but each residual counts by its size, not its square: a residual twice as large costs twice as much.",
        "MAE = (1/n) Σ_i |ŷ_i − y_i|: np.abs of each residual, then the mean over every entry.",
        "r = y_pred - y_true\n"
        "return float(np.mean(____))    # the size of each residual, whatever its sign",
    ),
    misconceptions=(
        Misconception("mse", lambda y, p: float(np.mean(_r(y, p) ** 2)),
                      "this is MSE, not MAE: take |ŷ − y| instead of squaring",
                      reteach='Contrast |r| with r²: MAE grows linearly, so one outlier moves it far less; plot both on the same residuals.',
                      section='03_mae_huber: Derivation: MAE is Laplace maximum likelihood',
                      explorer='robust_fit'),
        Misconception("sum", lambda y, p: float(np.sum(np.abs(_r(y, p)))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='03_mae_huber: Derivation: MAE is Laplace maximum likelihood'),
        Misconception("no abs", lambda y, p: float(np.mean(_r(y, p))),
                      "missing the absolute value: positive and negative residuals cancel out",
                      reteach='Show residuals of +2 and −2 cancelling in mean(r) but not in mean(|r|): the absolute value makes every miss count.',
                      section='03_mae_huber: Derivation: MAE is Laplace maximum likelihood',
                      explorer='robust_fit'),
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


MAE_GRAD = Exercise(
    id="mae_grad",
    title="(Sub)gradient of the mean absolute error",
    lesson=LESSON,
    params="y_true, y_pred",
    docstring="""(Sub)gradient of the MAE cost with respect to y_pred:

    d MAE / d y_pred_i = sign(r_i) / n,   with r = y_pred - y_true.

At r_i = 0, where |r| has a kink and no derivative, use the subgradient 0 (the
convention of np.sign and PyTorch's l1_loss; any value in [-1/n, 1/n] is a valid
subgradient there, but this exercise asks for 0).

Parameters
----------
y_true, y_pred : numpy arrays of the same shape (n = the number of entries)

Returns
-------
numpy array, same shape as y_pred""",
    reference=lambda y, p: losses.mae_grad(y, p),
    output="array",
    build_cases=_mae_grad_cases,
    gradient=GradientSpec(cost=lambda y, p: losses.mae(y, p), wrt=1),
    hints=(
        "Each |ŷ_i − y_i| depends on ŷ_i only: its slope is +1 when the prediction is too high, −1 when it is too "
        "low, whatever the size of the residual; the mean adds 1/n.",
        "∂MAE/∂ŷ_i = sign(ŷ_i − y_i) / n. At r_i = 0 the slope jumps from −1 to +1: use 0 there (np.sign(0) is 0).",
        "r = y_pred - y_true\n"
        "return ____ / r.size           # +1, -1 or 0 for each residual",
    ),
    misconceptions=(
        Misconception("sign", lambda y, p: -np.sign(_r(y, p)) / np.size(p),
                      "gradient has the wrong sign: differentiate with respect to y_pred, r = ŷ − y",
                      reteach='With r = ŷ − y, d|r|/dŷ = sign(r): over-predictions push ŷ down; check one entry numerically.',
                      section='03_mae_huber: Derivation: MAE is Laplace maximum likelihood'),
        Misconception("no n", lambda y, p: np.sign(_r(y, p)),
                      "gradient not divided by n: the cost is a mean, so each example's gradient carries 1/n",
                      reteach="The cost is a mean, so each example's subgradient sign(r) is divided by n.",
                      section='03_mae_huber: Derivation: MAE is Laplace maximum likelihood'),
        Misconception("plus one at 0", lambda y, p: np.where(_r(y, p) >= 0, 1.0, -1.0) / np.size(p),
                      "right except where r = 0, where you returned +1/n (r >= 0 counted as positive): any value in "
                      "[−1/n, 1/n] is a subgradient at the kink, but this exercise uses 0 there, as np.sign does",
                      reteach='At r = 0 any value in [−1/n, 1/n] is a subgradient; the exercise (and np.sign) uses 0, so compare r >= 0 with np.sign on a zero residual.',
                      section='03_mae_huber: Derivation: MAE is Laplace maximum likelihood'),
        Misconception("minus one at 0", lambda y, p: np.where(_r(y, p) > 0, 1.0, -1.0) / np.size(p),
                      "right except where r = 0, where you returned −1/n (everything not positive counted as "
                      "negative): this exercise uses 0 at the kink, as np.sign does",
                      reteach='np.sign(0) is 0: re-teach the subgradient at the kink as an interval, with 0 the conventional pick.',
                      section='03_mae_huber: Derivation: MAE is Laplace maximum likelihood'),
        Misconception("r over abs r", lambda y, p: _r(y, p) / np.abs(_r(y, p)) / np.size(p),
                      "r / |r| is 0/0 = nan where r = 0: use np.sign(r), which is 0 there",
                      reteach='Evaluate r/|r| at r = 0 (0/0 = nan) next to np.sign(0) = 0: one exact tie breaks the whole gradient.',
                      section='03_mae_huber: Derivation: MAE is Laplace maximum likelihood'),
        Misconception("mse gradient", lambda y, p: _r(y, p) / np.size(p),
                      "this is the gradient of ½·MSE (it grows with r); MAE's gradient keeps only the sign of each "
                      "residual, so every example pulls equally hard",
                      reteach="Contrast the two influence functions: MSE's gradient grows with r, MAE's is ±1/n for every example, which is why MAE resists outliers.",
                      section='03_mae_huber: Derivation: MAE is Laplace maximum likelihood',
                      explorer='robust_fit'),
    ),
    solution='''def mae_grad(y_true, y_pred):
    r = np.asarray(y_pred, dtype=float) - y_true
    return np.sign(r) / r.size
''',
    forbidden=(
        "lossbook.losses.mae_grad",
        "torch.autograd.grad",
        "torch.Tensor.backward",
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
        "Two regimes, chosen per example: a small residual (|r| ≤ δ) costs like ½·MSE, a large one like δ·MAE, shifted so that the two pieces meet at |r| = δ.",
        "ρ(r) = ½ r² if |r| ≤ δ, else δ (|r| − ½δ), with r = ŷ − y; the cost is the mean of ρ over every entry. np.where(condition, a, b) picks a or b entry by entry.",
        "r = y_pred - y_true\n"
        "quadratic = 0.5 * r ** 2\n"
        "linear = ____                  # the piece for |r| > delta\n"
        "return float(np.mean(np.where(np.abs(r) <= delta, quadratic, linear)))",
    ),
    misconceptions=(
        Misconception("no half", lambda y, p, delta=1.0: float(np.mean(_huber_terms(y, p, delta, half=False))),
                      "missing the ½ in the quadratic part: it is ½·r², which also makes the pieces meet at |r| = δ",
                      reteach='Draw both pieces and show that only ½r² meets δ(|r| − ½δ) at |r| = δ with matching slope.',
                      section='03_mae_huber: The Huber loss: an M-estimator with clipped influence',
                      explorer='robust_fit'),
        Misconception("no offset", lambda y, p, delta=1.0: float(np.mean(_huber_terms(y, p, delta, linear_offset=False))),
                      "the linear part is δ·(|r| − ½δ), not δ·|r|: without the −½δ the two pieces do not meet at |r| = δ",
                      reteach='Evaluate both pieces at |r| = δ: ½δ² vs δ·δ; the −½δ offset makes the loss continuous there.',
                      section='03_mae_huber: The Huber loss: an M-estimator with clipped influence'),
        Misconception("offset delta", lambda y, p, delta=1.0: float(np.mean(_huber_terms(y, p, delta, offset=1.0))),
                      "the linear part is δ·(|r| − ½δ), not δ·(|r| − δ): at |r| = δ the quadratic piece is ½δ², "
                      "and only the offset ½δ makes the linear piece equal it there",
                      reteach='Solve for the offset on the board: δ(|r| − c) = ½δ² at |r| = δ gives c = ½δ, not δ.',
                      section='03_mae_huber: The Huber loss: an M-estimator with clipped influence'),
        Misconception("sum", lambda y, p, delta=1.0: float(np.sum(_huber_terms(y, p, delta))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='03_mae_huber: The Huber loss: an M-estimator with clipped influence'),
        Misconception("delta ignored", lambda y, p, delta=1.0: float(np.mean(_huber_terms(y, p, 1.0))),
                      "your function ignores delta: use the delta argument, not the value 1",
                      reteach='Run the explorer with δ = 0.5 and δ = 3: δ is the switch point between the pieces, so the function must use its argument.',
                      section='03_mae_huber: Choosing δ',
                      explorer='robust_fit'),
        Misconception("smooth l1", lambda y, p, delta=1.0: float(np.mean(_huber_terms(y, p, delta)) / delta),
                      "this is PyTorch's smooth_l1_loss (Huber divided by δ): don't divide by delta",
                      reteach="Compare Huber with PyTorch's smooth_l1_loss: smooth L1 = Huber/δ (equal only at δ = 1); this course's huber is not divided.",
                      section='03_mae_huber: The Huber loss: an M-estimator with clipped influence'),
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
        "Differentiate each piece of ρ separately: the quadratic piece gives r, the linear piece gives ±δ; the mean adds 1/n.",
        "∂Huber/∂ŷ_i = clip(r_i, −δ, δ) / n with r = ŷ − y: r where |r| ≤ δ, δ·sign(r) beyond. np.clip(x, low, high) does the clipping.",
        "r = y_pred - y_true\n"
        "return ____ / r.size           # r_i, clipped to [-delta, delta]",
    ),
    misconceptions=(
        Misconception("sign", lambda y, p, delta=1.0: -np.clip(_r(y, p), -delta, delta) / np.size(p),
                      "gradient has the wrong sign: differentiate with respect to y_pred, r = ŷ − y",
                      reteach="With r = ŷ − y the quadratic piece's gradient is +r/n; check the sign with one finite difference.",
                      section='03_mae_huber: The Huber loss: an M-estimator with clipped influence'),
        Misconception("no n", lambda y, p, delta=1.0: np.clip(_r(y, p), -delta, delta),
                      "gradient not divided by n: the cost is a mean, so each example's gradient carries 1/n",
                      reteach="The cost is a mean: each example's clipped residual is divided by n.",
                      section='03_mae_huber: The Huber loss: an M-estimator with clipped influence'),
        Misconception("no clip", lambda y, p, delta=1.0: _r(y, p) / np.size(p),
                      "the gradient must be clipped at ±δ where |r| > δ: that bounded influence is what makes Huber robust",
                      reteach='Show the influence function: r inside ±δ, then flat at ±δ; that clipping is the whole point of Huber (bounded pull of an outlier).',
                      section='03_mae_huber: The Huber loss: an M-estimator with clipped influence',
                      explorer='robust_fit'),
        Misconception("clip at 1", lambda y, p, delta=1.0: np.clip(_r(y, p), -1.0, 1.0) / np.size(p),
                      "your function ignores delta: clip at ±delta, not ±1",
                      reteach='The clip level is δ, the same δ as in the loss: run the gradient with δ = 0.5 and δ = 2 on the same residual.',
                      section='03_mae_huber: Choosing δ',
                      explorer='robust_fit'),
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

EXERCISES = (MAE, MAE_GRAD, HUBER, HUBER_GRAD)
