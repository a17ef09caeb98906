"""Stand-in ``lossbook`` package seen by learners' kernels while they are graded.

``check``, ``hint``, ``solution`` and ``progress`` do nothing and return ``None``: the
grader's hidden tests, not the learner's kernel, decide the grade, and the exercise engine
(with its reference implementations) is not available here. ``lossbook.canonical``
(``show``, the stable printing hidden tests use) is the only real module.

>>> check("mse", print) is None and hint("mse") is None
True
"""

__version__ = "grading"
__all__ = ["check", "hint", "solution", "progress"]


def check(exercise_id, fn=None, *args, **kwargs):
    """Inert while grading: the hidden tests decide."""
    return None


def hint(exercise_id=None, *args, **kwargs):
    """Inert while grading."""
    return None


def solution(exercise_id=None, *args, **kwargs):
    """Inert while grading."""
    return None


def progress(*args, **kwargs):
    """Inert while grading."""
    return None
