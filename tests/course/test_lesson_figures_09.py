"""The static figures of lesson 09: labelled, colour-blind-safe, plotting exactly the math.

Expected values are recomputed here (the derived formulas, numeric derivatives,
lossbook.nn training runs made here), not read back from the builders' helpers.
"""
import matplotlib.colors as mcolors
import numpy as np
import pytest
from matplotlib.figure import Figure

from lossbook import data, losses, nn
from lossbook.figures import style
from lossbook.figures.lessons import lesson09_training_networks as L9
from lossbook.gradcheck import numeric_gradient

ALLOWED_COLOURS = {mcolors.to_hex(c) for c in (*style.OKABE_ITO.values(), style.DATA_COLOR, style.GRID_COLOR)}


def assert_course_figure(fig, legend=True):
    assert isinstance(fig, Figure)
    assert fig.canvas.manager is None, "built through pyplot: it would be registered globally"
    for ax in fig.axes:
        assert ax.get_title().strip() and ax.get_xlabel().strip() and ax.get_ylabel().strip()
        for line in ax.get_lines():
            assert mcolors.to_hex(line.get_color()) in ALLOWED_COLOURS, line.get_label()
    if legend:
        assert any(ax.get_legend() is not None for ax in fig.axes)


@pytest.fixture(scope="module")
def digits():
    return data.digits()


@pytest.fixture(scope="module")
def histories(digits):
    return L9.race(digits, lr=0.1, epochs=6, output_scale=10.0)


def test_saturation_gradients_are_the_derivatives_of_the_losses():
    z = np.array([-10.0, -3.0, -0.5, 0.0, 2.0, 7.0])
    g = L9.saturation_gradients(z)
    for k, zk in enumerate(z):
        point = np.array([zk])
        mse = numeric_gradient(lambda v: losses.mse([1.0], losses.sigmoid(v)), point)[0]
        ce = numeric_gradient(lambda v: losses.binary_cross_entropy_with_logits([1.0], v), point)[0]
        assert g["mse"][k] == pytest.approx(mse, rel=1e-6, abs=1e-12)
        assert g["cross_entropy"][k] == pytest.approx(ce, rel=1e-6, abs=1e-12)
    p = 1 / (1 + np.exp(10.0))
    assert g["mse"][0] == pytest.approx(2 * (p - 1) * p * (1 - p), rel=1e-12)


def test_saturation_figure_plots_the_absolute_gradients():
    fig = L9.saturation_figure(n=101)
    assert_course_figure(fig)
    (ax,) = fig.axes
    assert ax.get_yscale() == "log"
    lines = [ln for ln in ax.get_lines() if ln.get_label().startswith(("cross", "squared"))]
    z = lines[0].get_xdata()
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(lines[0].get_ydata(), np.abs(p - 1), rtol=1e-12)
    np.testing.assert_allclose(lines[1].get_ydata(), np.abs(2 * (p - 1) * p * (1 - p)), rtol=1e-10)


def test_race_trains_the_same_start_with_each_loss(digits, histories):
    assert list(histories) == ["cross_entropy", "mse"]
    ce, mse = histories["cross_entropy"], histories["mse"]
    assert ce.val_accuracy[0] == mse.val_accuracy[0]                       # same initial network
    np.testing.assert_array_equal(ce.val_predictions[0], mse.val_predictions[0])
    # the race is lossbook.nn.train with those settings, nothing else
    net = nn.MLP((64, 32, 10), seed=0)
    net.params["W2"] *= 10.0
    again = nn.train(net, digits.X_train, digits.y_train, loss="mse", optimizer=nn.SGD(0.1), epochs=6,
                     batch_size=64, seed=0, validation=(digits.X_val, digits.y_val))
    assert again.val_accuracy == mse.val_accuracy
    # the lesson's claim, in this setting: cross-entropy gets to 90 % first
    assert nn.epochs_to_accuracy(ce, 0.9) is not None
    assert nn.epochs_to_accuracy(mse, 0.9) is None or nn.epochs_to_accuracy(mse, 0.9) > nn.epochs_to_accuracy(ce, 0.9)


def test_race_figure_labels_the_epochs_reached(histories):
    fig = L9.race_figure(histories, target=0.9)
    assert_course_figure(fig)
    (ax,) = fig.axes
    for loss, history in histories.items():
        (line,) = [ln for ln in ax.get_lines() if ln.get_label().startswith(L9.LOSS_LABELS[loss])]
        np.testing.assert_array_equal(line.get_ydata(), history.val_accuracy)
        reached = nn.epochs_to_accuracy(history, 0.9)
        assert (f"at epoch {reached}" if reached is not None else "never reaches") in line.get_label()


def test_training_curves_and_misclassified_digits(digits, histories):
    history = histories["cross_entropy"]
    fig = L9.training_curves_figure(history)
    assert_course_figure(fig)
    ax_loss, ax_acc = fig.axes
    np.testing.assert_array_equal(ax_loss.get_lines()[0].get_ydata(), history.train_loss)
    np.testing.assert_array_equal(ax_loss.get_lines()[1].get_ydata(), history.val_loss)
    np.testing.assert_array_equal(ax_acc.get_lines()[1].get_ydata(), history.val_accuracy)
    predicted = history.val_predictions[-1]
    fig = L9.misclassified_figure(digits, predicted, limit=5)
    assert_course_figure(fig, legend=False)
    (ax,) = fig.axes
    wrong = np.flatnonzero(predicted != digits.y_val)
    assert f"({len(wrong)} of {len(predicted)})" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"{digits.y_val[i]}→{predicted[i]}" for i in wrong[:5]]
    tiles = ax.get_images()[0].get_array().filled(np.nan)
    np.testing.assert_allclose(tiles[:, :8], digits.images(digits.X_val[wrong[0]])[0], atol=1e-9)


def test_digits_figure_shows_one_image_per_digit(digits):
    fig = L9.digits_figure(digits)
    assert_course_figure(fig, legend=False)
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(d) for d in range(10)]
    tiles = ax.get_images()[0].get_array().filled(np.nan)
    first_nine = np.flatnonzero(digits.digits_train == 9)[0]
    np.testing.assert_allclose(tiles[:, 81:89], digits.images(digits.X_train[first_nine])[0], atol=1e-9)


def test_mosaic_layout():
    tiles, centres = L9.mosaic(np.ones((3, 8, 8)))
    assert tiles.shape == (8, 26) and np.isnan(tiles[:, 8]).all()
    np.testing.assert_array_equal(centres, [3.5, 12.5, 21.5])
