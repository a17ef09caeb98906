"""Classification losses vs scikit-learn and SciPy (float64, 1e-10 relative)."""
import numpy as np
import pytest
from scipy import special
from sklearn.metrics import log_loss

from lossbook.losses import (
    EPS, bce_with_logits_grad, binary_cross_entropy, binary_cross_entropy_grad,
    binary_cross_entropy_with_logits, binary_cross_entropy_with_logits_grad, cross_entropy,
    cross_entropy_grad, log_softmax, sigmoid, softmax, softmax_cross_entropy,
    softmax_cross_entropy_grad,
)

from mathhelpers import assert_close, class_problem, probabilities


def test_sigmoid_matches_scipy_expit():
    z = np.concatenate([np.linspace(-800, 800, 101), np.random.default_rng(0).normal(size=50)])
    # atol: below z ≈ -708 expit underflows to 0 where e^z/(1+e^z) still gives a subnormal.
    assert_close(sigmoid(z), special.expit(z), atol=1e-300)


def test_softmax_and_log_softmax_match_scipy():
    _, z, _ = class_problem(seed=1)
    assert_close(softmax(z), special.softmax(z, axis=-1))
    assert_close(log_softmax(z), special.log_softmax(z, axis=-1))
    assert_close(log_softmax(z), z - special.logsumexp(z, axis=-1, keepdims=True))
    assert_close(softmax(z[0]), special.softmax(z[0]))
    assert_close(softmax(z, axis=0), special.softmax(z, axis=0))


def test_log_softmax_stable_for_huge_logits():
    z = np.array([[1e4, 0.0, -1e4], [-1e4, -1e4, -1e4]])
    out = log_softmax(z)
    assert np.isfinite(out).all()
    assert_close(out, special.log_softmax(z, axis=-1))


def test_bce_matches_sklearn_log_loss():
    y, p = probabilities()
    assert_close(binary_cross_entropy(y, p), log_loss(y, p))
    assert_close(binary_cross_entropy(y, p, reduction="none"),
                 -(special.xlogy(y, p) + special.xlogy(1 - y, 1 - p)))


def test_bce_clips_at_documented_eps():
    assert binary_cross_entropy([1.0], [0.0]) == pytest.approx(-np.log(EPS), rel=1e-12)
    assert binary_cross_entropy([0.0], [1.0]) == pytest.approx(-np.log(EPS), rel=1e-4)
    assert binary_cross_entropy([1.0], [0.0], eps=1e-3) == pytest.approx(-np.log(1e-3))


def test_bce_soft_targets_equal_xlogy_form():
    g = np.random.default_rng(2)
    y, p = g.uniform(size=30), g.uniform(0.01, 0.99, size=30)
    assert_close(binary_cross_entropy(y, p, reduction="none"),
                 -(special.xlogy(y, p) + special.xlogy(1 - y, 1 - p)))


def test_bce_with_logits_equals_bce_of_sigmoid():
    y, p = probabilities(seed=3)
    z = special.logit(p)
    assert_close(binary_cross_entropy_with_logits(y, z), log_loss(y, special.expit(z)))


def test_bce_with_logits_stable_at_1e4():
    z = np.array([1e4, -1e4, 1e4, -1e4])
    y = np.array([1.0, 0.0, 0.0, 1.0])
    out = binary_cross_entropy_with_logits(y, z, reduction="none")
    assert_close(out, [0.0, 0.0, 1e4, 1e4], atol=1e-300)
    assert_close(bce_with_logits_grad(y, z, reduction="sum"), [0.0, 0.0, 1.0, -1.0])


def test_bce_grads_closed_forms():
    y, p = probabilities(seed=4)
    n = len(y)
    assert_close(binary_cross_entropy_grad(y, p), (-y / p + (1 - y) / (1 - p)) / n)
    z = special.logit(p)
    assert_close(binary_cross_entropy_with_logits_grad(y, z), (special.expit(z) - y) / n)
    assert bce_with_logits_grad is binary_cross_entropy_with_logits_grad


def test_cross_entropy_indices_match_sklearn():
    y, _, p = class_problem(seed=5)
    assert_close(cross_entropy(y, p), log_loss(y, p, labels=range(p.shape[1])))


def test_cross_entropy_one_hot_and_soft_rows():
    y, _, p = class_problem(seed=6)
    one_hot = np.eye(p.shape[1])[y]
    assert_close(cross_entropy(one_hot, p, reduction="none"), cross_entropy(y, p, reduction="none"))
    soft = special.softmax(np.random.default_rng(7).normal(size=p.shape), axis=1)
    assert_close(cross_entropy(soft, p, reduction="none"), -special.xlogy(soft, p).sum(axis=1))


def test_cross_entropy_single_example():
    assert cross_entropy(2, [0.2, 0.3, 0.5]) == pytest.approx(-np.log(0.5), rel=1e-12)
    assert_close(cross_entropy_grad(2, [0.2, 0.3, 0.5], reduction="sum"), [0, 0, -2.0])


def test_softmax_cross_entropy_matches_log_loss_of_softmax():
    y, z, p = class_problem(seed=8)
    assert_close(softmax_cross_entropy(y, z), log_loss(y, p, labels=range(z.shape[1])))
    assert_close(softmax_cross_entropy(y, z, reduction="none"),
                 special.logsumexp(z, axis=1) - z[np.arange(len(y)), y])


def test_softmax_cross_entropy_label_smoothing_formula():
    y, z, _ = class_problem(seed=9)
    eps, c = 0.2, z.shape[1]
    target = (1 - eps) * np.eye(c)[y] + eps / c
    expected = -(target * special.log_softmax(z, axis=1)).sum(axis=1)
    assert_close(softmax_cross_entropy(y, z, label_smoothing=eps, reduction="none"), expected)
    assert_close(softmax_cross_entropy_grad(y, z, label_smoothing=eps),
                 (special.softmax(z, axis=1) - target) / len(y))


def test_softmax_cross_entropy_stable_at_1e4():
    z = np.array([[1e4, -1e4, 0.0], [-1e4, 1e4, 0.0]])
    out = softmax_cross_entropy([0, 0], z, reduction="none")
    assert_close(out, [0.0, 2e4], atol=1e-300)


def test_cross_entropy_grads_closed_forms():
    y, z, p = class_problem(seed=10)
    n, c = p.shape
    one_hot = np.eye(c)[y]
    assert_close(cross_entropy_grad(y, p), -one_hot / p / n)
    assert_close(softmax_cross_entropy_grad(y, z), (special.softmax(z, axis=1) - one_hot) / n)
    assert_close(softmax_cross_entropy_grad(one_hot, z, reduction="sum"),
                 special.softmax(z, axis=1) - one_hot)


def test_uniform_prediction_costs_log_c():
    # The CS231n sanity check: random weights give loss ≈ log(number of classes).
    z = np.zeros((5, 10))
    assert softmax_cross_entropy([0, 1, 2, 3, 4], z) == pytest.approx(np.log(10), rel=1e-12)
