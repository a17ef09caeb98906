"""The explorer base class: contract, in-place updates, blitting, hold(), lazy imports."""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lossbook import explorers, losses
from lossbook.explorers import base
from lossbook.figures import style
from parabola_figure import parabola_with_dot


class _Square(base.Explorer):
    """A minimal explorer used to test the machinery: one point on the parabola r²."""

    title = "Squared error <of one point>"
    instructions = "Move the prediction."

    def _build_controls(self):
        return {"y_pred": base.float_slider("prediction", 0.5, -3.0, 3.0, 0.25),
                "target": base.dropdown("target", [0.0, 1.0], 1.0)}

    def _build_figure(self):
        fig, self.dot = parabola_with_dot()
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


@pytest.fixture
def ipympl_canvas(monkeypatch):
    """Explorers built in the test use ipympl's canvas (LOSSBOOK_EXPLORER_CANVAS=ipympl),
    the comparison path of benchmarks/bench_felt_latency.py --canvas frame,ipympl."""
    monkeypatch.setenv("LOSSBOOK_EXPLORER_CANVAS", "ipympl")


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


def test_without_a_background_update_asks_for_draw_idle(ipympl_canvas, monkeypatch):
    """ipympl draws only when its front end asks: until then there is no background."""
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


def _png_parts(png: bytes):
    """(colour type, the decompressed IDAT stream) of a PNG; zlib checks the Adler-32."""
    import struct
    import zlib

    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    at, idat, colour = 8, b"", None
    while at < len(png):
        (length,) = struct.unpack(">I", png[at:at + 4])
        tag, body = png[at + 4:at + 8], png[at + 8:at + 8 + length]
        assert struct.unpack(">I", png[at + 8 + length:at + 12 + length])[0] == zlib.crc32(tag + body)
        if tag == b"IHDR":
            colour = body[9]
        elif tag == b"IDAT":
            idat += body
        at += 12 + length
    return colour, zlib.decompress(idat)


def test_the_frame_encoder_sends_whole_exact_frames_and_recompresses_only_changed_bands():
    """Every frame decodes to exactly its pixels (RGB when opaque, RGBA otherwise), through
    a sequence of small changes, no change, transparency and a new size; a band of rows
    that did not change keeps its compressed bytes."""
    from PIL import Image

    rng = np.random.default_rng(1)
    frame = np.full((70, 33, 4), 255, dtype=np.uint8)
    frame[10:50, 5:30, :3] = rng.integers(0, 256, size=(40, 25, 3), dtype=np.uint8)
    encoder = base._FrameEncoder()
    sequence = []
    for step in range(6):
        frame = frame.copy()
        if step in (1, 2):                      # a few pixels in the first band only
            frame[step, 3:9, :3] = rng.integers(0, 256, size=(6, 3), dtype=np.uint8)
        if step == 4:                           # see-through pixels: RGBA
            frame[60:, :, 3] = 128
        if step == 5:                           # another size (a device pixel ratio change)
            frame = np.full((40, 21, 4), 255, dtype=np.uint8)
            frame[::3, ::2, 0] = 7
        kept = list(encoder._bands)
        png = encoder.encode(frame)
        colour, _ = _png_parts(png)
        decoded = np.asarray(Image.open(io.BytesIO(png)).convert("RGBA"))
        np.testing.assert_array_equal(decoded, frame, err_msg=f"step {step}")
        assert colour == (6 if (frame[..., 3] < 255).any() else 2), step
        sequence.append((kept, list(encoder._bands)))
    before, after = sequence[1]
    assert after[0] is not before[0] and all(a is b for a, b in zip(after[1:], before[1:]))
    before, after = sequence[3]                 # nothing changed: nothing recompressed
    assert all(a is b for a, b in zip(after, before))


def test_a_blitted_frame_is_sent_whole(ipympl_canvas, frame):
    """Every frame is a complete picture ("full" mode), never only the changed pixels."""
    from PIL import Image

    explorer = _Square()
    frame(explorer)
    frames = []
    explorer.canvas.send_binary = frames.append
    explorer.controls["y_pred"].value = -2.5
    after = np.asarray(explorer.canvas.get_renderer().buffer_rgba())
    sent = np.asarray(Image.open(io.BytesIO(frames[-1])).convert("RGBA"))
    np.testing.assert_array_equal(sent, after)
    assert explorer.canvas._current_image_mode == "full"


def test_the_matplotlib_internals_the_encoder_relies_on_are_still_there():
    """base._fast_canvas_class replaces FigureCanvasWebAggCore.get_diff_image and keeps its
    bookkeeping; ipympl's send_binary reads _last_buff. A rename there must fail here."""
    import inspect

    from ipympl.backend_nbagg import Canvas
    from matplotlib.backends.backend_webagg_core import FigureCanvasWebAggCore

    original = inspect.getsource(FigureCanvasWebAggCore.get_diff_image)
    for name in ("_png_is_old", "_force_full", "_last_buff", "set_image_mode", "get_renderer"):
        assert name in original, f"matplotlib's get_diff_image no longer uses {name}"
    assert "_last_buff" in inspect.getsource(Canvas.send_binary)
    assert "refresh_all" in inspect.getsource(FigureCanvasWebAggCore.draw)


def test_importing_an_explorer_module_keeps_the_factory():
    import importlib

    importlib.import_module("lossbook.explorers.welcome")
    assert callable(explorers.welcome) and not isinstance(explorers.welcome, type(base))


def test_hidpi_switch_falls_back_to_a_full_draw_then_blits_again(ipympl_canvas, frame):
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


def test_without_ipympl_the_figure_is_shown_as_an_image(ipympl_canvas, monkeypatch):
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


# ---------------------------------------------------------------------------------------
# The browser side of ipympl, for the blank-figure race (issue 13)
# ---------------------------------------------------------------------------------------
class BrowserCanvasModel:
    """ipympl 0.10's front end for one canvas (``MPLCanvasModel`` of jupyter-matplotlib
    0.12, ``src/mpl_widget.ts``), ported for everything that puts pixels on the page.

    What a browser does asynchronously is an explicit step here, so a test can order it:

    - :meth:`receive` handles the next kernel → browser message (a state update or a
      custom message: ``draw``, ``resize``, ``binary`` …), in order, as the comm does;
    - :meth:`load` is the ``onload`` of the frame being decoded. ``handle_binary`` only sets
      ``image.src``: another frame arriving before ``onload`` replaces it, and the replaced
      one is never drawn (``HTMLImageElement``); ``onload`` reads ``_image_mode`` when it
      runs, not when the frame was sent; ``drawImage(image)`` meanwhile draws the last
      frame that did load;
    - :meth:`send` delivers the next browser → kernel message to the kernel's canvas (or,
      to force an order, a later one first).

    :attr:`offscreen` is the picture every view of the canvas copies.
    """

    def __init__(self, canvas):
        self.canvas = canvas
        self.inbox: list = []            # kernel → browser
        self.outbox: list = []           # browser → kernel
        canvas._send = lambda msg, buffers=None: self.inbox.append((msg, buffers))
        self.size = tuple(canvas._size)  # the state the model is created with
        self.image_mode = canvas._image_mode
        self.image = None                # pixels of the last frame that loaded
        self.decoding = None             # the frame set as image.src, not loaded yet
        self.waiting_for_image = False
        self.dropped = 0
        self._resize_canvas()
        # send_initialization_message() (device pixel ratio 1)
        self.outbox += [{"type": "refresh"}, {"type": "send_image_mode"}, {"type": "initialized"}]

    # -- the model's handlers ----------------------------------------------------------
    def _resize_canvas(self):
        width, height = (int(round(v)) for v in self.size)
        self.offscreen = np.zeros((height, width, 4), dtype=np.float64)  # cleared, as in a browser

    def _draw_image(self):
        """``offscreen_context.drawImage(this.image, 0, 0)``: source-over, clipped."""
        if self.image is None:
            return
        h = min(self.image.shape[0], self.offscreen.shape[0])
        w = min(self.image.shape[1], self.offscreen.shape[1])
        source, target = self.image[:h, :w], self.offscreen[:h, :w]
        alpha = source[..., 3:4] / 255.0
        target[..., :3] = source[..., :3] * alpha + target[..., :3] * (1 - alpha)
        target[..., 3:4] = source[..., 3:4] + target[..., 3:4] * (1 - alpha)

    def _send_draw_message(self):
        if not self.waiting_for_image:
            self.waiting_for_image = True
            self.outbox.append({"type": "draw"})

    def receive(self):
        msg, buffers = self.inbox.pop(0)
        if msg["method"] == "update":
            state = msg["state"]
            if "_image_mode" in state:
                self.image_mode = state["_image_mode"]
            if "_size" in state:          # this.on('change:_size', ...)
                self.size = tuple(state["_size"])
                self._resize_canvas()
                self._draw_image()
        elif msg["method"] == "custom":
            content = json.loads(msg["content"]["data"])
            kind = content["type"]
            if kind == "draw":
                self._send_draw_message()
            elif kind == "resize":        # handle_resize (resize_requested is false)
                self._resize_canvas()
                self._draw_image()
                self.outbox.append({"type": "refresh"})
            elif kind == "binary":
                if self.decoding is not None:
                    self.dropped += 1
                self.decoding = bytes(buffers[0])
                self.waiting_for_image = False

    def load(self):
        """The image's ``onload``: clear if the mode *now* is "full", then draw the frame."""
        from PIL import Image

        self.image = np.asarray(Image.open(io.BytesIO(self.decoding)).convert("RGBA"), dtype=np.float64)
        self.decoding = None
        if self.image_mode == "full":
            self.offscreen[:] = 0
        self._draw_image()

    def send(self, index: int = 0):
        """Deliver the browser's next message (or, with ``index``, a later one first)."""
        self.canvas._handle_message(self.canvas, self.outbox.pop(index), [])

    def settle(self) -> None:
        """Let everything in flight happen, each frame loading before the next arrives."""
        while self.inbox or self.outbox or self.decoding is not None:
            if self.decoding is not None:
                self.load()
            elif self.inbox:
                self.receive()
            else:
                self.send()

    def shows(self) -> np.ndarray:
        return np.round(self.offscreen).astype(np.uint8)


@pytest.fixture
def browser(ipympl_canvas, monkeypatch):
    """Explorers built in the test get a :class:`BrowserCanvasModel` from their first message."""
    models = []
    attach = base.attach_canvas

    def attach_with_a_browser(figure, alt="", **options):
        canvas, widget = attach(figure, alt, **options)
        models.append(BrowserCanvasModel(canvas))
        return canvas, widget

    monkeypatch.setattr(base, "attach_canvas", attach_with_a_browser)
    return models


def kernel_picture(explorer) -> np.ndarray:
    return np.asarray(explorer.canvas.get_renderer().buffer_rgba())


def test_the_frontend_model_shows_what_the_kernel_drew(browser):
    """The port of ipympl's front end itself: an undisturbed handshake shows the figure."""
    explorer = _Square()
    model = browser[0]
    assert model.shows().shape == (0, 0, 4)          # the model starts at size [0, 0]
    model.settle()
    np.testing.assert_array_equal(model.shows(), kernel_picture(explorer))
    explorer.controls["y_pred"].value = -2.0
    model.settle()
    np.testing.assert_array_equal(model.shows(), kernel_picture(explorer))


def test_a_frame_replacing_the_first_one_before_it_loaded_does_not_leave_the_figure_blank(browser):
    """The race behind the blank figures, as traced in Chromium
    (``benchmarks/check_blank_canvas.py --trace``): the browser receives the draw events of
    both refreshes (before and after the resize) while its first draw request is pending,
    so it asks for nothing more; then the first frame arrives and, before it has loaded,
    a second one: the sliders' views send their values back when they render, the kernel
    redraws (a blit). The first frame is never drawn. With "diff" frames the second one
    painted only its changed pixels onto the canvas the resize had cleared, and no later
    frame came: a figure that stayed blank. The order is forced, so this is deterministic."""
    explorer = _Square()
    model = browser[0]
    for _ in range(3):                    # refresh, send_image_mode, initialized
        model.send()
    while model.inbox:                    # draw events, the size, the resize
        model.receive()
    assert model.waiting_for_image and [m["type"] for m in model.outbox] == ["draw", "refresh"]
    model.send(1)                         # the refresh after the resize is handled first
    while model.inbox:                    # its draw event: the browser is still waiting
        model.receive()
    assert [m["type"] for m in model.outbox] == ["draw"]
    model.send()                          # the draw request: the first full frame
    explorer.controls["y_pred"].value = 1.75   # a slider's value coming back: a blit
    while model.inbox:
        model.receive()
    assert model.dropped == 1             # the first frame was replaced before it loaded
    model.settle()
    assert not model.outbox and not model.inbox
    shown = model.shows()
    painted = float((shown[..., 3] > 0).mean())
    assert painted == 1.0, f"the figure stayed blank: {painted:.1%} of the canvas painted"
    np.testing.assert_array_equal(shown, kernel_picture(explorer))


def test_frames_dropped_between_key_presses_leave_no_stale_pixels(browser, frame):
    """Two updates arriving while the browser decodes: the middle frame is dropped; the
    figure must still end up exactly as the kernel drew it (no ghost of the old point)."""
    explorer = _Square()
    model = browser[0]
    model.settle()
    for value in (-2.0, 2.5, 0.25):
        explorer.controls["y_pred"].value = value
    while model.inbox:
        model.receive()
    assert model.dropped == 2
    model.settle()
    np.testing.assert_array_equal(model.shows(), kernel_picture(explorer))


from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=600), st.binary(max_size=600), st.integers(0, 200_000),
       st.integers(0, 255))
def test_adler32_combine_equals_zlibs_checksum_of_the_concatenation(first, second, run, byte):
    """The frame checksum is built from per-band checksums; it must be zlib's exactly
    (long runs of one byte, as a white figure has, push the sums past the modulus)."""
    import zlib

    second = second + bytes([byte]) * run
    assert base._adler32_combine(zlib.adler32(first), zlib.adler32(second), len(second)) \
        == zlib.adler32(first + second)


def test_the_frame_encoder_compares_the_next_frame_with_the_kept_copy():
    """``keep`` (the canvas' own copy of the frame) replaces the encoder's copy; the next
    frame is still exact and only its changed band is recompressed."""
    frame = np.full((50, 9, 4), 255, dtype=np.uint8)
    encoder = base._FrameEncoder()
    kept = frame.view(np.uint32).squeeze(2).copy()
    encoder.encode(frame, keep=kept)
    assert encoder._previous is kept
    changed = frame.copy()
    changed[-1, 0, 0] = 0                    # the last, partial band
    bands = list(encoder._bands)
    _, rows = _png_parts(encoder.encode(changed, keep=changed.view(np.uint32).squeeze(2).copy()))
    last = len(bands) - 1
    assert all(a is b for a, b in zip(encoder._bands[:last], bands[:last]))
    assert encoder._bands[last] is not bands[last]
    assert rows == b"".join(b"\x00" + bytes(r) for r in changed[..., :3].reshape(50, -1))
