"""Set up and run the lossbook course with nothing but Python's standard library.

Usage (from the repository root; ``make lab`` and ``make test`` call exactly these)::

    python3 -m course lab         # create .venv if needed, install, open JupyterLab on lesson 00
    python3 -m course test        # create .venv if needed, install with test extras, run every test
    python3 -m course workshop    # serve the explorers as a Voila dashboard (projector mode)
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
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
FIRST_LESSON = "notebooks/00_welcome.ipynb"


def _say(message: str) -> None:
    print(f"[course] {message}", flush=True)


def _active_environment() -> bool:
    return bool(os.environ.get("VIRTUAL_ENV") or os.environ.get("CONDA_PREFIX"))


def _python() -> Path:
    """The interpreter the course runs in, creating ``.venv`` when no environment is active."""
    if _active_environment():
        return Path(sys.executable)
    python = VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    if not python.exists():
        _say(f"creating a virtual environment in {VENV} ...")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--upgrade", "pip"], check=True)
    return python


def _install(python: Path, extras: str) -> None:
    """``pip install -e .[extras]`` unless the same files were installed already."""
    extra_pip = os.environ.get("LOSSBOOK_EXTRA_PIP", "").split()
    fingerprint = hashlib.sha256(
        (ROOT / "pyproject.toml").read_bytes() + extras.encode() + " ".join(extra_pip).encode()
    ).hexdigest()
    stamp = python.parent.parent / f".lossbook-installed-{extras or 'base'}"
    if stamp.exists() and stamp.read_text() == fingerprint:
        return
    target = f".[{extras}]" if extras else "."
    command = [str(python), "-m", "pip", "install", "--quiet", "-e", target, *extra_pip]
    wheelhouse = os.environ.get("LOSSBOOK_WHEELHOUSE")
    if wheelhouse:
        command += ["--no-index", "--find-links", wheelhouse]
    _say("installing: " + " ".join(command[3:]))
    subprocess.run(command, check=True, cwd=ROOT)
    stamp.write_text(fingerprint)


def _run(python: Path, *args: str) -> int:
    return subprocess.call([str(python), *args], cwd=ROOT)


def lab(argv: list[str]) -> int:
    python = _python()
    _install(python, "")
    # The learner works on copies of exercises/ in workspace/ (git-ignored, never overwritten).
    status = _run(python, "-m", "lossbook", "workspace", "--quiet")
    if status:
        return status
    command = ["-m", "jupyter", "lab", f"--ServerApp.root_dir={ROOT}", FIRST_LESSON, *argv]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")  # containers and CI machines often run as root
    return _run(python, *command)


def test(argv: list[str]) -> int:
    python = _python()
    _install(python, "test")
    return _run(python, "-m", "pytest", *argv)


def workshop(argv: list[str]) -> int:
    python = _python()
    _install(python, "workshop")
    return _run(python, "-m", "lossbook", "workshop", *argv)


def wheelhouse(argv: list[str]) -> int:
    python = _python()
    folder = ROOT / "wheelhouse"
    folder.mkdir(exist_ok=True)
    _say(f"downloading every wheel the course needs into {folder} ...")
    status = _run(python, "-m", "pip", "download", "--dest", str(folder), ".[workshop]", "pip", "setuptools", *argv)
    if status == 0:
        _say(
            "done. On a machine without internet: copy this folder and the course, then run\n"
            "  LOSSBOOK_WHEELHOUSE=$PWD/wheelhouse make lab"
        )
    return status


COMMANDS = {"lab": lab, "test": test, "workshop": workshop, "wheelhouse": wheelhouse}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        print(__doc__.split("Which Python")[0].strip(), file=sys.stderr)
        if argv:
            print(f"\nerror: unknown command {argv[0]!r}; choose one of: {', '.join(COMMANDS)}", file=sys.stderr)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main())
