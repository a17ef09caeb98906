"""Helpers for driving explorers headless (no front end): sweeps, frames, no-rebuild checks.

Every explorer test does the same three things: set each control across its range, compare
the plotted artists and ``.readout_text`` with the ``lossbook`` math for that state, and
check that nothing was rebuilt. These fixtures make that short:

- ``sweep(control, n)``: values spread over a control's range (all options of a drop-down).
- ``frame(explorer)``: what the browser would receive, as an RGBA array (runs the draw the
  front end would ask for, so the pixels include blitted artists).
- ``in_place(explorer)``: a context manager asserting the figure, its axes and the number
  of artists on each axes are the same objects/counts afterwards.
- ``check_contract(explorer)``: the structural promises of docs/architecture.md.
"""
from __future__ import annotations

import json
from contextlib import contextmanager

import numpy as np
import pytest

ipywidgets = pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")


def _sweep(control, n: int = 7) -> list:
    if isinstance(control, ipywidgets.Dropdown):
        return [value for _label, value in control.options] \
            if control.options and isinstance(control.options[0], tuple) else list(control.options)
    if isinstance(control, ipywidgets.Checkbox):
        return [not control.value, control.value]
    if isinstance(control, ipywidgets.IntSlider):
        return sorted(set(np.linspace(control.min, control.max, n).round().astype(int).tolist()))
    if isinstance(control, ipywidgets.FloatSlider):
        steps = np.round(np.linspace(0, (control.max - control.min) / control.step, n))
        return [float(min(control.max, control.min + k * control.step)) for k in steps]
    raise TypeError(f"don't know how to sweep a {type(control).__name__}")


@pytest.fixture
def sweep():
    return _sweep


def _frame(explorer) -> np.ndarray:
    """Answer the canvas's pending draw requests as the front end would; return pixels."""
    canvas = explorer.canvas
    sent = getattr(canvas, "_test_sent", None)
    if sent is None:
        sent = canvas._test_sent = []
        canvas.send = lambda content, buffers=None: sent.append(content)
        canvas.syncing_data_url = False
    if not hasattr(explorer, "_test_first_frame"):
        explorer._test_first_frame = True
        canvas.draw()
    while any(json.loads(message.get("data", "{}")).get("type") == "draw" for message in sent):
        sent.clear()
        canvas.handle_event({"type": "draw"})
    sent.clear()
    return np.asarray(canvas.get_renderer().buffer_rgba()).copy()


@pytest.fixture
def frame():
    return _frame


def _artist_counts(figure) -> list:
    return [(id(ax), len(ax.lines), len(ax.collections), len(ax.patches), len(ax.texts),
             len(ax.images)) for ax in figure.axes]


@contextmanager
def _in_place(explorer):
    figure, canvas = explorer.figure, explorer.canvas
    axes = list(figure.axes)
    counts = _artist_counts(figure)
    yield
    assert explorer.figure is figure, "update() replaced the figure"
    assert explorer.canvas is canvas, "update() replaced the canvas"
    assert list(figure.axes) == axes, "update() added or removed axes"
    assert _artist_counts(figure) == counts, "update() added or removed artists"


@pytest.fixture
def in_place():
    return _in_place


def _check_contract(explorer) -> None:
    from matplotlib.figure import Figure

    assert isinstance(explorer.controls, dict) and explorer.controls
    for name, control in explorer.controls.items():
        assert isinstance(control, ipywidgets.ValueWidget), name
        assert control.description, f"control {name!r} has no description"
        if hasattr(control, "continuous_update"):
            assert control.continuous_update, f"control {name!r}: continuous_update is off"
    assert isinstance(explorer.readout, ipywidgets.HTML)
    assert "lossbook-readout" in explorer.readout._dom_classes
    assert "aria-live" in explorer.readout.value
    assert isinstance(explorer.readout_text, str) and explorer.readout_text
    assert "lossbook-explorer" in explorer.widget._dom_classes
    assert isinstance(explorer.figure, Figure)
    assert explorer.figure.canvas is explorer.canvas
    assert isinstance(explorer.state(), dict)
    for ax in explorer.figure.axes:
        if ax.get_label() == "<colorbar>":
            continue
        assert ax.get_title(), f"axes {ax} has no title"
        assert ax.get_xlabel() and ax.get_ylabel(), f"axes {ax.get_title()!r} lacks a label"
        # readable on a projector: the course style's sizes, not matplotlib's 10 pt
        assert ax.title.get_fontsize() >= 13, f"title of {ax.get_title()!r} is too small"
        assert ax.xaxis.label.get_fontsize() >= 12 and ax.yaxis.label.get_fontsize() >= 12
        for label in ax.get_xticklabels() + ax.get_yticklabels():
            assert label.get_fontsize() >= 10, f"tick labels of {ax.get_title()!r} too small"


@pytest.fixture
def check_contract():
    return _check_contract
