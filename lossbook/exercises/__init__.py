"""The exercise engine: exercises as data, checking, diagnosis, hints, progress.

- :data:`EXERCISES` — every exercise, ordered by lesson; :func:`get` one by id.
- :func:`diagnose` — a pure function of (exercise, inputs, the learner's outputs) naming
  the likely mistake; the grader calls it outside the learner's kernel.
- The learner's API (``check``, ``hint``, ``solution``, ``progress``) is in
  :mod:`lossbook.exercises.api` and re-exported by ``lossbook``.

Modules, one job each: ``model`` (the dataclasses), ``catalog/lessonNN`` (the exercises
as data), ``cases`` (seeded case builders), ``compare`` (form and tolerance), ``runner``
(the learner's function in a forked child with a timeout), ``checking`` (a run → a
verdict), ``diagnosis``, ``feedback`` (text/HTML), ``progress`` (the store), ``api``.

Adding an exercise: declare an :class:`Exercise` in its lesson's catalog module (a
reference, cases, ≥ 2 hints from nudge to nearly the answer, ≥ 2 misconceptions, a
solution) and add it to that module's ``EXERCISES``; ``tests/exercises`` then checks that
the reference and the solution pass, wrong versions fail, every misconception is
diagnosed and the starter is "not attempted".
"""
from lossbook.exercises.diagnosis import diagnose
from lossbook.exercises.feedback import CheckResult
from lossbook.exercises.model import Case, Exercise, GradientSpec, Misconception
from lossbook.exercises.registry import EXERCISES, UnknownExercise, by_lesson, get, ids

__all__ = [
    "EXERCISES", "get", "ids", "by_lesson", "diagnose", "Exercise", "Case", "Misconception",
    "GradientSpec", "CheckResult", "UnknownExercise",
]
