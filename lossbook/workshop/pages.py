"""The dashboard notebooks of workshop mode: one page per lesson, and an index page.

Each lesson page holds three cells: a code cell setting the figure resolution (Voilà
hides code, and it prints nothing), the lesson's title as Markdown with a link back to
the index, and the code cell showing the lesson's explorer. The explorers are the ones in
:data:`lossbook.explorers.FACTORIES`, so a new explorer gets its page automatically.

Larger figures: explorers draw at ``lossbook.figures.style.EXPLORER_DPI`` (80 dpi, sized
for a laptop screen beside the controls). A page sets it to ``dpi`` *before* the first
explorer is imported, which scales every figure's pixels and fonts together (the layout
is unchanged); each Voilà page runs in a fresh kernel, so nothing else is affected.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

__all__ = ["PROJECTOR_DPI", "LessonPage", "lesson_pages", "build_pages", "INDEX"]

#: Figure resolution for a projector (the explorers' default is 80).
PROJECTOR_DPI = 110
#: File name of the index page.
INDEX = "index.ipynb"
_HEADING = re.compile(r"^#\s+(?:Lesson\s+)?(\d\d)\s*[·—:\-–.]+\s*(.+?)\s*$")


@dataclass(frozen=True)
class LessonPage:
    """One lesson's dashboard page."""

    lesson: str       # lesson id, e.g. "02_mse"
    factory: str      # explorer factory in lossbook.explorers, e.g. "mse_line_fit"
    title: str        # e.g. "02 · Mean squared error (MSE)"
    summary: str      # one sentence: what the explorer shows

    @property
    def filename(self) -> str:
        return f"{self.lesson}.ipynb"


def _title_from_notebook(path: Path) -> str | None:
    """``"NN · title"`` from the first Markdown heading of a lesson notebook, if readable."""
    try:
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    except (OSError, ValueError, KeyError):
        return None
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            source = "".join(cell.get("source", []))
            first = source.strip().splitlines()[0] if source.strip() else ""
            match = _HEADING.match(first)
            return f"{match.group(1)} · {match.group(2)}" if match else None
    return None


def _title_from_id(lesson: str) -> str:
    number, _, rest = lesson.partition("_")
    return f"{number} · {rest.replace('_', ' ').capitalize()}"


def lesson_pages(course_root: str | Path | None = None) -> list[LessonPage]:
    """The lesson pages, in lesson order.

    Parameters
    ----------
    course_root : path, optional
        The course folder; titles are read from ``notebooks/<lesson>.ipynb`` there when
        present, else made from the lesson id.

    >>> [p.lesson for p in lesson_pages("/nonexistent")][:2]
    ['00_welcome', '01_loss_vs_cost']
    >>> lesson_pages("/nonexistent")[2].title
    '02 · Mse'
    """
    from lossbook import explorers

    pages = []
    for factory, (_module, lesson) in explorers.FACTORIES.items():
        title = None
        if course_root is not None:
            title = _title_from_notebook(Path(course_root) / "notebooks" / f"{lesson}.ipynb")
        doc = (getattr(explorers, factory).__doc__ or "").strip().splitlines()
        summary = doc[0].split(":", 1)[-1].strip() if doc else ""
        pages.append(LessonPage(lesson, factory, title or _title_from_id(lesson), summary))
    return pages


def _notebook(cells) -> dict:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    nb.cells = cells
    return nb


def _setup_cell(dpi: float):
    import nbformat

    return nbformat.v4.new_code_cell(
        "# Workshop mode: larger figures for a projector (set before any explorer is built).\n"
        "from lossbook.figures import style\n"
        f"style.EXPLORER_DPI = {float(dpi)!r}")


def lesson_notebook(page: LessonPage, dpi: float = PROJECTOR_DPI):
    """The dashboard notebook of one lesson (an ``nbformat`` node)."""
    import nbformat

    return _notebook([
        _setup_cell(dpi),
        nbformat.v4.new_markdown_cell(
            f"# {page.title}\n\n{page.summary}\n\n[← all lessons]({INDEX})"),
        nbformat.v4.new_code_cell(f"from lossbook import explorers\n\nexplorers.{page.factory}()"),
    ])


def index_notebook(pages: list[LessonPage]):
    """The index page: one link per lesson page."""
    import nbformat

    rows = "\n".join(f"| [{p.title}]({p.filename}) | {p.summary} |" for p in pages)
    return _notebook([nbformat.v4.new_markdown_cell(
        "# lossbook: the explorers\n\n"
        "One page per lesson. Each page starts its own Python kernel (a few seconds); "
        "use the arrow keys on a focused slider for steps the room can follow.\n\n"
        "| lesson | what it shows |\n|---|---|\n" + rows)])


def build_pages(out_dir: str | Path, dpi: float = PROJECTOR_DPI,
                course_root: str | Path | None = None) -> list[Path]:
    """Write the index and one page per lesson into ``out_dir``; return the paths written.

    Parameters
    ----------
    out_dir : path
        Created if missing; existing files of the same names are replaced.
    dpi : float
        Figure resolution of the explorers (``> 0``; 80 is the course default).
    course_root : path, optional
        Where to read the lessons' titles from (see :func:`lesson_pages`).
    """
    import nbformat

    if not isinstance(dpi, (int, float)) or isinstance(dpi, bool) or not 20 <= dpi <= 400:
        raise ValueError(f"dpi must be a number between 20 and 400 (the explorers use 80, "
                         f"a projector {PROJECTOR_DPI}), got {dpi!r}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    pages = lesson_pages(course_root)
    written = [out / INDEX]
    nbformat.write(index_notebook(pages), out / INDEX)
    for page in pages:
        nbformat.write(lesson_notebook(page, dpi), out / page.filename)
        written.append(out / page.filename)
    return written
