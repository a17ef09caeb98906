"""The class report as one self-contained HTML page, or as Markdown.

The HTML has no script, no external stylesheet, font or image: figures are SVG ``data:``
URIs, so the page opens from disk, requests nothing and prints cleanly (``@media print``).
Every piece of text that came from a submission or a file (learner ids, messages, paths)
is escaped; links to feedback files are relative, percent-encoded paths (never a URL
scheme).
"""
from __future__ import annotations

import datetime
import html
from pathlib import Path

from lossbook.report.aggregate import LOW_DISCRIMINATION, ClassReport, relative_link

#: The "learners who may need help" table lists at most this many (the rest are counted).
MAX_LEARNERS = 200
#: The class-wide "reteach first" list.
TOP_MISCONCEPTIONS = 10

CSS = """
:root { --ink: #1a1a1a; --muted: #4D4D4D; --rule: #D9D9D9; --flag: #D55E00; --ok: #009E73; }
* { box-sizing: border-box; }
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; color: var(--ink);
       max-width: 62rem; margin: 1.5rem auto; padding: 0 1rem; line-height: 1.45; }
h1 { font-size: 1.7rem; margin-bottom: .2rem; } h2 { border-bottom: 2px solid var(--rule); padding-bottom: .2rem;
     margin-top: 2.2rem; } h3 { margin-top: 1.6rem; } h4 { margin: 1.2rem 0 .4rem; }
.meta, .note { color: var(--muted); } .flag { color: var(--flag); font-weight: 600; }
.ok { color: var(--ok); font-weight: 600; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; font-size: .95rem; }
th, td { border-bottom: 1px solid var(--rule); padding: .3rem .5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: .8rem 0 1.2rem; } figure img { max-width: 100%; height: auto; display: block; }
figcaption { color: var(--muted); font-size: .9rem; }
.warnings { border-left: 4px solid var(--flag); padding: .4rem .8rem; background: #fff6f0; }
code { background: #f3f3f3; padding: 0 .2rem; border-radius: 3px; }
nav ul { columns: 2; } a { color: #0072B2; }
@media print {
  body { max-width: none; margin: 0; font-size: 10.5pt; }
  nav { display: none; }
  section.exercise, figure, tr { break-inside: avoid; }
  h2, h3 { break-after: avoid; }
  a { color: inherit; text-decoration: none; }
}
"""


def _pct(value) -> str:
    return "—" if value is None else f"{value:.0%}"


def _num(value, digits: int = 2) -> str:
    return "—" if value is None else f"{value:.{digits}f}"


def _points(value: float) -> str:
    return f"{value:g}"


def where(m) -> tuple[str, str]:
    """(lesson section text, explorer text) of a misconception, plain."""
    from lossbook.report.aggregate import lesson_title

    section = ""
    if m.section_lesson:
        heading = f" › {m.section_heading}" if m.section_heading else ""
        section = f"{lesson_title(m.section_lesson)}{heading} (notebooks/{m.section_lesson}.ipynb)"
    explorer = f"explorers.{m.explorer}()" if m.explorer else ""
    return section, explorer


def _reteach_first(report: ClassReport):
    items = [(m, e) for e in report.exercises for m in e.misconceptions]
    items.sort(key=lambda item: (-item[0].share, -item[0].count, item[1].lesson, item[1].exercise))
    return items[:TOP_MISCONCEPTIONS]


def _anchor(*parts: str) -> str:
    import re

    return "x-" + re.sub(r"[^A-Za-z0-9_-]+", "-", "-".join(parts))


def to_html(report: ClassReport, *, out: Path | None = None, plots: bool = True, title: str | None = None) -> str:
    """The report as HTML; ``out`` (the page's path) makes feedback links relative to it."""
    from lossbook.report import plots as figures

    esc = html.escape
    base = Path(out).resolve().parent if out is not None else Path.cwd()
    name = Path(report.gradebook).name
    title = title or f"Class report: {name}"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    parts = ["<!doctype html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
             '<meta name="viewport" content="width=device-width, initial-scale=1">',
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
             "style-src 'unsafe-inline'\">",
             f"<title>{esc(title)}</title>", f"<style>{CSS}</style>", "</head>", "<body>",
             f"<h1>{esc(title)}</h1>",
             f'<p class="meta">{report.learners} learner(s), {report.rows} learner × lesson row(s), '
             f"{len(report.lessons)} lesson(s) · from <code>{esc(str(report.results))}</code> · built {now}</p>"]

    def figure(plot) -> str:
        return (f'<figure><img src="data:{plot.mime};base64,{plot.data}" alt="{esc(plot.alt)}">'
                f"<figcaption>{esc(plot.title)}</figcaption></figure>")

    if report.warnings:
        parts.append('<div class="warnings"><strong>Check first:</strong><ul>'
                     + "".join(f"<li>{esc(w)}</li>" for w in report.warnings) + "</ul></div>")
    if not report.rows:
        parts.append("<p>The results file has no rows yet: grade some submissions with "
                     "<code>lossbook grade … --out GRADEBOOK.csv</code>, then build the report again.</p>")
        parts.append("</body></html>\n")
        return "\n".join(parts)
    parts.append('<nav aria-label="Contents"><ul><li><a href="#overview">Class overview</a></li>'
                 '<li><a href="#reteach">What to reteach first</a></li>'
                 + "".join(f'<li><a href="#{_anchor(l.lesson)}">{esc(l.title)}</a></li>' for l in report.lessons)
                 + '<li><a href="#items">Item statistics</a></li><li><a href="#help">Learners who may need help</a></li>'
                 "</ul></nav>")

    # -- overview
    parts.append('<section id="overview"><h2>Class overview</h2><table><thead><tr><th>lesson</th>'
                 '<th class="num">submitted</th><th class="num">not submitted</th><th class="num">mean</th>'
                 '<th class="num">median</th><th class="num">timed out</th><th class="num">refused</th>'
                 '<th class="num">not run</th><th>statuses</th></tr></thead><tbody>')
    for l in report.lessons:
        statuses = ", ".join(f"{esc(s)} {n}" for s, n in sorted(l.statuses.items()))
        parts.append(f'<tr><td><a href="#{_anchor(l.lesson)}">{esc(l.title)}</a></td><td class="num">{l.submissions}</td>'
                     f'<td class="num">{l.not_submitted}</td><td class="num">{_pct(l.mean)}</td>'
                     f'<td class="num">{_pct(l.median)}</td><td class="num">{l.timed_out}</td>'
                     f'<td class="num">{l.refused}</td><td class="num">{l.not_run}</td><td>{statuses}</td></tr>')
    parts.append("</tbody></table>")
    parts.append('<p class="note">Not submitted: learners with a row in another lesson but none in this one. '
                 "Refused: rows whose learner id was refused, or in which the sandbox refused something "
                 "(a forbidden import, reading a file…). Not run: rows whose notebook was not run "
                 "(malformed, ambiguous, refused).</p>")
    if plots:
        parts.append(figure(figures.statuses(report.lessons)))
        parts.append(figure(figures.score_distributions(report.lessons)))
    parts.append("</section>")

    # -- reteach first
    parts.append('<section id="reteach"><h2>What to reteach first</h2>')
    top = _reteach_first(report)
    if not top:
        parts.append("<p>No misconception was diagnosed in this class.</p>")
    else:
        parts.append('<table><thead><tr><th>exercise</th><th>misconception</th><th class="num">learners</th>'
                     '<th class="num">share</th><th>what to reteach</th></tr></thead><tbody>')
        for m, e in top:
            parts.append(f'<tr><td><a href="#{_anchor(e.lesson, e.exercise)}"><code>{esc(e.exercise)}</code></a></td>'
                         f"<td>{esc(m.message)}</td><td class=\"num\">{m.count}</td><td class=\"num\">{_pct(m.share)}</td>"
                         f"<td>{esc(m.reteach) or '—'}</td></tr>")
        parts.append("</tbody></table>")
    parts.append("</section>")

    # -- per lesson, per exercise
    for l in report.lessons:
        parts.append(f'<section id="{_anchor(l.lesson)}"><h2>{esc(l.title)} <span class="meta">'
                     f"({esc(l.lesson)})</span></h2>")
        parts.append(f"<p>{l.submissions} submission(s), mean score {_pct(l.mean)}, median {_pct(l.median)}.</p>")
        for e in l.exercises:
            parts.append(f'<section class="exercise" id="{_anchor(e.lesson, e.exercise)}">'
                         f"<h3><code>{esc(e.exercise)}</code> — {esc(e.title)}</h3>")
            stats = (f"difficulty {_num(e.difficulty)}, discrimination {_num(e.discrimination)}"
                     if e.difficulty is not None else "no item statistics")
            parts.append(f"<p><strong>Pass rate {_pct(e.pass_rate)}</strong> ({e.passed} of {e.submissions}); "
                         f"{e.failed} failed, {e.not_attempted} not attempted, {e.not_run} not run; {stats}.</p>")
            if e.flag:
                parts.append(f'<p class="flag">⚑ {esc(e.flag)}</p>')
            if e.misconceptions:
                parts.append('<table><thead><tr><th>misconception (as the learners were told)</th>'
                             '<th class="num">learners</th><th class="num">share of class</th><th>what to reteach</th>'
                             "<th>where it is taught</th></tr></thead><tbody>")
                for m in e.misconceptions:
                    section, explorer = where(m)
                    places = "<br>".join(esc(p) for p in (section, explorer) if p) or "—"
                    parts.append(f"<tr><td>{esc(m.message)} <span class=\"meta\">(<code>{esc(m.id)}</code>)</span></td>"
                                 f'<td class="num">{m.count}</td><td class="num">{_pct(m.share)}</td>'
                                 f"<td>{esc(m.reteach) or '—'}</td><td>{places}</td></tr>")
                parts.append("</tbody></table>")
            if e.undiagnosed:
                parts.append(f'<p class="note">{e.undiagnosed} failed submission(s) without a recognised '
                             "misconception (read their feedback).</p>")
            if plots:
                parts.append(figure(figures.exercise_outcomes(e)))
            parts.append("</section>")
        parts.append("</section>")

    # -- item statistics
    parts.append('<section id="items"><h2>Item statistics</h2>'
                 "<p>Difficulty is an exercise's mean score (0 = nobody scored, 1 = full marks for all); "
                 "discrimination is the point-biserial correlation of its score with the rest of its lesson. "
                 f"Exercises below {LOW_DISCRIMINATION}, or on which everybody scored alike, do not separate "
                 "learners who understood from those who did not.</p>")
    parts.append('<table><thead><tr><th>lesson</th><th>exercise</th><th class="num">n</th>'
                 '<th class="num">difficulty</th><th class="num">discrimination</th><th>flag</th></tr></thead><tbody>')
    for l in report.lessons:
        for e in l.exercises:
            flag = f'<span class="flag">{esc(e.flag)}</span>' if e.flag else (
                '<span class="ok">separates</span>' if e.discrimination is not None else esc(l.statistics_note) or "—")
            parts.append(f"<tr><td>{esc(l.lesson)}</td><td><code>{esc(e.exercise)}</code></td>"
                         f'<td class="num">{e.submissions}</td><td class="num">{_num(e.difficulty)}</td>'
                         f'<td class="num">{_num(e.discrimination)}</td><td>{flag}</td></tr>')
    parts.append("</tbody></table>")
    if plots and any(e.difficulty is not None for e in report.exercises):
        parts.append(figure(figures.item_map(report.exercises, LOW_DISCRIMINATION)))
    parts.append("</section>")

    # -- learners
    parts.append('<section id="help"><h2>Learners who may need help</h2>'
                 "<p>Below half of the points of the lessons they handed in, or with repeated timeouts; lowest "
                 "first.</p>")
    if not report.needs_help:
        parts.append("<p>Nobody: every learner has at least half of the points and no repeated timeouts.</p>")
    else:
        parts.append('<table><thead><tr><th>learner</th><th class="num">score</th><th class="num">lessons</th>'
                     '<th class="num">timeouts</th><th>why</th><th>feedback</th></tr></thead><tbody>')
        for flag in report.needs_help[:MAX_LEARNERS]:
            links = ", ".join(f'<a href="{esc(relative_link(path, base))}">{esc(lesson)}</a>'
                              for lesson, path in flag.feedback) or "—"
            parts.append(f"<tr><td>{esc(flag.learner)}</td><td class=\"num\">{_points(flag.points)} / "
                         f"{_points(flag.max)} ({_pct(flag.share)})</td><td class=\"num\">{flag.lessons}</td>"
                         f'<td class="num">{flag.timeouts}</td><td>{esc("; ".join(flag.why))}</td><td>{links}</td></tr>')
        parts.append("</tbody></table>")
        more = len(report.needs_help) - MAX_LEARNERS
        if more > 0:
            parts.append(f'<p class="note">and {more} more (the Markdown report and the results file list everyone).</p>')
    parts.append("</section>")
    parts.append('<p class="meta">Made by <code>lossbook report</code> from the grader\'s results; the '
                 "misconceptions are the grader's diagnoses of each failed exercise.</p>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _md(text) -> str:
    """Text safe in a Markdown table cell and line: no pipes, no newlines, no HTML, no control characters."""
    from lossbook.grading.safe_text import printable

    text = printable(str(text), keep_newlines=False)
    return (text.replace("\\", "\\\\").replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")
            .replace("[", "\\[").replace("]", "\\]").replace("`", "'"))


def to_markdown(report: ClassReport, *, out: Path | None = None) -> str:
    """The same content as :func:`to_html`, as Markdown (no figures; their numbers are in the tables)."""
    base = Path(out).resolve().parent if out is not None else Path.cwd()
    lines = [f"# Class report: {_md(Path(report.gradebook).name)}", "",
             f"{report.learners} learner(s), {report.rows} learner × lesson row(s), {len(report.lessons)} lesson(s).", ""]
    for w in report.warnings:
        lines.append(f"> **Check first:** {_md(w)}")
    if report.warnings:
        lines.append("")
    if not report.rows:
        lines += ["The results file has no rows yet: grade some submissions with `lossbook grade … --out "
                  "GRADEBOOK.csv`, then build the report again.", ""]
        return "\n".join(lines)
    lines += ["## Class overview", "", "| lesson | submitted | not submitted | mean | median | timed out | refused | not run |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for l in report.lessons:
        lines.append(f"| {_md(l.title)} | {l.submissions} | {l.not_submitted} | {_pct(l.mean)} | {_pct(l.median)} | "
                     f"{l.timed_out} | {l.refused} | {l.not_run} |")
    lines += ["", "## What to reteach first", ""]
    top = _reteach_first(report)
    if not top:
        lines.append("No misconception was diagnosed in this class.")
    else:
        lines += ["| exercise | misconception | learners | share | what to reteach |", "|---|---|---:|---:|---|"]
        for m, e in top:
            lines.append(f"| `{_md(e.exercise)}` | {_md(m.message)} | {m.count} | {_pct(m.share)} | {_md(m.reteach) or '—'} |")
    lines.append("")
    for l in report.lessons:
        lines += [f"## {_md(l.title)} ({_md(l.lesson)})", "",
                  f"{l.submissions} submission(s), mean score {_pct(l.mean)}, median {_pct(l.median)}.", ""]
        for e in l.exercises:
            stats = (f"difficulty {_num(e.difficulty)}, discrimination {_num(e.discrimination)}"
                     if e.difficulty is not None else "no item statistics")
            lines += [f"### `{_md(e.exercise)}` — {_md(e.title)}", "",
                      f"**Pass rate {_pct(e.pass_rate)}** ({e.passed} of {e.submissions}); {e.failed} failed, "
                      f"{e.not_attempted} not attempted, {e.not_run} not run; {stats}.", ""]
            if e.flag:
                lines += [f"⚑ {_md(e.flag)}", ""]
            if e.misconceptions:
                lines += ["| misconception | learners | share | what to reteach | where it is taught |",
                          "|---|---:|---:|---|---|"]
                for m in e.misconceptions:
                    section, explorer = where(m)
                    places = "; ".join(_md(p) for p in (section, explorer) if p) or "—"
                    lines.append(f"| {_md(m.message)} (`{_md(m.id)}`) | {m.count} | {_pct(m.share)} | "
                                 f"{_md(m.reteach) or '—'} | {places} |")
                lines.append("")
            if e.undiagnosed:
                lines += [f"{e.undiagnosed} failed submission(s) without a recognised misconception.", ""]
    lines += ["## Item statistics", "", "| lesson | exercise | n | difficulty | discrimination | flag |",
              "|---|---|---:|---:|---:|---|"]
    for l in report.lessons:
        for e in l.exercises:
            flag = e.flag or ("separates" if e.discrimination is not None else l.statistics_note or "—")
            lines.append(f"| {_md(l.lesson)} | `{_md(e.exercise)}` | {e.submissions} | {_num(e.difficulty)} | "
                         f"{_num(e.discrimination)} | {_md(flag)} |")
    lines += ["", "## Learners who may need help", ""]
    if not report.needs_help:
        lines.append("Nobody: every learner has at least half of the points and no repeated timeouts.")
    else:
        lines += ["| learner | score | lessons | timeouts | why | feedback |", "|---|---:|---:|---:|---|---|"]
        for flag in report.needs_help:
            links = ", ".join(f"[{_md(lesson)}](<{relative_link(path, base)}>)" for lesson, path in flag.feedback) or "—"
            lines.append(f"| {_md(flag.learner)} | {_points(flag.points)} / {_points(flag.max)} ({_pct(flag.share)}) | "
                         f"{flag.lessons} | {flag.timeouts} | {_md('; '.join(flag.why))} | {links} |")
    lines.append("")
    return "\n".join(lines)
