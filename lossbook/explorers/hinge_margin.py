"""Lesson 05 explorer: turn and shift a linear classifier, watch its margin band and losses.

Three sliders set the classifier ``f(x) = w·x + b``: the direction of ``w`` (an angle),
the bias ``b`` and the length ``‖w‖`` (a longer ``w`` means a narrower band, since the
margin lines ``f(x) = ±1`` lie ``1/‖w‖`` from the decision line). The readout gives the
mean hinge loss, the number of margin violations (``y·f(x) < 1``) and of errors
(``y·f(x) ≤ 0``).
"""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.explorers.base import Explorer, float_slider, fmt
from lossbook.figures import hinge_margin as hinge_figure

__all__ = ["HingeMarginExplorer", "hinge_margin"]


class HingeMarginExplorer(Explorer):
    """A linear classifier on 2-D data with its margin band and the margin losses."""

    title = "Hinge loss and the margin"
    instructions = ("Turn and shift the decision line; lengthen w to narrow the margin band. "
                    "Hinge loss charges every point with margin y·f(x) < 1.")
    alt_text = hinge_figure.ALT_TEXT

    def __init__(self, angle: float = 45.0, bias: float = 0.0, norm: float = 1.0,
                 n: int = 40, seed: int = 5):
        self._initial = (angle, bias, norm)
        self.X, self.y = hinge_figure.sample_data(n=n, seed=seed)
        super().__init__()

    def _build_controls(self):
        angle, bias, norm = self._initial
        return {
            "angle": float_slider("direction of w (°)", angle, 0.0, 359.0, 1.0,
                                  readout_format=".0f"),
            "bias": float_slider("bias b", bias, -4.0, 4.0, 0.05),
            "norm": float_slider("length ‖w‖", norm, 0.2, 3.0, 0.05),
        }

    def _build_figure(self):
        self._plot = hinge_figure.build(self.X, self.y, *self._initial)
        return self._plot.figure

    def state(self) -> dict:
        angle = float(self.controls["angle"].value)
        bias = float(self.controls["bias"].value)
        norm = float(self.controls["norm"].value)
        f = hinge_figure.scores(self.X, angle, bias, norm)
        m = self.y * f
        return {
            "angle": angle, "bias": bias, "norm": norm,
            "w": hinge_figure.weights(angle, norm),
            "margin_width": 2.0 / norm,
            "scores": f, "margins": m,
            "mean_hinge": float(losses.hinge(self.y, f)),
            "mean_squared_hinge": float(losses.squared_hinge(self.y, f)),
            "mean_logistic_bits": float(losses.binary_cross_entropy_with_logits(
                (self.y + 1) // 2, f)) / np.log(2.0),
            "n_violations": int(np.sum(m < 1.0)),
            "n_errors": int(np.sum(m <= 0.0)),
            "n": int(self.y.size),
        }

    def _show(self, s):
        self._plot.show(s["angle"], s["bias"], s["norm"])

    def _changing_artists(self):
        return self._plot.changing_artists()

    def _readout_lines(self, s):
        w = s["w"]
        return [
            f"w = ({fmt(w[0])}, {fmt(w[1])}), b = {fmt(s['bias'])}",
            f"band width 2/‖w‖ = {fmt(s['margin_width'])}",
            f"mean hinge loss = {fmt(s['mean_hinge'])}",
            f"mean squared hinge = {fmt(s['mean_squared_hinge'])}",
            f"mean logistic loss (bits) = {fmt(s['mean_logistic_bits'])}",
            f"margin violations (y·f < 1): {s['n_violations']} of {s['n']}",
            f"errors (y·f ≤ 0): {s['n_errors']} of {s['n']}",
        ]


def hinge_margin(angle: float = 45.0, bias: float = 0.0, norm: float = 1.0,
                 n: int = 40, seed: int = 5) -> HingeMarginExplorer:
    """Explorer of the hinge loss and the margin (lesson 05).

    Starts with ``w = norm·(cos angle°, sin angle°)`` and ``b = bias``; ``angle`` in
    [0, 359], ``bias`` in [-4, 4], ``norm`` in [0.2, 3] (the sliders' ranges); ``n``
    points of two classes drawn with ``seed``.
    """
    for name, value, low, high in (("angle", angle, 0.0, 359.0), ("bias", bias, -4.0, 4.0),
                                   ("norm", norm, 0.2, 3.0)):
        if not low <= value <= high:
            raise ValueError(f"hinge_margin: {name} must be between {low:g} and {high:g} "
                             f"(the slider's range), got {value!r}")
    return HingeMarginExplorer(angle, bias, norm, n, seed)
