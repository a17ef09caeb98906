"""Figure for lesson 11's explorer: paired points in the plane and the forces of a loss.

Left panel: the points after some steps of gradient descent on the loss (partners share
a colour and a marker, and a thin line joins them), each with an arrow along minus the
gradient (the direction the next step moves it); for InfoNCE, the unit circle its
normalised embeddings live on. Right panel: the loss (as a fraction of its value at the start)
against the number of steps, with the current step marked.

>>> plot = build(loss="triplet", margin=1.0, temperature=0.5, steps=10)
>>> [ax.get_title() for ax in plot.figure.axes]
['Points and the forces on them', 'Loss during gradient descent']
"""
from __future__ import annotations

import numpy as np

from lossbook import embeddings
from lossbook.figures import style

__all__ = ["ALT_TEXT", "MAX_STEPS", "LR", "EmbeddingForcesFigure", "build", "trajectory", "view_limit", "relative_loss"]

#: The step slider's range and the learning rate of the descent.
MAX_STEPS = 60
LR = 0.5
#: Arrows show −gradient × this (×n points), so that they are visible at every scale.
ARROW_SCALE = 0.6

ALT_TEXT = (
    "Two panels. Left: ten points in the plane in five colour-and-marker pairs, partners "
    "joined by a thin line, each point with an arrow showing the direction and size of "
    "the force the loss puts on it (minus its gradient): partners are pulled together, "
    "other points pushed apart until they are at least the margin away; for InfoNCE a "
    "dashed unit circle shows that only directions matter. Right: the loss, as a fraction "
    "of its starting value, against the number of gradient-descent steps, a falling curve with the current step marked."
)


def trajectory(loss: str, margin: float, temperature: float, steps: int = MAX_STEPS,
               seed: int = 3):
    """Positions and loss after 0..steps steps: ``(positions (steps+1, n, 2), loss (steps+1,))``
    (:func:`lossbook.embeddings.descent_path` from :func:`lossbook.embeddings.toy_pairs`)."""
    return embeddings.descent_path(embeddings.toy_pairs(seed=seed), loss, steps=steps, lr=LR,
                                   margin=margin, temperature=temperature)


def view_limit(loss: str, positions) -> float:
    """Half-width of the points panel: the unit circle for InfoNCE, else 2.5 or 5."""
    if loss == "info_nce":
        return 1.4
    return 2.5 if float(np.abs(positions).max()) < 2.3 else 5.0


def relative_loss(curve) -> np.ndarray:
    """The loss as a fraction of its value at step 0 (0 stays 0 if it starts at 0)."""
    curve = np.asarray(curve, dtype=float)
    return curve / curve[0] if curve[0] > 0 else curve


class EmbeddingForcesFigure:
    """The built figure and the artists an update changes.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    points_ax, loss_ax : Axes
    pair_points : list of Line2D
        One per pair (its two points).
    pair_lines : list of Line2D
        The segment joining each pair.
    arrows : Quiver
        Minus the gradient at each point (scaled by ``ARROW_SCALE``·n).
    circle : Line2D
        The unit circle (visible for InfoNCE only).
    loss_curve, loss_mark : Line2D
    """

    def __init__(self, n_points: int, dpi=style.EXPLORER_DPI):
        self.figure, (self.points_ax, self.loss_ax) = style.new_figure(
            figsize=(10.0, 5.0), dpi=dpi, ncols=2, width_ratios=(1.0, 1.0))
        ax = self.points_ax
        n_pairs = n_points // 2
        with style.course_style():
            t = np.linspace(0, 2 * np.pi, 200)
            (self.circle,) = ax.plot(np.cos(t), np.sin(t), color=style.DATA_COLOR,
                                     linestyle="--", linewidth=1.0, label="unit circle")
            self.pair_lines, self.pair_points = [], []
            for k in range(n_pairs):
                color = style.COLOR_CYCLE[k % 7]
                marker = style.MARKER_CYCLE[k % len(style.MARKER_CYCLE)]
                (line,) = ax.plot([0, 0], [0, 0], color=color, linewidth=1.0, alpha=0.6)
                (pts,) = ax.plot([0, 0], [0, 0], linestyle="none", marker=marker,
                                 markersize=10, color=color, label=f"pair {k + 1}")
                self.pair_lines.append(line)
                self.pair_points.append(pts)
            zeros = np.zeros(n_points)
            self.arrows = ax.quiver(zeros, zeros, zeros, zeros, angles="xy", scale_units="xy",
                                    scale=1.0, color=style.DATA_COLOR, width=0.006)
            ax.set_xlim(-2.5, 2.5)
            ax.set_ylim(-2.5, 2.5)
            ax.set_aspect("equal")
            style.label_axes(ax, title="Points and the forces on them",
                             xlabel="embedding coordinate 1", ylabel="embedding coordinate 2")
            (self.loss_curve,) = self.loss_ax.plot(np.arange(MAX_STEPS + 1), np.zeros(MAX_STEPS + 1),
                                                   **style.LOSS_STYLES["cross_entropy"].line(label="loss"))
            (self.loss_mark,) = self.loss_ax.plot([0], [0], linestyle="none", marker="o",
                                                  markersize=10, color=style.HIGHLIGHT,
                                                  label="current step")
            self.loss_ax.set_xlim(0, MAX_STEPS)
            self.loss_ax.set_ylim(0.0, 1.25)
            style.label_axes(self.loss_ax, title="Loss during gradient descent",
                             xlabel="gradient-descent step", ylabel="loss ÷ loss at step 0")
            self.loss_ax.legend(loc="upper right")

    def show(self, positions, forces, curve, step: int, loss: str, limit: float) -> bool:
        """Put one state on the artists; return True if an axis' limits changed."""
        for k, (line, pts) in enumerate(zip(self.pair_lines, self.pair_points)):
            pair = positions[2 * k: 2 * k + 2]
            line.set_data(pair[:, 0], pair[:, 1])
            pts.set_data(pair[:, 0], pair[:, 1])
        self.arrows.set_offsets(positions)
        self.arrows.set_UVC(forces[:, 0], forces[:, 1])
        self.circle.set_visible(loss == "info_nce")
        relative = relative_loss(curve)
        self.loss_curve.set_ydata(relative)
        self.loss_mark.set_data([step], [relative[step]])
        changed = False
        if self.points_ax.get_xlim() != (-limit, limit):
            self.points_ax.set_xlim(-limit, limit)
            self.points_ax.set_ylim(-limit, limit)
            changed = True
        return changed

    def changing_artists(self) -> list:
        return [*self.pair_lines, *self.pair_points, self.arrows, self.circle,
                self.loss_curve, self.loss_mark]


def build(loss: str = "triplet", margin: float = 1.0, temperature: float = 0.5,
          steps: int = 0, dpi=style.EXPLORER_DPI) -> EmbeddingForcesFigure:
    """Build the figure showing one state (for a static view or the explorer)."""
    positions, curve = trajectory(loss, margin, temperature)
    plot = EmbeddingForcesFigure(positions.shape[1], dpi=dpi)
    _, grad = embeddings.point_forces(positions[steps], loss, margin=margin,
                                      temperature=temperature)
    plot.show(positions[steps], -grad * positions.shape[1] * ARROW_SCALE, curve, steps, loss,
              view_limit(loss, positions))
    return plot
