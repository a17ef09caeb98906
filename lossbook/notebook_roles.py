"""Roles of cells in the course's exercise notebooks: reading and writing them.

A solution notebook (``solutions/<lesson>.ipynb``) says which lesson it belongs to in its
notebook metadata and what each graded cell is for in the cell metadata::

    notebook.metadata.lossbook = {"lesson": "02_mse"}
    cell.metadata.lossbook = {"role": "answer", "exercise": "mse"}          # optional "starter"
    cell.metadata.lossbook = {"role": "check", "exercise": "mse"}           # tagged nbval-check-output
    cell.metadata.lossbook = {"role": "hidden-tests", "exercise": "mse", "points": 2}

Cells without a ``lossbook`` role (Markdown, imports, scratch code) are plain cells.
:mod:`lossbook.release` and the grader (:mod:`lossbook.grading`) both read roles through
this module, so the two agree on what a cell is. It works on ``nbformat`` notebook nodes
and on plain ``dict`` notebooks alike and imports nothing beyond the standard library.

Examples
--------
>>> nb = {"metadata": {"lossbook": {"lesson": "02_mse"}}, "cells": [
...     {"cell_type": "code", "metadata": {}, "source": "import numpy as np"},
...     {"cell_type": "code", "metadata": {"lossbook": {"role": "answer", "exercise": "mse"}},
...      "source": "def mse(y_true, y_pred): ..."},
... ]}
>>> lesson_of(nb)
'02_mse'
>>> [(index, exercise_of(cell)) for index, cell in cells_with_role(nb, ANSWER)]
[(1, 'mse')]
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator, Mapping

METADATA_KEY = "lossbook"

ANSWER = "answer"
CHECK = "check"
HIDDEN_TESTS = "hidden-tests"
ROLES = (ANSWER, CHECK, HIDDEN_TESTS)

#: nbval compares the stored output of cells with this tag even under ``--nbval-lax``.
CHECK_OUTPUT_TAG = "nbval-check-output"


class NotebookRoleError(ValueError):
    """A notebook's lossbook metadata is missing or inconsistent."""


def _metadata(node: Mapping[str, Any]) -> Mapping[str, Any]:
    value = node.get("metadata", {}).get(METADATA_KEY, {})
    return value if isinstance(value, Mapping) else {}


def lesson_of(nb: Mapping[str, Any]) -> str | None:
    """The lesson id in ``nb.metadata.lossbook.lesson``, or ``None`` when absent."""
    lesson = _metadata(nb).get("lesson")
    return lesson if isinstance(lesson, str) and lesson else None


def role_of(cell: Mapping[str, Any]) -> str | None:
    """The cell's role (``"answer"``, ``"check"``, ``"hidden-tests"``, another string) or ``None``."""
    role = _metadata(cell).get("role")
    return role if isinstance(role, str) else None


def exercise_of(cell: Mapping[str, Any]) -> str | None:
    """The exercise id the cell belongs to, or ``None``."""
    exercise = _metadata(cell).get("exercise")
    return exercise if isinstance(exercise, str) and exercise else None


def points_of(cell: Mapping[str, Any]) -> float | None:
    """Points of a hidden-test cell (a positive number), or ``None`` when absent or invalid."""
    points = _metadata(cell).get("points")
    if isinstance(points, bool) or not isinstance(points, (int, float)) or not points > 0:
        return None
    return points


def starter_of(cell: Mapping[str, Any]) -> str | None:
    """The answer cell's own starter code (``metadata.lossbook.starter``), or ``None``."""
    starter = _metadata(cell).get("starter")
    if isinstance(starter, list):  # a multi-line string may be stored as a list of lines
        starter = "".join(starter)
    return starter if isinstance(starter, str) and starter.strip() else None


def tags_of(cell: Mapping[str, Any]) -> list[str]:
    """The cell's tags (``metadata.tags``)."""
    return list(cell.get("metadata", {}).get("tags", []))


def source_of(cell: Mapping[str, Any]) -> str:
    """The cell's source as one string (notebook JSON may store it as a list of lines)."""
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def cells_with_role(
    nb: Mapping[str, Any], role: str, exercise: str | None = None
) -> list[tuple[int, Mapping[str, Any]]]:
    """``(index, cell)`` of every cell with ``role`` (and ``exercise``, when given), in order."""
    return [
        (index, cell)
        for index, cell in enumerate(nb.get("cells", []))
        if role_of(cell) == role and (exercise is None or exercise_of(cell) == exercise)
    ]


def set_role(cell, role: str, exercise: str, **extra: Any) -> None:
    """Give ``cell`` a role: writes ``metadata.lossbook`` (and the check tag on check cells).

    >>> cell = {"cell_type": "code", "metadata": {}, "source": 'check("mse", mse)'}
    >>> set_role(cell, CHECK, "mse")
    >>> cell["metadata"]
    {'lossbook': {'role': 'check', 'exercise': 'mse'}, 'tags': ['nbval-check-output']}
    """
    if role not in ROLES:
        raise ValueError(f"role must be one of {ROLES}, got {role!r}")
    metadata = cell.setdefault("metadata", {})
    metadata[METADATA_KEY] = {"role": role, "exercise": exercise, **extra}
    if role == CHECK and CHECK_OUTPUT_TAG not in metadata.get("tags", []):
        metadata["tags"] = [*metadata.get("tags", []), CHECK_OUTPUT_TAG]


@dataclass
class ExerciseCells:
    """Where one exercise's cells are in a notebook (cell indices)."""

    exercise: str
    answers: list[int] = field(default_factory=list)
    checks: list[int] = field(default_factory=list)
    hidden_tests: list[int] = field(default_factory=list)


def exercise_cells(nb: Mapping[str, Any]) -> dict[str, ExerciseCells]:
    """Every exercise named in the notebook's cells, in order of first appearance.

    Cells with a role but no exercise id are not listed here; :func:`problems` reports them.
    """
    found: dict[str, ExerciseCells] = {}
    slots = {ANSWER: "answers", CHECK: "checks", HIDDEN_TESTS: "hidden_tests"}
    for index, cell in enumerate(nb.get("cells", [])):
        role, exercise = role_of(cell), exercise_of(cell)
        if role in slots and exercise is not None:
            cells = found.setdefault(exercise, ExerciseCells(exercise))
            getattr(cells, slots[role]).append(index)
    return found


def points_by_exercise(nb: Mapping[str, Any]) -> dict[str, float]:
    """Total points of each exercise's hidden-test cells (cells without valid points count 0).

    >>> nb = {"cells": [
    ...     {"metadata": {"lossbook": {"role": "hidden-tests", "exercise": "mse", "points": 1}}},
    ...     {"metadata": {"lossbook": {"role": "hidden-tests", "exercise": "mse", "points": 2}}},
    ...     {"metadata": {"lossbook": {"role": "check", "exercise": "mae"}}},
    ... ]}
    >>> points_by_exercise(nb)
    {'mse': 3}
    """
    totals: dict[str, float] = {}
    for _, cell in cells_with_role(nb, HIDDEN_TESTS):
        exercise = exercise_of(cell)
        if exercise is not None:
            totals[exercise] = totals.get(exercise, 0) + (points_of(cell) or 0)
    return totals


def iter_role_cells(nb: Mapping[str, Any]) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """``(index, cell)`` of every cell that has lossbook cell metadata."""
    for index, cell in enumerate(nb.get("cells", [])):
        if METADATA_KEY in cell.get("metadata", {}):
            yield index, cell


def problems(nb: Mapping[str, Any]) -> list[str]:
    """What is wrong with a solution notebook's lesson and cell metadata (empty when fine).

    Checks only the notebook itself: a lesson id; every role known, on a code cell, with an
    exercise id; per exercise exactly one answer and one check cell, the answer before
    its check; hidden tests with positive ``points``; check cells tagged
    ``nbval-check-output``. Whether the exercise ids exist is the caller's business
    (:mod:`lossbook.release` asks the exercise registry).
    """
    found: list[str] = []
    if lesson_of(nb) is None:
        found.append(
            'no lesson id: set the notebook metadata "lossbook": {"lesson": "<lesson id>"} '
            "(Edit > Notebook metadata in JupyterLab)"
        )
    for index, cell in iter_role_cells(nb):
        where = f"cell {index}"
        role, exercise = role_of(cell), exercise_of(cell)
        if role not in ROLES:
            found.append(f'{where}: unknown role {_metadata(cell).get("role")!r}; use one of {", ".join(ROLES)}')
            continue
        if cell.get("cell_type") != "code":
            found.append(f"{where}: a {role} cell must be a code cell, not {cell.get('cell_type')!r}")
        if exercise is None:
            found.append(f'{where}: {role} cell without an exercise id; add "exercise": "<id>" to its lossbook metadata')
        if role == HIDDEN_TESTS and points_of(cell) is None:
            found.append(
                f'{where}: hidden-tests cell without valid points (got {_metadata(cell).get("points")!r}); '
                'add "points": <positive number>'
            )
        if role == CHECK and CHECK_OUTPUT_TAG not in tags_of(cell):
            found.append(f"{where}: check cell not tagged {CHECK_OUTPUT_TAG!r}; add the tag so nbval compares its output")
    for exercise, cells in exercise_cells(nb).items():
        if len(cells.answers) != 1:
            found.append(f"exercise {exercise!r}: {len(cells.answers)} answer cells (cells {cells.answers}); need exactly one")
        if len(cells.checks) != 1:
            found.append(f"exercise {exercise!r}: {len(cells.checks)} check cells (cells {cells.checks}); need exactly one")
        if cells.answers and cells.checks and cells.checks[0] < cells.answers[0]:
            found.append(f"exercise {exercise!r}: check cell {cells.checks[0]} comes before answer cell {cells.answers[0]}")
    return found
