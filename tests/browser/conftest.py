"""Fixtures for the browser tests: a JupyterLab server and a headless Chromium per test module.

- Chromium is Debian's (``/usr/bin/chromium``, or ``$LOSSBOOK_CHROMIUM``), driven by Python
  Playwright. Without it the tests skip with a message saying what to install, unless
  ``LOSSBOOK_REQUIRE_BROWSER=1`` (set by ``.ci/run``), which turns the skip into a failure.
- ``lab`` (one per test module) serves a fresh temporary copy of ``notebooks/``, ``solutions/`` and
  ``exercises/`` (the repository's files are never opened by the browser), with its own
  settings, workspaces, runtime and progress folders; it is always shut down with its kernels.
- ``page`` is a new tab per test; when the test fails a screenshot is saved under
  ``$LOSSBOOK_ARTIFACTS/browser`` (default ``artifacts/browser``, git-ignored).
"""
from __future__ import annotations

import os
import signal
import sys
import tempfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import labharness  # noqa: E402  (a plain module beside this file; also used by benchmarks/)

REQUIRE = os.environ.get("LOSSBOOK_REQUIRE_BROWSER") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


@pytest.fixture(scope="session", autouse=True)
def _teardown_on_sigterm():
    """A SIGTERM (a CI time-out) becomes KeyboardInterrupt, so pytest still runs the
    fixtures' teardown and no server, kernel or browser outlives the run."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, interrupt)
    yield
    signal.signal(signal.SIGTERM, previous)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = labharness.chromium_path()
    if path is None:
        message = (f"Chromium not found at {labharness.DEFAULT_CHROMIUM} (or $LOSSBOOK_CHROMIUM): "
                   "install it (Debian/Ubuntu: `sudo apt-get install chromium`) to run the "
                   "browser tests")
        if REQUIRE:
            pytest.fail(message + "; LOSSBOOK_REQUIRE_BROWSER=1 forbids skipping them", pytrace=False)
        pytest.skip(message)
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        message = "Python Playwright is not installed: `pip install -e .[test]`"
        if REQUIRE:
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    return path


# Module scope: nothing of the browser tests (server, kernels, Chromium) outlives its
# module, so later tests in the same pytest run see no stray child processes.
@pytest.fixture(scope="module")
def browser_context(chromium):
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="lossbook-chromium-") as profile:
        with sync_playwright() as playwright:
            context = labharness.launch_chromium(playwright, profile, chromium)
            try:
                yield context
            finally:
                context.close()


@pytest.fixture(scope="module")
def lab(chromium):
    """A running JupyterLab on a temporary copy of the course (a :class:`labharness.Server`)."""
    with labharness.lab_server() as server:
        yield server


_workspaces = iter(range(1, 10_000))


@pytest.fixture
def page(browser_context, request):
    """A new tab; a screenshot is kept when the test fails; closed afterwards."""
    tab = browser_context.new_page()
    console_errors: list[str] = []
    tab.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
    tab.console_errors = console_errors
    # Each test gets its own JupyterLab workspace, so no tab reopens another test's notebook.
    tab.workspace = f"test{next(_workspaces)}"
    yield tab
    failed = getattr(request.node, "rep_call", None)
    if failed is not None and failed.failed:
        try:
            tab.screenshot(path=str(labharness.artifact_path(request.node.name, "failure.png")), full_page=True)
        except Exception:  # the page may be gone; the test's own error is what matters
            pass
    tab.close()


@pytest.fixture
def open_notebook(lab, page):
    """Open a course notebook (path relative to the course root) and return a LabNotebook."""
    opened = []

    def _open(path: str) -> labharness.LabNotebook:
        notebook = labharness.LabNotebook(page, lab, path, workspace=page.workspace).open()
        opened.append(notebook)
        return notebook

    yield _open
    for notebook in opened:
        notebook.close()
