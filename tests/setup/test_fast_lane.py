"""The fast lane (``pytest -m "not slow"``): slow paths are marked centrally and not even
collected when deselected; ``make test`` (no ``-m``) still collects them."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def collect(*args):
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           *args], cwd=ROOT, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"})
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    return [line for line in done.stdout.splitlines() if "::" in line]


@pytest.mark.slow  # four pytest processes
def test_slow_paths_are_skipped_by_the_fast_lane_and_kept_otherwise():
    paths = ["tests/browser/test_harness.py", "notebooks/00_welcome.ipynb", "tests/setup/test_files.py"]
    fast = collect("-m", "not slow", *paths)
    assert fast and all(line.startswith("tests/setup/test_files.py::") for line in fast), fast
    slow = collect("-m", "slow", *paths)
    assert any(line.startswith("tests/browser/test_harness.py::") for line in slow)
    assert any(line.startswith("notebooks/00_welcome.ipynb::") for line in slow)
    assert not any(line.startswith("tests/setup/test_files.py::") for line in slow)
    everything = collect(*paths)
    assert len(everything) == len(fast) + len(slow)
    # another -m expression keeps the grader's slow tests (only the browser is deselected)
    assert collect("-m", "not browser", "tests/browser/test_harness.py", "tests/grading/test_sandbox.py")
