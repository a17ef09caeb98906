"""Take the README's pictures in real JupyterLab + Chromium: ``python -m tools.screenshots``.

Writes ``docs/images/explorer.png`` (the lesson 02 explorer after a few key presses on
its slider) and ``docs/images/check-feedback.png`` (what ``check`` says about a typical
mistake: a sum where the mean was meant). Same set-up as the browser tests
(``tests/browser/labharness.py``): a temporary copy of the course, ``jupyter lab`` from this
environment, Debian's Chromium driven by Playwright.
"""
from __future__ import annotations

import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import labharness  # noqa: E402

IMAGES = ROOT / "docs" / "images"

EXPLORER_CELL = "from lossbook import explorers\nexplorers.mse_line_fit()"
CHECK_CELL = '''\
import numpy as np
from lossbook import check

def mse(y_true, y_pred):
    return np.sum((np.asarray(y_pred) - np.asarray(y_true)) ** 2)   # sum, not mean

check("mse", mse, record=False)'''


def notebook_with(source: str) -> dict:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def main() -> int:
    chromium = labharness.chromium_path()
    if chromium is None:
        print("tools.screenshots: Chromium not found (/usr/bin/chromium or $LOSSBOOK_CHROMIUM)",
              file=sys.stderr)
        return 2
    import nbformat
    from playwright.sync_api import sync_playwright

    IMAGES.mkdir(parents=True, exist_ok=True)
    with labharness.lab_server(folders=()) as server, \
            tempfile.TemporaryDirectory(prefix="lossbook-chromium-") as profile, \
            sync_playwright() as playwright:
        context = labharness.launch_chromium(playwright, profile, chromium)
        try:
            for name, source in (("explorer", EXPLORER_CELL), ("check", CHECK_CELL)):
                path = f"screenshot_{name}.ipynb"
                nbformat.write(notebook_with(source), server.root / path)
                page = context.new_page()
                notebook = labharness.LabNotebook(page, server, path, workspace=f"shot-{name}").open()
                try:
                    if notebook.run_all() != "ok" or notebook.errors():
                        print(f"tools.screenshots: the {name} cell failed: {notebook.errors()}",
                              file=sys.stderr)
                        return 1
                    if name == "explorer":
                        explorer = page.locator(".jp-Notebook .lossbook-explorer").first
                        explorer.wait_for(state="attached")
                        explorer.scroll_into_view_if_needed()
                        labharness.wait_canvas_drawn(explorer.locator("canvas").first)
                        labharness.press_slider(labharness.first_slider(explorer), presses=6)
                        page.wait_for_timeout(1500)
                        labharness.wait_canvas_drawn(explorer.locator("canvas").first)
                        page.mouse.move(0, 0)   # no hover highlight in the picture
                        explorer.screenshot(path=str(IMAGES / "explorer.png"))
                    else:
                        output = page.locator(".jp-Notebook .lossbook-check").first
                        output.wait_for(state="visible")
                        output.screenshot(path=str(IMAGES / "check-feedback.png"))
                finally:
                    notebook.close()
                    page.close()
        finally:
            context.close()
    for image in ("explorer.png", "check-feedback.png"):
        print(IMAGES / image)
    return 0


if __name__ == "__main__":
    sys.exit(main())
