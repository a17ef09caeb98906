"""Auto-grading: ``lossbook grade`` (see ``docs/architecture.md``, layer 3b).

- :func:`grade` grades notebook files or folders into a gradebook CSV
  (:mod:`~lossbook.grading.batch`);
- each submission runs in a fresh sandboxed kernel (:mod:`~lossbook.grading.sandbox`,
  :mod:`~lossbook.grading.kernel`) on the grading notebook built by
  :mod:`~lossbook.grading.assemble`; nbval compares hidden-test outputs in the grading
  process (:mod:`~lossbook.grading.compare`, :mod:`~lossbook.grading.run`);
- :mod:`~lossbook.grading.gradebook` writes the CSV, :mod:`~lossbook.grading.feedback` the
  learner's feedback.
"""
from lossbook.grading.batch import grade, summary_table
from lossbook.grading.sandbox import SandboxUnavailable

__all__ = ["grade", "summary_table", "SandboxUnavailable"]
