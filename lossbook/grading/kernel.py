"""One sandboxed Jupyter kernel: start it, run cells with timeouts, kill it.

The grader talks to the kernel over ZeroMQ ``ipc`` sockets in a per-kernel folder (the
sandbox has no network). Every kernel serves exactly one submission and is then killed
with everything it started. :class:`KernelPool` starts kernels ahead of use, so a
submission never waits for a cold start when there is work in the queue.
"""
from __future__ import annotations

import functools
import json
import os
import queue
import secrets
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lossbook.grading import cgroups
from lossbook.grading.sandbox import (FORKED_CONNECTION_DIR, RUNTIME_MOUNT, SOCKETDIR, KernelLaunch, KernelStartError, Sandbox,
                                      kernel_environment, kill_now, launch_direct, stop_process)

#: Per-cell output kept for comparison and feedback (characters of the outputs' JSON);
#: beyond it the cell fails.
MAX_CELL_OUTPUT = 1_000_000
#: Output kept across all the cells of one submission (the same measure), as nbgrader's
#: LimitOutput bounds a notebook's: a flood spread over many cells, each below
#: MAX_CELL_OUTPUT, stops here (``run.run_cells`` keeps the count and passes what is left
#: to :meth:`SandboxedKernel.run_cell`). Honest lessons print a few kilobytes.
MAX_SUBMISSION_OUTPUT = 5_000_000
#: How long an interrupted cell gets to stop before the kernel is killed. A row's status must
#: not depend on the machine's load: at load 20 on 2 cores a plain ``while True: pass`` took
#: more than 2 s to answer SIGINT with its idle status (graded locally, timed-out on a busy
#: Dask worker, seen in test_cluster), so the grace is generous; only a cell that swallows
#: KeyboardInterrupt pays it in full.
INTERRUPT_GRACE = 5.0
#: How long after a cell's idle status its ``execute_reply`` may still arrive (the kernel
#: sends it first, on another socket); a kernel that never replies costs this per cell.
REPLY_WAIT = 5.0
#: The ``execute_reply`` statuses the grader acts on, and which wins when a kernel sends
#: several replies for one request (a forged "ok" never hides an "error").
REPLY_RANK = {"ok": 0, "aborted": 1, "error": 2}
#: Seconds spent at most reading the shell channel between two turns (a kernel flooding
#: its shell channel cannot keep the grader from its deadlines).
SHELL_DRAIN = 0.1
#: How long one turn of reading a cell's messages lasts at most: between turns the grader
#: checks its deadlines and whether the kernel is still alive.
TURN = 0.1
STARTUP_TIMEOUT = 60.0
#: Kinds of refusal records the kernel's guards send (anything else is rejected).
REFUSAL_KINDS = ("reference-import", "file-read", "subprocess", "ctypes", "network", "introspection", "profile-hook")
MAX_REPORT_BYTES = 1_000_000


#: Larger ZeroMQ messages from a kernel are dropped: a kernel cannot make the grader
#: allocate gigabytes (its outputs are capped at MAX_CELL_OUTPUT anyway).
MAX_MESSAGE_BYTES = 16_000_000
#: Messages each of the grader's sockets queues before ZeroMQ drops what comes next
#: (ZeroMQ's default is 1,000: a cell sending a few thousand forged replies in one turn
#: made the kernel drop the real ``execute_reply``). Between turns the grader drains the
#: shell queue (:meth:`~lossbook.grading.kernel_client.GuardedChannel.answers`).
RECEIVE_QUEUE = 100_000
_CONTEXT = None
_CONTEXT_LOCK = threading.Lock()


def _zmq_context():
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            import zmq

            context = zmq.Context()
            context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            context.setsockopt(zmq.RCVHWM, RECEIVE_QUEUE)
            _CONTEXT = context
        return _CONTEXT


def _close_thread_loop() -> None:
    """Close the event loop jupyter_client's ``run_sync`` made for this (ending) thread."""
    import asyncio

    policy = asyncio.get_event_loop_policy()
    try:
        loop = policy.get_event_loop()
    except RuntimeError:
        return
    if not loop.is_running():
        loop.close()
    policy.set_event_loop(None)


@functools.cache
def _warm_converter() -> None:
    """Call nbformat's ``output_from_msg`` once: its first call builds nbformat's output
    validator (about 0.1 s), which the first cell that printed used to pay."""
    from nbformat.v4 import output_from_msg

    output_from_msg({"msg_type": "stream", "header": {"msg_type": "stream"}, "parent_header": {},
                     "metadata": {}, "content": {"name": "stdout", "text": ""}})


def _remove_tree(path: Path) -> None:
    from lossbook.grading.batch import remove_tree

    remove_tree(path)


def output_size(output) -> int:
    """The size an output counts for against the output limits: characters of its JSON."""
    return len(json.dumps(output))


def _reply_verdict(msg) -> tuple[str, tuple[str, str] | None] | None:
    """``(status, (ename, evalue) or None)`` of an ``execute_reply`` (a well-formed message
    answering the cell's request, :mod:`~lossbook.grading.kernel_client`), else ``None``:
    the kernel is untrusted, so another message type or a status outside
    :data:`REPLY_RANK` is dropped and every field is checked."""
    content = msg["content"]
    status = content.get("status")
    if msg["msg_type"] != "execute_reply" or not isinstance(status, str) or status not in REPLY_RANK:
        return None
    if status != "error":
        return status, None
    ename, evalue = content.get("ename"), content.get("evalue")
    return status, (ename[:200] if isinstance(ename, str) else "", evalue[:1000] if isinstance(evalue, str) else "")


class _CellOutputs:
    """The output hook of one cell: what the grader keeps of its IOPub messages.

    Outputs up to ``cap`` characters (:func:`output_size`), past it nothing more and the
    status ``"output-too-large"`` (as nbgrader's LimitOutput); ``clear_output`` empties
    the list; an ``error`` output makes an ``"ok"`` cell ``"error"``; ``idle_at`` is when
    the cell's ``idle`` status came.
    """

    KINDS = ("stream", "display_data", "execute_result", "error")

    def __init__(self, cap: int):
        self.cap = cap
        self.outputs: list = []
        self.size = 0
        self.status = "ok"
        self.idle_at: float | None = None

    def __call__(self, msg: dict) -> None:
        from nbformat.v4 import output_from_msg

        kind = msg["msg_type"]
        if kind == "status":
            if msg["content"]["execution_state"] == "idle":
                self.idle_at = time.monotonic()
            return
        if kind == "clear_output":
            self.outputs, self.size = [], 0
            return
        if kind not in self.KINDS or self.status == "output-too-large":
            return
        try:
            out = output_from_msg(msg)
            self.size += output_size(out)
        except Exception:  # noqa: BLE001 - a malformed output message: dropped
            return
        if self.size > self.cap:
            self.status = "output-too-large"
            return
        self.outputs.append(out)
        if kind == "error" and self.status == "ok":
            self.status = "error"


@dataclass
class CellRun:
    """What running one cell gave.

    ``status`` is ``"ok"``, ``"error"`` (the cell raised), ``"timeout"`` (interrupted
    after the timeout; the kernel lives on), ``"killed"`` (it ignored the interrupt, or the
    whole submission ran out of time: the kernel is gone), ``"died"`` (the kernel exited:
    ``sys.exit``/``os._exit``/a crash), ``"output-too-large"``.

    ``reply_status`` is the status of the kernel's ``execute_reply`` for the cell (``"ok"``,
    ``"error"``, ``"aborted"``; ``""``: none arrived). An ``"error"`` or ``"aborted"`` reply
    makes an ``"ok"`` cell ``"error"`` even when no ``error`` output was published (a cell
    can silence its own traceback); an error reply's name and value are then added to the
    outputs as an ``error`` output without a traceback.
    """

    status: str
    outputs: list = field(default_factory=list)
    seconds: float = 0.0
    reply_status: str = ""

    @property
    def error(self) -> tuple[str, str] | None:
        for out in self.outputs:
            if out.get("output_type") == "error":
                return out.get("ename", ""), out.get("evalue", "")
        return None


class SandboxedKernel:
    """A kernel process inside ``sandbox``; ``base`` is a private folder of the grader.

    Its life cycle belongs to jupyter_client: a :class:`~lossbook.grading.provisioner.SandboxKernelManager`
    starts it through :class:`~lossbook.grading.provisioner.SandboxProvisioner` (which hands
    the launch to :mod:`lossbook.grading.sandbox` or the fork server), interrupts it by
    message and kills it. The constructor only prepares: :meth:`wait_ready` starts the
    kernel and waits for it to answer. ``start`` creates the process from the prepared
    :class:`~lossbook.grading.sandbox.KernelLaunch` (a pool runs it in its spawner thread);
    by default ``forkserver.launch`` when a fork server is given, else
    :func:`~lossbook.grading.sandbox.launch_direct`.
    """

    _killed = False  # set by kill()
    _reaper: "Reaper | None" = None

    def __init__(self, sandbox: Sandbox, base: Path, *, forkserver=None, start=None, reaper: "Reaper | None" = None):
        from lossbook.grading.provisioner import new_manager

        self.sandbox = sandbox
        self.dir = Path(tempfile.mkdtemp(prefix="k", dir=base))
        os.chmod(self.dir, 0o755)  # read-only for the sandbox: only its connection file is bound
        self.stderr_path = Path(base) / (self.dir.name + ".stderr")
        self.key = secrets.token_hex(32)
        socket_dir = SOCKETDIR if sandbox.isolated else str(self.dir / "s")
        info = {
            "transport": "ipc", "ip": f"{socket_dir}/s" if sandbox.isolated else socket_dir, "shell_port": 1,
            "iopub_port": 2, "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": self.key,
            "signature_scheme": "hmac-sha256", "kernel_name": "lossbook-grading",
        }
        self.info = info
        self._start = start or (forkserver.launch if forkserver is not None else launch_direct)
        self.sandbox_pid: int | None = None
        self.client = None
        self.process = None
        self._report_from = 0
        self._records: list[tuple[str, str]] | None = None
        self._started = False
        self._reaper = reaper
        self._gone = threading.Event()  # set once the kill is finished (process reaped, files removed)
        # The refusal channel: a pipe the kernel's guards write records to, each signed with
        # a key that reaches the kernel over another pipe (read and closed before any
        # learner code runs). Records without a valid signature, or of an unknown kind, are
        # rejected (see lossbook/grading/standin/boot.py).
        self.report_key = secrets.token_bytes(32)
        self._report_read, report_write = os.pipe()
        key_read, key_write = os.pipe()
        os.write(key_write, self.report_key)
        os.close(key_write)
        os.set_blocking(self._report_read, False)
        info_read, info_write = os.pipe() if sandbox.isolated and sandbox.backend == "bwrap" else (None, None)
        if sandbox.isolated:
            boot = f"{RUNTIME_MOUNT}/boot.py"
            env = None
            cwd = None
        else:
            boot = str(sandbox.runtime / "boot.py")
            work = self.dir / "work"
            (work / "home").mkdir(parents=True)
            env = {**kernel_environment(sandbox.guards), "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
                   "HOME": str(work / "home"), "IPYTHONDIR": str(work / "home" / ".ipython"),
                   "TMPDIR": str(work), "LOSSBOOK_WORKDIR": str(work), "JUPYTER_RUNTIME_DIR": str(work / "home" / "runtime"),
                   "MPLCONFIGDIR": str(work / "home" / "mpl"),
                   "LOSSBOOK_PROGRESS_DIR": str(work / "home" / "progress")}
            cwd = str(work)
        argv = [sys.executable, "-I", boot, f"--lossbook-report={report_write},{key_read}",
                "-f", str(self.dir / "kernel.json")]
        self._stderr = open(self.stderr_path, "wb")
        self.started = time.monotonic()
        self.cgroups = cgroups.create(self.dir.name, sandbox.limits.memory_mb) if sandbox.isolated else []
        self.launch = KernelLaunch(sandbox, self.dir, argv, info, report_write, key_read, info_read, info_write,
                                   self._stderr, self.cgroups, env, cwd)
        self.manager = new_manager(_zmq_context(), self.dir)

    @property
    def forked(self) -> bool:
        """Whether a fork server made the kernel's sandbox."""
        return self.launch.forked

    @property
    def connection_file(self) -> Path:
        """Where the kernel reads its connection file: ``kernel.json`` in its folder (bound
        into a bwrap/unshare sandbox), or, forked, in its own tmpfs (sent over a pipe)."""
        return Path(FORKED_CONNECTION_DIR) / "kernel.json" if self.forked else self.dir / "kernel.json"

    # -- life cycle ---------------------------------------------------------------------
    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Start the kernel (``KernelManager.start_kernel``), connect and wait for it to
        answer; raises :class:`KernelStartError`."""
        # run_cell's converter, imported here, while the kernel boots: nbformat imports
        # jsonschema, which builds rfc3987_syntax's Lark grammar at import (2-3 s of CPU,
        # 8-12 s under load): imported lazily by the first run_cell, it made the first
        # cell of a fresh grading process look that slow.
        from nbformat.v4 import output_from_msg  # noqa: F401

        deadline = time.monotonic() + timeout
        self._started = True
        try:
            self.manager.start_kernel(sandbox_launch=self.launch, start=self._start)
        except KernelStartError:
            raise
        except Exception as error:  # noqa: BLE001 - reported as a failed start (the grader's trouble)
            raise KernelStartError(f"the grading kernel did not start ({type(error).__name__}: {error}): "
                                   f"{self.stderr_tail()}") from error
        provisioner = self.manager.provisioner
        self.process = provisioner.process
        self.sandbox_pid = provisioner.sandbox_pid
        client = self.manager.client(context=_zmq_context())
        client.start_channels()
        self.client = client
        _warm_converter()  # while the kernel boots
        while True:
            if self.process.poll() is not None:
                raise KernelStartError(f"the grading kernel exited at start-up: {self.stderr_tail()}")
            if time.monotonic() > deadline:
                raise KernelStartError(f"the grading kernel did not start within {timeout:g} s")
            msg_id = client.kernel_info()
            try:
                while client.get_shell_msg(timeout=1.0)["parent_header"].get("msg_id") != msg_id:
                    pass
            except queue.Empty:
                continue
            # iopub is connected once a status message for a request arrives.
            try:
                while True:
                    # Short: the first status may go out before iopub is subscribed; ask again.
                    msg = client.get_iopub_msg(timeout=0.2)
                    if msg["parent_header"].get("msg_id") == msg_id and msg["msg_type"] == "status":
                        # What the kernel refused itself while starting is not the learner's doing.
                        self._drain()
                        self._records = []
                        return
            except queue.Empty:
                continue

    def alive(self) -> bool:
        return not self._killed and self.process is not None and self.process.poll() is None

    def stderr_tail(self, limit: int = 2000) -> str:
        try:
            text = self.stderr_path.read_bytes()[-limit:].decode("utf-8", "replace")
        except OSError:
            return ""
        return text.strip()

    def _drain(self) -> list[tuple[str, str]]:
        """Read the refusal pipe: the records with a valid signature and a known kind."""
        import base64
        import hashlib
        import hmac

        if self._report_read is None:
            return []
        data = b""
        while len(data) < MAX_REPORT_BYTES:
            try:
                chunk = os.read(self._report_read, 65536)
            except BlockingIOError:
                break
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        found = []
        for line in data[:MAX_REPORT_BYTES].split(b"\n"):
            parts = line.split(b" ")
            if len(parts) != 5 or parts[0] != b"R":
                continue
            _, seq, kind, detail, mac = parts
            expected = hmac.new(self.report_key, b" ".join((seq, kind, detail)), hashlib.sha256).hexdigest()
            if not hmac.compare_digest(expected.encode(), mac):
                continue  # forged (learner code cannot sign)
            kind_text = kind.decode("ascii", "replace")
            if kind_text not in REFUSAL_KINDS:
                continue  # unknown record kinds are rejected
            try:
                text = base64.b64decode(detail, validate=True).decode("utf-8", "replace")
            except ValueError:
                continue
            found.append((kind_text, text))
        return found

    def refusals(self) -> list[tuple[str, str]]:
        """``(kind, detail)`` of every operation the kernel's guards refused (signed records only);
        after :meth:`kill`, once the kernel is gone (every record it wrote is read)."""
        if self._killed:
            self._gone.wait()
        if self._records is None:
            self._records = []
        self._records += self._drain()
        return list(self._records)

    def kill(self) -> None:
        """Kill the sandbox and everything in it; idempotent.

        The SIGKILL is sent here, at once (nothing the learner wrote runs on). The rest is
        waiting and tidying: ``KernelManager.shutdown_kernel(now=True)`` (the provisioner's
        kill, which waits for the sandbox's exit, and its clean-up: cgroups, pipes), the last
        refusal records, the kernel's folder. A kernel from a :class:`KernelPool` hands that
        to the pool's :class:`Reaper`, so the grading thread goes on with the next submission
        while this sandbox dies (:meth:`KernelPool.close` waits for every one); else it is
        done here, before returning.
        """
        if self._killed:
            return
        self._killed = True
        if self.client is not None:
            try:
                self.client.stop_channels()
            except Exception:  # noqa: BLE001 - best effort on a dying kernel
                pass
            self.client = None
        process = self.manager.provisioner.process
        if process is not None:
            kill_now(process, group=not self.forked)
        if self._reaper is not None:
            self._reaper.submit(self._finish_kill)
        else:
            self._finish_kill()

    def _finish_kill(self) -> None:
        """The waiting part of :meth:`kill` (see there)."""
        try:
            self._shut_down()
        finally:
            self._gone.set()

    def _shut_down(self) -> None:
        manager = self.manager
        try:
            if manager.has_kernel:
                manager.shutdown_kernel(now=True)
        except Exception:  # noqa: BLE001 - a start that failed half-way: the process is stopped below
            pass
        process = manager.provisioner.process
        if process is not None and process.poll() is None:
            stop_process(process, group=not self.forked)
        # Idempotent (the provisioner's clean-up did it after a normal start).
        cgroups.kill_and_remove(self.cgroups)
        self.launch.close_child_fds()
        self.launch.close_info()
        self._stderr.close()
        if self._records is not None:
            self._records += self._drain()
        if self._report_read is not None:
            try:
                os.close(self._report_read)
            except OSError:
                pass
        self._report_read = None
        _remove_tree(self.dir)

    # -- running cells ------------------------------------------------------------------
    def interrupt(self) -> None:
        """``KernelManager.interrupt_kernel``: an ``interrupt_request`` on the control
        channel (the kernel spec's ``interrupt_mode`` is ``"message"``)."""
        self.manager.interrupt_kernel()

    def run_cell(self, code: str, timeout: float, deadline: float | None = None,
                 max_output: int = MAX_CELL_OUTPUT) -> CellRun:
        """Run ``code``; wait at most ``timeout`` seconds (and never past ``deadline``).

        jupyter_client's ``execute_interactive`` reads the cell's messages
        (:meth:`~lossbook.grading.kernel_client.GuardedKernelClient.follow`, in turns of
        :data:`TURN` seconds); between turns the grader's policy: past ``timeout`` the cell
        is interrupted, :data:`INTERRUPT_GRACE` later (or past ``deadline``) the kernel is
        killed; a kernel that exits ends the cell as ``"died"``.

        Outputs are kept up to ``max_output`` characters (:func:`output_size`; never more
        than :data:`MAX_CELL_OUTPUT`); beyond it the rest is dropped and the status is
        ``"output-too-large"``.
        """
        cap = max(0, min(int(max_output), MAX_CELL_OUTPUT))
        start = time.monotonic()
        limit = start + timeout
        hard = deadline if deadline is not None else float("inf")
        if not self.alive():
            return CellRun("died", [], 0.0)
        client = self.client
        cell = _CellOutputs(cap)
        shell_reads = client.shell_reads
        msg_id = client.execute(code, allow_stdin=False, stop_on_error=False)
        interrupted_at = None
        verdict: tuple[str, tuple[str, str] | None] | None = None

        def consider(replies: list[dict]) -> None:
            """The execute_reply verdict: forged and malformed replies are dropped, the
            worst well-formed status wins (a forged "ok" never hides an "error")."""
            nonlocal verdict
            for found in map(_reply_verdict, replies):
                if found is not None and (verdict is None or REPLY_RANK[found[0]] > REPLY_RANK[verdict[0]]):
                    verdict = found

        def ended(how: str) -> CellRun:
            return CellRun(how, cell.outputs, time.monotonic() - start, verdict[0] if verdict else "")

        while cell.idle_at is None:
            now = time.monotonic()
            if now >= hard:
                self.kill()
                return ended("killed")
            if interrupted_at is None and now >= limit:
                interrupted_at = now
                cell.status = "timeout"
                try:
                    self.interrupt()
                except Exception:  # noqa: BLE001 - a broken channel: kill below
                    pass
            if interrupted_at is not None and now >= interrupted_at + INTERRUPT_GRACE:
                self.kill()
                return ended("killed")
            if self.process.poll() is not None:
                return ended("died")
            # The shell channel is drained between turns too (for up to SHELL_DRAIN), so
            # forged replies sent during a long cell do not pile up in ZeroMQ's queues,
            # where past their high-water mark the real reply would be dropped.
            consider(client.replies_to((msg_id,), 0, SHELL_DRAIN))
            until = min(now + TURN, hard, limit if interrupted_at is None else interrupted_at + INTERRUPT_GRACE)
            try:
                consider([client.follow(msg_id, cell, until)])
            except TimeoutError:
                continue
        # The execute_reply comes before the idle status but on another socket, so it may
        # still be on its way; a kernel may also have queued forged replies before it. An
        # honest kernel sends one reply per request: when that one has come and nothing
        # else has come or is waiting, it is the verdict. Otherwise the grader asks for the kernel's info and reads
        # the shell socket until that answer: the kernel sends it after everything it sent
        # before (one FIFO), the real execute_reply included. At most REPLY_WAIT.
        sync = None
        if verdict is None or client.shell_reads - shell_reads > 1 or client.shell_pending():
            sync = client.kernel_info()
        reply_until = min(cell.idle_at + REPLY_WAIT, hard)
        while sync is not None and (verdict is None or verdict[0] != "error"):
            now = time.monotonic()
            if now >= reply_until:
                break
            if self.process.poll() is not None:
                return ended("died")
            wait = 0 if client.shell_pending() else min(TURN, reply_until - now)
            got = client.replies_to((msg_id, sync), wait, SHELL_DRAIN)
            consider([msg for msg in got if msg["parent_header"]["msg_id"] == msg_id])
            if any(msg["parent_header"]["msg_id"] == sync for msg in got):
                break
        status = cell.status
        reply, reply_error = verdict if verdict else ("", None)
        if reply in ("error", "aborted") and status == "ok":
            status = "error"
            if reply == "error" and not any(out.get("output_type") == "error" for out in cell.outputs):
                from nbformat.v4 import new_output

                ename, evalue = reply_error or ("", "")
                cell.outputs.append(new_output("error", ename=ename, evalue=evalue, traceback=[]))
        return ended(status)


class Reaper:
    """One background thread that finishes killed kernels (:meth:`SandboxedKernel.kill`).

    A kill is a SIGKILL, sent at once by the grading thread, then waiting: for the
    sandbox's processes to exit, its cgroups to empty, its folder to go (about 0.1 s a
    kernel under load). Here that waiting is done one kernel after another while the
    grading threads go on. :meth:`close` waits for every kill handed over; a kill
    submitted after it is done by the caller.
    """

    def __init__(self) -> None:
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False

    def submit(self, job) -> None:
        with self._lock:
            if not self._closed:
                if self._thread is None:
                    self._thread = threading.Thread(target=self._loop, daemon=True, name="lossbook-kernel-reaper")
                    self._thread.start()
                self._jobs.put(job)
                return
        job()

    def _loop(self) -> None:
        try:
            while (job := self._jobs.get()) is not None:
                try:
                    job()
                except Exception:  # noqa: BLE001 - one kernel's clean-up never stops the others'
                    pass
        finally:
            _close_thread_loop()

    def close(self) -> None:
        """Wait for every kill handed over so far; later ones are done by their callers."""
        with self._lock:
            self._closed = True
            thread = self._thread
        if thread is not None:
            self._jobs.put(None)
            thread.join()


class KernelPool:
    """Kernels started ahead of use: ``get()`` hands out a ready kernel (each used once).

    Keeps up to ``size`` kernels starting or ready, starting another for every one handed
    out until ``expected`` kernels have been started in all (no more are needed).

    All sandbox processes are created by one long-lived thread: ``bwrap --die-with-parent``
    (``PR_SET_PDEATHSIG``) kills the sandbox when the *thread* that started it ends, so
    no short-lived thread may start one. Each kernel is started (``KernelManager.start_kernel``)
    and awaited in a waiter thread of its own, whose provisioner hands only the process
    creation to that spawner thread (:meth:`_create`): the spawner never waits for a
    sandbox to report its pid or for a kernel to answer.

    Where the grader runs as root with bubblewrap, the spawner thread first starts a fork
    server (:mod:`lossbook.grading.forkserver`) and every kernel is a child of its warm
    template, with the same isolation; if the template cannot start (or stops), kernels
    start one by one as before. ``forkserver=False`` never uses one. :meth:`close` stops
    the template.
    """

    def __init__(self, sandbox: Sandbox, base: Path, size: int, expected: int, *, forkserver: bool | None = None):
        from lossbook.grading import forkserver as forkserver_module

        self.sandbox, self.base = sandbox, Path(base)
        self._use_forkserver = forkserver_module.usable(sandbox) if forkserver is None else forkserver
        self.forkserver = None
        #: Why the fork server is not used (when it was meant to be), for the batch's notes.
        self.forkserver_problem: str | None = None
        self._ready: queue.Queue = queue.Queue()
        self._jobs: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._remaining = expected
        self._waiters: list[threading.Thread] = []
        self._closed = False
        self.reaper = Reaper()
        self._spawner = threading.Thread(target=self._spawn_loop, daemon=True, name="lossbook-kernels")
        self._spawner.start()
        for _ in range(min(size, expected)):
            self._request()

    def _request(self) -> None:
        with self._lock:
            if self._remaining <= 0 or self._closed:
                return
            self._remaining -= 1
            waiter = threading.Thread(target=self._start_and_wait, daemon=True, name="lossbook-kernel-start")
            self._waiters.append(waiter)
        waiter.start()

    def _start_and_wait(self) -> None:
        kernel = None
        try:
            kernel = SandboxedKernel(self.sandbox, self.base, start=self._create_in_spawner, reaper=self.reaper)
            kernel.wait_ready()
            self._ready.put(kernel)
        except Exception as error:  # noqa: BLE001 - reported to whoever takes it
            if kernel is not None:
                kernel.kill()
            self._ready.put(error)
        finally:
            _close_thread_loop()

    def _create_in_spawner(self, launch: KernelLaunch):
        """The provisioner's ``start``: :meth:`_create` run by the spawner thread."""
        from concurrent.futures import Future

        done: Future = Future()

        def job() -> None:
            try:
                done.set_result(self._create(launch))
            except BaseException as error:  # noqa: BLE001 - handed to the waiting thread
                done.set_exception(error)

        if not self._spawner.is_alive():
            raise KernelStartError("the kernel pool is closed")
        self._jobs.put(job)
        return done.result(timeout=STARTUP_TIMEOUT)

    def _create(self, launch: KernelLaunch):
        """In the spawner thread: the sandbox's process, from the fork server if there is one."""
        from lossbook.grading.forkserver import ForkServer, ForkServerError

        if self._use_forkserver and self.forkserver is None and self.forkserver_problem is None:
            try:
                self.forkserver = ForkServer(self.sandbox, self.base)
            except (ForkServerError, OSError, ValueError) as error:
                self.forkserver_problem = str(error)
        if self.forkserver is not None:
            try:
                return self.forkserver.launch(launch)
            except ForkServerError as error:  # the template stopped: one by one from now on
                self.forkserver_problem = str(error)
                self.forkserver.close()
                self.forkserver = None
        return launch_direct(launch)

    def _spawn_loop(self) -> None:
        try:
            while (job := self._jobs.get()) is not None:
                job()
        finally:
            # Stopped by the thread that started it, before the thread ends: the template
            # exits and is reaped by its bwrap (a thread's end would kill bwrap first, and
            # the orphaned template would wait for the machine's init to reap it).
            if self.forkserver is not None:
                self.forkserver.close()
                self.forkserver = None

    def get(self, timeout: float = STARTUP_TIMEOUT + 10) -> SandboxedKernel:
        """A ready kernel; raises :class:`KernelStartError` if starting one failed."""
        try:
            item = self._ready.get(timeout=timeout)
        except queue.Empty:
            raise KernelStartError(f"no grading kernel became ready within {timeout:g} s") from None
        self._request()
        if isinstance(item, BaseException):
            raise KernelStartError(str(item)) from item
        return item

    def close(self) -> None:
        """Kill every kernel not handed out, wait until every killed kernel is gone (the
        :class:`Reaper`) and stop the fork server; call once every handed-out kernel is done."""
        with self._lock:
            self._closed = True
            waiters = list(self._waiters)
        for waiter in waiters:  # kernels already asked for start (the spawner serves them) ...
            waiter.join(timeout=2 * STARTUP_TIMEOUT)
        self._kill_ready()  # ... and are killed
        self.reaper.close()  # every kill finished (from now on kills finish in their callers)
        self._jobs.put(None)
        self._spawner.join()
        self._kill_ready()

    def _kill_ready(self) -> None:
        while True:
            try:
                item = self._ready.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, SandboxedKernel):
                item.kill()
