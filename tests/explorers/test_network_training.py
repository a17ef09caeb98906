"""Training explorer (lesson 09): curves, misclassified digits and readout against lossbook.nn."""
import importlib

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from lossbook import data, nn  # noqa: E402
from lossbook.explorers.base import fmt  # noqa: E402
from lossbook.figures import network_training as training_figure  # noqa: E402

# importlib: `from lossbook.explorers import network_training` is the factory function.
module = importlib.import_module("lossbook.explorers.network_training")

SETTINGS = [("cross_entropy", 0.1, 32, 32), ("mse", 0.1, 32, 32), ("cross_entropy", 1.0, 128, 8),
            ("mse", 0.3, 512, 128)]


@pytest.fixture(scope="module")
def digits():
    return data.digits(seed=module.SEED)


@pytest.fixture(scope="module")
def explorer():
    return module.network_training().wait()


def reference_history(digits, loss, lr, batch_size, hidden):
    """The same run, trained here with lossbook.nn directly."""
    net = nn.MLP((64, hidden, 10), seed=module.SEED)
    return nn.train(net, digits.X_train, digits.y_train, loss=loss, optimizer=nn.SGD(lr),
                    epochs=module.EPOCHS, batch_size=batch_size, seed=module.SEED,
                    validation=(digits.X_val, digits.y_val))


def set_run(explorer, loss, lr, batch_size, hidden, epoch):
    with explorer.hold():
        explorer.controls["loss"].value = loss
        explorer.controls["lr"].value = lr
        explorer.controls["batch_size"].value = batch_size
        explorer.controls["hidden"].value = hidden
        explorer.controls["epoch"].value = epoch
    explorer.wait()


def expected_readout(digits, history, loss, lr, batch_size, hidden, epoch):
    name = dict((v, k) for k, v in module.LOSSES)[loss]
    reached = nn.epochs_to_accuracy(history, 0.9)
    wrong = int(np.sum(history.val_predictions[epoch] != digits.y_val))
    return "\n".join([
        f"{name}, learning rate {fmt(lr)}, batch {batch_size}, {hidden} hidden units",
        f"epoch {epoch}",
        f"training: loss {fmt(history.train_loss[epoch])}, accuracy {fmt(history.train_accuracy[epoch])}",
        f"validation: loss {fmt(history.val_loss[epoch])}, accuracy {fmt(history.val_accuracy[epoch])}",
        f"90% validation accuracy first at epoch {reached}" if reached is not None
        else "90% validation accuracy not reached",
        f"misclassified validation digits: {wrong} of {len(digits.y_val)}",
    ])


def test_rgba_maps_ink_to_black_and_background_to_white():
    image = training_figure.rgba(np.array([[0.0, 8.0, 16.0, np.nan]]))
    assert image.dtype == np.uint8 and image.shape == (1, 4, 4)
    assert image[0, :, 0].tolist() == [255, 128, 0, 255] and (image[..., 3] == 255).all()


def test_pixel_font_spells_each_label_distinctly():
    glyphs = {c: training_figure.label_pixels(c) for c in "0123456789"}
    assert all(g.shape == (5, 3) for g in glyphs.values())
    flat = {c: tuple(np.nan_to_num(g).ravel()) for c, g in glyphs.items()}
    assert len(set(flat.values())) == 10, "two digits look the same"
    label = training_figure.label_pixels("5→9")
    np.testing.assert_array_equal(label[:, :3], glyphs["5"])
    np.testing.assert_array_equal(label[:, 9:], glyphs["9"])
    assert np.isnan(label[:, 3]).all() and np.isnan(label[:, 8]).all()


def test_contract(explorer, check_contract):
    check_contract(explorer)
    assert set(explorer.controls) == {"loss", "lr", "batch_size", "hidden", "epoch"}


@pytest.mark.parametrize("loss, lr, batch_size, hidden", SETTINGS)
def test_curves_digits_and_readout_are_lossbook_nn(explorer, digits, in_place, loss, lr, batch_size, hidden):
    epoch = 7
    with in_place(explorer):
        set_run(explorer, loss, lr, batch_size, hidden, epoch)
    history = reference_history(digits, loss, lr, batch_size, hidden)
    plot = explorer._plot
    for artist, values in ((plot.train_loss, history.train_loss), (plot.val_loss, history.val_loss),
                           (plot.train_accuracy, history.train_accuracy),
                           (plot.val_accuracy, history.val_accuracy)):
        x, y = artist.get_data()
        np.testing.assert_array_equal(x, np.arange(module.EPOCHS + 1))
        np.testing.assert_array_equal(y, values)
    for line in plot.epoch_lines:
        assert list(line.get_xdata()) == [epoch, epoch]
    # the misclassified digits: the first N_SHOWN wrong validation images at that epoch, labelled
    wrong = np.flatnonzero(history.val_predictions[epoch] != digits.y_val)[:training_figure.N_SHOWN]
    names = [f"{digits.y_val[i]}→{history.val_predictions[epoch][i]}" for i in wrong]
    tiles = training_figure.tiles(digits.images(digits.X_val[wrong]), names)
    np.testing.assert_array_equal(plot.image.get_array(), training_figure.rgba(tiles))
    assert tiles.shape == (14, 14 * training_figure.N_SHOWN)
    for k, i in enumerate(wrong):
        np.testing.assert_allclose(tiles[:8, 14 * k + 3:14 * k + 11], digits.images(digits.X_val[i])[0],
                                   atol=1e-9)
        label = training_figure.label_pixels(f"{digits.y_val[i]}→{history.val_predictions[epoch][i]}")
        np.testing.assert_array_equal(tiles[9:, 14 * k + 1:14 * k + 13], label)
    assert np.isnan(tiles[8]).all()
    assert explorer.readout_text == expected_readout(digits, history, loss, lr, batch_size, hidden, epoch)
    s = explorer.state()
    assert s["complete"] and s["epochs_done"] == module.EPOCHS
    assert s["val_accuracy"] == history.val_accuracy[epoch]


def test_epoch_scrubber_only_moves_what_it_shows(explorer, digits, in_place):
    set_run(explorer, "cross_entropy", 0.1, 32, 32, 0)
    history = reference_history(digits, "cross_entropy", 0.1, 32, 32)
    for epoch in (0, 1, 5, 20):
        with in_place(explorer):
            explorer.controls["epoch"].value = epoch
        assert explorer.state()["train_loss"] == history.train_loss[epoch]
        assert explorer.readout_text == expected_readout(digits, history, "cross_entropy", 0.1, 32, 32, epoch)
    # an untrained network guesses: its loss is near log 10 and about 90 % of digits are wrong
    explorer.controls["epoch"].value = 0
    assert abs(explorer.state()["train_loss"] - np.log(10)) < 1.0
    assert len(explorer.state()["misclassified"]) > 250


def test_a_run_in_progress_shows_what_is_done(explorer, digits, monkeypatch):
    key = module.run_key("mse", 0.01, 8, 128)
    partial = module.Run(key)
    full = reference_history(digits, "mse", 0.01, 128, 8)      # any run's first epochs will do
    for name in ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "val_predictions"):
        getattr(partial, name).extend(getattr(full, name)[:4])

    class Paused:
        digits = explorer._trainer.digits

        def request(self, requested):
            assert requested == key
            return partial

    monkeypatch.setattr(explorer, "_trainer", Paused())
    with explorer.hold():
        explorer.controls["loss"].value, explorer.controls["lr"].value = "mse", 0.01
        explorer.controls["batch_size"].value, explorer.controls["hidden"].value = 8, 128
        explorer.controls["epoch"].value = 10
    s = explorer.state()
    assert s["epochs_done"] == 3 and s["shown_epoch"] == 3 and not s["complete"]
    lines = explorer.readout_text.splitlines()
    assert lines[1] == "training in the background: 3 of 20 epochs done"
    assert lines[2] == "epoch 3 (epoch 10 not trained yet)"
    assert len(explorer._plot.train_loss.get_xdata()) == 4
    partial.train_loss.clear()                                   # nothing measured yet
    explorer.update()
    assert explorer.readout_text.splitlines()[-1] == "(no epoch measured yet)"
    assert len(explorer._plot.train_loss.get_xdata()) == 0


def test_background_epochs_ask_the_kernel_loop_to_redraw(digits):
    class Loop:
        def __init__(self):
            self.callbacks = []

        def add_callback(self, callback):
            self.callbacks.append(callback)

    ex = module.network_training(lr=0.03, batch_size=128, hidden=8)
    loop = ex._loop = Loop()
    ex.controls["batch_size"].value = 512        # a run nobody asked for before
    ex.wait()
    assert loop.callbacks, "no redraw was scheduled while the run trained"
    assert len(loop.callbacks) <= module.EPOCHS + 2
    loop.callbacks[-1]()                         # what the kernel's loop would run
    assert ex.state()["complete"]


def test_runs_are_cached_across_explorers(explorer):
    set_run(explorer, "cross_entropy", 0.1, 32, 32, 20)
    key = explorer.key
    other = module.network_training(*key[:1], lr=key[1], batch_size=key[2], hidden=key[3])
    assert other._trainer.runs[key] is explorer._trainer.runs[key]
    assert other.state()["complete"]                  # no training needed


@pytest.mark.parametrize("kwargs, match", [
    ({"loss": "hinge"}, "loss must be one of"),
    ({"lr": 0.2}, "lr must be one of"),
    ({"batch_size": 64}, "batch_size must be one of"),
    ({"hidden": 16}, "hidden must be one of"),
    ({"epoch": 21}, "epoch must be a whole number"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        module.network_training(**kwargs)
