"""The figure of the explorer tests' minimal explorers: the parabola r² with one dot on it."""
from __future__ import annotations

import numpy as np

from lossbook.figures import style


def parabola_with_dot():
    """Return ``(figure, dot)``: r² drawn for r in [-4, 4], and the dot's ``Line2D`` at (0, 0)."""
    fig, ax = style.new_figure(figsize=(5, 3), dpi=style.EXPLORER_DPI)
    r = np.linspace(-4, 4, 81)
    with style.course_style():
        ax.plot(r, r**2, **style.LOSS_STYLES["mse"].line())
        (dot,) = ax.plot([0], [0], **style.LOSS_STYLES["mse"].points())
    style.label_axes(ax, title="r squared", xlabel="residual r", ylabel="loss")
    return fig, dot
