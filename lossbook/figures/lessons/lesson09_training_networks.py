r"""Figures for lesson 09 (training networks): the digits, saturation, the CE-vs-MSE race, curves.

Every number plotted comes from :mod:`lossbook.nn` and :mod:`lossbook.losses`: the
gradients of the saturation figure are the derived formulas, the curves are the
:class:`~lossbook.nn.History` of real training runs on :func:`lossbook.data.digits`.
"""
from __future__ import annotations

import numpy as np

from lossbook import nn
from lossbook.figures import style
from lossbook.losses import sigmoid

__all__ = [
    "RACE_LOSSES", "LOSS_LABELS", "saturation_gradients", "race", "mosaic",
    "digits_figure", "saturation_figure", "race_figure", "training_curves_figure",
    "misclassified_figure",
]

#: The two losses of the race, in plotting order.
RACE_LOSSES = ("cross_entropy", "mse")
#: How the lesson names them.
LOSS_LABELS = {"cross_entropy": "cross-entropy", "mse": "squared error (MSE on softmax)"}
_LOSS_LOOK = {"cross_entropy": dict(color=style.OKABE_ITO["blue"], linestyle="-", marker="o"),
              "mse": dict(color=style.OKABE_ITO["orange"], linestyle="--", marker="s")}
_TRAIN_LOOK = dict(color=style.OKABE_ITO["blue"], linestyle="-")
_VAL_LOOK = dict(color=style.OKABE_ITO["vermillion"], linestyle="--")


def saturation_gradients(z, y: float = 1.0):
    r"""Gradients with respect to the logit z of one example with a sigmoid output p = σ(z).

    .. math:: \frac{\partial}{\partial z}(p - y)^2 = 2 (p - y)\, p (1 - p), \qquad
              \frac{\partial}{\partial z}\big[-y \log p - (1 - y) \log(1 - p)\big] = p - y

    Returns
    -------
    dict
        ``{"mse": ..., "cross_entropy": ...}``, arrays shaped like ``z``.

    Examples
    --------
    >>> g = saturation_gradients([-10.0, 0.0])
    >>> [f"{v:.2e}" for v in g["mse"]], [f"{v:.4f}" for v in g["cross_entropy"]]
    (['-9.08e-05', '-2.50e-01'], ['-1.0000', '-0.5000'])
    """
    z = np.asarray(z, dtype=float)
    p = sigmoid(z)
    return {"mse": 2 * (p - y) * p * (1 - p), "cross_entropy": p - y}


def race(data, *, losses=RACE_LOSSES, hidden: int = 32, epochs: int = 20, lr: float = 0.1,
         momentum: float = 0.0, batch_size: int = 64, seed: int = 0, output_scale: float = 1.0) -> dict:
    """Train the same network from the same initial weights once per loss; the histories.

    Same architecture ``(64, hidden, 10)``, same initial weights (``seed``), same
    optimiser settings and the same order of mini-batches: only the loss differs.
    ``output_scale`` multiplies the last layer's initial weights: above 1 the network
    starts with large scores, confident and mostly wrong (a saturated start).

    Returns
    -------
    dict
        loss name -> :class:`lossbook.nn.History` (with validation curves).
    """
    histories = {}
    for loss in losses:
        net = nn.MLP((data.n_features, hidden, data.n_classes), seed=seed)
        net.params["W2"] *= output_scale
        histories[loss] = nn.train(net, data.X_train, data.y_train, loss=loss,
                                   optimizer=nn.SGD(lr, momentum=momentum), epochs=epochs,
                                   batch_size=batch_size, seed=seed,
                                   validation=(data.X_val, data.y_val))
    return histories


def mosaic(images, gap: int = 1):
    """Images of shape (n, 8, 8) side by side in one array, separated by ``gap`` blank columns.

    Returns the mosaic (8, n·(8 + gap) − gap) and the x positions of the images' centres.
    Blank columns are NaN, so they show as the background.
    """
    images = np.asarray(images, dtype=float)
    n, h, w = images.shape
    out = np.full((h, max(n * (w + gap) - gap, 1)), np.nan)
    for k in range(n):
        out[:, k * (w + gap):k * (w + gap) + w] = images[k]
    centres = np.arange(n) * (w + gap) + (w - 1) / 2
    return out, centres


def _show_mosaic(ax, images, labels):
    import matplotlib as mpl

    tiles, centres = mosaic(images)
    cmap = mpl.colormaps["gray_r"].with_extremes(bad="white")
    image = ax.imshow(tiles, cmap=cmap, vmin=0, vmax=16, interpolation="nearest")
    ax.set_xticks(centres, labels)
    ax.set_yticks([])
    ax.grid(False)
    return image


def digits_figure(data, *, per_class: int = 1):
    """The first ``per_class`` training images of each digit, in a row, labelled."""
    index = [i for d in range(10) for i in np.flatnonzero(data.digits_train == d)[:per_class]]
    fig, ax = style.new_figure(figsize=(9.0, 1.9 + 0.1 * per_class))
    with style.course_style():
        _show_mosaic(ax, data.images(data.X_train[index]), [str(data.digits_train[i]) for i in index])
    style.label_axes(ax, title="The 8×8 digits: one training image of each class",
                     xlabel="label", ylabel="8 px")
    return fig


def saturation_figure(z_min: float = -10.0, z_max: float = 10.0, n: int = 401):
    """|∂loss/∂z| for one example with y = 1 and p = σ(z): squared error vs cross-entropy, log scale."""
    z = np.linspace(z_min, z_max, n)
    g = saturation_gradients(z)
    fig, ax = style.new_figure(figsize=(8.0, 4.5))
    with style.course_style():
        for loss, formula in (("cross_entropy", "|p − y|"), ("mse", "|2(p − y)p(1 − p)|")):
            look = dict(_LOSS_LOOK[loss], marker=None)
            ax.semilogy(z, np.abs(g[loss]), label=f"{LOSS_LABELS[loss].split(' (')[0]}: {formula}", **look)
        ax.axvline(0.0, color=style.DATA_COLOR, linewidth=1.0, linestyle=":")
        ax.set_xlim(z_min, z_max)
        ax.legend(loc="lower left")
    style.label_axes(ax, title="Confidently wrong (z ≪ 0, y = 1): squared error stops pushing",
                     xlabel="logit z (the true label is y = 1)", ylabel="|gradient| with respect to z")
    return fig


def race_figure(histories: dict, *, target: float = 0.9):
    """Validation accuracy per epoch for each loss, the target line and the epoch each reaches it."""
    fig, ax = style.new_figure(figsize=(8.0, 4.5))
    with style.course_style():
        for loss, history in histories.items():
            reached = nn.epochs_to_accuracy(history, target)
            when = f"reaches {target:.0%} at epoch {reached}" if reached is not None else f"never reaches {target:.0%}"
            ax.plot(history.epoch, history.val_accuracy, markersize=5,
                    label=f"{LOSS_LABELS[loss]}: {when}", **_LOSS_LOOK[loss])
        ax.axhline(target, color=style.DATA_COLOR, linewidth=1.2, linestyle=":", label=f"target {target:.0%}")
        ax.set_ylim(0, 1)
        ax.legend(loc="lower right")
    style.label_axes(ax, title="Same network, same start, two losses",
                     xlabel="epoch", ylabel="validation accuracy")
    return fig


def training_curves_figure(history):
    """Loss (left) and accuracy (right) per epoch, on the training and the validation data."""
    fig, (ax_loss, ax_acc) = style.new_figure(figsize=(10.0, 4.2), ncols=2)
    with style.course_style():
        ax_loss.plot(history.epoch, history.train_loss, label="training", **_TRAIN_LOOK)
        ax_loss.plot(history.epoch, history.val_loss, label="validation", **_VAL_LOOK)
        ax_loss.set_yscale("log")
        ax_loss.legend(loc="upper right")
        ax_acc.plot(history.epoch, history.train_accuracy, label="training", **_TRAIN_LOOK)
        ax_acc.plot(history.epoch, history.val_accuracy, label="validation", **_VAL_LOOK)
        ax_acc.set_ylim(0, 1.02)
        ax_acc.legend(loc="lower right")
    style.label_axes(ax_loss, title="Cross-entropy per epoch", xlabel="epoch", ylabel="mean loss (log scale)")
    style.label_axes(ax_acc, title="Accuracy per epoch", xlabel="epoch", ylabel="fraction right")
    return fig


def misclassified_figure(data, predicted, *, limit: int = 8):
    """The first ``limit`` validation images the network gets wrong, labelled "true → predicted"."""
    wrong = np.flatnonzero(predicted != data.y_val)[:limit]
    fig, ax = style.new_figure(figsize=(9.0, 2.0))
    with style.course_style():
        _show_mosaic(ax, data.images(data.X_val[wrong]).reshape(-1, 8, 8) if wrong.size else np.zeros((0, 8, 8)),
                     [f"{data.y_val[i]}→{predicted[i]}" for i in wrong])
    style.label_axes(ax, title=f"Validation digits it gets wrong ({np.sum(predicted != data.y_val)} of {len(predicted)})",
                     xlabel="true label → predicted label", ylabel="8 px")
    return fig
