"""The seam between running cells and scoring them (lossbook.grading.run / batch).

A job is plain, picklable data without the expected outputs; the run records come back
as plain, picklable data; :func:`score` alone turns them into the result. The fast tests
use a scripted kernel; the last one grades real submissions in the sandbox through an
executor that pickles every job and record, as a cluster would, and compares the
gradebook with the default executor's.
"""
from __future__ import annotations

import copy
import json
import pickle
from dataclasses import fields

import nbformat
import pytest
from nbformat.v4 import new_output

from builders import REPO, learner_copy
from lossbook.grading import batch
from lossbook.grading.assemble import GradingNotebook, PlanCell, Solution, assemble
from lossbook.grading.gradebook import read_rows
from lossbook.grading.kernel import CellRun, KernelStartError
from lossbook.grading.run import (GradingJob, JobCell, SubmissionRuns, execute, job_for, run_cells,
                                  score)
from lossbook.status import CellStatus, RowStatus


def out(text: str):
    return new_output("stream", name="stdout", text=text)


class ScriptedKernel:
    """Answers each cell from ``script`` (source → CellRun); records what it was asked."""

    def __init__(self, script: dict[str, CellRun], refusals=()):
        self.script, self.ran, self.killed, self.max_outputs = script, [], False, []
        self._refusals = list(refusals)

    def run_cell(self, code, timeout, deadline=None, max_output=None):
        self.ran.append(code)
        self.max_outputs.append(max_output)
        return self.script.get(code, CellRun("ok", [], 0.01))

    def refusals(self):
        return self._refusals

    def kill(self):
        self.killed = True


def plan() -> GradingNotebook:
    cells = [PlanCell("import numpy", None, None),
             PlanCell("def a(): ...", "answer", "a", from_learner=True),
             PlanCell("test a1", "hidden-tests", "a", 2, [out("SECRET-A1\n")], number=1),
             PlanCell("test a2", "hidden-tests", "a", 1, [out("SECRET-A2\n")], number=2),
             PlanCell("test a3", "hidden-tests", "a", 1, [out("SECRET-A3\n")], number=3),
             PlanCell("def b(): ...", "answer", "b", from_learner=True),
             PlanCell("test b1", "hidden-tests", "b", 3, [out("SECRET-B1\n")], number=1),
             PlanCell("test c1", "hidden-tests", "c", 5, [out("SECRET-C1\n")], number=1)]
    return GradingNotebook("02_mse", cells, {"a": 4, "b": 3, "c": 5}, ["c"])


def test_a_job_holds_no_expected_output_and_pickles():
    job = job_for(plan(), cell_timeout=4, submission_timeout=60)
    assert {f.name for f in fields(JobCell)} == {"source", "role", "exercise"}
    data = pickle.dumps(job)
    assert b"SECRET" not in data
    assert pickle.loads(data) == job
    assert [c.source for c in job.cells] == [c.source for c in plan().cells]
    assert job.missing == ("c",)


def test_a_real_lessons_job_holds_none_of_its_stored_outputs():
    for lesson in ("02_mse", "04_cross_entropy"):
        solution = Solution.from_notebook(nbformat.read(REPO / "solutions" / f"{lesson}.ipynb", as_version=4))
        grading = assemble(solution, learner_copy(lesson), batch.forbidden_by_exercise(REPO / "solutions"))
        data = pickle.dumps(job_for(grading, cell_timeout=4, submission_timeout=60))
        expected = [o.get("text", "") for c in grading.cells for o in c.expected if o.get("text", "").strip()]
        assert expected, f"{lesson}: no stored hidden-test output to look for"
        for text in expected:
            assert text.encode() not in data, f"{lesson}: an expected output is in the job: {text[:60]!r}"


def test_runs_are_plain_and_score_is_what_execute_gives():
    script = {"test a1": CellRun("ok", [nbformat.from_dict(out("SECRET-A1\n"))], 0.1),
              "test a2": CellRun("ok", [out("wrong\n")], 0.1),
              "test a3": CellRun("error", [{"output_type": "error", "ename": "ValueError", "evalue": "bad",
                                            "traceback": []}], 0.1),
              "test b1": CellRun("timeout", [], 4.0)}
    kernel = ScriptedKernel(script, refusals=[("network", "'socket'")])
    runs = run_cells(job_for(plan(), cell_timeout=4, submission_timeout=60), kernel)
    assert kernel.killed and "test c1" not in kernel.ran
    again = pickle.loads(pickle.dumps(runs))
    assert type(again.cells[2].run.outputs[0]) is dict  # NotebookNodes made plain
    result = score(plan(), again, learner="ana", solutions_hash="h")
    assert result.status == RowStatus.GRADED == "graded"
    assert result.points == {"a": 2, "b": 0, "c": 0}
    assert result.reasons == ["a test 2: output differs from the expected output",
                              "a test 3: raised ValueError: bad",
                              "b: timed out after 4 s (an infinite loop?)",
                              'c: no answer cell (a code cell with role "answer" for this exercise) in the submission',
                              "refused: network access (socket)"]
    direct = execute(plan(), ScriptedKernel(script, refusals=[("network", "'socket'")]), cell_timeout=4,
                     submission_timeout=60, learner="ana", solutions_hash="h", sandbox="bwrap")
    assert (direct.points, direct.reasons, direct.status) == (result.points, result.reasons, result.status)


def test_a_timed_out_test_blocks_the_exercise_and_a_dead_kernel_ends_the_run():
    script = {"test a1": CellRun("timeout", [], 4.0), "def b(): ...": CellRun("died", [], 0.1)}
    kernel = ScriptedKernel(script)
    runs = run_cells(job_for(plan(), cell_timeout=4, submission_timeout=60), kernel)
    assert kernel.ran == ["import numpy", "def a(): ...", "test a1", "def b(): ..."]
    assert runs.stop == "died" and not runs.out_of_time
    result = score(plan(), runs)
    assert result.status == RowStatus.KERNEL_DIED
    assert [t.reason for t in result.tests] == [
        "timed out after 4 s (an infinite loop?)",
        "skipped: an earlier hidden test of this exercise timed out",
        "skipped: an earlier hidden test of this exercise timed out",
        "the kernel exited or crashed (sys.exit/os._exit/exit() or a crash)",
        "the kernel exited or crashed (sys.exit/os._exit/exit() or a crash)"]
    assert result.total == 0


def test_out_of_time_before_a_cell_scores_every_cell_left_with_that_reason():
    runs = run_cells(job_for(plan(), cell_timeout=4, submission_timeout=0.0), ScriptedKernel({}))
    assert runs.stop == "deadline" and runs.out_of_time
    result = score(plan(), runs)
    assert result.status == RowStatus.TIMED_OUT
    assert len(result.tests) == 5 and result.total == 0
    assert result.reasons[:2] == ["a: the submission ran out of time (0 s in all)",
                                  "b: the submission ran out of time (0 s in all)"]


def test_score_refuses_runs_of_another_plan():
    runs = run_cells(job_for(plan(), cell_timeout=4, submission_timeout=60), ScriptedKernel({}))
    other = copy.deepcopy(plan())
    other.cells.pop()
    with pytest.raises(ValueError, match="job_for"):
        score(other, runs)


def test_run_job_turns_a_kernel_that_did_not_start_into_a_row():
    class NoKernels:
        def get(self):
            raise KernelStartError("bwrap: no permission")

    job = job_for(plan(), cell_timeout=4, submission_timeout=60)
    runs = batch.run_job(job, NoKernels())
    assert runs.failure == ("kernel-failed", "the grading kernel did not start: bwrap: no permission")
    result = score(plan(), pickle.loads(pickle.dumps(runs)))
    assert result.status == RowStatus.KERNEL_FAILED and result.points == {"a": 0, "b": 0, "c": 0}


def test_grade_options_keep_the_keyword_call_and_name_unknown_ones(tmp_path):
    options = batch.GradeOptions(jobs=3, cell_timeout=2.5)
    assert batch.GradeOptions(cell_timeout=2.5).resolved().submission_timeout == 60.0
    with pytest.raises(TypeError, match="colour.*the options are solutions, jobs"):
        batch.grade([tmp_path], None, options, colour="red")
    with pytest.raises(ValueError, match="feedback_format must be 'md' or 'html'"):
        batch.GradeOptions(feedback_format="pdf")
    with pytest.raises(AttributeError):
        options.jobs = 4  # frozen


class PicklingExecutor(batch.LocalExecutor):
    """Runs each job as a remote worker would: the job and the records cross a pickle."""

    sent: list[bytes] = []

    def run(self, jobs):
        for index, job in enumerate(jobs):
            data = pickle.dumps(job)
            self.sent.append(data)
            runs = batch.run_job(pickle.loads(data), self.pool)
            yield index, pickle.loads(pickle.dumps(runs))


@pytest.mark.slow
def test_an_executor_that_pickles_gives_the_same_gradebook(tmp_path, sandbox_ok):
    from lossbook.grading.runtime import build_runtime
    from lossbook.grading.sandbox import make_sandbox

    root = tmp_path / "subs"
    wrong = {"mse": "def mse(y_true, y_pred):\n    import numpy as np\n    return float(np.sum((np.asarray(y_pred) - np.asarray(y_true)) ** 2))\n"}
    for learner, nb in (("ana", learner_copy("02_mse")), ("ben", learner_copy("02_mse", wrong))):
        (root / learner).mkdir(parents=True)
        nbformat.write(nb, root / learner / "02_mse.ipynb")
    local = batch.grade([root], tmp_path / "local.csv", jobs=2, cell_timeout=20, progress=False)
    base = tmp_path / "remote"
    base.mkdir()
    sandbox = make_sandbox(build_runtime(base / "runtime"), hidden=(REPO / "lossbook", REPO / "solutions", root))
    executor = PicklingExecutor(sandbox, base, jobs=1, expected=2)
    try:
        remote = batch.grade([root], tmp_path / "remote.csv", batch.GradeOptions(jobs=1, cell_timeout=20,
                                                                               progress=False),
                             executor=executor)
    finally:
        executor.close()
    solution = nbformat.read(REPO / "solutions" / "02_mse.ipynb", as_version=4)
    stored = [o["text"].encode() for c in solution.cells if c.cell_type == "code"
              and c.metadata.get("lossbook", {}).get("role") == "hidden-tests" for o in c.outputs if o.get("text")]
    assert len(executor.sent) == 2 and stored
    assert not any(text in data for text in stored for data in executor.sent)
    rows = read_rows(tmp_path / "local.csv")
    assert rows == read_rows(tmp_path / "remote.csv")
    by_learner = {r["learner"]: r for r in rows}
    assert by_learner["ana"]["status"] == "graded" and by_learner["ana"]["reasons"] == ""
    assert float(by_learner["ben"]["mse"]) == 0 and "output differs" in by_learner["ben"]["reasons"]
    assert [r.status for r in remote] == [r.status for r in local] == ["graded", "graded"]


def test_outputs_are_capped_per_cell_and_per_submission_with_a_note_and_a_reason():
    from lossbook.grading.kernel import MAX_CELL_OUTPUT, MAX_SUBMISSION_OUTPUT, output_size

    chunk = new_output("stream", name="stderr", text="x" * 900_000)  # below the per-cell limit
    script = {"import numpy": CellRun("ok", [chunk], 0.1),
              "def a(): ...": CellRun("ok", [chunk, chunk], 0.1),  # 1.8 MB in one cell
              "test a1": CellRun("ok", [chunk, out("SECRET-A1\n")], 0.1),
              "test a2": CellRun("ok", [chunk, out("SECRET-A2\n")], 0.1),
              "test a3": CellRun("ok", [chunk, out("SECRET-A3\n")], 0.1),
              "def b(): ...": CellRun("error", [chunk], 0.1),
              "test b1": CellRun("ok", [chunk, out("SECRET-B1\n")], 0.1)}
    kernel = ScriptedKernel(script)
    runs = run_cells(job_for(plan(), cell_timeout=4, submission_timeout=60), kernel)
    records = runs.cells
    assert [r.run.status for r in records[:7]] == ["ok", "output-too-large", "ok", "ok", "ok",
                                                   "output-too-large", "output-too-large"]
    assert [r.output_limit for r in records[:7]] == ["", "cell", "", "", "", "submission", "submission"]
    # Each cell was offered what was left of the submission's budget, never more than the cell limit.
    spent, offered = 0, []
    for record in records[:7]:
        offered.append(min(MAX_CELL_OUTPUT, MAX_SUBMISSION_OUTPUT - spent))
        spent += sum(output_size(o) for o in record.run.outputs)
    assert kernel.max_outputs == offered and offered[5] < MAX_CELL_OUTPUT
    assert spent <= MAX_SUBMISSION_OUTPUT
    cell_note, submission_note = records[1].run.outputs[-1], records[6].run.outputs[-1]
    assert records[1].run.outputs[:-1] == [chunk] and records[6].run.outputs == [submission_note]
    assert cell_note["name"] == submission_note["name"] == "stderr"
    assert "this cell printed more than 1,000,000 characters" in cell_note["text"]
    assert "this submission's cells printed more than 5,000,000 characters in all" in submission_note["text"]
    result = score(plan(), runs)
    assert result.status == RowStatus.GRADED and result.points == {"a": 4, "b": 0, "c": 0}
    assert result.reasons[0] == ("b: printed too much output: the submission's output limit (5,000,000 characters "
                                 "across all its cells) was reached")
    assert score(plan(), pickle.loads(pickle.dumps(runs))).reasons == result.reasons
