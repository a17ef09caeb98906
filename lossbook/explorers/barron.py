"""Lesson 08 explorer: Barron's general robust loss with an α slider and a scale c.

Move ``α`` from 2 (L2) down through 1 (pseudo-Huber), 0 (Cauchy) and −2 (Geman–McClure)
towards −10 (close to Welsch) and watch large residuals cost less and weigh less;
move ``c`` to widen or narrow the quadratic bowl around 0.
"""
from __future__ import annotations

from lossbook.explorers.base import Explorer, float_slider, fmt
from lossbook.figures import barron as barron_figure

__all__ = ["BarronExplorer", "barron", "NAMED_ALPHAS"]

#: Shapes with a name of their own (mentioned in the readout when α is on one of them).
NAMED_ALPHAS = {2.0: "L2", 1.0: "pseudo-Huber / Charbonnier", 0.0: "Cauchy",
                -2.0: "Geman–McClure"}


def alpha_name(alpha: float) -> str:
    """Name of the loss for shape ``alpha`` (``""`` when it has no name of its own).

    >>> alpha_name(0.0), alpha_name(1.0000000001), alpha_name(-3.0)
    ('Cauchy', 'pseudo-Huber / Charbonnier', '')
    """
    for named, name in NAMED_ALPHAS.items():
        if abs(alpha - named) < 1e-6:
            return name
    return "Welsch (limit)" if alpha == float("-inf") else ""


class BarronExplorer(Explorer):
    """Barron's loss ρ(r; α, c) and its residual weight, for the chosen α and c."""

    title = "Barron's general robust loss"
    instructions = ("Lower α to make the loss more robust: large residuals cost less and "
                    "get less weight. c sets the width of the quadratic bowl around 0.")
    alt_text = barron_figure.ALT_TEXT

    def __init__(self, alpha: float = 1.0, c: float = 1.0):
        self._initial = (alpha, c)
        super().__init__()

    def _build_controls(self):
        alpha, c = self._initial
        return {
            "alpha": float_slider("shape α", alpha, -10.0, 2.0, 0.1, readout_format=".1f"),
            "c": float_slider("scale c", c, 0.25, 3.0, 0.05),
        }

    def _build_figure(self):
        self._plot = barron_figure.build(*self._initial)
        return self._plot.figure

    def state(self) -> dict:
        alpha = float(self.controls["alpha"].value)
        c = float(self.controls["c"].value)
        probe_loss, probe_weight = barron_figure.curves(
            barron_figure.PROBE_RESIDUALS, alpha, c)
        return {"alpha": alpha, "c": c, "name": alpha_name(alpha),
                "probe_residuals": barron_figure.PROBE_RESIDUALS,
                "probe_loss": probe_loss, "probe_weight": probe_weight}

    def _show(self, s):
        self._plot.show(s["alpha"], s["c"])

    def _changing_artists(self):
        return self._plot.changing_artists()

    def _readout_lines(self, s):
        name = f" ({s['name']})" if s["name"] else ""
        lines = [f"α = {fmt(s['alpha'])}{name}", f"c = {fmt(s['c'])}"]
        for r, rho, w in zip(s["probe_residuals"], s["probe_loss"], s["probe_weight"]):
            lines.append(f"r = {fmt(r)}: loss ρ = {fmt(rho)}, weight = {fmt(w)}")
        return lines


def barron(alpha: float = 1.0, c: float = 1.0) -> BarronExplorer:
    """Explorer of Barron's robust loss (lesson 08), starting at shape ``alpha``, scale ``c``.

    ``alpha`` must lie in [-10, 2] and ``c`` in [0.25, 3] (the sliders' ranges).
    """
    if not -10.0 <= alpha <= 2.0:
        raise ValueError(f"barron: alpha must be between -10 and 2 (the slider's range), "
                         f"got {alpha!r}; e.g. alpha=0 for the Cauchy loss")
    if not 0.25 <= c <= 3.0:
        raise ValueError(f"barron: c must be between 0.25 and 3 (the slider's range), "
                         f"got {c!r}; e.g. c=1.0")
    return BarronExplorer(alpha, c)
