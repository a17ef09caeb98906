"""Lesson 00 figure: the squared and the absolute error of one prediction.

>>> from lossbook.figures import welcome
>>> parts = welcome.build(target=2.0, y_pred=3.0)
>>> parts.squared_point.get_ydata()[0], parts.absolute_point.get_ydata()[0]
(1.0, 1.0)
>>> parts.ax.get_title()
'Loss of one prediction (target y = 2)'
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossbook import losses
from lossbook.figures import style

__all__ = ["ALT_TEXT", "WelcomeFigure", "compute", "build"]

#: Paste next to the figure in the lesson's Markdown.
ALT_TEXT = (
    "Line chart of the loss of a single prediction ŷ against ŷ, for a fixed target y. "
    "The squared error (ŷ − y)² (blue solid line, circle marker) is a parabola and the "
    "absolute error |ŷ − y| (orange dashed line, square marker) a V; both are zero at "
    "ŷ = y, marked by a vertical black line. Markers show the current prediction on "
    "each curve: near the target the squared error is the smaller one, beyond a distance "
    "of 1 it is the larger one."
)


def compute(target: float, y_pred: float) -> dict:
    """Residual, squared error and absolute error of one prediction (lossbook math).

    .. math:: r = \\hat y - y, \\qquad L_{sq} = r^2, \\qquad L_{abs} = |r|
    """
    return {
        "target": float(target),
        "y_pred": float(y_pred),
        "residual": float(y_pred - target),
        "squared": float(losses.mse([target], [y_pred])),
        "absolute": float(losses.mae([target], [y_pred])),
    }


@dataclass(eq=False)
class WelcomeFigure:
    """The figure and the artists that follow the prediction."""

    figure: object
    ax: object
    squared_curve: object
    absolute_curve: object
    squared_point: object
    absolute_point: object
    prediction_line: object

    def show(self, state: dict) -> None:
        """Move the markers and the prediction line to ``state`` (from :func:`compute`)."""
        y_pred = state["y_pred"]
        self.squared_point.set_data([y_pred], [state["squared"]])
        self.absolute_point.set_data([y_pred], [state["absolute"]])
        self.prediction_line.set_xdata([y_pred, y_pred])

    @property
    def changing_artists(self) -> list:
        return [self.prediction_line, self.squared_point, self.absolute_point]


def build(target: float = 2.0, y_pred: float = 3.0, pred_range=(-2.0, 6.0),
          figsize=(8.0, 4.5), dpi: float = style.STATIC_DPI) -> WelcomeFigure:
    """Build the figure for ``target`` with the prediction at ``y_pred``.

    Parameters
    ----------
    target : float
        The true value y.
    y_pred : float
        The prediction ŷ shown by the markers.
    pred_range : (float, float)
        Range of predictions on the x-axis.
    figsize, dpi
        Size in inches and resolution.
    """
    grid = np.linspace(pred_range[0], pred_range[1], 401)
    targets = np.full_like(grid, target)
    squared = losses.mse(targets, grid, reduction="none")
    absolute = losses.mae(targets, grid, reduction="none")
    fig, ax = style.new_figure(figsize=figsize, dpi=dpi)
    sq, ab = style.LOSS_STYLES["mse"], style.LOSS_STYLES["mae"]
    with style.course_style():
        ax.axvline(target, color=style.OKABE_ITO["black"], linewidth=1.5,
                   label=f"target y = {target:g}")
        (squared_curve,) = ax.plot(grid, squared, **sq.line(label="squared error (ŷ − y)²"))
        (absolute_curve,) = ax.plot(grid, absolute, **ab.line(label="absolute error |ŷ − y|"))
        prediction_line = ax.axvline(y_pred, color=style.DATA_COLOR, linestyle=":",
                                     linewidth=1.5, label="prediction ŷ")
        (squared_point,) = ax.plot([y_pred], [0.0], **sq.points(markersize=11, label=None))
        (absolute_point,) = ax.plot([y_pred], [0.0], **ab.points(markersize=11, label=None))
        ax.set_xlim(*pred_range)
        ax.set_ylim(-0.3, 9.0)
        ax.legend(loc="upper center")
    style.label_axes(ax, title=f"Loss of one prediction (target y = {target:g})",
                     xlabel="prediction ŷ", ylabel="loss")
    parts = WelcomeFigure(fig, ax, squared_curve, absolute_curve, squared_point,
                          absolute_point, prediction_line)
    parts.show(compute(target, y_pred))
    return parts
