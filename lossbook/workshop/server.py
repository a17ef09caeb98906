"""Run Voilà on the workshop pages: the command, its environment, and the serving loop."""
from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from lossbook.workshop.pages import INDEX
from lossbook.workshop.template import TEMPLATE_NAME, VOILA_OFFLINE_ARGS

__all__ = ["voila_command", "voila_environment", "index_url", "serve"]

HOST = "127.0.0.1"


def voila_command(pages_dir: str | Path, port: int, python: str = sys.executable) -> list[str]:
    """The ``voila`` command serving ``pages_dir`` on 127.0.0.1:``port`` (no browser)."""
    return [python, "-m", "voila", str(pages_dir), f"--port={port}", "--no-browser",
            f"--Voila.ip={HOST}", "--Voila.port_retries=0",
            f"--template={TEMPLATE_NAME}", "--strip_sources=True",
            *VOILA_OFFLINE_ARGS]


def voila_environment(share_dir: str | Path, base: dict | None = None) -> dict:
    """``base`` (default ``os.environ``) with ``share_dir`` first on ``JUPYTER_PATH``."""
    env = dict(os.environ if base is None else base)
    env["JUPYTER_PATH"] = os.pathsep.join(
        [str(share_dir), *[p for p in env.get("JUPYTER_PATH", "").split(os.pathsep) if p]])
    return env


def index_url(port: int) -> str:
    return f"http://{HOST}:{port}/voila/render/{INDEX}"


def wait_until_serving(process: subprocess.Popen, url: str, timeout: float = 120.0) -> bool:
    """Poll ``url`` until it answers (True) or ``process`` exits / ``timeout`` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(url.rsplit("/voila/", 1)[0] + "/", timeout=5):
                return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.3)
    return False


def serve(pages_dir: Path, share_dir: Path, port: int, open_browser: bool = True) -> int:
    """Run Voilà until interrupted (Ctrl-C or SIGTERM); return its exit status.

    Voilà (and with it every dashboard kernel) is always stopped before returning.
    """
    import signal

    def _terminate(signum, frame):
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, _terminate)
    process = subprocess.Popen(voila_command(pages_dir, port),
                               env=voila_environment(share_dir), cwd=pages_dir)
    try:
        url = index_url(port)
        if wait_until_serving(process, url):
            print(f"\nlossbook workshop: serving the explorers at {url}\n"
                  "Press Ctrl-C to stop.\n", flush=True)
            if open_browser:
                import webbrowser

                webbrowser.open(url)
        status = process.wait()
        if status:
            print(f"lossbook workshop: Voilà stopped with exit status {status} (see above); "
                  f"if port {port} is in use, choose another with --port", file=sys.stderr)
        return status
    except KeyboardInterrupt:
        return 0
    finally:
        signal.signal(signal.SIGTERM, previous)
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
