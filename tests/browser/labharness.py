"""Real JupyterLab (or Voilà) in headless Chromium: servers, browser, and page helpers.

Shared by the browser tests (``tests/browser/conftest.py``) and the felt-latency
benchmark (``benchmarks/bench_felt_latency.py``); it needs no pytest.

- :func:`chromium_path` finds Debian's Chromium; :func:`launch_chromium` starts it through
  Playwright with a fresh profile (Playwright's own browser download is not used).
- :class:`Server` runs ``jupyter lab`` or ``lossbook workshop`` (Voilà) from this Python environment on
  127.0.0.1, a free port, no token, on a temporary copy of the course with its own
  settings/workspaces/runtime folders, and always stops it *and its kernels*.
- :class:`LabNotebook` opens a notebook in a page, waits until the app is restored and the
  kernel is idle, runs all cells, reports error outputs, moves a slider by keyboard and
  fingerprints canvas pixels.
"""
from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
VIEWPORT = {"width": 1280, "height": 900}

#: JupyterLab user settings for tests: no autosave (it writes dead widget ids into the
#: notebooks), no news pop-up, every cell rendered (long notebooks otherwise keep
#: off-screen cells out of the DOM).
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/extensionmanager-extension/plugin.jupyterlab-settings": {"enabled": False},
}

COURSE_FOLDERS = ("notebooks", "solutions", "exercises")


def artifacts_dir(sub: str = "browser") -> Path:
    """``$LOSSBOOK_ARTIFACTS/<sub>`` (default ``artifacts/<sub>``, git-ignored), created."""
    folder = Path(os.environ.get("LOSSBOOK_ARTIFACTS") or ROOT / "artifacts") / sub
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def artifact_path(test_name: str, suffix: str) -> Path:
    """A file name for a screenshot of the test ``test_name``."""
    import re

    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", test_name).strip("_")
    return artifacts_dir() / f"{name}-{suffix}"


def chromium_path() -> str | None:
    """The Chromium executable (``$LOSSBOOK_CHROMIUM`` or Debian's), or None when absent."""
    path = os.environ.get("LOSSBOOK_CHROMIUM", DEFAULT_CHROMIUM)
    return path if os.path.isfile(path) and os.access(path, os.X_OK) else None


def launch_chromium(playwright, user_data_dir: str | Path, executable: str):
    """A persistent headless Chromium context with a fresh profile in ``user_data_dir``."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir), executable_path=executable, headless=True, args=CHROMIUM_ARGS,
        viewport=VIEWPORT, device_scale_factor=1, ignore_default_args=["--enable-automation"],
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_course(target: Path, folders=COURSE_FOLDERS) -> Path:
    """Copy the course's notebook folders into ``target`` (checkpoints left out)."""
    target.mkdir(parents=True, exist_ok=True)
    for name in folders:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return target


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (kernels run in their own session, not its group)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read().decode(errors="replace")
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            return f.read().split(b")")[-1].split()[0] != b"Z"
    except OSError:
        return False


class Server:
    """``jupyter lab`` or ``lossbook workshop`` on 127.0.0.1; a context manager.

    Parameters
    ----------
    kind : {"lab", "workshop"}
        ``jupyter lab``, or ``lossbook workshop`` (Voilà).
    root : Path
        The folder served (a temporary copy of the course; see :func:`copy_course`).
    scratch : Path
        Where the settings, workspaces, runtime and progress folders and the log go.
    argv : list of str
        Extra command-line arguments.
    """

    def __init__(self, kind: str, root: Path, scratch: Path, argv=(), env=None,
                 startup_timeout: float = 120.0):
        self.kind, self.root, self.scratch = kind, Path(root), Path(scratch)
        self.argv, self.extra_env = list(argv), dict(env or {})
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.log_path = self.scratch / f"{kind}-server.log"

    def _environment(self) -> dict:
        env = dict(os.environ)
        dirs = {name: self.scratch / name for name in ("settings", "workspaces", "runtime",
                                                       "progress", "config", "data")}
        for path in dirs.values():
            path.mkdir(parents=True, exist_ok=True)
        for name, values in LAB_SETTINGS.items():
            file = dirs["settings"] / name
            file.parent.mkdir(parents=True, exist_ok=True)
            file.write_text(json.dumps(values))
        env.update({
            "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
            "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            # A private config dir: the user's jupyter_server_config cannot interfere.
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "LOSSBOOK_PROGRESS_DIR": str(dirs["progress"]),
            "MPLBACKEND": "module://ipympl.backend_nbagg",
            "PYTHONUNBUFFERED": "1",
        })
        env.pop("JUPYTER_TOKEN", None)
        env.update(self.extra_env)
        return env

    def command(self) -> list[str]:
        common = [f"--port={self.port}", "--no-browser", "--ServerApp.ip=127.0.0.1",
                  "--ServerApp.port_retries=0"]
        if self.kind == "lab":
            return [sys.executable, "-m", "jupyter", "lab", *common,
                    f"--ServerApp.root_dir={self.root}", "--IdentityProvider.token=",
                    "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True",
                    "--ServerApp.allow_root=True", "--LabApp.expose_app_in_browser=True",
                    "--LabApp.news_url=None", "--LabApp.extension_manager=readonly",
                    *self.argv]
        if self.kind == "workshop":
            # The real command: builds the pages and runs Voilà (ends both on SIGTERM).
            return [sys.executable, "-m", "lossbook", "workshop", "--no-browser",
                    f"--port={self.port}", f"--out={self.root / 'workshop-pages'}", *self.argv]
        raise ValueError(f"kind must be 'lab' or 'workshop', got {self.kind!r}")

    def start(self) -> "Server":
        log = open(self.log_path, "wb")
        self.process = subprocess.Popen(
            self.command(), cwd=self.root, env=self._environment(), stdout=log,
            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        deadline = time.monotonic() + self.startup_timeout
        probe = self.url + ("/api/status" if self.kind == "lab" else "/")
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.kind} exited with status {self.process.returncode} "
                                   f"before serving; its log:\n{self.log()}")
            try:
                with urllib.request.urlopen(probe, timeout=5) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                pass
            time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"{self.kind} did not answer on {probe} within "
                           f"{self.startup_timeout:.0f} s; its log:\n{self.log()}")

    def log(self, tail: int = 6000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """Shut the server down, then kill whatever of it and its kernels is left."""
        process, self.process = self.process, None
        if process is None:
            return
        family = _descendants(process.pid)
        if process.poll() is None:
            # SIGTERM: jupyter_server stops and shuts its kernels down itself.
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(OSError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=15)
        family += _descendants(process.pid)
        for pid in set(family):
            if _alive(pid):
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


@contextlib.contextmanager
def course_server(kind: str = "lab", folders=COURSE_FOLDERS):
    """A started server (see :class:`Server`) on a fresh temporary copy of the course."""
    with tempfile.TemporaryDirectory(prefix=f"lossbook-{kind}-") as tmp:
        scratch = Path(tmp)
        root = copy_course(scratch / "course", folders)
        (root / ".lossbook-course").write_text("")
        (scratch / "server").mkdir()
        with Server(kind, root, scratch / "server") as server:
            yield server


def lab_server(folders=COURSE_FOLDERS):
    """A started JupyterLab on a fresh temporary copy of the course; yields the Server."""
    return course_server("lab", folders)


# ---------------------------------------------------------------- page helpers (JS)
_APP_READY_JS = """async () => {
  const app = window.jupyterapp;
  if (!app) return 'no app';
  await app.started; await app.restored;
  return 'ok';
}"""

_NOTEBOOK_READY_JS = """async () => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  if (!panel || !panel.sessionContext) return 'no notebook panel';
  await panel.context.ready;
  await panel.sessionContext.ready;
  const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
  if (!kernel) return 'no kernel';
  return kernel.status;
}"""

_RUN_ALL_JS = """async (timeoutMs) => {
  const app = window.jupyterapp;
  const timeout = new Promise((resolve) => setTimeout(() => resolve('timeout'), timeoutMs));
  const run = app.commands.execute('notebook:run-all-cells').then((ok) => ok ? 'ok' : 'failed');
  return await Promise.race([run, timeout]);
}"""

_KERNEL_STATUS_JS = """() => {
  const panel = window.jupyterapp.shell.currentWidget;
  const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
  const busy = [...document.querySelectorAll('.jp-Notebook .jp-InputPrompt')]
      .some((p) => p.textContent.includes('[*]'));
  return {status: kernel ? kernel.status : 'none', busy};
}"""

#: A fingerprint of a canvas' pixels (FNV-1a over a sample of the RGBA bytes) and whether
#: it shows anything but one colour.
CANVAS_HASH_JS = """(canvas) => {
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let h = 2166136261 >>> 0;
  for (let i = 0; i < data.length; i += 4) {
    h ^= data[i] | (data[i+1] << 8) | (data[i+2] << 16);
    h = Math.imul(h, 16777619) >>> 0;
  }
  let varied = false;
  for (let i = 4; i < data.length && !varied; i += 4) {
    if (data[i] !== data[0] || data[i+1] !== data[1] || data[i+2] !== data[2]) varied = true;
  }
  return {hash: h, varied, width: canvas.width, height: canvas.height};
}"""

ERROR_TEXTS_JS = """(root) => {
  const found = [];
  for (const el of root.querySelectorAll('.jp-OutputArea-output')) {
    const mime = el.getAttribute('data-mime-type') || '';
    const text = el.innerText || '';
    if (mime === 'application/vnd.jupyter.stderr' && /Traceback|Error\\b/.test(text)) found.push(text.slice(0, 800));
    else if (/Error displaying widget/.test(text)) found.push(text.slice(0, 800));
    else if (el.classList.contains('jp-RenderedText') && /Traceback \\(most recent call last\\)/.test(text)) found.push(text.slice(0, 800));
  }
  for (const el of root.querySelectorAll('.jupyter-widgets-error-widget')) {
    found.push('widget error: ' + (el.innerText || '').slice(0, 400));
  }
  return found;
}"""


def wait_for(predicate, timeout: float, interval: float = 0.25, message: str = "condition"):
    """Call ``predicate`` until it returns something truthy; return it or raise TimeoutError."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {message} (last: {last!r})")


class LabNotebook:
    """One notebook open in JupyterLab in a Playwright page."""

    def __init__(self, page, server: Server, path: str, timeout: float = 180.0,
                 workspace: str | None = None):
        self.page, self.server, self.path, self.timeout = page, server, path, timeout
        self.workspace = workspace

    def open(self) -> "LabNotebook":
        page = self.page
        page.set_default_timeout(self.timeout * 1000)
        # A named workspace that is new: JupyterLab restores no other tab or kernel.
        where = f"/lab/workspaces/{self.workspace}" if self.workspace else "/lab"
        page.goto(f"{self.server.url}{where}/tree/{self.path}", wait_until="domcontentloaded")
        page.wait_for_function("() => window.jupyterapp !== undefined")
        state = page.evaluate(_APP_READY_JS)
        assert state == "ok", f"JupyterLab did not start: {state}"
        # The notebook panel is the current widget once the document is restored/opened.
        page.wait_for_function(
            """(path) => { const w = window.jupyterapp.shell.currentWidget;
                           return w && w.context && w.context.path === path; }""",
            arg=self.path)
        status = page.evaluate(_NOTEBOOK_READY_JS)
        wait_for(lambda: page.evaluate(_KERNEL_STATUS_JS)["status"] == "idle", self.timeout,
                 message=f"the kernel of {self.path} to be idle (was {status})")
        page.wait_for_function(
            "() => window.jupyterapp.commands.hasCommand('notebook:run-all-cells')")
        return self

    def run_all(self) -> str:
        """Run every cell; wait until done and the kernel is idle. Returns 'ok' or 'failed'."""
        result = self.page.evaluate(_RUN_ALL_JS, int(self.timeout * 1000))
        if result == "timeout":
            raise TimeoutError(f"running all cells of {self.path} took more than {self.timeout:.0f} s")
        wait_for(lambda: (lambda s: s["status"] == "idle" and not s["busy"])(
            self.page.evaluate(_KERNEL_STATUS_JS)), 60, message="the kernel to become idle")
        return result

    @property
    def notebook(self):
        return self.page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook").first

    def errors(self) -> list[str]:
        return self.notebook.evaluate(ERROR_TEXTS_JS)

    def close(self) -> None:
        """Close without saving (autosave is off), shutting the kernel down."""
        with contextlib.suppress(Exception):
            self.page.evaluate("""async () => {
              const panel = window.jupyterapp.shell.currentWidget;
              if (panel && panel.sessionContext) await panel.sessionContext.shutdown();
            }""")


# ------------------------------------------------------------------ widget helpers
SLIDER_HANDLE = ".widget-slider .noUi-handle"


def canvas_fingerprint(canvas_locator) -> dict:
    return canvas_locator.evaluate(CANVAS_HASH_JS)


def wait_canvas_drawn(canvas_locator, timeout: float = 60.0) -> dict:
    """Wait until the canvas shows something and has stopped changing; return its hash.

    A canvas still blank after ``timeout`` is the bug a learner sees as an empty figure
    (the kernel's first frame never reached the page): the error says which it was.
    """
    seen = []

    def settled():
        now = canvas_fingerprint(canvas_locator)
        previous = seen[-1] if seen else None
        seen.append(now)
        if now["varied"] and previous is not None and previous["hash"] == now["hash"]:
            return now
        return None

    try:
        return wait_for(settled, timeout, interval=0.5, message="the figure to be drawn")
    except TimeoutError:
        last = seen[-1] if seen else {}
        state = ("still blank (one colour): its first frame never arrived"
                 if not last.get("varied") else "still changing after every poll")
        raise TimeoutError(f"the figure's canvas ({last.get('width')}x{last.get('height')} px) "
                           f"is {state} after {timeout:.0f} s") from None


def first_slider(explorer_locator):
    """The first slider handle of an explorer, attached and scrolled into view."""
    handle = explorer_locator.locator(SLIDER_HANDLE).first
    handle.wait_for(state="attached")
    handle.scroll_into_view_if_needed()
    return handle


def press_slider(handle, presses: int = 3) -> str:
    """Focus ``handle`` and press an arrow key ``presses`` times, away from the nearer end.

    Returns the key used. The handle carries ``aria-valuenow/min/max`` (noUiSlider).
    """
    now = float(handle.get_attribute("aria-valuenow"))
    low = float(handle.get_attribute("aria-valuemin"))
    high = float(handle.get_attribute("aria-valuemax"))
    key = "ArrowRight" if high - now >= now - low else "ArrowLeft"
    handle.focus()
    for _ in range(presses):
        handle.press(key)
    return key



def explorer_responds(explorer, name: str, timeout: float = 30.0) -> None:
    """Press an arrow key on the explorer's first slider; its readout and pixels must change.

    ``explorer`` is a locator of a ``.lossbook-explorer`` box; screenshots before and
    after go to the artifacts as ``<name>-before.png`` / ``-after.png``. Raises
    TimeoutError naming what did not change within ``timeout`` seconds.
    """
    explorer.wait_for(state="attached")
    explorer.scroll_into_view_if_needed()
    canvas = explorer.locator("canvas").first
    canvas.wait_for(state="attached")
    before = wait_canvas_drawn(canvas)
    readout = explorer.locator(".lossbook-readout")
    text_before = wait_for(lambda: readout.inner_text().strip(), timeout, message="a readout")
    explorer.screenshot(path=str(artifact_path(name, "before.png")))

    press_slider(first_slider(explorer), presses=3)

    wait_for(lambda: (t := readout.inner_text().strip()) != text_before and t, timeout,
             message="the readout to change after the key presses")
    try:
        after = wait_for(lambda: (f := canvas_fingerprint(canvas))["hash"] != before["hash"] and f,
                         timeout, message="the figure's pixels to change after the key presses")
    finally:
        explorer.screenshot(path=str(artifact_path(name, "after.png")))
    assert after["varied"], "the figure went blank after moving the slider"
