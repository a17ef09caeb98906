"""The operating-system sandbox a learner's kernel runs in.

The security boundary of grading is a private mount namespace plus an unprivileged user
(``bwrap``, Debian's bubblewrap; ``unshare`` + ``chroot`` + ``setpriv`` from util-linux
when bwrap is missing). Inside, the kernel sees:

- the Python installation and the virtual environment, read-only (``/usr`` too);
- the grading runtime folder, read-only: the stand-in ``lossbook`` package (inert
  ``check``/``hint``/``solution``/``progress`` and ``lossbook.canonical``) and the kernel
  bootstrap script; never the real ``lossbook`` package (masked when it lies inside a
  bound folder), never ``solutions/``, the grading notebook (it is never written to disk:
  cells go to the kernel over ZeroMQ) or the submissions;
- a fresh, size-limited ``/tmp`` (its working directory is ``/tmp/work``), its own
  ``/proc`` (own pid namespace: no parent to look at; the machine-wide parts such as
  ``/proc/sys`` and ``/proc/sysrq-trigger`` read-only) and a minimal ``/dev``;
- one per-kernel folder, bound at the same path as outside, holding its connection file
  and the ZeroMQ ``ipc`` sockets the grader talks to it through: the network namespace is
  private too, so there is no TCP to reach anything (other kernels, the internet).

Resource limits (address space, file size, CPU time) are set by ``prlimit`` (util-linux)
before the sandbox starts and are inherited by everything in it; where cgroup v1 is
writable, :mod:`lossbook.grading.cgroups` also caps processes and memory per kernel.

The uid inside maps to the grader's uid outside (bubblewrap's and unshare's mapping), so
run the grader as an ordinary user where possible: as root, the kernel has no
capabilities and sees only the mounts above, but file permissions treat it as root.
"""
from __future__ import annotations

import os
import resource
import signal
import shutil
import subprocess
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

#: uid/gid the kernel runs as inside the sandbox ("nobody").
SANDBOX_UID = 65534
#: Where the grading runtime (stand-in package, bootstrap) is mounted inside the sandbox.
RUNTIME_MOUNT = "/opt/lossbook-grading"
#: The kernel's only writable place: a private tmpfs (size- and inode-limited), its
#: working directory; its home and its ZeroMQ sockets are inside it.
WORKDIR = "/tmp/work"
HOMEDIR = f"{WORKDIR}/.home"
SOCKETDIR = f"{WORKDIR}/.kernel"
#: Where a kernel forked by the fork server finds its connection file (a small read-only
#: tmpfs of its own, mounted by its sandbox's init; see ``standin/forkserver.py``).
FORKED_CONNECTION_DIR = "/tmp/.kernel-connection"
#: ``setpriv`` options that make the kernel "nobody" with no capabilities, ever.
DROP_TO_NOBODY = (f"--reuid={SANDBOX_UID}", f"--regid={SANDBOX_UID}", "--clear-groups",
                  "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs")

#: Parts of /proc that reach the whole machine (sysctls, sysrq, IRQs, buses): read-only in
#: the sandbox. The kernel's uid maps to the grader's uid outside (root, when the grader
#: runs as root), so file permissions alone would let it write them.
PROC_READ_ONLY = ("sys", "sysrq-trigger", "irq", "bus", "fs", "acpi", "scsi", "driver", "keys",
                  "timer_list", "kcore", "kmsg")

DEFAULT_MEMORY_MB = 1536
DEFAULT_TMP_MB = 64
DEFAULT_TMP_FILES = 4096
DEFAULT_FILE_MB = 32


class SandboxUnavailable(RuntimeError):
    """No operating-system sandbox can be made on this machine."""


@dataclass(frozen=True)
class Limits:
    """Per-kernel operating-system limits.

    ``memory_mb`` caps the address space (``RLIMIT_AS``); ``file_mb`` the size of any file
    it writes (``RLIMIT_FSIZE``); ``tmp_mb`` and ``tmp_files`` the size and the number of
    files (inodes) of its writable space, a tmpfs (the inode limit needs the grader to run
    as root: bubblewrap has no option for it); ``cpu_seconds`` its CPU time
    (``RLIMIT_CPU``, a backstop behind the grader's wall-clock timeouts).
    """

    memory_mb: int = DEFAULT_MEMORY_MB
    file_mb: int = DEFAULT_FILE_MB
    tmp_mb: int = DEFAULT_TMP_MB
    tmp_files: int = DEFAULT_TMP_FILES
    cpu_seconds: int = 600

    def prefix(self) -> list[str]:
        """``prlimit`` command-line prefix setting the limits (util-linux), or ``[]``.

        Setting limits through a program rather than a ``preexec_fn`` keeps process
        creation safe in the grader's threads (``preexec_fn`` may deadlock with threads).
        """
        tool = shutil.which("prlimit")
        if tool is None:
            return []
        mem, size = self.memory_mb * 1024 * 1024, self.file_mb * 1024 * 1024
        return [tool, f"--as={mem}", f"--fsize={size}", f"--cpu={self.cpu_seconds}", "--core=0", "--"]

    def apply(self) -> None:
        """Set the limits on the calling process (the fallback when ``prlimit`` is missing)."""
        mem = self.memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (mem, mem))
        size = self.file_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))
        resource.setrlimit(resource.RLIMIT_CPU, (self.cpu_seconds, self.cpu_seconds))
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


def _probe(command: list[str]) -> bool:
    try:
        return subprocess.run(command, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def find_bwrap() -> str | None:
    """Path of a working ``bwrap``, or ``None``."""
    found = shutil.which("bwrap")
    if not found:
        return None
    ok = _probe([found, "--ro-bind", "/", "/", "--unshare-all", "--uid", str(SANDBOX_UID),
                 "--gid", str(SANDBOX_UID), "--die-with-parent", "/bin/true"])
    return found if ok else None


def bwrap_supports_size(bwrap: str) -> bool:
    """Whether this bwrap has ``--size`` for tmpfs mounts (bubblewrap 0.8+)."""
    return _probe([bwrap, "--ro-bind", "/", "/", "--size", "1048576", "--tmpfs", "/tmp", "/bin/true"])


@dataclass
class Sandbox:
    """Builds the command line that runs a command inside the sandbox.

    ``hidden`` lists host paths that must not be visible even if they lie inside a bound
    folder (the real ``lossbook`` package, ``solutions/``): they are covered by an empty
    tmpfs. ``bwrap=None`` means no sandbox (``--no-sandbox``): the command runs as is,
    with the limits still applied.
    """

    runtime: Path
    bwrap: str | None  # the sandbox program (bwrap or unshare), None for no sandbox
    limits: Limits = field(default_factory=Limits)
    hidden: tuple[Path, ...] = ()
    #: bwrap supports ``--size`` (0.8+): /tmp is size-limited (else only RLIMIT_FSIZE holds).
    tmp_size: bool = True
    #: Install the kernel's second layer (import guard, audit hook). Tests switch it off
    #: to show that the sandbox alone holds.
    guards: bool = True
    #: "bwrap", or "unshare" (util-linux, the fallback when bwrap is missing).
    backend: str = "bwrap"
    #: The grader runs as root and the kernel is made "nobody" (uid 65534, no
    #: capabilities) inside the sandbox, outside a user namespace (see :meth:`command`).
    as_root: bool = False
    #: What is at risk on this machine (said once, at the start of a batch).
    warnings: tuple[str, ...] = ()

    @property
    def isolated(self) -> bool:
        return self.bwrap is not None

    @property
    def name(self) -> str:
        """What the gradebook's ``sandbox`` column says."""
        return self.backend if self.isolated else "NONE"

    def command(self, kernel_dir: Path, argv: list[str], info_fd: int | None = None) -> list[str]:
        """The full command line running ``argv`` in the sandbox.

        The kernel's connection file (``kernel_dir/kernel.json``) is bound read-only at
        the same path; nothing of the host is writable. Its ZeroMQ sockets live in
        :data:`SOCKETDIR`, inside its private tmpfs, which the grader reaches through
        ``/proc/<pid>/root`` (:meth:`socket_prefix`). ``info_fd``: bwrap writes the
        sandbox's process id there (``--info-fd``).

        As root, bwrap runs without a user namespace (inside one, root's uid would map to
        0 outside) with only the capabilities the start-up needs; a shell mounts the
        private tmpfs (size, ``nr_inodes``, owned by 65534) and ``setpriv`` makes the
        kernel "nobody" with no capabilities before it starts. Otherwise bwrap's user
        namespace maps the sandbox's uid 65534 to the grader's uid.
        """
        limits = self.limits.prefix()
        if self.bwrap is None:
            return limits + list(argv)
        if self.backend == "unshare":
            return limits + self._unshare_command(kernel_dir, argv)
        made: set = set()
        cmd = limits + [self.bwrap, *self._read_only_view(made)]
        connection = str(Path(kernel_dir) / "kernel.json")
        cmd += [*_parents(Path(connection), made), "--ro-bind", connection, connection]
        if self.as_root:
            cmd += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try",
                    "--cap-drop", "ALL"]
            for cap in ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"):
                cmd += ["--cap-add", cap]
        else:
            cmd += ["--unshare-all", "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--cap-drop", "ALL"]
        cmd += ["--die-with-parent", "--new-session", "--clearenv", "--chdir", "/"]
        if info_fd is not None:
            cmd += ["--info-fd", str(info_fd)]
        for key, value in kernel_environment(self.guards).items():
            cmd += ["--setenv", key, value]
        if self.as_root:
            return cmd + self._root_start(argv)
        return cmd + ["/bin/sh", "-c", f'cd {WORKDIR} && exec "$@"', "lossbook-kernel", *argv]

    def _read_only_view(self, made: set) -> list[str]:
        """bwrap options for what every kernel sees: ``/usr``, the Python installation and the
        grading runtime read-only, the course folders masked, a private ``/tmp``, ``/proc``
        (machine-wide parts read-only) and a minimal ``/dev``."""
        roots = python_roots()
        cmd = ["--ro-bind", "/usr", "/usr"]
        for name in ("lib", "lib64", "bin", "sbin"):
            if os.path.islink(f"/{name}"):
                cmd += ["--symlink", os.readlink(f"/{name}"), f"/{name}"]
            elif os.path.isdir(f"/{name}"):
                cmd += ["--ro-bind", f"/{name}", f"/{name}"]
        # The private /tmp comes before the Python environment's binds: a virtual
        # environment may itself live under /tmp (a CI clone), and a later tmpfs would hide it.
        size = ["--size", str(self.limits.tmp_mb * 1024 * 1024)] if self.tmp_size else []
        cmd += [*size, "--perms", "0755", "--tmpfs", "/tmp"]
        if self.as_root:
            cmd += ["--dir", WORKDIR]
        else:
            cmd += [*size, "--perms", "0700", "--tmpfs", WORKDIR, "--dir", HOMEDIR, "--dir", SOCKETDIR]
        made |= {Path("/"), Path("/tmp"), Path(WORKDIR)}
        for root in roots:
            if not _inside(root, [Path("/usr")]):
                # Folders leading to it traversable by "nobody" (bwrap makes them 0700 as
                # root): a Python under /root, mode 0700 outside, is reachable inside.
                cmd += _parents(root, made) + ["--ro-bind", str(root), str(root)]
        for path in self.hidden:
            real = _real(path)
            if real.exists() and _inside(real, roots + [Path("/usr")]):
                cmd += ["--tmpfs", str(real)]
        cmd += ["--proc", "/proc"]
        for name in PROC_READ_ONLY:
            if os.path.exists(f"/proc/{name}"):
                cmd += ["--ro-bind", f"/proc/{name}", f"/proc/{name}"]
        cmd += ["--dev", "/dev", *_parents(Path(RUNTIME_MOUNT), made), "--ro-bind", str(self.runtime), RUNTIME_MOUNT]
        return cmd

    #: Capabilities the fork server's template keeps to set up each child (see
    #: ``standin/forkserver.py``); every child drops them all before it starts a kernel.
    TEMPLATE_CAPS = ("CAP_SYS_ADMIN", "CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP", "CAP_CHOWN",
                     "CAP_DAC_OVERRIDE", "CAP_FOWNER")

    def template_command(self, argv: list[str]) -> list[str]:
        """The command line of the fork server's template (grader running as root, bwrap).

        The same read-only view as :meth:`command`, no network, IPC or UTS of the host, but
        the host's pid namespace (the template reports its children's pids to the grader,
        which reaches their sockets through ``/proc/<pid>/root``), no limits and
        :data:`TEMPLATE_CAPS`: each child makes its own namespaces, mounts, limits and
        becomes "nobody" itself. The template never runs learner code.
        """
        if not (self.isolated and self.backend == "bwrap" and self.as_root):
            raise ValueError("sandbox: a fork server needs bwrap and a grader running as root "
                             f"(this one: backend={self.backend!r}, as_root={self.as_root}); "
                             "start kernels one by one (SandboxedKernel) instead")
        cmd = [self.bwrap, *self._read_only_view(set()), "--perms", "0755", "--dir", FORKED_CONNECTION_DIR,
               "--unshare-ipc", "--unshare-net", "--unshare-uts", "--cap-drop", "ALL"]
        for cap in self.TEMPLATE_CAPS:
            cmd += ["--cap-add", cap]
        cmd += ["--die-with-parent", "--new-session", "--clearenv", "--chdir", "/"]
        for key, value in kernel_environment(self.guards).items():
            cmd += ["--setenv", key, value]
        return cmd + list(argv)

    def _root_start(self, argv: list[str]) -> list[str]:
        """Inside, as root: mount the private tmpfs, then become "nobody" and start ``argv``."""
        options = (f"size={self.limits.tmp_mb}m,nr_inodes={self.limits.tmp_files},mode=0700,"
                   f"uid={SANDBOX_UID},gid={SANDBOX_UID},nosuid,nodev")
        script = (f"mount -t tmpfs -o {options} lossbook-work {WORKDIR} && "
                  f"exec /usr/bin/setpriv {' '.join(DROP_TO_NOBODY)} -- /bin/sh -c "
                  f"'mkdir -p {HOMEDIR} {SOCKETDIR} && cd {WORKDIR} && exec \"$@\"' lossbook-kernel \"$@\"")
        return ["/bin/sh", "-c", script, "lossbook-sandbox", *argv]

    def socket_prefix(self, pid: int, kernel_dir: Path) -> str:
        """Where the grader finds the kernel's sockets: through ``/proc/<pid>/root``."""
        return f"/proc/{pid}/root{SOCKETDIR}/s"

    def _unshare_command(self, kernel_dir: Path, argv: list[str]) -> list[str]:
        """The same view as bwrap's, built by a shell script in fresh namespaces.

        ``unshare`` makes mount, pid, network, IPC and UTS namespaces (and, when the
        grader is not root, a user namespace mapped to root inside, no rights outside);
        the script mounts a size-limited tmpfs as the new root (on ``kernel_dir/root``,
        seen only inside), binds into it read-only what the kernel needs, mounts the
        private writable tmpfs, chroots, and starts the kernel through ``setpriv``: no
        capabilities, and uid 65534 when the grader is root.
        """
        roots = python_roots()
        root = Path(kernel_dir) / "root"
        binds = ["/usr", *[str(r) for r in roots if not _inside(r, [Path("/usr")])]]
        lines = ["set -eu", f'R="{root}"', "mkdir -p \"$R\"",
                 f'mount -t tmpfs -o size={self.limits.tmp_mb}m,mode=755 tmpfs "$R"']
        for source in binds:
            lines += [f'mkdir -p "$R{source}"', f'mount --rbind "{source}" "$R{source}"',
                      f'mount -o remount,bind,ro "$R{source}"']
        for name in ("lib", "lib64", "bin", "sbin"):
            if os.path.islink(f"/{name}"):
                lines.append(f'ln -s "{os.readlink(f"/{name}")}" "$R/{name}"')
        for path in self.hidden:
            real = _real(path)
            if real.exists() and _inside(real, roots + [Path("/usr")]):
                lines.append(f'mount -t tmpfs -o size=1k,ro tmpfs "$R{real}"')
        connection = Path(kernel_dir) / "kernel.json"
        owner = f",uid={SANDBOX_UID},gid={SANDBOX_UID}" if self.as_root else ""
        lines += [f'mkdir -p "$R{RUNTIME_MOUNT}" "$R{kernel_dir}" "$R{WORKDIR}" "$R/proc" "$R/dev"',
                  f'touch "$R{connection}"',
                  f'mount --bind "{self.runtime}" "$R{RUNTIME_MOUNT}"',
                  f'mount -o remount,bind,ro "$R{RUNTIME_MOUNT}"',
                  f'mount --bind "{connection}" "$R{connection}"',
                  f'mount -o remount,bind,ro "$R{connection}"',
                  f'mount -t tmpfs -o size={self.limits.tmp_mb}m,nr_inodes={self.limits.tmp_files},mode=0700,'
                  f'nosuid,nodev{owner} lossbook-work "$R{WORKDIR}"',
                  'mount -t proc proc "$R/proc"', 'chmod 755 "$R/tmp"']
        for name in PROC_READ_ONLY:
            if os.path.exists(f"/proc/{name}"):
                lines += [f'mount --bind "/proc/{name}" "$R/proc/{name}"',
                          f'mount -o remount,bind,ro "$R/proc/{name}"']
        for node in ("null", "zero", "random", "urandom"):
            lines += [f'touch "$R/dev/{node}"', f'mount --bind "/dev/{node}" "$R/dev/{node}"']
        environment = " ".join(f"{k}={v}" for k, v in kernel_environment(self.guards).items())
        drop = " ".join(DROP_TO_NOBODY) if self.as_root else "--no-new-privs --inh-caps=-all --bounding-set=-all"
        lines.append(f'exec chroot "$R" /usr/bin/setpriv {drop} /usr/bin/env -i {environment} '
                     f'/bin/sh -c \'mkdir -p {HOMEDIR} {SOCKETDIR} && cd {WORKDIR} && exec "$@"\' lossbook-kernel "$@"')
        user = [] if self.as_root else ["--user", "--map-root-user"]
        return [self.bwrap, *user, "--mount", "--pid", "--fork", "--net", "--ipc",
                "--uts", "--kill-child", "/bin/sh", "-c", "\n".join(lines), "lossbook-sandbox", *argv]


def _parents(path: Path, made: set) -> list[str]:
    """bwrap options making the folders leading to ``path`` (mode 0755: bwrap run by root
    would make them 0700, which "nobody" cannot traverse)."""
    options = []
    for parent in reversed(Path(path).parents):
        if parent not in made:
            made.add(parent)
            options += ["--perms", "0755", "--dir", str(parent)]
    return options


def kernel_environment(guards: bool = True) -> dict[str, str]:
    """Environment of the sandboxed kernel: no secrets, one BLAS thread, a private home."""
    return {
        "LOSSBOOK_GRADING_GUARDS": "1" if guards else "0",
        "HOME": HOMEDIR,
        "TMPDIR": WORKDIR,
        "LOSSBOOK_WORKDIR": WORKDIR,
        "IPYTHONDIR": f"{HOMEDIR}/.ipython",
        "JUPYTER_RUNTIME_DIR": f"{HOMEDIR}/runtime",
        "MPLCONFIGDIR": f"{HOMEDIR}/mpl",
        "MPLBACKEND": "agg",
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONHASHSEED": "0",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "LOSSBOOK_PROGRESS_DIR": f"{HOMEDIR}/progress",
    }


def stop_process(process, *, grace: float = 0.0, group: bool = False, wait: float = 10.0) -> bool:
    """Stop a sandbox's process and wait for it; ``True`` once it is gone.

    ``process`` is a :class:`subprocess.Popen` or a fork server's
    :class:`~lossbook.grading.forkserver.ForkedProcess` (a pidfd: a reused pid is never
    hit). It gets ``grace`` seconds to exit on its own, then SIGKILL, with ``group``
    its whole process group too (a sandbox started in its own session: bwrap, unshare,
    the fork server's template), and is waited for up to ``wait`` seconds.
    """
    if grace > 0:
        try:
            process.wait(timeout=grace)
            return True
        except subprocess.TimeoutExpired:
            pass
    kill_now(process, group=group)
    try:
        process.wait(timeout=wait)
        return True
    except subprocess.TimeoutExpired:
        return False


def kill_now(process, *, group: bool = False) -> None:
    """SIGKILL a sandbox's process (``group``: its process group too) without waiting for it
    (:func:`stop_process` waits). Nothing in the sandbox runs on once the signal is
    delivered; a forked sandbox's init takes its pid namespace with it."""
    if process.poll() is None:
        if group:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            process.kill()
        except ProcessLookupError:
            pass


class KernelStartError(RuntimeError):
    """The sandboxed kernel did not start."""


@dataclass
class KernelLaunch:
    """What starting one sandboxed kernel needs, prepared by
    :class:`~lossbook.grading.kernel.SandboxedKernel` and carried to the launch by
    :class:`~lossbook.grading.provisioner.SandboxProvisioner`.

    ``argv``: the kernel's command inside the sandbox (bwrap / unshare / no sandbox; a
    fork server's child builds its own); ``connection``: the connection info as the kernel
    sees it (a fork server's child gets it over a pipe, the others read
    ``kernel_dir/kernel.json``); ``report_write`` / ``key_read``: the refusal pipe's write
    end and its key pipe's read end, for the child only; ``info_read`` / ``info_write``:
    where bwrap (or the fork server's child) reports the sandbox's process id; ``stderr``:
    the kernel's output file; ``cgroups``: its cgroup folders; ``env`` / ``cwd``: for a
    kernel without a sandbox. ``forked``: set when a fork server made the process.
    """

    sandbox: "Sandbox"
    kernel_dir: Path
    argv: list[str]
    connection: dict
    report_write: int | None
    key_read: int | None
    info_read: int | None
    info_write: int | None
    stderr: object
    cgroups: list = field(default_factory=list)
    env: dict | None = None
    cwd: str | None = None
    forked: bool = False

    def close_child_fds(self) -> None:
        """Close the grader's copies of the child's pipe ends (once the child has them)."""
        for name in ("report_write", "key_read", "info_write"):
            fd = getattr(self, name)
            if fd is not None:
                setattr(self, name, None)
                try:
                    os.close(fd)
                except OSError:
                    pass

    def close_info(self) -> None:
        if self.info_read is not None:
            fd, self.info_read = self.info_read, None
            try:
                os.close(fd)
            except OSError:
                pass


def launch_direct(launch: KernelLaunch) -> subprocess.Popen:
    """Start ``launch``'s kernel in its own sandbox (bwrap, unshare, or none), as a child of
    the calling thread (bwrap's ``--die-with-parent`` ties the sandbox to that thread);
    writes its connection file, ``kernel_dir/kernel.json``, first."""
    from lossbook.grading import cgroups

    import json

    sandbox = launch.sandbox
    # Bound read-only into the sandbox (a fork server's child gets it over a pipe instead).
    connection_file = Path(launch.kernel_dir) / "kernel.json"
    connection_file.write_text(json.dumps(launch.connection))
    os.chmod(connection_file, 0o644)
    pass_fds = [fd for fd in (launch.report_write, launch.key_read, launch.info_write) if fd is not None]
    return subprocess.Popen(
        cgroups.prefix(launch.cgroups) + sandbox.command(launch.kernel_dir, launch.argv, info_fd=launch.info_write),
        stdin=subprocess.DEVNULL, stdout=launch.stderr, stderr=launch.stderr, env=launch.env, cwd=launch.cwd,
        close_fds=True, pass_fds=pass_fds,
        # Its own session (the grader kills the whole group); limits via prlimit, else here.
        start_new_session=True,
        preexec_fn=None if sandbox.limits.prefix() else sandbox.limits.apply,
    )


def find_sandbox_pid(launch: KernelLaunch, process, deadline: float, stderr_tail=lambda: "") -> int:
    """The host pid of a process inside the sandbox's mount namespace (whose ``/proc/<pid>/root``
    leads to the kernel's sockets); a fork server's child is attached to ``process`` here.
    Raises :class:`KernelStartError` when the sandbox does not report it by ``deadline``."""
    import json
    import select
    import time

    if not launch.sandbox.isolated:
        return process.pid
    if launch.info_read is None:  # unshare --fork: its child chroots into the sandbox
        while time.monotonic() < deadline and process.poll() is None:
            try:
                children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
            except OSError:
                children = []
            if children:
                return int(children[0])
            time.sleep(0.02)
        raise KernelStartError(f"the sandbox did not start: {stderr_tail()}")
    data = b""
    while time.monotonic() < deadline:
        ready, _, _ = select.select([launch.info_read], [], [], 0.2)
        if ready:
            chunk = os.read(launch.info_read, 4096)
            data += chunk
            try:
                pid = int(json.loads(data)["child-pid"])
                if launch.forked:
                    process.attach(pid)
                return pid
            except (ValueError, KeyError):
                if not chunk:
                    break
        if process.poll() is not None:
            break
    raise KernelStartError(f"the sandbox did not report its process id: {stderr_tail()}")


def find_unshare() -> str | None:
    """Path of a working ``unshare`` (util-linux) able to build the fallback sandbox, or ``None``."""
    found = shutil.which("unshare")
    if not found or not shutil.which("setpriv") or not shutil.which("chroot"):
        return None
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    ok = _probe([found, *user, "--mount", "--pid", "--fork", "--net",
                 "/bin/sh", "-c", "mount -t tmpfs tmpfs /mnt && mount -t proc proc /proc"])
    return found if ok else None


def make_sandbox(runtime: Path, *, no_sandbox: bool = False, limits: Limits | None = None,
                 hidden: tuple[Path, ...] = (), backend: str | None = None) -> Sandbox:
    """The sandbox to grade in; raises :class:`SandboxUnavailable` when there is none.

    ``backend`` forces "bwrap" or "unshare"; by default bwrap, else unshare.
    ``no_sandbox=True`` runs kernels unconfined (every gradebook row then says so).
    What cannot be made safe here is in the sandbox's ``warnings`` (said once per batch).
    """
    limits = limits or Limits()
    if no_sandbox:
        return Sandbox(runtime, None, limits, hidden, warnings=(
            "--no-sandbox: learners' code runs unconfined, with your rights: it can read the solutions "
            "and the other submissions, change any file you can, and reach the network",))
    bwrap = find_bwrap() if backend in (None, "bwrap") else None
    if bwrap is None and backend in (None, "unshare"):
        unshare = find_unshare()
        if unshare is not None:
            return _for_this_user(Sandbox(runtime, unshare, limits, hidden, backend="unshare"))
    if bwrap is None:
        raise SandboxUnavailable(
            "no operating-system sandbox: neither `bwrap` (bubblewrap) nor `unshare` (util-linux) "
            "can create namespaces here. Install it (Debian/Ubuntu: apt-get install bubblewrap) or, "
            "knowing learners' code then runs unconfined, pass --no-sandbox"
        )
    return _for_this_user(Sandbox(runtime, bwrap, limits, hidden, tmp_size=bwrap_supports_size(bwrap)))


#: Run by the start-up probe inside the sandbox: the kernel's Python works and is "nobody".
_PROBE_CODE = ("import os, numpy, ipykernel.kernelapp\n"
               "status = open('/proc/self/status').read()\n"
               f"assert os.getuid() == os.geteuid() == {SANDBOX_UID}, status\n"
               "assert 'CapEff:\\t0000000000000000' in status, status")


def _for_this_user(sandbox: Sandbox) -> Sandbox:
    """As root, make kernels uid 65534 with no capabilities (probed with the real command).

    Never falls back silently: when the probe fails, the sandbox runs as before (a user
    namespace: uid 65534 inside is root outside, with no capabilities) and its
    ``warnings`` say what is at risk.
    """
    if os.geteuid() != 0:
        return sandbox
    candidate = replace(sandbox, as_root=True)
    probe_dir = Path(sandbox.runtime).parent / "probe"
    probe_dir.mkdir(exist_ok=True)
    (probe_dir / "kernel.json").write_text("{}")
    command = candidate.command(probe_dir, [sys.executable, "-I", "-c", _PROBE_CODE])
    try:
        done = subprocess.run(command, capture_output=True, timeout=60)
        ok, why = done.returncode == 0, done.stderr.decode("utf-8", "replace").strip()[-300:]
    except (OSError, subprocess.TimeoutExpired) as error:
        ok, why = False, str(error)
    finally:
        shutil.rmtree(probe_dir, ignore_errors=True)
    if ok:
        return candidate
    return replace(sandbox, warnings=sandbox.warnings + (
        "running as root, but the kernel could not be made uid 65534 outside the sandbox here "
        f"({why or 'the probe failed'}). Kernels run in a user namespace whose uid is root outside "
        "(no capabilities): if a learner's code escaped the sandbox's mounts, file permissions would "
        "not stop it from reading or changing root's files. Run the grader as an ordinary user to avoid this.",))
