"""Lesson 02 figure: a line through data, its residuals, and the MSE surface J(w, b).

Left: the data, the line ŷ = w·x + b and the residuals. Right: contours of the cost
J(w, b) = MSE over slope and intercept, the current (w, b), the least-squares minimum and
an arrow for one gradient-descent step, −η∇J. The minimum comes from
:func:`lossbook.fitting.fit_line`.

>>> from lossbook.figures import mse_line_fit
>>> s = mse_line_fit.compute([0.0, 1.0], [1.0, 3.0], w=2.0, b=1.0)
>>> s["cost"], s["grad_w"], s["grad_b"]
(0.0, 0.0, 0.0)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossbook import fitting, losses
from lossbook.figures import style

__all__ = ["ALT_TEXT", "MseLineFitFigure", "compute", "cost_surface", "build"]

#: Learning rate η of the gradient step drawn as an arrow.
STEP_SIZE = 0.1

#: Paste next to the figure in the lesson's Markdown.
ALT_TEXT = (
    "Two panels. Left, 'Data and the line ŷ = w·x + b': scattered grey data points, a "
    "blue line for the current slope w and intercept b, and dotted vertical residuals "
    "from each point to the line. Right, 'MSE surface J(w, b)': elliptical contour lines "
    "of the mean squared error over slope (x-axis) and intercept (y-axis), a black star "
    "at the least-squares minimum, a vermillion dot at the current (w, b) and an arrow "
    "from it for one gradient-descent step, which points downhill, across the contours, "
    "towards the minimum."
)


def compute(x, y, w: float, b: float, step_size: float = STEP_SIZE) -> dict:
    r"""Predictions, cost and gradient of the line ŷ = w·x + b (lossbook math).

    .. math:: J(w, b) = \frac1n \sum_i (w x_i + b - y_i)^2, \qquad
              \frac{\partial J}{\partial w} = \sum_i g_i x_i, \quad
              \frac{\partial J}{\partial b} = \sum_i g_i

    with :math:`g_i = \partial J / \partial \hat y_i` from ``lossbook.losses.mse_grad``
    (the chain rule through ŷ_i = w x_i + b). The step ends at (w, b) − η∇J.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    y_pred = w * x + b
    g = losses.mse_grad(y, y_pred)
    grad_w, grad_b = float(g @ x), float(g.sum())
    return {
        "w": float(w), "b": float(b), "y_pred": y_pred,
        "cost": float(losses.mse(y, y_pred)),
        "grad_w": grad_w, "grad_b": grad_b,
        "step_to": (float(w) - step_size * grad_w, float(b) - step_size * grad_b),
    }


def cost_surface(x, y, w_grid, b_grid) -> np.ndarray:
    """J(w, b) = MSE for every pair of the grids: shape ``(len(b_grid), len(w_grid))``."""
    x = np.asarray(x, dtype=float)
    W, B = np.meshgrid(np.asarray(w_grid, float), np.asarray(b_grid, float))
    y_pred = W[..., None] * x + B[..., None]
    targets = np.broadcast_to(np.asarray(y, float), y_pred.shape)
    return losses.mse(targets, y_pred, reduction="none").mean(axis=-1)


@dataclass(eq=False)
class MseLineFitFigure:
    """The figure and the artists that follow (w, b)."""

    figure: object
    ax_data: object
    ax_surface: object
    x: np.ndarray
    y: np.ndarray
    line: object
    residual_lines: object
    current_point: object
    step_arrow: object
    contours: object
    line_x: np.ndarray

    def show(self, state: dict) -> None:
        """Put ``state`` (from :func:`compute`) on the artists, in place."""
        w, b = state["w"], state["b"]
        self.line.set_data(self.line_x, w * self.line_x + b)
        self.residual_lines.set_segments(
            [[(xi, yi), (xi, pi)] for xi, yi, pi in zip(self.x, self.y, state["y_pred"])])
        self.current_point.set_data([w], [b])
        end = state["step_to"]
        self.step_arrow.set_positions((w, b), end)
        self.step_arrow.set_visible(bool(np.hypot(end[0] - w, end[1] - b) > 1e-9))

    @property
    def changing_artists(self) -> list:
        return [self.residual_lines, self.line, self.step_arrow, self.current_point]


def build(x, y, w: float = 0.0, b: float = 0.0, w_range=(-1.0, 5.0), b_range=(-3.0, 5.0),
          figsize=(9.6, 4.8), dpi: float = style.STATIC_DPI) -> MseLineFitFigure:
    """Build the figure for data ``(x, y)`` with the line at slope ``w``, intercept ``b``.

    Parameters
    ----------
    x, y : array_like of shape (n,)
        The data.
    w, b : float
        Slope and intercept shown.
    w_range, b_range : (float, float)
        Extent of the surface panel (slope on x, intercept on y).
    figsize, dpi
        Size in inches and resolution.
    """
    from matplotlib.collections import LineCollection
    from matplotlib.lines import Line2D
    from matplotlib.patches import FancyArrowPatch

    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    fig, (ax_data, ax_surface) = style.new_figure(figsize=figsize, dpi=dpi, ncols=2)
    line_x = np.array([x.min() - 0.5, x.max() + 0.5])
    w_grid = np.linspace(*w_range, 121)
    b_grid = np.linspace(*b_range, 121)
    surface = cost_surface(x, y, w_grid, b_grid)
    w_best, b_best = fitting.fit_line(x, y, loss="mse")
    j_best = float(losses.mse(y, w_best * x + b_best))
    levels = j_best + (surface.max() - j_best) * np.geomspace(0.002, 0.8, 9)
    with style.course_style():
        ax_data.plot(x, y, color=style.DATA_COLOR, marker="o", linestyle="none",
                     markersize=6, label="data")
        residual_lines = LineCollection([], colors=style.DATA_COLOR, linestyles=":",
                                        linewidths=1.3, label="residuals")
        ax_data.add_collection(residual_lines)
        (line,) = ax_data.plot(line_x, w * line_x + b,
                               **style.LOSS_STYLES["mse"].line(label="ŷ = w·x + b"))
        ax_data.set_xlim(*line_x)
        margin = 0.15 * (y.max() - y.min())
        ax_data.set_ylim(y.min() - margin, y.max() + margin)
        ax_data.legend(loc="upper left")

        contours = ax_surface.contour(w_grid, b_grid, surface, levels=levels,
                                      colors=style.DATA_COLOR, linewidths=1.0)
        ax_surface.clabel(contours, fmt="%.3g", fontsize=style.TICK_SIZE - 2)
        ax_surface.plot([w_best], [b_best], color=style.OKABE_ITO["black"], marker="*",
                        markersize=15, linestyle="none", label="minimum")
        (current_point,) = ax_surface.plot([w], [b], color=style.HIGHLIGHT, marker="o",
                                           markersize=10, linestyle="none",
                                           label="current (w, b)")
        step_arrow = FancyArrowPatch((w, b), (w, b), arrowstyle="-|>", mutation_scale=18,
                                     color=style.HIGHLIGHT, linewidth=2.2,
                                     label=f"step −η∇J (η = {STEP_SIZE:g})")
        ax_surface.add_patch(step_arrow)
        ax_surface.set_xlim(*w_range)
        ax_surface.set_ylim(*b_range)
        arrow_key = Line2D([], [], color=style.HIGHLIGHT, linewidth=2.2, marker=">",
                           markevery=[1], label=step_arrow.get_label())
        ax_surface.legend(loc="upper center", bbox_to_anchor=(0.5, -0.16), ncols=3,
                          handles=[ax_surface.lines[0], current_point, arrow_key],
                          fontsize=style.LEGEND_SIZE - 1, handlelength=1.5, columnspacing=1.0)
    style.label_axes(ax_data, title="Data and the line ŷ = w·x + b", xlabel="x", ylabel="y")
    style.label_axes(ax_surface, title="MSE surface J(w, b)", xlabel="slope w",
                     ylabel="intercept b")
    parts = MseLineFitFigure(fig, ax_data, ax_surface, x, y, line, residual_lines,
                             current_point, step_arrow, contours, line_x)
    parts.show(compute(x, y, w, b))
    return parts
