"""Shared test inputs for the math tests (seeded, float64)."""
import numpy as np

RTOL = 1e-10


def rng(seed=0):
    return np.random.default_rng(seed)


def regression_pair(n=50, seed=0):
    g = rng(seed)
    return g.normal(size=n), g.normal(scale=2.0, size=n)


def probabilities(n=50, seed=0):
    """Binary labels and probabilities away from 0 and 1."""
    g = rng(seed)
    return g.integers(0, 2, size=n).astype(float), g.uniform(0.02, 0.98, size=n)


def class_problem(n=20, c=4, seed=0):
    """Class indices, logits, probabilities (softmax of the logits)."""
    g = rng(seed)
    y = g.integers(0, c, size=n)
    z = g.normal(scale=2.0, size=(n, c))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return y, z, e / e.sum(axis=1, keepdims=True)


def assert_close(actual, expected, rtol=RTOL, atol=0.0):
    np.testing.assert_allclose(np.asarray(actual), np.asarray(expected), rtol=rtol, atol=atol)
