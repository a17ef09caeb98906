"""Static figures for lesson 07 (choosing a loss): the outlier experiment."""
from __future__ import annotations

import numpy as np

from lossbook.figures import style

__all__ = ["outlier_figure"]


def outlier_figure(fractions, errors: dict, *, ylabel: str = "distance from the true line"):
    """Figure: fit error against the fraction of outliers, one line per loss.

    ``errors`` maps a loss name with a course style ("mse", "mae", "huber", ...) to one
    error per entry of ``fractions``.
    """
    fractions = np.asarray(fractions, dtype=float)
    if not errors:
        raise ValueError("outlier_figure: errors must hold at least one loss, e.g. {'mse': [...]}")
    fig, ax = style.new_figure(figsize=(7.5, 4.5))
    with style.course_style():
        for name, values in errors.items():
            if name not in style.LOSS_STYLES:
                raise ValueError(f"outlier_figure: unknown loss {name!r}; use one of "
                                 f"{sorted(style.LOSS_STYLES)}")
            values = np.asarray(values, dtype=float)
            if values.shape != fractions.shape:
                raise ValueError(f"outlier_figure: errors[{name!r}] needs one value per fraction "
                                 f"({fractions.shape}), got shape {values.shape}")
            ax.plot(100 * fractions, values, **style.LOSS_STYLES[name].marked_line())
        style.label_axes(ax, title="Line fits with outliers: which loss stays on target?",
                         xlabel="outliers in the data (%)", ylabel=ylabel)
        ax.legend(loc="upper left")
    return fig
