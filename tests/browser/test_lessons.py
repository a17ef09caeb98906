"""Every lesson in real JupyterLab: runs clean, its explorer renders and answers the keyboard.

For each ``notebooks/*.ipynb``: run all cells through JupyterLab's own command, then
assert no error output and no "Error displaying widget"; focus the first slider of the
lesson's explorer, press an arrow key, and assert that the figure's pixels and the text
readout both changed. Screenshots of the explorer before and after go to the artifacts.
"""
from __future__ import annotations

import pytest

from labharness import ROOT, artifact_path, canvas_fingerprint, first_slider, press_slider, wait_canvas_drawn, wait_for

pytestmark = pytest.mark.browser

LESSONS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))


def assert_runs_clean(notebook) -> None:
    result = notebook.run_all()
    errors = notebook.errors()
    assert not errors, f"{notebook.path}: error output after run-all:\n" + "\n---\n".join(errors)
    assert result == "ok", f"{notebook.path}: JupyterLab reported a failed cell during run-all"


def move_explorer_slider(page, request, explorer) -> None:
    """Press an arrow key on the explorer's first slider; assert readout and pixels change."""
    explorer.wait_for(state="attached")
    explorer.scroll_into_view_if_needed()
    canvas = explorer.locator("canvas").first
    canvas.wait_for(state="attached")
    before = wait_canvas_drawn(canvas)
    readout = explorer.locator(".lossbook-readout")
    text_before = wait_for(lambda: readout.inner_text().strip(), 30, message="a readout")
    explorer.screenshot(path=str(artifact_path(request.node.name, "before.png")))

    press_slider(first_slider(explorer), presses=3)

    text_after = wait_for(lambda: (t := readout.inner_text().strip()) != text_before and t,
                          30, message="the readout to change after the key presses")
    after = wait_for(lambda: (f := canvas_fingerprint(canvas))["hash"] != before["hash"] and f,
                     30, message="the figure's pixels to change after the key presses")
    explorer.screenshot(path=str(artifact_path(request.node.name, "after.png")))
    assert after["varied"], "the figure went blank after moving the slider"
    assert text_after != text_before


@pytest.mark.parametrize("path", LESSONS, ids=[p.split("/")[-1][:-6] for p in LESSONS])
def test_lesson_runs_and_its_explorer_responds(path, open_notebook, page, request):
    notebook = open_notebook(path)
    assert_runs_clean(notebook)
    explorers = page.locator(".jp-Notebook .lossbook-explorer")
    try:  # widget views render after the cell's reply: give them time
        explorers.first.wait_for(state="attached", timeout=120_000)
    except Exception:
        pytest.fail(f"{path} shows no explorer (no element with class lossbook-explorer); "
                    f"errors on the page: {notebook.errors()}")
    move_explorer_slider(page, request, explorers.first)
    # Moving the slider must not have produced an error either (the observer runs in the kernel).
    assert not notebook.errors()


def test_lessons_found():
    assert len(LESSONS) == 9, f"expected the nine lessons 00-08 in notebooks/, found {LESSONS}"
