"""Grading on a real Dask cluster (``lossbook grade --scheduler``), end to end.

A ``dask scheduler`` and two ``dask worker`` processes (nanny, one thread each, no
dashboard) run on 127.0.0.1 on random free ports, started as subprocesses, with
``allowed-failures`` 2 and ``worker-saturation`` 1.0 set explicitly, as
docs/instructor.md tells an instructor to. They grade the mixed benchmark batch
(benchmarks/bench_grading.py's builder: 10 correct, 9 wrong, 1 infinite loop), and:

- the gradebook and the feedback equal a local ``--jobs 2`` run's, row for row, in order;
- what is sent to the workers holds no expected output;
- a worker SIGKILLed while it runs a submission loses no row and doubles none;
- a submission whose worker dies every time it runs ends as ``kernel-died`` after
  allowed-failures + 1 deaths, and the batch goes on. A learner's code cannot kill its
  worker from inside the sandbox (that is the point of the sandbox), so the test plays the
  part of what does kill workers in practice (the kernel's machine running out of memory,
  a lost node): it SIGKILLs whichever worker is executing that submission's task.

Nothing outlives the tests: every process started (scheduler, nannies, workers, their
kernels) is checked gone at the end.
"""
from __future__ import annotations

import csv
import os
import pickle
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
if str(REPO) not in sys.path:  # benchmarks/ is a package at the repository's root
    sys.path.insert(0, str(REPO))

from benchmarks.bench_cluster import SCHEDULER_ENV, LocalCluster  # noqa: E402
from benchmarks.bench_grading import LESSON, batches, write_lossbook_batch  # noqa: E402

#: Gradebook columns that measure time, not results (none today; kept out of comparisons).
TIMING_COLUMNS = {"seconds", "time", "duration"}
CELL_TIMEOUT = 10.0  # the benchmark's: correct cells never come near it, even on a loaded machine
ALLOWED_FAILURES = int(SCHEDULER_ENV["DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES"])  # 2


# --------------------------------------------------------------------------- helpers
def _read_book(path: Path) -> list[dict]:
    with open(path, newline="", encoding="utf-8") as handle:
        return [{k: v for k, v in row.items() if k not in TIMING_COLUMNS} for row in csv.DictReader(handle)]


def _tree(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): p.read_text(encoding="utf-8")
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def cluster(tmp_path_factory, sandbox_ok):
    started = LocalCluster(tmp_path_factory.mktemp("cluster"), workers=2)
    try:
        yield started
    finally:
        started.close()
        left = started.wait_gone()
        assert not left, "processes outlived the cluster (scheduler, nannies, workers, kernels):\n" + "\n".join(left)
        folders = sorted(p.name for p in (started.root / "tmp").glob("lbg-*"))  # the graders' and kernels'
        assert not folders, f"kernel folders left in the workers' TMPDIR: {folders}"


@pytest.fixture(scope="module")
def mixed(tmp_path_factory, sandbox_ok):
    """The mixed benchmark batch, and its gradebook and feedback from a local ``--jobs 2`` run."""
    root = tmp_path_factory.mktemp("mixed")
    subs = root / "submissions"
    write_lossbook_batch(subs, batches(0)["mixed"])
    from lossbook.grading import grade

    grade([subs], root / "local.csv", jobs=2, cell_timeout=CELL_TIMEOUT, feedback=root / "local-feedback",
          progress=False)
    return subs, _read_book(root / "local.csv"), _tree(root / "local-feedback")


# --------------------------------------------------------------------------- quick checks
def test_importing_cluster_loads_no_dask():
    code = ("import sys, lossbook.grading.cluster, lossbook.commands.grade\n"
            "assert not {'dask', 'distributed'} & set(sys.modules), sorted(sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr


def test_without_distributed_the_error_says_how_to_install(tmp_path, monkeypatch, capsys):
    from lossbook.cli import main

    monkeypatch.setitem(sys.modules, "distributed", None)  # "not installed"
    (tmp_path / "ana.ipynb").write_text("{}")
    code = main(["grade", str(tmp_path / "ana.ipynb"), "--out", str(tmp_path / "book.csv"),
                 "--scheduler", "tcp://127.0.0.1:8786"])
    err = capsys.readouterr().err
    assert code == 2
    assert "--scheduler" in err and "pip install 'lossbook[cluster]'" in err
    assert not (tmp_path / "book.csv").exists()


def test_unreachable_scheduler_names_the_option_and_the_fix(tmp_path, monkeypatch, capsys):
    import socket

    from lossbook.cli import main
    from lossbook.grading import cluster

    with socket.socket() as free:  # a port nothing listens on
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 3.0)
    (tmp_path / "ana.ipynb").write_text("{}")
    code = main(["grade", str(tmp_path / "ana.ipynb"), "--out", str(tmp_path / "book.csv"),
                 "--scheduler", f"tcp://127.0.0.1:{port}"])
    err = capsys.readouterr().err
    assert code == 2
    assert f"tcp://127.0.0.1:{port}" in err and "(--scheduler)" in err and "dask scheduler" in err
    assert not (tmp_path / "book.csv").exists()
    code = main(["grade", str(tmp_path / "ana.ipynb"), "--out", str(tmp_path / "book.csv"),
                 "--scheduler", "not an address"])
    assert code == 2 and "(--scheduler)" in capsys.readouterr().err


@pytest.mark.slow  # starts a real scheduler (no kernel)
def test_a_scheduler_without_workers_says_to_start_some(tmp_path, monkeypatch, capsys):
    from lossbook.cli import main
    from lossbook.grading import cluster

    lonely = LocalCluster(tmp_path / "lonely", workers=0)
    try:
        monkeypatch.setattr(cluster, "CONNECT_TIMEOUT", 3.0)
        (tmp_path / "ana.ipynb").write_text("{}")
        code = main(["grade", str(tmp_path / "ana.ipynb"), "--out", str(tmp_path / "book.csv"),
                     "--scheduler", lonely.address])
    finally:
        lonely.close()
    err = capsys.readouterr().err
    assert code == 2
    assert "has no workers" in err and f"dask worker {lonely.address}" in err
    assert not lonely.wait_gone()


@pytest.mark.slow  # starts a real scheduler and worker (its sandbox probe fails: no kernel)
def test_a_worker_without_a_sandbox_stops_the_batch_before_it_starts(tmp_path, capsys):
    """As locally: no sandbox, no grading (exit 2), naming the worker and the fix."""
    from lossbook.cli import main

    # The worker finds neither bwrap nor unshare on its PATH (Python itself is started by path).
    bare = LocalCluster(tmp_path / "bare", workers=1, worker_env={"PATH": str(tmp_path / "empty")})
    try:
        (tmp_path / "ana.ipynb").write_text("{}")
        code = main(["grade", str(tmp_path / "ana.ipynb"), "--out", str(tmp_path / "book.csv"),
                     "--scheduler", bare.address])
        worker = next(iter(bare.monitor.nthreads()))
    finally:
        bare.close()
    err = capsys.readouterr().err
    assert code == 2
    assert f"on the Dask worker {worker}" in err and "apt-get install bubblewrap" in err
    assert not (tmp_path / "book.csv").exists()
    assert not bare.wait_gone()


def test_task_keys_name_the_submission():
    from lossbook.grading.cluster import _learner_lesson, task_key
    from lossbook.grading.run import GradingJob

    job = GradingJob("02_mse", (), (), 10.0, 60.0, key="ana × 02_mse")
    assert task_key("b", 3, *_learner_lesson(job)) == "lossbook-grade-b-00003-ana-02_mse"


# --------------------------------------------------------------------------- on the cluster
@pytest.mark.slow
def test_cluster_gradebook_and_feedback_equal_a_local_run(cluster, mixed, tmp_path):
    from lossbook.grading import grade
    from lossbook.grading.cluster import DaskExecutor

    subs, local_book, local_feedback = mixed
    executor = DaskExecutor(cluster.address)
    sent = []
    submit = executor.client.submit

    def recording_submit(function, *args, **kwargs):
        sent.append(pickle.dumps(args))
        return submit(function, *args, **kwargs)

    executor.client.submit = recording_submit
    try:
        grade([subs], tmp_path / "cluster.csv", cell_timeout=CELL_TIMEOUT, feedback=tmp_path / "feedback",
              progress=False, executor=executor)
    finally:
        executor.close()
    cluster.remember()
    book = _read_book(tmp_path / "cluster.csv")
    assert [(r["learner"], r["status"], r["total"]) for r in book] == \
        [(r["learner"], r["status"], r["total"]) for r in local_book]
    assert book == local_book
    assert _tree(tmp_path / "feedback") == local_feedback
    statuses = {r["status"] for r in book}
    assert statuses == {"graded"} and len(book) == 20
    assert {float(r["total"]) for r in book} >= {0.0, 6.0}
    # What travelled to the workers: one job per submission, and no expected output in any.
    assert len(sent) == 20
    expected = _expected_texts()
    assert expected, "the solution's hidden tests print nothing to look for"
    for payload in sent:
        for text in expected:
            assert text.encode() not in payload, f"an expected output ({text!r}) was sent to a worker"


def _expected_texts() -> list[str]:
    """The stored outputs of lesson 02's hidden tests (distinctive enough to search for)."""
    import nbformat

    from lossbook import notebook_roles as roles

    sol = nbformat.read(REPO / "solutions" / f"{LESSON}.ipynb", as_version=4)
    texts = []
    for _, cell in roles.cells_with_role(sol, roles.HIDDEN_TESTS):
        for out in cell.outputs:
            for line in str(out.get("text", "")).splitlines():
                if len(line.strip()) >= 6 and line.strip() not in roles.source_of(cell):
                    texts.append(line.strip())
    return texts


def _kill_while_executing(cluster: LocalCluster, proc: subprocess.Popen, wanted, limit: int) -> list[int]:
    """SIGKILL each worker seen executing a task whose key ``wanted(key)`` accepts, ``limit`` times
    at most, until ``proc`` (the grading command) exits; returns the killed pids."""
    killed: list[int] = []
    deadline = time.monotonic() + 900
    while proc.poll() is None and time.monotonic() < deadline:
        cluster.remember()
        try:
            executing = cluster.executing()
        except Exception:  # noqa: BLE001 - a worker restarting: ask again
            executing = {}
        for pid, keys in executing.items():
            if len(killed) < limit and pid not in killed and any(wanted(key) for key in keys):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.1)
    return killed


@pytest.mark.slow
def test_a_worker_killed_mid_batch_loses_no_row_and_doubles_none(cluster, mixed, tmp_path):
    subs, local_book, _ = mixed
    out = tmp_path / "cluster.csv"
    proc = subprocess.Popen([sys.executable, "-m", "lossbook", "grade", str(subs), "--out", str(out),
                             "--timeout", str(CELL_TIMEOUT), "--scheduler", cluster.address],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env, cwd=REPO)
    # The worker seen running the looping submission (the batch's last), once: its cell runs
    # for the whole cell timeout, so the poll always sees it (a correct submission on a forked
    # kernel can finish between two polls on a quiet machine).
    from benchmarks.bench_grading import WRONG

    looping = f"-s{10 + len(WRONG):03d}-"
    killed = _kill_while_executing(cluster, proc, lambda key: looping in key, limit=1)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    assert len(killed) == 1, "no worker was seen running a task"
    book = _read_book(out)
    keys = [(r["learner"], r["lesson"]) for r in book]
    assert sorted(keys) == sorted({(f"s{i:03d}", LESSON) for i in range(20)})  # each exactly once
    assert book == local_book  # the killed worker's submission was graded again, elsewhere


@pytest.mark.slow
def test_a_submission_that_kills_its_workers_ends_as_kernel_died(cluster, tmp_path):
    from benchmarks.bench_grading import _answers

    subs = tmp_path / "submissions"
    answers = _answers()
    # The killer's first answer waits 4 s (well inside the cell timeout) so that each worker
    # running it is seen by the poll and killed; otherwise a forked kernel can finish it
    # between two polls and it is graded instead (seen on a quiet machine).
    first = next(iter(answers))
    killer = {**answers, first: "import time\ntime.sleep(4)\n" + answers[first]}
    write_lossbook_batch(subs, [answers, killer, answers])
    (subs / "s001").rename(subs / "killer")
    out = tmp_path / "cluster.csv"
    proc = subprocess.Popen([sys.executable, "-m", "lossbook", "grade", str(subs), "--out", str(out),
                             "--timeout", str(CELL_TIMEOUT), "--scheduler", cluster.address],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=cluster.env, cwd=REPO)
    killed = _kill_while_executing(cluster, proc, lambda key: "-killer-" in key, limit=ALLOWED_FAILURES + 1)
    stdout, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 0, stderr[-3000:]
    assert len(killed) == ALLOWED_FAILURES + 1
    rows = {r["learner"]: r for r in _read_book(out)}
    assert sorted(rows) == ["killer", "s000", "s002"]
    assert rows["killer"]["status"] == "kernel-died"
    assert float(rows["killer"]["total"]) == 0
    assert f"allowed-failures is {ALLOWED_FAILURES}" in rows["killer"]["reasons"]
    for learner in ("s000", "s002"):
        assert rows[learner]["status"] == "graded" and float(rows[learner]["total"]) == 6
    # The cluster goes on grading: both workers are back (their nannies restarted them).
    cluster.monitor.wait_for_workers(2, timeout=120)


def test_a_killed_workers_kernel_folder_is_removed_by_the_next_worker(tmp_path):
    from lossbook.grading.cluster import WORK_PREFIX, remove_stale_folders

    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    stale = tmp_path / f"{WORK_PREFIX}{gone.pid}-abc"
    (stale / "k1").mkdir(parents=True)
    mine = tmp_path / f"{WORK_PREFIX}{os.getpid()}-def"
    mine.mkdir()
    other = tmp_path / "lbg-worker-notes"  # not a worker's folder: never touched
    other.mkdir()
    assert remove_stale_folders(str(tmp_path)) == [stale]
    assert not stale.exists() and mine.exists() and other.exists()


@pytest.mark.slow
def test_a_batch_ends_when_every_worker_is_gone(tmp_path, monkeypatch, sandbox_ok):
    """Dask keeps tasks waiting for a worker forever; the batch ends, each row saying why."""
    from lossbook.grading import cluster, grade
    from lossbook.grading.cluster import DaskExecutor

    monkeypatch.setattr(cluster, "NO_WORKER_TIMEOUT", 3.0)
    monkeypatch.setattr(cluster, "WATCH_INTERVAL", 0.5)
    subs = tmp_path / "submissions"
    write_lossbook_batch(subs, batches(0)["mixed"][:2])
    alone = LocalCluster(tmp_path / "alone", workers=1)
    try:
        executor = DaskExecutor(alone.address)
        try:
            nanny = alone.processes[1]
            nanny.send_signal(signal.SIGTERM)  # the worker leaves for good (its nanny with it)
            nanny.wait(timeout=120)
            report = grade([subs], tmp_path / "book.csv", progress=False, executor=executor)
        finally:
            executor.close()
    finally:
        alone.close()
    assert [r.status for r in report] == ["kernel-failed", "kernel-failed"]
    assert all("no Dask worker was connected" in r.reasons[0] and "dask worker" in r.reasons[0] for r in report)
    assert [r["status"] for r in _read_book(tmp_path / "book.csv")] == ["kernel-failed"] * 2
    assert not alone.wait_gone()


# --------------------------------------------------------------------------- a worker with other code
def test_a_refusal_names_the_worker_and_the_fix_and_crosses_a_pickle():
    from lossbook.grading.cluster import ClusterUnavailable, WorkerCodeMismatch

    error = pickle.loads(pickle.dumps(WorkerCodeMismatch("tcp://10.0.0.7:4321", "aaaa", "bbbb")))
    assert isinstance(error, ClusterUnavailable) and error.worker == "tcp://10.0.0.7:4321"
    assert str(error) == ("the Dask worker tcp://10.0.0.7:4321 runs other grading code than this grader "
                          "(fingerprint aaaa, here bbbb): install the same version of the course package on "
                          "that worker as here and on the scheduler, then restart it")


def _other_code(folder: Path, older: bool) -> Path:
    """A copy of the course package whose grading code differs by one comment line (a version skew),
    or (``older``) whose task function takes the job alone, as before workers checked each task."""
    import shutil

    shutil.copytree(REPO / "lossbook", folder / "lossbook", ignore=shutil.ignore_patterns("__pycache__"))
    with open(folder / "lossbook" / "grading" / "run.py", "a", encoding="utf-8") as handle:
        handle.write("\n# another version of the grader\n")
    if older:
        cluster_py = folder / "lossbook" / "grading" / "cluster.py"
        text = cluster_py.read_text(encoding="utf-8")
        new_def = "def run_on_worker(job, fingerprint: str | None = None):\n"
        assert text.count(new_def) == 1
        cluster_py.write_text(text.replace(new_def, "def run_on_worker(job):\n    fingerprint = None\n"),
                              encoding="utf-8")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("older", [False, True], ids=["other-code", "older-lossbook"])
def test_a_worker_joining_with_other_grading_code_is_refused_and_retired(tmp_path, sandbox_ok, older):
    """Preflight saw one good worker; one with other code joins mid-batch: it grades nothing."""
    from lossbook.grading import grade
    from lossbook.grading.cluster import DaskExecutor, runtime_fingerprint

    subs = tmp_path / "submissions"
    write_lossbook_batch(subs, batches(0)["mixed"][:4])
    other = _other_code(tmp_path / "other", older)
    small = LocalCluster(tmp_path / "c", workers=1)
    try:
        executor = DaskExecutor(small.address)
        try:
            assert len(executor.workers) == 1
            env = {**small.env, "PYTHONPATH": os.pathsep.join([str(other), small.env.get("PYTHONPATH", "")])}
            small._start("late", ["worker", "--scheduler-file", str(small.scheduler_file), "--nthreads", "1",
                                  "--no-dashboard", "--host", "127.0.0.1", "--name", "late", "--local-directory",
                                  str(small.root / "late")], env=env)
            small.monitor.wait_for_workers(2, timeout=120)
            small.remember()
            late = next(a for a, info in small.monitor.scheduler_info()["workers"].items() if info["name"] == "late")
            theirs = small.monitor.run(runtime_fingerprint, workers=[late])[late]
            assert theirs != runtime_fingerprint()  # the copy's code really differs (not the repo's)
            report = grade([subs], tmp_path / "book.csv", progress=False, executor=executor, cell_timeout=CELL_TIMEOUT)
        finally:
            executor.close()
        assert late not in small.monitor.scheduler_info()["workers"]  # retired
    finally:
        small.close()
    local = tmp_path / "local.csv"
    grade([subs], local, jobs=1, progress=False, cell_timeout=CELL_TIMEOUT)
    assert _read_book(tmp_path / "book.csv") == _read_book(local)  # every row graded by the good worker
    assert [r.status for r in report] == ["graded"] * 4
    (note,) = [n for n in report.notes if late in n]
    said = "an older lossbook, without the per-task check" if older else f"fingerprint {theirs}"
    assert note.startswith(f"the Dask worker {late} runs other grading code than this grader ({said}, here ")
    assert "install the same version of the course package" in note and "retired from the cluster" in note
    assert not small.wait_gone()
