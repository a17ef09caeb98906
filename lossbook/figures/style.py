"""The course's one visual style: Okabe–Ito colours, line styles, markers, font sizes.

Every figure in the course takes its colours from here, so a colour means the same thing
in every lesson (MSE is always blue and solid, MAE orange and dashed, ...), and colour is
never the only cue: each loss also has its own line style and marker.

The Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2002) stays distinguishable
under the common colour-vision deficiencies. Sizes are chosen so that text stays legible
on a 1280×720 screen and on a projector at the modest DPI the explorers use.

Build figures without pyplot's global state::

    from lossbook.figures import style

    fig, ax = style.new_figure(figsize=(6, 4))
    ax.plot(x, y, **style.LOSS_STYLES["mse"].line())
    style.label_axes(ax, title="Squared error", xlabel="residual r", ylabel="loss")

>>> from lossbook.figures import style
>>> style.OKABE_ITO["blue"]
'#0072B2'
>>> style.LOSS_STYLES["huber"].color == style.OKABE_ITO["bluish_green"]
True
"""
from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

#: The eight Okabe–Ito colours by name.
OKABE_ITO: dict[str, str] = {
    "black": "#000000",
    "orange": "#E69F00",
    "sky_blue": "#56B4E9",
    "bluish_green": "#009E73",
    "yellow": "#F0E442",
    "blue": "#0072B2",
    "vermillion": "#D55E00",
    "reddish_purple": "#CC79A7",
}

#: Default colour order (yellow last: it is faint on white, use it for fills only).
COLOR_CYCLE: tuple[str, ...] = tuple(
    OKABE_ITO[name]
    for name in ("blue", "orange", "bluish_green", "vermillion",
                 "reddish_purple", "sky_blue", "black", "yellow")
)
#: Line styles paired with COLOR_CYCLE so lines differ by more than colour.
LINESTYLE_CYCLE: tuple = ("-", "--", "-.", ":", (0, (5, 1, 1, 1)), (0, (1, 1)), "-", "--")
#: Markers paired with COLOR_CYCLE.
MARKER_CYCLE: tuple[str, ...] = ("o", "s", "^", "D", "v", "P", "X", "*")

#: Neutral colours for data points, grids and reference lines.
DATA_COLOR = "#4D4D4D"
GRID_COLOR = "#D9D9D9"
HIGHLIGHT = OKABE_ITO["vermillion"]

#: Font sizes in points (the explorers render at DPI, so 13 pt ≈ 14 px).
FONT_SIZE = 13
TITLE_SIZE = 15
LABEL_SIZE = 14
TICK_SIZE = 12
LEGEND_SIZE = 12
#: Figure resolution used by explorers: modest, so each redraw stays fast.
EXPLORER_DPI = 80
#: Figure resolution for static figures in lessons.
STATIC_DPI = 100


@dataclass(frozen=True)
class LineStyle:
    """Colour, line style and marker of one named quantity (a loss, a fit, a penalty)."""

    color: str
    linestyle: object
    marker: str
    label: str

    def line(self, **overrides) -> dict:
        """Keyword arguments for ``Axes.plot`` (no marker: for smooth curves)."""
        return {"color": self.color, "linestyle": self.linestyle,
                "label": self.label, "linewidth": 2.5, **overrides}

    def points(self, **overrides) -> dict:
        """Keyword arguments for ``Axes.plot`` drawing markers only."""
        return {"color": self.color, "linestyle": "none", "marker": self.marker,
                "markersize": 8, "label": self.label, **overrides}

    def marked_line(self, **overrides) -> dict:
        """Keyword arguments for ``Axes.plot`` drawing a line with markers."""
        return {**self.line(), "marker": self.marker, "markersize": 7, **overrides}


def _style(color: str, linestyle, marker: str, label: str) -> LineStyle:
    return LineStyle(OKABE_ITO[color], linestyle, marker, label)


#: The same quantity looks the same in every lesson.
LOSS_STYLES: dict[str, LineStyle] = {
    "mse": _style("blue", "-", "o", "MSE (squared)"),
    "mae": _style("orange", "--", "s", "MAE (absolute)"),
    "huber": _style("bluish_green", "-.", "^", "Huber"),
    "log_cosh": _style("reddish_purple", ":", "D", "log-cosh"),
    "quantile": _style("sky_blue", (0, (5, 1, 1, 1)), "v", "quantile (pinball)"),
    "barron": _style("vermillion", "-", "P", "Barron"),
    "cross_entropy": _style("blue", "-", "o", "cross-entropy"),
    "naive": _style("vermillion", "--", "X", "naive"),
    "stable": _style("blue", "-", "o", "stable"),
    "zero_one": _style("black", ":", "s", "0-1"),
    "hinge": _style("orange", "-", "^", "hinge"),
    "squared_hinge": _style("reddish_purple", "--", "D", "squared hinge"),
    "logistic": _style("blue", "-.", "o", "logistic"),
    "l1": _style("orange", "--", "s", "L1 (lasso)"),
    "l2": _style("blue", "-", "o", "L2 (ridge)"),
    "elastic_net": _style("bluish_green", "-.", "^", "elastic net"),
}

#: Classes in classification plots: colour *and* marker differ.
CLASS_STYLES: tuple[LineStyle, ...] = (
    _style("blue", "none", "o", "class 0"),
    _style("orange", "none", "s", "class 1"),
    _style("bluish_green", "none", "^", "class 2"),
)

#: Matplotlib settings applied while a course figure is built.
RC_PARAMS: dict[str, object] = {
    "font.size": FONT_SIZE,
    "axes.titlesize": TITLE_SIZE,
    "axes.labelsize": LABEL_SIZE,
    "xtick.labelsize": TICK_SIZE,
    "ytick.labelsize": TICK_SIZE,
    "legend.fontsize": LEGEND_SIZE,
    "figure.titlesize": TITLE_SIZE + 1,
    "axes.grid": True,
    "grid.color": GRID_COLOR,
    "grid.linewidth": 0.8,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 1.0,
    "lines.linewidth": 2.5,
    "legend.frameon": True,
    "legend.framealpha": 0.9,
    "figure.facecolor": "white",
    "axes.facecolor": "white",
    "savefig.facecolor": "white",
}


@contextmanager
def course_style():
    """Context in which new artists pick up the course's fonts, grid and colour cycle.

    Matplotlib reads most of these settings when an artist is created, so build the
    whole figure inside the ``with`` block; nothing global changes after it.
    """
    import matplotlib as mpl
    from cycler import cycler

    params = dict(RC_PARAMS)
    params["axes.prop_cycle"] = (cycler(color=list(COLOR_CYCLE))
                                 + cycler(linestyle=list(LINESTYLE_CYCLE)))
    with mpl.rc_context(params):
        yield


def new_figure(figsize=(9.0, 4.5), dpi: float = STATIC_DPI, **subplots_kw):
    """Return ``(figure, axes)`` for a course figure, built without pyplot.

    Parameters
    ----------
    figsize : (float, float)
        Width and height in inches. At ``EXPLORER_DPI`` the default is 720×360 pixels,
        which leaves room for the controls beside it on a 1280×720 screen.
    dpi : float
        Resolution in dots per inch.
    **subplots_kw
        Passed to ``Figure.subplots`` (``nrows``, ``ncols``, ``width_ratios``, ...).

    Returns
    -------
    figure : matplotlib.figure.Figure
        A figure with no pyplot manager (nothing is registered globally).
    axes : Axes or array of Axes
        As ``Figure.subplots`` returns them.

    The axes are created inside :func:`course_style`; create further artists inside
    ``with course_style():`` as well so they get the course's sizes.
    """
    from matplotlib.figure import Figure

    with course_style():
        figure = Figure(figsize=figsize, dpi=dpi, layout="constrained")
        axes = figure.subplots(**subplots_kw)
    return figure, axes


def label_axes(ax, *, title: str, xlabel: str, ylabel: str) -> None:
    """Set an axes' title and both axis labels (every course figure needs all three)."""
    for name, value in (("title", title), ("xlabel", xlabel), ("ylabel", ylabel)):
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"label_axes: {name} must be a non-empty string, got {value!r}; "
                             "every course figure needs a title and labelled axes.")
    with course_style():  # title size is read from rcParams when the title is set
        ax.set_title(title)
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
