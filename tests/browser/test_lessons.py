"""Every lesson in real JupyterLab: runs clean, its explorer renders and answers the keyboard.

For each ``notebooks/*.ipynb``: run all cells through JupyterLab's own command, then
assert no error output and no "Error displaying widget"; focus the first slider of the
lesson's explorer, press an arrow key, and assert that the figure's pixels and the text
readout both changed. Screenshots of the explorer before and after go to the artifacts.
"""
from __future__ import annotations

import pytest

from labharness import ROOT, explorer_responds

pytestmark = pytest.mark.browser

LESSONS = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "notebooks").glob("*.ipynb"))


def assert_runs_clean(notebook) -> None:
    result = notebook.run_all()
    errors = notebook.errors()
    assert not errors, f"{notebook.path}: error output after run-all:\n" + "\n---\n".join(errors)
    assert result == "ok", f"{notebook.path}: JupyterLab reported a failed cell during run-all"


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
    explorer_responds(explorers.first, request.node.name)
    # Moving the slider must not have produced an error either (the observer runs in the kernel).
    assert not notebook.errors()


def test_every_explorer_has_its_lesson_here():
    """The parametrisation above covers every lesson that has an explorer."""
    from lossbook import explorers

    wanted = {f"notebooks/{lesson}.ipynb" for _module, lesson in explorers.FACTORIES.values()}
    assert wanted <= set(LESSONS), f"lesson notebooks missing: {sorted(wanted - set(LESSONS))}"
