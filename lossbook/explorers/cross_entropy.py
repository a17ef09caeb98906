"""Lesson 04 explorer: logit, temperature and label; naive vs stable cross-entropy."""
from __future__ import annotations

from lossbook.explorers.base import Explorer, dropdown, float_slider, fmt
from lossbook.figures import cross_entropy as figure
from lossbook.figures import style

__all__ = ["CrossEntropyExplorer", "cross_entropy"]

LOGIT_RANGE = (-80.0, 80.0)


class CrossEntropyExplorer(Explorer):
    """One logit through the sigmoid into the loss, computed three ways."""

    title = "Cross-entropy from a logit: naive vs stable"
    instructions = ("Push the logit far to the right with label 0, or lower the "
                    "temperature: when does the naive formula give inf or nan?")
    alt_text = figure.ALT_TEXT

    def _build_controls(self):
        return {
            "logit": float_slider("logit z", 2.0, *LOGIT_RANGE, 0.5, readout_format=".1f"),
            "temperature": float_slider("temperature T", 1.0, 0.1, 5.0, 0.05),
            "label": dropdown("true label y", [("1", 1), ("0", 0)], 1),
        }

    def _build_figure(self):
        c = self.controls
        self.parts = figure.build(c["logit"].value, c["temperature"].value, c["label"].value,
                                  logit_range=LOGIT_RANGE, dpi=style.EXPLORER_DPI)
        return self.parts.figure

    def state(self) -> dict:
        c = self.controls
        return figure.compute(c["logit"].value, c["temperature"].value, c["label"].value)

    def _show(self, state):
        if self.parts.show(state):
            self.request_full_redraw()

    def _changing_artists(self):
        return self.parts.changing_artists

    def _readout_lines(self, s):
        return [
            f"label y = {s['label']}",
            f"logit z = {fmt(s['logit'])}, temperature T = {fmt(s['temperature'])}, "
            f"z/T = {fmt(s['scaled_logit'])}",
            f"p = σ(z/T) = {fmt(s['p'], 6)}{_rounding_note(s['p'])}",
            f"1 − p = {fmt(s['one_minus_p'])}",
            f"naive −[y log p + (1−y) log(1−p)] = {fmt(s['naive'])}",
            f"clipped p (ε = 1e-12) = {fmt(s['clipped'])}",
            f"stable (with logits) = {fmt(s['stable'])}",
        ]


def _rounding_note(p: float) -> str:
    """Why p shows as 1 (or 0): σ never reaches either, but in float64 p has rounded to it."""
    if p == 1.0:
        return " (exactly 1 in float64: 1 − p is lost)"
    if p == 0.0:
        return " (exactly 0 in float64)"
    return ""


def cross_entropy() -> CrossEntropyExplorer:
    """Lesson 04 explorer: probability / logit / temperature, naive vs stable loss."""
    return CrossEntropyExplorer()
