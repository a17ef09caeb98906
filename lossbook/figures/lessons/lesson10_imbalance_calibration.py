"""Static figures for lesson 10 (imbalance and calibration): precision-recall curves and
the weighted-loss optimum; reliability diagrams come from :mod:`lossbook.figures.reliability`."""
from __future__ import annotations

import numpy as np

from lossbook.figures import style
from lossbook.figures.calibration import pr_curve

__all__ = ["pr_figure", "weighted_optimum_figure"]


def pr_figure(y_true, scores_by_name: dict, points_by_name: dict | None = None):
    """Figure: the precision-recall curve of each model's scores, ``{name: scores}``, with
    an optional marked operating point ``{name: (recall, precision)}`` each."""
    if not scores_by_name:
        raise ValueError("pr_figure: pass at least one model's scores, e.g. {'BCE': z}")
    points_by_name = points_by_name or {}
    fig, ax = style.new_figure(figsize=(7.5, 4.8))
    with style.course_style():
        for k, (name, scores) in enumerate(scores_by_name.items()):
            precision, recall = pr_curve(y_true, scores)
            color = style.COLOR_CYCLE[k % 7]
            ax.plot(recall, precision, color=color, linestyle=style.LINESTYLE_CYCLE[k % 7], label=name)
            if name in points_by_name:
                r, p = points_by_name[name]
                ax.plot([r], [p], linestyle="none", marker=style.MARKER_CYCLE[k % 8], markersize=11,
                        color=color, markeredgecolor="black")
        positives = float(np.mean(np.asarray(y_true)))
        ax.axhline(positives, color=style.DATA_COLOR, linestyle=":", linewidth=1.5,
                   label=f"chance: precision = share of positives ({positives:.2f})")
        ax.set_xlim(0.0, 1.02)
        ax.set_ylim(0.0, 1.02)
        style.label_axes(ax, title="Precision and recall of 'is it a 9?' (markers: threshold 0.5)",
                         xlabel="recall", ylabel="precision")
        ax.legend(loc="lower left", fontsize=10)
    return fig


def weighted_optimum_figure(weights=(1.0, 3.0, 9.0), n: int = 401):
    r"""Figure: the probability ``p* = wπ / (wπ + 1 − π)`` that minimises the weighted
    cross-entropy, against the true frequency ``π`` of positives, one line per weight ``w``."""
    pi = np.linspace(0.0, 1.0, n)
    fig, ax = style.new_figure(figsize=(7.0, 4.5))
    with style.course_style():
        for k, w in enumerate(weights):
            ax.plot(pi, w * pi / (w * pi + 1 - pi), color=style.COLOR_CYCLE[k % 7],
                    linestyle=style.LINESTYLE_CYCLE[k % 7], label=f"pos_weight w = {w:g}")
        ax.axhline(0.5, color=style.DATA_COLOR, linestyle=":", linewidth=1.5, label="threshold 0.5")
        style.label_axes(ax, title="A class weight distorts the probabilities the loss asks for",
                         xlabel="true frequency of positives π", ylabel="optimal prediction p*")
        ax.legend(loc="lower right")
    return fig
