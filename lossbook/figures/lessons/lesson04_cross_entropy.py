"""Figures for lesson 04 (cross-entropy): the binary loss against the probability."""
from __future__ import annotations

import numpy as np

from lossbook.figures import style
from lossbook.losses import binary_cross_entropy

__all__ = ["bce_curves", "bce_curves_figure"]


def bce_curves(p):
    """Binary cross-entropy of one example at probabilities ``p`` for labels 1 and 0.

    Returns
    -------
    dict
        ``{1: -log p, 0: -log(1 − p)}`` as arrays, from ``binary_cross_entropy``.

    Examples
    --------
    >>> curves = bce_curves([0.5])
    >>> bool(np.isclose(curves[1][0], np.log(2)) and np.isclose(curves[0][0], np.log(2)))
    True
    """
    p = np.asarray(p, dtype=float)
    return {label: binary_cross_entropy(np.full(p.shape, label), p, reduction="none")
            for label in (1, 0)}


def bce_curves_figure(p_min=1e-3, n=999):
    """Binary cross-entropy of one example against the predicted probability of class 1.

    Parameters
    ----------
    p_min : float, default 1e-3
        The probability axis runs from p_min to 1 − p_min.
    n : int, default 999
        Number of probabilities plotted.

    Returns
    -------
    matplotlib.figure.Figure
        Two curves, −log p (true label 1) and −log(1 − p) (true label 0).
    """
    p = np.linspace(p_min, 1.0 - p_min, n)
    curves = bce_curves(p)
    fig, ax = style.new_figure(figsize=(8.0, 4.5))
    with style.course_style():
        ax.plot(p, curves[1], color=style.OKABE_ITO["blue"], linestyle="-",
                label="true label y = 1:  −log p")
        ax.plot(p, curves[0], color=style.OKABE_ITO["orange"], linestyle="--",
                label="true label y = 0:  −log(1 − p)")
        ax.set_xlim(0, 1)
        ax.set_ylim(0, None)
        ax.legend(loc="upper center")
    style.label_axes(ax, title="Binary cross-entropy: confident and wrong costs most",
                     xlabel="predicted probability of class 1, p", ylabel="loss of one example")
    return fig
