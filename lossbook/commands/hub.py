"""``lossbook hub``: JupyterHub for a workshop on one server, with the course's configuration.

Starts ``jupyterhub -f deploy/jupyterhub_config.py`` (JupyterHub from the ``hub`` extra,
configurable-http-proxy from npm in ``deploy/proxy/``: ``make hub`` installs both) and waits
until it answers. Every learner logs in with a name of their choice and the shared
password, and gets their own home with the course laid out in it (see
``lossbook.hub``). Ctrl+C (or SIGTERM) stops the hub, which stops every learner's server
and the proxy; then any process of this hub that is still alive (each carries
``LOSSBOOK_HUB_SESSION`` in its environment) is ended and named.

Learners' servers run as the user running the hub (``SimpleLocalProcessSpawner``): there
is no operating-system isolation between learners. For a graded class, see
docs/instructor.md (The Littlest JupyterHub, Zero to JupyterHub).
"""
from __future__ import annotations

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

HELP = "start JupyterHub for a workshop on this server (a home and workspace per learner)"
CONFIG = Path("deploy") / "jupyterhub_config.py"
PROXY = Path("deploy") / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
LAB_SETTINGS = Path("jupyter-config") / "lab-settings" / "lossbook.json"
SESSION_VARIABLE = "LOSSBOOK_HUB_SESSION"
PASSWORD_VARIABLE = "LOSSBOOK_HUB_PASSWORD"


class HubError(Exception):
    """The hub cannot start; the message says what to do."""


def free_port(ip: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((ip, 0))
        return sock.getsockname()[1]


def find_proxy(course: Path, given: str | None = None) -> str:
    """configurable-http-proxy: ``given``, ``$LOSSBOOK_HUB_PROXY``, ``deploy/proxy``'s, or on PATH."""
    for candidate in (given, os.environ.get("LOSSBOOK_HUB_PROXY"), str(course / PROXY)):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return str(Path(candidate).resolve())
        if candidate and candidate == given:
            raise HubError(f"--proxy {given}: no executable file there")
    on_path = shutil.which("configurable-http-proxy")
    if on_path:
        return on_path
    raise HubError(
        f"configurable-http-proxy (JupyterHub's proxy, from npm) is not installed: run `make hub` "
        f"(it installs it into {course / 'deploy/proxy'} with npm and Node.js ≥ 20), or "
        f"`npm ci --prefix {course / 'deploy/proxy'}`, or pass --proxy PATH")


def install_lab_settings(course: Path, prefix: str = sys.prefix) -> str | None:
    """The course's JupyterLab defaults into this environment (as ``make lab`` does); a warning or None."""
    source = course / LAB_SETTINGS
    target = Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.d" / "lossbook.json"
    try:
        text = source.read_text(encoding="utf-8")
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
    except OSError as exc:
        return (f"could not install the course's JupyterLab settings into {target} "
                f"({exc.strerror or exc}): learners will see JupyterLab's news question")
    return None


def tagged_processes(tag: str) -> list[int]:
    """Processes whose environment holds ``LOSSBOOK_HUB_SESSION=tag`` (Linux ``/proc``)."""
    needle = f"{SESSION_VARIABLE}={tag}".encode()
    found = []
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as handle:
                environ = handle.read().split(b"\0")
            with open(f"/proc/{entry}/stat", "rb") as handle:
                zombie = handle.read().rsplit(b")", 1)[1].split()[0] == b"Z"
        except OSError:
            continue
        if needle in environ and not zombie:
            found.append(int(entry))
    return found


def end_processes(pids: list[int], grace: float = 10.0) -> None:
    """SIGTERM, then SIGKILL what is left after ``grace`` seconds."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            with contextlib.suppress(OSError):
                os.kill(pid, sig)
        deadline = time.monotonic() + grace
        while time.monotonic() < deadline and any(_alive(pid) for pid in pids):
            time.sleep(0.1)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return handle.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except OSError:
        return False


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def register(subparsers) -> None:
    parser = subparsers.add_parser("hub", help=HELP, description=__doc__.split("\n\n", 1)[1],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", metavar="DIR", type=Path,
                        help="the course folder (default: found by walking up from here)")
    parser.add_argument("--state", metavar="DIR", type=Path,
                        help="the hub's database, secret and log (default: COURSE/.lossbook-hub)")
    parser.add_argument("--homes", metavar="DIR", type=Path,
                        help="where learners' homes are made (default: STATE/homes); "
                             "`lossbook collect` reads them")
    parser.add_argument("--ip", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1; 0.0.0.0 for a room's network)")
    parser.add_argument("--port", type=int, default=8000, help="public port (default 8000)")
    parser.add_argument("--password-file", metavar="FILE", type=Path,
                        help=f"the learners' shared password (default: ${PASSWORD_VARIABLE}, "
                             "else a new one, printed)")
    parser.add_argument("--proxy", metavar="PATH",
                        help="configurable-http-proxy (default: deploy/proxy's, then PATH)")
    parser.add_argument("--startup-timeout", type=float, default=120.0, metavar="S",
                        help="seconds to wait for the hub to answer (default 120)")
    parser.set_defaults(func=run)


def _password(args) -> tuple[str, bool]:
    if args.password_file:
        try:
            password = args.password_file.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise HubError(f"--password-file {args.password_file}: {exc.strerror or exc}") from None
    else:
        password = os.environ.get(PASSWORD_VARIABLE, "")
    if not password:
        return secrets.token_urlsafe(9), True
    if len(password) < 8:
        raise HubError("the shared password must have 8 characters or more (JupyterHub's rule): "
                       f"change ${PASSWORD_VARIABLE} or --password-file")
    return password, False


def run(args) -> int:
    from lossbook.commands.workspace import WorkspaceError, check_course_root, find_course_root

    try:
        course = check_course_root(args.course) if args.course else find_course_root()
        config = course / CONFIG
        if not config.is_file():
            raise HubError(f"{config} is missing: `lossbook hub` runs from a checkout of the course "
                           "(pass --course DIR)")
        password, generated = _password(args)  # first: a bad password is named even where no proxy is installed yet
        proxy = find_proxy(course, args.proxy)
    except (HubError, WorkspaceError) as exc:
        print(f"lossbook hub: {exc}", file=sys.stderr)
        return 2
    state = (args.state or course / ".lossbook-hub").expanduser().resolve()
    homes = (args.homes or state / "homes").expanduser().resolve()
    state.mkdir(parents=True, exist_ok=True)
    warning = install_lab_settings(course)
    if warning:
        print(f"lossbook hub: warning: {warning}", file=sys.stderr)
    # A caller (a test) may choose the tag to check for leftovers itself.
    tag = os.environ.get(SESSION_VARIABLE) or secrets.token_hex(8)
    env = dict(os.environ)
    env.update({
        "LOSSBOOK_COURSE": str(course), "LOSSBOOK_HUB_STATE": str(state),
        "LOSSBOOK_HUB_HOMES": str(homes), "LOSSBOOK_HUB_IP": args.ip,
        "LOSSBOOK_HUB_PORT": str(args.port), "LOSSBOOK_HUB_PROXY": proxy,
        "LOSSBOOK_HUB_INTERNAL_PORT": str(free_port()),
        "LOSSBOOK_HUB_PROXY_API_PORT": str(free_port()),
        PASSWORD_VARIABLE: password, SESSION_VARIABLE: tag,
    })
    env.pop("LOSSBOOK_PROGRESS_DIR", None)  # each learner's own, set in their server
    log_path = state / "jupyterhub.log"
    command = [sys.executable, "-m", "jupyterhub", "-f", str(config)]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(command, cwd=state, env=env, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    host = "127.0.0.1" if args.ip in ("", "0.0.0.0") else args.ip
    url = f"http://{host}:{args.port}/"
    status = 0
    try:
        deadline = time.monotonic() + args.startup_timeout
        while not _answers(url + "hub/health"):
            if process.poll() is not None:
                print(f"lossbook hub: JupyterHub stopped (exit status {process.returncode}) before "
                      f"it was ready; its log, {log_path}, ends with:\n{_tail(log_path)}", file=sys.stderr)
                return 1
            if time.monotonic() > deadline:
                print(f"lossbook hub: JupyterHub did not answer within {args.startup_timeout:.0f} s; "
                      f"its log, {log_path}, ends with:\n{_tail(log_path)}", file=sys.stderr)
                status = 1
                return status
            time.sleep(0.3)
        print(f"JupyterHub for the course is running: {url}", flush=True)
        print(f"Learners log in with any name (lower-case letters, digits, . _ -) and the shared "
              f"password{': ' + password if generated else f' (from {PASSWORD_VARIABLE} or --password-file)'}")
        print(f"Their homes (for `lossbook collect {homes} --out submissions/`): {homes}")
        print(f"The hub's log: {log_path}")
        print("To stop the hub and every learner's server: press Ctrl+C here.", flush=True)
        status = process.wait()
        return status
    except KeyboardInterrupt:
        print("\nlossbook hub: stopping JupyterHub and the learners' servers", flush=True)
        return 0
    finally:
        # A second Ctrl+C or `kill` must not cut the clean-up short.
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            stop_hub(process, tag)
        finally:
            signal.signal(signal.SIGTERM, previous)
            signal.signal(signal.SIGINT, previous_int)


def stop_hub(process: subprocess.Popen, tag: str) -> list[int]:
    """Stop JupyterHub (it stops the servers and the proxy), then end what is left; return those pids."""
    if process.poll() is None:
        with contextlib.suppress(OSError):
            os.kill(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(OSError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    left = tagged_processes(tag)
    if left:
        print(f"lossbook hub: {len(left)} process(es) of the hub were still running after it "
              f"stopped (pids {', '.join(map(str, left))}): ending them", file=sys.stderr)
        end_processes(left)
    return left


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
