"""Figure for lesson 10's explorer: one binary classifier seen three ways at once.

Left: the confusion matrix at the chosen threshold. Middle: the precision-recall curve
of the scores, with the point the threshold picks. Right: the reliability diagram of the
probabilities ``σ(z / T)`` at the chosen temperature.

>>> import numpy as np
>>> plot = CalibrationFigure()
>>> y, z = np.array([0, 0, 1, 1]), np.array([-2.0, 0.5, 1.0, 3.0])
>>> plot.show(y, z, threshold=0.5, temperature=1.0)["counts"].matrix.tolist()
[[1, 1], [0, 2]]
"""
from __future__ import annotations

import numpy as np

from lossbook import calibration, losses, metrics
from lossbook.figures import style
from lossbook.figures.reliability import ReliabilityPlot, ece_of_bins

__all__ = ["ALT_TEXT", "CalibrationFigure", "pr_curve"]

ALT_TEXT = (
    "Three panels. Left: a two-by-two confusion matrix (true class down, predicted class "
    "across) with the four counts written in the cells. Middle: the precision-recall curve "
    "of the classifier's scores, with a large marker at the precision and recall the chosen "
    "threshold gives. Right: a reliability diagram, bars of accuracy per confidence bin "
    "against the diagonal of perfect calibration, with diamond markers at each bin's mean "
    "confidence."
)


def pr_curve(y_true, scores):
    """Precision and recall at every distinct score as threshold (highest first).

    Same points as scikit-learn's ``precision_recall_curve`` (without its final (1, 0)).
    """
    y = np.asarray(y_true).astype(bool)
    order = np.argsort(-np.asarray(scores, dtype=float), kind="stable")
    s, y = np.asarray(scores, dtype=float)[order], y[order]
    tp = np.cumsum(y)
    fp = np.cumsum(~y)
    last = np.r_[np.flatnonzero(np.diff(s)), s.size - 1]   # last index of each distinct score
    return tp[last] / (tp[last] + fp[last]), tp[last] / max(int(y.sum()), 1)


class CalibrationFigure:
    """The built figure and the artists an update changes."""

    def __init__(self, n_bins: int = 10, dpi=style.EXPLORER_DPI):
        from lossbook.figures.text_cache import cached_text  # imports matplotlib

        self.figure, (self.cm_ax, self.pr_ax, self.rel_ax) = style.new_figure(
            figsize=(10.4, 4.6), dpi=dpi, ncols=3, width_ratios=(0.8, 1.0, 1.0))
        ax = self.cm_ax
        with style.course_style():
            self.image = ax.imshow(np.zeros((2, 2)), cmap="Blues", vmin=0.0, vmax=1.0)
            # cached layout: the counts are redrawn on every update (blitting)
            self.cells = [[cached_text(ax, j, i, "0", ha="center", va="center", fontsize=16,
                                       fontweight="bold") for j in range(2)] for i in range(2)]
            ax.set_xticks([0, 1], ["0 (not 9)", "1 (a 9)"])
            ax.set_yticks([0, 1], ["0 (not 9)", "1 (a 9)"])
            ax.grid(False)
            style.label_axes(ax, title="Confusion matrix", xlabel="predicted", ylabel="true")
            (self.pr_line,) = self.pr_ax.plot([], [], **style.LOSS_STYLES["cross_entropy"].line(
                label="PR curve of the scores"))
            (self.pr_point,) = self.pr_ax.plot([], [], linestyle="none", marker="o", markersize=12,
                                               color=style.HIGHLIGHT, label="the threshold's point")
            self.pr_ax.set_xlim(0.0, 1.02)
            self.pr_ax.set_ylim(0.0, 1.02)
            style.label_axes(self.pr_ax, title="Precision and recall", xlabel="recall",
                             ylabel="precision")
            self.pr_ax.legend(loc="lower left", fontsize=10)
        self.reliability = ReliabilityPlot(self.rel_ax, n_bins)
        self.reliability.label("Reliability of σ(z / T)")   # fixed: the ECE is in the readout

    def show(self, y_true, logits, *, threshold: float, temperature: float) -> dict:
        """Draw one state; return its numbers (counts, PR curve, ECE, probabilities)."""
        y = np.asarray(y_true)
        proba = losses.sigmoid(np.asarray(logits, dtype=float) / temperature)
        counts = calibration.binary_counts(y, proba, threshold)
        precision, recall = pr_curve(y, logits)
        proba2 = np.column_stack([1.0 - proba, proba])
        bins = metrics.reliability_bins(y, proba2, n_bins=self.reliability.n_bins)
        self.show_numbers(counts, (precision, recall), bins)
        return {"counts": counts, "precision_curve": precision, "recall_curve": recall,
                "ece": ece_of_bins(bins), "proba": proba}

    def show_numbers(self, counts, curve, bins) -> None:
        """Put computed numbers on the artists: ``counts`` (:class:`BinaryCounts`), the PR
        ``curve`` ``(precision, recall)`` and the reliability ``bins``. The explorer calls
        this with what its state already holds, so nothing is computed twice."""
        matrix = counts.matrix
        self.image.set_data(matrix / matrix.sum(axis=1, keepdims=True).clip(min=1))
        for i in range(2):
            for j in range(2):
                text = str(int(matrix[i, j]))
                if self.cells[i][j].get_text() != text:
                    self.cells[i][j].set_text(text)
        precision, recall = curve
        if curve is not getattr(self, "_curve", None):   # a training's curve: set once
            self.pr_line.set_data(recall, precision)
            self._curve = curve
        self.pr_point.set_data([counts.recall], [counts.precision])
        self.reliability.show_bins(bins)

    def changing_artists(self) -> list:
        return [self.image, *[t for row in self.cells for t in row], self.pr_line, self.pr_point,
                *self.reliability.artists()]
