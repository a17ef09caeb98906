"""Figures for lesson 02 (MSE): the cost of a constant prediction."""
from __future__ import annotations

import numpy as np

from lossbook.figures import style
from lossbook.losses import mse

__all__ = ["constant_cost_figure"]


def constant_cost_figure(y, n_grid=401):
    """The MSE of predicting one constant c for every target, against c.

    Parameters
    ----------
    y : array_like of shape (n,)
        The targets.
    n_grid : int, default 401
        Number of values of c, spread over the targets' range plus a margin.

    Returns
    -------
    matplotlib.figure.Figure
        The curve ``J(c) = mse(y, c)``, the targets as ticks along the bottom, and a
        vertical line at ``mean(y)``, the minimiser.

    Examples
    --------
    >>> fig = constant_cost_figure([1.0, 2.0, 6.0])
    >>> fig.axes[0].get_title()
    'The best constant under MSE is the mean'
    """
    y = np.asarray(y, dtype=float)
    margin = 0.15 * (np.ptp(y) or 1.0)
    c = np.linspace(y.min() - margin, y.max() + margin, n_grid)
    cost = np.array([mse(y, np.full_like(y, ci)) for ci in c])
    fig, ax = style.new_figure(figsize=(8.0, 4.5))
    with style.course_style():
        ax.plot(c, cost, **style.LOSS_STYLES["mse"].line(label="J(c), mean squared error"))
        ax.plot(y, np.zeros_like(y), color=style.DATA_COLOR, linestyle="none", marker="|",
                markersize=16, label="targets y")
        ax.axvline(y.mean(), color=style.OKABE_ITO["vermillion"], linestyle="--",
                   label=f"mean of y = {y.mean():.3f}")
        ax.set_ylim(top=1.45 * cost.max())     # room for the legend above the curve
        ax.legend(loc="upper center")
    style.label_axes(ax, title="The best constant under MSE is the mean",
                     xlabel="constant prediction c", ylabel="cost J(c)")
    return fig
