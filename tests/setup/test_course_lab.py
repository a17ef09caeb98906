"""`python3 -m course lab` (what `make lab` runs), for real: quiet, ends with where to go.

The command runs against this already-installed environment (``VIRTUAL_ENV``), on a
temporary copy of the course, with a stand-in browser (``$BROWSER``) that records the URL
it is asked to open, and private Jupyter folders. Asserted:

- the output is a few ``[course]`` progress lines, then plain lines ending with the URL
  of lesson 00 itself (with the token); no warning of any kind;
- the browser is opened on that lesson; the URL serves the lesson;
- JupyterLab's news question and update check are off in the course's environment
  (the settings defaults JupyterLab reports), and the user's own settings are untouched;
- Ctrl+C stops the server and its kernels.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import course  # noqa: E402  (the stdlib-only bootstrap at the repository root)

pytestmark = pytest.mark.slow


def copy_tracked_files(target: Path) -> Path:
    """The course as a fresh clone has it (tracked and new, not ignored, files)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=ROOT, capture_output=True, check=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)
    return target


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=30) as response:
        return response.status, response.read()


def read_lines_until(stream, predicate, timeout: float) -> list[str]:
    """Lines of ``stream`` up to the first one satisfying ``predicate`` (a reader thread)."""
    lines: list[str] = []
    found = threading.Event()

    def reader():
        for line in stream:
            lines.append(line.rstrip("\n"))
            if predicate(lines[-1]):
                found.set()
                return
        found.set()

    threading.Thread(target=reader, daemon=True).start()
    found.wait(timeout)
    return lines


def test_course_lab_is_quiet_opens_lesson_00_and_stops_on_ctrl_c(tmp_path):
    python = Path(sys.executable)
    if not course.installed(python, ""):
        pytest.fail("this environment was not installed by course.py for the current pyproject.toml "
                    "(run `python3 -m course test`): the test would otherwise reinstall it from a copy")
    copy = copy_tracked_files(tmp_path / "course")
    jupyter = {name: tmp_path / name for name in ("runtime", "config", "user-settings", "workspaces")}
    for folder in jupyter.values():
        folder.mkdir()
    opened = tmp_path / "browser-opened.txt"
    fake_browser = tmp_path / "fake_browser.py"
    fake_browser.write_text("import sys\nopen(sys.argv[2], 'a').write(sys.argv[1] + '\\n')\n")
    env = {
        **os.environ,
        "VIRTUAL_ENV": sys.prefix,
        "BROWSER": f"{sys.executable} {fake_browser} %s {opened}",
        "JUPYTER_RUNTIME_DIR": str(jupyter["runtime"]),
        "JUPYTER_CONFIG_DIR": str(jupyter["config"]),
        "JUPYTERLAB_SETTINGS_DIR": str(jupyter["user-settings"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(jupyter["workspaces"]),
        "LOSSBOOK_PROGRESS_DIR": str(tmp_path / "progress"),
        "PYTHONWARNINGS": "default",  # a warning anywhere would show up in the output
    }
    env.pop("JUPYTER_TOKEN", None)
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "course", "lab", f"--port={port}",
                                "--ServerApp.port_retries=0"],
                               cwd=copy, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               text=True)
    try:
        lines = read_lines_until(process.stdout, lambda line: "/lab/tree/" in line, timeout=240)
        output = "\n".join(lines)
        assert lines and "/lab/tree/" in lines[-1], f"no lesson URL printed:\n{output}"
        assert "warning" not in output.lower() and "deprecat" not in output.lower(), output

        # Shape: progress lines, one blank line, a few plain lines, the URL last.
        blank = lines.index("")
        progress, plain = lines[:blank], lines[blank + 1:]
        assert 1 <= len(progress) <= 4 and all(line.startswith("[course] ") for line in progress), output
        assert all(len(line) < 120 for line in progress), output
        assert 2 <= len(plain) <= 5 and not any(line.startswith("[course]") for line in plain), output
        assert any(str(copy / "workspace") in line for line in plain), output
        assert any("Ctrl+C" in line for line in plain), output
        url = lines[-1].split()[-1]
        assert url.startswith(f"http://localhost:{port}/lab/tree/notebooks/00_welcome.ipynb?token="), url
        token = url.split("token=")[1]
        assert len(token) >= 32

        # The browser is opened on the lesson itself.
        deadline = time.monotonic() + 30
        while not (opened.exists() and opened.read_text().endswith("\n")) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert opened.read_text().split() == [url]
        status, page = get(url)
        assert status == 200 and b"jupyter-config-data" in page

        # No news question, no update check: defaults of this environment, not user settings.
        status, body = get(f"http://localhost:{port}/lab/api/settings/"
                           f"@jupyterlab/apputils-extension:notification?token={token}")
        schema = json.loads(body)["schema"]["properties"]
        assert schema["fetchNews"]["default"] == "false"
        assert schema["checkForUpdates"]["default"] is False
        override = Path(sys.prefix, "share/jupyter/lab/settings/overrides.d/lossbook.json")
        assert json.loads(override.read_text()) == json.loads(
            (ROOT / "jupyter-config/lab-settings/lossbook.json").read_text())
        assert list(jupyter["user-settings"].rglob("*")) == []
        assert (copy / "workspace" / "02_mse.ipynb").is_file()

        # Ctrl+C in the terminal: the script stops the server (no question asked).
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
        rest = process.stdout.read()
        assert "stopping JupyterLab" in rest and "Traceback" not in rest, rest
        with pytest.raises(OSError):
            get(f"http://localhost:{port}/api/status?token={token}")
        assert list(jupyter["runtime"].glob("jpserver-*.json")) == []
    finally:
        if process.poll() is None:
            process.terminate()  # course.py stops JupyterLab on SIGTERM as on Ctrl+C
            process.wait(timeout=60)
        for info in jupyter["runtime"].glob("jpserver-*.json"):
            pid = json.loads(info.read_text()).get("pid")
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass


def test_a_failing_step_shows_its_captured_output():
    """A failing step prints what failed and its output (pip's output is hidden otherwise)."""
    with pytest.raises(course.CourseError) as caught:
        course._quiet([sys.executable, "-c", "print('the reason'); raise SystemExit(3)"], "the step")
    message = str(caught.value)
    assert "the step failed (exit status 3)" in message and "the reason" in message


def test_the_install_fingerprint_covers_every_build_file(tmp_path, monkeypatch):
    """An edited C source or setup.py must trigger a reinstall, as pyproject.toml does."""
    names = {path.relative_to(course.ROOT).as_posix() for path in course.BUILD_FILES}
    assert names == {"pyproject.toml", "setup.py", "lossbook/losses/_fused.c"}
    copies = []
    for path in course.BUILD_FILES:
        copy = tmp_path / path.name
        copy.write_bytes(path.read_bytes())
        copies.append(copy)
    monkeypatch.setattr(course, "BUILD_FILES", tuple(copies))
    before = course._fingerprint()
    for copy in copies:
        original = copy.read_bytes()
        copy.write_bytes(original + b"\n")
        assert course._fingerprint() != before, f"editing {copy.name} kept the fingerprint"
        copy.write_bytes(original)
    assert course._fingerprint() == before
