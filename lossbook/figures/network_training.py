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

__all__ = ["ALT_TEXT", "N_SHOWN", "TARGET", "INK", "TrainingFigure", "build", "label_pixels", "rgba", "tiles"]

#: How many misclassified digits are shown.
N_SHOWN = 8
#: The validation accuracy the readout and the dotted line refer to.
TARGET = 0.9
LOSS_LIMITS = (1e-3, 10.0)

# The labels under the digits ("5→9") are drawn into the image itself with a 3×5 pixel
# font: one image artist per frame instead of eight text artists, which cost most of an
# update's time (text layout and rendering).
_GLYPHS = {
    "0": ("111", "101", "101", "101", "111"), "1": ("010", "110", "010", "010", "111"),
    "2": ("111", "001", "111", "100", "111"), "3": ("111", "001", "111", "001", "111"),
    "4": ("101", "101", "111", "001", "001"), "5": ("111", "100", "111", "001", "111"),
    "6": ("111", "100", "111", "101", "111"), "7": ("111", "001", "001", "001", "001"),
    "8": ("111", "101", "111", "101", "111"), "9": ("111", "101", "111", "001", "111"),
    "→": ("0100", "0010", "1111", "0010", "0100"),
}
_PITCH = 14          # columns per digit: the 12-pixel label "d→d" and a gap
_ROWS = 14           # 8 pixel rows of the digit, a blank row, 5 rows of label
INK = 16.0           # the darkest pixel value


def label_pixels(text: str) -> np.ndarray:
    """``text`` (digits and →) in the 3×5 pixel font: a (5, width) array, INK on NaN.

    >>> label_pixels("5→9").shape
    (5, 12)
    """
    columns = []
    for k, char in enumerate(text):
        glyph = np.array([[INK if bit == "1" else np.nan for bit in row] for row in _GLYPHS[char]])
        columns += ([np.full((5, 1), np.nan)] if k else []) + [glyph]
    return np.hstack(columns)


def rgba(values) -> np.ndarray:
    """Pixel values (0 white … INK black, NaN white) as an RGBA uint8 image.

    The explorer shows RGBA directly: no colour map and no NaN mask to resample on every
    frame, which halves the image's drawing time.
    """
    grey = np.nan_to_num(1.0 - np.asarray(values, dtype=float) / INK, nan=1.0)
    level = np.round(255 * np.clip(grey, 0.0, 1.0)).astype(np.uint8)
    out = np.empty(level.shape + (4,), dtype=np.uint8)
    out[..., :3] = level[..., None]
    out[..., 3] = 255
    return out


def tiles(images, names) -> np.ndarray:
    """The misclassified digits (k, 8, 8) side by side, each with its label under it."""
    out = np.full((_ROWS, _PITCH * N_SHOWN), np.nan)
    for k, (image, name) in enumerate(zip(images[:N_SHOWN], names)):
        out[:8, k * _PITCH + 3:k * _PITCH + 11] = image
        label = label_pixels(name)
        left = k * _PITCH + (_PITCH - label.shape[1]) // 2
        out[9:14, left:left + label.shape[1]] = label
    return out



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
    empty_note: object

    def changing_artists(self) -> list:
        return [self.train_loss, self.val_loss, self.train_accuracy, self.val_accuracy,
                *self.epoch_lines, self.image, self.empty_note]

    def show(self, curves: dict, epoch: int, images: np.ndarray, names: list[str]) -> None:
        """Put the curves (arrays per epoch, possibly partial), the epoch marker and the
        misclassified ``images`` (k, 8, 8) with their ``names`` ("5→9") on the artists."""
        epochs = np.arange(len(curves["train_loss"]))
        self.train_loss.set_data(epochs, curves["train_loss"])
        self.val_loss.set_data(epochs, curves["val_loss"])
        self.train_accuracy.set_data(epochs, curves["train_accuracy"])
        self.val_accuracy.set_data(epochs, curves["val_accuracy"])
        for line in self.epoch_lines:
            line.set_xdata([epoch, epoch])
        self.image.set_data(rgba(tiles(images, names)))
        self.empty_note.set_text("" if len(names) else "none")


def build(epochs: int = 20, dpi: float = style.EXPLORER_DPI) -> TrainingFigure:
    """Build the figure with empty curves (the explorer fills them)."""
    fig, axes = style.new_figure(figsize=(9.0, 6.2), dpi=dpi, nrows=2, ncols=2,
                                 height_ratios=(3.0, 1.6))
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
        width = _PITCH * N_SHOWN
        image = ax_img.imshow(rgba(np.full((_ROWS, width), np.nan)), interpolation="nearest",
                              aspect="equal")
        ax_img.set_xticks([])
        ax_img.set_yticks([])
        ax_img.grid(False)
        note = ax_img.text(width / 2, _ROWS / 2, "", ha="center", va="center", fontsize=13)
    style.label_axes(ax_loss, title="Loss per epoch", xlabel="epoch", ylabel="mean loss")
    style.label_axes(ax_acc, title="Accuracy per epoch", xlabel="epoch", ylabel="fraction right")
    style.label_axes(ax_img, title="Validation digits it gets wrong at this epoch",
                     xlabel="under each: true digit → predicted digit", ylabel="8 px")
    return TrainingFigure(fig, train_loss, val_loss, train_acc, val_acc, marks, image, note)
