"""Static figures for lesson 11 (losses that shape embeddings).

Contrastive loss against distance, the triplet loss and its easy / semi-hard / hard
negatives, how the InfoNCE temperature shares the push among negatives, forward vs
reverse KL on a bimodal target, and a 2-D embedding of the digits before and after
training.
"""
from __future__ import annotations

import numpy as np

from lossbook import embeddings, losses
from lossbook.figures import style

__all__ = ["contrastive_figure", "triplet_figure", "temperature_figure", "kl_modes_figure",
           "embedding_figure"]


def contrastive_figure(margin: float = 1.0, d_max: float = 2.0, n: int = 401):
    r"""Figure: the contrastive loss of one pair against its distance ``d``, for a matching
    pair (``d²``) and a non-matching one (``max(0, m − d)²``)."""
    d = np.linspace(0.0, d_max, n)
    ones, zeros = np.ones_like(d), np.zeros_like(d)
    fig, ax = style.new_figure(figsize=(7.5, 4.5))
    with style.course_style():
        ax.plot(d, losses.contrastive(d, ones, margin=margin, reduction="none"),
                **style.LOSS_STYLES["mse"].line(label="matching pair: d² (pull)"))
        ax.plot(d, losses.contrastive(d, zeros, margin=margin, reduction="none"),
                **style.LOSS_STYLES["mae"].line(label=f"non-matching pair: max(0, m − d)² (push), m = {margin:g}"))
        ax.axvline(margin, color=style.DATA_COLOR, linestyle=":", linewidth=1.5,
                   label="margin m: beyond it, no push")
        ax.set_ylim(0.0, min(d_max**2, 2.5))
        style.label_axes(ax, title="Contrastive loss: pull matches in, push others out to the margin",
                         xlabel="distance d between the two embeddings", ylabel="loss of the pair")
        ax.legend(loc="upper center")
    return fig


def triplet_figure(d_pos: float = 1.0, margin: float = 0.5, d_max: float = 2.5, n: int = 501):
    r"""Figure: the triplet loss ``max(0, d⁺ − d⁻ + m)`` against the negative's distance
    ``d⁻`` for a fixed positive distance ``d⁺``, with the hard (``d⁻ < d⁺``), semi-hard
    (``d⁺ ≤ d⁻ < d⁺ + m``) and easy (``d⁻ ≥ d⁺ + m``) negatives shaded."""
    d_neg = np.linspace(0.0, d_max, n)
    # anchor at 0, positive at d_pos, negative at d_neg along one axis
    a = np.zeros((n, 1))
    loss = losses.triplet_margin(a, np.full((n, 1), d_pos), d_neg[:, None], margin=margin,
                                 reduction="none")
    fig, ax = style.new_figure(figsize=(7.5, 4.5))
    with style.course_style():
        ax.axvspan(0.0, d_pos, color=style.OKABE_ITO["vermillion"], alpha=0.15,
                   label="hard: negative closer than the positive")
        ax.axvspan(d_pos, d_pos + margin, color=style.OKABE_ITO["yellow"], alpha=0.35,
                   label="semi-hard: inside the margin")
        ax.axvspan(d_pos + margin, d_max, color=style.OKABE_ITO["sky_blue"], alpha=0.15,
                   label="easy: loss 0, no gradient")
        ax.plot(d_neg, loss, **style.LOSS_STYLES["hinge"].line(
            label=f"triplet loss, d⁺ = {d_pos:g}, m = {margin:g}"))
        style.label_axes(ax, title="Triplet loss and the three kinds of negatives",
                         xlabel="distance d⁻ from the anchor to the negative", ylabel="loss")
        ax.set_xlim(0.0, d_max)
        ax.legend(loc="upper right")
    return fig


def temperature_figure(temperatures=(1.0, 0.5, 0.1, 0.05), n: int = 401):
    r"""Figure: the share of the InfoNCE push a negative gets, ``e^{s/τ}`` relative to a
    negative at similarity 1, against its cosine similarity ``s``, one line per ``τ``."""
    s = np.linspace(-1.0, 1.0, n)
    fig, ax = style.new_figure(figsize=(7.5, 4.5))
    with style.course_style():
        for k, tau in enumerate(temperatures):
            ax.plot(s, np.exp((s - 1.0) / tau), color=style.COLOR_CYCLE[k % 7],
                    linestyle=style.LINESTYLE_CYCLE[k % 7], label=f"τ = {tau:g}")
        style.label_axes(ax, title="InfoNCE: a low temperature pushes only the hardest negatives",
                         xlabel="cosine similarity s of a negative to the query",
                         ylabel="relative push e^((s − 1)/τ)")
        ax.legend(loc="upper left")
    return fig


def kl_modes_figure(x_max: float = 6.0, n: int = 241):
    r"""Figure: a bimodal target ``p`` and the best single Gaussian under forward
    KL(p‖q) (covers both modes) and under reverse KL(q‖p) (sits on one)."""
    x = np.linspace(-x_max, x_max, n)
    p = embeddings.bimodal_target(x)
    fig, ax = style.new_figure(figsize=(7.5, 4.5))
    with style.course_style():
        ax.fill_between(x, p, color=style.DATA_COLOR, alpha=0.25, label="target p (two modes)")
        top = float(p.max())
        for name, direction, key in (("forward KL(p‖q): covers", "forward", "mse"),
                                     ("reverse KL(q‖p): seeks one mode", "reverse", "mae")):
            mean, std, kl = embeddings.fit_gaussian_kl(x, p, direction)
            q = embeddings.gaussian_on_grid(x, mean, std)
            top = max(top, float(q.max()))
            ax.plot(x, q, **style.LOSS_STYLES[key].line(
                label=f"{name} (μ = {mean:.2f}, σ = {std:.2f})"))
        style.label_axes(ax, title="The best single Gaussian depends on the direction of KL",
                         xlabel="x", ylabel="probability per grid cell")
        ax.legend(loc="upper right", fontsize=10)
        ax.set_ylim(0.0, top * 1.45)
    return fig


def _scatter_classes(ax, E, y, title):
    for digit in range(10):
        k = digit % 7
        marker = style.MARKER_CYCLE[digit % len(style.MARKER_CYCLE)]
        pts = E[y == digit]
        ax.plot(pts[:, 0], pts[:, 1], linestyle="none", marker=marker, markersize=4,
                color=style.COLOR_CYCLE[k], alpha=0.6)
        cx, cy = np.median(pts, axis=0)
        ax.text(cx, cy, str(digit), fontsize=15, fontweight="bold", ha="center", va="center",
                color="black", bbox={"boxstyle": "round,pad=0.15", "facecolor": "white",
                                     "edgecolor": style.COLOR_CYCLE[k], "alpha": 0.85})
    style.label_axes(ax, title=title, xlabel="embedding coordinate 1",
                     ylabel="embedding coordinate 2")


def embedding_figure(embeddings_by_title: dict, y):
    """Figure: one panel per embedding (``{title: (n, 2) array}``) of the same examples,
    each digit class with its own colour-and-marker and its label at the class median."""
    y = np.asarray(y)
    k = len(embeddings_by_title)
    if k == 0:
        raise ValueError("embedding_figure: pass at least one embedding, e.g. {'before': E}")
    fig, axes = style.new_figure(figsize=(5.0 * k, 4.8), ncols=k)
    axes = np.atleast_1d(axes)
    with style.course_style():
        for ax, (title, E) in zip(axes, embeddings_by_title.items()):
            _scatter_classes(ax, np.asarray(E, dtype=float), y, title)
    return fig
