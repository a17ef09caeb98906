"""A sample class report, reproducible with one command: ``python -m tools.sample_report``.

Builds the attack-free part of the grading benchmark's mixed batch
(``benchmarks/bench_grading.py``: 10 correct lesson-02 submissions and the 9 typical
mistakes, without the infinite loop), grades it with ``lossbook grade`` (sandboxed, with
feedback files), then writes the class report as HTML and Markdown and the three exports
(with a made-up roster) into ``--out`` (default ``artifacts/sample-report/``).
``--screenshot`` also takes ``docs/images/report.png`` (the top of the page) in Debian's
Chromium.
"""
from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def build_batch(folder: Path) -> int:
    from benchmarks.bench_grading import LOOP, batches, write_lossbook_batch

    mixed = [answers for answers in batches(0)["mixed"] if answers.get("mse") != LOOP["mse"]]
    write_lossbook_batch(folder, mixed)
    return len(mixed)


def screenshot(page: Path, target: Path, height: int = 1500) -> None:
    sys.path.insert(0, str(ROOT / "tests" / "browser"))
    import tempfile

    import labharness
    from playwright.sync_api import sync_playwright

    chromium = labharness.chromium_path()
    if chromium is None:
        raise SystemExit("sample_report: --screenshot needs Chromium (apt-get install chromium)")
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as playwright:
        context = labharness.launch_chromium(playwright, profile, chromium)
        try:
            tab = context.new_page()
            tab.set_viewport_size({"width": 1000, "height": height})
            tab.goto(page.resolve().as_uri())
            tab.wait_for_load_state("load")
            tab.screenshot(path=str(target), clip={"x": 0, "y": 0, "width": 1000, "height": height})
        finally:
            context.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "artifacts" / "sample-report")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--screenshot", action="store_true", help="also write docs/images/report.png")
    args = parser.parse_args(argv)
    from lossbook.cli import main as lossbook

    out = args.out
    if out.exists():
        shutil.rmtree(out)
    n = build_batch(out / "submissions")
    book = out / "gradebook.csv"
    status = lossbook(["grade", str(out / "submissions"), "--out", str(book), "--jobs", str(args.jobs),
                       "--feedback", str(out / "feedback")])
    if status != 0:
        return status
    roster = out / "roster.csv"
    roster.write_text("learner,name,id,email\n" + "".join(
        f"s{k:03d},Learner {k:03d},{1000 + k},s{k:03d}@example.org\n" for k in range(n)), encoding="utf-8")
    steps = [["report", str(book), "--out", str(out / "report.html")],
             ["report", str(book), "--format", "md", "--out", str(out / "report.md")]]
    steps += [["export", str(book), "--to", to, "--roster", str(roster), "--out", str(out / f"{to}.csv")]
              for to in ("canvas", "moodle", "long")]
    for step in steps:
        status = lossbook(step)
        if status != 0:
            return status
    if args.screenshot:
        screenshot(out / "report.html", ROOT / "docs" / "images" / "report.png")
        print(f"screenshot: {ROOT / 'docs' / 'images' / 'report.png'}")
    print(f"sample report of {n} submissions: {out / 'report.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
