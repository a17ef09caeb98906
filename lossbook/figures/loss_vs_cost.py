"""Lesson 01 figure: per-example losses (one bar per data point) and the cost.

The left panel shows a few targets, the predictions for them and the residuals; the right
panel one bar per example (its loss) and one bar for what ``reduction`` makes of them:
the mean (the cost), the sum, or nothing (``"none"`` returns the bars themselves).

>>> from lossbook.figures import loss_vs_cost
>>> parts = loss_vs_cost.build([0.0, 1.0], [0.0, 2.0], [1.0, 2.0], reduction="mean")
>>> [float(bar.get_height()) for bar in parts.loss_bars], float(parts.cost_bar.get_height())
([1.0, 0.0], 0.5)
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lossbook import losses
from lossbook.figures import style

__all__ = ["ALT_TEXT", "LOSSES", "REDUCTIONS", "LossVsCostFigure", "compute", "build"]

#: Loss options: label shown to the learner -> name in lossbook.losses.
LOSSES = {"squared error": "mse", "absolute error": "mae"}
REDUCTIONS = ("none", "mean", "sum")
_Y_LIMITS = (1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0)

#: Paste next to the figure in the lesson's Markdown.
ALT_TEXT = (
    "Two panels. Left, 'Targets and predictions': five numbered targets (grey circles) "
    "and a prediction for each (vermillion diamonds), joined by dotted residual lines. "
    "Right, 'Per-example losses and the cost': one blue bar per example, its loss, and a "
    "hatched green bar for the value the reduction returns: the mean of the five bars "
    "(the cost, also drawn as a dashed horizontal line across them) or their sum; with "
    "reduction 'none' there is no single number, only the five bars."
)


def compute(y_true, y_pred, loss: str = "squared error", reduction: str = "mean") -> dict:
    """Per-example losses and the reduced value (lossbook math).

    .. math:: L_i = \\ell(y_i, \\hat y_i), \\qquad
              \\text{mean} = \\frac1n\\sum_i L_i, \\qquad \\text{sum} = \\sum_i L_i

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n,)
        Targets and predictions.
    loss : {"squared error", "absolute error"}
    reduction : {"none", "mean", "sum"}
    """
    if loss not in LOSSES:
        raise ValueError(f"loss_vs_cost: loss must be one of {sorted(LOSSES)}, got {loss!r}")
    fn = getattr(losses, LOSSES[loss])
    per_example = fn(y_true, y_pred, reduction="none")
    return {
        "loss": loss,
        "reduction": reduction,
        "y_pred": np.asarray(y_pred, dtype=float),
        "per_example": per_example,
        "mean": float(fn(y_true, y_pred, reduction="mean")),
        "sum": float(fn(y_true, y_pred, reduction="sum")),
        "result": fn(y_true, y_pred, reduction=reduction),
    }


def _cost_tick(reduction: str) -> str:
    return {"none": "none:\nthe bars", "mean": "mean\n(cost)", "sum": "sum"}[reduction]


@dataclass(eq=False)
class LossVsCostFigure:
    """The figure and the artists that follow the predictions."""

    figure: object
    ax_data: object
    ax_loss: object
    x: np.ndarray
    y_true: np.ndarray
    prediction_points: object
    residual_lines: object
    loss_bars: list
    cost_bar: object
    mean_line: object
    shown: dict = field(default_factory=dict)  # reduction and loss the labels show

    def show(self, state: dict) -> bool:
        """Put ``state`` (from :func:`compute`) on the artists.

        Returns True when something outside the changing artists had to change too
        (the y-axis range or the cost bar's label), i.e. a full redraw is needed.
        """
        y_pred = state["y_pred"]
        self.prediction_points.set_data(self.x, y_pred)
        self.residual_lines.set_segments(
            [[(x, t), (x, p)] for x, t, p in zip(self.x, self.y_true, y_pred)])
        for bar, value in zip(self.loss_bars, state["per_example"]):
            bar.set_height(value)
        reduction = state["reduction"]
        self.cost_bar.set_height(0.0 if reduction == "none" else state["result"])
        self.mean_line.set_ydata([state["mean"], state["mean"]])
        self.mean_line.set_visible(reduction == "mean")
        full = False
        needed = 1.1 * max(float(np.max(state["per_example"])), self.cost_bar.get_height())
        top = self.ax_loss.get_ylim()[1]
        # Grow at once; shrink only when the bars use under 30 % of the height, so a
        # slider moving to and fro does not rescale (a full redraw) at every step.
        if needed > top or needed < 0.3 * top:
            new_top = next((limit for limit in _Y_LIMITS if limit >= needed), needed)
            if new_top != top:
                self.ax_loss.set_ylim(0.0, new_top)
                full = True
        if self.shown.get("reduction") != reduction:
            n = len(self.loss_bars)
            self.ax_loss.set_xticks([*range(1, n + 1), n + 1.5],
                                    [str(i) for i in range(1, n + 1)] + [_cost_tick(reduction)])
            full = True
        if self.shown.get("loss") != state["loss"]:
            self.ax_loss.set_ylabel(state["loss"])
            full = True
        self.shown.update(reduction=reduction, loss=state["loss"])
        return full

    @property
    def changing_artists(self) -> list:
        return [self.residual_lines, self.prediction_points, *self.loss_bars,
                self.cost_bar, self.mean_line]


def build(x, y_true, y_pred, loss: str = "squared error", reduction: str = "mean",
          y_range=None, figsize=(9.0, 4.4), dpi: float = style.STATIC_DPI) -> LossVsCostFigure:
    """Build the two-panel figure for targets ``y_true`` at positions ``x``.

    Parameters
    ----------
    x, y_true, y_pred : array_like of shape (n,)
        Positions of the examples, their targets and predictions.
    loss : {"squared error", "absolute error"}
    reduction : {"none", "mean", "sum"}
    y_range : (float, float), optional
        y-range of the left panel (default: the data with a margin).
    figsize, dpi
        Size in inches and resolution.
    """
    x = np.asarray(x, dtype=float)
    y_true = np.asarray(y_true, dtype=float)
    y_pred = np.asarray(y_pred, dtype=float)
    n = x.size
    fig, (ax_data, ax_loss) = style.new_figure(figsize=figsize, dpi=dpi, ncols=2)
    from matplotlib.collections import LineCollection
    from matplotlib.ticker import MaxNLocator

    with style.course_style():
        ax_data.plot(x, y_true, color=style.DATA_COLOR, marker="o", linestyle="none",
                     markersize=9, label="target y")
        for i, (xi, yi) in enumerate(zip(x, y_true), start=1):
            ax_data.annotate(str(i), (xi, yi), textcoords="offset points", xytext=(-12, 4),
                             fontsize=style.TICK_SIZE)
        residual_lines = LineCollection([], colors=style.DATA_COLOR, linestyles=":",
                                        linewidths=1.8, label="residual ŷ − y")
        ax_data.add_collection(residual_lines)
        (prediction_points,) = ax_data.plot(x, y_pred, color=style.HIGHLIGHT, marker="D",
                                            linestyle="none", markersize=9,
                                            label="prediction ŷ")
        low, high = y_range if y_range is not None else (y_true.min() - 3, y_true.max() + 3)
        ax_data.set_xlim(x.min() - 0.5, x.max() + 0.5)
        ax_data.xaxis.set_major_locator(MaxNLocator(5))
        ax_data.set_ylim(low, high)
        ax_data.legend(loc="upper left")

        positions = np.arange(1, n + 1)
        loss_bars = list(ax_loss.bar(positions, np.zeros(n), color=style.OKABE_ITO["blue"],
                                     width=0.7, label="loss of each example"))
        (cost_bar,) = ax_loss.bar([n + 1.5], [0.0], width=0.9, hatch="//",
                                  color=style.OKABE_ITO["bluish_green"],
                                  edgecolor=style.OKABE_ITO["black"], label="reduced value")
        (mean_line,) = ax_loss.plot([0.5, n + 2.0], [0.0, 0.0], color=style.OKABE_ITO["black"],
                                    linestyle="--", linewidth=1.8, label="mean = cost")
        ax_loss.set_xlim(0.4, n + 2.1)
        ax_loss.set_ylim(0.0, 1.0)
        ax_loss.grid(axis="x", visible=False)
        ax_loss.legend(loc="upper left")
    style.label_axes(ax_data, title="Targets and predictions", xlabel="x", ylabel="y")
    style.label_axes(ax_loss, title="Per-example losses and the cost",
                     xlabel="example", ylabel=loss)
    parts = LossVsCostFigure(fig, ax_data, ax_loss, x, y_true, prediction_points,
                             residual_lines, loss_bars, cost_bar, mean_line)
    parts.show(compute(y_true, y_pred, loss, reduction))
    return parts
