"""The explorers' own canvas (lossbook/explorers/frame_canvas.py): whole frames, fixed size,
the latest frame always in the model, an accessible name; and its fallbacks."""
from __future__ import annotations

import importlib
import inspect
import io
import sys

import numpy as np
import pytest

from lossbook import explorers
from lossbook.explorers import base, frame_canvas
from lossbook.figures import style
from parabola_figure import parabola_with_dot

anywidget = pytest.importorskip("anywidget")


class _Dot(base.Explorer):
    title = "A dot on r²"
    alt_text = "A parabola with one dot on it."

    def _build_controls(self):
        return {"r": base.float_slider("residual", 0.5, -3.0, 3.0, 0.25)}

    def _build_figure(self):
        fig, self.dot = parabola_with_dot()
        return fig

    def state(self):
        r = self.controls["r"].value
        return {"r": r, "loss": r * r}

    def _show(self, s):
        self.dot.set_data([s["r"]], [s["loss"]])

    def _readout_lines(self, s):
        return [f"loss = {base.fmt(s['loss'])}"]

    def _changing_artists(self):
        return [self.dot]


def decoded(widget) -> np.ndarray:
    from PIL import Image

    png = bytes(widget.frame)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))


def kernel_picture(explorer) -> np.ndarray:
    return np.asarray(explorer.canvas.get_renderer().buffer_rgba())


def test_the_frame_canvas_is_the_default_and_has_the_figures_fixed_size():
    explorer = _Dot()
    canvas, widget = explorer.canvas, explorer.canvas.widget
    assert isinstance(canvas, frame_canvas.FrameCanvas)
    assert isinstance(widget, anywidget.AnyWidget) and widget in explorer.widget.children[1].children
    assert explorer.figure.canvas is canvas
    assert (widget.width, widget.height) == (5 * style.EXPLORER_DPI, 3 * style.EXPLORER_DPI)
    assert frame_canvas.ESM.is_file() and widget._esm == frame_canvas.ESM.read_text()


def test_the_model_holds_the_whole_latest_frame_from_the_start():
    """No front end yet (nbconvert, a test, a kernel before the page renders): the first
    frame is already in the model, so any view that appears later shows it at once."""
    explorer = _Dot()
    assert explorer.canvas.frames_sent == 1
    np.testing.assert_array_equal(decoded(explorer.canvas.widget), kernel_picture(explorer))
    state = explorer.canvas.widget.get_state()
    assert bytes(state["frame"]).startswith(b"\x89PNG") and state["width"] == 5 * style.EXPLORER_DPI
    explorer.controls["r"].value = -2.0
    widget = explorer.canvas.widget
    assert widget.frame_seq == widget.seq == 2
    np.testing.assert_array_equal(decoded(widget), kernel_picture(explorer))


def test_every_update_sends_one_whole_frame_of_exactly_the_pixels_without_a_round_trip():
    blitting = _Dot()
    drawing = type("_DotNoBlit", (_Dot,), {"_changing_artists": lambda self: []})()
    assert blitting.dot.get_animated() and not drawing.dot.get_animated()
    for value in (-2.0, 0.75, 3.0, -3.0):
        before = blitting.canvas.frames_sent
        blitting.controls["r"].value = value
        drawing.controls["r"].value = value
        assert blitting.canvas.frames_sent == before + 1
        shown = decoded(blitting.canvas.widget)
        np.testing.assert_array_equal(shown, kernel_picture(blitting))
        np.testing.assert_array_equal(shown, decoded(drawing.canvas.widget))
        assert (shown[..., 3] == 255).all(), "a frame must be opaque: never a diff"


def test_hold_sends_one_frame():
    explorer = _Dot()
    before = explorer.canvas.frames_sent
    with explorer.hold():
        explorer.controls["r"].value = -1.0
        explorer.controls["r"].value = 2.0
    assert explorer.canvas.frames_sent == before + 1


def test_the_canvas_is_named_by_the_figures_alt_text():
    assert _Dot().canvas.widget.alt == _Dot.alt_text
    untitled = type("_Untitled", (_Dot,), {"alt_text": ""})()
    assert untitled.canvas.widget.alt == _Dot.title
    source = frame_canvas.ESM.read_text()
    assert 'setAttribute("role", "img")' in source and '"aria-label"' in source


@pytest.mark.parametrize("name", list(explorers.FACTORIES))
def test_every_explorer_has_alt_text_on_its_canvas(name):
    """Builds each explorer (slow but for the first: root conftest.py, SLOW_TESTS)."""
    explorer = getattr(explorers, name)()
    alt = explorer.canvas.widget.alt
    assert len(alt) > 60 and alt != explorer.title, f"{name}: the canvas needs the figure's alt text"
    assert alt == type(explorer).alt_text


@pytest.mark.parametrize("name", list(explorers.FACTORIES))
def test_every_explorer_class_has_alt_text(name):
    """The quick form of the test above, without building the explorer: the canvas is named by
    the class's ``alt_text`` (test_the_canvas_is_named_by_the_figures_alt_text)."""
    module = importlib.import_module(f"lossbook.explorers.{explorers.FACTORIES[name][0]}")
    cls = getattr(module, inspect.signature(getattr(explorers, name)).return_annotation)
    assert issubclass(cls, base.Explorer)
    assert len(cls.alt_text) > 60 and cls.alt_text != cls.title, f"{name}: the canvas needs the figure's alt text"


def test_the_view_never_uses_data_urls_or_image_elements():
    """The point of this canvas: createImageBitmap off the main thread, no <img>, no
    toDataURL per frame, no resize handshake (the size comes from the model)."""
    source = frame_canvas.ESM.read_text()
    assert "createImageBitmap" in source
    for slow in ("toDataURL", "new Image(", "createElement(\"img\")", "model.send("):
        assert slow not in source


def test_without_anywidget_explorers_fall_back_to_ipympl(monkeypatch):
    from ipympl.backend_nbagg import Canvas

    monkeypatch.setitem(sys.modules, "anywidget", None)      # import fails
    monkeypatch.setattr(frame_canvas, "_WIDGET_CLASS", None)
    explorer = _Dot()
    assert isinstance(explorer.canvas, Canvas)


def test_the_switch_selects_ipympl_for_comparisons(monkeypatch):
    from ipympl.backend_nbagg import Canvas

    monkeypatch.setenv("LOSSBOOK_EXPLORER_CANVAS", "ipympl")
    assert isinstance(_Dot().canvas, Canvas)


def apply_patch(picture: np.ndarray, widget) -> np.ndarray:
    """What frame_canvas.js's paintPatch does: putImageData of each rectangle in turn."""
    picture = picture.copy()
    patch, at = bytes(widget.patch), 0
    for x, y, w, h in widget.patch_rects:
        size = w * h * 4
        picture[y:y + h, x:x + w] = np.frombuffer(patch[at:at + size], np.uint8).reshape(h, w, 4)
        at += size
    assert at == len(patch)
    return picture


def test_a_patch_painted_on_the_previous_frame_gives_exactly_the_new_frame():
    explorer = _Dot()
    widget = explorer.canvas.widget
    assert widget.patch_rects is None and widget.patch == b""   # the first frame: no patch
    shown = decoded(widget)
    for value in (-2.0, 0.75, 0.75, 3.0, -3.0):
        seq = widget.seq
        explorer.controls["r"].value = value
        if widget.seq == seq:                                     # the value did not change
            continue
        assert widget.seq == seq + 1
        shown = apply_patch(shown, widget)
        np.testing.assert_array_equal(shown, kernel_picture(explorer))
        np.testing.assert_array_equal(shown, decoded(widget))
        area = sum(w * h for _, _, w, h in widget.patch_rects)
        assert 0 < area < shown.shape[0] * shown.shape[1] / 4, "a patch covers what changed"


def test_an_unchanged_frame_sends_an_empty_patch():
    explorer = _Dot()
    explorer.controls["r"].value = 1.0
    explorer.update()                       # same state: same pixels
    assert explorer.canvas.widget.patch_rects == [] and explorer.canvas.widget.patch == b""


def test_changed_rects_cover_every_changed_pixel_and_only_changed_bands():
    rng = np.random.default_rng(4)
    previous = rng.integers(0, 2**32, size=(50, 37), dtype=np.uint32)
    assert frame_canvas.changed_rects(None, previous) is None
    assert frame_canvas.changed_rects(previous[:, :30], previous) is None
    for _ in range(50):
        current = previous.copy()
        for y, x in rng.integers(0, (50, 37), size=(rng.integers(0, 6), 2)):
            current[y, x] ^= 1
        rects = frame_canvas.changed_rects(previous, current)
        covered = np.zeros(current.shape, int)
        for x, y, w, h in rects:
            assert y % 16 == 0 and h == min(16, 50 - y)
            covered[y:y + h, x:x + w] += 1
            band = (current != previous)[y:y + h]
            assert band[:, x].any() and band[:, x + w - 1].any()   # tight in x
        assert not ((current != previous) & (covered == 0)).any()
        assert covered.max() <= 1, "rectangles must not overlap"


def test_changed_rects_split_a_band_where_its_changes_are_far_apart():
    previous = np.zeros((16, 400), np.uint32)
    current = previous.copy()
    current[3, [10, 12, 30, 300, 340, 390]] = 1
    assert frame_canvas.changed_rects(previous, current, gap=48) == [
        [10, 0, 21, 16], [300, 0, 41, 16], [390, 0, 1, 16]]
    assert frame_canvas.changed_rects(previous, current, gap=400) == [[10, 0, 381, 16]]
