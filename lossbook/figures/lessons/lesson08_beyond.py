"""Static figures for lesson 08 (beyond the basics): pinball, log-cosh, focal loss."""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.figures import style

__all__ = ["pinball_figure", "log_cosh_figure", "focal_figure"]


def pinball_figure(qs=(0.1, 0.5, 0.9), r_range=(-3.0, 3.0), n: int = 601):
    r"""Figure: the pinball loss :math:`\rho_q(u)` against ``u = y − ŷ``, one line per quantile
    level ``q``.

    The pinball loss reads best in ``u = y − ŷ``, the course's residual ``r = ŷ − y`` with its
    sign flipped (so ``u > 0`` is an under-prediction); ``q`` keeps its usual meaning.
    """
    qs = tuple(qs)
    if not qs:
        raise ValueError("pinball_figure: qs must hold at least one quantile level, e.g. (0.1, 0.9)")
    r = np.linspace(*r_range, n)
    fig, ax = style.new_figure(figsize=(7.5, 4.5))
    with style.course_style():
        for k, q in enumerate(qs):
            loss = losses.quantile(r, np.zeros_like(r), q=q, reduction="none")
            ax.plot(r, loss, color=style.COLOR_CYCLE[k % 7], linestyle=style.LINESTYLE_CYCLE[k % 7],
                    label=f"q = {q:g}")
        style.label_axes(ax, title="Pinball loss: under- and over-prediction cost differently",
                         xlabel="u = y − ŷ = −r  (u > 0: prediction too low)",
                         ylabel="loss ρ_q(u)")
        ax.legend(loc="upper center")
    return fig


def log_cosh_figure(r_range=(-4.0, 4.0), n: int = 801):
    r"""Figure: log-cosh with its two approximations, :math:`\tfrac12 r^2` (small ``r``)
    and :math:`|r| - \log 2` (large ``r``)."""
    r = np.linspace(*r_range, n)
    zeros = np.zeros_like(r)
    fig, ax = style.new_figure(figsize=(7.5, 4.5))
    with style.course_style():
        ax.plot(r, 0.5 * r * r, **style.LOSS_STYLES["mse"].line(label="½ r²", linewidth=1.5))
        ax.plot(r, np.abs(r) - np.log(2.0),
                **style.LOSS_STYLES["mae"].line(label="|r| − log 2", linewidth=1.5))
        ax.plot(r, losses.log_cosh(zeros, r, reduction="none"),
                **style.LOSS_STYLES["log_cosh"].line(linestyle="-", linewidth=4.0, alpha=0.8, zorder=3))
        ax.set_ylim(-0.8, 4.0)
        style.label_axes(ax, title="log-cosh: quadratic near 0, linear far away",
                         xlabel="residual r = ŷ − y", ylabel="loss")
        ax.legend(loc="upper center")
    return fig


def focal_figure(gammas=(0.0, 0.5, 1.0, 2.0, 5.0), n: int = 400):
    r"""Figure: the focal loss :math:`-(1-p_t)^\gamma \log p_t` against :math:`p_t`,
    one line per ``γ`` (``γ = 0`` is cross-entropy), as in Lin et al. (2017), Fig. 1."""
    gammas = tuple(gammas)
    if not gammas:
        raise ValueError("focal_figure: gammas must hold at least one value, e.g. (0, 2)")
    p_t = np.linspace(0.01, 1.0, n)
    ones = np.ones_like(p_t)
    fig, ax = style.new_figure(figsize=(7.5, 4.5))
    with style.course_style():
        for k, gamma in enumerate(gammas):
            label = f"γ = {gamma:g}" + (" (cross-entropy)" if gamma == 0 else "")
            ax.plot(p_t, losses.focal(ones, p_t, gamma=gamma, reduction="none"),
                    color=style.COLOR_CYCLE[k % 7], linestyle=style.LINESTYLE_CYCLE[k % 7],
                    label=label)
        ax.axvspan(0.6, 1.0, color=style.OKABE_ITO["yellow"], alpha=0.25, zorder=0,
                   label="well-classified (p_t > 0.6)")
        ax.set_ylim(0.0, 4.0)
        ax.set_xlim(0.0, 1.0)
        style.label_axes(ax, title="Focal loss shrinks the loss of easy examples",
                         xlabel="probability of the true class p_t", ylabel="loss")
        ax.legend(loc="upper right")
    return fig
