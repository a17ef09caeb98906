"""The course's status vocabularies: one ``str`` enum per idea.

Four ideas have a status, each with its own words (they used to be bare strings spread
over the exercise engine and the grader):

- :class:`CheckStatus`: the verdict of ``check(exercise_id, fn)`` on one function
  (``CheckResult.status``). ``not-attempted`` means the function still raises
  ``NotImplementedError`` (the starter code).
- :class:`ProgressStatus`: where a learner stands on one exercise in the progress store
  (``progress()``). ``not started`` means ``check`` was never run on it; it is a different
  idea from :attr:`CheckStatus.NOT_ATTEMPTED`, hence a different enum.
- :class:`CellStatus`: what running one cell in the grader's sandboxed kernel gave
  (``lossbook.grading.kernel.CellRun.status``).
- :class:`RowStatus`: a gradebook row's status (what ``lossbook grade`` writes; the class
  report and cluster grading read the same words). Their meanings are in
  ``lossbook.grading.batch.STATUSES`` and docs/architecture.md.

The members are ``str``: they compare, hash, format, JSON-encode and CSV-write as their
values, so files written before (gradebooks, progress JSON, notebooks' stored outputs)
read back unchanged and ``status == "passed"`` keeps working.

This module sits in the bottom layer (standard library only), so that every layer that
speaks of a status can import it.

>>> CheckStatus.PASSED == "passed", f"{RowStatus.TIMED_OUT}", [CheckStatus("timeout")]
(True, 'timed-out', ['timeout'])
>>> type(CheckStatus("timeout")).__name__, CheckStatus.TIMEOUT.name
('CheckStatus', 'TIMEOUT')
>>> {"killed": 1}[CellStatus.KILLED], "died" in KERNEL_GONE
(1, True)
"""
from __future__ import annotations

from enum import Enum

__all__ = ["CheckStatus", "ProgressStatus", "CellStatus", "KERNEL_GONE", "RowStatus"]


class _Status(str, Enum):
    """A status word: behaves exactly as its ``str`` value (``str()``, ``repr()``, f-strings,
    hashing), so printing a list or a dict of statuses shows what it showed before."""

    __repr__ = str.__repr__
    __str__ = str.__str__
    __format__ = str.__format__
    __hash__ = str.__hash__


class CheckStatus(_Status):
    """``CheckResult.status``: the verdict of ``check`` on one function."""

    PASSED = "passed"
    FAILED = "failed"
    NOT_ATTEMPTED = "not-attempted"  # the function still raises NotImplementedError
    ERROR = "error"  # it raised, or returned something of the wrong kind
    TIMEOUT = "timeout"  # it ran past the checker's time limit and was stopped


class ProgressStatus(_Status):
    """One exercise's entry in the progress store, as ``progress()`` shows it."""

    PASSED = "passed"
    ATTEMPTED = "attempted"  # checked at least once, never passed
    NOT_STARTED = "not started"  # never checked


class CellStatus(_Status):
    """What running one cell in the grader's kernel gave (``CellRun.status``)."""

    OK = "ok"
    ERROR = "error"  # the cell raised
    TIMEOUT = "timeout"  # interrupted after the cell timeout; the kernel lives on
    KILLED = "killed"  # ignored the interrupt, or the submission ran out of time: kernel gone
    DIED = "died"  # the kernel exited (sys.exit, os._exit) or crashed
    OUTPUT_TOO_LARGE = "output-too-large"


#: The cell statuses after which the kernel is gone (nothing more runs in it).
KERNEL_GONE = frozenset({CellStatus.KILLED, CellStatus.DIED})


class RowStatus(_Status):
    """A gradebook row's status (meanings: ``lossbook.grading.batch.STATUSES``).

    A kernel that stops part-way is ``timed-out`` (killed) or ``kernel-died`` (it exited or
    crashed): the cells that ran keep their points, the others score 0. The word
    ``incomplete``, meant for that and never written by this grader's run/score split, is
    retired: one name per idea. Gradebooks of the first graders may still hold it; their
    rows are kept as they are when a gradebook is merged.
    """

    GRADED = "graded"
    TIMED_OUT = "timed-out"
    KERNEL_DIED = "kernel-died"
    NOT_A_NOTEBOOK = "not-a-notebook"
    WRONG_NBFORMAT = "wrong-nbformat"
    TOO_LARGE = "too-large"
    UNREADABLE = "unreadable"
    NOT_A_REGULAR_FILE = "not-a-regular-file"
    UNKNOWN_LESSON = "unknown-lesson"
    WRONG_LESSON = "wrong-lesson"
    AMBIGUOUS = "ambiguous"
    REFUSED_IDENTITY = "refused-identity"
    KERNEL_FAILED = "kernel-failed"
    INTERNAL_ERROR = "internal-error"
