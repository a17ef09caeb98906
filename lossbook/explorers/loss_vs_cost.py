"""Lesson 01 explorer: move predictions, watch each example's loss and the cost."""
from __future__ import annotations

import numpy as np

from lossbook import data
from lossbook.explorers.base import Explorer, dropdown, float_slider, fmt
from lossbook.figures import loss_vs_cost as figure
from lossbook.figures import style

__all__ = ["LossVsCostExplorer", "loss_vs_cost"]

_SUBSCRIPTS = "₁₂₃₄₅₆₇₈₉"


class LossVsCostExplorer(Explorer):
    """Five targets, one prediction slider each; bars of per-example losses and the cost."""

    title = "Loss is per example, cost is the average"
    instructions = ("Move a prediction and watch its bar and the cost change; switch the "
                    "reduction between none, mean and sum.")
    alt_text = figure.ALT_TEXT

    def __init__(self, n: int = 5, seed: int = 34):
        if not isinstance(n, (int, np.integer)) or not 1 <= n <= 5:
            raise ValueError(f"loss_vs_cost: n must be an integer from 1 to 5 (one slider "
                             f"per example), got {n!r}")
        points = data.regression_1d(n=int(n), slope=1.0, intercept=0.5, noise=0.8,
                                    x_range=(-2.0, 2.0), seed=seed)
        self.x, self.y_true = points.x, points.y
        self._start = np.round(points.x * 1.0 + 0.5, 1)  # the true line, to one decimal
        self._range = (float(np.floor(self.y_true.min()) - 3.0),
                       float(np.ceil(self.y_true.max()) + 3.0))
        super().__init__()

    def _build_controls(self):
        controls = {
            "loss": dropdown("loss", list(figure.LOSSES), "squared error"),
            "reduction": dropdown("reduction", list(figure.REDUCTIONS), "mean"),
        }
        for i, start in enumerate(self._start):
            controls[f"y_pred_{i + 1}"] = float_slider(
                f"prediction ŷ{_SUBSCRIPTS[i]}", float(start), *self._range, 0.1)
        return controls

    def _predictions(self) -> np.ndarray:
        return np.array([self.controls[f"y_pred_{i + 1}"].value for i in range(self.x.size)])

    def _build_figure(self):
        self.parts = figure.build(self.x, self.y_true, self._start, y_range=self._range,
                                  dpi=style.EXPLORER_DPI)
        return self.parts.figure

    def state(self) -> dict:
        return figure.compute(self.y_true, self._predictions(), self.controls["loss"].value,
                              self.controls["reduction"].value)

    def _show(self, state):
        if self.parts.show(state):
            self.request_full_redraw()

    def _changing_artists(self):
        return self.parts.changing_artists

    def _readout_lines(self, s):
        losses_text = ", ".join(fmt(value) for value in s["per_example"])
        reduction = s["reduction"]
        if reduction == "none":
            result = f"reduction='none' returns the {s['per_example'].size} losses"
        else:
            result = f"reduction='{reduction}' returns {fmt(s['result'])}"
        return [
            f"loss: {s['loss']}",
            f"per-example losses: {losses_text}",
            f"mean (the cost) = {fmt(s['mean'])}",
            f"sum = {fmt(s['sum'])}",
            result,
        ]


def loss_vs_cost(n: int = 5, seed: int = 34) -> LossVsCostExplorer:
    """Lesson 01 explorer: per-example losses as bars, and the cost.

    Parameters
    ----------
    n : int from 1 to 5, default 5
        Number of examples (one prediction slider each).
    seed : int, default 34
        Seed of the targets (``lossbook.data.regression_1d``).
    """
    return LossVsCostExplorer(n=n, seed=seed)
