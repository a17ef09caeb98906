"""The exercise engine: exercises as data, checking, diagnosis, hints, progress.

- :data:`EXERCISES` — every exercise, ordered by lesson; :func:`get` one by id.
- :func:`diagnose` — a pure function of (exercise, inputs, the learner's outputs) naming
  the likely mistake; the grader calls it outside the learner's kernel.
- The learner's API (``check``, ``hint``, ``solution``, ``progress``) is in
  :mod:`lossbook.exercises.api` and re-exported by ``lossbook``.
"""
from lossbook.exercises.diagnosis import diagnose
from lossbook.exercises.feedback import CheckResult
from lossbook.exercises.model import Case, Exercise, GradientSpec, Misconception
from lossbook.exercises.registry import EXERCISES, UnknownExercise, by_lesson, get, ids

__all__ = [
    "EXERCISES", "get", "ids", "by_lesson", "diagnose", "Exercise", "Case", "Misconception",
    "GradientSpec", "CheckResult", "UnknownExercise",
]
