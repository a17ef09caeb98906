"""The ordered registry of exercises: :data:`EXERCISES` and :func:`get`."""
from __future__ import annotations

import difflib
import importlib

from lossbook.exercises.catalog import LESSON_MODULES
from lossbook.exercises.model import Exercise


class UnknownExercise(KeyError, ValueError):
    """An exercise id that is not in the catalog (the message lists the valid ids)."""

    def __str__(self) -> str:  # KeyError would wrap the message in quotes
        return str(self.args[0])


def _load() -> tuple[Exercise, ...]:
    found: list[Exercise] = []
    for name in LESSON_MODULES:
        found.extend(importlib.import_module(f"lossbook.exercises.catalog.{name}").EXERCISES)
    ids = [e.id for e in found]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuntimeError(f"exercise ids declared twice in the catalog: {duplicates}")
    return tuple(found)


#: Every exercise, ordered by lesson (then as declared in the lesson's module).
EXERCISES: tuple[Exercise, ...] = _load()
_BY_ID = {e.id: e for e in EXERCISES}


def ids() -> tuple[str, ...]:
    """Every exercise id, in course order."""
    return tuple(_BY_ID)


def get(exercise_id: str) -> Exercise:
    """The exercise with this id.

    Raises
    ------
    UnknownExercise
        (a ``KeyError`` and a ``ValueError``) for an unknown id; the message lists the valid ids and suggests the closest.

    Examples
    --------
    >>> get("mse").signature
    'def mse(y_true, y_pred):'
    """
    if isinstance(exercise_id, Exercise):
        return exercise_id
    if not isinstance(exercise_id, str):
        raise TypeError(f"exercise_id must be a string such as 'mse', got {type(exercise_id).__name__}; "
                        f"valid ids: {', '.join(_BY_ID)}")
    found = _BY_ID.get(exercise_id) or _BY_ID.get(exercise_id.strip().lower())
    if found is not None:
        return found
    close = difflib.get_close_matches(exercise_id.strip().lower(), list(_BY_ID), n=1, cutoff=0.5)
    suggestion = f"did you mean {close[0]!r}? " if close else ""
    raise UnknownExercise(f"no exercise called {exercise_id!r}; {suggestion}valid ids: {', '.join(_BY_ID)}")


def by_lesson() -> dict[str, list[Exercise]]:
    """Lesson id → its exercises, in course order."""
    lessons: dict[str, list[Exercise]] = {}
    for e in EXERCISES:
        lessons.setdefault(e.lesson, []).append(e)
    return lessons
