"""The grading kernel's life cycle through jupyter_client: a provisioner for the sandbox.

jupyter_client's ``KernelManager`` owns the kernel's life cycle (start, interrupt by
message, shutdown, kill, clean-up) and asks a *kernel provisioner* for the process
itself. :class:`SandboxProvisioner` is that provisioner: it hands the launch to
:mod:`lossbook.grading.sandbox` (``bwrap`` / ``unshare`` / no sandbox) or to a pool's
fork server (:mod:`lossbook.grading.forkserver`), waits for the sandbox to report its
process id, and returns the connection information in the grader's view (the sockets
are reached through ``/proc/<pid>/root``). Grading policy (deadlines, output caps, when
to kill) stays in :mod:`lossbook.grading.kernel`.

How the pieces are found, robustly on a fresh clone and in a stale virtual environment:

- The grader never looks the provisioner up by name: it sets ``KernelManager.provisioner``
  to a :class:`SandboxProvisioner` before ``start_kernel`` (jupyter_client only consults
  its provisioner factory, whose entry points need installed package metadata, when that
  attribute is unset). A venv installed before the entry point existed still grades.
- The entry point ``lossbook-sandbox`` in the ``jupyter_client.kernel_provisioners`` group
  (pyproject.toml) registers the same class for anything that starts the
  ``lossbook-grading`` kernel spec by name (:func:`grading_kernel_spec`'s metadata names it).
- The kernel spec is in memory (:class:`GradingKernelSpecManager`): nothing is written to
  a Jupyter data folder, and its ``interrupt_mode`` is ``"message"`` (the sandbox, not
  the grader, is the kernel's parent: an interrupt is an ``interrupt_request`` on the
  control channel).

What reaches the launch travels as ``start_kernel`` keywords (jupyter_client passes them
to :meth:`SandboxProvisioner.pre_launch` and :meth:`~SandboxProvisioner.launch_kernel`):
``sandbox_launch``, the :class:`~lossbook.grading.sandbox.KernelLaunch` the kernel was
prepared with, and ``start``, the function that creates its process (a pool runs it in its
one long-lived spawner thread, which ``bwrap --die-with-parent`` requires, and which
therefore never waits for a kernel: the waiting happens in the thread calling
``start_kernel``).
"""
from __future__ import annotations

import asyncio
import signal
import sys
import time
import uuid
from typing import Any, Callable

from jupyter_client.kernelspec import KernelSpec, KernelSpecManager
from jupyter_client.manager import KernelManager
from jupyter_client.provisioning import KernelProvisionerBase

from lossbook.grading import cgroups
from lossbook.grading.sandbox import RUNTIME_MOUNT, KernelLaunch, find_sandbox_pid, launch_direct, stop_process

#: The entry point's name (group ``jupyter_client.kernel_provisioners``).
PROVISIONER_NAME = "lossbook-sandbox"
#: The in-memory kernel spec's name.
KERNEL_NAME = "lossbook-grading"
#: How long the sandbox has to report its process id.
LAUNCH_TIMEOUT = 60.0


def grading_kernel_spec() -> KernelSpec:
    """The grading kernel's spec (in memory): its command inside the sandbox, the
    provisioner it needs, and interrupts by message."""
    return KernelSpec(
        argv=[sys.executable, "-I", f"{RUNTIME_MOUNT}/boot.py", "-f", "{connection_file}"],
        display_name="lossbook grading (sandboxed)", language="python", interrupt_mode="message",
        metadata={"kernel_provisioner": {"provisioner_name": PROVISIONER_NAME}},
    )


class GradingKernelSpecManager(KernelSpecManager):
    """Jupyter's kernel spec lookup, with :data:`KERNEL_NAME` answered from memory."""

    def get_kernel_spec(self, kernel_name: str) -> KernelSpec:
        if kernel_name == KERNEL_NAME:
            return grading_kernel_spec()
        return super().get_kernel_spec(kernel_name)

    def find_kernel_specs(self) -> dict[str, str]:
        return {**super().find_kernel_specs(), KERNEL_NAME: ""}


class SandboxKernelManager(KernelManager):
    """``KernelManager`` for a sandboxed kernel: its ZeroMQ sockets are not files of the host."""

    def cleanup_ipc_files(self) -> None:
        """Nothing to remove: the kernel's sockets live in its sandbox's private tmpfs, gone
        with it. (jupyter_client would unlink ``/proc/<pid>/root/...`` paths after the
        kill, which, were the pid reused, could name another kernel's sockets.)"""


class SandboxProvisioner(KernelProvisionerBase):
    """Starts the kernel in the operating-system sandbox; see the module's docstring."""

    process: Any = None
    sandbox_pid: int | None = None
    _launch: KernelLaunch | None = None

    @property
    def has_process(self) -> bool:
        return self.process is not None

    async def pre_launch(self, **kwargs: Any) -> dict[str, Any]:
        """The launch's command from the prepared :class:`KernelLaunch` (``sandbox_launch``).

        The base class's ``pre_launch`` is not called on purpose: it would give the kernel
        the grader's environment (``os.environ``); the sandbox sets the kernel's own.
        """
        launch = kwargs.get("sandbox_launch")
        if not isinstance(launch, KernelLaunch):
            raise ValueError(
                f"provisioner {PROVISIONER_NAME!r}: start_kernel needs sandbox_launch=KernelLaunch(...) "
                "(kernels for grading are started by lossbook.grading.kernel.SandboxedKernel, not by name)")
        return {"cmd": list(launch.argv), "sandbox_launch": launch, "start": kwargs.get("start")}

    async def launch_kernel(self, cmd: list[str], **kwargs: Any) -> dict[str, Any]:
        """Create the sandbox's process (``start``, by default :func:`launch_direct`), wait
        for the sandbox's process id, and return the connection info in the grader's view."""
        launch: KernelLaunch = kwargs["sandbox_launch"]
        start: Callable[[KernelLaunch], Any] = kwargs.get("start") or launch_direct
        self._launch = launch
        try:
            self.process = start(launch)
        finally:
            launch.close_child_fds()
        # Blocking, in the thread that called start_kernel (never the pool's spawner thread).
        pid = find_sandbox_pid(launch, self.process, time.monotonic() + LAUNCH_TIMEOUT, self._stderr_tail)
        self.sandbox_pid = pid
        info = dict(launch.connection)
        if isinstance(info.get("key"), str):
            info["key"] = info["key"].encode()  # as KernelManager's session holds it
        if launch.sandbox.isolated:
            info["ip"] = launch.sandbox.socket_prefix(pid, launch.kernel_dir)
        self.connection_info = info
        return info

    def _stderr_tail(self, limit: int = 2000) -> str:
        try:
            with open(self._launch.stderr.name, "rb") as stderr:
                return stderr.read()[-limit:].decode("utf-8", "replace").strip()
        except (OSError, AttributeError, TypeError):
            return ""

    async def poll(self) -> int | None:
        return self.process.poll() if self.process is not None else 0

    async def wait(self) -> int | None:
        while self.process is not None and self.process.poll() is None:
            await asyncio.sleep(0.02)
        return await self.poll()

    async def send_signal(self, signum: int) -> None:
        """Signal the sandbox's first process (a forked kernel's through its pidfd)."""
        if self.process is None:
            return
        if signum == signal.SIGKILL:
            await self.kill()
            return
        try:
            self.process.send_signal(signum)
        except ProcessLookupError:
            pass

    async def kill(self, restart: bool = False) -> None:
        """SIGKILL to the sandbox (with its process group, unless forked) and wait for it."""
        if self.process is not None:
            stop_process(self.process, group=not self._launch.forked)

    async def terminate(self, restart: bool = False) -> None:
        """The same as :meth:`kill`: a sandbox has nothing to save, and a graceful end is
        a ``shutdown_request`` on the control channel, which the kernel may ignore."""
        await self.kill(restart)

    async def cleanup(self, restart: bool = False) -> None:
        """Remove the kernel's cgroups (killing anything left in them) and close its pipes."""
        if self._launch is not None:
            cgroups.kill_and_remove(self._launch.cgroups)
            self._launch.close_child_fds()
            self._launch.close_info()

    def get_shutdown_wait_time(self, recommended: float = 5.0) -> float:
        return 0.0  # the grader always kills (KernelManager.shutdown_kernel(now=True))


def new_manager(context, kernel_dir) -> SandboxKernelManager:
    """A :class:`SandboxKernelManager` for one kernel, its provisioner set (never looked up)."""
    manager = SandboxKernelManager(context=context, kernel_spec_manager=_SPECS, kernel_name=KERNEL_NAME,
                                   kernel_id=str(uuid.uuid4()),
                                   connection_file=str(kernel_dir / "manager.json"),
                                   client_class="lossbook.grading.kernel_client.GuardedKernelClient")
    manager.provisioner = SandboxProvisioner(kernel_id=manager.kernel_id, kernel_spec=manager.kernel_spec,
                                             parent=manager)
    return manager


_SPECS = GradingKernelSpecManager()

__all__ = ["GradingKernelSpecManager", "KERNEL_NAME", "PROVISIONER_NAME", "SandboxKernelManager",
           "SandboxProvisioner", "grading_kernel_spec", "new_manager"]
