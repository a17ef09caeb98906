"""One sandboxed Jupyter kernel: start it, run cells with timeouts, kill it.

The grader talks to the kernel over ZeroMQ ``ipc`` sockets in a per-kernel folder (the
sandbox has no network). Every kernel serves exactly one submission and is then killed
with everything it started. :class:`KernelPool` starts kernels ahead of use, so a
submission never waits for a cold start when there is work in the queue.
"""
from __future__ import annotations

import json
import os
import queue
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from lossbook.grading import cgroups
from lossbook.grading.sandbox import RUNTIME_MOUNT, Sandbox, kernel_environment

#: Per-cell output kept for comparison and feedback; beyond it the cell fails.
MAX_CELL_OUTPUT = 1_000_000
#: How long an interrupted cell gets to stop before the kernel is killed.
INTERRUPT_GRACE = 2.0
STARTUP_TIMEOUT = 60.0


#: Larger ZeroMQ messages from a kernel are dropped: a kernel cannot make the grader
#: allocate gigabytes (its outputs are capped at MAX_CELL_OUTPUT anyway).
MAX_MESSAGE_BYTES = 16_000_000
_CONTEXT = None
_CONTEXT_LOCK = threading.Lock()


def _zmq_context():
    global _CONTEXT
    with _CONTEXT_LOCK:
        if _CONTEXT is None:
            import zmq

            context = zmq.Context()
            context.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
            _CONTEXT = context
        return _CONTEXT


class KernelStartError(RuntimeError):
    """The sandboxed kernel did not start."""


@dataclass
class CellRun:
    """What running one cell gave.

    ``status`` is ``"ok"``, ``"error"`` (the cell raised), ``"timeout"`` (interrupted
    after the timeout; the kernel lives on), ``"killed"`` (it ignored the interrupt, or the
    whole submission ran out of time: the kernel is gone), ``"died"`` (the kernel exited:
    ``sys.exit``/``os._exit``/a crash), ``"output-too-large"``.
    """

    status: str
    outputs: list = field(default_factory=list)
    seconds: float = 0.0

    @property
    def error(self) -> tuple[str, str] | None:
        for out in self.outputs:
            if out.get("output_type") == "error":
                return out.get("ename", ""), out.get("evalue", "")
        return None


class SandboxedKernel:
    """A kernel process inside ``sandbox``; ``base`` is a private folder of the grader."""

    def __init__(self, sandbox: Sandbox, base: Path):
        self.sandbox = sandbox
        self.dir = Path(tempfile.mkdtemp(prefix="k", dir=base))
        os.chmod(self.dir, 0o777)  # the sandbox's "nobody" creates its sockets here
        self.stderr_path = Path(base) / (self.dir.name + ".stderr")
        self.connection_file = self.dir / "kernel.json"
        info = {
            "transport": "ipc", "ip": str(self.dir / "s"), "shell_port": 1, "iopub_port": 2,
            "stdin_port": 3, "control_port": 4, "hb_port": 5, "key": secrets.token_hex(32),
            "signature_scheme": "hmac-sha256", "kernel_name": "lossbook-grading",
        }
        self.connection_file.write_text(json.dumps(info))
        os.chmod(self.connection_file, 0o644)
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
                   "JUPYTER_RUNTIME_DIR": str(work / "home" / "runtime"),
                   "MPLCONFIGDIR": str(work / "home" / "mpl"),
                   "LOSSBOOK_PROGRESS_DIR": str(work / "home" / "progress")}
            cwd = str(work)
        argv = [sys.executable, "-I", boot, "-f", str(self.connection_file)]
        self._stderr = open(self.stderr_path, "wb")
        self.started = time.monotonic()
        self.cgroups = cgroups.create(self.dir.name, sandbox.limits.memory_mb) if sandbox.isolated else []
        self.process = subprocess.Popen(
            cgroups.prefix(self.cgroups) + sandbox.command(self.dir, argv), stdin=subprocess.DEVNULL, stdout=self._stderr,
            stderr=self._stderr, env=env, cwd=cwd, close_fds=True,
            # Its own session (the grader kills the whole group); limits via prlimit, else here.
            start_new_session=True,
            preexec_fn=None if sandbox.limits.prefix() else sandbox.limits.apply,
        )
        self.client = None
        self._report_from = 0

    # -- life cycle ---------------------------------------------------------------------
    def wait_ready(self, timeout: float = STARTUP_TIMEOUT) -> None:
        """Connect and wait for the kernel to answer; raises :class:`KernelStartError`."""
        from jupyter_client.blocking import BlockingKernelClient

        deadline = time.monotonic() + timeout
        client = BlockingKernelClient(connection_file=str(self.connection_file), context=_zmq_context())
        client.load_connection_file()
        client.start_channels()
        self.client = client
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
                        self._report_from = self.stderr_path.stat().st_size
                        return
            except queue.Empty:
                continue

    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr_tail(self, limit: int = 2000) -> str:
        try:
            text = self.stderr_path.read_bytes()[-limit:].decode("utf-8", "replace")
        except OSError:
            return ""
        return text.strip()

    def refusals(self) -> list[tuple[str, str]]:
        """``(kind, detail)`` of every operation the kernel's guards refused."""
        try:
            with open(self.stderr_path, "rb") as handle:
                handle.seek(self._report_from)
                lines = handle.read(2_000_000).decode("utf-8", "replace").splitlines()
        except OSError:
            return []
        found = []
        for line in lines:
            if line.startswith("REFUSED "):
                parts = line.split(" ", 2)
                if len(parts) == 3:
                    found.append((parts[1], parts[2]))
        return found

    def kill(self) -> None:
        """Kill the sandbox and everything in it; remove the kernel's folder."""
        if self.client is not None:
            try:
                self.client.stop_channels()
            except Exception:  # noqa: BLE001 - best effort on a dying kernel
                pass
            self.client = None
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            try:
                self.process.kill()
            except ProcessLookupError:
                pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        cgroups.kill_and_remove(self.cgroups)
        self._stderr.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- running cells ------------------------------------------------------------------
    def interrupt(self) -> None:
        msg = self.client.session.msg("interrupt_request", content={})
        self.client.control_channel.send(msg)

    def run_cell(self, code: str, timeout: float, deadline: float | None = None) -> CellRun:
        """Run ``code``; wait at most ``timeout`` seconds (and never past ``deadline``)."""
        from nbformat.v4 import output_from_msg

        start = time.monotonic()
        limit = start + timeout
        hard = deadline if deadline is not None else float("inf")
        if not self.alive():
            return CellRun("died", [], 0.0)
        msg_id = self.client.execute(code, allow_stdin=False, stop_on_error=False)
        outputs: list = []
        size = 0
        status = "ok"
        interrupted_at = None
        while True:
            now = time.monotonic()
            if now >= hard:
                self.kill()
                return CellRun("killed", outputs, now - start)
            if interrupted_at is None and now >= limit:
                interrupted_at = now
                status = "timeout"
                try:
                    self.interrupt()
                except Exception:  # noqa: BLE001 - a broken channel: kill below
                    pass
            if interrupted_at is not None and now >= interrupted_at + INTERRUPT_GRACE:
                self.kill()
                return CellRun("killed", outputs, now - start)
            try:
                msg = self.client.get_iopub_msg(timeout=0.05)
            except queue.Empty:
                if self.process.poll() is not None:
                    return CellRun("died", outputs, time.monotonic() - start)
                continue
            except Exception:  # noqa: BLE001 - the kernel vanished mid-message
                if self.process.poll() is not None:
                    return CellRun("died", outputs, time.monotonic() - start)
                raise
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            kind = msg["msg_type"]
            if kind == "status":
                if msg["content"].get("execution_state") == "idle":
                    break
                continue
            if kind == "clear_output":
                outputs, size = [], 0
                continue
            if kind not in ("stream", "display_data", "execute_result", "error"):
                continue
            if status == "output-too-large":
                continue
            size += len(json.dumps(msg["content"]))
            if size > MAX_CELL_OUTPUT:
                status = "output-too-large"
                continue
            out = output_from_msg(msg)
            outputs.append(out)
            if kind == "error" and status == "ok":
                status = "error"
        if status == "timeout":
            return CellRun("timeout", outputs, time.monotonic() - start)
        return CellRun(status, outputs, time.monotonic() - start)


class KernelPool:
    """Kernels started ahead of use: ``get()`` hands out a ready kernel (each used once).

    Keeps up to ``size`` kernels starting or ready, starting another for every one handed
    out until ``expected`` kernels have been started in all (no more are needed).

    All kernel processes are started by one long-lived thread: ``bwrap --die-with-parent``
    (``PR_SET_PDEATHSIG``) kills the sandbox when the *thread* that started it ends, so
    no short-lived thread may start one. Waiting for readiness happens elsewhere.
    """

    def __init__(self, sandbox: Sandbox, base: Path, size: int, expected: int):
        self.sandbox, self.base = sandbox, Path(base)
        self._ready: queue.Queue = queue.Queue()
        self._requests: queue.Queue = queue.Queue()
        self._lock = threading.Lock()
        self._remaining = expected
        self._waiters: list[threading.Thread] = []
        self._closed = False
        self._spawner = threading.Thread(target=self._spawn_loop, daemon=True, name="lossbook-kernels")
        self._spawner.start()
        for _ in range(min(size, expected)):
            self._request()

    def _request(self) -> None:
        with self._lock:
            if self._remaining <= 0 or self._closed:
                return
            self._remaining -= 1
        self._requests.put(True)

    def _spawn_loop(self) -> None:
        while self._requests.get() is not None:
            try:
                kernel = SandboxedKernel(self.sandbox, self.base)
            except Exception as error:  # noqa: BLE001 - reported to whoever takes it
                self._ready.put(error)
                continue
            waiter = threading.Thread(target=self._wait_ready, args=(kernel,), daemon=True)
            waiter.start()
            self._waiters.append(waiter)

    def _wait_ready(self, kernel: SandboxedKernel) -> None:
        try:
            kernel.wait_ready()
            self._ready.put(kernel)
        except Exception as error:  # noqa: BLE001 - reported to whoever takes it
            kernel.kill()
            self._ready.put(error)

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
        """Kill every kernel not handed out; call once every handed-out kernel is done."""
        with self._lock:
            self._closed = True
        self._requests.put(None)
        for waiter in self._waiters:
            waiter.join(timeout=STARTUP_TIMEOUT)
        while True:
            try:
                item = self._ready.get_nowait()
            except queue.Empty:
                break
            if isinstance(item, SandboxedKernel):
                item.kill()
        self._spawner.join(timeout=10)
