"""The explorer base class: contract, in-place updates, blitting, hold(), lazy imports."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossbook import explorers, losses
from lossbook.explorers import base
from lossbook.figures import style


class _Square(base.Explorer):
    """A minimal explorer used to test the machinery: one point on the parabola r²."""

    title = "Squared error <of one point>"
    instructions = "Move the prediction."

    def _build_controls(self):
        return {"y_pred": base.float_slider("prediction", 0.5, -3.0, 3.0, 0.25),
                "target": base.dropdown("target", [0.0, 1.0], 1.0)}

    def _build_figure(self):
        fig, ax = style.new_figure(figsize=(5, 3), dpi=style.EXPLORER_DPI)
        r = np.linspace(-4, 4, 81)
        with style.course_style():
            ax.plot(r, r**2, **style.LOSS_STYLES["mse"].line())
            (self.dot,) = ax.plot([0], [0], **style.LOSS_STYLES["mse"].points())
        style.label_axes(ax, title="r squared", xlabel="residual r", ylabel="loss")
        self.updates = 0
        return fig

    def state(self):
        y, t = self.controls["y_pred"].value, self.controls["target"].value
        return {"residual": t - y, "loss": float(losses.mse([t], [y]))}

    def _show(self, s):
        self.updates += 1
        self.dot.set_data([s["residual"]], [s["loss"]])

    def _readout_lines(self, s):
        return [f"residual = {base.fmt(s['residual'])}", f"loss = {base.fmt(s['loss'])}"]

    def _changing_artists(self):
        return [self.dot]


class _NoBlit(_Square):
    def _changing_artists(self):
        return []


def test_contract_holds_for_a_minimal_subclass(check_contract):
    explorer = _Square()
    check_contract(explorer)
    assert explorer.readout_text == "residual = 0.5\nloss = 0.25"
    assert "&lt;of one point&gt;" in explorer.widget.children[0].value  # title escaped


def test_setting_a_value_updates_artists_and_readout_in_place(sweep, in_place):
    explorer = _Square()
    with in_place(explorer):
        for value in sweep(explorer.controls["y_pred"]):
            explorer.controls["y_pred"].value = value
            expected = float(losses.mse([1.0], [value]))
            assert explorer.dot.get_ydata()[0] == expected
            assert explorer.readout_text.endswith(f"loss = {base.fmt(expected)}")
            assert base.fmt(expected) in explorer.readout.value


def test_blitted_frame_equals_a_full_redraw(frame):
    blitting, drawing = _Square(), _NoBlit()
    assert blitting.dot.get_animated() and not drawing.dot.get_animated()
    frame(blitting), frame(drawing)
    for value in (-2.0, 0.75, 3.0):
        blitting.controls["y_pred"].value = value
        drawing.controls["y_pred"].value = value
        assert np.array_equal(frame(blitting), frame(drawing))


def test_blit_changes_pixels_without_a_draw_request(frame):
    explorer = _Square()
    before = frame(explorer)
    sent = explorer.canvas._test_sent
    explorer.controls["y_pred"].value = -2.0
    assert not any('"draw"' in m.get("data", "") for m in sent), "blit should not ask for a draw"
    assert not np.array_equal(frame(explorer), before)


def test_without_a_background_update_asks_for_draw_idle(monkeypatch):
    explorer = _Square()
    calls = []
    monkeypatch.setattr(explorer.canvas, "draw_idle", lambda: calls.append(1))
    explorer.controls["y_pred"].value = 1.5
    assert calls == [1]


def test_request_full_redraw_forces_draw_idle(frame, monkeypatch):
    explorer = _Square()
    frame(explorer)
    calls = []
    monkeypatch.setattr(explorer.canvas, "draw_idle", lambda: calls.append(1))
    explorer.controls["y_pred"].value = 1.5
    assert calls == []
    explorer.request_full_redraw()
    explorer.update()
    assert calls == [1]


def test_hold_redraws_once():
    explorer = _Square()
    start = explorer.updates
    with explorer.hold():
        explorer.controls["y_pred"].value = -1.0
        explorer.controls["target"].value = 0.0
    assert explorer.updates == start + 1
    assert explorer.state() == {"residual": 1.0, "loss": 1.0}


def test_controls_must_be_value_widgets():
    import ipywidgets

    class Bad(_Square):
        def _build_controls(self):
            return {"go": ipywidgets.Button(description="go")}

    with pytest.raises(TypeError, match=r"controls\['go'\].*float_slider"):
        Bad()


def test_control_helpers_are_keyboard_operable_and_continuous():
    for control in (base.float_slider("a", 0.0, 0.0, 1.0, 0.1), base.int_slider("b", 1, 0, 3)):
        assert control.continuous_update and control.description
    assert base.dropdown("c", ["x", "y"], "y").value == "y"
    assert base.checkbox("d", True).value is True


def test_fmt_is_honest_about_non_finite_values():
    assert base.fmt(float("inf")) == "inf"
    assert base.fmt(-np.inf) == "-inf"
    assert base.fmt(np.nan) == "nan"
    assert base.fmt(2 / 3) == "0.6667"
    assert base.fmt(2 / 3, digits=2) == "0.67"


def test_displays_itself_as_its_widget(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(IPython.display, "display", lambda obj: shown.append(obj))
    explorer = _Square()
    explorer._ipython_display_()
    assert shown == [explorer.widget]


def test_no_pyplot_figure_is_registered():
    from matplotlib._pylab_helpers import Gcf

    before = len(Gcf.figs)
    _Square()
    assert len(Gcf.figs) == before


def test_factory_table_matches_the_architecture_document():
    doc = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name, (_module, lesson) in explorers.FACTORIES.items():
        assert f"`explorers.{name}()`" in doc
        assert f"`{lesson}`" in doc
        assert callable(getattr(explorers, name))


def test_importing_explorers_does_not_import_matplotlib_or_ipywidgets():
    code = ("import sys, lossbook.explorers, lossbook.figures; "
            "print(sorted(m for m in ('matplotlib', 'ipywidgets', 'ipympl', 'IPython') "
            "if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


def test_frames_are_valid_pngs_of_exactly_the_pixels():
    import io

    from PIL import Image

    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(7, 5, 4), dtype=np.uint8)
    decoded = np.asarray(Image.open(io.BytesIO(base._png_rgba(pixels))).convert("RGBA"))
    np.testing.assert_array_equal(decoded, pixels)


def test_sent_diff_frame_rebuilds_the_new_image(frame):
    import io

    from PIL import Image

    explorer = _Square()
    before = frame(explorer)
    frames = []
    explorer.canvas.send_binary = frames.append
    explorer.controls["y_pred"].value = -2.5
    after = np.asarray(explorer.canvas.get_renderer().buffer_rgba())
    diff = np.asarray(Image.open(io.BytesIO(frames[-1])).convert("RGBA"))
    changed = diff.view(np.uint32).squeeze(2) != 0
    rebuilt = np.where(changed[..., None], diff, before)   # what the browser composes
    np.testing.assert_array_equal(rebuilt, after)
    assert explorer.canvas._current_image_mode == "diff"


def test_importing_an_explorer_module_keeps_the_factory():
    import importlib

    importlib.import_module("lossbook.explorers.welcome")
    assert callable(explorers.welcome) and not isinstance(explorers.welcome, type(base))


def test_hidpi_switch_falls_back_to_a_full_draw_then_blits_again(frame):
    blitting, drawing = _Square(), _NoBlit()
    for explorer in (blitting, drawing):
        frame(explorer)
        explorer.canvas.handle_event({"type": "set_device_pixel_ratio",
                                      "device_pixel_ratio": 2})
        explorer.controls["y_pred"].value = -1.25
    first = frame(blitting)
    # a 5 × 3 inch figure at twice EXPLORER_DPI
    assert first.shape[:2] == (2 * 3 * style.EXPLORER_DPI, 2 * 5 * style.EXPLORER_DPI)
    np.testing.assert_array_equal(first, frame(drawing))
    for explorer in (blitting, drawing):
        explorer.controls["y_pred"].value = 2.0
    np.testing.assert_array_equal(frame(blitting), frame(drawing))


def test_without_ipympl_the_figure_is_shown_as_an_image(monkeypatch):
    import ipywidgets

    monkeypatch.setitem(sys.modules, "ipympl.backend_nbagg", None)   # import fails
    explorer = _Square()
    assert isinstance(explorer.canvas, base._ImageCanvas)
    image = explorer.canvas.widget
    assert isinstance(image, ipywidgets.Image) and bytes(image.value).startswith(b"\x89PNG")
    first = bytes(image.value)
    explorer.controls["y_pred"].value = -2.0
    assert bytes(image.value) != first and explorer.dot.get_ydata()[0] == 9.0
    assert not explorer.dot.get_animated()          # no blitting on this path
