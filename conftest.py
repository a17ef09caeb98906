"""Test-session settings shared by every test (unit, notebook, browser), wherever collected.

- The learner's progress store is pointed at a temporary folder, so tests and nbval runs
  never write into the repository or the user's home.
- ``LOSSBOOK_NO_SKIPS=1`` (set by ``.ci/run``) turns every skipped test into a failure:
  a check that is skipped in CI is not a check. On a laptop, tests that need Chromium,
  bubblewrap or PyTorch skip with a message saying what to install.
"""
import os
import tempfile

import pytest

os.environ["LOSSBOOK_PROGRESS_DIR"] = tempfile.mkdtemp(prefix="lossbook-progress-")

NO_SKIPS = os.environ.get("LOSSBOOK_NO_SKIPS") == "1"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but LOSSBOOK_NO_SKIPS=1 forbids skipping in CI: {reason}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    outcome = yield
    report = outcome.get_result()
    if NO_SKIPS and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"module skipped, but LOSSBOOK_NO_SKIPS=1 forbids skipping in CI: {reason}"
