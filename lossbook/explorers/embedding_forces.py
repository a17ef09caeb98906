"""Lesson 11 explorer: paired points pulled and pushed by an embedding loss's gradient.

Ten points in the plane form five pairs (two "views" of the same thing). A drop-down
picks the loss (contrastive, triplet, InfoNCE), sliders set the margin, the temperature
and how many steps of gradient descent have been taken from the start. Arrows show minus
the gradient at every point: the force the loss puts on it. The readout gives the loss,
the mean distance between partners and the smallest distance between non-partners
(for InfoNCE: mean cosine similarity of partners and the largest of non-partners).
"""
from __future__ import annotations

import numpy as np

from lossbook import embeddings
from lossbook.explorers.base import Explorer, dropdown, float_slider, fmt, int_slider
from lossbook.figures import embedding_forces as forces_figure

__all__ = ["EmbeddingForcesExplorer", "embedding_forces"]

LOSS_OPTIONS = (("triplet", "triplet"), ("contrastive", "contrastive"),
                ("InfoNCE", "info_nce"))


class EmbeddingForcesExplorer(Explorer):
    """Paired 2-D points under gradient descent on contrastive, triplet or InfoNCE loss."""

    title = "Losses that shape embeddings: pull and push"
    instructions = ("Pick a loss, then move the step slider: partners (same colour) are pulled "
                    "together, the others pushed away. Change the margin or the temperature and "
                    "watch the forces (arrows) change.")
    alt_text = forces_figure.ALT_TEXT

    def __init__(self, loss: str = "triplet", margin: float = 1.0, temperature: float = 0.5,
                 steps: int = 0):
        self._initial = (loss, margin, temperature, steps)
        self._cache_key = None
        super().__init__()

    def _build_controls(self):
        loss, margin, temperature, steps = self._initial
        return {
            "loss": dropdown("loss", LOSS_OPTIONS, loss),
            "margin": float_slider("margin m", margin, 0.1, 3.0, 0.05),
            "temperature": float_slider("temperature τ", temperature, 0.05, 2.0, 0.05),
            "steps": int_slider("steps taken", steps, 0, forces_figure.MAX_STEPS),
        }

    def _build_figure(self):
        self._plot = forces_figure.EmbeddingForcesFigure(2 * 5)
        return self._plot.figure

    def _trajectory(self, loss, margin, temperature):
        key = (loss, margin, temperature)
        if key != self._cache_key:  # the step slider alone reuses the descent
            self._positions, self._curve = forces_figure.trajectory(loss, margin, temperature)
            self._cache_key = key
        return self._positions, self._curve

    def state(self) -> dict:
        loss = self.controls["loss"].value
        margin = float(self.controls["margin"].value)
        temperature = float(self.controls["temperature"].value)
        steps = int(self.controls["steps"].value)
        positions, curve = self._trajectory(loss, margin, temperature)
        X = positions[steps]
        value, grad = embeddings.point_forces(X, loss, margin=margin, temperature=temperature)
        n = X.shape[0]
        partner = np.arange(n) ^ 1
        if loss == "info_nce":
            U = X / np.linalg.norm(X, axis=1, keepdims=True)
            similarity = U @ U.T
        else:
            similarity = -np.linalg.norm(X[:, None, :] - X[None, :, :], axis=2)
        others = ~np.eye(n, dtype=bool)
        others[np.arange(n), partner] = False
        pair_values = similarity[np.arange(n), partner]
        return {
            "loss_name": loss, "margin": margin, "temperature": temperature, "steps": steps,
            "positions": X, "gradient": grad, "loss": float(value), "curve": curve,
            "partner_score": float(pair_values.mean()),
            "closest_other": float(similarity[others].max()),
        }

    def _show(self, s):
        forces = -s["gradient"] * s["positions"].shape[0] * forces_figure.ARROW_SCALE
        limit = forces_figure.view_limit(s["loss_name"], self._positions)
        # Zoom out, never back in, while the loss stays: a limit change costs a full
        # matplotlib redraw (~100 ms), and a margin sweep back and forth would otherwise
        # pay it at every crossing of the 2.5 / 5 boundary.
        previous = getattr(self, "_view", None)
        if previous is not None and previous[0] == s["loss_name"]:
            limit = max(limit, previous[1])
        self._view = (s["loss_name"], limit)
        if self._plot.show(s["positions"], forces, s["curve"], s["steps"], s["loss_name"], limit):
            self.request_full_redraw()

    def _changing_artists(self):
        return self._plot.changing_artists()

    def _readout_lines(self, s):
        lines = [f"loss = {fmt(s['loss'])} after {s['steps']} steps"]
        if s["loss_name"] == "info_nce":
            lines += [f"temperature τ = {fmt(s['temperature'])}",
                      f"mean cosine of partners = {fmt(s['partner_score'])}",
                      f"largest cosine of non-partners = {fmt(s['closest_other'])}"]
        else:
            lines += [f"margin m = {fmt(s['margin'])}",
                      f"mean distance of partners = {fmt(-s['partner_score'])}",
                      f"smallest distance of non-partners = {fmt(-s['closest_other'])}"]
        return lines


def embedding_forces(loss: str = "triplet", margin: float = 1.0, temperature: float = 0.5,
                     steps: int = 0) -> EmbeddingForcesExplorer:
    """Explorer of embedding losses as forces on points (lesson 11).

    ``loss`` is ``"triplet"``, ``"contrastive"`` or ``"info_nce"``; ``margin`` in [0.1, 3],
    ``temperature`` in [0.05, 2], ``steps`` in [0, 60] (the controls' ranges).
    """
    if loss not in embeddings.LOSSES:
        raise ValueError(f"embedding_forces: loss must be one of {embeddings.LOSSES}, got {loss!r}")
    for name, value, low, high in (("margin", margin, 0.1, 3.0), ("temperature", temperature, 0.05, 2.0),
                                   ("steps", steps, 0, forces_figure.MAX_STEPS)):
        if not low <= value <= high:
            raise ValueError(f"embedding_forces: {name} must be between {low:g} and {high:g} "
                             f"(the control's range), got {value!r}")
    return EmbeddingForcesExplorer(loss, margin, temperature, int(steps))
