"""Lesson 07, choosing a loss: one gradient-descent step on a regularized MSE, and a loss chosen by validation."""
from __future__ import annotations

import numpy as np

from lossbook import losses, train
from lossbook.exercises import cases
from lossbook.exercises.model import Case, Exercise, GradientSpec, Misconception

LESSON = "07_choosing_a_loss"


def _step_variant(sign=1.0, bias_penalised=False, no_n=False, penalty_factor=2.0, residual_sign=1.0):
    def step(w, b, X, y, lr, lam=0.0):
        w, X, y = np.asarray(w, dtype=float), np.asarray(X, dtype=float), np.asarray(y, dtype=float)
        r = residual_sign * (X @ w + b - y)
        n = 1 if no_n else len(y)
        grad_w = 2 * X.T @ r / n + penalty_factor * lam * w
        grad_b = 2 * np.sum(r) / n + (2 * lam * b if bias_penalised else 0.0)
        return w - sign * lr * grad_w, float(b - sign * lr * grad_b)
    return step


GRADIENT_DESCENT_STEP = Exercise(
    id="gradient_descent_step",
    title="One gradient-descent step",
    lesson=LESSON,
    params="w, b, X, y, lr, lam=0.0",
    docstring="""One gradient-descent step on J(w, b) = mean((X @ w + b - y)**2) + lam * sum(w**2).

With residuals r = X @ w + b - y (n examples):
    grad_w = (2/n) X.T @ r + 2 * lam * w,    grad_b = (2/n) sum(r)     (the bias is not penalised)
    new_w = w - lr * grad_w,                 new_b = b - lr * grad_b

Parameters
----------
w : numpy array, shape (d,);  b : float
X : numpy array, shape (n, d);  y : numpy array, shape (n,)
lr : float, the learning rate;  lam : float, the L2 penalty strength

Returns
-------
(new_w, new_b) : a numpy array of shape (d,) and a float""",
    reference=lambda w, b, X, y, lr, lam=0.0: train.gradient_descent_step(w, b, X, y, lr, lam=lam),
    output="step",
    build_cases=lambda: cases.descent_steps(701),
    count=lambda case: len(case.args[3]),
    gradient=GradientSpec(
        cost=lambda w, b, X, y, lr, lam=0.0: train.regularized_cost(w, b, X, y, lam),
        wrt=0,
        extract=lambda args, out: (np.asarray(args[0], dtype=float) - np.asarray(out[0], dtype=float)) / args[4],
    ),
    hints=(
        "The idea: compute the residuals r = ŷ − y once, then the two gradients, then move against them: "
        "new = old − lr · gradient. Build new arrays; leave w itself unchanged.",
        "The formula: grad_w = (2/n) Xᵀr + 2λw and grad_b = (2/n) Σᵢ rᵢ. The penalty is on w only, so grad_b has "
        "no λ term.",
        "r = X @ w + b - y; n = len(y); grad_w = ____; grad_b = 2 * np.sum(r) / n; "
        "return w - lr * grad_w, float(b - lr * grad_b)",
    ),
    misconceptions=(
        Misconception("ascent", _step_variant(sign=-1.0),
                      "gradient has the wrong sign: a descent step moves against the gradient, w − lr·∇J",
                      reteach='A descent step goes against the gradient: w − lr·∇J; one step on a parabola shows the cost must fall.',
                      section='07_choosing_a_loss: Experiment 3 — regularization on a small, noisy data set'),
        Misconception("bias penalised", _step_variant(bias_penalised=True),
                      "penalising the bias: grad_b has no 2λb term, only the weights are penalised",
                      reteach='Only the weights are penalised, so grad_b is the data term alone (no 2λb).',
                      section='06_regularization: Why the bias is not penalised'),
        Misconception("no n", _step_variant(no_n=True),
                      "gradient not divided by n: the cost is a mean over examples, so its gradient carries 1/n",
                      reteach='The data term is a mean over examples: its gradient is (2/n) Xᵀr.',
                      section='06_regularization: L2 as weight decay'),
        Misconception("penalty factor", _step_variant(penalty_factor=1.0),
                      "the gradient of λΣw² is 2λw, not λw",
                      reteach="d/dw λΣw² = 2λw (no ½ in the course's penalty), which is weight decay by 2·lr·λ per step.",
                      section='06_regularization: L2 as weight decay'),
        Misconception("residual sign", _step_variant(residual_sign=-1.0),
                      "the residual's sign is flipped: with r = X @ w + b − y the data gradient is +(2/n)Xᵀr",
                      reteach='With r = X @ w + b − y the gradient of the MSE is +(2/n)Xᵀr; r = ŷ − y, never y − ŷ.',
                      section='06_regularization: L2 as weight decay'),
    ),
    solution='''def gradient_descent_step(w, b, X, y, lr, lam=0.0):
    w = np.asarray(w, dtype=float)
    r = X @ w + b - y
    n = len(y)
    grad_w = 2 * X.T @ r / n + 2 * lam * w
    grad_b = 2 * np.sum(r) / n
    return w - lr * grad_w, float(b - lr * grad_b)
''',
    forbidden=(
        "lossbook.train.gradient_descent_step",
        "torch.autograd.grad",
        "torch.Tensor.backward",
    ),
)


#: The candidate losses of ``choose_loss``, in order (ties go to the first).
CANDIDATES = ("mse", "mae", "huber")
_PREDICTION_GRADIENTS = {
    "mse": lambda y, p: losses.mse_grad(y, p),
    "mae": lambda y, p: losses.mae_grad(y, p),
    "huber": lambda y, p: losses.huber_grad(y, p, delta=1.0),
}
_METRICS = {"mse": losses.mse, "mae": losses.mae, "huber": lambda y, p: losses.huber(y, p, delta=1.0)}


def fit_by_descent(loss, X, y, lr=0.05, steps=300):
    """Full-batch gradient descent from w = 0, b = 0 on the mean ``loss`` of the linear model X @ w + b."""
    X, y = np.asarray(X, dtype=float), np.asarray(y, dtype=float)
    w, b = np.zeros(X.shape[1]), 0.0
    gradient = _PREDICTION_GRADIENTS[loss]
    for _ in range(steps):
        g = gradient(y, X @ w + b)                     # d(mean loss)/d(prediction), carries the 1/n
        w, b = w - lr * (X.T @ g), b - lr * float(np.sum(g))
    return w, b


def validation_scores(X_train, y_train, X_val, y_val, lr=0.05, steps=300, *, metric="mae", on="validation"):
    """Each candidate's fit and its score: ``[(loss, (w, b), score), ...]`` in :data:`CANDIDATES` order.

    ``metric="own"`` scores each fit with its own loss (a misconception); ``on="training"`` scores on
    the training data (another)."""
    X_s, y_s = (X_val, y_val) if on == "validation" else (X_train, y_train)
    X_s, y_s = np.asarray(X_s, dtype=float), np.asarray(y_s, dtype=float)
    out = []
    for loss in CANDIDATES:
        w, b = fit_by_descent(loss, X_train, y_train, lr, steps)
        score = _METRICS[loss if metric == "own" else metric](y_s, X_s @ w + b)
        out.append((loss, (w, b), float(score)))
    return out


def choose_loss_reference(X_train, y_train, X_val, y_val, lr=0.05, steps=300):
    """The fit whose validation MAE is lowest, as ``(w, b)``."""
    scored = validation_scores(X_train, y_train, X_val, y_val, lr, steps)
    return min(scored, key=lambda item: item[2])[1]


def _choose_variant(metric="mae", on="validation", worst=False):
    def choose(X_train, y_train, X_val, y_val, lr=0.05, steps=300):
        scored = validation_scores(X_train, y_train, X_val, y_val, lr, steps, metric=metric, on=on)
        return (max if worst else min)(scored, key=lambda item: item[2])[1]
    return choose


def _line_data(seed, *, n=60, n_val=40, d=1, heavy_tails=False, outliers=0.0, size=10.0):
    """A training and a validation set from one linear truth; a fraction of the training targets
    shifted up by ``size`` (outliers in y); Student-t noise (2 degrees of freedom) if ``heavy_tails``."""
    rng = np.random.default_rng(seed)
    coef, intercept = rng.normal(0.0, 1.5, d), float(rng.normal())

    def draw(m, fraction):
        X = rng.uniform(-2.0, 2.0, (m, d))
        noise = rng.standard_t(2, m) if heavy_tails else rng.normal(0.0, 1.0, m)
        y = X @ coef + intercept + noise
        y[: int(round(fraction * m))] += size
        return X, y

    return (*draw(n, outliers), *draw(n_val, 0.0))


def _choice_cases():
    """Data sets on which each candidate wins at least once (by a clear margin)."""
    return [
        Case("clean Gaussian noise (MSE wins)", _line_data(0)),
        Case("Gaussian noise, another draw", _line_data(3)),
        Case("10% outliers in y (MAE wins)", _line_data(2, outliers=0.1)),
        Case("30% outliers in y (Huber wins)", _line_data(0, outliers=0.3)),
        Case("heavy-tailed noise", _line_data(0, heavy_tails=True)),
        Case("heavy-tailed noise, another draw", _line_data(1, heavy_tails=True)),
        Case("two features, 10% outliers", _line_data(5, d=2, outliers=0.1)),
        Case("three features, clean, 25 examples", _line_data(6, n=25, d=3)),
    ]


CHOOSE_LOSS = Exercise(
    id="choose_loss",
    title="Choose a loss by validation",
    lesson=LESSON,
    params="X_train, y_train, X_val, y_val, lr=0.05, steps=300",
    docstring="""Fit a linear model X @ w + b with each candidate loss, and return the fit that does best on validation data.

Candidates, in this order: "mse", "mae", "huber" (delta = 1). For each one, start from w = 0, b = 0 and
take `steps` full-batch gradient-descent steps with learning rate `lr` on the mean loss over the training
data. With residuals r = X_train @ w + b - y_train, each example's slope g_i is

    2 * r_i (mse),    sign(r_i) (mae),    clip(r_i, -1, 1) (huber),

and grad_w = X_train.T @ g / n, grad_b = mean(g).

Judge every fit by ONE metric, the mean absolute error on the validation data, mean(|X_val @ w + b - y_val|),
and return the (w, b) of the fit with the lowest one (the first on a tie).

Parameters
----------
X_train : numpy array, shape (n, d);  y_train : numpy array, shape (n,)
X_val : numpy array, shape (m, d);  y_val : numpy array, shape (m,)
lr : float, the learning rate;  steps : int, the number of steps

Returns
-------
(w, b) : a numpy array of shape (d,) and a float""",
    reference=choose_loss_reference,
    output="step",
    build_cases=_choice_cases,
    count=lambda case: len(case.args[1]),
    rtol=1e-6,
    atol=1e-8,
    hints=(
        "The idea: the training loss is a choice, and only data the fit has not seen can judge it. Fit once per "
        "candidate on the training data, score every fit with the same validation metric, keep the best.",
        "The formula: for each loss, repeat `steps` times w ← w − lr·X_trainᵀg/n, b ← b − lr·mean(g) with g the "
        "loss's slope (2r, sign(r) or clip(r, −1, 1)); then score = mean(|X_val @ w + b − y_val|), and pick the "
        "smallest score.",
        "slopes = {'mse': lambda r: 2 * r, 'mae': np.sign, 'huber': lambda r: np.clip(r, -1, 1)}; "
        "best = None; for name, slope in slopes.items(): (fit w, b by the loop); score = ____; "
        "if best is None or score < best[0]: best = (score, w, b); return best[1], best[2]",
    ),
    misconceptions=(
        Misconception("chose on training data", _choose_variant(on="training"),
                      "you scored the fits on the training data: it rewards the loss that was fitted to it (and to "
                      "its outliers); score every fit on the validation data it has not seen",
                      reteach='Re-run experiment 1: the training data contains the outliers a loss was fitted to, so only validation scores compare fits fairly.',
                      section='07_choosing_a_loss: Experiment 1 — regression with outliers: MSE, MAE or Huber?',
                      explorer='outlier_experiment'),
        Misconception("each fit's own loss", _choose_variant(metric="own"),
                      "you scored each fit with its own loss (MSE numbers against MAE and Huber numbers): compare all "
                      "candidates with ONE metric, the validation mean absolute error",
                      reteach='One yardstick for every candidate: score all fits with the same validation metric, never each with its own loss.',
                      section='07_choosing_a_loss: Experiment 1 — regression with outliers: MSE, MAE or Huber?',
                      explorer='outlier_experiment'),
        Misconception("validation MSE", _choose_variant(metric="mse"),
                      "you scored the fits by validation MSE; the metric here is the validation mean absolute error, "
                      "mean(|ŷ − y|)",
                      reteach='The metric is given by the task (validation MAE here); the fitting loss and the scoring metric are separate choices.',
                      section='07_choosing_a_loss: The decision guide'),
        Misconception("largest error", _choose_variant(worst=True),
                      "you returned the fit with the largest validation error: keep the smallest",
                      reteach='Keep the candidate with the smallest validation error (argmin, not argmax).',
                      section='07_choosing_a_loss: Experiment 1 — regression with outliers: MSE, MAE or Huber?'),
    ),
    solution='''def choose_loss(X_train, y_train, X_val, y_val, lr=0.05, steps=300):
    slopes = {"mse": lambda r: 2 * r, "mae": np.sign, "huber": lambda r: np.clip(r, -1.0, 1.0)}
    n = len(y_train)
    best = None
    for name, slope in slopes.items():
        w, b = np.zeros(X_train.shape[1]), 0.0
        for _ in range(steps):
            g = slope(X_train @ w + b - y_train)
            w, b = w - lr * X_train.T @ g / n, b - lr * np.mean(g)
        score = np.mean(np.abs(X_val @ w + b - y_val))
        if best is None or score < best[0]:
            best = (score, w, b)
    return best[1], float(best[2])
''',
    forbidden=(
        "lossbook.fitting.fit_line",
        "lossbook.fitting.huber_regression",
        "lossbook.fitting.mae_line",
        "sklearn.linear_model.HuberRegressor.fit",
        "sklearn.linear_model.QuantileRegressor.fit",
        "sklearn.linear_model.LinearRegression.fit",
        "sklearn.linear_model.SGDRegressor.fit",
    ),
)

EXERCISES = (GRADIENT_DESCENT_STEP, CHOOSE_LOSS)
