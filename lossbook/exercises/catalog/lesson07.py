"""Lesson 07, choosing a loss: one gradient-descent step on a regularized MSE."""
from __future__ import annotations

import numpy as np

from lossbook import train
from lossbook.exercises import cases
from lossbook.exercises.model import Exercise, GradientSpec, Misconception

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
        "Compute the residuals once, then the two gradients, then move against them: new = old - lr * gradient.",
        "grad_w = (2/n) X.T @ r + 2 lam w; grad_b = (2/n) sum(r). The penalty is on w only, so grad_b has no lam term.",
        "r = X @ w + b - y; n = len(y); return w - lr * (2 * X.T @ r / n + 2 * lam * w), b - lr * 2 * np.sum(r) / n",
    ),
    misconceptions=(
        Misconception("ascent", _step_variant(sign=-1.0),
                      "gradient has the wrong sign: a descent step moves against the gradient, w − lr·∇J"),
        Misconception("bias penalised", _step_variant(bias_penalised=True),
                      "penalising the bias: grad_b has no 2λb term, only the weights are penalised"),
        Misconception("no n", _step_variant(no_n=True),
                      "gradient not divided by n: the cost is a mean over examples, so its gradient carries 1/n"),
        Misconception("penalty factor", _step_variant(penalty_factor=1.0),
                      "the gradient of λΣw² is 2λw, not λw"),
        Misconception("residual sign", _step_variant(residual_sign=-1.0),
                      "the residual's sign is flipped: with r = X @ w + b − y the data gradient is +(2/n)Xᵀr"),
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

EXERCISES = (GRADIENT_DESCENT_STEP,)
