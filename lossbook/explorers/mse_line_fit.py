"""Lesson 02 explorer: slope and intercept sliders over the MSE surface."""
from __future__ import annotations

from lossbook import data, fitting
from lossbook.explorers.base import Explorer, float_slider, fmt
from lossbook.figures import mse_line_fit as figure
from lossbook.figures import style

__all__ = ["MseLineFitExplorer", "mse_line_fit"]

W_RANGE = (-1.0, 5.0)
B_RANGE = (-3.0, 5.0)


class MseLineFitExplorer(Explorer):
    """Fit a line by hand: residuals on the data, the point and gradient on J(w, b)."""

    title = "Fitting a line by hand: the MSE surface and its gradient"
    instructions = ("Move the slope and the intercept. The arrow is one gradient-descent "
                    "step: follow it to the minimum (the star).")
    alt_text = figure.ALT_TEXT

    def __init__(self, n: int = 30, noise: float = 1.0, seed: int = 0):
        points = data.regression_1d(n=n, slope=2.0, intercept=1.0, noise=noise, seed=seed)
        self.x, self.y = points.x, points.y
        self.best = fitting.fit_line(self.x, self.y, loss="mse")
        super().__init__()

    def _build_controls(self):
        return {"w": float_slider("slope w", 0.0, *W_RANGE, 0.05),
                "b": float_slider("intercept b", 0.0, *B_RANGE, 0.05)}

    def _build_figure(self):
        self.parts = figure.build(self.x, self.y, 0.0, 0.0, W_RANGE, B_RANGE,
                                  dpi=style.EXPLORER_DPI)
        return self.parts.figure

    def state(self) -> dict:
        return figure.compute(self.x, self.y, self.controls["w"].value,
                              self.controls["b"].value)

    def _show(self, state):
        self.parts.show(state)

    def _changing_artists(self):
        return self.parts.changing_artists

    def _readout_lines(self, s):
        w_best, b_best = self.best
        return [
            f"slope w = {fmt(s['w'])}, intercept b = {fmt(s['b'])}",
            f"cost J(w, b) = MSE = {fmt(s['cost'])}",
            f"∂J/∂w = {fmt(s['grad_w'])}",
            f"∂J/∂b = {fmt(s['grad_b'])}",
            f"minimum: w = {fmt(w_best)}, b = {fmt(b_best)}",
        ]


def mse_line_fit(n: int = 30, noise: float = 1.0, seed: int = 0) -> MseLineFitExplorer:
    """Lesson 02 explorer: slope/intercept sliders, residuals, MSE surface and gradient.

    Parameters
    ----------
    n : int, default 30
        Number of data points (``lossbook.data.regression_1d``, true line y = 2x + 1).
    noise : float, default 1.0
        Standard deviation of the noise.
    seed : int, default 0
        Seed of the data.
    """
    return MseLineFitExplorer(n=n, noise=noise, seed=seed)
