"""Lesson 03 figure: MSE, MAE and Huber line fits on data with one movable outlier.

Left: the data, the outlier and the three fitted lines. Right: each loss against the
residual, with the outlier's residual under each fit marked on its curve: the squared
loss grows without bound, the absolute and Huber losses only linearly, which is why
their fits barely follow the outlier.

The three lines are the exact minimisers of the lossbook costs, from
:func:`lossbook.fitting.fit_line` (fast enough to refit at every slider step).

>>> from lossbook.figures import robust_fit
>>> s = robust_fit.compute([0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.0, 3.0], 4.0, 40.0, delta=1.0)
>>> {name: [round(v, 6) for v in line] for name, line in s["fits"].items()}
{'mse': [8.2, -7.2], 'mae': [1.0, 0.0], 'huber': [1.5, -0.5]}
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossbook import fitting, losses
from lossbook.figures import style

__all__ = ["ALT_TEXT", "FITS", "RobustFitFigure", "compute", "build"]

_PINNED = r"$\Uparrow$"  # marker of a loss above the top of the panel

#: The three fits, in drawing order: key -> style key in style.LOSS_STYLES.
FITS = ("mse", "mae", "huber")

#: Paste next to the figure in the lesson's Markdown.
ALT_TEXT = (
    "Two panels. Left, 'Three fits, one outlier': grey data points along a rising line, "
    "one outlier drawn as a large black X, and three fitted lines: MSE (blue, solid), "
    "MAE (orange, dashed) and Huber (green, dash-dotted). When the outlier is far from "
    "the others the MSE line tilts towards it while the MAE and Huber lines stay with "
    "the bulk of the data. Right, 'Loss against residual': the squared loss (a parabola), "
    "the absolute loss (a V) and the Huber loss (quadratic within ±δ, marked by dotted "
    "vertical lines, linear outside), with the outlier's residual under each fit marked "
    "on its curve (an upward double arrow at the top edge when its loss is above the panel)."
)


def compute(x, y, outlier_x: float, outlier_y: float, delta: float) -> dict:
    """Fit the three lines to the data plus the outlier (:func:`lossbook.fitting.fit_line`)."""
    x_all = np.append(np.asarray(x, dtype=float), outlier_x)
    y_all = np.append(np.asarray(y, dtype=float), outlier_y)
    fits = {name: fitting.fit_line(x_all, y_all, loss=name, delta=delta) for name in FITS}
    residuals = {name: w * outlier_x + b - outlier_y for name, (w, b) in fits.items()}
    outlier_losses = {
        "mse": float(losses.mse([outlier_y], [outlier_y + residuals["mse"]])),
        "mae": float(losses.mae([outlier_y], [outlier_y + residuals["mae"]])),
        "huber": float(losses.huber([outlier_y], [outlier_y + residuals["huber"]],
                                    delta=delta)),
    }
    return {"outlier": (float(outlier_x), float(outlier_y)), "delta": float(delta),
            "fits": fits, "outlier_residuals": residuals, "outlier_losses": outlier_losses}


def _loss_curves(r, delta):
    zeros = np.zeros_like(r)
    return {"mse": losses.mse(zeros, r, reduction="none"),
            "mae": losses.mae(zeros, r, reduction="none"),
            "huber": losses.huber(zeros, r, delta=delta, reduction="none")}


@dataclass(eq=False)
class RobustFitFigure:
    """The figure and the artists that follow the outlier and δ."""

    figure: object
    ax_data: object
    ax_loss: object
    outlier_point: object
    fit_lines: dict
    huber_curve: object
    delta_lines: object
    residual_points: dict
    line_x: np.ndarray
    residual_grid: np.ndarray

    def show(self, state: dict) -> None:
        """Put ``state`` (from :func:`compute`) on the artists, in place."""
        ox, oy = state["outlier"]
        self.outlier_point.set_data([ox], [oy])
        top = self.ax_loss.get_ylim()[1]
        for name, (w, b) in state["fits"].items():
            self.fit_lines[name].set_data(self.line_x, w * self.line_x + b)
            loss = state["outlier_losses"][name]
            point = self.residual_points[name]
            # above the panel: pin the marker to the top edge as an upward arrow
            point.set_data([state["outlier_residuals"][name]], [min(loss, 0.95 * top)])
            pinned = loss > 0.95 * top
            point.set_marker(_PINNED if pinned else style.LOSS_STYLES[name].marker)
            point.set_markeredgecolor(style.LOSS_STYLES[name].color if pinned
                                      else style.OKABE_ITO["black"])
        delta = state["delta"]
        self.huber_curve.set_ydata(_loss_curves(self.residual_grid, delta)["huber"])
        self.delta_lines.set_xdata([-delta, -delta, np.nan, delta, delta])

    @property
    def changing_artists(self) -> list:
        return [self.delta_lines, self.huber_curve, *self.fit_lines.values(),
                self.outlier_point, *self.residual_points.values()]


def build(x, y, outlier_x: float, outlier_y: float, delta: float = 1.0,
          y_range=(-6.0, 16.0), residual_range=(-12.0, 12.0), figsize=(9.6, 4.6),
          dpi: float = style.STATIC_DPI) -> RobustFitFigure:
    """Build the figure for data ``(x, y)`` plus one outlier at ``(outlier_x, outlier_y)``.

    Parameters
    ----------
    x, y : array_like of shape (n,)
        The regular data.
    outlier_x, outlier_y : float
        Where the outlier is.
    delta : float
        Huber's threshold δ.
    y_range, residual_range : (float, float)
        y-range of the data panel and residual range of the loss panel.
    figsize, dpi
        Size in inches and resolution.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    fig, (ax_data, ax_loss) = style.new_figure(figsize=figsize, dpi=dpi, ncols=2)
    line_x = np.array([min(x.min(), outlier_x) - 0.5, max(x.max(), outlier_x) + 0.5])
    grid = np.linspace(*residual_range, 321)
    curves = _loss_curves(grid, delta)
    fit_lines, residual_points = {}, {}
    with style.course_style():
        ax_data.plot(x, y, color=style.DATA_COLOR, marker="o", linestyle="none",
                     markersize=6, label="data")
        for name in FITS:
            look = style.LOSS_STYLES[name]
            (fit_lines[name],) = ax_data.plot(line_x, line_x, **look.line(
                label=f"{look.label.split(' (')[0]} fit"))
        (outlier_point,) = ax_data.plot([outlier_x], [outlier_y], color=style.OKABE_ITO["black"],
                                        marker="X", markersize=14, linestyle="none",
                                        label="outlier")
        ax_data.set_xlim(*line_x)
        ax_data.set_ylim(*y_range)
        ax_data.legend(loc="upper left", fontsize=style.LEGEND_SIZE - 1)

        curve_artists = {}
        for name in FITS:
            look = style.LOSS_STYLES[name]
            label = {"mse": "squared r²", "mae": "absolute |r|", "huber": "Huber, δ"}[name]
            (curve_artists[name],) = ax_loss.plot(grid, curves[name], **look.line(label=label))
            (residual_points[name],) = ax_loss.plot([0.0], [0.0], **look.points(
                markersize=10, label=None, markeredgecolor=style.OKABE_ITO["black"]))
        (delta_lines,) = ax_loss.plot([-delta, -delta, np.nan, delta, delta],
                                      [0, 100, np.nan, 0, 100],
                                      color=style.OKABE_ITO["bluish_green"], linestyle=":",
                                      linewidth=1.5, label="±δ")
        ax_loss.set_xlim(*residual_range)
        ax_loss.set_ylim(-0.3, 12.0)
        ax_loss.legend(loc="lower right", fontsize=style.LEGEND_SIZE - 1)
    style.label_axes(ax_data, title="Three fits, one outlier", xlabel="x", ylabel="y")
    style.label_axes(ax_loss, title="Loss vs residual (markers: outlier)",
                     xlabel="residual r = ŷ − y", ylabel="loss")
    parts = RobustFitFigure(fig, ax_data, ax_loss, outlier_point, fit_lines,
                            curve_artists["huber"], delta_lines, residual_points, line_x, grid)
    parts.show(compute(x, y, outlier_x, outlier_y, delta))
    return parts
