"""Lesson 06 explorer: a λ slider with L1 vs L2 coefficient paths and the constraint shapes.

The slider sets log₁₀ λ (λ from 0.001 to 100). The left panels mark λ on the lasso and
ridge coefficient paths of a six-feature problem; the right panel shows, for two
correlated features, the L1 diamond and the L2 circle of the size that λ implies and
where the least-squares contours touch them. The readout lists both sets of
coefficients and how many are exactly zero.
"""
from __future__ import annotations

import numpy as np

from lossbook.explorers.base import Explorer, float_slider, fmt
from lossbook.figures import regularization_paths as paths_figure

__all__ = ["RegularizationPathsExplorer", "regularization_paths"]


def _vector(w) -> str:
    return "(" + ", ".join(fmt(v, 3) for v in w) + ")"


class RegularizationPathsExplorer(Explorer):
    """Lasso vs ridge as the penalty strength λ changes."""

    title = "L1 vs L2 regularization"
    instructions = ("Raise λ: lasso (L1) weights hit exactly 0 one after another, ridge (L2) "
                    "weights only shrink. Right: raise λ until the lasso solution reaches the "
                    "diamond's corner (w₂ = 0 exactly); ridge never reaches an axis.")
    alt_text = paths_figure.ALT_TEXT

    def __init__(self, log10_lam: float = -1.0):
        self._initial = log10_lam
        super().__init__()

    def _build_controls(self):
        low, high = paths_figure.LOG_LAMBDA_RANGE
        return {"log10_lam": float_slider("log₁₀ λ", self._initial, low, high, 0.05)}

    def _build_figure(self):
        self._plot = paths_figure.build(10.0 ** self._initial)
        return self._plot.figure

    def state(self) -> dict:
        log10_lam = float(self.controls["log10_lam"].value)
        s = self._plot.solve(10.0 ** log10_lam)
        s.update(log10_lam=log10_lam,
                 l1_zeros=int(np.sum(s["l1"] == 0.0)), l2_zeros=int(np.sum(s["l2"] == 0.0)),
                 n_weights=int(s["l1"].size))
        return s

    def _show(self, s):
        self._plot.show(s)

    def _changing_artists(self):
        return self._plot.changing_artists()

    def _readout_lines(self, s):
        d = s["n_weights"]
        return [
            f"λ = {fmt(s['lam'])}",
            f"L1 (lasso) w = {_vector(s['l1'])}",
            f"L1 zeros: {s['l1_zeros']} of {d}",
            f"L2 (ridge) w = {_vector(s['l2'])}",
            f"L2 zeros: {s['l2_zeros']} of {d}",
            f"2 features: lasso w = {_vector(s['plane_l1'])}, ‖w‖₁ = {fmt(s['t1'])}",
            f"2 features: ridge w = {_vector(s['plane_l2'])}, ‖w‖₂ = {fmt(s['t2'])}",
        ]


def regularization_paths(log10_lam: float = -1.0) -> RegularizationPathsExplorer:
    """Explorer of L1 vs L2 regularization (lesson 06), starting at λ = 10**log10_lam.

    ``log10_lam`` must lie in [-3, 2] (the slider's range).
    """
    low, high = paths_figure.LOG_LAMBDA_RANGE
    if not low <= log10_lam <= high:
        raise ValueError(f"regularization_paths: log10_lam must be between {low:g} and "
                         f"{high:g} (the slider's range), got {log10_lam!r}; e.g. -1 for "
                         "λ = 0.1")
    return RegularizationPathsExplorer(log10_lam)
