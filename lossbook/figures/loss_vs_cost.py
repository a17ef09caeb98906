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

import math
from dataclasses import dataclass, field

import numpy as np

from lossbook import losses
from lossbook.figures import style

__all__ = ["ALT_TEXT", "LOSSES", "REDUCTIONS", "LossVsCostFigure", "compute", "build",
           "loss_axis_top"]

#: Loss options: label shown to the learner -> name in lossbook.losses.
LOSSES = {"squared error": "mse", "absolute error": "mae"}
REDUCTIONS = ("none", "mean", "sum")
#: Shrink the loss axis only when the bars would fit in 1/_SHRINK of its height with margin.
_SHRINK = 20.0
#: ... and only after that many updates in a row: a prediction that jumps near its target
#: and straight back (a click on the slider's track) leaves the axis alone.
_SHRINK_AFTER = 3

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


def loss_axis_top(top, needed: float, cap: float = math.inf) -> float:
    """Top of the loss axis: a power of ten (at least 1), or the largest reachable bar.

    Changing it costs a full redraw, so it moves in coarse steps with hysteresis: it
    grows when the tallest bar plus a 10 % margin would not fit, and shrinks only when
    that would fit in a twentieth of the height; either way it goes to the smallest power
    of ten :math:`10^k \\ge \\max(1, 1.1\\,h)` for the tallest bar :math:`h`, but never
    above :math:`1.05\\,c` for ``cap`` :math:`c`, the tallest bar the controls can make.
    ``top=None`` (no axis yet, or labels change anyway) always picks that value.

    >>> loss_axis_top(None, 3.0), loss_axis_top(10.0, 9.5), loss_axis_top(10.0, 0.6)
    (10.0, 100.0, 10.0)
    >>> loss_axis_top(10.0, 0.4), loss_axis_top(10.0, 30.0, cap=40.0)
    (1.0, 42.0)
    """
    margin = 1.1 * float(needed)
    if top is not None and margin <= top and _SHRINK * margin > top:
        return float(top)
    decade = 10.0 ** math.ceil(math.log10(max(margin, 1.0)))
    return float(min(decade, 1.05 * cap)) if 1.05 * cap >= needed else decade


def _reachable(y_true, loss: str, reduction: str, y_range) -> float:
    """The tallest bar any predictions within ``y_range`` can make (inf without a range)."""
    if y_range is None:
        return math.inf
    fn = getattr(losses, LOSSES[loss])
    worst = np.maximum(fn(y_true, np.full_like(y_true, y_range[0]), reduction="none"),
                       fn(y_true, np.full_like(y_true, y_range[1]), reduction="none"))
    return float(worst.sum() if reduction == "sum" else worst.max())


#: The cost bar's legend label for each reduction ("none" has no bar, no line, no entry).
_COST_LABELS = {"mean": "mean of the losses (the cost)", "sum": "sum of the losses"}


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
    y_range: tuple | None = None  # the predictions' range (the controls'), if bounded
    shown: dict = field(default_factory=dict)  # reduction and loss the labels show
    small_updates: int = 0  # updates in a row after which the loss axis could shrink

    def show(self, state: dict) -> bool:
        """Put ``state`` (from :func:`compute`) on the artists.

        Returns True when something outside the changing artists had to change too
        (the y-axis range or the cost bar's label), i.e. a full redraw is needed. The
        loss axis follows :func:`loss_axis_top`, but shrinks only once that has asked for
        a smaller axis on ``_SHRINK_AFTER`` updates in a row; it grows at once, so every
        bar always stays inside the axes.
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
        relabel = (self.shown.get("reduction") != reduction
                   or self.shown.get("loss") != state["loss"])
        needed = max(float(np.max(state["per_example"])), self.cost_bar.get_height())
        top = self.ax_loss.get_ylim()[1]
        # Changing the limits costs a full redraw: coarse steps with hysteresis, except
        # when the labels change anyway (then fit the bars as tightly as the steps allow).
        new_top = top if not np.isfinite(needed) else loss_axis_top(
            None if relabel else top, needed,
            _reachable(self.y_true, state["loss"], reduction, self.y_range))
        if new_top < top and not relabel:
            self.small_updates += 1
            if self.small_updates < _SHRINK_AFTER:
                new_top = top
        if new_top != top or relabel:
            self.small_updates = 0
        full = new_top != top
        if full:
            self.ax_loss.set_ylim(0.0, new_top)
        if self.shown.get("reduction") != reduction:
            self._legend(reduction)
            n = len(self.loss_bars)
            self.ax_loss.set_xticks([*range(1, n + 1), n + 1.5],
                                    [str(i) for i in range(1, n + 1)] + [_cost_tick(reduction)])
            full = True
        if self.shown.get("loss") != state["loss"]:
            self.ax_loss.set_ylabel(state["loss"])
            full = True
        self.shown.update(reduction=reduction, loss=state["loss"])
        return full

    def _legend(self, reduction: str) -> None:
        """One key below both panels (inside either, the tallest bars and the predictions
        near the top of their range would run into it), listing only what is drawn: with
        reduction "none" there is neither a reduced bar nor a cost line."""
        for old in list(self.figure.legends):
            old.remove()
        handles, labels = (sum(pair, []) for pair in zip(self.ax_data.get_legend_handles_labels(),
                                                         self.ax_loss.get_legend_handles_labels()))
        keep = []
        for handle, label in zip(handles, labels):
            if handle is self.mean_line:
                if reduction == "mean":
                    keep.append((handle, label))
            elif isinstance(handle, tuple) and self.cost_bar in handle:  # the cost bar's BarContainer
                if reduction in _COST_LABELS:
                    keep.append((handle, _COST_LABELS[reduction]))
            else:
                keep.append((handle, label))
        with style.course_style():
            self.figure.legend([h for h, _ in keep], [text for _, text in keep],
                               loc="outside lower center", ncols=3)

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
        pad = 0.03 * (high - low)  # a prediction at either end stays whole
        ax_data.set_ylim(low - pad, high + pad)

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
    style.label_axes(ax_data, title="Targets and predictions", xlabel="x", ylabel="y")
    style.label_axes(ax_loss, title="Per-example losses and the cost",
                     xlabel="example", ylabel=loss)
    parts = LossVsCostFigure(fig, ax_data, ax_loss, x, y_true, prediction_points,
                             residual_lines, loss_bars, cost_bar, mean_line,
                             None if y_range is None else (float(low), float(high)))
    parts.show(compute(y_true, y_pred, loss, reduction))
    return parts
