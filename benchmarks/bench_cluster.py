"""Grading on a Dask cluster vs on this machine: submissions per second, one run.

Grades the same batch (lesson 02, correct submissions, built by
``benchmarks/bench_grading.py``'s builder) four ways, each as an instructor runs it (a
fresh ``lossbook grade`` command, start-up included):

- ``--jobs 1`` and ``--jobs 2`` on this machine;
- ``--scheduler`` on a real local Dask cluster (``dask scheduler`` + ``dask worker``
  subprocesses on 127.0.0.1, one thread per worker) with 1 worker, then with 2.

The four are interleaved round by round, so that the machine's load (shared with other
work) falls alike on each; each is run once untimed first (a standing cluster's workers
then hold warm kernel pools, as they do between an instructor's batches). The figures
are medians over the rounds. Compare ratios, not absolute seconds, and read them beside
the load average printed with them.

Run: ``.venv/bin/python benchmarks/bench_cluster.py [--n 20] [--rounds 2]``
(needs ``pip install 'lossbook[cluster]'`` and bubblewrap).

:class:`LocalCluster` (start a real local cluster as subprocesses, close it, list what is
left) is also what ``tests/grading/test_cluster.py`` uses.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from benchmarks.bench_grading import LESSON, _answers, write_lossbook_batch  # noqa: E402

#: The scheduler settings docs/instructor.md asks for (a dying worker re-runs only its own task).
SCHEDULER_ENV = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "2",
                 "DASK_DISTRIBUTED__SCHEDULER__WORKER_SATURATION": "1.0"}


def dask_command() -> list[str]:
    dask = Path(sys.executable).with_name("dask")
    return [str(dask)] if dask.exists() else [sys.executable, "-m", "dask"]


class LocalCluster:
    """A real ``dask scheduler`` and ``workers`` ``dask worker`` processes on 127.0.0.1.

    Random free ports (the scheduler's address is read from its scheduler file), one
    thread per worker, no dashboard, each worker under a nanny (which restarts it if it
    dies). Everything they write, kernels' folders included (``TMPDIR``), is under
    ``root``. :meth:`close` stops them (SIGTERM: workers close their kernel pools);
    :meth:`leftovers` lists any process of theirs still alive.
    """

    def __init__(self, root: Path, workers: int = 2, timeout: float = 180.0, worker_env: dict | None = None):
        self.root = Path(root)
        self.scheduler_file = self.root / "scheduler.json"
        (self.root / "tmp").mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, "TMPDIR": str(self.root / "tmp"), **SCHEDULER_ENV}
        self.worker_env = {**self.env, **(worker_env or {})}
        self.processes: list[subprocess.Popen] = []
        self.seen: dict[int, float] = {}  # pid -> create time, of every process seen in the cluster
        self.monitor = None
        try:
            scheduler = self._start("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                                  "--no-dashboard", "--scheduler-file", str(self.scheduler_file)])
            deadline = time.monotonic() + timeout
            while not self.scheduler_file.exists():
                if scheduler.poll() is not None:
                    raise RuntimeError(f"dask scheduler exited: {self.log('scheduler')}")
                if time.monotonic() > deadline:
                    raise RuntimeError(f"dask scheduler did not start within {timeout:g} s")
                time.sleep(0.2)
            self.address = json.loads(self.scheduler_file.read_text())["address"]
            for index in range(workers):
                self._start(f"worker{index}", ["worker", "--scheduler-file", str(self.scheduler_file),
                                               "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1",
                                               "--name", f"w{index}", "--local-directory",
                                               str(self.root / f"w{index}")], env=self.worker_env)
            from distributed import Client

            self.monitor = Client(self.address, timeout=60, set_as_default=False)
            if workers:
                self.monitor.wait_for_workers(workers, timeout=timeout)
            self.remember()
        except BaseException:
            self.close()
            raise

    def _start(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        with open(self.root / f"{name}.log", "wb") as log:
            proc = subprocess.Popen(dask_command() + argv, stdout=log, stderr=subprocess.STDOUT,
                                    env=env or self.env, cwd=self.root, start_new_session=True)
        self.processes.append(proc)
        return proc

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")[-3000:]

    def remember(self) -> None:
        """Note every process of the cluster now (workers are their nannies' children)."""
        import psutil

        for proc in self.processes:
            try:
                parent = psutil.Process(proc.pid)
                for p in [parent, *parent.children(recursive=True)]:
                    self.seen.setdefault(p.pid, p.create_time())
            except psutil.NoSuchProcess:
                pass

    def executing(self) -> dict[int, list[str]]:
        """Worker process id -> keys of the tasks it is executing now (workers that answer)."""
        answers = self.monitor.run(
            lambda dask_worker: (os.getpid(), [str(k) for k, ts in dask_worker.state.tasks.items()
                                               if ts.state == "executing"]), on_error="return")
        return {answer[0]: answer[1] for answer in answers.values() if isinstance(answer, tuple)}

    def close(self) -> None:
        self.remember()
        try:
            if self.monitor is not None:
                self.monitor.close()
        finally:
            for proc in reversed(self.processes):  # workers first (their nannies close them), then the scheduler
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=30)

    def leftovers(self) -> list[str]:
        """Processes of this cluster still alive: any seen, and any naming its folder (kernels)."""
        import psutil

        alive = []
        for pid, created in self.seen.items():
            try:
                proc = psutil.Process(pid)
                if proc.create_time() == created and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.append(f"{pid}: {' '.join(proc.cmdline())[:200]}")
            except psutil.NoSuchProcess:
                pass
        marker = str(self.root)
        for proc in psutil.process_iter(["pid", "cmdline", "status"]):
            try:
                if proc.info["status"] == psutil.STATUS_ZOMBIE or proc.pid == os.getpid():
                    continue
                line = " ".join(proc.info["cmdline"] or ())
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if marker in line and not any(entry.startswith(f"{proc.pid}:") for entry in alive):
                alive.append(f"{proc.pid}: {line[:200]}")
        return alive

    def wait_gone(self, seconds: float = 30.0) -> list[str]:
        """:meth:`leftovers` once they are gone, or after ``seconds`` (SIGKILLed sandboxes take a moment)."""
        deadline = time.monotonic() + seconds
        while self.leftovers() and time.monotonic() < deadline:
            time.sleep(0.5)
        return self.leftovers()


def grade_seconds(subs: Path, out: Path, extra: list[str], env: dict) -> float:
    """Seconds of one ``lossbook grade`` command; checks every row is graded with full marks."""
    import csv

    out.unlink(missing_ok=True)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "lossbook", "grade", str(subs), "--out", str(out), *extra],
                          capture_output=True, text=True, env=env, cwd=REPO)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"lossbook grade {' '.join(extra)} failed: {done.stderr[-2000:]}")
    with open(out, newline="") as handle:
        rows = list(csv.DictReader(handle))
    bad = [r["learner"] for r in rows if r["status"] != "graded" or float(r["total"]) != float(r["max"])]
    if bad:
        raise RuntimeError(f"lossbook grade {' '.join(extra)}: not full marks for {bad}")
    return seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=20, help="submissions in the batch (default 20)")
    parser.add_argument("--rounds", type=int, default=2, help="timed rounds (default 2)")
    args = parser.parse_args(argv)
    try:
        import distributed  # noqa: F401
    except ImportError:
        print("bench_cluster: dask.distributed is not installed: pip install 'lossbook[cluster]'", file=sys.stderr)
        return 2
    work = Path(tempfile.mkdtemp(prefix="lossbook-bench-cluster-"))
    clusters: list[LocalCluster] = []
    try:
        subs = work / "submissions"
        write_lossbook_batch(subs, [_answers() for _ in range(args.n)])
        clusters = [LocalCluster(work / "one-worker", workers=1), LocalCluster(work / "two-workers", workers=2)]
        ways = {"lossbook --jobs 1": ["--jobs", "1"], "lossbook --jobs 2": ["--jobs", "2"],
                "Dask, 1 worker": ["--scheduler", clusters[0].address],
                "Dask, 2 workers": ["--scheduler", clusters[1].address]}
        env = {**os.environ, "TMPDIR": str(work)}
        times: dict[str, list[float]] = {name: [] for name in ways}
        loads = []
        for round_ in range(args.rounds + 1):  # round 0: untimed warm-up
            for name, extra in ways.items():
                seconds = grade_seconds(subs, work / "book.csv", extra, env)
                if round_:
                    times[name].append(seconds)
            loads.append(os.getloadavg()[0])
        print(f"cluster benchmark: lesson {LESSON}, {args.n} correct submissions, {args.rounds} rounds "
              f"(medians), {os.cpu_count()} cores, load average {min(loads):.1f}-{max(loads):.1f}")
        print(f"{'how':20} {'seconds':>8} {'submissions/s':>14} {'vs --jobs 1':>12}")
        base = statistics.median(times["lossbook --jobs 1"])
        for name, values in times.items():
            median = statistics.median(values)
            print(f"{name:20} {median:8.1f} {args.n / median:14.2f} {base / median:11.2f}×")
        print("each way is a fresh `lossbook grade` command (start-up, connection and gradebook included); "
              "the clusters' workers keep warm kernels between batches")
    finally:
        for cluster in clusters:
            cluster.close()
        left = [line for cluster in clusters for line in cluster.wait_gone()]
        shutil.rmtree(work, ignore_errors=True)
        if left:
            print("processes left behind:\n" + "\n".join(left), file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
