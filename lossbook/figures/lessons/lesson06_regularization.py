"""Static figures for lesson 06 (regularization): overfitting and the two proximal steps."""
from __future__ import annotations

import numpy as np

from lossbook.figures import style

__all__ = ["polynomial_fits_figure", "train_test_figure", "shrinkage_figure"]


def polynomial_fits_figure(x, y, x_grid, fits: dict, truth=None, *,
                           title: str = "Polynomial fits of increasing degree"):
    """Figure: training points, the true curve and one fitted curve per entry of ``fits``.

    ``fits`` maps a legend label (e.g. "degree 12") to the fitted values on ``x_grid``.
    """
    x_grid = np.asarray(x_grid, dtype=float)
    if not fits:
        raise ValueError("polynomial_fits_figure: fits must hold at least one curve, "
                         "e.g. {'degree 3': values_on_x_grid}")
    fig, ax = style.new_figure(figsize=(8.0, 4.8))
    with style.course_style():
        ax.plot(x, y, linestyle="none", marker="o", markersize=8, color=style.DATA_COLOR,
                label="training points")
        if truth is not None:
            ax.plot(x_grid, truth, color="black", linestyle=":", linewidth=2.0, label="truth")
        for k, (label, values) in enumerate(fits.items()):
            values = np.asarray(values, dtype=float)
            if values.shape != x_grid.shape:
                raise ValueError(f"polynomial_fits_figure: fits[{label!r}] must have the shape of "
                                 f"x_grid {x_grid.shape}, got {values.shape}")
            ax.plot(x_grid, values, color=style.COLOR_CYCLE[k % 7],
                    linestyle=style.LINESTYLE_CYCLE[k % 7], label=label)
        y_arr = np.asarray(y, dtype=float)
        pad = 0.6 * (y_arr.max() - y_arr.min())
        ax.set_ylim(y_arr.min() - pad, y_arr.max() + pad)   # keep wild curves from flattening the data
        style.label_axes(ax, title=title, xlabel="x", ylabel="y")
        ax.legend(loc="best", fontsize=11)
    return fig


def train_test_figure(values, train_errors, test_errors, *, xlabel: str, title: str,
                      log_x: bool = False, held_out_label: str = "test error"):
    """Figure: training and held-out error (log scale) against a complexity knob.

    ``held_out_label`` names the second curve: ``"test error"``, or ``"validation error"``
    when the curve is the one a knob is chosen on.
    """
    values = np.asarray(values, dtype=float)
    fig, ax = style.new_figure(figsize=(7.5, 4.5))
    with style.course_style():
        ax.plot(values, train_errors, color=style.OKABE_ITO["blue"], linestyle="-", marker="o",
                label="training error")
        ax.plot(values, test_errors, color=style.OKABE_ITO["vermillion"], linestyle="--",
                marker="s", label=held_out_label)
        ax.set_yscale("log")
        if log_x:
            ax.set_xscale("log")
        style.label_axes(ax, title=title, xlabel=xlabel, ylabel="mean squared error (log scale)")
        ax.legend(loc="best")
    return fig


def shrinkage_figure(t: float = 1.0, z_range=(-3.0, 3.0), n: int = 601):
    r"""Figure: what one proximal step does to a weight ``z``.

    L1 (soft-thresholding, :math:`\operatorname{sign}(z)\max(|z|-t, 0)`) against L2
    (:math:`\arg\min_u \tfrac12(u-z)^2 + t u^2 = z/(1+2t)`) and no penalty (``u = z``).
    """
    from lossbook.regularization import soft_threshold

    if t < 0:
        raise ValueError(f"shrinkage_figure: t must be >= 0, got {t}")
    z = np.linspace(*z_range, n)
    fig, ax = style.new_figure(figsize=(6.0, 5.0))
    with style.course_style():
        ax.plot(z, z, color=style.DATA_COLOR, linestyle=":", linewidth=1.8, label="no penalty: u = z")
        ax.plot(z, z / (1.0 + 2.0 * t), **style.LOSS_STYLES["l2"].line(label=f"L2: u = z / (1 + 2t)"))
        ax.plot(z, soft_threshold(z, t), **style.LOSS_STYLES["l1"].line(label="L1: soft-threshold"))
        ax.axvspan(-t, t, color=style.OKABE_ITO["yellow"], alpha=0.25, zorder=0,
                   label=f"|z| ≤ t: L1 gives exactly 0")
        ax.set_aspect("equal")
        style.label_axes(ax, title=f"One proximal step with t = {t:g}",
                         xlabel="weight before the step z", ylabel="weight after the step u")
        ax.legend(loc="upper left", fontsize=10)
    return fig
