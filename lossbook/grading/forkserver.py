"""The grader's side of the fork server: one warm template process per kernel pool.

Starting a sandboxed kernel the plain way (``bwrap`` + a fresh Python that imports numpy
and ipykernel) costs most of a submission's grading time. The fork server pays the imports
once: :class:`ForkServer` starts the template (``standin/forkserver.py``, run inside a
bubblewrap sandbox built by :meth:`~lossbook.grading.sandbox.Sandbox.template_command`),
and each :class:`~lossbook.grading.kernel.SandboxedKernel` asks it for a child over a Unix
socket, handing over the kernel's own pipes and files with ``SCM_RIGHTS``. Each child
enters its own mount, pid, network, IPC, UTS and cgroup namespaces, its own tmpfs and
``/proc``, the kernel's cgroups and limits, and runs as uid 65534 with no capabilities and
``NoNewPrivs`` before ipykernel starts: the isolation of a kernel started by ``bwrap``.

Used where the grader runs as root with bubblewrap (CI, containers, the usual grading
machine); elsewhere kernels start one by one as before. A pool's fork server lives in the
process (and the thread) that made the pool, and :meth:`ForkServer.close` leaves nothing
behind: the template exits when its socket closes, and every child dies with it.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

from lossbook.grading.sandbox import PROC_READ_ONLY, RUNTIME_MOUNT, KernelLaunch, Sandbox, stop_process

START_TIMEOUT = 60.0


class ForkServerError(RuntimeError):
    """The fork server's template did not start, or stopped answering."""


def usable(sandbox: Sandbox) -> bool:
    """Whether kernels for ``sandbox`` can come from a fork server (``LOSSBOOK_FORKSERVER=0``: never)."""
    if os.environ.get("LOSSBOOK_FORKSERVER", "1") == "0":
        return False
    return sandbox.isolated and sandbox.backend == "bwrap" and sandbox.as_root and os.geteuid() == 0


class ForkServer:
    """A template process forking one sandboxed kernel per :meth:`fork` request.

    Start it in a thread that lives as long as the server: ``bwrap --die-with-parent``
    ties the template's life to the thread that started it.
    """

    def __init__(self, sandbox: Sandbox, base: Path, timeout: float = START_TIMEOUT):
        self.sandbox = sandbox
        self.stderr_path = Path(base) / f"forkserver-{os.getpid()}-{threading.get_ident()}.stderr"
        self._lock = threading.Lock()
        self._keepers: list[ForkedProcess] = []  # waited for by close()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._socket = ours
        argv = [sys.executable, "-I", f"{RUNTIME_MOUNT}/forkserver.py", str(theirs.fileno())]
        with open(self.stderr_path, "wb") as stderr:
            try:
                self.process = subprocess.Popen(sandbox.template_command(argv), stdin=subprocess.DEVNULL,
                                                stdout=stderr, stderr=stderr, close_fds=True,
                                                pass_fds=[theirs.fileno()], start_new_session=True)
            finally:
                theirs.close()
        ours.settimeout(timeout)
        try:
            reply = self._receive()
        except (OSError, ForkServerError) as error:
            self.close()
            raise ForkServerError(f"the fork server did not start ({error}): {self.stderr_tail()}") from None
        if not reply.get("ready"):
            self.close()
            raise ForkServerError(f"the fork server did not start: {reply} {self.stderr_tail()}")
        self.template = ForkedProcess()  # the template itself (bwrap's child), waited for by close()
        self.template.attach(int(reply["pid"]))
        self._keepers.append(self.template)
        ours.settimeout(10.0)

    def _receive(self) -> dict:
        data = self._socket.recv(65536)
        if not data:
            raise ForkServerError("the fork server closed its socket")
        return json.loads(data)

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def stderr_tail(self, limit: int = 2000) -> str:
        try:
            return self.stderr_path.read_bytes()[-limit:].decode("utf-8", "replace").strip()
        except OSError:
            return ""

    def fork(self, *, connection: int, report: int, key: int, info: int, stderr: int,
             cgroup_procs: list[int]) -> int:
        """Ask for one kernel; the descriptors are the child's (the caller closes its copies).

        ``connection``: read end of a pipe carrying the connection file's JSON; ``report`` /
        ``key``: the refusal pipe's write end and its key pipe's read end; ``info``: where
        the child's sandbox writes ``{"child-pid": N}``; ``stderr``: the kernel's output
        file; ``cgroup_procs``: the kernel's ``cgroup.procs`` files, open for writing.
        Returns the pid of the child's keeper process.
        """
        limits = self.sandbox.limits
        request = {"limits": {"memory_mb": limits.memory_mb, "file_mb": limits.file_mb, "tmp_mb": limits.tmp_mb,
                              "tmp_files": limits.tmp_files, "cpu_seconds": limits.cpu_seconds},
                   "proc_read_only": list(PROC_READ_ONLY), "cgroups": len(cgroup_procs)}
        fds = [connection, report, key, info, stderr, *cgroup_procs]
        with self._lock:
            if not self.alive:
                raise ForkServerError(f"the fork server has stopped: {self.stderr_tail()}")
            try:
                socket.send_fds(self._socket, [json.dumps(request).encode()], fds)
                reply = self._receive()
            except (OSError, ValueError) as error:
                raise ForkServerError(f"the fork server did not answer ({error}): {self.stderr_tail()}") from None
        if "forked" not in reply:
            raise ForkServerError(f"the fork server refused: {reply.get('error', reply)}")
        keeper = ForkedProcess()
        keeper.attach(int(reply["forked"]))
        with self._lock:
            self._keepers = [k for k in self._keepers if k.poll() is None] + [keeper]
        return keeper.pid

    def launch(self, launch: KernelLaunch) -> "ForkedProcess":
        """Fork ``launch``'s kernel (see :meth:`fork`); returns its sandbox, attached to its
        pid once that is reported (:func:`~lossbook.grading.sandbox.find_sandbox_pid`).

        The launch's own pipe ends stay open (the caller closes them, also when this
        raises and the kernel is started by bwrap instead); the connection file's JSON
        reaches the child over a pipe of its own.
        """
        process = ForkedProcess()
        connection_read, connection_write = os.pipe()
        procs: list[int] = []
        try:
            for group in launch.cgroups:
                procs.append(os.open(Path(group) / "cgroup.procs", os.O_WRONLY))
            # The pipe holds the whole connection file (far below the pipe's buffer).
            os.write(connection_write, json.dumps(launch.connection).encode())
            os.close(connection_write)
            connection_write = -1
            self.fork(connection=connection_read, report=launch.report_write, key=launch.key_read,
                      info=launch.info_write, stderr=launch.stderr.fileno(), cgroup_procs=procs)
        finally:
            for fd in [connection_read, *procs] + ([connection_write] if connection_write >= 0 else []):
                os.close(fd)
        launch.forked = True
        return process

    def close(self) -> None:
        """Stop the template (its children die with it) and wait for it; idempotent."""
        try:
            self._socket.close()
        except OSError:
            pass
        stop_process(self.process, grace=5, group=True)
        # The template's children die with it (PR_SET_PDEATHSIG); wait until they are gone.
        for keeper in self._keepers:
            stop_process(keeper, grace=5)
        self._keepers = []
        try:
            self.stderr_path.unlink()
        except OSError:
            pass


class ForkedProcess:
    """A forked kernel's sandbox (its pid-1 ``init``), seen from the grader like a ``Popen``.

    Not the grader's child: it is watched and signalled through a pidfd, so a reused pid
    can never be hit.
    """

    def __init__(self) -> None:
        self.pid: int | None = None
        self.returncode: int | None = None
        self._fd: int | None = None

    def attach(self, pid: int) -> None:
        self.pid = pid
        try:
            self._fd = os.pidfd_open(pid)
        except ProcessLookupError:
            self.returncode = -signal.SIGKILL

    def poll(self) -> int | None:
        if self.returncode is not None or self._fd is None:
            return self.returncode
        import select

        if select.select([self._fd], [], [], 0)[0]:
            self.returncode = 1  # exited (its status belongs to its own parent)
            self._close()
        return self.returncode

    def send_signal(self, signum: int) -> None:
        if self._fd is not None and self.returncode is None:
            try:
                signal.pidfd_send_signal(self._fd, signum)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        if self._fd is not None and self.returncode is None:
            try:
                signal.pidfd_send_signal(self._fd, signal.SIGKILL)
            except ProcessLookupError:
                pass

    def wait(self, timeout: float | None = None) -> int:
        import select

        end = None if timeout is None else time.monotonic() + timeout
        while self.poll() is None:
            if self._fd is None:
                return -1  # never started: nothing to wait for
            left = None if end is None else end - time.monotonic()
            if left is not None and left <= 0:
                raise subprocess.TimeoutExpired("lossbook-forked-kernel", timeout)
            select.select([self._fd], [], [], left)
        return self.returncode

    def _close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
