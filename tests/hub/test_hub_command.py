"""``lossbook hub``'s own checks (no hub started): clear errors, and nothing left behind."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from lossbook.commands.hub import SESSION_VARIABLE, stop_hub, tagged_processes

ROOT = Path(__file__).resolve().parents[2]


def hub(*args, env=None):
    return subprocess.run([sys.executable, "-m", "lossbook", "hub", *args], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=120)


def test_a_missing_proxy_says_how_to_install_it(tmp_path):
    done = hub("--proxy", str(tmp_path / "nope"), "--state", str(tmp_path / "state"))
    assert done.returncode == 2 and "--proxy" in done.stderr and "no executable file" in done.stderr


def test_a_short_password_is_refused_before_anything_starts(tmp_path):
    password = tmp_path / "password"
    password.write_text("short\n")
    # --proxy names nothing: the password is checked first, also where no proxy is installed
    done = hub("--password-file", str(password), "--state", str(tmp_path / "state"),
               "--proxy", str(tmp_path / "no-proxy"))
    assert done.returncode == 2 and "8 characters" in done.stderr
    assert not (tmp_path / "state").exists()


def test_no_course_here_names_the_option(tmp_path):
    done = subprocess.run([sys.executable, "-m", "lossbook", "hub"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and "--course" in done.stderr


def test_leftover_processes_of_the_hub_are_found_and_ended(capsys):
    """What `lossbook hub` does after JupyterHub stopped: end (and name) whatever carries its tag."""
    tag = "test-" + os.urandom(4).hex()
    env = dict(os.environ, **{SESSION_VARIABLE: tag})
    # a "kernel" that ignores SIGTERM, in its own session (as kernels are)
    stubborn = subprocess.Popen([sys.executable, "-c", "import signal, time; "
                                 "signal.signal(signal.SIGTERM, signal.SIG_IGN); time.sleep(600)"],
                                env=env, start_new_session=True)
    hub_process = subprocess.Popen([sys.executable, "-c", "pass"])
    hub_process.wait()
    try:
        deadline = time.monotonic() + 30
        while stubborn.pid not in tagged_processes(tag) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert tagged_processes(tag) == [stubborn.pid]
        assert stop_hub(hub_process, tag) == [stubborn.pid]
        stubborn.wait(timeout=30)
        assert tagged_processes(tag) == []
        assert f"pids {stubborn.pid}" in capsys.readouterr().err
    finally:
        if stubborn.poll() is None:
            stubborn.kill()
            stubborn.wait()
