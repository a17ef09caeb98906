"""Case builders: hand-picked edges first, then seeded random cases.

Every builder is deterministic (``numpy.random.default_rng(seed)``), so a check always
runs the same cases and its feedback is reproducible. Sizes vary between cases (1, 4, 5,
7, 13 …) so that "n times too large" is told apart from a constant factor.
"""
from __future__ import annotations

import numpy as np

from lossbook.exercises.model import Case

#: Sizes of the random 1-D cases.
SIZES = (5, 7, 13)


def _rng(seed: int) -> np.random.Generator:
    return np.random.default_rng(seed)


def regression(seed: int) -> list[Case]:
    """``(y_true, y_pred)`` pairs of real targets: edges, 1-D random, one 2-D case."""
    rng = _rng(seed)
    cases = [
        Case("one example", (np.array([3.0]), np.array([1.5]))),
        Case("all residuals zero", (np.array([1.0, -2.0, 0.5]), np.array([1.0, -2.0, 0.5]))),
        Case("integer inputs", (np.array([1, 2, 3, 4]), np.array([2, 2, 5, 1]))),
        Case("negative and large values", (np.array([-150.0, 40.0, -3.0, 900.0]),
                                           np.array([-120.0, -35.0, -3.5, 1000.0]))),
    ]
    for n in SIZES:
        y = rng.normal(0.0, 2.0, n)
        cases.append(Case(f"random, {n} examples", (y, y + rng.normal(0.0, 1.5, n))))
    y = rng.normal(0.0, 2.0, (3, 4))
    cases.append(Case("2-D input of shape (3, 4)", (y, y + rng.normal(0.0, 1.5, (3, 4)))))
    return cases


def huber(seed: int) -> list[Case]:
    """Regression pairs plus residuals at exactly ±δ, all inside, all outside, other δ."""
    rng = _rng(seed)
    cases = [c for c in regression(seed) if c.name != "2-D input of shape (3, 4)"]
    cases += [
        Case("|r| exactly delta", (np.array([0.0, 0.0, 2.0]), np.array([1.0, -1.0, 1.0]))),
        Case("all |r| < delta", (np.array([0.1, -0.2, 0.3]), np.array([0.0, 0.1, 0.2]))),
        Case("all |r| > delta", (np.array([5.0, -4.0, 10.0]), np.array([0.0, 1.0, -2.0]))),
        Case("delta = 0.5", (np.array([0.0, 1.0, 2.0, 3.0]), np.array([0.2, 2.0, 0.5, 3.5])), {"delta": 0.5}),
    ]
    y = rng.normal(0.0, 3.0, 9)
    cases.append(Case("random, delta = 2.5", (y, y + rng.normal(0.0, 3.0, 9)), {"delta": 2.5}))
    y = rng.normal(0.0, 2.0, (3, 4))
    cases.append(Case("2-D input of shape (3, 4)", (y, y + rng.normal(0.0, 1.5, (3, 4)))))
    return cases


def losses_list(seed: int) -> list[Case]:
    """``(losses,)``: per-example losses to average."""
    rng = _rng(seed)
    cases = [
        Case("one loss", (np.array([2.5]),)),
        Case("all zero", (np.zeros(4),)),
        Case("integer losses", (np.array([1, 4, 0, 9, 16]),)),
    ]
    for n in SIZES:
        cases.append(Case(f"random, {n} losses", (rng.exponential(2.0, n),)))
    return cases


def binary_probabilities(seed: int) -> list[Case]:
    """``(y_true, p)``: labels in {0, 1}, probabilities, including p exactly 0 and 1."""
    rng = _rng(seed)
    cases = [
        Case("one example", (np.array([1.0]), np.array([0.8]))),
        Case("p = 0.5 everywhere", (np.array([1.0, 0.0, 1.0]), np.array([0.5, 0.5, 0.5]))),
        Case("p exactly 0 and 1, right", (np.array([1.0, 0.0, 1.0, 0.0]), np.array([1.0, 0.0, 1.0, 0.0]))),
        Case("p exactly 0 and 1, wrong", (np.array([1.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.7]))),
        Case("integer labels", (np.array([1, 0, 0, 1, 1]), np.array([0.9, 0.2, 0.4, 0.6, 0.55]))),
    ]
    for n in SIZES:
        cases.append(Case(f"random, {n} examples", (rng.integers(0, 2, n).astype(float), rng.uniform(0.02, 0.98, n))))
    return cases


def binary_logits(seed: int) -> list[Case]:
    """``(y_true, z)``: labels in {0, 1} and logits, including ±1000 and 0."""
    rng = _rng(seed)
    cases = [
        Case("one example", (np.array([1.0]), np.array([0.3]))),
        Case("logits zero", (np.array([1.0, 0.0, 1.0]), np.zeros(3))),
        Case("logits +-1000, right", (np.array([1.0, 0.0]), np.array([1000.0, -1000.0]))),
        Case("logits +-1000, wrong", (np.array([1.0, 0.0, 1.0]), np.array([-1000.0, 1000.0, 2.0]))),
        Case("integer labels", (np.array([1, 0, 0, 1]), np.array([2.0, -1.0, 0.5, -0.5]))),
    ]
    for n in SIZES:
        cases.append(Case(f"random, {n} examples", (rng.integers(0, 2, n).astype(float), rng.normal(0.0, 3.0, n))))
    return cases


def logit_vectors(seed: int) -> list[Case]:
    """``(z,)`` for softmax: a 1-D vector, 2-D rows, ties, one class, ±1000, rows of different scale."""
    rng = _rng(seed)
    return [
        Case("1-D vector", (np.array([1.0, 2.0, 3.0]),)),
        Case("ties", (np.array([0.5, 0.5, 0.5, 0.5]),)),
        Case("one class", (np.array([[2.0], [-3.0]]),)),
        Case("large logits (1000)", (np.array([1000.0, 999.0, -1000.0]),)),
        Case("large negative logits", (np.array([[-1000.0, -1001.0], [-1000.0, -1000.0]]),)),
        Case("2-D rows, shape (4, 3)", (rng.normal(0.0, 2.0, (4, 3)),)),
        Case("2-D rows, shape (2, 5)", (rng.normal(0.0, 2.0, (2, 5)),)),
        Case("2-D rows, shape (3, 3)", (rng.normal(0.0, 2.0, (3, 3)),)),
        Case("1-D random, 6 classes", (rng.normal(0.0, 3.0, 6),)),
        # Each row's own max, not the array's: the global max underflows the second row to 0/0.
        Case("2-D rows of different scale", (np.array([[1000.0, 999.0, 998.0], [0.0, 1.0, -1.0]]),)),
    ]


def class_indices(seed: int) -> list[Case]:
    """``(y, Z)``: class indices and logit rows, including one row, ties, one class, ±1000."""
    rng = _rng(seed)
    cases = [
        Case("one row", (np.array([2]), np.array([[1.0, 2.0, 3.0]]))),
        Case("ties", (np.array([0, 1]), np.zeros((2, 3)))),
        Case("one class", (np.array([0, 0, 0]), np.array([[1.0], [-2.0], [5.0]]))),
        Case("large logits (1000)", (np.array([0, 1]), np.array([[1000.0, -1000.0, 0.0], [1000.0, 999.0, 998.0]]))),
    ]
    for n, c in ((4, 3), (6, 5), (9, 4)):
        cases.append(Case(f"random, {n} rows x {c} classes", (rng.integers(0, c, n), rng.normal(0.0, 2.0, (n, c)))))
    return cases


def signed_scores(seed: int) -> list[Case]:
    """``(y, s)``: labels in {−1, +1} and scores, including margins exactly 1 (the kink)."""
    rng = _rng(seed)
    cases = [
        Case("one example", (np.array([1.0]), np.array([0.25]))),
        Case("scores zero", (np.array([1.0, -1.0, 1.0]), np.zeros(3))),
        Case("margin exactly 1", (np.array([1.0, -1.0, 1.0, -1.0]), np.array([1.0, -1.0, 0.5, 2.0])), {},
             False),
        Case("all beyond the margin", (np.array([1.0, -1.0]), np.array([3.0, -2.5]))),
        Case("large scores", (np.array([1.0, -1.0, -1.0]), np.array([-300.0, 250.0, -400.0]))),
        Case("integer inputs", (np.array([1, -1, 1, -1, 1]), np.array([2, 0, -1, 1, 1])), {}, False),
    ]
    for n in SIZES:
        cases.append(Case(f"random, {n} examples", (rng.choice([-1.0, 1.0], n), rng.normal(0.0, 2.0, n))))
    return cases


def class_scores(seed: int) -> list[Case]:
    """``(y, S)`` for the multi-class hinge: ties, one row, one class, large scores."""
    rng = _rng(seed)
    cases = [
        Case("one row", (np.array([0]), np.array([[3.2, 5.1, -1.7]]))),
        Case("ties", (np.array([1, 2]), np.zeros((2, 3)))),
        Case("one class", (np.array([0, 0]), np.array([[2.0], [-1.0]]))),
        Case("all margins met", (np.array([0, 1]), np.array([[5.0, 1.0, 2.0], [0.0, 4.0, 1.5]]))),
        Case("large scores", (np.array([2, 0]), np.array([[300.0, -200.0, 100.0], [-50.0, 400.0, 0.0]]))),
    ]
    for n, c in ((4, 3), (6, 5), (9, 4)):
        cases.append(Case(f"random, {n} rows x {c} classes", (rng.integers(0, c, n), rng.normal(0.0, 2.0, (n, c)))))
    return cases


def penalties(seed: int) -> list[Case]:
    """``(w, lam)``: weights and penalty strengths, including zeros, λ = 0, a matrix."""
    rng = _rng(seed)
    cases = [
        Case("one weight", (np.array([-2.0]), 0.5)),
        Case("all weights zero", (np.zeros(3), 1.0)),
        Case("lam = 0", (np.array([1.0, -2.0, 3.0]), 0.0)),
        Case("integer weights", (np.array([1, -2, 0, 4]), 0.1)),
        Case("weight matrix of shape (3, 2)", (rng.normal(0.0, 1.0, (3, 2)), 0.3)),
    ]
    for n, lam in ((5, 0.01), (8, 2.0), (13, 0.7)):
        cases.append(Case(f"random, {n} weights, lam = {lam}", (rng.normal(0.0, 2.0, n), lam)))
    return cases


def _linear_problem(rng: np.random.Generator, n: int, d: int):
    X = rng.normal(0.0, 1.0, (n, d))
    w = rng.normal(0.0, 1.5, d)
    b = float(rng.normal(0.0, 1.0))
    y = X @ rng.normal(0.0, 1.5, d) + rng.normal(0.0, 0.5, n) + 0.7
    return w, b, X, y


def linear_costs(seed: int) -> list[Case]:
    """``(w, b, X, y, lam)`` (+ ``penalty``) for the regularized cost."""
    rng = _rng(seed)
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([1.0, 2.0, 3.0])
    cases = [
        Case("perfect fit, lam = 0", (np.array([1.0, 2.0]), 0.0, X, y, 0.0)),
        Case("perfect fit, lam = 0.5", (np.array([1.0, 2.0]), 0.0, X, y, 0.5)),
        Case("large bias", (np.array([1.0, -2.0]), 5.0, X, y, 0.5)),
        Case("penalty = 'l1'", (np.array([1.0, -2.0]), 5.0, X, y, 0.5), {"penalty": "l1"}),
    ]
    for n, d, lam in ((5, 2, 0.1), (8, 3, 1.0), (13, 4, 0.05)):
        w, b, Xr, yr = _linear_problem(rng, n, d)
        cases.append(Case(f"random, {n} examples x {d} features, lam = {lam}", (w, b, Xr, yr, lam)))
    w, b, Xr, yr = _linear_problem(rng, 7, 3)
    cases.append(Case("random, penalty = 'l1'", (w, b, Xr, yr, 0.4), {"penalty": "l1"}))
    return cases


def descent_steps(seed: int) -> list[Case]:
    """``(w, b, X, y, lr, lam)`` for one gradient-descent step."""
    rng = _rng(seed)
    X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    y = np.array([1.0, 2.0, 3.0])
    cases = [
        Case("at the minimum, lam = 0", (np.array([1.0, 2.0]), 0.0, X, y, 0.1, 0.0)),
        Case("at the data minimum, lam = 0.5", (np.array([1.0, 2.0]), 0.0, X, y, 0.1, 0.5)),
        Case("large bias, lam = 1", (np.array([1.0, -2.0]), 5.0, X, y, 0.05, 1.0)),
        Case("lam left at its default", (np.array([0.5, 0.5]), 1.0, X, y, 0.1)),
    ]
    for n, d, lr, lam in ((5, 2, 0.1, 0.1), (8, 3, 0.01, 1.0), (13, 4, 0.2, 0.05)):
        w, b, Xr, yr = _linear_problem(rng, n, d)
        cases.append(Case(f"random, {n} examples x {d} features", (w, b, Xr, yr, lr, lam)))
    return cases


def quantiles(seed: int) -> list[Case]:
    """``(y_true, y_pred, q)``: under- and over-predictions, q in {0.1, 0.5, 0.9}, ties."""
    rng = _rng(seed)
    cases = [
        Case("one under-prediction, q = 0.9", (np.array([3.0]), np.array([1.0]), 0.9)),
        Case("one over-prediction, q = 0.9", (np.array([1.0]), np.array([3.0]), 0.9)),
        Case("all residuals zero", (np.array([1.0, 2.0]), np.array([1.0, 2.0]), 0.3)),
        Case("q = 0.5", (np.array([1.0, 2.0, 3.0]), np.array([2.0, 2.0, 1.0]), 0.5)),
        Case("integer inputs, q = 0.25", (np.array([1, 5, 3, 0]), np.array([2, 2, 3, 4]), 0.25)),
    ]
    for n, q in ((5, 0.1), (7, 0.9), (13, 0.6)):
        y = rng.normal(0.0, 2.0, n)
        cases.append(Case(f"random, {n} examples, q = {q}", (y, y + rng.normal(0.0, 1.5, n), q)))
    return cases


def log_cosh(seed: int) -> list[Case]:
    """Regression pairs plus residuals of ±800, where ``cosh`` overflows."""
    return regression(seed) + [
        Case("residual 800", (np.array([0.0, 800.0]), np.array([800.0, 0.0]))),
        Case("residuals 800 and small", (np.array([0.0, 1.0, -2.0]), np.array([-800.0, 1.5, -2.0]))),
    ]
