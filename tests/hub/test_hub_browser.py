"""The course on a real JupyterHub, end to end, with two learners in headless Chromium.

One hub for the whole module (``lossbook hub``: JupyterHub from PyPI, configurable-http-proxy
from npm in deploy/proxy/, SimpleLocalProcessSpawner) on free 127.0.0.1 ports. Two learners
log in with the shared password in two browser contexts (separate cookies). Each lands on
lesson 00; opens lesson 02 and moves its explorer (readout and pixels change on a key press);
cannot save over the read-only lesson; solves ``mse`` in their own ``workspace/02_mse.ipynb``
(ana right, ben wrong: a sum instead of a mean), runs its checks and saves. Then: progress
is per learner, ``lossbook collect`` gathers exactly the two changed notebooks, and
``lossbook grade`` gives ana full marks for ``mse`` and ben none. When the hub stops,
no process of it is left (hub, proxy, single-user servers, kernels: each carries the
hub's ``LOSSBOOK_HUB_SESSION`` tag in its environment), and JupyterHub stopped them all
itself (``lossbook hub`` had nothing left to end).

Skips (turned into failures by ``LOSSBOOK_NO_SKIPS=1`` in CI) name what to install.
"""
from __future__ import annotations

import contextlib
import csv
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import labharness  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.browser]

PASSWORD = "lossbook-hub-test"
LEARNERS = {
    # ana: right. ben: sums instead of averaging (check's diagnosis: "n times too large").
    "ana": "import numpy as np\n\ndef mse(y_true, y_pred):\n"
           "    r = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)\n"
           "    return float(np.mean(r ** 2))\n",
    "ben": "import numpy as np\n\ndef mse(y_true, y_pred):\n"
           "    r = np.asarray(y_pred, dtype=float) - np.asarray(y_true, dtype=float)\n"
           "    return float(np.sum(r ** 2))\n",
}
#: Per-learner JupyterLab settings for the test only (in the learner's own ~/.jupyter): no
#: autosave (the test saves explicitly), every cell rendered, the app exposed to the test.
USER_SETTINGS = labharness.LAB_SETTINGS
SERVER_CONFIG = {"LabApp": {"expose_app_in_browser": True}}


def _requirements() -> str:
    from lossbook.commands.hub import find_proxy, HubError

    if labharness.chromium_path() is None:
        return f"Chromium not found at {labharness.DEFAULT_CHROMIUM}: `apt-get install chromium`"
    try:
        import jupyterhub  # noqa: F401
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        return f"{exc.name} is not installed: `pip install -e .[test]` (the hub extra)"
    try:
        find_proxy(ROOT)
    except HubError as exc:
        return str(exc)
    if shutil.which("bwrap") is None:
        return "bubblewrap (the grader's sandbox) is not installed: `apt-get install bubblewrap`"
    return ""


def _run(*args: str, env=None, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "lossbook", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=timeout)


class Hub:
    """``lossbook hub`` on free ports with its state in ``scratch``; stopped by :meth:`stop`."""

    def __init__(self, scratch: Path):
        self.scratch = scratch
        self.state = scratch / "state"
        self.homes = self.state / "homes"
        self.port = labharness.free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.tag = secrets.token_hex(8)
        self.output = scratch / "lossbook-hub.out"
        self.process = None

    def start(self) -> "Hub":
        env = dict(os.environ, LOSSBOOK_HUB_PASSWORD=PASSWORD, LOSSBOOK_HUB_SESSION=self.tag)
        env.pop("LOSSBOOK_PROGRESS_DIR", None)
        with open(self.output, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "lossbook", "hub", "--course", str(ROOT), "--state",
                 str(self.state), "--port", str(self.port), "--startup-timeout", "180"],
                cwd=self.scratch, env=env, stdout=out, stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL, start_new_session=True)
        labharness.wait_for(lambda: "is running" in self.text() or self.process.poll() is not None,
                            200, message="`lossbook hub` to say the hub is running")
        assert self.process.poll() is None, f"lossbook hub stopped:\n{self.text()}\n{self.log()}"
        return self

    def text(self) -> str:
        return self.output.read_text(errors="replace") if self.output.exists() else ""

    def log(self) -> str:
        path = self.state / "jupyterhub.log"
        return path.read_text(errors="replace")[-8000:] if path.exists() else "(no hub log)"

    def stop(self) -> int | None:
        """SIGTERM, as a `kill` or Ctrl+C would; returns lossbook hub's exit status."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=120)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        return self.process.returncode

    def prepare_learner(self, name: str) -> Path:
        """Test-only JupyterLab settings in the learner's (future) home."""
        home = self.homes / name
        settings = home / ".jupyter" / "lab" / "user-settings"
        for file_name, values in USER_SETTINGS.items():
            (settings / file_name).parent.mkdir(parents=True, exist_ok=True)
            (settings / file_name).write_text(json.dumps(values))
        (home / ".jupyter" / "jupyter_server_config.json").write_text(json.dumps(SERVER_CONFIG))
        return home


@pytest.fixture(scope="module")
def hub():
    missing = _requirements()
    if missing:
        pytest.skip(f"the JupyterHub test needs: {missing}")
    from lossbook.commands.hub import tagged_processes

    with tempfile.TemporaryDirectory(prefix="lossbook-hub-test-") as tmp:
        server = Hub(Path(tmp))
        try:
            for name in LEARNERS:
                server.prepare_learner(name)
            yield server.start()
        finally:
            status = server.stop()
            text = server.text()
            left = tagged_processes(server.tag)
            for pid in left:   # never leave them running, even when the assertion fails
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
        # Nothing outlives the hub: hub, proxy, single-user servers, kernels.
        assert left == [], f"processes of the hub still running after it stopped: {left}"
        assert "still running after it stopped" not in text, (
            f"JupyterHub left processes behind that `lossbook hub` had to end:\n{text}")
        assert status == 0, f"lossbook hub exited with {status}:\n{text}"


@pytest.fixture(scope="module")
def browser(hub):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=labharness.chromium_path(),
                                              headless=True, args=labharness.CHROMIUM_ARGS)
        try:
            yield instance
        finally:
            instance.close()


class _UserServer:
    """What :class:`labharness.LabNotebook` needs of a server: the base URL of the learner's."""

    def __init__(self, url: str):
        self.url = url


_SET_ANSWER_JS = """([exercise, code]) => {
  const panel = window.jupyterapp.shell.currentWidget;
  let found = 0;
  for (const cell of panel.content.widgets) {
    const meta = cell.model.getMetadata('lossbook') || {};
    if (meta.role === 'answer' && meta.exercise === exercise) {
      cell.model.sharedModel.setSource(code);
      found += 1;
    }
  }
  return found;
}"""

_SAVE_JS = """async () => {
  const panel = window.jupyterapp.shell.currentWidget;
  await panel.context.save();
  return panel.context.model.dirty;
}"""

_SAVE_LESSON_JS = """async (path) => {
  const contents = window.jupyterapp.serviceManager.contents;
  try {
    await contents.save(path, {type: 'file', format: 'text', content: 'overwritten'});
    return 'saved';
  } catch (error) {
    return String(error.response ? error.response.status : error) + ' ' + String(error.message);
  }
}"""


def _log_in(browser, hub: Hub, name: str):
    context = browser.new_context(viewport=labharness.VIEWPORT, device_scale_factor=1)
    page = context.new_page()
    page.set_default_timeout(180_000)
    page.goto(f"{hub.url}/hub/login", wait_until="domcontentloaded")
    page.fill("input[name=username]", name)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    # The spawn page, then the learner's JupyterLab on lesson 00 (c.Spawner.default_url).
    page.wait_for_url(f"**/user/{name}/lab/**", timeout=240_000)
    page.wait_for_function("() => window.jupyterapp !== undefined")
    page.wait_for_function(
        """() => { const w = window.jupyterapp.shell.currentWidget;
                   return w && w.context && w.context.path === 'notebooks/00_welcome.ipynb'; }""")
    return context, page


def _notebook(page, hub: Hub, name: str, path: str) -> labharness.LabNotebook:
    server = _UserServer(f"{hub.url}/user/{name}")
    workspace = "test-" + "".join(ch if ch.isalnum() else "-" for ch in path)
    return labharness.LabNotebook(page, server, path, workspace=workspace).open()


def test_two_learners_work_collect_and_grade(hub, browser, tmp_path):
    sessions = {}
    try:
        for name in LEARNERS:
            sessions[name] = _log_in(browser, hub, name)

        for name, (context, page) in sessions.items():
            # The course's lab settings overrides apply (no news question, no update check).
            settings = page.request.get(
                f"{hub.url}/user/{name}/lab/api/settings/@jupyterlab/apputils-extension:notification")
            assert settings.ok, settings.status
            schema = settings.json()["schema"]["properties"]
            assert schema["fetchNews"]["default"] == "false", schema["fetchNews"]

            # Lesson 02: runs clean, its explorer answers the keyboard.
            lesson = _notebook(page, hub, name, "notebooks/02_mse.ipynb")
            assert lesson.run_all() == "ok"
            assert not lesson.errors(), lesson.errors()
            explorer = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .lossbook-explorer").first
            explorer.wait_for(state="attached", timeout=120_000)
            labharness.explorer_responds(explorer, f"hub-{name}-02_mse")
            # The lesson is the course's, read-only: the server refuses to save over it.
            refused = page.evaluate(_SAVE_LESSON_JS, "notebooks/02_mse.ipynb")
            assert refused.startswith("403"), refused
            lesson.close()

            # Their own workspace copy: write mse, run the checks, save.
            exercise = _notebook(page, hub, name, "workspace/02_mse.ipynb")
            assert page.evaluate(_SET_ANSWER_JS, ["mse", LEARNERS[name]]) == 1
            assert exercise.run_all() == "ok"
            assert not exercise.errors(), exercise.errors()
            rendered = page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .lossbook-check")
            labharness.wait_for(lambda: rendered.count() >= 2, 60, message="two check results")
            status = "passed" if name == "ana" else "failed"
            assert f"lossbook-check-{status}" in rendered.first.get_attribute("class")
            assert page.evaluate(_SAVE_JS) is False, "the notebook is still unsaved"
            exercise.close()
    finally:
        for context, _page in sessions.values():
            context.close()

    # Progress is per learner, in each home's own store.
    progress = {name: json.loads((hub.homes / name / ".lossbook-progress" / "progress.json")
                                 .read_text())["exercises"] for name in LEARNERS}
    assert progress["ana"]["mse"].get("passed") is True, progress["ana"]
    assert not progress["ben"]["mse"].get("passed"), progress["ben"]
    assert progress["ben"]["mse"]["attempts"] >= 1

    # Collect: exactly the two changed notebooks, read-only, timestamps kept.
    submissions = tmp_path / "submissions"
    done = _run("collect", str(hub.homes), "--out", str(submissions),
                "--released", str(ROOT / "exercises"))
    assert done.returncode == 0, done.stdout + done.stderr
    found = sorted(p.relative_to(submissions).as_posix() for p in submissions.rglob("*.ipynb"))
    assert found == ["ana/02_mse.ipynb", "ben/02_mse.ipynb"], (found, done.stdout)
    for name in LEARNERS:
        copy, original = submissions / name / "02_mse.ipynb", hub.homes / name / "workspace" / "02_mse.ipynb"
        assert copy.read_bytes() == original.read_bytes()
        assert copy.stat().st_mtime_ns == original.stat().st_mtime_ns
        assert copy.stat().st_mode & 0o222 == 0
    assert "not submitted: 01_loss_vs_cost" in done.stdout

    # Grade: the two expected rows.
    gradebook = tmp_path / "gradebook.csv"
    graded = _run("grade", str(submissions), "--out", str(gradebook), "--jobs", "2")
    assert graded.returncode == 0, graded.stdout + graded.stderr
    rows = {row["learner"]: row for row in csv.DictReader(gradebook.open(encoding="utf-8"))}
    assert sorted(rows) == ["ana", "ben"], rows
    assert {row["lesson"] for row in rows.values()} == {"02_mse"}
    assert {row["status"] for row in rows.values()} == {"graded"}, rows
    assert float(rows["ana"]["mse"]) > 0 and float(rows["ben"]["mse"]) == 0, rows
    assert float(rows["ana"]["total"]) > float(rows["ben"]["total"]), rows
