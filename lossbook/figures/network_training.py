r"""Figure for lesson 09's training explorer: loss and accuracy curves and misclassified digits.

Three panels, built once: the training and validation loss per epoch (log scale), the
training and validation accuracy per epoch (with the 90 % line), and a row of the first
validation digits the network gets wrong at the chosen epoch. A vertical line on both
curve panels marks that epoch. Axis limits are fixed (epochs 0 to ``epochs``, loss
1e-3 to 10, accuracy 0 to 1), so an update only moves artists and can be blitted.

>>> plot = build(epochs=20)
>>> [ax.get_title() for ax in plot.figure.axes]
['Loss per epoch', 'Accuracy per epoch', 'Validation digits it gets wrong at this epoch']
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossbook.figures import style

__all__ = ["ALT_TEXT", "N_SHOWN", "TARGET", "TrainingFigure", "build"]

#: How many misclassified digits are shown.
N_SHOWN = 8
#: The validation accuracy the readout and the dotted line refer to.
TARGET = 0.9
LOSS_LIMITS = (1e-3, 10.0)
_ROWS = 11          # 8 pixel rows, then a blank band for the labels

ALT_TEXT = (
    "Three panels. Top left: the mean loss per epoch on a logarithmic axis, a solid blue "
    "line for the training data and a dashed vermillion line for the validation data. Top "
    "right: the accuracy per epoch for the same two data sets, with a dotted line at 90 "
    "percent. A vertical grey line on both marks the chosen epoch. Bottom: up to eight "
    "validation digits the network misclassifies at that epoch, each labelled with its true "
    "and predicted digit."
)


@dataclass
class TrainingFigure:
    """The figure and the artists an update changes."""

    figure: object
    train_loss: object
    val_loss: object
    train_accuracy: object
    val_accuracy: object
    epoch_lines: tuple
    image: object
    labels: tuple
    empty_note: object
    image_width: int

    def changing_artists(self) -> list:
        return [self.train_loss, self.val_loss, self.train_accuracy, self.val_accuracy,
                *self.epoch_lines, self.image, *self.labels, self.empty_note]

    def show(self, curves: dict, epoch: int, images: np.ndarray, names: list[str]) -> None:
        """Put the curves (arrays per epoch, possibly partial), the epoch marker and the
        misclassified ``images`` (k, 8, 8) with their ``names`` on the artists."""
        epochs = np.arange(len(curves["train_loss"]))
        self.train_loss.set_data(epochs, curves["train_loss"])
        self.val_loss.set_data(epochs, curves["val_loss"])
        self.train_accuracy.set_data(epochs, curves["train_accuracy"])
        self.val_accuracy.set_data(epochs, curves["val_accuracy"])
        for line in self.epoch_lines:
            line.set_xdata([epoch, epoch])
        tiles = np.full((_ROWS, self.image_width), np.nan)   # rows 8..: room for the labels
        for k, image in enumerate(images[:N_SHOWN]):
            tiles[:8, 9 * k:9 * k + 8] = image
        self.image.set_data(tiles)
        for k, label in enumerate(self.labels):
            label.set_text(names[k] if k < len(names) else "")
        self.empty_note.set_text("" if len(names) else "none")


def build(epochs: int = 20, dpi: float = style.EXPLORER_DPI) -> TrainingFigure:
    """Build the figure with empty curves (the explorer fills them)."""
    import matplotlib as mpl

    fig, axes = style.new_figure(figsize=(9.0, 6.2), dpi=dpi, nrows=2, ncols=2,
                                 height_ratios=(3.0, 1.5))
    ax_loss, ax_acc = axes[0]
    gs = axes[1, 0].get_gridspec()
    for ax in axes[1]:
        ax.remove()
    with style.course_style():
        ax_img = fig.add_subplot(gs[1, :])
        blue, vermillion = style.OKABE_ITO["blue"], style.OKABE_ITO["vermillion"]
        (train_loss,) = ax_loss.plot([], [], color=blue, linestyle="-", label="training")
        (val_loss,) = ax_loss.plot([], [], color=vermillion, linestyle="--", label="validation")
        (train_acc,) = ax_acc.plot([], [], color=blue, linestyle="-", label="training")
        (val_acc,) = ax_acc.plot([], [], color=vermillion, linestyle="--", label="validation")
        ax_acc.axhline(TARGET, color=style.DATA_COLOR, linewidth=1.0, linestyle=":")
        marks = tuple(ax.axvline(0, color=style.DATA_COLOR, linewidth=1.5, alpha=0.6)
                      for ax in (ax_loss, ax_acc))
        ax_loss.set_yscale("log")
        ax_loss.set_ylim(*LOSS_LIMITS)
        ax_acc.set_ylim(0, 1.02)
        for ax in (ax_loss, ax_acc):
            ax.set_xlim(0, epochs)
        ax_loss.legend(loc="lower left")
        ax_acc.legend(loc="lower right")
        width = 9 * N_SHOWN - 1
        cmap = mpl.colormaps["gray_r"].with_extremes(bad="white")
        image = ax_img.imshow(np.full((_ROWS, width), np.nan), cmap=cmap, vmin=0, vmax=16,
                              interpolation="nearest", aspect="equal")
        ax_img.set_xticks([])
        ax_img.set_yticks([])
        ax_img.grid(False)
        labels = tuple(ax_img.text(9 * k + 3.5, 9.3, "", ha="center", va="center", fontsize=12)
                       for k in range(N_SHOWN))
        note = ax_img.text(width / 2, 3.5, "", ha="center", va="center", fontsize=13)
    style.label_axes(ax_loss, title="Loss per epoch", xlabel="epoch", ylabel="mean loss")
    style.label_axes(ax_acc, title="Accuracy per epoch", xlabel="epoch", ylabel="fraction right")
    style.label_axes(ax_img, title="Validation digits it gets wrong at this epoch",
                     xlabel="true → predicted", ylabel="8 px")
    return TrainingFigure(fig, train_loss, val_loss, train_acc, val_acc, marks, image, labels, note, width)
