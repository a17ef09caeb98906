"""The class report: what the class got wrong, from the grader's diagnoses (``lossbook report``).

:func:`build` reads the results file beside a gradebook
(:mod:`lossbook.grading.results`) in one pass (:mod:`lossbook.report.aggregate`) and
renders it as one self-contained HTML page or as Markdown (:mod:`lossbook.report.render`),
with figures drawn by matplotlib in the course's palette (:mod:`lossbook.report.plots`,
imported only when a figure is drawn).
"""
from __future__ import annotations

from pathlib import Path

from lossbook.report.aggregate import ClassReport, aggregate


def build(gradebook, *, fmt: str = "html", out=None, feedback=None, results=None, plots: bool = True) -> str:
    """The report of ``gradebook`` as ``fmt`` ("html" or "md") text.

    ``out`` is where the page will be written (feedback links are made relative to it);
    ``feedback`` the folder ``lossbook grade --feedback`` wrote.
    """
    from lossbook.report.render import to_html, to_markdown

    if fmt not in ("html", "md"):
        raise ValueError(f"format {fmt!r}: use html or md")
    report = aggregate(gradebook, feedback=feedback, results=results)
    if fmt == "md":
        return to_markdown(report, out=Path(out) if out else None)
    return to_html(report, out=Path(out) if out else None, plots=plots)


__all__ = ["ClassReport", "aggregate", "build"]
