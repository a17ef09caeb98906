"""Figures for lesson 00 (welcome): the predict → measure → adjust loop."""
from __future__ import annotations

import numpy as np

from lossbook.figures import style
from lossbook.losses import mse

__all__ = ["training_figure"]


def training_figure(x, y, history, shown_steps=(0, 5, 10, 40)):
    """Data with the line after several training steps, and the cost per step.

    Parameters
    ----------
    x, y : array_like of shape (n,)
        The data points.
    history : sequence of (w, b)
        The line's slope and intercept at steps 0, 1, 2, …
    shown_steps : sequence of int
        Steps whose line is drawn on the left panel (each must be < ``len(history)``).

    Returns
    -------
    matplotlib.figure.Figure
        Left: the data and the lines ``w·x + b`` of the shown steps. Right: the cost
        ``mse(y, w·x + b)`` of every step in ``history``.

    Examples
    --------
    >>> fig = training_figure([0.0, 1.0], [1.0, 3.0], [(0.0, 0.0), (2.0, 1.0)], shown_steps=(0, 1))
    >>> [float(c) for c in fig.axes[1].get_lines()[0].get_ydata()]   # cost per step
    [5.0, 0.0]
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    params = np.asarray(history, dtype=float)
    if params.ndim != 2 or params.shape[1] != 2 or len(params) == 0:
        raise ValueError(f"training_figure: history must be a non-empty sequence of (w, b) "
                         f"pairs, got shape {params.shape}; append (w, b) at every step")
    bad = [s for s in shown_steps if not 0 <= s < len(params)]
    if bad:
        raise ValueError(f"training_figure: shown_steps {bad} are outside the history of "
                         f"{len(params)} steps; pick steps from 0 to {len(params) - 1}")
    costs = np.array([mse(y, w * x + b) for w, b in params])
    fig, (left, right) = style.new_figure(figsize=(11.0, 4.5), ncols=2)
    with style.course_style():
        left.plot(x, y, color=style.DATA_COLOR, linestyle="none", marker="o",
                  markersize=6, alpha=0.8, label="data")
        grid = np.linspace(x.min(), x.max(), 2)
        for k, step in enumerate(shown_steps):
            w, b = params[step]
            left.plot(grid, w * grid + b, color=style.COLOR_CYCLE[k % 7],
                      linestyle=style.LINESTYLE_CYCLE[k % 7], label=f"after {step} step{'' if step == 1 else 's'}")
        left.legend(loc="upper left")
        right.plot(np.arange(len(costs)), costs, **style.LOSS_STYLES["mse"].line(label="cost (MSE)"))
        right.legend(loc="upper right")
    style.label_axes(left, title="Predict: the line improves", xlabel="x", ylabel="y")
    style.label_axes(right, title="Measure: the cost falls", xlabel="training step",
                     ylabel="cost (mean squared error)")
    return fig
