r"""Figure for lesson 08: Barron's general robust loss and the weight it gives a residual.

Left panel: the loss :math:`\rho(r, \alpha, c)` of :func:`lossbook.losses.barron` against
the residual ``r = ŷ − y`` for the current shape ``α`` and scale ``c`` (thick line, with
markers at a few residuals), beside the named members of the family at the same ``c``:
``α = 2`` (L2), ``α = 1`` (pseudo-Huber / Charbonnier), ``α = 0`` (Cauchy), ``α = −2``
(Geman–McClure) and ``α → −∞`` (Welsch).

Right panel: the weight an iteratively reweighted least-squares fit gives a residual,

.. math:: w(r) = c^2\,\frac{\psi(r)}{r}, \qquad \psi(r) = \frac{\partial\rho}{\partial r}
          = \frac{r}{c^2}\left(\frac{(r/c)^2}{|\alpha-2|} + 1\right)^{\alpha/2 - 1},

normalised so that ``w(0) = 1``; ``ψ`` is :func:`lossbook.losses.barron_grad`. L2 gives
every residual the weight 1; the smaller ``α``, the faster far-away residuals lose
their say.

>>> fig = build(alpha=0.0, c=1.0).figure
>>> [ax.get_title() for ax in fig.axes]
['Barron loss ρ(r; α, c)', 'Weight of a residual c²·ψ(r)/r']
"""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.figures import style

__all__ = ["REFERENCE_ALPHAS", "PROBE_RESIDUALS", "ALT_TEXT", "BarronFigure", "build",
           "curves"]

#: The named members of the family drawn as thin reference lines: (α, label).
REFERENCE_ALPHAS: tuple[tuple[float, str], ...] = (
    (2.0, "α = 2: L2"),
    (1.0, "α = 1: pseudo-Huber"),
    (0.0, "α = 0: Cauchy"),
    (-2.0, "α = −2: Geman–McClure"),
    (-np.inf, "α = −∞: Welsch"),
)
#: Residuals at which the current loss is marked on the plot and given in the readout.
PROBE_RESIDUALS: tuple[float, ...] = (0.5, 1.0, 2.0, 5.0)

#: Residual range of both panels (an even number of samples, so r = 0 is never sampled
#: and the weight ψ(r)/r is always defined).
R_RANGE = (-6.0, 6.0)
N_SAMPLES = 400
LOSS_YLIM = (0.0, 5.0)

ALT_TEXT = (
    "Two panels. Left: Barron's robust loss against the residual r from -6 to 6. Thin "
    "reference curves show alpha = 2 (a parabola, L2), alpha = 1 (pseudo-Huber, growing "
    "linearly far out), alpha = 0 (Cauchy, growing logarithmically), alpha = -2 "
    "(Geman-McClure) and alpha = minus infinity (Welsch), which level off at a constant: "
    "the smaller alpha, the less a large residual costs. A thick curve shows the loss for "
    "the chosen alpha, with markers at residuals 0.5, 1, 2 and 5. Right: the weight "
    "c²·ψ(r)/r each curve gives a residual: 1 everywhere for L2, falling towards 0 for "
    "large residuals for the robust members; a larger scale c widens every curve."
)

_REFERENCE_STYLES = ("mse", "huber", "log_cosh", "quantile", "zero_one")


def curves(r, alpha: float, c: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Loss :math:`\rho(r)` and normalised weight :math:`c^2\psi(r)/r` at residuals ``r``.

    Both come from :func:`lossbook.losses.barron` and :func:`~lossbook.losses.barron_grad`
    (``y_true = 0``, ``y_pred = r``). ``r`` must not contain 0.

    >>> rho, weight = curves(np.array([-1.0, 1.0]), alpha=2.0, c=1.0)
    >>> rho.tolist(), weight.tolist()
    ([0.5, 0.5], [1.0, 1.0])
    """
    r = np.asarray(r, dtype=float)
    zeros = np.zeros_like(r)
    rho = losses.barron(zeros, r, alpha=alpha, c=c, reduction="none")
    psi = losses.barron_grad(zeros, r, alpha=alpha, c=c, reduction="none")
    return rho, c * c * psi / r


class BarronFigure:
    """The built figure and the artists an update changes.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    loss_ax, weight_ax : Axes
    current_loss, current_weight : Line2D
        The curves of the chosen ``α``.
    probes : Line2D
        Markers on the current loss at :data:`PROBE_RESIDUALS`.
    reference_loss, reference_weight : list of Line2D
        One per entry of :data:`REFERENCE_ALPHAS` (they move with ``c``).
    r : ndarray
        The residuals every curve is sampled at.
    """

    def __init__(self, alpha: float, c: float, dpi: float = style.EXPLORER_DPI):
        self.r = np.linspace(*R_RANGE, N_SAMPLES)
        self.figure, (self.loss_ax, self.weight_ax) = style.new_figure(
            figsize=(9.0, 5.0), dpi=dpi, ncols=2)
        self.reference_loss, self.reference_weight = [], []
        with style.course_style():
            for (ref_alpha, label), key in zip(REFERENCE_ALPHAS, _REFERENCE_STYLES):
                kw = style.LOSS_STYLES[key].line(label=label, linewidth=1.5, alpha=0.9)
                (line,) = self.loss_ax.plot(self.r, self.r, **kw)
                self.reference_loss.append(line)
                (line,) = self.weight_ax.plot(self.r, self.r, **kw)
                self.reference_weight.append(line)
            current = style.LOSS_STYLES["barron"]
            (self.current_loss,) = self.loss_ax.plot(
                self.r, self.r, **current.line(label="chosen α", linewidth=4.0, zorder=4))
            (self.current_weight,) = self.weight_ax.plot(
                self.r, self.r, **current.line(label="chosen α", linewidth=4.0, zorder=4))
            (self.probes,) = self.loss_ax.plot(
                PROBE_RESIDUALS, PROBE_RESIDUALS,
                **current.points(label="r = " + ", ".join(f"{p:g}" for p in PROBE_RESIDUALS),
                                 markeredgecolor="black", zorder=5))
            self.loss_ax.set_xlim(*R_RANGE)
            self.loss_ax.set_ylim(*LOSS_YLIM)
            self.weight_ax.set_xlim(*R_RANGE)
            self.weight_ax.set_ylim(0.0, 1.08)
            style.label_axes(self.loss_ax, title="Barron loss ρ(r; α, c)",
                             xlabel="residual r = ŷ − y", ylabel="loss ρ")
            style.label_axes(self.weight_ax, title="Weight of a residual c²·ψ(r)/r",
                             xlabel="residual r = ŷ − y", ylabel="weight (1 at r = 0)")
            self.figure.legend(handles=[*self.reference_loss, self.current_loss, self.probes],
                               loc="outside lower center", ncols=4, fontsize=11)
        self.show(alpha, c)

    def changing_artists(self) -> list:
        """Every artist :meth:`show` changes, in drawing order (for blitting)."""
        return [*self.reference_loss, *self.reference_weight, self.current_loss,
                self.current_weight, self.probes]

    def show(self, alpha: float, c: float) -> dict:
        """Redraw every curve for shape ``alpha`` and scale ``c`` in place.

        Returns the plotted numbers: ``{"loss", "weight", "probe_loss"}`` for the chosen
        ``α`` and ``{"reference_loss", "reference_weight"}`` (lists, one per reference).
        """
        shown = {"reference_loss": [], "reference_weight": []}
        for (ref_alpha, _), loss_line, weight_line in zip(
                REFERENCE_ALPHAS, self.reference_loss, self.reference_weight):
            rho, weight = curves(self.r, ref_alpha, c)
            loss_line.set_ydata(rho)
            weight_line.set_ydata(weight)
            shown["reference_loss"].append(rho)
            shown["reference_weight"].append(weight)
        rho, weight = curves(self.r, alpha, c)
        self.current_loss.set_ydata(rho)
        self.current_weight.set_ydata(weight)
        probe_loss, _ = curves(np.array(PROBE_RESIDUALS), alpha, c)
        self.probes.set_ydata(probe_loss)
        shown.update(loss=rho, weight=weight, probe_loss=probe_loss)
        return shown


def build(alpha: float = 1.0, c: float = 1.0,
          dpi: float = style.EXPLORER_DPI) -> BarronFigure:
    """Build the Barron figure for shape ``alpha`` and scale ``c`` (see module docstring).

    ``dpi``: ``style.EXPLORER_DPI`` for the explorer, ``style.STATIC_DPI`` for a static
    figure in a lesson.

    Returns a :class:`BarronFigure`; its ``.figure`` is the matplotlib Figure and
    ``.show(alpha, c)`` updates it in place.
    """
    return BarronFigure(alpha, c, dpi)
