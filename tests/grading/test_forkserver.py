"""Kernels forked by the fork server: the isolation of a kernel started by bwrap, plus the new surface.

The template (``lossbook/grading/standin/forkserver.py``) keeps root's privileges to set up
each child and never runs learner code. These tests run two forked kernels side by side,
with the second layer (guards) off where the sandbox alone must hold, and check from the
grader's side and from inside: uid 65534 with no capabilities and NoNewPrivs, their own
namespaces (not the template's, not each other's), nothing of the course, and that a
kernel cannot signal, trace, read or talk to the template or a sibling.
"""
import contextlib
import json
import os
import time
from pathlib import Path

import pytest

from lossbook.grading.forkserver import ForkServer, usable
from lossbook.grading.kernel import KernelPool, SandboxedKernel
from lossbook.grading.runtime import build_runtime
from lossbook.grading.sandbox import Limits, make_sandbox
from test_sandbox import PROBE

pytestmark = pytest.mark.slow  # sandboxed kernels (the fast lane skips them)

REPO = Path(__file__).resolve().parents[2]
NAMESPACES = ("mnt", "pid", "net", "ipc", "uts", "cgroup")


@pytest.fixture
def base(tmp_path):
    os.chmod(tmp_path, 0o711)
    return tmp_path


def _sandbox(base, guards=True, **limits):
    import lossbook

    sandbox = make_sandbox(build_runtime(base / "runtime"), limits=Limits(**limits) if limits else None,
                           backend="bwrap", hidden=(Path(lossbook.__file__).resolve().parent, REPO / "solutions"))
    sandbox.guards = guards
    if not usable(sandbox):
        message = "the fork server needs bwrap and a grader running as root"
        if os.environ.get("LOSSBOOK_REQUIRE_SANDBOX") == "1" and os.geteuid() == 0:
            pytest.fail(message + f" (LOSSBOOK_REQUIRE_SANDBOX=1): {sandbox.warnings}")
        pytest.skip(message)
    return sandbox


@pytest.fixture
def server(base, sandbox_ok, request):
    guards = getattr(request, "param", True)
    sandbox = _sandbox(base, guards=guards)
    server = ForkServer(sandbox, base)
    yield server
    server.close()
    assert not server.alive


def _status(pid: int) -> dict[str, str]:
    text = Path(f"/proc/{pid}/status").read_text()
    return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)


def _kernel_pid(kernel) -> int:
    """Host pid of the kernel's Python process: the only child of its sandbox's init."""
    children = Path(f"/proc/{kernel.sandbox_pid}/task/{kernel.sandbox_pid}/children").read_text().split()
    assert len(children) == 1, children
    return int(children[0])


def _ns(pid: int) -> dict[str, str]:
    return {name: os.readlink(f"/proc/{pid}/ns/{name}") for name in NAMESPACES}


@contextlib.contextmanager
def _kernels(server, base, n: int):
    """``n`` kernels forked by ``server``, ready; all killed afterwards."""
    kernels = []
    try:
        for _ in range(n):
            kernels.append(SandboxedKernel(server.sandbox, base, forkserver=server))
        for kernel in kernels:
            kernel.wait_ready()
        yield kernels
    finally:
        for kernel in kernels:
            kernel.kill()


def _text(run) -> str:
    assert run.status == "ok", run.outputs
    return "".join(o.get("text", "") for o in run.outputs)


@pytest.mark.parametrize("server", [False, True], ids=["sandbox-alone", "with-guards"], indirect=True)
def test_forked_kernel_sees_nothing_of_the_course(server, base):
    first = SandboxedKernel(server.sandbox, base, forkserver=server)
    second = SandboxedKernel(server.sandbox, base, forkserver=server)
    try:
        first.wait_ready()
        second.wait_ready()
        head = (f"SOLUTION = {str(REPO / 'solutions' / '02_mse.ipynb')!r}\nREPO = {str(REPO)!r}\n"
                f"OTHER = {str(base / 'nothing-here.json')!r}\nOWN = {str(first.connection_file)!r}\n"
                f"GRADER = {os.getpid()}\n")
        found = json.loads(_text(first.run_cell(head + PROBE, timeout=30)).splitlines()[-1])
        pids = [_kernel_pid(first), _kernel_pid(second)]
        outside = [_status(pid) for pid in pids]
        spaces = [_ns(pid) for pid in pids]
        template = _ns(server.process.pid)
    finally:
        first.kill()
        second.kill()
    for status in outside:
        assert status["Uid"].split() == ["65534"] * 4 and status["Gid"].split() == ["65534"] * 4
        assert status["Groups"].strip() == ""
        for field in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert status[field] == "0000000000000000", field
        assert status["NoNewPrivs"] == "1"
        assert status["NSpid"].split()[1:] == ["2"]  # pid 2 of its own pid namespace
    for name in NAMESPACES:
        assert spaces[0][name] != spaces[1][name] != template[name], name
        assert spaces[0][name] != template[name], name
    assert found["uid"] == 65534
    assert found["lossbook_file"] == "/opt/lossbook-grading/lossbook/__init__.py"
    assert found["own_connection_file"] is True
    assert set(found["repo_listing"]) <= {os.path.basename(os.sys.prefix)}
    for key in ("read_solutions", "import_reference", "import_reference_module", "import_engine",
                "parent_proc", "tcp_loopback", "internet", "write_usr", "write_venv", "write_sysctl",
                "write_tmp_root", "write_connection_folder"):
        assert found[key] is False, key
    assert found["write_tmp"] is True
    assert found["pids"] == [1, 2]


@pytest.mark.parametrize("server", [False], ids=["sandbox-alone"], indirect=True)
def test_a_kernel_cannot_reach_the_template_or_a_sibling(server, base):
    """Signals, ptrace, /proc/<pid>/mem, files, pseudo-terminals and the template's socket."""
    with _kernels(server, base, 2) as (victim, attacker):
        assert _text(victim.run_cell("import os\nsecret = 'victim-' + os.urandom(8).hex()\n"
                                     "open('/tmp/work/secret.txt', 'w').write(secret)\n"
                                     "pty = os.openpty()\nprint(os.ttyname(pty[1]))", timeout=10)) == "/dev/pts/0\n"
        targets = {"template": server.process.pid, "victim": victim.sandbox_pid,
                   "victim_kernel": _kernel_pid(victim), "grader": os.getpid()}
        code = (f"TARGETS = {targets!r}\n" + r'''
import ctypes, json, os, signal, socket
libc = ctypes.CDLL(None, use_errno=True)
result = {}
for name, pid in TARGETS.items():
    for sig in (signal.SIGKILL, signal.SIGSTOP):
        try:
            os.kill(pid, sig)
            result[f"kill-{name}"] = "delivered"
        except OSError as error:
            result[f"kill-{name}"] = error.errno
    result[f"ptrace-{name}"] = libc.ptrace(16, pid, 0, 0)  # PTRACE_ATTACH
    result[f"mem-{name}"] = os.path.exists(f"/proc/{pid}/mem") and pid > 2
result["ptys"] = sorted(os.listdir("/dev/pts"))
result["files"] = sorted(os.listdir("/tmp/work"))
result["tmp"] = sorted(os.listdir("/tmp"))
result["shm_write"] = os.access("/dev/shm", os.W_OK)
result["tmp_write"] = os.access("/tmp", os.W_OK)
kinds = []
for fd in os.listdir("/proc/self/fd"):
    try:
        s = socket.socket(fileno=os.dup(int(fd)))
    except OSError:
        continue
    kinds.append(int(s.type))
    s.close()
result["seqpacket"] = kinds.count(int(socket.SOCK_SEQPACKET))
print(json.dumps(result))
''')
        result = json.loads(_text(attacker.run_cell(code, timeout=30)).splitlines()[-1])
        # Nothing outside its own pid namespace can be named: ESRCH (3) everywhere, no ptrace.
        for name in targets:
            assert result[f"kill-{name}"] == 3, (name, result)
            assert result[f"ptrace-{name}"] == -1, (name, result)
            assert result[f"mem-{name}"] is False, name
        assert result["ptys"] == ["ptmx"]  # the victim's /dev/pts/0 is in its own devpts
        assert "secret.txt" not in result["files"]
        assert result["shm_write"] is False and result["tmp_write"] is False
        assert result["seqpacket"] == 0  # the template's control socket was not inherited
        # The victim, the template and the grader are untouched.
        assert _text(victim.run_cell("print(open('/tmp/work/secret.txt').read()[:7])", timeout=10)) == "victim-\n"
        assert server.alive
        with _kernels(server, base, 1) as (third,):
            assert _text(third.run_cell("print(6 * 7)", timeout=10)) == "42\n"


def test_refusal_records_stay_with_their_kernel(server, base):
    """Each forked kernel has its own refusal key: a sibling's records never land in another's reasons."""
    with _kernels(server, base, 2) as (first, second):
        assert first.report_key != second.report_key
        run = first.run_cell("import subprocess\nsubprocess.run(['true'])", timeout=10)
        assert run.status == "error"
        assert _text(second.run_cell("print(1)", timeout=10)) == "1\n"
        assert [kind for kind, _ in first.refusals()] == ["subprocess"]
        assert second.refusals() == []


@pytest.mark.parametrize("server", [False], ids=["sandbox-alone"], indirect=True)
def test_forked_kernel_limits_and_kill(server, base):
    """Memory and tmpfs limits hold; a fork bomb is capped by its cgroup; a kill leaves nothing."""
    from lossbook.grading import cgroups

    kernel = SandboxedKernel(server.sandbox, base, forkserver=server)
    try:
        kernel.wait_ready()
        run = kernel.run_cell("import numpy as np\nx = np.ones(400_000_000)", timeout=20)
        assert run.status == "error" and run.error[0] == "MemoryError"
        run = kernel.run_cell("open('/tmp/work/big', 'wb').write(b'x' * 80_000_000)", timeout=20)
        assert run.status == "error" and ("No space left" in run.error[1] or "File too large" in run.error[1])
        run = kernel.run_cell(
            "import os, time\ncount = 0\ntry:\n    for _ in range(150):\n        if os.fork() == 0:\n"
            "            time.sleep(120)\n            os._exit(0)\n        count += 1\nexcept OSError:\n"
            "    pass\nprint('forked', count)", timeout=30)
        forked = int(_text(run).split()[1])
        groups = list(kernel.cgroups)
        if groups:
            assert forked < cgroups.PIDS_MAX
        pids = [kernel.sandbox_pid, _kernel_pid(kernel)]
    finally:
        kernel.kill()
    assert not any(Path(f"/proc/{pid}").exists() for pid in pids)
    assert not any(group.exists() for group in groups)
    assert server.alive


def test_pool_with_fork_server_leaves_nothing_behind(base, sandbox_ok):
    sandbox = _sandbox(base)
    pool = KernelPool(sandbox, base, size=2, expected=3)
    kernels = [pool.get() for _ in range(3)]
    assert pool.forkserver is not None and pool.forkserver_problem is None
    assert all(k.forked for k in kernels)
    template = pool.forkserver.process.pid
    outputs = [_text(k.run_cell("import os\nprint(os.getpid(), os.getuid())", timeout=10)) for k in kernels]
    assert outputs == ["2 65534\n"] * 3
    init_pids = [k.sandbox_pid for k in kernels]
    kernels[0].kill()
    spawned = _descendants(template)  # bwrap, the template, keepers, inits, kernels (two live)
    assert len(spawned) >= 2 + 3 * 2
    for kernel in kernels[1:]:
        kernel.kill()
    pool.close()
    assert not Path(f"/proc/{template}").exists()
    assert not any(Path(f"/proc/{pid}").exists() for pid in init_pids)
    assert [(pid, Path(f"/proc/{pid}/status").read_text()[:200]) for pid in spawned if Path(f"/proc/{pid}").exists()] == []


def _descendants(pid: int) -> list[int]:
    """``pid`` and every process below it."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                todo += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            pass
    return found


def test_a_broken_template_falls_back_to_one_kernel_at_a_time(base, sandbox_ok, monkeypatch):
    """If the template cannot start, the pool says why and starts kernels with bwrap as before."""
    from lossbook.grading import forkserver

    sandbox = _sandbox(base)

    def broken(self, argv):
        return ["/bin/false"]

    monkeypatch.setattr(type(sandbox), "template_command", broken)
    pool = KernelPool(sandbox, base, size=1, expected=1)
    try:
        kernel = pool.get()
        assert not kernel.forked and pool.forkserver is None
        assert "did not start" in pool.forkserver_problem
        assert _text(kernel.run_cell("print(1)", timeout=10)) == "1\n"
        kernel.kill()
    finally:
        pool.close()
    assert forkserver.usable(sandbox)


def test_a_bad_request_is_refused_and_the_template_goes_on(server, base):
    import socket

    null = os.open("/dev/null", os.O_RDONLY)
    with server._lock:
        socket.send_fds(server._socket, [b"not json"], [null])
        assert "bad request" in server._receive()["error"]
    os.close(null)
    kernel = SandboxedKernel(server.sandbox, base, forkserver=server)
    try:
        kernel.wait_ready()
        assert _text(kernel.run_cell("print(2)", timeout=10)) == "2\n"
    finally:
        kernel.kill()


def test_forked_kernel_interrupt_then_continue_and_ignored_interrupt_kills(server, base):
    kernel = SandboxedKernel(server.sandbox, base, forkserver=server)
    try:
        kernel.wait_ready()
        assert kernel.run_cell("while True: pass", timeout=1.0).status == "timeout"
        assert _text(kernel.run_cell("print(6 * 7)", timeout=5)) == "42\n"
        run = kernel.run_cell("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass",
                              timeout=1.0)
        assert run.status == "killed"
        assert not kernel.alive()
    finally:
        kernel.kill()
    assert server.alive
