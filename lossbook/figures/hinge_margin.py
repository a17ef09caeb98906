r"""Figure for lesson 05: a linear classifier's margin band and the losses of its margins.

The classifier is :math:`f(x) = w\cdot x + b` with :math:`w = \lVert w\rVert(\cos\theta,
\sin\theta)`; an example's *margin* is :math:`m_i = y_i f(x_i)` (labels ±1).

Left panel: the 2-D points of both classes, the decision line :math:`f(x) = 0`, the
margin band :math:`-1 \le f(x) \le 1` (half-width :math:`1/\lVert w\rVert`), points
inside the band ringed and misclassified points crossed.

Right panel: the 0-1 loss :math:`\mathbb 1[m \le 0]`, the hinge loss
:math:`\max(0, 1 - m)`, the squared hinge :math:`\max(0, 1-m)^2` and the logistic loss in
bits :math:`\log_2(1 + e^{-m})` against the margin, with every example's margin marked
on the hinge curve.

>>> plot = build(*sample_data(), angle=53.0, bias=0.0, norm=1.0)
>>> [ax.get_title() for ax in plot.figure.axes]
['Classifier, decision line and margin band', 'Losses against the margin m = y·f(x)']
"""
from __future__ import annotations

import numpy as np

from lossbook import data as datasets
from lossbook import losses
from lossbook.figures import style
from lossbook.figures.lessons.lesson05_hinge import margin_losses  # one home for the four curves

__all__ = ["ALT_TEXT", "HingeMarginFigure", "build", "sample_data", "scores",
           "margin_losses", "M_RANGE"]

#: Margin range of the loss panel.
M_RANGE = (-3.0, 4.0)

ALT_TEXT = (
    "Two panels. Left: two classes of 2-D points (blue circles y = -1, orange squares "
    "y = +1) with a straight decision line, two dashed margin lines where the score is "
    "-1 and +1 and a shaded band between them; points inside the band are ringed, "
    "misclassified points are crossed. Right: four losses against the margin m = y·f(x): "
    "the 0-1 loss (a step from 1 to 0 at m = 0), the hinge loss (a line falling to 0 at "
    "m = 1, then flat), the squared hinge (a parabola reaching 0 at m = 1) and the "
    "logistic loss in bits (smooth, never exactly 0). Markers on the hinge curve show "
    "each example's margin: the ones left of m = 1 are the margin violations that the "
    "hinge loss charges for."
)


def sample_data(n: int = 40, seed: int = 5):
    """The lesson's data: overlapping two-class points from :func:`lossbook.data.two_class`,
    labels converted to ±1. Returns ``(X, y)``."""
    d = datasets.two_class(n=n, separable=False, separation=2.5, seed=seed)
    return d.X, datasets.to_plus_minus_one(d.y)


def weights(angle: float, norm: float) -> np.ndarray:
    """The weight vector :math:`\\lVert w\\rVert(\\cos\\theta, \\sin\\theta)`, θ in degrees."""
    theta = np.deg2rad(angle)
    return norm * np.array([np.cos(theta), np.sin(theta)])


def scores(X, angle: float, bias: float, norm: float) -> np.ndarray:
    """Decision values :math:`f(x) = w\\cdot x + b` for the rows of ``X``."""
    w = weights(angle, norm)
    return X[:, 0] * w[0] + X[:, 1] * w[1] + bias


def _line_through(level: float, w: np.ndarray, bias: float, half_length: float) -> np.ndarray:
    """Two far-apart points of the line ``w·x + b = level`` (the axes clip it)."""
    point = (level - bias) * w / (w @ w)
    direction = np.array([-w[1], w[0]]) / np.linalg.norm(w)
    return point + np.array([-half_length, half_length])[:, None] * direction


class HingeMarginFigure:
    """The built figure and the artists an update changes.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    data_ax, loss_ax : Axes
    boundary, margin_lines : Line2D, list of two Line2D
        ``f(x) = 0`` and ``f(x) = ±1``.
    band : Polygon
        The margin band between ``f(x) = -1`` and ``f(x) = +1``.
    inside, wrong : Line2D
        Rings around points with margin < 1, crosses on points with margin ≤ 0.
    margin_marks : list of two Line2D
        Each class's margins on the hinge curve.
    """

    def __init__(self, X, y, angle, bias, norm, dpi=style.EXPLORER_DPI):
        self.X, self.y = np.asarray(X, dtype=float), np.asarray(y)
        center = (self.X.min(axis=0) + self.X.max(axis=0)) / 2
        half = float(np.max(self.X.max(axis=0) - self.X.min(axis=0))) / 2 + 0.5
        lo, hi = center - half, center + half
        self._half_length = 2.0 * float(np.hypot(*(hi - lo))) + 10.0
        self.figure, (self.data_ax, self.loss_ax) = style.new_figure(
            figsize=(10.0, 5.6), dpi=dpi, ncols=2, width_ratios=(1.0, 1.1))
        ax = self.data_ax
        with style.course_style():
            self.band = ax.fill([0, 1, 1, 0], [0, 0, 1, 1], color=style.OKABE_ITO["yellow"],
                                alpha=0.35, label="margin band |f(x)| < 1", zorder=0)[0]
            for label, cls in zip((-1, 1), style.CLASS_STYLES):
                pts = self.X[self.y == label]
                ax.plot(pts[:, 0], pts[:, 1], **cls.points(label=f"y = {label:+d}", zorder=3))
            (self.boundary,) = ax.plot([0, 1], [0, 1], color="black", linewidth=2.0,
                                       label="decision line f(x) = 0")
            self.margin_lines = [
                ax.plot([0, 1], [0, 1], color="black", linewidth=1.5, linestyle="--",
                        label="f(x) = ±1" if k == 0 else None)[0] for k in range(2)]
            (self.inside,) = ax.plot([], [], linestyle="none", marker="o", markersize=15,
                                     markerfacecolor="none", markeredgewidth=1.5,
                                     markeredgecolor=style.DATA_COLOR,
                                     label="margin violation (m < 1)", zorder=4)
            (self.wrong,) = ax.plot([], [], linestyle="none", marker="x", markersize=11,
                                    markeredgewidth=2.5, color=style.HIGHLIGHT,
                                    label="misclassified (m ≤ 0)", zorder=5)
            ax.set_xlim(lo[0], hi[0])
            ax.set_ylim(lo[1], hi[1])
            ax.set_aspect("equal", adjustable="box")
            style.label_axes(ax, title="Classifier, decision line and margin band",
                             xlabel="feature x₁", ylabel="feature x₂")
            handles, labels = ax.get_legend_handles_labels()
            self.figure.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=11)

            m = np.linspace(*M_RANGE, 701)
            for name, values in margin_losses(m).items():
                kw = style.LOSS_STYLES[name].line()
                if name == "logistic":
                    kw["label"] = "logistic (in bits)"
                self.loss_ax.plot(m, values, **kw)
            self.margin_marks = [
                self.loss_ax.plot([], [], **cls.points(label=f"margins, y = {label:+d}",
                                                       markeredgecolor="black",
                                                       markersize=7, alpha=0.85,
                                                       zorder=5))[0]
                for label, cls in zip((-1, 1), style.CLASS_STYLES)]
            self.loss_ax.axvline(1.0, color=style.DATA_COLOR, linewidth=1.0, linestyle=":")
            self.loss_ax.set_xlim(*M_RANGE)
            self.loss_ax.set_ylim(-0.1, 4.5)
            style.label_axes(self.loss_ax, title="Losses against the margin m = y·f(x)",
                             xlabel="margin m = y·f(x)", ylabel="loss")
            self.loss_ax.legend(loc="upper right", fontsize=10)
        self.show(angle, bias, norm)

    def changing_artists(self) -> list:
        """Every artist :meth:`show` changes, in drawing order (for blitting)."""
        return [self.band, self.boundary, *self.margin_lines, self.inside, self.wrong,
                *self.margin_marks]

    def show(self, angle: float, bias: float, norm: float) -> dict:
        """Put the classifier ``(angle in degrees, bias, ‖w‖)`` on the artists in place.

        Returns ``{"w", "scores", "margins"}``: what was plotted.
        """
        w = weights(angle, norm)
        f = scores(self.X, angle, bias, norm)
        m = self.y * f
        for line, level in ((self.boundary, 0.0), (self.margin_lines[0], 1.0),
                            (self.margin_lines[1], -1.0)):
            pts = _line_through(level, w, bias, self._half_length)
            line.set_data(pts[:, 0], pts[:, 1])
        upper = _line_through(1.0, w, bias, self._half_length)
        lower = _line_through(-1.0, w, bias, self._half_length)
        self.band.set_xy(np.vstack([upper, lower[::-1]]))
        inside = m < 1.0
        wrong = m <= 0.0
        self.inside.set_data(self.X[inside, 0], self.X[inside, 1])
        self.wrong.set_data(self.X[wrong, 0], self.X[wrong, 1])
        hinge = losses.hinge(self.y, f, reduction="none")
        for mark, label in zip(self.margin_marks, (-1, 1)):
            cls = self.y == label
            mark.set_data(m[cls], hinge[cls])
        return {"w": w, "scores": f, "margins": m}


def build(X, y, angle: float = 53.0, bias: float = 0.0, norm: float = 1.0,
          dpi: float = style.EXPLORER_DPI) -> HingeMarginFigure:
    """Build the hinge-margin figure for points ``X`` (n, 2), labels ``y`` in {-1, +1} and
    the classifier ``w = norm·(cos angle°, sin angle°)``, ``b = bias``.

    ``dpi``: ``style.EXPLORER_DPI`` for the explorer, ``style.STATIC_DPI`` for a static
    figure in a lesson.
    """
    X = np.asarray(X, dtype=float)
    y = np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(f"hinge_margin.build: X must have shape (n, 2), got {X.shape}; "
                         "pass 2-D points, one per row")
    if y.shape != (X.shape[0],) or not np.all(np.isin(y, (-1, 1))):
        raise ValueError("hinge_margin.build: y must hold one label -1 or +1 per row of X; "
                         "convert 0/1 labels with lossbook.data.to_plus_minus_one")
    if not norm > 0:
        raise ValueError(f"hinge_margin.build: norm must be > 0, got {norm!r}")
    return HingeMarginFigure(X, y, angle, bias, norm, dpi)
