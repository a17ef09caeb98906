"""Lesson 07 explorer: the outlier experiment behind "many outliers → prefer MAE or Huber".

Two sliders set what share of the training points are outliers and how far they are
shifted; a third sets Huber's δ. The data are regenerated (seeded, so the same setting
always gives the same points), MSE, MAE and Huber lines are fitted exactly, and each is
scored on clean test data. The readout names the loss that wins.
"""
from __future__ import annotations

from lossbook.explorers.base import Explorer, float_slider, fmt
from lossbook.figures import outlier_experiment as outlier_figure

__all__ = ["OutlierExperimentExplorer", "outlier_experiment"]

_NAMES = {"mse": "MSE", "mae": "MAE", "huber": "Huber"}


class OutlierExperimentExplorer(Explorer):
    """MSE vs MAE vs Huber line fits as the outliers grow in number and size."""

    title = "Choosing a loss: the outlier experiment"
    instructions = ("Add outliers (more of them, or further away) and watch which fit "
                    "stays on the clean line. The bars score each fit on clean test data.")
    alt_text = outlier_figure.ALT_TEXT

    def __init__(self, outlier_fraction: float = 0.1, outlier_size: float = 10.0,
                 delta: float = 1.0):
        self._initial = (outlier_fraction, outlier_size, delta)
        super().__init__()

    def _build_controls(self):
        fraction, size, delta = self._initial
        return {
            "outlier_fraction": float_slider("outlier fraction", fraction, 0.0, 0.45, 0.05),
            "outlier_size": float_slider("outlier size", size, 0.0, 30.0, 1.0,
                                         readout_format=".0f"),
            "delta": float_slider("Huber δ", delta, 0.25, 5.0, 0.25),
        }

    def _build_figure(self):
        self._plot = outlier_figure.build(*self._initial)
        return self._plot.figure

    def state(self) -> dict:
        run = outlier_figure.experiment(float(self.controls["outlier_fraction"].value),
                                        float(self.controls["outlier_size"].value),
                                        float(self.controls["delta"].value))
        return {"run": run, "outlier_fraction": run.outlier_fraction,
                "outlier_size": run.outlier_size, "delta": run.delta,
                "n_outliers": int(run.is_outlier.sum()), "n": int(run.x.size),
                "lines": run.lines, "test_mse": run.test_mse, "winner": run.winner}

    def _show(self, s):
        self._plot.show(s["run"])

    def _changing_artists(self):
        return self._plot.changing_artists()

    def _readout_lines(self, s):
        lines = [f"outliers: {s['n_outliers']} of {s['n']} points, shifted by "
                 f"{fmt(s['outlier_size'])}",
                 f"Huber δ = {fmt(s['delta'])}"]
        for name in outlier_figure.LOSSES:
            slope, intercept = s["lines"][name]
            lines.append(f"{_NAMES[name]}: y = {fmt(slope)}·x + {fmt(intercept)}, "
                         f"test MSE = {fmt(s['test_mse'][name])}")
        lines.append(f"true line: y = {fmt(outlier_figure.SLOPE)}·x + "
                     f"{fmt(outlier_figure.INTERCEPT)}")
        lines.append(f"lowest test error: {_NAMES[s['winner']]}")
        return lines


def outlier_experiment(outlier_fraction: float = 0.1, outlier_size: float = 10.0,
                       delta: float = 1.0) -> OutlierExperimentExplorer:
    """Explorer of the outlier experiment (lesson 07).

    ``outlier_fraction`` in [0, 0.45], ``outlier_size`` in [0, 30] and ``delta`` in
    [0.25, 5] (the sliders' ranges).
    """
    for name, value, low, high in (("outlier_fraction", outlier_fraction, 0.0, 0.45),
                                   ("outlier_size", outlier_size, 0.0, 30.0),
                                   ("delta", delta, 0.25, 5.0)):
        if not low <= value <= high:
            raise ValueError(f"outlier_experiment: {name} must be between {low:g} and "
                             f"{high:g} (the slider's range), got {value!r}")
    return OutlierExperimentExplorer(outlier_fraction, outlier_size, delta)
