"""lossbook.calibration (lesson 10) against scikit-learn and SciPy; the reliability diagram."""
import numpy as np
import pytest

import lossbook.losses as L
from lossbook import calibration as C
from lossbook import metrics
from lossbook.gradcheck import numeric_gradient


@pytest.mark.parametrize("threshold", [0.0, 0.2, 0.5, 0.77, 1.0])
def test_binary_counts_match_sklearn(threshold):
    from sklearn.metrics import accuracy_score, confusion_matrix, f1_score, precision_score, recall_score
    rng = np.random.default_rng(0)
    y = (rng.uniform(size=200) < 0.1).astype(int)
    p = np.clip(0.3 * y + rng.uniform(size=200) * 0.7, 0, 1)
    c = C.binary_counts(y, p, threshold)
    pred = (p >= threshold).astype(int)
    np.testing.assert_array_equal(c.matrix, confusion_matrix(y, pred, labels=[0, 1]))
    assert c.precision == pytest.approx(precision_score(y, pred, zero_division=1.0))
    assert c.recall == pytest.approx(recall_score(y, pred, zero_division=0.0))
    assert c.f1 == pytest.approx(f1_score(y, pred, zero_division=0.0))
    assert c.accuracy == pytest.approx(accuracy_score(y, pred))


def test_best_f1_threshold_is_the_best_on_the_data():
    rng = np.random.default_rng(1)
    y = (rng.uniform(size=100) < 0.2).astype(int)
    p = np.clip(0.4 * y + rng.uniform(size=100) * 0.6, 0, 1)
    best = C.best_f1_threshold(y, p)
    assert C.binary_counts(y, p, best).f1 == max(C.binary_counts(y, p, t).f1 for t in np.linspace(0, 1, 501))


@pytest.mark.parametrize("binary", [False, True])
def test_fit_temperature_matches_scipy(binary):
    from scipy.optimize import minimize_scalar
    rng = np.random.default_rng(2)
    if binary:
        y = rng.integers(0, 2, 300)
        z = (2 * y - 1) * rng.normal(3.0, 3.0, 300)          # overconfident logits
    else:
        y = rng.integers(0, 5, 300)
        z = rng.normal(size=(300, 5)) * 3
        z[np.arange(300), y] += 4.0
    T = C.fit_temperature(z, y)
    ref = minimize_scalar(lambda t: C.temperature_nll(z, y, np.exp(t)), bounds=(np.log(0.05), np.log(20)),
                          method="bounded", options={"xatol": 1e-8})
    assert np.log(T) == pytest.approx(ref.x, abs=1e-4)
    assert C.temperature_nll(z, y, T) <= C.temperature_nll(z, y, 1.0)
    if not binary:   # scaling never changes the predicted class
        np.testing.assert_array_equal((z / T).argmax(1), z.argmax(1))


def test_loss_objects_values_and_gradients():
    rng = np.random.default_rng(3)
    S, y = rng.normal(size=(7, 4)), rng.integers(0, 4, 7)
    for loss in (C.ProbabilityMAE(), C.SmoothedCrossEntropy(0.1)):
        value, grad = loss.value_and_grad(y, S)
        numeric = numeric_gradient(lambda V: loss.value_and_grad(y, V)[0], S.copy())
        np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)
    P = L.softmax(S)
    assert C.ProbabilityMAE().value_and_grad(y, S)[0] == pytest.approx(
        np.mean(np.abs(P - np.eye(4)[y]).sum(axis=1)))
    assert C.SmoothedCrossEntropy(0.1).value_and_grad(y, S)[0] == pytest.approx(
        L.softmax_cross_entropy(y, S, label_smoothing=0.1))
    yb, s = rng.integers(0, 2, 9), rng.normal(size=(9, 1))
    focal = C.FocalWithLogits(gamma=2.0, alpha=0.25)
    value, grad = focal.value_and_grad(yb, s)
    assert value == pytest.approx(L.focal_with_logits(yb.astype(float), s[:, 0], gamma=2.0, alpha=0.25))
    np.testing.assert_allclose(grad, numeric_gradient(lambda V: focal.value_and_grad(yb, V)[0], s.copy()),
                               rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(focal.predict(s), (s[:, 0] > 0).astype(int))


def test_flip_labels_flips_exactly_the_fraction_to_other_classes():
    y = np.repeat(np.arange(10), 30)
    noisy = C.flip_labels(y, 0.3, n_classes=10, seed=4)
    assert np.sum(noisy != y) == 90 and noisy.min() >= 0 and noisy.max() <= 9
    np.testing.assert_array_equal(C.flip_labels(y, 0.3, n_classes=10, seed=4), noisy)
    np.testing.assert_array_equal(C.flip_labels(y, 0.0, n_classes=10), y)


def test_train_digits_binary_and_linear():
    from lossbook import data, nn
    b = data.digits().one_vs_rest(9)
    net = C.train_digits(b.X_train, b.y_train, loss=nn.BinaryCrossEntropy(pos_weight=3.0), epochs=3,
                         hidden=None)
    assert net.sizes == (64, 1)
    net = C.train_digits(b.X_train, b.y_train, loss=C.FocalWithLogits(2.0), epochs=3, hidden=8)
    assert net.sizes == (64, 8, 1)
    assert C.binary_counts(b.y_test, L.sigmoid(net.scores(b.X_test)[:, 0])).recall > 0.5


def test_reliability_figure_plots_the_bins():
    pytest.importorskip("matplotlib")
    from lossbook.figures.reliability import ReliabilityPlot, reliability_figure
    rng = np.random.default_rng(5)
    y = rng.integers(0, 3, 200)
    P = L.softmax(rng.normal(scale=2, size=(200, 3)))
    fig = reliability_figure({"a": (y, P), "b": (y, P ** 0.5 / (P ** 0.5).sum(1, keepdims=True))}, n_bins=10)
    bins = metrics.reliability_bins(y, P, n_bins=10)
    plot_bars = [bar.get_height() for bar in fig.axes[0].patches]
    np.testing.assert_allclose(plot_bars, np.nan_to_num(bins.accuracy))
    assert f"{metrics.expected_calibration_error(y, P, n_bins=10):.3f}" in fig.axes[0].get_title()
    from lossbook.figures import style
    _fig, ax = style.new_figure()
    plot = ReliabilityPlot(ax, 5)
    n_artists = len(ax.patches) + len(ax.lines)
    plot.show(y, P)
    plot.show(y[:50], P[:50])
    assert len(ax.patches) + len(ax.lines) == n_artists
    with pytest.raises(ValueError, match="at least one model"):
        reliability_figure({})
