"""Static figures for lesson 05 (hinge loss): losses against the margin, a linear SVM."""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.figures import style

__all__ = ["margin_losses", "margin_losses_figure", "svm_figure"]


def margin_losses(margins) -> dict[str, np.ndarray]:
    r"""The four margin losses of the lesson at the given margins ``m = y·f(x)``.

    0-1: :math:`\mathbb 1[m \le 0]`; hinge :math:`\max(0, 1-m)`; squared hinge
    :math:`\max(0, 1-m)^2`; logistic in bits :math:`\log_2(1 + e^{-m})` (through (0, 1),
    like the others).

    Examples
    --------
    >>> margin_losses([-1.0, 0.5, 2.0])["hinge"]
    array([2. , 0.5, 0. ])
    >>> for name, values in margin_losses(np.array([0.0, 2.0])).items():
    ...     print(name, values.round(4))
    zero_one [1. 0.]
    hinge [1. 0.]
    squared_hinge [1. 0.]
    logistic [1.     0.1831]
    """
    m = np.asarray(margins, dtype=float)
    ones = np.ones_like(m)
    return {
        "zero_one": (m <= 0).astype(float),
        "hinge": losses.hinge(ones, m, reduction="none"),
        "squared_hinge": losses.squared_hinge(ones, m, reduction="none"),
        "logistic": losses.binary_cross_entropy_with_logits(ones, m, reduction="none") / np.log(2.0),
    }


def margin_losses_figure(m_range=(-3.0, 3.0), n: int = 601):
    """Figure: 0-1, hinge, squared hinge and logistic loss against the margin."""
    m = np.linspace(*m_range, n)
    curves = margin_losses(m)
    fig, ax = style.new_figure(figsize=(8.0, 4.5))
    with style.course_style():
        for name, values in curves.items():
            kwargs = style.LOSS_STYLES[name].line()
            if name == "logistic":
                kwargs["label"] = "logistic (in bits)"
            ax.plot(m, values, **kwargs)
        ax.axvline(0.0, color=style.GRID_COLOR, linewidth=1.5, zorder=0)
        ax.axvline(1.0, color=style.DATA_COLOR, linewidth=1.0, linestyle=":", zorder=0)
        # Centred over the flat part and kept inside the axes (it used to run off the right edge).
        ax.annotate("hinge is 0 from m = 1 on", xy=(1.0, 0.05), xytext=(0.97, 0.36),
                    textcoords="axes fraction", ha="right",
                    arrowprops={"arrowstyle": "->", "color": style.DATA_COLOR})
        ax.set_ylim(-0.1, 4.5)
        ax.set_xlim(*m_range)
        style.label_axes(ax, title="Classification losses against the margin",
                         xlabel="margin m = y·f(x)", ylabel="loss")
        ax.legend(loc="upper right")
    return fig


def svm_figure(X, y, w, b, *, title: str = "A linear soft-margin SVM", tol: float = 0.01):
    r"""Figure: 2-D points, the boundary :math:`w^\top x + b = 0`, the margin lines
    :math:`w^\top x + b = \pm 1`, and the support vectors (margin ≤ 1) ringed.

    ``y`` holds labels -1/+1; ``w`` has two entries. Points with margin at most
    ``1 + tol`` count as support vectors (gradient descent lands near 1, not on it).
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    w = np.asarray(w, dtype=float)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"svm_figure: X must have shape (n, 2), got {X.shape}")
    if w.shape != (2,) or not np.any(w):
        raise ValueError(f"svm_figure: w must be two numbers, not both 0, got {w!r}")
    margin = y * (X @ w + b)
    fig, ax = style.new_figure(figsize=(9.0, 5.5))
    with style.course_style():
        for label, cls in zip((-1, 1), style.CLASS_STYLES):
            pts = X[y == label]
            ax.plot(pts[:, 0], pts[:, 1], **cls.points(label=f"y = {label:+d}"))
        sv = X[margin <= 1.0 + tol]
        ax.plot(sv[:, 0], sv[:, 1], linestyle="none", marker="o", markersize=15,
                markerfacecolor="none", markeredgecolor=style.DATA_COLOR, markeredgewidth=1.5,
                label=f"support vectors ({len(sv)})")
        lo, hi = X.min(axis=0) - 0.5, X.max(axis=0) + 0.5
        t = np.linspace(-1.0, 1.0, 2) * np.hypot(*(hi - lo))
        direction = np.array([-w[1], w[0]]) / np.linalg.norm(w)
        for level, ls, lab in ((0.0, "-", "boundary f(x) = 0"), (1.0, "--", "margin f(x) = ±1"),
                               (-1.0, "--", None)):
            point = (level - b) * w / (w @ w)
            line = point + t[:, None] * direction
            ax.plot(line[:, 0], line[:, 1], color="black", linestyle=ls, linewidth=1.8, label=lab)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal")
        style.label_axes(ax, title=title, xlabel="feature x₁", ylabel="feature x₂")
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=11)
    return fig
