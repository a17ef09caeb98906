"""regularized_cost and gradient_descent_step: the references of two learner exercises.

Their signatures are a contract with the exercise engine (issue 3), so they are pinned
here too, and their values are checked against independent computations.
"""
import inspect

import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from hypothesis.extra.numpy import arrays

from lossbook import train
from lossbook.gradcheck import check_gradient, numeric_gradient


def parameters(function) -> str:
    return str(inspect.signature(function).replace(return_annotation=inspect.Signature.empty))


def test_signatures_are_the_exercise_contract():
    assert parameters(train.regularized_cost) == "(w, b, X, y, lam, penalty='l2')"
    assert parameters(train.gradient_descent_step) == "(w, b, X, y, lr, lam=0.0)"


finite = st.floats(-10, 10, allow_nan=False, allow_infinity=False)


@st.composite
def problems(draw):
    n = draw(st.integers(1, 12))
    d = draw(st.integers(1, 4))
    X = draw(arrays(np.float64, (n, d), elements=finite))
    y = draw(arrays(np.float64, (n,), elements=finite))
    w = draw(arrays(np.float64, (d,), elements=finite))
    b = draw(finite)
    lam = draw(st.floats(0, 5))
    return w, b, X, y, lam


@settings(max_examples=60, deadline=None)
@given(problems())
def test_regularized_cost_by_explicit_loops(problem):
    w, b, X, y, lam = problem
    n, d = X.shape
    # plain Python sums, one example and one weight at a time: the formula as written
    squared = sum((sum(X[i, j] * w[j] for j in range(d)) + b - y[i]) ** 2 for i in range(n)) / n
    assert train.regularized_cost(w, b, X, y, lam) == pytest.approx(squared + lam * sum(wj * wj for wj in w), rel=1e-10, abs=1e-10)
    assert train.regularized_cost(w, b, X, y, lam, penalty="l1") == pytest.approx(squared + lam * sum(abs(wj) for wj in w), rel=1e-10, abs=1e-10)


def test_bias_is_not_penalised():
    X = np.array([[1.0], [2.0]])
    y = np.array([3.0, 5.0])
    w = np.array([2.0])
    # b = 1 fits exactly: the cost is the penalty of w alone, whatever the size of b
    assert train.regularized_cost(w, 1.0, X, y, lam=0.25) == pytest.approx(0.25 * 4)
    assert train.regularized_cost(w - 2.0, 4.0, X + 0.0, y + 0.0, lam=0.25) == pytest.approx(
        np.mean((4.0 - y) ** 2))


@settings(max_examples=60, deadline=None)
@given(problems())
def test_step_moves_against_the_numeric_gradient_of_the_cost(problem):
    w, b, X, y, lam = problem
    theta = np.append(w, b)

    def cost(theta):
        return train.regularized_cost(theta[:-1], theta[-1], X, y, lam)

    new_w, new_b = train.gradient_descent_step(w, b, X, y, lr=1.0, lam=lam)
    analytic = theta - np.append(new_w, new_b)          # with lr = 1 the step is the gradient
    numeric = numeric_gradient(cost, theta)
    # round-off of the central difference grows with |cost| / h; of the subtraction with |theta|
    atol = 1e-6 * (1 + np.abs(numeric).max() + np.abs(theta).max())
    np.testing.assert_allclose(analytic, numeric, rtol=1e-6, atol=atol)


def test_step_gradient_passes_the_cs231n_check():
    rng = np.random.default_rng(0)
    X, y, w = rng.standard_normal((20, 3)), rng.standard_normal(20), rng.standard_normal(3)
    theta = np.append(w, 0.3)

    def cost(theta):
        return train.regularized_cost(theta[:-1], theta[-1], X, y, 0.2)

    def step_gradient(theta):
        new_w, new_b = train.gradient_descent_step(theta[:-1], theta[-1], X, y, lr=1.0, lam=0.2)
        return theta - np.append(new_w, new_b)

    assert check_gradient(cost, step_gradient, theta) < 1e-7


def test_step_by_hand():
    X = np.array([[1.0, 2.0], [3.0, -1.0], [0.0, 1.0]])
    y = np.array([1.0, 0.0, 2.0])
    w = np.array([0.5, -0.5])
    # r = Xw + b - y = [-0.5+0.1-1, 2+0.1-0, -0.5+0.1-2] = [-1.4, 2.1, -2.4]
    # grad_w = (2/3) X^T r + 2 * 0.1 * w = (2/3)[4.9, -7.3] + [0.1, -0.1]
    # grad_b = (2/3)(-1.7)
    new_w, new_b = train.gradient_descent_step(w, 0.1, X, y, lr=0.3, lam=0.1)
    np.testing.assert_allclose(new_w, w - 0.3 * (np.array([4.9, -7.3]) * 2 / 3 + np.array([0.1, -0.1])))
    assert new_b == pytest.approx(0.1 - 0.3 * (2 / 3) * (-1.7))
    assert isinstance(new_b, float)


def test_step_never_mutates_its_inputs():
    X = np.array([[1.0], [2.0]])
    y = np.array([1.0, 3.0])
    w = np.array([0.0])
    copies = X.copy(), y.copy(), w.copy()
    new_w, _ = train.gradient_descent_step(w, 0.0, X, y, lr=0.1, lam=0.5)
    assert new_w is not w
    for original, copy in zip((X, y, w), copies):
        np.testing.assert_array_equal(original, copy)


def test_lists_and_integers_are_accepted():
    new_w, new_b = train.gradient_descent_step([0, 0], 0, [[1, 0], [0, 1]], [1, 1], lr=1, lam=0)
    np.testing.assert_allclose(new_w, [1.0, 1.0])
    assert new_b == pytest.approx(2.0)
    assert train.regularized_cost([1, 1], 0, [[1, 0], [0, 1]], [1, 1], 1) == 2.0


@pytest.mark.parametrize("call, error, message", [
    (lambda: train.gradient_descent_step([1.0], 0.0, [1.0, 2.0], [1.0, 2.0], 0.1),
     ValueError, r"gradient_descent_step: X must be 2-D.*X.reshape\(-1, 1\)"),
    (lambda: train.gradient_descent_step([1.0, 2.0], 0.0, [[1.0], [2.0]], [1.0, 2.0], 0.1),
     ValueError, r"w must have one weight per column of X, shape \(1,\), got shape \(2,\)"),
    (lambda: train.gradient_descent_step([[1.0]], 0.0, [[1.0], [2.0]], [1.0, 2.0], 0.1),
     ValueError, r"w must have one weight per column.*flatten it with w.ravel\(\)"),
    (lambda: train.gradient_descent_step([1.0], 0.0, [[1.0], [2.0]], [[1.0], [2.0]], 0.1),
     ValueError, r"y must have one target per row of X, shape \(2,\), got shape \(2, 1\); flatten"),
    (lambda: train.gradient_descent_step([1.0], [0.0, 1.0], [[1.0], [2.0]], [1.0, 2.0], 0.1),
     TypeError, r"b must be a single real number"),
    (lambda: train.gradient_descent_step([1.0], 0.0, [[1.0], [2.0]], [1.0, 2.0], 0.0),
     ValueError, r"gradient_descent_step: lr must be .*got 0; the learning rate must be positive"),
    (lambda: train.gradient_descent_step([1.0], 0.0, [[1.0], [2.0]], [1.0, 2.0], 0.1, lam=-1),
     ValueError, r"gradient_descent_step: lam must be .*got -1; λ is a penalty strength"),
    (lambda: train.gradient_descent_step([np.nan], 0.0, [[1.0], [2.0]], [1.0, 2.0], 0.1),
     ValueError, r"w must be finite, got 1 NaN"),
    (lambda: train.gradient_descent_step([1.0], np.inf, [[1.0], [2.0]], [1.0, 2.0], 0.1),
     ValueError, r"gradient_descent_step: b must be (a )?finite"),
    (lambda: train.regularized_cost([1.0], 0.0, [["a"], ["b"]], [1.0, 2.0], 0.1),
     TypeError, r"regularized_cost: X must hold numbers, got dtype <U1"),
    (lambda: train.regularized_cost([1.0], 0.0, [[1.0], [2.0]], [1.0, 2.0], 0.1, penalty="l3"),
     ValueError, r"penalty must be 'l1' or 'l2', got 'l3'"),
])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
