"""Gradient checking tools."""
import numpy as np
import pytest

from lossbook.gradcheck import check_gradient, numeric_gradient, relative_error


def test_numeric_gradient_of_known_functions():
    x = np.array([[0.3, -1.2], [2.0, 0.5]])
    assert np.allclose(numeric_gradient(lambda v: float(np.sum(v ** 3)), x), 3 * x ** 2,
                       rtol=1e-8)
    assert np.allclose(numeric_gradient(lambda v: float(np.sin(v).sum()), x), np.cos(x),
                       rtol=1e-8)


def test_numeric_gradient_does_not_modify_input():
    x = np.array([1.0, 2.0])
    numeric_gradient(lambda v: float(v @ v), x)
    assert x.tolist() == [1.0, 2.0]


def test_relative_error_definition():
    a, n = np.array([1.0, -2.0, 0.0, 1e-12]), np.array([1.1, -2.0, 0.0, 0.0])
    expected = np.abs(a - n) / np.maximum(np.abs(a) + np.abs(n), 1e-8)
    assert np.allclose(relative_error(a, n, elementwise=True), expected)
    assert relative_error(a, n) == pytest.approx(expected.max())
    assert relative_error([1.0], [-1.0]) == 1.0


def test_check_gradient_catches_a_wrong_gradient():
    x = np.array([0.5, -0.25, 1.5])
    good = check_gradient(lambda v: float(np.sum(v ** 2)), lambda v: 2 * v, x)
    bad = check_gradient(lambda v: float(np.sum(v ** 2)), lambda v: v, x)
    assert good < 1e-8
    assert bad > 1e-2


def test_numeric_gradient_rejects_non_scalar_f():
    with pytest.raises(TypeError, match=r"numeric_gradient: f must return a single number.*reduction='sum'"):
        numeric_gradient(lambda v: v ** 2, [1.0, 2.0])


def test_bad_arguments():
    with pytest.raises(TypeError, match="numeric_gradient: f must be a function"):
        numeric_gradient(3.0, [1.0])
    with pytest.raises(ValueError, match=r"numeric_gradient: h must be > 0, got -1; h is the finite-difference step"):
        numeric_gradient(lambda v: float(v.sum()), [1.0], h=-1)
    with pytest.raises(ValueError, match="relative_error: a and n must have the same shape"):
        relative_error([1.0, 2.0], [1.0])
    with pytest.raises(ValueError, match="check_gradient: grad_f must return an array shaped like x"):
        check_gradient(lambda v: float(v.sum()), lambda v: v[:1], [1.0, 2.0])
