"""The exercises, declared as data: one module per lesson, in course order.

Each ``lessonNN`` module defines ``EXERCISES``, a tuple of
:class:`~lossbook.exercises.model.Exercise`. Solutions assume ``import numpy as np``
(every exercise notebook starts with it).
"""
LESSON_MODULES = (
    "lesson01", "lesson02", "lesson03", "lesson04", "lesson05", "lesson06", "lesson07", "lesson08",
    "lesson09", "lesson10", "lesson11",
)
