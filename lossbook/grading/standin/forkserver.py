"""The fork server's template: ``python -I forkserver.py CONTROL_FD`` inside the template sandbox.

A warm process that forks one sandboxed grading kernel per request and never runs learner
code itself. The grader starts it once per kernel pool (``lossbook/grading/forkserver.py``)
inside a bubblewrap sandbox that already gives the read-only view every kernel sees (the
Python installation, the grading runtime, ``/usr``, the masked course folders, a minimal
``/dev``, the machine-wide parts of ``/proc`` read-only, no network). It keeps the
privileges needed to set up each child (root with ``CAP_SYS_ADMIN``, ``CAP_SETUID``,
``CAP_SETGID``, ``CAP_SETPCAP``, ``CAP_CHOWN``, ``CAP_DAC_OVERRIDE``, ``CAP_FOWNER``) and stays
single-threaded: ``unshare`` of a mount namespace fails in a threaded process, and a fork
of a threaded process may inherit held locks. It imports numpy (BLAS limited to one thread
by the environment), the stand-in ``lossbook`` and ipykernel with everything a kernel's
start-up imports, then waits on its control socket.

Each request (a JSON line plus file descriptors passed with ``SCM_RIGHTS``: the connection
info pipe, the refusal pipe and its key pipe, the info pipe, the kernel's stderr file, the
kernel's cgroup ``cgroup.procs`` files) forks three processes:

``keeper`` (root, the template's pid namespace, which is the host's)
    closes the control socket, joins the kernel's cgroups, enters new mount, pid, network,
    IPC, UTS and cgroup namespaces, forks ``init``, writes ``{"child-pid": <init's pid>}``
    to the info pipe (as ``bwrap --info-fd`` does) and waits; dies with the template.
``init`` (pid 1 of the new pid namespace, root)
    makes the mounts private, mounts the kernel's own writable tmpfs on ``/tmp/work``
    (size, ``nr_inodes``, owned by 65534), a fresh ``/proc`` of its pid namespace (the
    machine-wide parts read-only again), a fresh ``devpts`` instance, writes the
    connection file (root's, read-only to the kernel), forks the kernel and reaps orphans;
    when the kernel exits it exits, and the pid namespace goes with it. Dies with the keeper.
``kernel`` (pid 2)
    new session, stdin ``/dev/null``, stdout/stderr the grader's file, every other
    inherited descriptor closed (the control socket, the template's pipes), resource limits,
    then uid/gid 65534 with no supplementary groups, an empty bounding set, no inheritable
    or ambient capabilities (so none at all), ``NoNewPrivs``; reseeds ``random`` and numpy;
    installs the grading guards (``boot._install_guards``, keyed by its own refusal pipe)
    and starts ipykernel, exactly as ``boot.py`` does in a kernel started by ``bwrap``.

The template never reads a pipe's content: the connection key and the refusal key go from
the grader to the kernel, so no child can find another kernel's keys in the memory it
inherits from the template.
"""
import ctypes
import json
import os
import signal
import socket
import sys

SANDBOX_UID = 65534
WORKDIR = "/tmp/work"
HOMEDIR = f"{WORKDIR}/.home"
SOCKETDIR = f"{WORKDIR}/.kernel"
#: The connection file: on a small tmpfs of its own, read-only once written (the template's
#: sandbox has the empty folder; ``lossbook.grading.sandbox.FORKED_CONNECTION_DIR``).
CONNECTION_DIR = "/tmp/.kernel-connection"
CONNECTION = f"{CONNECTION_DIR}/kernel.json"

CLONE_NEWNS, CLONE_NEWCGROUP, CLONE_NEWUTS = 0x00020000, 0x02000000, 0x04000000
CLONE_NEWIPC, CLONE_NEWPID, CLONE_NEWNET = 0x08000000, 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = None


def _c():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


def _check(result, what):
    if result != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, f"{what}: {os.strerror(errno)}")


def _mount(source, target, fstype, flags, data=None):
    _check(_c().mount(source and source.encode(), target.encode(), fstype and fstype.encode(),
                      ctypes.c_ulong(flags), data and data.encode()), f"mount {target}")


def _prctl(option, arg):
    _check(_c().prctl(option, ctypes.c_ulong(arg), 0, 0, 0), f"prctl {option}")


def _bind_read_only(path):
    _mount(path, path, None, MS_BIND | MS_REC)
    _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def _drop_privileges(last_cap):
    """uid/gid 65534, no groups, no capabilities of any kind, NoNewPrivs (as ``setpriv``)."""
    for cap in range(last_cap + 1):
        _prctl(PR_CAPBSET_DROP, cap)
    _check(_c().prctl(PR_CAP_AMBIENT, ctypes.c_ulong(PR_CAP_AMBIENT_CLEAR_ALL), 0, 0, 0), "ambient")
    os.setgroups([])
    os.setresgid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)
    os.setresuid(SANDBOX_UID, SANDBOX_UID, SANDBOX_UID)  # clears permitted and effective
    header = (ctypes.c_uint32 * 2)(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (ctypes.c_uint32 * 6)()  # effective, permitted, inheritable (x2): all empty
    _check(_c().capset(header, data), "capset")
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    # A changed uid makes the process non-dumpable (its /proc files root's); an exec (as
    # setpriv's) would reset it: the kernel reads its own /proc like any process.
    _prctl(PR_SET_DUMPABLE, 1)
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # cleared by the uid change


def _read_all(fd, limit=1 << 20):
    data = b""
    while len(data) < limit:
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        data += chunk
    os.close(fd)
    return data


def _kernel(request, fds, last_cap, here):
    """pid 2: the kernel itself (never returns)."""
    os.setsid()
    null = os.open("/dev/null", os.O_RDONLY)
    os.dup2(null, 0)
    os.dup2(fds["stderr"], 1)
    os.dup2(fds["stderr"], 2)
    keep = {0, 1, 2, fds["report"], fds["key"]}
    for fd in _open_fds():
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass
    import resource

    limits = request["limits"]
    for name, value in (("RLIMIT_AS", limits["memory_mb"] * 1024 * 1024),
                        ("RLIMIT_FSIZE", limits["file_mb"] * 1024 * 1024),
                        ("RLIMIT_CPU", limits["cpu_seconds"]), ("RLIMIT_CORE", 0)):
        resource.setrlimit(getattr(resource, name), (value, value))
    os.chdir(WORKDIR)
    _drop_privileges(last_cap)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGPIPE, signal.SIG_IGN)
    # Every child starts from the template's random state: reseed from the OS.
    import random

    import numpy

    random.seed()
    numpy.random.seed()
    sys.argv = [os.path.join(here, "boot.py"), "-f", CONNECTION]
    boot = sys.modules["boot"]
    if os.environ.get("LOSSBOOK_GRADING_GUARDS", "1") != "0":
        boot._install_guards(fds["report"], fds["key"], here)
    else:
        os.close(fds["report"])
        os.close(fds["key"])
    boot.start_kernel(["-f", CONNECTION])
    os._exit(0)


def _open_fds():
    return sorted(int(name) for name in os.listdir("/proc/self/fd") if name.isdigit())


def _init(request, fds, last_cap, here):
    """pid 1 of the kernel's pid namespace: its mounts, then the kernel; reaps; never returns."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    limits = request["limits"]
    _mount("lossbook-work", WORKDIR, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={limits['tmp_mb']}m,nr_inodes={limits['tmp_files']},mode=0700,"
           f"uid={SANDBOX_UID},gid={SANDBOX_UID}")
    # Its own /proc: only its pid namespace; the machine-wide parts read-only, as bwrap's.
    _check(_c().umount2(b"/proc", MNT_DETACH), "umount /proc")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for name in request["proc_read_only"]:
        if os.path.exists(f"/proc/{name}"):
            _bind_read_only(f"/proc/{name}")
    # Its own pseudo-terminals (the template's devpts instance would be shared by siblings).
    _mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=620")
    for folder in (HOMEDIR, SOCKETDIR):
        os.mkdir(folder, 0o700)
        os.chown(folder, SANDBOX_UID, SANDBOX_UID)
    connection = _read_all(fds.pop("connection"))
    json.loads(connection)  # a broken request fails here, before anything runs
    _mount("lossbook-connection", CONNECTION_DIR, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
           "size=64k,nr_inodes=8,mode=0755")
    descriptor = os.open(CONNECTION, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
    os.write(descriptor, connection)
    os.close(descriptor)
    _mount(None, CONNECTION_DIR, None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC)
    kernel = _fork(lambda: _kernel(request, fds, last_cap, here), fds, "the kernel could not start", 70)
    for fd in list(fds.values()):
        os.close(fd)
    while True:  # reap whatever the kernel orphans; leave with the kernel
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        if pid == kernel:
            os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


def _fork(run, fds, failure, status):
    """Fork; the child runs ``run`` (which never returns) or says ``failure`` and exits ``status``."""
    pid = os.fork()
    if pid == 0:
        try:
            run()
        except BaseException as error:  # noqa: BLE001 - said on the kernel's stderr
            _say(fds.get("stderr"), f"lossbook fork server: {failure}: {error!r}\n")
        os._exit(status)
    return pid


def _say(fd, text):
    if fd is not None:
        try:
            os.write(fd, text.encode())
        except OSError:
            pass


def _keeper(request, fds, last_cap, here):
    """Joins the cgroups, enters the new namespaces, forks init; never returns."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    for fd in fds.pop("cgroups"):
        os.write(fd, str(os.getpid()).encode())
        os.close(fd)
    _check(_c().unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS
                        | CLONE_NEWCGROUP), "unshare")
    info = fds.pop("info")
    def init_process():
        os.close(info)
        _init(request, fds, last_cap, here)

    init = _fork(init_process, fds, "the sandbox could not be set up", 71)
    for fd in list(fds.values()):
        os.close(fd)
    os.write(info, json.dumps({"child-pid": init}).encode())
    os.close(info)
    while True:
        try:
            pid, status = os.waitpid(init, 0)
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        os._exit(os.waitstatus_to_exitcode(status) & 0xFF)


FD_NAMES = ("connection", "report", "key", "info", "stderr")


def _warm(here):
    """Import what every kernel needs, as boot.py and ipykernel's start-up do."""
    import importlib

    sys.path.insert(0, here)
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in type(f).__module__ + repr(f)]
    for name in [m for m in sys.modules if m == "lossbook" or m.startswith("lossbook.")]:
        del sys.modules[name]
    for name in ("numpy", "lossbook", "lossbook.canonical", "lossbook.forbidden", "boot",
                 "ipykernel.kernelapp", "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.debugger",
                 "IPython.core.completerlib", "IPython.core.debugger", "IPython.extensions.storemagic",
                 "IPython.core.oinspect", "IPython.utils.wildcard", "faulthandler", "traitlets.config",
                 "sqlite3", "pdb", "tornado.queues", "tornado.locks", "tornado.platform.asyncio",
                 "http.server", "xmlrpc.client", "unicodedata", "resource", "random"):
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - the kernel imports it itself (slower), or fails there
            pass


def _reap(signum=None, frame=None):
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def serve(control_fd):
    here = os.path.dirname(os.path.abspath(__file__))
    _warm(here)
    threads = int(open("/proc/self/status").read().split("Threads:")[1].split()[0])
    if threads != 1:
        raise SystemExit(f"lossbook fork server: the template has {threads} threads after its imports")
    last_cap = int(open("/proc/sys/kernel/cap_last_cap").read())
    control = socket.socket(fileno=control_fd)
    # Keepers are reaped here (not auto-reaped with SIG_IGN, which would drop their CPU
    # time from the grader's accounting of its children).
    signal.signal(signal.SIGCHLD, _reap)
    import gc

    gc.collect()
    gc.freeze()  # the children's first collections do not touch (copy) the template's pages
    control.sendall(json.dumps({"ready": True, "pid": os.getpid()}).encode())
    while True:
        try:
            data, received, _, _ = socket.recv_fds(control, 65536, 16)
        except InterruptedError:
            continue
        except OSError:
            break
        if not data:
            break
        try:
            request = json.loads(data)
            names = list(FD_NAMES) + ["cgroup"] * int(request["cgroups"])
            if len(received) != len(names):
                raise ValueError(f"{len(received)} descriptors for {len(names)}")
            fds = dict(zip(FD_NAMES, received))
            fds["cgroups"] = received[len(FD_NAMES):]
        except (ValueError, KeyError, TypeError) as error:
            for fd in received:
                os.close(fd)
            control.sendall(json.dumps({"error": f"bad request: {error}"}).encode() + b"\n")
            continue
        def keeper_process():
            control.close()
            _keeper(request, fds, last_cap, here)

        pid = _fork(keeper_process, fds, "the child could not start", 72)
        for fd in received:
            os.close(fd)
        control.sendall(json.dumps({"forked": pid}).encode() + b"\n")


if __name__ == "__main__":
    serve(int(sys.argv[1]))
