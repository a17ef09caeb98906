"""Grading on a Dask cluster: ``lossbook grade SUBMISSIONS --scheduler tcp://HOST:8786``.

Each submission becomes one Dask task, run by a worker with the same sandbox, limits and
timeouts as a local run; the client (the instructor's ``lossbook grade``) reads the
submissions, scores the runs and writes the gradebook and the feedback, atomically and
in the same order as a local run.

What travels
------------
A task carries the submission's grading plan as plain data: the cells to run (the
instructor's cells and the learner's answers) and the settings, never the expected
outputs of the hidden tests: those stay on the client, which scores what the worker
sends back (the cells' outputs) with the same comparison as a local run. A worker needs
the course package (the same version as the client) and bubblewrap; not the course
folder, the solutions or the submissions. The scheduler unpickles task graphs, so it
needs the course package too (it never runs a kernel).

Each worker process keeps one :class:`~lossbook.grading.kernel.KernelPool` per sandbox
setting (kernels started ahead of use, each used once), created by the first task that
needs it and closed when the worker closes: :class:`WorkerKernels`, a Dask
``WorkerPlugin`` registered by the client.

When a worker dies
------------------
The scheduler re-runs the tasks of a worker that died on other workers; the client
keeps one result per submission, so no row is lost or doubled. A submission whose
task was running on every worker that died ``allowed-failures + 1`` times (the
scheduler's ``distributed.scheduler.allowed-failures``; set it explicitly, e.g. 2) ends
as a ``kernel-died`` row instead of stopping the batch. Set the scheduler's
``distributed.scheduler.worker-saturation`` to 1.0 so that a worker holds only the tasks
it runs: tasks merely queued on a worker that dies are counted against it too. Dask
waits for ever for a worker; the client does not: when the cluster has had no worker for
:data:`NO_WORKER_TIMEOUT` seconds, the tasks left become ``kernel-failed`` rows that say
to start workers.

Every worker runs the client's grading code
-------------------------------------------
Before a batch, every worker is checked (:func:`runtime_fingerprint`, a digest of the
grading code). A worker that joins later is checked by each task it is given: the task
carries the client's fingerprint, and a worker whose own (computed once, when its plugin
is set up) differs refuses it before any learner code runs (:class:`WorkerCodeMismatch`,
naming the worker and the fix). The client then retires that worker from the cluster
(Dask closes it and its nanny), says so in the summary, and sends the task again, to
another worker; a submission refused :data:`MAX_REFUSALS` times becomes a
``kernel-failed`` row saying why. A worker of an older lossbook, whose task function takes
the job alone, fails the task with a ``TypeError`` instead: the client treats it as the
same refusal (the scheduler says which worker it was). No row is graded by other code
than the client's.

``import lossbook.grading.cluster`` never imports Dask: :mod:`distributed` is imported
when a scheduler is used (``pip install 'lossbook[cluster]'``).
"""
from __future__ import annotations

import os
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

#: How the course's cluster extra is installed (said by every "not installed" error).
INSTALL_HINT = "pip install 'lossbook[cluster]'"
#: The name of the worker plugin holding each worker's kernel pools.
PLUGIN_NAME = "lossbook-grading-kernels"
#: Seconds to wait for the scheduler to answer, then for a first worker.
CONNECT_TIMEOUT = 20.0
#: Seconds without any worker after which a batch's remaining tasks are given up (kernel-failed rows).
NO_WORKER_TIMEOUT = 300.0
#: How often the client looks at the number of workers while a batch runs.
WATCH_INTERVAL = 2.0
#: A worker's kernel folders are ``$TMPDIR/lbg-worker-<pid>-<random>``.
WORK_PREFIX = "lbg-worker-"
#: Tasks' keys start with this (``lossbook-grade-<batch>-<index>-<learner>-<lesson>``).
KEY_PREFIX = "lossbook-grade"
#: A submission whose task was refused by this many workers running other grading code becomes a row.
MAX_REFUSALS = 3


class ClusterUnavailable(RuntimeError):
    """Grading on a cluster cannot start: Dask missing, scheduler unreachable, no workers."""


class WorkerCodeMismatch(ClusterUnavailable):
    """A Dask worker refused a task: it runs other grading code than the grader that sent it."""

    def __init__(self, worker: str, theirs: str, ours: str):
        super().__init__(worker, theirs, ours)  # picklable: Dask sends it back to the client
        self.worker, self.theirs, self.ours = worker, theirs, ours

    def __str__(self) -> str:
        theirs = f"fingerprint {self.theirs}" if self.theirs else "an older lossbook, without the per-task check"
        return (f"the Dask worker {self.worker} runs other grading code than this grader ({theirs}, here "
                f"{self.ours}): install the same version of the course package on that worker as here "
                "and on the scheduler, then restart it")


def import_distributed():
    """:mod:`distributed`, or :class:`ClusterUnavailable` saying how to install it."""
    try:
        import distributed
    except ImportError as error:
        raise ClusterUnavailable(
            f"grading on a Dask cluster (--scheduler) needs dask.distributed, which is not installed "
            f"in this Python ({error}): {INSTALL_HINT}") from None
    return distributed


@dataclass(frozen=True)
class WorkerSettings:
    """How a worker makes its sandbox: the key of its kernel pools (picklable)."""

    no_sandbox: bool = False
    limits: object = None  # lossbook.grading.sandbox.Limits, or None for the defaults


class _Pools:
    """A worker process's kernel pools, one per :class:`WorkerSettings`, made on first use."""

    def __init__(self, size: int = 2):
        self.size = max(1, size)
        self._lock = threading.Lock()
        self._pools: dict[WorkerSettings, tuple] = {}  # settings -> (pool, sandbox, base)
        self._closed = False

    def get(self, settings: WorkerSettings):
        """``(pool, sandbox)`` for ``settings``; raises ``SandboxUnavailable`` like a local run."""
        with self._lock:
            if self._closed:
                raise RuntimeError("this worker is closing: its kernel pools are closed")
            found = self._pools.get(settings)
            if found is None:
                found = self._pools[settings] = self._make(settings)
            return found[0], found[1]

    def _make(self, settings: WorkerSettings):
        import lossbook.grading as grading_package
        from lossbook.grading.batch import remove_tree
        from lossbook.grading.kernel import KernelPool
        from lossbook.grading.runtime import build_runtime
        from lossbook.grading.sandbox import make_sandbox

        # Imported here, once: the pool's threads importing jupyter_client at the same time
        # can meet it half-initialised (a circular import inside jupyter_client).
        import jupyter_client.blocking  # noqa: F401

        base = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-"))
        os.chmod(base, 0o711)
        try:
            # The worker holds no course folder: of lossbook only the installed package is hidden.
            package = Path(grading_package.__file__).resolve().parents[1]
            sandbox = make_sandbox(build_runtime(base / "runtime"), no_sandbox=settings.no_sandbox,
                                   limits=settings.limits, hidden=(package,))
            # A pool without an end: kernels are started ahead of use, ``size`` at a time.
            pool = KernelPool(sandbox, base, size=self.size, expected=1 << 62)
        except BaseException:
            remove_tree(base)
            raise
        return pool, sandbox, base

    def close(self) -> None:
        """Kill every kernel not handed out and remove the pools' folders."""
        from lossbook.grading.batch import remove_tree

        with self._lock:
            self._closed = True
            pools, self._pools = list(self._pools.values()), {}
        for pool, _, base in pools:
            try:
                pool.close()
            finally:
                remove_tree(base)


def remove_stale_folders(folder: str | None = None) -> list[Path]:
    """Remove the kernel folders of worker processes that no longer exist (SIGKILLed workers).

    A worker that is killed cannot clean up: its sandboxes die with it (bubblewrap's
    ``--die-with-parent``) but its folder in ``TMPDIR`` stays. Each folder is named after
    its worker's process id; the next worker on the machine removes those whose process
    is gone. Returns the folders removed.
    """
    from lossbook.grading.batch import remove_tree

    removed = []
    for path in Path(folder or tempfile.gettempdir()).glob(f"{WORK_PREFIX}*-*"):
        pid = path.name[len(WORK_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or not path.is_dir() or path.is_symlink():
            continue
        try:
            os.kill(int(pid), 0)
            continue  # alive (or its number reused: kept, to be safe)
        except ProcessLookupError:
            pass
        except PermissionError:
            continue
        remove_tree(path)
        removed.append(path)
    return removed


class _WorkerKernelsBase:
    """The worker plugin's behaviour (the Dask base class is added by :data:`WorkerKernels`)."""

    name = PLUGIN_NAME
    idempotent = True  # registering again (another batch) keeps the warm pools

    def setup(self, worker) -> None:
        # The code this worker process runs: computed once, as it joins (a later change of the
        # files on disk is not what this process imported).
        self.fingerprint = runtime_fingerprint()
        remove_stale_folders()
        # Kernels ahead of use: one per thread plus one, as the local pool keeps 2 per job + 2.
        self.pools = _Pools(size=getattr(getattr(worker, "state", None), "nthreads", 1) + 1)

    def teardown(self, worker) -> None:
        pools = getattr(self, "pools", None)
        if pools is not None:
            pools.close()


_PLUGIN_CLASS = None
_PLUGIN_CLASS_LOCK = threading.Lock()


def __getattr__(name):
    """``WorkerKernels``: made on first use, so that importing this module never imports Dask.

    A module attribute (PEP 562), so that Dask pickles the class by reference and every
    worker finds it as ``lossbook.grading.cluster.WorkerKernels``.
    """
    global _PLUGIN_CLASS
    if name != "WorkerKernels":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    with _PLUGIN_CLASS_LOCK:
        if _PLUGIN_CLASS is None:
            plugin_base = import_distributed().WorkerPlugin

            class WorkerKernels(_WorkerKernelsBase, plugin_base):
                """A Dask worker plugin: the worker's kernel pools, closed when the worker closes."""

            WorkerKernels.__module__ = __name__
            _PLUGIN_CLASS = WorkerKernels
            globals()["WorkerKernels"] = WorkerKernels
        return _PLUGIN_CLASS


def _worker_plugin():
    from distributed import get_worker

    worker = get_worker()
    plugin = worker.plugins.get(PLUGIN_NAME)
    if plugin is None or getattr(plugin, "pools", None) is None:
        raise RuntimeError(f"the Dask worker {worker.address} has no {PLUGIN_NAME!r} plugin: grade through "
                           "lossbook.grading.cluster (it registers the plugin on every worker)")
    return worker, plugin


def worker_pools() -> _Pools:
    """This worker's kernel pools (inside a task or ``Client.run`` on a worker)."""
    return _worker_plugin()[1].pools


def task_key(batch: str, index: int, learner: str, lesson: str) -> str:
    """The Dask key of one submission's task: unique per batch, readable on the dashboard.

    >>> task_key("b1", 7, "ana", "02_mse")
    'lossbook-grade-b1-00007-ana-02_mse'
    """
    return f"{KEY_PREFIX}-{batch}-{index:05d}-{learner}-{lesson}"


def new_batch_id() -> str:
    return uuid.uuid4().hex[:12]


def runtime_fingerprint() -> str:
    """A digest of the grading code: a client and its workers must run the same.

    Covers ``lossbook/grading`` (run records, sandbox, kernel, stand-in), and what the
    sandboxed kernel is given of the course (``canonical.py``, ``exercises/forbidden.py``).
    """
    import hashlib

    import lossbook.grading as grading_package

    grading = Path(grading_package.__file__).resolve().parent
    package = grading.parent
    files = sorted(p for p in grading.rglob("*") if p.is_file() and p.suffix in (".py", ".txt", ".cfg")
                   and "__pycache__" not in p.parts)
    files += [package / "canonical.py", package / "status.py", package / "exercises" / "forbidden.py"]
    digest = hashlib.sha256()
    for path in files:
        if path.is_file():
            digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _prepare_here(pools: _Pools, settings: WorkerSettings) -> dict:
    _, sandbox = pools.get(settings)
    return {"sandbox": sandbox.name, "warnings": list(sandbox.warnings), "fingerprint": runtime_fingerprint()}


async def prepare_worker(settings: WorkerSettings, dask_worker=None) -> dict:
    """On each worker (``Client.run``): make its sandbox and start its kernels now.

    Returns what the client checks and reports: the sandbox's name and warnings, and the
    worker's :func:`runtime_fingerprint`. Raises ``SandboxUnavailable`` as a local run does.
    """
    import asyncio

    plugin = dask_worker.plugins.get(PLUGIN_NAME)
    if plugin is None or getattr(plugin, "pools", None) is None:
        raise RuntimeError(f"the Dask worker {dask_worker.address} has no {PLUGIN_NAME!r} plugin")
    # In a thread: the sandbox probe starts processes; the worker's event loop goes on.
    return await asyncio.to_thread(_prepare_here, plugin.pools, settings)


def run_on_worker(job, fingerprint: str | None = None):
    """The Dask task of one submission: ``job`` (a :class:`~lossbook.grading.run.GradingJob`)
    on a fresh kernel of this worker's pool; returns its ``SubmissionRuns``.

    ``fingerprint``: the grader's :func:`runtime_fingerprint`; a worker running other code
    raises :class:`WorkerCodeMismatch` before it starts anything (the one exception this
    raises: every other problem is the records' failure).
    """
    from lossbook.grading.batch import run_job
    from lossbook.grading.run import SubmissionRuns
    from lossbook.grading.sandbox import SandboxUnavailable
    from lossbook.status import RowStatus

    try:
        worker, plugin = _worker_plugin()
    except Exception as error:  # noqa: BLE001 - one submission, one row
        return SubmissionRuns.failed(job, RowStatus.INTERNAL_ERROR, f"grader error on the Dask worker: "
                                     f"{type(error).__name__}: {str(error)[:200]}")
    theirs = getattr(plugin, "fingerprint", None) or runtime_fingerprint()
    if fingerprint is not None and theirs != fingerprint:
        raise WorkerCodeMismatch(str(worker.address), theirs, fingerprint)
    try:
        pool, _ = plugin.pools.get(WorkerSettings(bool(job.no_sandbox), job.limits))
    except SandboxUnavailable as error:
        return SubmissionRuns.failed(job, RowStatus.KERNEL_FAILED, f"no sandbox on the Dask worker: {error}")
    except Exception as error:  # noqa: BLE001 - one submission, one row
        return SubmissionRuns.failed(job, RowStatus.INTERNAL_ERROR, f"grader error on the Dask worker: "
                                     f"{type(error).__name__}: {str(error)[:200]}")
    return run_job(job, pool)


class DaskExecutor:
    """The executor of ``lossbook grade --scheduler``: one Dask task per submission.

    Implements the executor protocol of :mod:`lossbook.grading.batch` (``run(jobs)``
    yields ``(index, SubmissionRuns)`` as tasks finish; ``close()``). Connecting checks
    the cluster before any submission is sent: the scheduler answers, a worker is there,
    every worker can make its sandbox (else ``SandboxUnavailable``, as locally) and runs
    the same grading code as this client. ``client`` (instead of ``address``) uses a
    connected ``distributed.Client`` (a Dask Gateway's, say); it is not closed here.
    """

    def __init__(self, address: str | None = None, *, no_sandbox: bool = False, limits=None,
                 client=None, timeout: float | None = None):
        distributed = import_distributed()
        timeout = CONNECT_TIMEOUT if timeout is None else timeout
        from lossbook.grading.sandbox import SandboxUnavailable

        self.settings = WorkerSettings(bool(no_sandbox), limits)
        if client is None and not address:
            raise ClusterUnavailable("give the Dask scheduler's address (--scheduler tcp://HOST:8786)")
        self.address = address or getattr(getattr(client, "scheduler", None), "address", "the client's scheduler")
        self._owned = client is None
        if client is None:
            client = _connect(distributed, address, timeout)
        self.client = client
        try:
            try:
                client.wait_for_workers(1, timeout=timeout)
            except Exception:  # noqa: BLE001 - dask's TimeoutError, or the scheduler went away
                raise ClusterUnavailable(
                    f"the Dask scheduler at {self.address} (--scheduler) has no workers after {timeout:g} s: "
                    f"start some on machines with the course package and bubblewrap installed "
                    f"(`dask worker {self.address} --nthreads 1`), then grade again") from None
            client.register_plugin(__getattr__("WorkerKernels")(), name=PLUGIN_NAME)
            found = client.run(prepare_worker, self.settings, on_error="return")
            mine = runtime_fingerprint()
            names, warnings = set(), {}
            for worker, info in sorted(found.items()):
                if isinstance(info, SandboxUnavailable):
                    raise SandboxUnavailable(f"on the Dask worker {worker}: {info}")
                if isinstance(info, BaseException):
                    raise ClusterUnavailable(f"the Dask worker {worker} cannot grade: {type(info).__name__}: "
                                             f"{str(info)[:300]}")
                if info["fingerprint"] != mine:
                    raise ClusterUnavailable(
                        f"the Dask worker {worker} runs other grading code than this grader (fingerprint "
                        f"{info['fingerprint']}, here {mine}): install the same version of the course package "
                        "on the workers, the scheduler and here, then restart the workers")
                names.add(info["sandbox"])
                for warning in info["warnings"]:
                    warnings.setdefault(warning, []).append(worker)
        except BaseException:
            self.close()
            raise
        self.workers = sorted(found)
        self.fingerprint = mine
        self.refused_workers: list[str] = []  # retired mid-batch: they ran other grading code
        #: The executor protocol: the sandbox of rows never run, whether kernels were isolated,
        #: and what the workers' sandboxes cannot protect (each said once, naming the workers).
        self.sandbox_name = "/".join(sorted(names)) or ("NONE" if no_sandbox else "bwrap")
        self.isolated = not no_sandbox
        self.warnings = [f"{text} (Dask worker{'s' if len(where) > 1 else ''} {', '.join(where)})"
                         for text, where in warnings.items()]

    def run(self, jobs):
        """Submit every job (one task each); yield ``(index, SubmissionRuns)`` as each finishes."""
        distributed = import_distributed()
        batch = new_batch_id()
        futures = {}
        refusals = [0] * len(jobs)

        def submit(index: int):
            key = task_key(batch, index, *_learner_lesson(jobs[index]))
            key += f"-again{refusals[index]}" if refusals[index] else ""
            future = self.client.submit(run_on_worker, jobs[index], self.fingerprint, key=key, pure=False)
            futures[future] = index
            return future

        for index in range(len(jobs)):
            submit(index)
        given_up: list[str] = []  # why the remaining tasks were cancelled (the watchdog's word)
        stop = threading.Event()
        watchdog = threading.Thread(target=self._watch_workers, args=(futures, given_up, stop), daemon=True,
                                    name="lossbook-no-workers")
        watchdog.start()
        try:
            finished = distributed.as_completed(list(futures), loop=self.client.loop)
            for future in finished:
                index = futures.pop(future)
                refused = _refusal(future) or self._older_worker(future)
                if refused is not None:
                    self._retire(refused)
                    refusals[index] += 1
                    if refusals[index] < MAX_REFUSALS and not given_up:
                        future.release()
                        finished.add(submit(index))  # to another worker: that one is retired
                        continue
                yield index, _runs_of(future, jobs[index], distributed, given_up[0] if given_up else None)
                future.release()
        finally:
            stop.set()
            if futures:  # the caller stopped early: nothing is left running for it
                self.client.cancel(list(futures))
            watchdog.join(timeout=10)

    def _older_worker(self, future) -> "WorkerCodeMismatch | None":
        """A worker too old to refuse (its ``run_on_worker`` takes the job alone) failed the task
        with a ``TypeError``: the same refusal, the worker found from the scheduler's record."""
        try:
            error = future.exception() if future.status == "error" else None
        except Exception:  # noqa: BLE001 - cancelled, or lost
            return None
        if not (isinstance(error, TypeError) and str(error).startswith("run_on_worker()")
                and "positional argument" in str(error)):
            return None
        key = future.key
        try:  # a function sent by value: the scheduler may run an older lossbook too
            workers = self.client.run_on_scheduler(
                lambda dask_scheduler: sorted(getattr(dask_scheduler.tasks.get(key), "erred_on", None) or ()))
        except Exception:  # noqa: BLE001 - the scheduler is gone: the row says what the task raised
            return None
        if len(workers) != 1:
            return None
        return WorkerCodeMismatch(workers[0], "", self.fingerprint)

    def _retire(self, refused: "WorkerCodeMismatch") -> None:
        """Take a worker that runs other grading code out of the cluster, once; the summary says so."""
        if refused.worker in self.refused_workers:
            return
        self.refused_workers.append(refused.worker)
        self.warnings.append(f"{refused}; it was retired from the cluster (Dask closed it) and its "
                             "submissions were graded by the other workers")
        try:
            self.client.retire_workers([refused.worker], close_workers=True)
        except Exception:  # noqa: BLE001 - gone already, or the scheduler refused: its tasks are refused anyway
            pass

    def _watch_workers(self, futures: dict, given_up: list[str], stop: threading.Event) -> None:
        """Cancel what is left when the cluster has had no worker for :data:`NO_WORKER_TIMEOUT` s.

        Dask keeps tasks waiting for a worker forever; a batch must end (with rows that
        say why) when every worker is gone and none comes back.
        """
        alone_since = None
        while not stop.wait(WATCH_INTERVAL):
            try:
                workers = len(self.client.nthreads())
            except Exception:  # noqa: BLE001 - the scheduler is gone too: no worker either
                workers = 0
            if workers:
                alone_since = None
                continue
            alone_since = alone_since if alone_since is not None else time.monotonic()
            if time.monotonic() - alone_since >= NO_WORKER_TIMEOUT:
                given_up.append(f"no Dask worker was connected to the scheduler for {NO_WORKER_TIMEOUT:g} s, "
                                "so its task was cancelled: start workers (`dask worker "
                                f"{self.address}`) and grade again")
                for _ in range(100):  # the consumer pops finished futures meanwhile
                    try:
                        waiting = [f for f in list(futures) if f.status == "pending"]
                        break
                    except RuntimeError:
                        continue
                else:
                    waiting = []
                try:
                    self.client.cancel(waiting)
                except Exception:  # noqa: BLE001 - the scheduler is gone: the futures are lost anyway
                    pass
                return

    def close(self) -> None:
        client, self.client = getattr(self, "client", None), None
        if client is not None and self._owned:
            client.close()


def _connect(distributed, address: str, timeout: float):
    try:
        return distributed.Client(address, timeout=timeout, set_as_default=False, name="lossbook-grade")
    except Exception as error:  # noqa: BLE001 - OSError, TimeoutError, ValueError (a bad address)
        raise ClusterUnavailable(
            f"cannot reach the Dask scheduler at {address!r} (--scheduler) within {timeout:g} s "
            f"({type(error).__name__}: {str(error)[:200]}): give the address `dask scheduler` prints "
            "(tcp://HOST:8786) and check that it is running and reachable from here") from None


def _learner_lesson(job) -> tuple[str, str]:
    import re

    learner, _, lesson = str(job.key).partition(" × ")
    clean = lambda text: re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:80]  # noqa: E731
    return clean(learner or "submission"), clean(lesson or job.lesson)


def _refusal(future) -> WorkerCodeMismatch | None:
    """The worker's refusal, when the task of ``future`` was refused for running other code."""
    try:
        error = future.exception() if future.status == "error" else None
    except Exception:  # noqa: BLE001 - cancelled, or lost: not a refusal
        return None
    return error if isinstance(error, WorkerCodeMismatch) else None


def _runs_of(future, job, distributed, cancelled_because: str | None = None):
    """A finished task's ``SubmissionRuns``; a task the cluster could not run gets a failure."""
    from lossbook.grading.run import SubmissionRuns
    from lossbook.status import RowStatus

    try:
        runs = future.result()
    except distributed.KilledWorker as error:
        return SubmissionRuns.failed(job, RowStatus.KERNEL_DIED, (
            f"the Dask worker running it died each time it was run ({error.allowed_failures + 1} times; the "
            f"scheduler's allowed-failures is {error.allowed_failures}): the kernel or the machine was "
            "killed (memory?); not graded"))
    except WorkerCodeMismatch as error:
        return SubmissionRuns.failed(job, RowStatus.KERNEL_FAILED, (
            f"not graded: the Dask workers given it refused it, running other grading code than this "
            f"grader (after {MAX_REFUSALS} refusals, or when no worker was left); the last: {error}"))
    except TypeError as error:
        if str(error).startswith("run_on_worker()"):  # a worker too old to refuse (its worker was retired)
            return SubmissionRuns.failed(job, RowStatus.KERNEL_FAILED, (
                f"not graded: the Dask workers given it run an older lossbook ({error}): install the same "
                "version of the course package on the workers as here, then restart them"))
        return SubmissionRuns.failed(job, RowStatus.INTERNAL_ERROR, f"grader error on the Dask cluster: "
                                     f"{type(error).__name__}: {str(error)[:200]}")
    except (distributed.client.FutureCancelledError, distributed.CancelledError) as error:
        if cancelled_because:
            return SubmissionRuns.failed(job, RowStatus.KERNEL_FAILED, f"not graded: {cancelled_because}")
        return SubmissionRuns.failed(job, RowStatus.KERNEL_FAILED, (
            f"the Dask cluster dropped its task ({type(error).__name__}: the scheduler restarted, or this "
            "grader lost its connection): grade again"))
    except Exception as error:  # noqa: BLE001 - one submission, one row
        return SubmissionRuns.failed(job, RowStatus.INTERNAL_ERROR, f"grader error on the Dask cluster: "
                                     f"{type(error).__name__}: {str(error)[:200]}")
    if not isinstance(runs, SubmissionRuns):
        return SubmissionRuns.failed(job, RowStatus.INTERNAL_ERROR, f"grader error: the Dask worker returned "
                                     f"{type(runs).__name__}, not run records")
    return runs
