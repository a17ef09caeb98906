"""The fast lane (``pytest -m "not slow"``) refuses heavy child processes: a test that starts
a kernel, a server or a browser without the ``slow`` marker fails (root conftest.py)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT_CONFTEST = Path(__file__).resolve().parents[2] / "conftest.py"

HEAVY = [
    [sys.executable, "-m", "ipykernel_launcher", "-f", "kernel.json"],
    ["/usr/bin/prlimit", "--cpu=600", "--", sys.executable, "-I", "/tmp/x/runtime/boot.py",
     "--lossbook-report=18", "-f", "c.json"],
    ["bwrap", "--ro-bind", "/", "/", sys.executable, "-I", "/run/lossbook/forkserver.py", "5"],
    [sys.executable, "-m", "voila", "pages", "--port=8866"],
    ["/usr/bin/chromium", "--headless"],
    ["jupyter-lab", "--no-browser"],
    ["node", "cli.js", "run-driver"],
    ["dask-worker", "tcp://127.0.0.1:8786"],
    [sys.executable, "-m", "jupyterhub", "-f", "config.py"],
]
CHEAP = [
    [sys.executable, "-c", "import lossbook; assert 'dask' not in 'jupyter chromium voila'"],
    [sys.executable, "-m", "lossbook", "--version"],
    ["bwrap", "--bind", "/", "/", "--dev", "/dev", "true"],
    "echo hello",
]


@pytest.fixture
def heavy_command(request):
    """The root conftest's ``heavy_command``, from the conftest pytest loaded (not a re-import)."""
    for plugin in request.config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "").resolve() == ROOT_CONFTEST:
            return plugin.heavy_command
    raise AssertionError(f"{ROOT_CONFTEST} is not loaded")


@pytest.mark.parametrize("command", HEAVY, ids=lambda c: Path(c[0] if len(c) < 4 else c[2]).name)
def test_heavy_commands_are_named(command, heavy_command):
    assert heavy_command(command) is not None


@pytest.mark.parametrize("command", CHEAP, ids=str)
def test_cheap_commands_are_allowed(command, heavy_command):
    assert heavy_command(command) is None


def test_a_kernel_started_outside_the_slow_lane_is_refused_and_fails_the_test(fast_lane_guard):
    with pytest.raises(RuntimeError, match=r"outside the slow lane started a Jupyter kernel .*mark it @pytest.mark.slow"):
        subprocess.Popen([sys.executable, "-m", "ipykernel_launcher", "-f", "nowhere.json"])
    assert fast_lane_guard.offenses == ["a Jupyter kernel (ipykernel_launcher)"]
    fast_lane_guard.offenses.clear()  # the refusal was the point here; any other offense fails the test
    subprocess.run([sys.executable, "-c", "pass"], check=True)  # a cheap child is still allowed


@pytest.mark.slow
def test_the_slow_lane_is_not_guarded(fast_lane_guard):
    assert fast_lane_guard is None

