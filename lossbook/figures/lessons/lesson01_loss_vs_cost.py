"""Figures for lesson 01 (loss vs cost): per-example losses and their mean."""
from __future__ import annotations

import numpy as np

from lossbook.figures import style
from lossbook.losses import mse

__all__ = ["per_example_losses_figure"]


def per_example_losses_figure(y_true, y_pred):
    """Bar chart of the per-example squared errors with their mean (the cost).

    Parameters
    ----------
    y_true, y_pred : array_like of shape (n,)

    Returns
    -------
    matplotlib.figure.Figure
        One bar per example, height ``mse(y_true, y_pred, reduction="none")``, and a
        horizontal dashed line at ``mse(y_true, y_pred)``.

    Examples
    --------
    >>> fig = per_example_losses_figure([1.0, 2.0], [1.5, 2.0])
    >>> [float(bar.get_height()) for bar in fig.axes[0].patches]
    [0.25, 0.0]
    """
    losses = mse(y_true, y_pred, reduction="none")
    cost = mse(y_true, y_pred)
    fig, ax = style.new_figure(figsize=(8.0, 4.5))
    examples = np.arange(1, len(losses) + 1)
    with style.course_style():
        ax.bar(examples, losses, color=style.OKABE_ITO["sky_blue"], edgecolor=style.DATA_COLOR,
               label="loss of each example")
        ax.axhline(cost, color=style.OKABE_ITO["vermillion"], linestyle="--",
                   label=f"cost (mean) = {cost:.3g}")
        ax.set_xticks(examples)
        ax.legend(loc="upper left")
    style.label_axes(ax, title="Per-example loss vs cost", xlabel="example i",
                     ylabel="squared error (ŷ − y)²")
    return fig
