"""The grading kernel's life cycle through jupyter_client's provisioner extension point.

Real kernels: bwrap one by one, the fork server (root + bwrap), unshare, and none.
"""
import os
import tomllib
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path

import pytest
import zmq
from jupyter_client.provisioning import KernelProvisionerFactory

from lossbook.grading.forkserver import ForkServer, usable
from lossbook.grading.kernel import KernelPool, SandboxedKernel
from lossbook.grading.provisioner import (KERNEL_NAME, PROVISIONER_NAME, SandboxKernelManager, SandboxProvisioner,
                                          grading_kernel_spec, new_manager)
from lossbook.grading.runtime import build_runtime
from lossbook.grading.sandbox import find_unshare, make_sandbox

REPO = Path(__file__).resolve().parents[2]
#: Marks the tests that start real kernels (the root conftest refuses them in the fast lane).
slow = pytest.mark.slow
GROUP = "jupyter_client.kernel_provisioners"


@pytest.fixture
def base(tmp_path):
    os.chmod(tmp_path, 0o711)
    return tmp_path


def _sandbox(base, how):
    import lossbook

    runtime = build_runtime(base / f"runtime-{how}")
    if how == "none":
        return make_sandbox(runtime, no_sandbox=True)
    return make_sandbox(runtime, backend=how, hidden=(Path(lossbook.__file__).resolve().parent, REPO / "solutions"))


def _check_life_cycle(kernel: SandboxedKernel) -> None:
    manager = kernel.manager
    try:
        kernel.wait_ready()
        assert isinstance(manager, SandboxKernelManager)
        assert isinstance(manager.provisioner, SandboxProvisioner)
        assert manager.kernel_spec.interrupt_mode == "message"
        assert manager.is_alive() and manager.provisioner.sandbox_pid == kernel.sandbox_pid
        # Interrupted through KernelManager.interrupt_kernel (a message), then the kernel goes on.
        assert kernel.run_cell("while True: pass", timeout=1.0).status == "timeout"
        after = kernel.run_cell("print(6 * 7)", timeout=10)
        assert after.status == "ok" and after.outputs[0]["text"] == "42\n"
    finally:
        kernel.kill()
    assert not manager.is_alive() and kernel.process.poll() is not None
    assert not Path(manager.connection_file).exists() and not kernel.dir.exists()


@slow
@pytest.mark.parametrize("how", ["bwrap", "unshare", "none"])
def test_the_kernel_manager_owns_the_kernel(base, sandbox_ok, how):
    if how == "unshare" and find_unshare() is None:
        if os.environ.get("LOSSBOOK_REQUIRE_SANDBOX") == "1":
            pytest.fail("unshare (util-linux) cannot create namespaces here (LOSSBOOK_REQUIRE_SANDBOX=1)")
        pytest.skip("unshare (util-linux) cannot create namespaces here")
    kernel = SandboxedKernel(_sandbox(base, how), base)
    assert not kernel.forked
    _check_life_cycle(kernel)


@slow
def test_the_kernel_manager_owns_a_forked_kernel(base, sandbox_ok):
    sandbox = _sandbox(base, "bwrap")
    if not usable(sandbox):
        if os.environ.get("LOSSBOOK_REQUIRE_SANDBOX") == "1" and os.geteuid() == 0:
            pytest.fail(f"the fork server needs bwrap and a grader running as root: {sandbox.warnings}")
        pytest.skip("the fork server needs bwrap and a grader running as root")
    server = ForkServer(sandbox, base)
    try:
        kernel = SandboxedKernel(sandbox, base, forkserver=server)
        _check_life_cycle(kernel)
        assert kernel.forked
    finally:
        server.close()


@slow
def test_a_pool_starts_kernels_through_the_provisioner(base, sandbox_ok):
    pool = KernelPool(_sandbox(base, "bwrap"), base, size=2, expected=3)
    kernels = []
    try:
        kernels = [pool.get() for _ in range(3)]
        assert len({k.sandbox_pid for k in kernels}) == 3
        for kernel in kernels:
            assert isinstance(kernel.manager.provisioner, SandboxProvisioner)
            assert kernel.run_cell("print(1)", timeout=10).outputs[0]["text"] == "1\n"
    finally:
        for kernel in kernels:
            kernel.kill()
        pool.close()
    assert not pool._spawner.is_alive()


@slow
def test_a_pool_kernel_is_killed_at_once_and_finished_by_the_reaper(base, sandbox_ok, monkeypatch):
    """kill() sends the SIGKILL and returns; the waiting (the sandbox's exit, its cgroups,
    its folder) is the pool's reaper's, and close() waits for it: nothing is left."""
    import threading

    from lossbook.grading import kernel as kernel_module

    release = threading.Event()
    finish = kernel_module.SandboxedKernel._shut_down

    def held(self):
        release.wait(60)
        finish(self)

    monkeypatch.setattr(kernel_module.SandboxedKernel, "_shut_down", held)
    pool = KernelPool(_sandbox(base, "bwrap"), base, size=1, expected=1)
    try:
        kernel = pool.get()
        assert kernel.run_cell("print(1)", timeout=10).outputs[0]["text"] == "1\n"
        kernel.kill()  # returns while its clean-up is held
        assert not kernel.alive() and kernel.dir.exists() and not release.is_set()
        assert kernel.run_cell("print(2)", timeout=10).status == "died"
    finally:
        release.set()
        pool.close()
    assert not kernel.dir.exists() and kernel.process.poll() is not None
    assert not any(Path(group).exists() for group in kernel.cgroups)
    assert kernel.refusals() == []


@slow
def test_grading_never_looks_the_provisioner_up(base, monkeypatch):
    """A venv installed before the entry point existed still grades: the factory (which
    reads installed package metadata) is never asked."""
    def refuse(*args, **kwargs):
        raise AssertionError("the provisioner was looked up by name")

    monkeypatch.setattr(KernelProvisionerFactory, "create_provisioner_instance", refuse)
    kernel = SandboxedKernel(_sandbox(base, "none"), base)
    try:
        kernel.wait_ready()
        assert kernel.run_cell("print('here')", timeout=10).outputs[0]["text"] == "here\n"
    finally:
        kernel.kill()


def test_the_declared_entry_point_is_the_provisioner(monkeypatch):
    """pyproject registers the class under jupyter_client's group; given the in-memory
    kernel spec, jupyter_client's own factory makes our provisioner from it."""
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["entry-points"][GROUP]
    assert declared == {PROVISIONER_NAME: "lossbook.grading.provisioner:SandboxProvisioner"}
    point = EntryPoint(name=PROVISIONER_NAME, value=declared[PROVISIONER_NAME], group=GROUP)
    assert point.load() is SandboxProvisioner
    installed = [p for p in entry_points(group=GROUP) if p.name == PROVISIONER_NAME]
    assert all(p.value == point.value for p in installed)  # an up-to-date install agrees (a stale one has none)
    factory = KernelProvisionerFactory.instance()
    monkeypatch.setitem(factory.provisioners, PROVISIONER_NAME, point)
    spec = grading_kernel_spec()
    assert spec.metadata["kernel_provisioner"]["provisioner_name"] == PROVISIONER_NAME
    made = factory.create_provisioner_instance("k1", spec, parent=None)
    assert isinstance(made, SandboxProvisioner)


def test_a_start_without_a_prepared_launch_names_what_it_needs(tmp_path):
    manager = new_manager(zmq.Context.instance(), tmp_path)
    assert manager.kernel_name == KERNEL_NAME
    with pytest.raises(ValueError, match="sandbox_launch=KernelLaunch"):
        manager.start_kernel()
    assert not manager.has_kernel
