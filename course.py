"""Set up and run the lossbook course with nothing but Python's standard library.

Usage (from the repository root; ``make lab`` and ``make test`` call exactly these)::

    python3 -m course lab         # create .venv if needed, install, open JupyterLab on lesson 00
                                  # (quiet: JupyterLab's own log goes to .lossbook-lab.log)
    python3 -m course test        # create .venv if needed, install with test extras, run every test
    python3 -m course workshop    # serve the explorers as a Voila dashboard (projector mode)
    python3 -m course hub         # JupyterHub for a workshop on this server (lossbook hub)
    python3 -m course wheelhouse  # download every wheel the course needs into ./wheelhouse

Which Python is used: the active environment when there is one (``VIRTUAL_ENV`` or
``CONDA_PREFIX`` is set, e.g. after ``conda activate lossbook``), otherwise ``./.venv``,
created with ``venv`` and pip the first time.

Environment variables:

``LOSSBOOK_EXTRA_PIP``
    Extra requirements installed with the test extras, e.g. ``torch==2.13.0`` (CI sets it
    for the PyTorch cross-checks; it is not a default because on an ordinary machine pip
    would fetch a multi-GB CUDA build).
``LOSSBOOK_WHEELHOUSE``
    A folder of wheels to install from instead of the network (see ``wheelhouse``).
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import webbrowser
from pathlib import Path

ROOT = Path(__file__).resolve().parent
#: The files an installation is built from (see _fingerprint).
BUILD_FILES = (ROOT / "pyproject.toml", ROOT / "setup.py", ROOT / "lossbook" / "losses" / "_fused.c")
VENV = ROOT / ".venv"
FIRST_LESSON = "notebooks/00_welcome.ipynb"
#: JupyterLab's log (git-ignored): `make lab` shows only a few lines of its own.
LAB_LOG = ROOT / ".lossbook-lab.log"
#: Settings defaults for the JupyterLab of the course's environment (no news question, no
#: update check over the lessons); copied into <env>/share/jupyter/lab/settings/overrides.d/.
LAB_SETTINGS = ROOT / "jupyter-config" / "lab-settings" / "lossbook.json"
#: Extras whose installation also satisfies the key (test ⊇ workshop ⊇ the base install).
SATISFIED_BY = {"": ("", "workshop", "hub", "test"), "workshop": ("workshop", "test"),
                "hub": ("hub", "test"), "test": ("test",)}
#: JupyterHub's proxy (configurable-http-proxy, from npm), pinned by package-lock.json and
#: installed into deploy/proxy/node_modules/ (git-ignored) for `make hub` and `make test`.
PROXY_DIR = ROOT / "deploy" / "proxy"
PROXY_BIN = PROXY_DIR / "node_modules" / ".bin" / "configurable-http-proxy"


class CourseError(Exception):
    """A step failed; the message says what to do (printed without a traceback)."""


def _say(message: str) -> None:
    print(f"[course] {message}", flush=True)


def _active_environment() -> bool:
    return bool(os.environ.get("VIRTUAL_ENV") or os.environ.get("CONDA_PREFIX"))


def _quiet(command: list[str], what: str, cwd: Path = ROOT) -> None:
    """Run ``command`` with its output captured; show the output only when it fails."""
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          text=True, errors="replace")
    if done.returncode:
        tail = "\n".join(done.stdout.splitlines()[-40:])
        raise CourseError(f"{what} failed (exit status {done.returncode}). The command was:\n"
                          f"  {' '.join(command)}\nIts last lines of output:\n{tail}")


def _wheelhouse_options() -> list[str]:
    wheelhouse = os.environ.get("LOSSBOOK_WHEELHOUSE")
    return ["--no-index", "--find-links", wheelhouse] if wheelhouse else []


def _python() -> Path:
    """The interpreter the course runs in, creating ``.venv`` when no environment is active."""
    if _active_environment():
        return Path(sys.executable)
    python = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        _say(f"creating a virtual environment in {VENV}")
        _quiet([sys.executable, "-m", "venv", str(VENV)], "creating the virtual environment")
        _say("updating pip in it")
        _quiet([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip",
                *_wheelhouse_options()], "updating pip")
    return python


def _fingerprint() -> str:
    """What an installation depends on: the build files and ``LOSSBOOK_EXTRA_PIP``.

    The build files are pyproject.toml, setup.py and the C source of the optional
    extension: an edited ``_fused.c`` must be rebuilt, not left stale in the venv.
    """
    extra_pip = os.environ.get("LOSSBOOK_EXTRA_PIP", "").split()
    files = b"\0".join(path.read_bytes() for path in BUILD_FILES if path.is_file())
    return hashlib.sha256(files + b"\0" + " ".join(extra_pip).encode()).hexdigest()


def _stamp(python: Path, extras: str) -> Path:
    return python.parent.parent / f".lossbook-installed-{extras or 'base'}"


def installed(python: Path, extras: str) -> bool:
    """True when ``python``'s environment has the course with ``extras`` for these files."""
    fingerprint = _fingerprint()
    return any(_stamp(python, candidate).is_file()
               and _stamp(python, candidate).read_text() == fingerprint
               for candidate in SATISFIED_BY[extras])


def _install(python: Path, extras: str) -> None:
    """``pip install -e .[extras]`` unless the same files were installed already."""
    if installed(python, extras):
        return
    extra_pip = os.environ.get("LOSSBOOK_EXTRA_PIP", "").split()
    target = f".[{extras}]" if extras else "."
    command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
               "-e", target, *extra_pip, *_wheelhouse_options()]
    _say(f"installing the course{' with the ' + extras + ' extras' if extras else ''} and its "
         "dependencies (the first time takes a few minutes)")
    _quiet(command, "pip install")
    _stamp(python, extras).write_text(_fingerprint())


def _run(python: Path, *args: str) -> int:
    return subprocess.call([str(python), *args], cwd=ROOT)


def _environment_paths(python: Path) -> dict:
    code = ("import json, sys; from jupyter_core.paths import jupyter_runtime_dir; "
            "print(json.dumps({'prefix': sys.prefix, 'runtime': jupyter_runtime_dir()}))")
    done = subprocess.run([str(python), "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise CourseError(f"cannot ask {python} where Jupyter keeps its files:\n{done.stderr}")
    return json.loads(done.stdout)


def _install_lab_settings(prefix: Path) -> None:
    """The course's JupyterLab defaults, for this environment only (never the user's settings)."""
    folder = prefix / "share" / "jupyter" / "lab" / "settings" / "overrides.d"
    target = folder / "lossbook.json"
    text = LAB_SETTINGS.read_text(encoding="utf-8")
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        folder.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")


def _server_info(process: subprocess.Popen, runtime: Path, timeout: float = 180.0) -> dict:
    """Wait for the server started as ``process`` to write its runtime file; return its content."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise CourseError(f"JupyterLab stopped (exit status {process.returncode}) before it "
                              f"was ready; its log, {LAB_LOG}, ends with:\n{_log_tail()}")
        for candidate in (runtime / f"jpserver-{process.pid}.json", *runtime.glob("jpserver-*.json")):
            try:
                info = json.loads(candidate.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if info.get("pid") == process.pid and info.get("url"):
                return info
        time.sleep(0.2)
    raise CourseError(f"JupyterLab did not start within {timeout:.0f} s; see its log {LAB_LOG}")


def _log_tail(lines: int = 30) -> str:
    try:
        return "\n".join(LAB_LOG.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _lesson_url(info: dict) -> str:
    url = info["url"].rstrip("/") + "/lab/tree/" + FIRST_LESSON
    return url + (f"?token={info['token']}" if info.get("token") else "")


def _stop(process: subprocess.Popen) -> None:
    """Shut JupyterLab down as its own Ctrl+C would (it stops its kernels), then make sure."""
    if process.poll() is None:
        try:
            process.terminate()  # SIGTERM: jupyter_server shuts its kernels down and exits
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def lab(argv: list[str]) -> int:
    python = _python()
    _install(python, "")
    # The learner works on copies of exercises/ in workspace/ (git-ignored, never overwritten).
    _say("copying new exercises into your workspace")
    _quiet([str(python), "-m", "lossbook", "workspace", "--quiet"], "lossbook workspace")
    paths = _environment_paths(python)
    _install_lab_settings(Path(paths["prefix"]))
    open_browser = "--no-browser" not in argv
    argv = [arg for arg in argv if arg != "--no-browser"]
    command = [str(python), "-m", "jupyterlab", "--no-browser", f"--ServerApp.root_dir={ROOT}",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               *argv]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines often run as root
    _say(f"starting JupyterLab (its log: {LAB_LOG.name})")
    with open(LAB_LOG, "wb") as log:
        # Its own session/process group: Ctrl+C reaches this script, which stops the server
        # cleanly, instead of JupyterLab's "Shutdown this Jupyter server (y/[n])?" question.
        options = ({"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP} if os.name == "nt"
                   else {"start_new_session": True})
        process = subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, **options)
    def interrupt(signum, frame):
        raise KeyboardInterrupt
    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, interrupt)  # a `kill` stops the server too
    try:
        url = _lesson_url(_server_info(process, Path(paths["runtime"])))
        print(flush=True)
        print(f"Your workspace (your own copies of the exercises): {ROOT / 'workspace'}")
        print("To stop JupyterLab: press Ctrl+C here (save your notebooks first).")
        print(f"Lesson 00 opens at: {url}", flush=True)
        if open_browser:
            webbrowser.open(url)
        return process.wait()
    except KeyboardInterrupt:
        print("\n[course] stopping JupyterLab", flush=True)
        return 0
    finally:
        _stop(process)


def _install_proxy(required: bool) -> None:
    """``npm ci`` in deploy/proxy/ unless the same package-lock.json was installed already."""
    stamp = PROXY_DIR / "node_modules" / ".lossbook-installed"
    lock = hashlib.sha256((PROXY_DIR / "package-lock.json").read_bytes()).hexdigest()
    if PROXY_BIN.exists() and stamp.is_file() and stamp.read_text() == lock:
        return
    npm, node = shutil.which("npm"), shutil.which("node")
    version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout if node else ""
    major = int(version.lstrip("v").split(".")[0]) if version[1:2].isdigit() else 0
    if npm is None or major < 20:
        found = f"Node.js {version.strip()} is too old" if npm and major else "npm is not installed"
        message = (f"{found}: JupyterHub's proxy (configurable-http-proxy 5.3) needs Node.js >= 20 "
                   "with npm (https://nodejs.org, or your distribution's nodejs and npm packages)")
        if required:
            raise CourseError(message)
        _say(f"warning: {message}; the JupyterHub tests will not run")
        return
    _say("installing JupyterHub's proxy (configurable-http-proxy, npm) into deploy/proxy/")
    _quiet([npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"], "npm ci (deploy/proxy)",
           cwd=PROXY_DIR)
    stamp.write_text(lock)


def test(argv: list[str]) -> int:
    python = _python()
    _install(python, "test")
    _install_proxy(required=False)   # tests/hub; CI has Node (a missing proxy fails the run there)
    return _run(python, "-m", "pytest", *argv)


def hub(argv: list[str]) -> int:
    python = _python()
    _install(python, "hub")
    _install_proxy(required=True)
    # Ctrl+C reaches `lossbook hub` too, which stops JupyterHub and every learner's server:
    # wait for it to finish that instead of leaving it mid-way.
    process = subprocess.Popen([str(python), "-m", "lossbook", "hub", *argv], cwd=ROOT)
    while True:
        try:
            return process.wait()
        except KeyboardInterrupt:
            continue


def workshop(argv: list[str]) -> int:
    python = _python()
    _install(python, "workshop")
    return _run(python, "-m", "lossbook", "workshop", *argv)


def wheelhouse(argv: list[str]) -> int:
    python = _python()
    folder = ROOT / "wheelhouse"
    folder.mkdir(exist_ok=True)
    _say(f"downloading every wheel the course needs into {folder} ...")
    status = _run(python, "-m", "pip", "download", "--dest", str(folder), ".[workshop]", "pip",
                  "setuptools>=77", *argv)
    if status == 0:
        _say(
            "done. On a machine without internet: copy this folder and the course, then run\n"
            "  LOSSBOOK_WHEELHOUSE=$PWD/wheelhouse make lab"
        )
    return status


COMMANDS = {"lab": lab, "test": test, "workshop": workshop, "wheelhouse": wheelhouse, "hub": hub}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.split("Which Python")[0].strip(), file=sys.stderr)
        if argv:
            print(f"\nerror: unknown command {argv[0]!r}; choose one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    try:
        return COMMANDS[argv[0]](argv[1:])
    except CourseError as error:
        print(f"[course] error: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
