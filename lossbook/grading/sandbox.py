"""The operating-system sandbox a learner's kernel runs in.

The security boundary of grading is a private mount namespace plus an unprivileged user
(``bwrap``, Debian's bubblewrap). Inside, the kernel sees:

- the Python installation and the virtual environment, read-only (``/usr`` too);
- the grading runtime folder, read-only: the stand-in ``lossbook`` package (inert
  ``check``/``hint``/``solution``/``progress`` and ``lossbook.canonical``) and the kernel
  bootstrap script; never the real ``lossbook`` package (masked when it lies inside a
  bound folder), never ``solutions/``, the grading notebook or the submissions;
- a fresh, size-limited ``/tmp`` (its working directory is ``/tmp/work``), private
  ``/proc`` (its own pid namespace: no parent to look at) and ``/dev``;
- one per-kernel folder, bound at the same path as outside, holding its connection file
  and the ZeroMQ ``ipc`` sockets the grader talks to it through: the network namespace is
  private too, so there is no TCP to reach anything (other kernels, the internet).

Resource limits (address space, file size, CPU time) are set with ``setrlimit`` in the
child before ``bwrap`` starts; they are inherited by everything in the sandbox.
"""
from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

#: uid/gid the kernel runs as inside the sandbox ("nobody").
SANDBOX_UID = 65534
#: Where the grading runtime (stand-in package, bootstrap) is mounted inside the sandbox.
RUNTIME_MOUNT = "/opt/lossbook-grading"
WORKDIR = "/tmp/work"

DEFAULT_MEMORY_MB = 1536
DEFAULT_TMP_MB = 64
DEFAULT_FILE_MB = 32


class SandboxUnavailable(RuntimeError):
    """No operating-system sandbox can be made on this machine."""


@dataclass(frozen=True)
class Limits:
    """Per-kernel operating-system limits.

    ``memory_mb`` caps the address space (``RLIMIT_AS``); ``file_mb`` the size of any file
    it writes (``RLIMIT_FSIZE``); ``tmp_mb`` the size of its ``/tmp``; ``cpu_seconds`` its
    CPU time (``RLIMIT_CPU``, a backstop behind the grader's wall-clock timeouts).
    """

    memory_mb: int = DEFAULT_MEMORY_MB
    file_mb: int = DEFAULT_FILE_MB
    tmp_mb: int = DEFAULT_TMP_MB
    cpu_seconds: int = 600

    def apply(self) -> None:
        """Set the limits on the calling process (used as ``preexec_fn``)."""
        os.setsid()  # its own process group and session: the grader kills the whole group
        mem = self.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        size = self.file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds + 5))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def _real(path: str | os.PathLike) -> Path:
    return Path(os.path.realpath(path))


def python_roots() -> list[Path]:
    """Folders the kernel's Python needs, read-only: the installation and the venv."""
    roots = {_real(sys.base_prefix), _real(sys.prefix), _real(sys.exec_prefix)}
    roots.add(_real(Path(sys.executable).parent.parent))
    # Drop roots inside other roots (binding both is harmless but noisy).
    ordered = sorted(roots, key=lambda p: len(p.parts))
    kept: list[Path] = []
    for root in ordered:
        if not any(root == k or k in root.parents for k in kept):
            kept.append(root)
    return kept


def _inside(path: Path, roots: list[Path]) -> bool:
    return any(path == root or root in path.parents for root in roots)


def find_bwrap() -> str | None:
    """Path of a working ``bwrap``, or ``None``."""
    found = shutil.which("bwrap")
    if not found:
        return None
    try:
        probe = subprocess.run(
            [found, "--ro-bind", "/", "/", "--unshare-all", "--uid", str(SANDBOX_UID),
             "--gid", str(SANDBOX_UID), "--die-with-parent", "/bin/true"],
            capture_output=True, timeout=20,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    return found if probe.returncode == 0 else None


@dataclass
class Sandbox:
    """Builds the command line that runs a command inside the sandbox.

    ``hidden`` lists host paths that must not be visible even if they lie inside a bound
    folder (the real ``lossbook`` package, ``solutions/``): they are covered by an empty
    tmpfs. ``bwrap=None`` means no sandbox (``--no-sandbox``): the command runs as is,
    with the limits still applied.
    """

    runtime: Path
    bwrap: str | None
    limits: Limits = field(default_factory=Limits)
    hidden: tuple[Path, ...] = ()
    #: Install the kernel's second layer (import guard, audit hook). Tests switch it off
    #: to show that the sandbox alone holds.
    guards: bool = True

    @property
    def isolated(self) -> bool:
        return self.bwrap is not None

    def command(self, kernel_dir: Path, argv: list[str]) -> list[str]:
        """The full command line running ``argv`` with ``kernel_dir`` shared read-write."""
        if self.bwrap is None:
            return list(argv)
        roots = python_roots()
        cmd = [self.bwrap, "--ro-bind", "/usr", "/usr"]
        for name in ("lib", "lib64", "bin", "sbin"):
            if os.path.islink(f"/{name}"):
                cmd += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
            elif os.path.isdir(f"/{name}"):
                cmd += ["--ro-bind", f"/{name}", f"/{name}"]
        for root in roots:
            if not _inside(root, [Path("/usr")]):
                cmd += ["--ro-bind", str(root), str(root)]
        for path in self.hidden:
            real = _real(path)
            if real.exists() and _inside(real, roots + [Path("/usr")]):
                cmd += ["--tmpfs", str(real)]
        cmd += [
            "--proc", "/proc", "--dev", "/dev",
            "--size", str(self.limits.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp",
            "--dir", WORKDIR, "--dir", "/tmp/home",
            "--ro-bind", str(self.runtime), RUNTIME_MOUNT,
            "--bind", str(kernel_dir), str(kernel_dir),
            "--unshare-all", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID),
            "--cap-drop", "ALL", "--die-with-parent", "--new-session",
            "--clearenv", "--chdir", WORKDIR,
        ]
        for key, value in kernel_environment(self.guards).items():
            cmd += ["--setenv", key, value]
        return cmd + list(argv)


def kernel_environment(guards: bool = True) -> dict[str, str]:
    """Environment of the sandboxed kernel: no secrets, one BLAS thread, a private home."""
    return {
        "LOSSBOOK_GRADING_GUARDS": "1" if guards else "0",
        "HOME": "/tmp/home",
        "IPYTHONDIR": "/tmp/home/.ipython",
        "JUPYTER_RUNTIME_DIR": "/tmp/home/runtime",
        "MPLCONFIGDIR": "/tmp/home/mpl",
        "MPLBACKEND": "agg",
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LOSSBOOK_PROGRESS_DIR": "/tmp/home/progress",
    }


def make_sandbox(runtime: Path, *, no_sandbox: bool = False, limits: Limits | None = None,
                 hidden: tuple[Path, ...] = ()) -> Sandbox:
    """The sandbox to grade in; raises :class:`SandboxUnavailable` when there is none.

    ``no_sandbox=True`` runs kernels unconfined (every gradebook row then says so).
    """
    limits = limits or Limits()
    if no_sandbox:
        return Sandbox(runtime, None, limits, hidden)
    bwrap = find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable(
            "no operating-system sandbox: `bwrap` (bubblewrap) is missing or cannot create "
            "namespaces here. Install it (Debian/Ubuntu: apt-get install bubblewrap) or, "
            "knowing learners' code then runs unconfined, pass --no-sandbox"
        )
    return Sandbox(runtime, bwrap, limits, hidden)
