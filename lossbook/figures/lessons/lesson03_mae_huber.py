"""Figures for lesson 03 (MAE and Huber): losses, influence functions, location estimates."""
from __future__ import annotations

import numpy as np

from lossbook.figures import style
from lossbook.losses import huber, huber_grad, mae, mae_grad, mse, mse_grad

__all__ = ["loss_and_influence", "loss_and_influence_figure", "location_estimates_figure"]


def loss_and_influence(r, delta=1.0):
    r"""The three losses of the lesson and their influence functions at residuals ``r``.

    With :math:`r = \hat y - y` (the course's convention): :math:`\rho(r)` is ½r² (half the
    squared error), |r| and Huber; :math:`\psi(r) = \rho'(r) = \partial\rho / \partial\hat y`,
    taken from the ``lossbook`` gradients at :math:`y = 0,\ \hat y = r` (MAE's subgradient at
    0 is the one ``mae_grad`` chooses).

    Returns
    -------
    dict
        ``{"mse" | "mae" | "huber": (rho, psi)}``, arrays shaped like ``r``.

    Examples
    --------
    >>> rho, psi = loss_and_influence([-3.0, 0.5, 3.0], delta=1.0)["huber"]
    >>> rho.tolist(), psi.tolist()
    ([2.5, 0.125, 2.5], [-1.0, 0.5, 1.0])
    """
    r = np.asarray(r, dtype=float)
    zero = np.zeros_like(r)
    return {
        "mse": (mse(zero, r, reduction="none") / 2, mse_grad(zero, r, reduction="none") / 2),
        "mae": (mae(zero, r, reduction="none"), mae_grad(zero, r, reduction="none")),
        "huber": (huber(zero, r, delta=delta, reduction="none"),
                  huber_grad(zero, r, delta=delta, reduction="none")),
    }


_LABELS = {"mse": "½r² (squared)", "mae": "|r| (absolute)", "huber": "Huber"}


def loss_and_influence_figure(delta=1.0, r_max=3.0, n=601):
    """Left: ½r², |r| and Huber(δ) against the residual; right: their influence ψ = ρ′.

    Parameters
    ----------
    delta : float, default 1.0
        Huber's threshold; dotted vertical lines mark ±δ.
    r_max : float, default 3.0
        The residual axis runs from −r_max to r_max.
    n : int, default 601
        Number of residuals plotted.

    Returns
    -------
    matplotlib.figure.Figure
    """
    r = np.linspace(-r_max, r_max, n)
    curves = loss_and_influence(r, delta)
    fig, (left, right) = style.new_figure(figsize=(11.0, 4.5), ncols=2)
    with style.course_style():
        for name, (rho, psi) in curves.items():
            label = _LABELS[name] + (f", δ = {delta:g}" if name == "huber" else "")
            kwargs = style.LOSS_STYLES[name].line(label=label)
            left.plot(r, rho, **kwargs)
            right.plot(r, psi, **kwargs)
        for ax in (left, right):
            for edge in (-delta, delta):
                ax.axvline(edge, color=style.DATA_COLOR, linestyle=":", linewidth=1.2)
        left.set_ylim(-0.1, max(2.5, 1.2 * delta * (r_max - delta / 2)))
        left.legend(loc="upper center")
        right.legend(loc="upper left")
    style.label_axes(left, title="Loss ρ(r)", xlabel="residual r = ŷ − y", ylabel="loss ρ(r)")
    style.label_axes(right, title="Influence ψ(r) = ρ′(r): Huber clips at ±δ",
                     xlabel="residual r = ŷ − y", ylabel="influence ψ(r)")
    return fig


_ESTIMATE_STYLES = {"mean": "mse", "median": "mae", "huber": "huber"}


def location_estimates_figure(y, estimates, zoom=None):
    """The data as dots on a line, with vertical lines at location estimates.

    Parameters
    ----------
    y : array_like of shape (n,)
        The data.
    estimates : dict[str, float]
        Name → estimate, e.g. ``{"mean": ..., "median": ..., "Huber": ...}``; "mean",
        "median" and "Huber" get the MSE, MAE and Huber styles of the course.
    zoom : (float, float), optional
        x-range of the right panel; defaults to the middle 90 % of the data, padded.

    Returns
    -------
    matplotlib.figure.Figure
        Left: all the data; right: the same, zoomed on the bulk of the data.
    """
    y = np.asarray(y, dtype=float)
    if not estimates:
        raise ValueError("location_estimates_figure: estimates is empty; pass e.g. "
                         "{'mean': np.mean(y), 'median': np.median(y)}")
    if zoom is None:
        low, high = np.quantile(y, [0.05, 0.95])
        pad = 0.15 * (high - low or 1.0)
        values = np.array(list(estimates.values()), dtype=float)
        zoom = (min(low, values.min()) - pad, max(high, values.max()) + pad)
    fig, axes = style.new_figure(figsize=(11.0, 3.6), ncols=2)
    with style.course_style():
        for ax in axes:
            ax.plot(y, np.zeros_like(y), color=style.DATA_COLOR, linestyle="none", marker="o",
                    markersize=7, alpha=0.6, label="data")
            for k, (name, value) in enumerate(estimates.items()):
                key = _ESTIMATE_STYLES.get(name.lower())
                if key is not None:
                    color, linestyle = style.LOSS_STYLES[key].color, style.LOSS_STYLES[key].linestyle
                else:
                    color, linestyle = style.COLOR_CYCLE[k % 7], style.LINESTYLE_CYCLE[k % 7]
                ax.axvline(value, color=color, linestyle=linestyle, linewidth=2.5,
                           label=f"{name} = {value:.3f}")
            ax.set_yticks([])
            ax.set_ylim(-1, 1)
        axes[1].set_xlim(*zoom)
        axes[0].legend(loc="upper right")
    style.label_axes(axes[0], title="All the data", xlabel="value", ylabel="data points")
    style.label_axes(axes[1], title="Zoomed on the bulk of the data", xlabel="value",
                     ylabel="data points")
    return fig
