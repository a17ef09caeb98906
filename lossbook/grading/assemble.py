"""The grading notebook: the instructor's solution notebook with the learner's answers in it.

Only the learner's **answer cells** (code cells whose metadata is ``{"role": "answer",
"exercise": id}``) are taken from a submission; they replace the solution's answer cell
of the same exercise, in the solution's order. Every other cell — imports, check cells,
hidden-test cells and their stored (expected) outputs — comes from the instructor's copy,
whatever the submission holds: edited, deleted, moved or re-tagged check and hidden
cells change nothing. A learner with two answer cells for one exercise gets both run, in
their order.

Examples
--------
>>> import nbformat
>>> from lossbook.notebook_roles import set_role
>>> def code(src, role=None, ex=None, **extra):
...     cell = nbformat.v4.new_code_cell(src)
...     if role: set_role(cell, role, ex, **extra)
...     return cell
>>> sol = nbformat.v4.new_notebook(metadata={"lossbook": {"lesson": "02_mse"}})
>>> sol.cells = [code("import numpy as np"), code("def mse(t, p): return 1.0", "answer", "mse"),
...              code("show(mse(1, 2))", "hidden-tests", "mse", points=2)]
>>> sub = nbformat.v4.new_notebook(metadata={"lossbook": {"lesson": "02_mse"}})
>>> sub.cells = [code("def mse(t, p): return 0.0", "answer", "mse"), code("print('hi')", "hidden-tests", "mse")]
>>> g = assemble(Solution.from_notebook(sol), sub)
>>> [(c.role, c.source, c.from_learner) for c in g.cells]
[(None, 'import numpy as np', False), ('answer', 'def mse(t, p): return 0.0', True), ('hidden-tests', 'show(mse(1, 2))', False)]
>>> g.max_points
{'mse': 2}
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lossbook import notebook_roles as roles
from lossbook.status import RowStatus

#: Submissions larger than this are not graded (a clear status instead).
MAX_SUBMISSION_BYTES = 20_000_000
#: One answer cell's source larger than this is not run.
MAX_ANSWER_CHARS = 200_000


class SubmissionError(ValueError):
    """A submission that cannot be graded; ``status`` (a :class:`RowStatus`) goes in the gradebook."""

    def __init__(self, status: RowStatus, message: str):
        self.status = RowStatus(status)
        super().__init__(message)


@dataclass
class PlanCell:
    """One code cell of the grading notebook."""

    source: str
    role: str | None
    exercise: str | None
    points: float = 0
    expected: list = field(default_factory=list)
    from_learner: bool = False
    attempted: bool = True
    number: int = 0  # 1-based number among the exercise's hidden tests


@dataclass
class Solution:
    """One lesson's solution notebook, as the grader uses it."""

    lesson: str
    notebook: Any
    digest: str
    path: Path | None = None

    @classmethod
    def from_notebook(cls, nb, path: Path | None = None, text: str | None = None) -> "Solution":
        import nbformat

        text = text if text is not None else nbformat.writes(nb)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
        return cls(roles.lesson_of(nb) or "", nb, digest, path)

    @property
    def exercises(self) -> dict[str, float]:
        """Exercise id → total points of its hidden tests, in notebook order."""
        points: dict[str, float] = {}
        for exercise, cells in roles.exercise_cells(self.notebook).items():
            total = sum(roles.points_of(self.notebook.cells[i]) or 0 for i in cells.hidden_tests)
            points[exercise] = total
        return points


@dataclass
class GradingNotebook:
    lesson: str
    cells: list[PlanCell]
    max_points: dict[str, float]
    missing: list[str]


def load_solutions(folder: Path) -> dict[str, Solution]:
    """Every ``*.ipynb`` in ``folder`` with hidden tests, by lesson id."""
    import nbformat

    found = {}
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"solutions folder {str(folder)!r} does not exist; pass --solutions FOLDER")
    for path in sorted(folder.glob("*.ipynb")):
        text = path.read_text(encoding="utf-8")
        nb = nbformat.reads(text, as_version=4)
        solution = Solution.from_notebook(nb, path, text)
        if solution.lesson and roles.cells_with_role(nb, roles.HIDDEN_TESTS):
            found[solution.lesson] = solution
    if not found:
        raise FileNotFoundError(f"no solution notebooks with hidden tests in {str(folder)!r}")
    return found


def read_submission(path: Path):
    """The submission as a notebook node; raises :class:`SubmissionError` with a status."""
    return load_submission(path)[0]


def _check_cells(cells: list) -> None:
    """Every cell is a mapping with a string type, a mapping as metadata and text as source."""
    for number, cell in enumerate(cells, 1):
        if not isinstance(cell, dict):
            raise SubmissionError(RowStatus.NOT_A_NOTEBOOK, f"cell {number} is a {type(cell).__name__}, not a cell")
        if not isinstance(cell.get("cell_type", "code"), str):
            raise SubmissionError(RowStatus.NOT_A_NOTEBOOK, f"cell {number}: cell_type is not text")
        if not isinstance(cell.get("metadata", {}), dict):
            raise SubmissionError(RowStatus.NOT_A_NOTEBOOK, f"cell {number}: its metadata is a "
                                  f"{type(cell.get('metadata')).__name__}, not a mapping")
        source = cell.get("source", "")
        if not isinstance(source, str) and not (isinstance(source, list)
                                                and all(isinstance(line, str) for line in source)):
            raise SubmissionError(RowStatus.NOT_A_NOTEBOOK, f"cell {number}: its source is not text")
        outputs = cell.get("outputs", [])
        if not isinstance(outputs, list) or not all(isinstance(o, dict) for o in outputs):
            raise SubmissionError(RowStatus.NOT_A_NOTEBOOK, f"cell {number}: its outputs are not a list of outputs")


def load_submission(path: Path):
    """``(notebook node, content hash)``; raises :class:`SubmissionError` with a status.

    The content hash is the first 16 hex digits of the file's SHA-256 (the gradebook's
    ``content_hash``).
    """
    import nbformat

    path = Path(path)
    if path.is_symlink() or path.parent.is_symlink():
        # A link could point at anything the grader can read, solutions/ included.
        raise SubmissionError(RowStatus.NOT_A_REGULAR_FILE, "the submission is a symbolic link (or inside one); "
                              "copy the notebook itself into the submissions folder")
    try:
        size = path.stat().st_size
        if not path.is_file():
            raise SubmissionError(RowStatus.NOT_A_REGULAR_FILE, "not a regular file")
        if size > MAX_SUBMISSION_BYTES:
            raise SubmissionError(RowStatus.TOO_LARGE, f"the file is {size / 1e6:.1f} MB; notebooks over "
                                  f"{MAX_SUBMISSION_BYTES / 1e6:.0f} MB are not graded (clear the outputs)")
        raw = path.read_bytes()
    except OSError as error:
        raise SubmissionError(RowStatus.UNREADABLE, f"cannot read the file: {error.strerror}") from None
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise SubmissionError(RowStatus.NOT_A_NOTEBOOK, f"not notebook JSON ({type(error).__name__}: "
                              f"{str(error)[:120]})") from None
    if not isinstance(data, dict) or not isinstance(data.get("cells"), list):
        raise SubmissionError(RowStatus.NOT_A_NOTEBOOK, "valid JSON but not a notebook (no list of cells)")
    if data.get("nbformat") != 4:
        raise SubmissionError(RowStatus.WRONG_NBFORMAT, f"nbformat {str(data.get('nbformat'))[:20]!r}; only version 4 "
                              "notebooks (JupyterLab, Notebook 5+) are graded")
    if not isinstance(data.get("metadata", {}), dict):
        raise SubmissionError(RowStatus.NOT_A_NOTEBOOK, "the notebook's metadata is not a mapping")
    _check_cells(data["cells"])
    digest = hashlib.sha256(raw).hexdigest()[:16]
    try:
        return nbformat.from_dict(data), digest
    except Exception as error:  # noqa: BLE001 - nbformat raises several types
        raise SubmissionError(RowStatus.NOT_A_NOTEBOOK, f"not a readable notebook ({str(error)[:200]})") from None


def file_digest(path: Path) -> str:
    """The gradebook's ``content_hash`` of a file (``""`` when it cannot be read safely)."""
    path = Path(path)
    try:
        if path.is_symlink() or not path.is_file() or path.stat().st_size > MAX_SUBMISSION_BYTES:
            return ""
        return hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    except OSError:
        return ""


#: What JupyterLab, browsers and file managers append to a copy's name: ``-Copy1``,
#: `` (2)``, ``_copy``, ``-checkpoint``.
_COPY_SUFFIX = re.compile(r"(?:[-_ ]?[Cc]opy\d*|\s*\(\d+\)|-checkpoint)+$")


def lesson_by_name(stem: str, lessons) -> tuple[str | None, bool]:
    """``(lesson, exact)`` the file name ``stem`` stands for: exactly, or as a copy's name.

    >>> lesson_by_name("03_mae_huber-Copy1", {"03_mae_huber"}), lesson_by_name("03_mae_huber", {"03_mae_huber"})
    (('03_mae_huber', False), ('03_mae_huber', True))
    >>> lesson_by_name("zoe", {"03_mae_huber"})
    (None, False)
    """
    if stem in lessons:
        return stem, True
    base = _COPY_SUFFIX.sub("", stem)
    return (base, False) if base != stem and base in lessons else (None, False)


def lesson_of_submission(nb, path: Path, lessons) -> str:
    """The submission's lesson: its metadata, else its file name (a copy's name counts).

    A metadata lesson that contradicts the file name is ``wrong-lesson``; no lesson at all
    (or one without a solution notebook) is ``unknown-lesson``.
    """
    name = Path(path).name
    named = roles.lesson_of(nb) if isinstance(nb.get("metadata"), dict) else None
    by_name, _ = lesson_by_name(Path(path).stem, lessons)
    if named is not None and named not in lessons:
        raise SubmissionError(RowStatus.UNKNOWN_LESSON, f"the notebook says it is lesson {named[:80]!r}, which has no "
                              f"solution notebook (known: {', '.join(sorted(lessons))})")
    if named and by_name and named != by_name:
        raise SubmissionError(RowStatus.WRONG_LESSON, f"the file is named {name} but the notebook is "
                              f"lesson {named!r}: hand in the {by_name} notebook under its own name")
    lesson = named or by_name
    if lesson is None:
        raise SubmissionError(RowStatus.UNKNOWN_LESSON, "no lesson in the notebook metadata and the file name "
                              f"{name!r} is not a lesson; name it <lesson>.ipynb, e.g. "
                              f"{sorted(lessons)[0]}.ipynb")
    return lesson


_NOT_IMPLEMENTED = re.compile(r"^\s*raise\s+NotImplementedError\b", re.MULTILINE)


def _attempted(source: str) -> bool:
    """False for untouched starter code (its body ends in ``raise NotImplementedError``)."""
    return not _NOT_IMPLEMENTED.search(source)


def _learner_answers(submission) -> dict[str, list[str]]:
    answers: dict[str, list[str]] = {}
    for cell in submission.get("cells", []):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        if roles.role_of(cell) == roles.ANSWER and roles.exercise_of(cell):
            source = roles.source_of(cell)
            if isinstance(source, str):
                answers.setdefault(roles.exercise_of(cell), []).append(source)
    return answers


def guard_source(function: str, names) -> str:
    """The grader's cell that wraps the learner's ``function`` before its hidden tests run."""
    return (f"__import__('lossbook.forbidden').forbidden.guard_namespace(globals(), {function!r}, "
            f"{tuple(names)!r})")


def assemble(solution: Solution, submission, forbidden: dict | None = None) -> GradingNotebook:
    """The cells to run for ``submission`` (a notebook node), built on ``solution``.

    ``forbidden`` maps an exercise id to ``(function name, dotted names)``: before the
    exercise's first hidden test, a grader cell wraps the learner's function so that a
    call into those implementations (or the course's modules) fails that test with the
    reason ``check`` gives (:mod:`lossbook.exercises.forbidden`).
    """
    answers = _learner_answers(submission)
    cells: list[PlanCell] = []
    missing: list[str] = []
    numbers: dict[str, int] = {}
    forbidden = forbidden or {}
    for cell in solution.notebook.cells:
        if cell.cell_type != "code":
            continue
        role, exercise = roles.role_of(cell), roles.exercise_of(cell)
        if role == roles.ANSWER:
            sources = answers.get(exercise)
            if not sources:
                missing.append(exercise)
                continue
            for source in sources:
                if len(source) > MAX_ANSWER_CHARS:
                    source = f"raise ValueError('answer cell too long ({len(source)} characters); not run')"
                cells.append(PlanCell(source, role, exercise, from_learner=True, attempted=_attempted(source)))
        elif role == roles.HIDDEN_TESTS:
            numbers[exercise] = numbers.get(exercise, 0) + 1
            if numbers[exercise] == 1 and exercise in forbidden:
                function, names = forbidden[exercise]
                cells.append(PlanCell(guard_source(function, names), None, exercise))
            cells.append(PlanCell(roles.source_of(cell), role, exercise, roles.points_of(cell) or 0,
                                  list(cell.get("outputs", [])), number=numbers[exercise]))
        else:
            cells.append(PlanCell(roles.source_of(cell), role, exercise))
    return GradingNotebook(solution.lesson, cells, solution.exercises, missing)
