"""Lesson 03 explorer: drag an outlier, change δ, compare the MSE, MAE and Huber fits."""
from __future__ import annotations

from lossbook import data
from lossbook.explorers.base import Explorer, float_slider, fmt
from lossbook.figures import robust_fit as figure
from lossbook.figures import style

__all__ = ["RobustFitExplorer", "robust_fit"]

X_RANGE = (-3.0, 3.0)
Y_RANGE = (-6.0, 16.0)
_NAMES = {"mse": "MSE", "mae": "MAE", "huber": "Huber"}


class RobustFitExplorer(Explorer):
    """One movable outlier; MSE, MAE and Huber fits on the same data, and δ."""

    title = "Outliers: MSE, MAE and Huber fits side by side"
    instructions = ("Move the outlier up and down (and sideways) and watch which line "
                    "follows it; change Huber's δ between the two extremes.")
    alt_text = figure.ALT_TEXT

    def __init__(self, n: int = 12, seed: int = 1):
        points = data.regression_1d(n=n, slope=1.5, intercept=1.0, noise=0.6,
                                    x_range=X_RANGE, seed=seed)
        self.x, self.y = points.x, points.y
        super().__init__()

    def _build_controls(self):
        return {
            "outlier_y": float_slider("outlier y", 12.0, *Y_RANGE, 0.25),
            "outlier_x": float_slider("outlier x", 2.0, *X_RANGE, 0.1),
            "delta": float_slider("Huber δ", 1.0, 0.1, 5.0, 0.1),
        }

    def _build_figure(self):
        c = self.controls
        self.parts = figure.build(self.x, self.y, c["outlier_x"].value, c["outlier_y"].value,
                                  c["delta"].value, y_range=Y_RANGE, dpi=style.EXPLORER_DPI)
        return self.parts.figure

    def state(self) -> dict:
        c = self.controls
        return figure.compute(self.x, self.y, c["outlier_x"].value, c["outlier_y"].value,
                              c["delta"].value)

    def _show(self, state):
        self.parts.show(state)

    def _changing_artists(self):
        return self.parts.changing_artists

    def _readout_lines(self, s):
        ox, oy = s["outlier"]
        lines = [f"outlier at x = {fmt(ox)}, y = {fmt(oy)}; Huber δ = {fmt(s['delta'])}"]
        for name in figure.FITS:
            w, b = s["fits"][name]
            lines.append(f"{_NAMES[name]} fit: slope {fmt(w)}, intercept {fmt(b)}, "
                         f"outlier residual {fmt(s['outlier_residuals'][name])}")
        return lines


def robust_fit(n: int = 12, seed: int = 1) -> RobustFitExplorer:
    """Lesson 03 explorer: a movable outlier and δ; MSE, MAE and Huber fits side by side.

    Parameters
    ----------
    n : int, default 12
        Number of regular points (``lossbook.data.regression_1d``, true line 1.5x + 1).
    seed : int, default 1
        Seed of the data.
    """
    return RobustFitExplorer(n=n, seed=seed)
