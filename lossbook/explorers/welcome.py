"""Lesson 00 explorer: move one prediction and watch its squared and absolute error."""
from __future__ import annotations

from lossbook.explorers.base import Explorer, float_slider, fmt
from lossbook.figures import style
from lossbook.figures import welcome as figure

__all__ = ["WelcomeExplorer", "welcome"]


class WelcomeExplorer(Explorer):
    """One prediction ŷ against a fixed target y: squared error (ŷ − y)² vs |ŷ − y|."""

    title = "Your first explorer: the loss of one prediction"
    instructions = ("Move the prediction ŷ (click the slider, then use the arrow keys). "
                    "Where is the squared error smaller than the absolute error?")
    alt_text = figure.ALT_TEXT

    def __init__(self, target: float = 2.0, y_pred: float = 3.0):
        self.target = float(target)
        self._start = float(y_pred)
        super().__init__()

    def _build_controls(self):
        low, high = self.target - 4.0, self.target + 4.0
        if not low <= self._start <= high:
            raise ValueError(f"welcome: y_pred={self._start} is outside the slider's range "
                             f"[{low:g}, {high:g}] (target ± 4); pick a value in it.")
        return {"y_pred": float_slider("prediction ŷ", self._start, low, high, 0.1)}

    def _build_figure(self):
        self.parts = figure.build(self.target, self._start,
                                  pred_range=(self.target - 4.0, self.target + 4.0),
                                  dpi=style.EXPLORER_DPI)
        return self.parts.figure

    def state(self) -> dict:
        return figure.compute(self.target, self.controls["y_pred"].value)

    def _show(self, state):
        self.parts.show(state)

    def _changing_artists(self):
        return self.parts.changing_artists

    def _readout_lines(self, s):
        return [
            f"target y = {fmt(s['target'])}",
            f"prediction ŷ = {fmt(s['y_pred'])}",
            f"residual ŷ − y = {fmt(s['residual'])}",
            f"squared error = {fmt(s['squared'])}",
            f"absolute error = {fmt(s['absolute'])}",
        ]


def welcome(target: float = 2.0, y_pred: float = 3.0) -> WelcomeExplorer:
    """Lesson 00 explorer: one prediction, its squared and its absolute error.

    Parameters
    ----------
    target : float, default 2.0
        The true value y.
    y_pred : float, default 3.0
        Where the prediction slider starts (within target ± 4).
    """
    return WelcomeExplorer(target=target, y_pred=y_pred)
