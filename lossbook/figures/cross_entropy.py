r"""Lesson 04 figure: binary cross-entropy from a logit, computed naively and stably.

Left: the probability :math:`p = \sigma(z/T)` against the logit z at temperature T.
Right: the loss against the scaled logit t = z/T (symmetric-log axes, so logits of ±800
fit next to the interesting part near 0), three ways:

- **naive**: ``p = 1 / (1 + exp(-t))`` then ``-(y log p + (1-y) log(1-p))`` in float64,
  written out here on purpose. For t > 36.7, p rounds to exactly 1, so a wrong label
  gives ``log(0) = -inf`` and a right one ``0 · log(0) = nan``; for t < −709, ``exp``
  overflows. Where it is not finite the curve simply stops;
- **clipped**: ``lossbook.losses.binary_cross_entropy`` on p, which clips p to
  [ε, 1 − ε]: always finite, but wrong (capped at −log ε) once p rounds to 0 or 1;
- **stable**: ``lossbook.losses.binary_cross_entropy_with_logits``, exact for any t.

>>> from lossbook.figures import cross_entropy
>>> s = cross_entropy.compute(logit=40.0, temperature=1.0, label=0)
>>> s["p"], s["naive"], round(s["stable"], 6)
(1.0, inf, 40.0)
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossbook import losses
from lossbook.figures import style

__all__ = ["ALT_TEXT", "naive_bce", "compute", "CrossEntropyFigure", "build"]

#: Paste next to the figure in the lesson's Markdown.
ALT_TEXT = (
    "Two panels. Left, 'Probability from the logit': the S-shaped sigmoid curve "
    "p = σ(z/T) against the logit z, flatter for a high temperature T and steeper for "
    "a low one, with a dot at the current logit. Right, 'Cross-entropy against the "
    "logit', both axes on a symmetric log scale, with the ranges of logits where the "
    "naive formula returns inf or nan shaded yellow (beyond about −709 and +37): the stable loss (blue solid line) "
    "grows linearly on the wrong side and goes to zero on the right side; the clipped "
    "loss on probabilities (purple dotted) follows it and then flattens at −log ε ≈ 27.6; "
    "the naive formula (vermillion dashed) follows it until the sigmoid rounds to exactly "
    "0 or 1 in float64 and then stops, because it returns inf or nan there."
)


def naive_bce(label, t):
    """The textbook formula, evaluated naively in float64 (inf/nan where it breaks).

    .. math:: p = \\frac{1}{1 + e^{-t}}, \\qquad L = -[y \\log p + (1 - y) \\log(1 - p)]
    """
    t = np.asarray(t, dtype=np.float64)
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
        p = 1.0 / (1.0 + np.exp(-t))
        return -(label * np.log(p) + (1.0 - label) * np.log(1.0 - p))


def compute(logit: float, temperature: float, label: int) -> dict:
    """Probability and the three versions of the loss for one logit (lossbook math)."""
    if label not in (0, 1):
        raise ValueError(f"cross_entropy: label must be 0 or 1, got {label!r}")
    if not temperature > 0:
        raise ValueError(f"cross_entropy: temperature must be positive, got {temperature!r}")
    t = float(logit) / float(temperature)
    p = float(losses.sigmoid(t))
    return {
        "logit": float(logit), "temperature": float(temperature), "label": int(label),
        "scaled_logit": t,
        "p": p,
        "one_minus_p": float(losses.sigmoid(-t)),
        "naive": float(naive_bce(label, t)),
        "clipped": float(losses.binary_cross_entropy([label], [p])),
        "stable": float(losses.binary_cross_entropy_with_logits([label], [t])),
    }


def _curves(label: int, t):
    labels = np.full_like(t, float(label))
    p = losses.sigmoid(t)
    return {
        "naive": naive_bce(label, t),
        "clipped": losses.binary_cross_entropy(labels, p, reduction="none"),
        "stable": losses.binary_cross_entropy_with_logits(labels, t, reduction="none"),
    }


#: The scaled logits the loss curves are drawn at: dense near 0, reaching ±1000.
_T_GRID = 10.0 * np.sinh(np.linspace(-np.arcsinh(100.0), np.arcsinh(100.0), 801))


def _runs(mask) -> list[tuple[int, int]]:
    """(start, stop) index pairs of the runs of True in ``mask``."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(int), [0]])))
    return list(zip(edges[::2], edges[1::2]))


@dataclass(eq=False)
class CrossEntropyFigure:
    """The figure and the artists that follow logit, temperature and label."""

    figure: object
    ax_prob: object
    ax_loss: object
    sigmoid_curve: object
    prob_point: object
    loss_curves: dict
    loss_points: dict
    z_grid: np.ndarray
    t_grid: np.ndarray

    shown_label: int | None = None

    def show(self, state: dict) -> bool:
        """Put ``state`` (from :func:`compute`) on the artists, in place.

        Returns True when the label changed: the loss curves (drawn once per label, not
        at every step) changed too, so the whole figure needs redrawing.
        """
        self.sigmoid_curve.set_ydata(losses.sigmoid(self.z_grid / state["temperature"]))
        self.prob_point.set_data([state["logit"]], [state["p"]])
        for name, point in self.loss_points.items():
            # a non-finite value leaves the point out, as the curve does
            point.set_data([state["scaled_logit"]], [state[name]])
        if state["label"] == self.shown_label:
            return False
        curves = _curves(state["label"], self.t_grid)
        for name, curve in self.loss_curves.items():
            curve.set_ydata(curves[name])
        self.shown_label = state["label"]
        return True

    @property
    def changing_artists(self) -> list:
        """What moves with logit and temperature (the loss curves change with the label
        only, which costs a full redraw)."""
        return [self.sigmoid_curve, self.prob_point, *self.loss_points.values()]


def build(logit: float = 2.0, temperature: float = 1.0, label: int = 1,
          logit_range=(-80.0, 80.0), figsize=(9.6, 4.6),
          dpi: float = style.STATIC_DPI) -> CrossEntropyFigure:
    """Build the two-panel figure for one logit, temperature and label.

    Parameters
    ----------
    logit : float
        The model's raw score z.
    temperature : float
        T > 0; the probability is σ(z/T).
    label : {0, 1}
        The true class.
    logit_range : (float, float)
        Range of z in the left panel.
    figsize, dpi
        Size in inches and resolution.
    """
    fig, (ax_prob, ax_loss) = style.new_figure(figsize=figsize, dpi=dpi, ncols=2)
    z_grid = np.linspace(*logit_range, 641)
    looks = {"stable": style.LOSS_STYLES["stable"],
             "clipped": style.LOSS_STYLES["log_cosh"],      # purple, dotted
             "naive": style.LOSS_STYLES["naive"]}
    labels = {"stable": "stable (on logits)", "clipped": "clipped p (ε = 1e-12)",
              "naive": "naive formula"}
    widths = {"stable": 5.0, "clipped": 3.0, "naive": 2.5}
    loss_curves, loss_points = {}, {}
    with style.course_style():
        (sigmoid_curve,) = ax_prob.plot(z_grid, z_grid * 0.0, **style.LOSS_STYLES["stable"].line(
            label="p = σ(z / T)"))
        (prob_point,) = ax_prob.plot([0.0], [0.5], **style.LOSS_STYLES["stable"].points(
            markersize=10, label="current z", color=style.HIGHLIGHT, marker="D"))
        ax_prob.set_xlim(*logit_range)
        ax_prob.set_ylim(-0.05, 1.05)
        ax_prob.legend(loc="upper left")
        for name in ("stable", "clipped", "naive"):
            (loss_curves[name],) = ax_loss.plot(
                _T_GRID, _T_GRID * 0.0, **looks[name].line(label=labels[name],
                                                           linewidth=widths[name]))
            (loss_points[name],) = ax_loss.plot([0.0], [0.0], **looks[name].points(
                label=None, markersize=9))
        ax_loss.set_xscale("asinh", linear_width=2.0)
        ax_loss.set_yscale("asinh", linear_width=0.5)
        broken = ~np.isfinite(naive_bce(1, _T_GRID)) | ~np.isfinite(naive_bce(0, _T_GRID))
        for start, stop in _runs(broken):
            ax_loss.axvspan(_T_GRID[start], _T_GRID[stop - 1], color=style.OKABE_ITO["yellow"],
                            alpha=0.35, linewidth=0,
                            label="naive gives inf/nan" if start == 0 else None)
        ax_loss.set_xlim(_T_GRID[0], _T_GRID[-1])
        ax_loss.set_ylim(0.0, 2000.0)
        ticks = [-1000, -100, -10, 0, 10, 100, 1000]
        ax_loss.set_xticks(ticks, [f"{t:g}" for t in ticks])
        ax_loss.set_yticks([0, 1, 10, 100, 1000], ["0", "1", "10", "100", "1000"])
        ax_loss.minorticks_off()
        ax_loss.legend(loc="upper center", fontsize=style.LEGEND_SIZE - 1)
    style.label_axes(ax_prob, title="Probability from the logit", xlabel="logit z",
                     ylabel="probability p of class 1")
    style.label_axes(ax_loss, title="Cross-entropy against the logit",
                     xlabel="scaled logit z / T (asinh scale)", ylabel="loss (asinh scale)")
    parts = CrossEntropyFigure(fig, ax_prob, ax_loss, sigmoid_curve, prob_point, loss_curves,
                               loss_points, z_grid, _T_GRID)
    parts.show(compute(logit, temperature, label))
    return parts
