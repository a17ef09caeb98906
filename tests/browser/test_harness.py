"""The browser checks can fail: an error output and a frozen plot are caught.

Two small notebooks written into the served course copy: one whose cell raises, and a
fake explorer whose slider updates the readout but never the figure (the bug a learner
would see as "the slider moves, the plot stays still").
"""
from __future__ import annotations

import nbformat
import pytest

from labharness import explorer_responds

pytestmark = pytest.mark.browser

RAISES = "x = 1\nraise ValueError('deliberate failure for the harness test')"

FROZEN_EXPLORER = '''\
import ipywidgets as widgets
from matplotlib.figure import Figure
from lossbook.explorers.base import attach_canvas

figure = Figure(figsize=(4, 3), dpi=80)
ax = figure.subplots()
ax.plot([0, 1], [0, 1])
ax.set_title("frozen")
canvas, canvas_widget = attach_canvas(figure)
slider = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.1, description="x")
readout = widgets.HTML("x = 0.5")
readout.add_class("lossbook-readout")
slider.observe(lambda change: setattr(readout, "value", f"x = {change['new']:.1f}"), "value")
box = widgets.VBox([canvas_widget, slider, readout])
box.add_class("lossbook-explorer")
box
'''


def write(lab, name: str, source: str) -> str:
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, lab.root / name)
    return name


def test_an_error_output_is_reported(lab, open_notebook):
    notebook = open_notebook(write(lab, "harness_raises.ipynb", RAISES))
    assert notebook.run_all() == "failed"
    errors = notebook.errors()
    assert len(errors) == 1 and "deliberate failure for the harness test" in errors[0]


def test_a_plot_that_does_not_follow_its_slider_is_caught(lab, open_notebook, page, request):
    notebook = open_notebook(write(lab, "harness_frozen.ipynb", FROZEN_EXPLORER))
    assert notebook.run_all() == "ok" and notebook.errors() == []
    explorer = page.locator(".jp-Notebook .lossbook-explorer").first
    explorer.wait_for(state="attached", timeout=120_000)
    with pytest.raises(TimeoutError, match="the figure's pixels to change"):
        explorer_responds(explorer, request.node.name, timeout=8)
