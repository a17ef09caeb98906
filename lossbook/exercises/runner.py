"""Run the learner's function on the cases, isolated, with a CPU-time limit.

Isolation
---------
Where the platform can fork (Linux and other POSIX systems except macOS), the cases run
in a **forked child process**: the learner's function, their ``print`` output and
whatever it breaks live and die there. The child may use at most ``timeout`` seconds of CPU
time for the whole run; then it is ended and its process group killed (``SIGKILL``). That stops ``while
True:`` loops even when the learner's code swallows every exception (``except
BaseException: pass``), and a learner's ``sys.exit``, ``os._exit`` or a crash ends only
the child. The kernel stays usable. Forking is cheap (copy-on-write): a few milliseconds.

The limit is **CPU time**, not wall-clock time, so a verdict does not depend on how busy
the machine is: a check that needs 1.1 s of CPU passes on an idle laptop and on a server
at load 8 alike. In the child an ``ITIMER_PROF`` interval timer ends the process with
``SIGPROF`` once it has used ``timeout`` seconds of CPU (``RLIMIT_CPU`` one second later
as a kernel-enforced backstop, should the learner's code touch the signal); the parent
reads the child's CPU time from ``wait4`` and reports a CPU time-out. Code that waits
without computing (``time.sleep``, a blocking read) uses no CPU: a wall-clock backstop,
:func:`wall_limit` (at least a minute), stops it and says so.

Forking a process with live BLAS/OpenMP threads needs care. OpenBLAS's own fork handler
shuts its worker threads down and can lose the wake-up of a worker that was just busy
for another thread: ``fork()`` then never returns (measured: a background thread
multiplying 500×500 matrices while the main thread checks; gdb shows
``blas_thread_shutdown_`` stuck in ``pthread_join``). Workers idle since before that
thread's BLAS calls are safe. So when this module is imported into a process that has
other threads (a Jupyter kernel always has; ``from lossbook import check`` imports it),
BLAS is limited to one thread for the rest of the session (``threadpoolctl``, installed
with scikit-learn; without it nothing is changed). For the course's array sizes one
BLAS thread costs nothing. Remaining risk: a thread already running multi-threaded BLAS
before the checker was imported. The child also sets
``OMP_NUM_THREADS=1`` etc. for anything first loaded there. If another library
deadlocks after fork (e.g. OpenMP used in the parent before the check) and a correct
function times out, set ``LOSSBOOK_CHECK_ISOLATION=inprocess``.

Fallback (``LOSSBOOK_CHECK_ISOLATION=inprocess``, and by default on Windows and macOS,
where fork is unavailable or unsafe with the system frameworks): the cases run in the
current process. The limit is an ``ITIMER_PROF`` (process CPU time) interval timer when
available in the main thread, with ``ITIMER_REAL`` as the wall-clock backstop, else a
watchdog thread that polls the process's CPU time and raises :class:`CheckTimeout`
asynchronously in the running thread. Both stop plain loops and loops in ``except Exception`` blocks, but NOT
code that swallows ``BaseException`` or sits inside one long C call: isolation is only
complete with fork.

The learner's function always receives deep copies of the inputs; arguments it changed
are reported (mutation warning).
"""
from __future__ import annotations

import contextlib
import copy
import ctypes
import functools
import io
import os
import pickle
import select
import signal
import struct
import sys
import threading
import time
import traceback
import warnings
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np

from lossbook.exercises.model import Case

#: Seconds of CPU time a whole check may use before the learner's function is stopped.
DEFAULT_TIMEOUT = 5.0
#: The wall-clock backstop: at least this many seconds, and at least this many times the CPU limit.
MIN_WALL_LIMIT = 60.0
WALL_LIMIT_FACTOR = 12.0
#: Most characters of the learner's printed output kept and shown.
MAX_STDOUT = 2000
_THREAD_ENV = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS", "NUMEXPR_NUM_THREADS")


class CheckTimeout(BaseException):
    """Raised into the learner's code by the in-process fallback when time is up.

    A ``BaseException`` so that ``except Exception`` in the learner's code does not swallow it.
    """


@dataclass(frozen=True)
class ErrorInfo:
    """An exception the learner's function raised, reduced to plain text."""

    type: str
    message: str
    lineno: int | None = None
    line: str | None = None

    @property
    def not_implemented(self) -> bool:
        return self.type == "NotImplementedError"


@dataclass(frozen=True)
class Opaque:
    """Stands in for an output that cannot cross the process boundary (not picklable)."""

    type_name: str
    text: str

    def __repr__(self) -> str:
        return self.text


@dataclass
class CaseOutcome:
    """What happened on one case: a value or an error, and any arguments mutated."""

    index: int
    value: Any = None
    error: ErrorInfo | None = None
    mutated: tuple[str, ...] = ()
    warned: tuple[str, ...] = ()


@dataclass
class RunResult:
    """Everything the run produced. ``outcomes`` holds the cases that finished, in order."""

    outcomes: list[CaseOutcome] = field(default_factory=list)
    timed_out_case: int | None = None
    crashed: str | None = None
    crashed_case: int | None = None
    stdout: str = ""
    isolation: str = "fork"
    #: Why the run was stopped, when ``timed_out_case`` is set: ``"cpu"`` (it used its
    #: ``timeout`` seconds of CPU time) or ``"wall"`` (it waited :func:`wall_limit` seconds).
    timeout_kind: str | None = None
    #: The limit that stopped it, in seconds (CPU or wall-clock, as ``timeout_kind`` says).
    limit: float | None = None


def wall_limit(timeout: float) -> float:
    """The wall-clock backstop for a CPU-time limit of ``timeout`` seconds.

    Only code that waits without computing reaches it; it is generous so that a busy
    machine never turns a correct function into a time-out.
    """
    return max(MIN_WALL_LIMIT, WALL_LIMIT_FACTOR * timeout)


# --------------------------------------------------------------------------- the case loop
@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[str, ...]:
    """Folders whose code is not the learner's: the standard library, site-packages, lossbook."""
    import sysconfig

    paths = {sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths.add(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return tuple(os.path.abspath(p) + os.sep for p in paths if p)


def _learner_frame(exc: BaseException, fn: Callable) -> tuple[int | None, str | None]:
    """The innermost traceback line in the learner's code (line number, source text).

    The learner's code is any frame outside the standard library, site-packages and
    lossbook (a helper defined in another notebook cell counts too); failing that, the
    innermost frame in the file that defines ``fn``.
    """
    frames = traceback.extract_tb(exc.__traceback__)
    library = _library_dirs()
    mine = [f for f in frames
            if not f.filename.startswith("<frozen") and not os.path.abspath(f.filename).startswith(library)]
    if not mine:
        filename = getattr(getattr(fn, "__code__", None), "co_filename", None)
        mine = [f for f in frames if f.filename == filename]
    if not mine:
        return None, None
    frame = mine[-1]
    return frame.lineno, (frame.line or "").strip() or None


def _error_info(exc: BaseException, fn: Callable) -> ErrorInfo:
    lineno, line = _learner_frame(exc, fn)
    message = str(exc)
    if len(message) > 300:
        message = message[:297] + "..."
    return ErrorInfo(type(exc).__name__, message, lineno, line)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, dict) or isinstance(b, dict):   # e.g. a dict of parameter arrays
        return (isinstance(a, dict) and isinstance(b, dict) and a.keys() == b.keys()
                and all(_same(a[k], b[k]) for k in a))
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        try:
            return (isinstance(a, np.ndarray) and isinstance(b, np.ndarray) and a.shape == b.shape
                    and a.dtype == b.dtype and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc")))
        except TypeError:
            return False
    try:
        return bool(a == b)
    except Exception:
        return False


def _run_one(fn: Callable, case: Case, index: int, arg_names: Sequence[str]) -> CaseOutcome:
    args = copy.deepcopy(case.args)
    kwargs = copy.deepcopy(dict(case.kwargs))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            value = fn(*args, **kwargs)
        except CheckTimeout:
            raise
        except BaseException as exc:  # noqa: BLE001 - the learner's code may raise anything, even SystemExit
            return CaseOutcome(index, error=_error_info(exc, fn))
    # Category and message only: a warning's file and line would put paths in the feedback.
    warned = tuple(dict.fromkeys(f"{w.category.__name__}: {w.message}" for w in caught))
    mutated = tuple(
        arg_names[i] if i < len(arg_names) else f"argument {i + 1}"
        for i, (before, after) in enumerate(zip(case.args, args)) if not _same(before, after)
    ) + tuple(k for k in kwargs if not _same(case.kwargs[k], kwargs[k]))
    return CaseOutcome(index, value=value, mutated=mutated, warned=warned)


def _portable(value: Any) -> Any:
    """The value itself when it pickles, else an :class:`Opaque` stand-in."""
    try:
        pickle.dumps(value)
        return value
    except Exception:
        try:
            text = repr(value)
        except Exception:
            text = f"<{type(value).__name__}>"
        return Opaque(type(value).__name__, text[:200])


# --------------------------------------------------------------------------- fork isolation
def _send(fd: int, message: Any) -> None:
    data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    view = memoryview(struct.pack("!I", len(data)) + data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _no_input(*args, **kwargs):
    raise RuntimeError("input() cannot be used inside a function being checked")


def _limit_cpu(timeout: float) -> None:
    """End this (child) process once it has used ``timeout`` seconds of CPU time.

    ``SIGPROF`` from ``ITIMER_PROF`` (its default action ends the process) at ``timeout``;
    ``RLIMIT_CPU`` (``SIGXCPU``, then ``SIGKILL`` a second later) backs it up, counted from
    the fork (a child's CPU times start at zero).
    """
    import resource

    signal.signal(signal.SIGPROF, signal.SIG_DFL)
    signal.setitimer(signal.ITIMER_PROF, timeout)
    soft = int(timeout) + 2
    with contextlib.suppress(ValueError, OSError):
        _, hard = resource.getrlimit(resource.RLIMIT_CPU)
        if hard == resource.RLIM_INFINITY or hard > soft:
            resource.setrlimit(resource.RLIMIT_CPU, (soft, soft + 1))


def _child(fd: int, fn: Callable, cases: Sequence[Case], arg_names: Sequence[str], timeout: float) -> None:
    import builtins
    import faulthandler

    faulthandler.disable()  # a crash is reported by the parent; no dump on the kernel's stderr
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    _limit_cpu(timeout)
    builtins.input = _no_input  # the kernel's input() talks to the frontend over sockets the child must not touch
    for name in _THREAD_ENV:
        os.environ[name] = "1"
    buffer = io.StringIO()
    sys.stdout = sys.stderr = buffer  # the parent's streams may hold locks of threads that no longer exist
    for index, case in enumerate(cases):
        _send(fd, ("start", index))
        outcome = _run_one(fn, case, index, arg_names)
        outcome.value = _portable(outcome.value)
        _send(fd, ("outcome", outcome))
        if outcome.error is not None and outcome.error.not_implemented:
            break
    _send(fd, ("stdout", buffer.getvalue()[:MAX_STDOUT]))
    _send(fd, ("done", None))


def _kill(pid: int) -> None:
    for kill in (lambda: os.killpg(pid, signal.SIGKILL), lambda: os.kill(pid, signal.SIGKILL)):
        with contextlib.suppress(OSError):
            kill()


def _describe_exit(status: int) -> str:
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        return f"the process running your function crashed ({name})"
    code = os.WEXITSTATUS(status) if os.WIFEXITED(status) else status
    return f"your function ended the process (exit status {code}; os._exit?)"


_BLAS_LIMITED = False


def _limit_blas_for_fork() -> None:
    """Limit BLAS to one thread for the rest of this process, once, if it has other threads.

    OpenBLAS's fork handler wakes its worker threads to shut them down, and loses the
    wake-up when a worker was just busy for another thread: ``fork()`` then never returns
    (seen with gdb: ``blas_thread_shutdown_`` stuck in ``pthread_join``). Workers that
    have been idle since before that thread's BLAS calls are safe, so the limit is set as
    early as possible: when this module is imported in a process that already has other
    threads (a Jupyter kernel always has), else at the first fork that sees other
    threads. Needs ``threadpoolctl`` (installed with scikit-learn); without it nothing
    is changed.
    """
    global _BLAS_LIMITED
    if _BLAS_LIMITED or threading.active_count() == 1:
        return
    _BLAS_LIMITED = True
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(limits=1, user_api="blas")
    except Exception:  # noqa: BLE001 - no threadpoolctl, or an odd BLAS build: leave it alone
        pass


def _run_forked(fn: Callable, cases: Sequence[Case], arg_names: Sequence[str], timeout: float) -> RunResult:
    read_fd, write_fd = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    _limit_blas_for_fork()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # Python >= 3.12 warns about fork with threads
        pid = os.fork()
        if pid == 0:  # the child: never returns
            try:
                os.close(read_fd)
                os.setpgid(0, 0)
                _child(write_fd, fn, cases, arg_names, timeout)
            except BaseException:  # noqa: BLE001
                pass
            finally:
                os._exit(0)
    os.close(write_fd)
    with contextlib.suppress(OSError):
        os.setpgid(pid, pid)
    result = RunResult(isolation="fork")
    running, done, buf = None, False, b""
    wall = wall_limit(timeout)
    deadline = time.monotonic() + wall
    try:
        while not done:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                result.timed_out_case = running if running is not None else len(result.outcomes)
                result.timeout_kind, result.limit = "wall", wall
                break
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_fd, 1 << 16)
            if not chunk:
                break
            buf += chunk
            while len(buf) >= 4:
                (size,) = struct.unpack("!I", buf[:4])
                if len(buf) < 4 + size:
                    break
                kind, payload = pickle.loads(buf[4:4 + size])
                buf = buf[4 + size:]
                if kind == "start":
                    running = payload
                elif kind == "outcome":
                    result.outcomes.append(payload)
                    running = None
                elif kind == "stdout":
                    result.stdout = payload
                elif kind == "done":
                    done = True
    finally:
        os.close(read_fd)
        if not done:
            _kill(pid)
        _, status, usage = os.wait4(pid, 0)
    cpu = usage.ru_utime + usage.ru_stime
    if not done and result.timed_out_case is None:
        if os.WIFSIGNALED(status) and (os.WTERMSIG(status) in (signal.SIGPROF, signal.SIGXCPU)
                                       or cpu >= timeout):
            # Stopped by its CPU-time limit (SIGPROF, SIGXCPU, or RLIMIT_CPU's SIGKILL).
            result.timed_out_case = running if running is not None else len(result.outcomes)
            result.timeout_kind, result.limit = "cpu", timeout
        else:
            result.crashed = _describe_exit(status)
            result.crashed_case = running
    return result


# --------------------------------------------------------------------------- in-process fallback
@contextlib.contextmanager
def _time_limit(seconds: float, stopped: list):
    """Raise :class:`CheckTimeout` in this thread once the process has used ``seconds`` of CPU
    time, or after :func:`wall_limit` seconds of waiting; append ``"cpu"`` or ``"wall"`` to
    ``stopped`` (SIGPROF/SIGALRM timers in the main thread, else a watchdog thread)."""
    wall = wall_limit(seconds)
    if hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread():
        def on_timer(signum, frame):
            stopped.append("cpu" if signum == signal.SIGPROF else "wall")
            raise CheckTimeout()

        previous = {sig: signal.signal(sig, on_timer) for sig in (signal.SIGPROF, signal.SIGALRM)}
        signal.setitimer(signal.ITIMER_PROF, seconds)
        signal.setitimer(signal.ITIMER_REAL, wall)
        try:
            yield
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)
            signal.setitimer(signal.ITIMER_REAL, 0)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
        return
    target = threading.get_ident()
    finished = threading.Event()
    cpu_start, wall_start = time.process_time(), time.monotonic()

    def watchdog():
        while not finished.wait(0.05):
            if time.process_time() - cpu_start >= seconds:
                stopped.append("cpu")
            elif time.monotonic() - wall_start >= wall:
                stopped.append("wall")
            else:
                continue
            ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target), ctypes.py_object(CheckTimeout))
            return

    thread = threading.Thread(target=watchdog, daemon=True)
    thread.start()
    try:
        yield
    finally:
        finished.set()
        thread.join()


def _run_inprocess(fn: Callable, cases: Sequence[Case], arg_names: Sequence[str], timeout: float) -> RunResult:
    result = RunResult(isolation="in-process")
    buffer = io.StringIO()
    index = 0
    stopped: list[str] = []
    try:
        with _time_limit(timeout, stopped), contextlib.redirect_stdout(buffer), contextlib.redirect_stderr(buffer):
            for index, case in enumerate(cases):
                outcome = _run_one(fn, case, index, arg_names)
                result.outcomes.append(outcome)
                if outcome.error is not None and outcome.error.not_implemented:
                    break
    except CheckTimeout:
        result.timed_out_case = index
        result.timeout_kind = stopped[0] if stopped else "cpu"
        result.limit = timeout if result.timeout_kind == "cpu" else wall_limit(timeout)
    result.stdout = buffer.getvalue()[:MAX_STDOUT]
    return result


# --------------------------------------------------------------------------- entry point
def default_isolation() -> str:
    """``"fork"`` or ``"inprocess"``: ``$LOSSBOOK_CHECK_ISOLATION``, else by platform."""
    chosen = os.environ.get("LOSSBOOK_CHECK_ISOLATION", "").strip().lower()
    if chosen in ("fork", "inprocess"):
        return chosen
    if chosen:
        warnings.warn(f"LOSSBOOK_CHECK_ISOLATION={chosen!r} is not 'fork' or 'inprocess'; using the platform default",
                      stacklevel=2)
    return "fork" if hasattr(os, "fork") and sys.platform != "darwin" else "inprocess"


def run_cases(fn: Callable, cases: Sequence[Case], arg_names: Sequence[str] = (), *,
              timeout: float | None = None, isolation: str | None = None,
              forbidden: Sequence[str] | None = None) -> RunResult:
    """Call ``fn`` on every case (copies of the inputs), within ``timeout`` seconds of CPU time in all.

    Stops early after a ``NotImplementedError`` (the starter code). See the module
    docstring for how the isolation works on each platform. With ``forbidden`` (dotted
    names), each call runs under :func:`lossbook.exercises.forbidden.call_guarded`: a call
    into one of them (or into the course's own modules) ends that case with a
    ``ForbiddenCall`` error whose message is the reason.
    """
    if forbidden is not None:
        from lossbook.exercises.forbidden import guarded

        fn = guarded(fn, forbidden)
    timeout = DEFAULT_TIMEOUT if timeout is None else float(timeout)
    if timeout <= 0:
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
    isolation = isolation or default_isolation()
    if isolation == "fork":
        return _run_forked(fn, cases, arg_names, timeout)
    if isolation == "inprocess":
        return _run_inprocess(fn, cases, arg_names, timeout)
    raise ValueError(f"isolation must be 'fork' or 'inprocess'; got {isolation!r}")


# As early as possible: see _limit_blas_for_fork.
if default_isolation() == "fork":
    _limit_blas_for_fork()
