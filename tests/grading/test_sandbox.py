"""The sandbox alone holds: kernel-level probes with the second layer (guards) switched off.

Two sandboxed kernels run side by side; one looks for everything the issue says a
learner's kernel must not reach. Also: limits, timeouts and kills leave nothing behind.
"""
import json
import os
import sys
import time
from pathlib import Path

import pytest

from lossbook.grading.kernel import SandboxedKernel
from lossbook.grading.runtime import build_runtime
from lossbook.grading.sandbox import Limits, Sandbox, find_bwrap, make_sandbox

REPO = Path(__file__).resolve().parents[2]

PROBE = r'''
import json, os, socket, importlib
found = {"uid": os.getuid()}
def can(fn):
    try:
        fn()
        return True
    except BaseException:
        return False
found["read_solutions"] = can(lambda: open(SOLUTION).read())
found["repo_listing"] = sorted(os.listdir(REPO)) if os.path.isdir(REPO) else []
found["import_reference"] = can(lambda: importlib.import_module("lossbook.losses").mse([1.0], [2.0]))
found["import_reference_module"] = can(lambda: importlib.import_module("lossbook.losses.regression"))
found["import_engine"] = can(lambda: importlib.import_module("lossbook.exercises"))
import lossbook, lossbook.canonical
found["lossbook_file"] = lossbook.__file__
found["other_connection_file"] = os.path.exists(OTHER)
found["own_connection_file"] = os.path.exists(OWN)
found["parent_proc"] = can(lambda: open(f"/proc/{GRADER}/environ").read())
found["pids"] = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
def connect(addr):
    s = socket.socket(); s.settimeout(1); s.connect(addr)
found["tcp_loopback"] = can(lambda: connect(("127.0.0.1", 22)))
found["internet"] = can(lambda: connect(("1.1.1.1", 53)))
found["write_usr"] = can(lambda: open("/usr/lossbook-probe", "w").write("x"))
found["write_venv"] = can(lambda: open(os.path.join(os.path.dirname(os.__file__), "probe.txt"), "w").write("x"))
found["write_tmp"] = can(lambda: open("/tmp/work/probe.txt", "w").write("x"))
found["write_tmp_root"] = can(lambda: open("/tmp/probe.txt", "w").write("x"))
found["write_connection_folder"] = can(lambda: open(os.path.join(os.path.dirname(OWN), "x"), "w").write("x"))
found["root_listing"] = sorted(os.listdir("/root")) if os.path.isdir("/root") else []
found["write_sysctl"] = os.access("/proc/sys/kernel/core_pattern", os.W_OK) or os.access("/proc/sysrq-trigger", os.W_OK)
print(json.dumps(found))
'''


@pytest.fixture
def base(tmp_path):
    os.chmod(tmp_path, 0o711)
    return tmp_path


def _sandbox(base, guards=True, backend="bwrap", **limits):
    import lossbook

    runtime = build_runtime(base / f"runtime-{backend}")
    sandbox = make_sandbox(runtime, limits=Limits(**limits) if limits else None, backend=backend,
                           hidden=(Path(lossbook.__file__).resolve().parent, REPO / "solutions"))
    assert sandbox.name == backend
    sandbox.guards = guards
    return sandbox


def _probe_code(own, other):
    head = (f"SOLUTION = {str(REPO / 'solutions' / '02_mse.ipynb')!r}\nREPO = {str(REPO)!r}\n"
            f"OTHER = {str(other)!r}\nOWN = {str(own)!r}\nGRADER = {os.getpid()}\n")
    return head + PROBE


@pytest.fixture(params=["bwrap", "unshare"])
def backend(request, sandbox_ok):
    from lossbook.grading.sandbox import find_unshare

    if request.param == "unshare" and find_unshare() is None:
        message = "unshare (util-linux) cannot create user namespaces here"
        if os.environ.get("LOSSBOOK_REQUIRE_SANDBOX") == "1":
            pytest.fail(message + " (LOSSBOOK_REQUIRE_SANDBOX=1)")
        pytest.skip(message)
    return request.param


@pytest.mark.parametrize("guards", [False, True], ids=["sandbox-alone", "with-guards"])
def test_kernel_sees_nothing_of_the_course(base, backend, guards):
    sandbox = _sandbox(base, guards=guards, backend=backend)
    first, second = SandboxedKernel(sandbox, base), SandboxedKernel(sandbox, base)
    try:
        first.wait_ready()
        second.wait_ready()
        run = first.run_cell(_probe_code(first.connection_file, second.connection_file), timeout=30)
        assert run.status == "ok", run.outputs
        found = json.loads(run.outputs[-1]["text"])
        outside = kernel_status(first)
    finally:
        first.kill()
        second.kill()
    # Read from outside, on the kernel's own process (not bwrap's): unprivileged, no capabilities.
    if os.geteuid() == 0:
        assert outside["Uid"].split() == ["65534"] * 4 and outside["Gid"].split() == ["65534"] * 4
    else:
        assert outside["Uid"].split()[0] == str(os.getuid())
    assert outside["CapEff"] == outside["CapPrm"] == outside["CapBnd"] == "0000000000000000"
    assert outside["NoNewPrivs"] == "1"
    assert found["uid"] == (65534 if backend == "bwrap" or os.geteuid() == 0 else 0)
    assert found["lossbook_file"] == "/opt/lossbook-grading/lossbook/__init__.py"
    assert found["own_connection_file"] is True
    # The venv may live inside the repository: then only that folder is there (read-only).
    assert set(found["repo_listing"]) <= {os.path.basename(sys.prefix)}
    for key in ("read_solutions", "import_reference", "import_reference_module", "import_engine",
                "other_connection_file", "parent_proc", "tcp_loopback", "internet", "write_usr",
                "write_venv", "write_sysctl", "write_tmp_root", "write_connection_folder"):
        assert found[key] is False, key
    assert found["write_tmp"] is True
    # /root exists only when the Python installation lives under it (pyenv); nothing else is there.
    from lossbook.grading.sandbox import python_roots
    allowed = {Path(p).parts[2] for p in python_roots() if len(Path(p).parts) > 2 and Path(p).parts[1] == "root"}
    assert set(found["root_listing"]) <= allowed
    assert max(found["pids"]) < 10  # its own pid namespace: the grader's processes are not there


def kernel_status(kernel) -> dict[str, str]:
    """``/proc/<pid>/status`` of the kernel's own Python process, read from the grader's side."""
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            text = (entry / "status").read_text()
        except OSError:
            continue
        if argv[0] == sys.executable.encode() and str(kernel.connection_file).encode() in argv:
            return dict(line.split(":\t", 1) for line in text.splitlines() if ":\t" in line)
    raise AssertionError("the kernel's process was not found")


def _processes_mentioning(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            try:
                if text.encode() in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                pass
    return pids


def test_ignored_interrupt_kills_the_whole_sandbox(base, sandbox_ok):
    kernel = SandboxedKernel(_sandbox(base), base)
    try:
        kernel.wait_ready()
        # A grandchild the learner started (with the guard off it could; here via os.fork refused,
        # so use the kernel itself) and a loop ignoring SIGINT.
        run = kernel.run_cell("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True: pass",
                              timeout=1.0)
        assert run.status == "killed"
    finally:
        kernel.kill()
    time.sleep(0.5)
    assert _processes_mentioning(str(kernel.connection_file)) == []


def test_sandbox_alone_kills_forked_children(base, backend):
    kernel = SandboxedKernel(_sandbox(base, guards=False, backend=backend), base)
    try:
        kernel.wait_ready()
        run = kernel.run_cell("import subprocess\np = subprocess.Popen(['sleep', '300'])\nprint(p.pid)", timeout=10)
        assert run.status == "ok", run.outputs
    finally:
        kernel.kill()
    time.sleep(0.5)
    assert _processes_mentioning("sleep\x00300") == []


def test_interrupt_then_continue(base, sandbox_ok):
    kernel = SandboxedKernel(_sandbox(base), base)
    try:
        kernel.wait_ready()
        assert kernel.run_cell("while True: pass", timeout=1.0).status == "timeout"
        after = kernel.run_cell("print(6 * 7)", timeout=5)
        assert after.status == "ok" and after.outputs[0]["text"] == "42\n"
    finally:
        kernel.kill()


def test_memory_limit(base, sandbox_ok):
    kernel = SandboxedKernel(_sandbox(base, memory_mb=1024), base)
    try:
        kernel.wait_ready()
        run = kernel.run_cell("import numpy as np\nx = np.ones(200_000_000)", timeout=10)
        assert run.status == "error" and run.error[0] == "MemoryError"
        assert kernel.run_cell("y = np.ones(1_000_000); print(y.sum())", timeout=5).outputs[0]["text"] == "1000000.0\n"
    finally:
        kernel.kill()


def test_tmp_is_size_limited(base, sandbox_ok):
    kernel = SandboxedKernel(_sandbox(base, tmp_mb=8, file_mb=64), base)
    try:
        kernel.wait_ready()
        run = kernel.run_cell("open('/tmp/work/big', 'wb').write(b'x' * 20_000_000)", timeout=10)
        assert run.status == "error" and "No space left" in run.error[1]
    finally:
        kernel.kill()


def test_missing_bwrap_refuses(monkeypatch, base):
    import lossbook.grading.sandbox as sandbox_module
    from lossbook.grading.sandbox import SandboxUnavailable

    monkeypatch.setattr(sandbox_module, "find_bwrap", lambda: None)
    if sandbox_module.find_unshare() is not None:
        assert make_sandbox(base).name == "unshare"  # the fallback
    monkeypatch.setattr(sandbox_module, "find_unshare", lambda: None)
    with pytest.raises(SandboxUnavailable, match="--no-sandbox"):
        make_sandbox(base)
    assert make_sandbox(base, no_sandbox=True).isolated is False


def test_submission_timeout_ends_the_submission(base, sandbox_ok):
    from nbformat.v4 import new_output

    from lossbook.grading.assemble import GradingNotebook, PlanCell
    from lossbook.grading.run import execute

    expected = [new_output("stream", name="stdout", text="1\n")]
    cells = [PlanCell("import time", "answer", "slow", from_learner=True)]
    cells += [PlanCell("time.sleep(1.2); print(1)", "hidden-tests", "slow", 1, expected, number=n) for n in range(1, 6)]
    grading = GradingNotebook("02_mse", cells, {"slow": 5}, [])
    kernel = SandboxedKernel(_sandbox(base), base)
    kernel.wait_ready()
    result = execute(grading, kernel, cell_timeout=5, submission_timeout=3.0)
    assert result.status == "timed-out"
    assert 1 <= result.points["slow"] <= 2
    assert any("ran out of time" in reason for reason in result.reasons)
    assert not kernel.alive()


def test_fork_bomb_is_contained(base, sandbox_ok):
    """With cgroups (v1) the process count is capped; in every case the kill leaves nothing."""
    from lossbook.grading import cgroups

    kernel = SandboxedKernel(_sandbox(base, guards=False), base)
    try:
        kernel.wait_ready()
        run = kernel.run_cell(
            "import os, time\ncount = 0\ntry:\n    for _ in range(150):\n        if os.fork() == 0:\n"
            "            time.sleep(120)\n            os._exit(0)\n        count += 1\nexcept OSError as e:\n"
            "    pass\nprint('forked', count)", timeout=30)
        assert run.status == "ok", run.outputs
        forked = int(run.outputs[0]["text"].split()[1])
        groups = list(kernel.cgroups)
        if groups:
            assert forked < cgroups.PIDS_MAX
    finally:
        kernel.kill()
    time.sleep(0.5)
    assert _processes_mentioning(str(kernel.connection_file)) == []
    assert not any(g.exists() for g in groups)


def test_huge_output_does_not_reach_the_grader(base, sandbox_ok):
    kernel = SandboxedKernel(_sandbox(base), base)
    try:
        kernel.wait_ready()
        run = kernel.run_cell("import sys\nsys.stdout.write('x' * 40_000_000)\nsys.stdout.flush()", timeout=4)
        assert run.status in ("output-too-large", "timeout", "killed")
        assert sum(len(o.get("text", "")) for o in run.outputs) < 2_000_000
    finally:
        kernel.kill()
