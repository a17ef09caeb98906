r"""Figure for lesson 06: L1 vs L2 coefficient paths and the diamond-vs-circle picture.

Both penalties are added to the mean squared error of a linear model, as in
:func:`lossbook.train.regularized_cost` (the bias is not penalised):

.. math:: J_1(w, b) = \frac1n\lVert y - Xw - b\rVert^2 + \lambda\lVert w\rVert_1, \qquad
          J_2(w, b) = \frac1n\lVert y - Xw - b\rVert^2 + \lambda\lVert w\rVert_2^2 .

Both are solved exactly by :class:`lossbook.fitting.LeastSquaresProblem` (ridge in
closed form, lasso by coordinate descent made exact on the support), whole paths at
once; moving λ re-solves from the nearest point of the precomputed path.

Left: the coefficient paths of both penalties against λ (log axis), with the current λ
marked. Right: a two-feature problem with correlated features: contours of its
least-squares cost, the L1 diamond :math:`\lVert w\rVert_1 \le t_1` and the L2 circle
:math:`\lVert w\rVert_2 \le t_2` whose sizes are those of the penalised solutions at the
current λ (a penalised solution is also the constrained one for that size), the
solutions themselves and the cost contour through each. For a small λ the contours touch
the diamond on an edge (both lasso weights non-zero); as λ grows the lasso solution slides
along the edge to the corner on the w₁ axis and stays there: w₂ is then exactly 0. The
ridge solution never reaches an axis.

>>> plot = build(lam=1.0)
>>> [ax.get_title() for ax in (plot.l1_ax, plot.l2_ax, plot.plane_ax)]
['L1 (lasso) coefficient paths', 'L2 (ridge) coefficient paths', 'L1 diamond vs L2 circle']
"""
from __future__ import annotations

import matplotlib.colors as mcolors
import numpy as np

from lossbook import data as datasets
from lossbook.figures import style
from lossbook.fitting import LeastSquaresProblem

__all__ = ["ALT_TEXT", "LOG_LAMBDA_RANGE", "paths_problem", "plane_problem",
           "RegularizationPathsFigure", "build"]

#: log₁₀ λ spans this range on the slider and the path plots.
LOG_LAMBDA_RANGE = (-3.0, 2.0)
N_PATH = 201
#: True coefficients of the path problem: three of six are 0.
PATH_COEF = (3.0, -2.0, 0.0, 1.5, 0.0, 0.0)
#: The two-feature problem: x₂' = 0.7·x₁ + √0.51·x₂ is correlated with x₁ (ρ ≈ 0.7).
PLANE_MIX = np.array([[1.0, 0.7], [0.0, np.sqrt(0.51)]])
PLANE_COEF = (2.0, 0.3)
PLANE_LIMITS = (-0.6, 2.6)

ALT_TEXT = (
    "Three panels. Top left: the six lasso (L1) coefficients against the penalty strength "
    "lambda on a logarithmic axis; as lambda grows they shrink and drop to exactly zero one "
    "after another, the three truly irrelevant ones first. Bottom left: the ridge (L2) "
    "coefficients shrink smoothly towards zero but none becomes exactly zero. A vertical "
    "line marks the current lambda. Right: for a problem with two correlated features, "
    "elliptical contours of the least-squares cost around its minimum (a star), the L1 "
    "diamond and the L2 circle sized to the current lambda, and the lasso and ridge "
    "solutions where the contours touch them. At a small lambda the lasso solution lies on an "
    "edge of the diamond with both weights non-zero; as lambda grows it slides along the edge "
    "to the corner on the w1 axis, where the second weight is exactly zero. The ridge "
    "solution touches the round circle off the axes at every lambda."
)


def paths_problem() -> LeastSquaresProblem:
    """Six features, three of them irrelevant (:func:`lossbook.data.regression`, seed 2)."""
    d = datasets.regression(n=50, n_features=len(PATH_COEF), coef=PATH_COEF, noise=1.5,
                            seed=2)
    return LeastSquaresProblem.from_data(d.X, d.y)


def plane_problem() -> LeastSquaresProblem:
    """Two correlated features: ``X = Z·M`` for uniform ``Z`` from
    :func:`lossbook.data.regression` (seed 3), so ``y = X·PLANE_COEF + noise``."""
    d = datasets.regression(n=50, n_features=2, coef=PLANE_MIX @ np.array(PLANE_COEF),
                            noise=1.0, seed=3)
    return LeastSquaresProblem.from_data(d.X @ PLANE_MIX, d.y)


def _contour_through(problem: LeastSquaresProblem, w, n: int = 181) -> np.ndarray:
    """Points of the cost's level set through ``w``: an ellipse around the minimum."""
    w_hat = problem.ridge(0.0)[0]            # the least-squares minimum
    d = np.asarray(w) - w_hat
    k = float(d @ problem.G @ d)
    L = np.linalg.cholesky(problem.G)
    angles = np.linspace(0.0, 2.0 * np.pi, n)
    circle = np.vstack([np.cos(angles), np.sin(angles)])
    # (w−ŵ)ᵀ G (w−ŵ) = k  with  G = L Lᵀ:  w = ŵ + √k L⁻ᵀ u, |u| = 1
    return (w_hat[:, None] + np.sqrt(k) * np.linalg.solve(L.T, circle)).T


def _diamond(t: float) -> np.ndarray:
    return np.array([[t, 0.0], [0.0, t], [-t, 0.0], [0.0, -t]])


class RegularizationPathsFigure:
    """The built figure and the artists an update changes.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    l1_ax, l2_ax, plane_ax : Axes
    lams : ndarray
        The λ grid of the paths.
    l1_paths, l2_paths : ndarray of shape (len(lams), 6)
        The plotted paths.
    markers : dict
        ``"l1"``/``"l2"``: the vertical line at λ and the dots at the current weights.
    diamond : Polygon; circle : Line2D
        The constraint regions at the current λ.
    solutions, touching : dict of Line2D
        The constrained optima and the cost contour through each (``"l1"``, ``"l2"``).
    """

    def __init__(self, lam: float, dpi: float = style.EXPLORER_DPI):
        from matplotlib.figure import Figure

        self.problem, self.plane = paths_problem(), plane_problem()
        self.lams = np.logspace(*LOG_LAMBDA_RANGE, N_PATH)
        self.l1_paths = self.problem.lasso(self.lams)
        self.l2_paths = self.problem.ridge(self.lams)
        self._plane_l1_paths = self.plane.lasso(self.lams)
        self.plane_ols = self.plane.ridge(0.0)[0]
        self._circle = np.linspace(0.0, 2.0 * np.pi, 121)
        with style.course_style():
            self.figure = Figure(figsize=(10.0, 5.6), dpi=dpi,
                                 layout="constrained")
            axd = self.figure.subplot_mosaic([["l1", "plane"], ["l2", "plane"]],
                                             width_ratios=(1.15, 1.0))
            self.l1_ax, self.l2_ax, self.plane_ax = axd["l1"], axd["l2"], axd["plane"]
            self.markers = {}
            for key, ax, paths in (("l1", self.l1_ax, self.l1_paths),
                                   ("l2", self.l2_ax, self.l2_paths)):
                for j in range(paths.shape[1]):
                    ax.plot(self.lams, paths[:, j], color=style.COLOR_CYCLE[j],
                            linestyle=style.LINESTYLE_CYCLE[j], linewidth=2.0,
                            label=f"w{j + 1} (true {PATH_COEF[j]:g})")
                vline = ax.axvline(lam, color="black", linewidth=1.5, linestyle="-", alpha=0.7)
                (dots,) = ax.plot([lam] * paths.shape[1], paths[0], linestyle="none",
                                  marker="o", markersize=6, color="black", zorder=5)
                self.markers[key] = (vline, dots)
                ax.axhline(0.0, color=style.DATA_COLOR, linewidth=0.8)
                ax.set_xscale("log")
                ax.set_xlim(self.lams[0], self.lams[-1])
                ax.set_ylim(-2.6, 3.6)
            style.label_axes(self.l1_ax, title="L1 (lasso) coefficient paths",
                             xlabel="penalty strength λ", ylabel="weight")
            style.label_axes(self.l2_ax, title="L2 (ridge) coefficient paths",
                             xlabel="penalty strength λ", ylabel="weight")
            self._build_plane()
            # legends outside the axes: blitted artists would be drawn over them
            handles, labels = self.l1_ax.get_legend_handles_labels()
            more, more_labels = self.plane_ax.get_legend_handles_labels()
            self.figure.legend([*handles, *more], [*labels, *more_labels],
                               loc="outside lower center", ncols=6, fontsize=10)
        self.show(lam)

    def _build_plane(self):
        ax, plane, ols = self.plane_ax, self.plane, self.plane_ols
        lo, hi = np.full(2, PLANE_LIMITS[0]), np.full(2, PLANE_LIMITS[1])
        g1, g2 = np.meshgrid(np.linspace(lo[0], hi[0], 120), np.linspace(lo[1], hi[1], 120))
        cost = plane.cost(np.stack([g1, g2], axis=-1))
        levels = plane.cost(ols) + np.array([0.05, 0.2, 0.5, 1.0, 2.0, 3.5, 5.5]) * \
            float(plane.q @ ols)
        ax.contour(g1, g2, cost, levels=levels, colors=style.GRID_COLOR, linewidths=1.2)
        ax.plot([ols[0]], [ols[1]], linestyle="none", marker="*", markersize=14,
                color="black", label="least squares", zorder=6)
        l1, l2 = style.LOSS_STYLES["l1"], style.LOSS_STYLES["l2"]
        # Translucent face, opaque antialiased edge: an edge drawn at the face's alpha looked
        # stair-stepped along the diagonals.
        self.diamond = ax.fill(*_diamond(1.0).T, facecolor=(*mcolors.to_rgb(l1.color), 0.25),
                               edgecolor=l1.color, linestyle=l1.linestyle, linewidth=2.0,
                               antialiased=True, joinstyle="miter", label="L1 diamond")[0]
        (self.circle,) = ax.plot(np.cos(self._circle), np.sin(self._circle),
                                 **l2.line(label="L2 circle", linewidth=2.0))
        self.touching = {
            key: ax.plot([], [], color=s.color, linestyle=":", linewidth=1.5)[0]
            for key, s in (("l1", l1), ("l2", l2))}
        self.solutions = {
            key: ax.plot([], [], **s.points(label=f"{name} solution", markersize=10,
                                            markeredgecolor="black", zorder=7))[0]
            for key, s, name in (("l1", l1, "lasso"), ("l2", l2, "ridge"))}
        ax.axhline(0.0, color=style.DATA_COLOR, linewidth=0.8)
        ax.axvline(0.0, color=style.DATA_COLOR, linewidth=0.8)
        ax.set_xlim(lo[0], hi[0])
        ax.set_ylim(lo[1], hi[1])
        ax.set_aspect("equal", adjustable="box")
        style.label_axes(ax, title="L1 diamond vs L2 circle",
                         xlabel="weight w₁", ylabel="weight w₂")

    def changing_artists(self) -> list:
        """Every artist :meth:`show` changes, in drawing order (for blitting)."""
        return [self.diamond, self.circle, *self.touching.values(),
                *self.solutions.values(), *(a for pair in self.markers.values() for a in pair)]

    def solve(self, lam: float) -> dict:
        """The numbers for penalty strength ``lam``: ``{"l1", "l2"}`` weights of the path
        problem, ``{"plane_l1", "plane_l2"}`` of the two-feature problem and the
        constraint sizes ``t1 = ‖w‖₁`` (lasso) and ``t2 = ‖w‖₂`` (ridge) there."""
        # warm start from the precomputed path at the nearest λ of the grid
        k = int(np.argmin(np.abs(np.log(self.lams) - np.log(lam))))
        p1 = self.plane.lasso(lam, start=self._plane_l1_paths[k])[0]
        p2 = self.plane.ridge(lam)[0]
        return {"lam": float(lam), "l1": self.problem.lasso(lam, start=self.l1_paths[k])[0],
                "l2": self.problem.ridge(lam)[0], "plane_l1": p1, "plane_l2": p2,
                "t1": float(np.abs(p1).sum()), "t2": float(np.sqrt(p2 @ p2))}

    def show(self, solved) -> dict:
        """Put a penalty strength (a number) or a :meth:`solve` result on the artists in
        place; return the :meth:`solve` result."""
        if not isinstance(solved, dict):
            solved = self.solve(solved)
        lam = solved["lam"]
        for key in ("l1", "l2"):
            w = solved[key]
            vline, dots = self.markers[key]
            vline.set_xdata([lam, lam])
            dots.set_data(np.full(w.size, lam), w)
        self.diamond.set_xy(_diamond(solved["t1"]))
        t2 = solved["t2"]
        self.circle.set_data(t2 * np.cos(self._circle), t2 * np.sin(self._circle))
        for key in ("l1", "l2"):
            w = solved[f"plane_{key}"]
            self.solutions[key].set_data([w[0]], [w[1]])
            ring = _contour_through(self.plane, w)
            self.touching[key].set_data(ring[:, 0], ring[:, 1])
        return solved


def build(lam: float = 0.1, dpi: float = style.EXPLORER_DPI) -> RegularizationPathsFigure:
    """Build the regularization figure at penalty strength ``lam > 0``.

    ``dpi``: ``style.EXPLORER_DPI`` for the explorer, ``style.STATIC_DPI`` for a static
    figure in a lesson.
    """
    if not lam > 0:
        raise ValueError(f"regularization_paths.build: lam must be > 0, got {lam!r}; "
                         "the paths are drawn on a log axis")
    return RegularizationPathsFigure(lam, dpi)
