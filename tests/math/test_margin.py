"""Margin losses vs scikit-learn's hinge_loss and the CS231n definitions."""
import numpy as np
import pytest
from sklearn.metrics import hinge_loss

from lossbook.losses import (
    hinge, hinge_grad, multiclass_hinge, multiclass_hinge_grad, squared_hinge,
    squared_hinge_grad,
)

from mathhelpers import assert_close, class_problem


def _signed(n=40, seed=0):
    g = np.random.default_rng(seed)
    return np.where(g.uniform(size=n) < 0.5, -1.0, 1.0), g.normal(scale=1.5, size=n)


def test_hinge_matches_sklearn_binary():
    y, s = _signed()
    # sklearn takes decision values and labels; with labels {-1, +1} it is mean(max(0, 1 - y s)).
    assert_close(hinge(y, s), hinge_loss(y, s))


def test_squared_hinge_is_square_of_hinge():
    y, s = _signed(seed=1)
    assert_close(squared_hinge(y, s, reduction="none"), hinge(y, s, reduction="none") ** 2)


def test_hinge_grads_closed_forms_and_kink():
    y, s = _signed(seed=2)
    n = len(y)
    assert_close(hinge_grad(y, s), np.where(y * s < 1, -y, 0.0) / n)
    assert_close(squared_hinge_grad(y, s), -2 * y * np.maximum(0, 1 - y * s) / n)
    # On the margin exactly: subgradient 0.
    assert_close(hinge_grad([1.0, -1.0], [1.0, -1.0], reduction="sum"), [0.0, 0.0])


def _ww_loop(y, s, margin=1.0):
    """Weston–Watkins loss written as the CS231n double loop."""
    losses = []
    for i in range(s.shape[0]):
        total = 0.0
        for j in range(s.shape[1]):
            if j != y[i]:
                total += max(0.0, s[i, j] - s[i, y[i]] + margin)
        losses.append(total)
    return np.array(losses)


@pytest.mark.parametrize("margin", [1.0, 0.5])
def test_multiclass_hinge_matches_cs231n_loop(margin):
    y, z, _ = class_problem(seed=3)
    assert_close(multiclass_hinge(y, z, margin=margin, reduction="none"), _ww_loop(y, z, margin))
    assert_close(multiclass_hinge(y, z, margin=margin), _ww_loop(y, z, margin).mean())


def test_multiclass_hinge_cs231n_example():
    # CS231n notes: scores [3.2, 5.1, -1.7] with correct class 0 give loss 2.9.
    assert multiclass_hinge([0], [[3.2, 5.1, -1.7]]) == pytest.approx(2.9)


def test_multiclass_hinge_grad_loop():
    y, z, _ = class_problem(seed=4)
    expected = np.zeros_like(z)
    for i in range(z.shape[0]):
        for j in range(z.shape[1]):
            if j != y[i] and z[i, j] - z[i, y[i]] + 1 > 0:
                expected[i, j] += 1
                expected[i, y[i]] -= 1
    assert_close(multiclass_hinge_grad(y, z, reduction="sum"), expected)
    assert_close(multiclass_hinge_grad(y, z), expected / len(y))


def test_multiclass_hinge_single_example():
    assert_close(multiclass_hinge_grad(0, [3.2, 5.1, -1.7], reduction="sum"), [-1.0, 1.0, 0.0])
