"""Auto-grading: ``lossbook grade`` (see ``docs/architecture.md``, layer 3b).

- :func:`grade` grades notebook files or folders into a gradebook CSV
  (:mod:`~lossbook.grading.batch`; settings in a frozen :class:`GradeOptions`);
- each submission runs in a fresh sandboxed kernel (:mod:`~lossbook.grading.sandbox`,
  :mod:`~lossbook.grading.kernel`) on the grading notebook built by
  :mod:`~lossbook.grading.assemble`: :func:`~lossbook.grading.run.run_cells` runs a job
  that holds no expected output (here, or on a cluster's worker through an executor), and
  :func:`~lossbook.grading.run.score` compares the records with the expected outputs in the
  grading process, by nbval's rules (:mod:`~lossbook.grading.compare`);
- :mod:`~lossbook.grading.gradebook` writes the CSV, :mod:`~lossbook.grading.feedback` the
  learner's feedback.
"""
from lossbook.grading.batch import GradeOptions, grade, summary_table
from lossbook.grading.sandbox import SandboxUnavailable

__all__ = ["grade", "GradeOptions", "summary_table", "SandboxUnavailable"]
