"""A solution notebook and a released exercise notebook in real JupyterLab.

Both run clean through JupyterLab's run-all; their ``check(...)`` cells render as HTML
(the ``lossbook-check`` block, not a plain-text repr): every check passes in the
solution, and every check says "Not attempted" in the released exercise (its answer
cells hold starter code that raises ``NotImplementedError``).
"""
from __future__ import annotations

import json

import pytest

from labharness import ROOT, artifact_path, wait_for

pytestmark = pytest.mark.browser

LESSON = "02_mse"


def check_cells(path) -> list[str]:
    """Exercise ids of the notebook's check cells (``metadata.lossbook.role == "check"``)."""
    cells = json.loads((ROOT / path).read_text(encoding="utf-8"))["cells"]
    return [c["metadata"]["lossbook"]["exercise"] for c in cells
            if c["metadata"].get("lossbook", {}).get("role") == "check"]


@pytest.mark.parametrize("folder, status, word", [
    ("solutions", "passed", "Passed"),
    ("exercises", "not-attempted", "Not attempted"),
], ids=["solution", "released-exercise"])
def test_checks_render_as_html(folder, status, word, open_notebook, page, request):
    path = f"{folder}/{LESSON}.ipynb"
    expected = check_cells(path)
    assert expected, f"{path} has no check cell"
    notebook = open_notebook(path)
    result = notebook.run_all()
    errors = notebook.errors()
    assert not errors, f"{path}: error output after run-all:\n" + "\n---\n".join(errors)
    assert result == "ok", f"{path}: JupyterLab reported a failed cell during run-all"

    rendered = page.locator(".jp-Notebook .jp-RenderedHTMLCommon .lossbook-check")
    try:
        wait_for(lambda: rendered.count() >= len(expected), 60, message="the check results")
    except TimeoutError:
        pass  # the assertion below says what is missing
    assert rendered.count() == len(expected), (
        f"{path}: {rendered.count()} check results rendered as HTML, expected {len(expected)}")
    for i, exercise in enumerate(expected):
        block = rendered.nth(i)
        assert f"lossbook-check-{status}" in (block.get_attribute("class") or "")
        text = block.inner_text()
        assert word in text and exercise in text, text
    rendered.first.scroll_into_view_if_needed()
    page.screenshot(path=str(artifact_path(request.node.name, "checks.png")))
