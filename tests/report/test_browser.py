"""The class report in Debian's Chromium: it renders, logs no error, requests nothing, prints.

Driven like tests/browser (Python Playwright, ``/usr/bin/chromium`` or ``$LOSSBOOK_CHROMIUM``);
without Chromium the test skips with a message, unless ``LOSSBOOK_REQUIRE_BROWSER=1`` (CI).
The screenshot and the printed PDF are kept in ``$LOSSBOOK_ARTIFACTS/report``.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import labharness  # noqa: E402

from classes import exercise, mse_class, record, write_class  # noqa: E402

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def chromium():
    path = labharness.chromium_path()
    if path is None:
        message = f"Chromium not found at {labharness.DEFAULT_CHROMIUM}: apt-get install chromium"
        if os.environ.get("LOSSBOOK_REQUIRE_BROWSER") == "1" or os.environ.get("LOSSBOOK_NO_SKIPS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return path


def hostile_class() -> list[dict]:
    records = mse_class(n_sum=3, n=6)
    records.append(record('<img src="https://example.com/x.png">', "02_mse",
                          [exercise("mse", 0), exercise("mse_grad", 0)], feedback="https://example.com/f.md"))
    records.append(record("learner0", "03_mae_huber", [exercise("mae", 3), exercise("mae_grad", 0), exercise("huber", 2)],
                          status="timed-out"))
    return records


def test_the_report_renders_without_errors_or_requests_and_prints(tmp_path, chromium):
    from playwright.sync_api import sync_playwright

    from lossbook.report import build

    book = write_class(tmp_path, hostile_class())
    page_path = tmp_path / "report.html"
    page_path.write_text(build(book, out=page_path), encoding="utf-8")
    url = page_path.as_uri()
    requests, errors = [], []
    artifacts = labharness.artifacts_dir("report")
    with tempfile.TemporaryDirectory(prefix="lossbook-chromium-") as profile, sync_playwright() as playwright:
        context = labharness.launch_chromium(playwright, profile, chromium)
        try:
            context.on("request", lambda request: requests.append(request.url))
            page = context.new_page()
            page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
            page.on("pageerror", lambda error: errors.append(str(error)))
            page.goto(url)
            page.wait_for_load_state("load")
            assert page.title() == "Class report: gradebook.csv"
            assert page.locator("h2").first.inner_text() == "Class overview"
            images = page.locator("img")
            assert images.count() == 2 + 2 + 3 + 1
            widths = page.eval_on_selector_all("img", "els => els.map(e => e.complete ? e.naturalWidth : 0)")
            assert all(w > 100 for w in widths), widths
            assert page.eval_on_selector_all("script", "els => els.length") == 0
            page.screenshot(path=str(artifacts / "report.png"), full_page=True)
            page.emulate_media(media="print")
            pdf = page.pdf(path=str(artifacts / "report.pdf"), format="A4", print_background=True)
            assert pdf[:5] == b"%PDF-" and len(pdf) > 20_000
        finally:
            context.close()
    assert errors == []
    outside = [u for u in requests if u != url and not u.startswith("data:")]
    assert outside == [], f"the report requested {outside}"
