"""Reliability diagrams: accuracy against confidence, bin by bin (lesson 10).

The bins are :func:`lossbook.metrics.reliability_bins` (equal width on the top-class
confidence, as scikit-learn's ``calibration_curve``). Each bin is a bar whose height is
the accuracy of its examples; a marker shows their mean confidence; the diagonal is
perfect calibration, so a bar below its marker is overconfidence. The title carries the
expected calibration error.

>>> import numpy as np
>>> fig = reliability_figure({"model": (np.array([0, 1, 1]),
...                                     np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]]))}, n_bins=5)
>>> fig.axes[0].get_xlabel()
'confidence (top-class probability)'
"""
from __future__ import annotations

import numpy as np

from lossbook import metrics
from lossbook.figures import style

__all__ = ["ReliabilityPlot", "ece_of_bins", "reliability_figure"]


def ece_of_bins(bins) -> float:
    """The expected calibration error of computed bins: the same arithmetic, in the same
    order, as :func:`lossbook.metrics.expected_calibration_error` (so the same float)."""
    filled = bins.count > 0
    gaps = np.abs(bins.accuracy[filled] - bins.confidence[filled])
    return float((bins.count[filled] * gaps).sum() / int(bins.count.sum()))


class ReliabilityPlot:
    """A reliability diagram on one axes, updated in place by :meth:`show`.

    Attributes
    ----------
    bars : BarContainer
        One bar per bin (height = accuracy, 0 for an empty bin).
    gaps : Line2D
        The mean confidence of each non-empty bin (markers on the bars' centres).
    """

    def __init__(self, ax, n_bins: int = 15, *, color=None, label="accuracy in the bin"):
        self.ax, self.n_bins = ax, int(n_bins)
        edges = np.linspace(0.0, 1.0, self.n_bins + 1)
        self.centres = (edges[:-1] + edges[1:]) / 2
        color = color or style.OKABE_ITO["blue"]
        with style.course_style():
            ax.plot([0, 1], [0, 1], color=style.DATA_COLOR, linestyle="--", linewidth=1.5,
                    label="perfect calibration")
            self.bars = ax.bar(self.centres, np.zeros(self.n_bins), width=1.0 / self.n_bins,
                               color=color, alpha=0.75, edgecolor="white", label=label)
            (self.gaps,) = ax.plot([], [], linestyle="none", marker="D", markersize=6,
                                   color=style.OKABE_ITO["vermillion"],
                                   label="mean confidence in the bin")
            ax.set_xlim(0.0, 1.0)
            ax.set_ylim(0.0, 1.02)
            ax.legend(loc="upper left", fontsize=10)

    def show(self, y_true, proba, *, title_prefix: str = "", set_title: bool = True) -> float:
        """Plot the bins of ``(y_true, proba)``; return the ECE. The title shows the ECE
        unless ``set_title=False`` (an explorer keeps a fixed title, so that only the
        bars and markers need redrawing)."""
        bins = metrics.reliability_bins(y_true, proba, n_bins=self.n_bins)
        self.show_bins(bins)
        ece = ece_of_bins(bins)
        self.label(f"{title_prefix}ECE = {ece:.3f}" if set_title
                   else (title_prefix or "Reliability diagram"))
        return ece

    def show_bins(self, bins) -> None:
        """Put already computed :class:`lossbook.metrics.ReliabilityBins` on the bars and
        markers (what an explorer calls on every update: the title and labels stay)."""
        for bar, acc in zip(self.bars, np.nan_to_num(bins.accuracy)):
            bar.set_height(acc)
        filled = bins.count > 0
        self.gaps.set_data(self.centres[filled], bins.confidence[filled])

    def label(self, title: str) -> None:
        """Title and axis labels (once per distinct title)."""
        # Labelling enters the course style (an rc_context): a few ms, so only when it changes.
        if title != getattr(self, "_title", None):
            style.label_axes(self.ax, title=title, xlabel="confidence (top-class probability)",
                             ylabel="accuracy")
            self._title = title

    def artists(self) -> list:
        return [*self.bars, self.gaps]


def reliability_figure(models: dict, n_bins: int = 15):
    """Figure: one reliability diagram per model, ``{name: (y_true, proba (n, K))}``."""
    if not models:
        raise ValueError("reliability_figure: pass at least one model, e.g. {'network': (y, proba)}")
    fig, axes = style.new_figure(figsize=(5.0 * len(models), 4.8), ncols=len(models))
    axes = np.atleast_1d(axes)
    for ax, (name, (y, proba)) in zip(axes, models.items()):
        ReliabilityPlot(ax, n_bins).show(y, proba, title_prefix=f"{name}: ")
    return fig
