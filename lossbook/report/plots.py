"""The class report's figures: matplotlib (Agg, no pyplot), the course's palette, alt text.

Each function returns a :class:`Plot`: the figure as SVG (text kept as text, so it is
small, sharp in print and quick to write), base64-encoded for a ``data:`` URI, so the page
requests nothing, and its alt text, which says in words what the figure shows. matplotlib
is imported here only, when a figure is drawn.
"""
from __future__ import annotations

import base64
import io
from dataclasses import dataclass

from lossbook.figures import style

DPI = 80
PASSED = style.OKABE_ITO["bluish_green"]
MISCONCEPTION = style.OKABE_ITO["vermillion"]
OTHER = style.OKABE_ITO["orange"]
NOT_ATTEMPTED = style.OKABE_ITO["sky_blue"]
NEUTRAL = style.DATA_COLOR
#: At most this many misconception bars per exercise (the rest are summed into one bar).
MAX_BARS = 6


@dataclass
class Plot:
    data: str  # base64
    alt: str
    title: str
    mime: str = "image/svg+xml"


def _figure(width: float, height: float, *, margins: tuple[float, float, float, float] | None = None):
    """A figure; ``margins`` (left, right, top, bottom, in inches) fix the layout instead of
    matplotlib's constrained layout, which draws every figure twice (the report draws up to
    one figure per exercise, so this halves its time)."""
    from matplotlib.figure import Figure

    if margins is None:
        return Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    fig = Figure(figsize=(width, height), dpi=DPI)
    left, right, top, bottom = margins
    fig.subplots_adjust(left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height)
    return fig


def _svg(fig) -> str:
    """The figure as base64 SVG, fonts as text (matplotlib's PNG took about twice as long)."""
    import matplotlib
    from matplotlib.backends.backend_svg import FigureCanvasSVG

    FigureCanvasSVG(fig)
    buffer = io.BytesIO()
    with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "lossbook-report"}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    return base64.b64encode(buffer.getvalue()).decode("ascii")


def _rc():
    import matplotlib

    return matplotlib.rc_context({**style.RC_PARAMS, "font.size": 11, "axes.titlesize": 12,
                                  "axes.labelsize": 11, "xtick.labelsize": 10, "ytick.labelsize": 10,
                                  "legend.fontsize": 10})


def _short(text: str, n: int = 46) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def exercise_outcomes(summary) -> Plot:
    """Horizontal bars: share of the lesson's submissions that passed, showed each misconception,
    failed otherwise, or did not attempt the exercise."""
    n = max(summary.submissions, 1)
    bars = [("passed", summary.passed, PASSED, "")]
    shown = summary.misconceptions[:MAX_BARS]
    for m in shown:
        bars.append((f"{m.id}: {m.message}", m.count, MISCONCEPTION, "//"))
    rest = sum(m.count for m in summary.misconceptions[MAX_BARS:])
    if rest:
        bars.append(("other misconceptions", rest, MISCONCEPTION, "//"))
    if summary.undiagnosed:
        bars.append(("failed, not diagnosed", summary.undiagnosed, OTHER, ".."))
    if summary.not_attempted:
        bars.append(("not attempted", summary.not_attempted, NOT_ATTEMPTED, "\\\\"))
    if summary.not_run:
        bars.append(("not run (row status)", summary.not_run, NEUTRAL, "xx"))
    title = f"{summary.exercise}: outcomes of {summary.submissions} submission(s)"
    with _rc():
        fig = _figure(8.0, 0.42 * len(bars) + 1.1, margins=(4.2, 0.25, 0.35, 0.6))
        ax = fig.add_subplot()
        labels = [b[0] for b in bars][::-1]
        shares = [b[1] / n for b in bars][::-1]
        ax.barh(range(len(bars)), shares, color=[b[2] for b in bars][::-1], edgecolor="white")
        # The count and share go into the bar's label: one text per bar keeps the figure quick to draw.
        counts = [b[1] for b in bars][::-1]
        ax.set_yticks(range(len(bars)), [f"{_short(lbl, 40)}  {count} ({share:.0%})"
                                         for lbl, count, share in zip(labels, counts, shares)])
        ax.set_xlim(0, 1.0)
        ax.set_xticks([0, 0.5, 1.0], ["0%", "50%", "100%"])
        ax.set_xlabel("share of the lesson's submissions")
        ax.set_title(title, loc="left", x=-4.0 / 3.55)
        ax.grid(False)
        data = _svg(fig)
    words = "; ".join(f"{label} {count} of {summary.submissions} ({count / n:.0%})" for label, count, _, _ in bars)
    return Plot(data, f"Bar chart, {title}: {words}.", title)


def score_distributions(lessons) -> Plot:
    """One box plot per lesson of the submissions' scores (share of the lesson's points)."""
    data = [l.scores or [0.0] for l in lessons]
    title = "Scores per lesson (share of the lesson's points)"
    with _rc():
        fig = _figure(7.5, 0.5 * len(lessons) + 1.5, margins=(1.9, 0.2, 0.4, 0.65))
        ax = fig.add_subplot()
        ax.boxplot(data[::-1], orientation="horizontal", widths=0.6, patch_artist=True,
                   boxprops={"facecolor": style.OKABE_ITO["sky_blue"], "edgecolor": NEUTRAL},
                   medianprops={"color": style.OKABE_ITO["black"], "linewidth": 2},
                   whiskerprops={"color": NEUTRAL}, capprops={"color": NEUTRAL},
                   flierprops={"markeredgecolor": NEUTRAL, "markersize": 4})
        means = [sum(d) / len(d) for d in data[::-1]]
        ax.plot(means, range(1, len(data) + 1), linestyle="none", marker="D", color=style.OKABE_ITO["vermillion"],
                label="mean")
        ax.set_yticks(range(1, len(data) + 1), [l.lesson for l in lessons][::-1])
        ax.set_xlim(-0.02, 1.02)
        ax.set_xticks([0, 0.25, 0.5, 0.75, 1.0], ["0%", "25%", "50%", "75%", "100%"])
        ax.set_xlabel("score (share of the lesson's points)")
        ax.set_title(title)
        ax.legend(loc="lower right")
        data = _svg(fig)
    words = "; ".join(f"{l.lesson}: {len(l.scores)} scores, median {l.median or 0:.0%}, mean {l.mean or 0:.0%}"
                      for l in lessons)
    return Plot(data, f"Box plots, {title}: {words}.", title)


#: The stacked bars of :func:`statuses` whose notebook ran: (label, row statuses, colour, hatch).
STATUS_GROUPS = (("graded", ("graded",), PASSED, ""), ("kernel died", ("kernel-died",), OTHER, ".."),
                 ("timed out", ("timed-out",), MISCONCEPTION, "//"))


def statuses(lessons) -> Plot:
    """Stacked bars per lesson: graded, kernel died, timed out, refused/other not run, not submitted."""
    groups = STATUS_GROUPS
    title = "Submissions per lesson by status"
    with _rc():
        fig = _figure(7.5, 0.5 * len(lessons) + 1.8, margins=(1.9, 0.2, 0.4, 1.15))
        ax = fig.add_subplot()
        ys = range(len(lessons))
        left = [0] * len(lessons)
        rows = lessons[::-1]
        for label, names, colour, hatch in groups:
            counts = [sum(l.statuses.get(s, 0) for s in names) for l in rows]
            ax.barh(ys, counts, left=left, color=colour, hatch=hatch, edgecolor="white", label=label)
            left = [a + b for a, b in zip(left, counts)]
        other = [l.not_run for l in rows]
        ax.barh(ys, other, left=left, color=NEUTRAL, hatch="xx", edgecolor="white", label="not run (refused, malformed…)")
        left = [a + b for a, b in zip(left, other)]
        missing = [l.not_submitted for l in rows]
        ax.barh(ys, missing, left=left, color="white", edgecolor=NEUTRAL, label="not submitted")
        ax.set_yticks(list(ys), [l.lesson for l in rows])
        ax.set_xlabel("learners")
        ax.set_title(title)
        fig.legend(loc="lower center", ncols=3, frameon=False, fontsize=9)
        data = _svg(fig)
    words = "; ".join(f"{l.lesson}: {l.submissions} submitted ({l.statuses.get('graded', 0)} graded, "
                      f"{l.statuses.get('kernel-died', 0)} kernel died, {l.statuses.get('timed-out', 0)} timed out, "
                      f"{l.not_run} not run), {l.not_submitted} not submitted"
                      for l in lessons)
    return Plot(data, f"Stacked bar chart, {title}: {words}.", title)


def item_map(exercises, low: float) -> Plot:
    """Difficulty (x) against discrimination (y) of every exercise with statistics."""
    points = [e for e in exercises if e.difficulty is not None]
    title = "Item statistics: difficulty and discrimination"
    with _rc():
        fig = _figure(7.5, 4.2, margins=(0.8, 0.2, 0.4, 0.6))
        ax = fig.add_subplot()
        ok = [e for e in points if not e.flag]
        flagged = [e for e in points if e.flag]
        ax.axhline(low, color=NEUTRAL, linestyle="--", linewidth=1.2, label=f"discrimination {low}")
        ax.plot([e.difficulty for e in ok], [e.discrimination for e in ok], linestyle="none", marker="o",
                color=style.OKABE_ITO["blue"], markersize=8, label="separates learners")
        ax.plot([e.difficulty for e in flagged], [e.discrimination if e.discrimination is not None else 0.0
                                                   for e in flagged],
                linestyle="none", marker="X", color=MISCONCEPTION, markersize=10, label="flagged")
        for e in flagged[:12]:  # name the flagged ones (the table lists every exercise)
            ax.annotate(e.exercise, (e.difficulty, e.discrimination if e.discrimination is not None else 0.0),
                        textcoords="offset points", xytext=(5, 4), fontsize=9)
        ax.set_xlim(-0.05, 1.1)
        ax.set_ylim(-1.05, 1.05)
        ax.set_xlabel("difficulty (mean score; 1 = everyone full marks)")
        ax.set_ylabel("discrimination (point-biserial)")
        ax.set_title(title)
        ax.legend(loc="lower left", fontsize=9)
        data = _svg(fig)
    words = "; ".join(f"{e.exercise}: difficulty {e.difficulty:.2f}, discrimination "
                      f"{'undefined' if e.discrimination is None else f'{e.discrimination:.2f}'}"
                      f"{' (flagged)' if e.flag else ''}" for e in points) or "no exercise has statistics"
    return Plot(data, f"Scatter plot, {title}: {words}.", title)
