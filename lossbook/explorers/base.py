"""The base class every explorer derives from, and small helpers for controls.

An explorer is a figure built once, a few keyboard-operable controls, and a live text
readout. Moving a control calls :meth:`Explorer.update`, which asks the subclass for the
numbers of the new state (computed with the ``lossbook`` math), puts them on the existing
artists in place, rewrites the readout and asks the canvas to redraw (``draw_idle``).
Nothing is rebuilt, so an update costs one matplotlib draw.

Writing an explorer
-------------------
Subclass :class:`Explorer` and implement five hooks; the base class does the rest
(canvas, readout widget, layout, observers, display)::

    import numpy as np
    from lossbook import losses
    from lossbook.explorers.base import Explorer, float_slider, fmt
    from lossbook.figures import style


    class SquaredError(Explorer):
        title = "Squared error of one prediction"
        instructions = "Move the prediction; the loss is (y - ŷ)²."

        def _build_controls(self):
            return {"y_pred": float_slider("prediction ŷ", 0.5, -3.0, 3.0, 0.05)}

        def _build_figure(self):
            fig, ax = style.new_figure(figsize=(6, 4), dpi=style.EXPLORER_DPI)
            r = np.linspace(-4, 4, 201)
            with style.course_style():
                ax.plot(r, r**2, **style.LOSS_STYLES["mse"].line())
                (self._dot,) = ax.plot([0], [0], **style.LOSS_STYLES["mse"].points())
            style.label_axes(ax, title=self.title, xlabel="residual", ylabel="loss")
            return fig

        def state(self):
            y_pred = self.controls["y_pred"].value
            loss = float(losses.mse([1.0], [y_pred]))
            return {"y_pred": y_pred, "residual": 1.0 - y_pred, "loss": loss}

        def _show(self, s):                       # artists only, in place
            self._dot.set_data([s["residual"]], [s["loss"]])

        def _readout_lines(self, s):              # plain text, one number per line
            return [f"prediction ŷ = {fmt(s['y_pred'])}", f"loss = {fmt(s['loss'])}"]

        def _changing_artists(self):              # optional: enables blitting
            return [self._dot]


    def squared_error():                          # the factory the notebooks call
        return SquaredError()

Rules the tests hold every explorer to: controls are ``FloatSlider`` / ``IntSlider`` /
``Dropdown`` / ``Checkbox`` made with the helpers below (keyboard-operable,
``continuous_update=True``, a readable ``description``); ``_show`` never creates or
removes figures or axes; every number in the readout comes from ``state()`` formatted
with :func:`fmt`, so a test can rebuild the expected text from the ``lossbook`` math.
Use :meth:`Explorer.hold` to change several controls with a single redraw.

Fast redraws (blitting)
-----------------------
A full matplotlib draw re-renders every tick label and costs tens of milliseconds on a
slow machine. If ``_changing_artists()`` lists the artists that ``_show`` modifies, the
base class marks them animated, keeps a copy of everything else (captured on every full
draw) and, on an update, pastes that background, draws only those artists and sends the
frame at once (:mod:`lossbook.explorers.frame_canvas`; on ipympl's canvas always a whole
frame: see :func:`_fast_canvas_class` for why no "diff" frames). Until the first full
draw has happened (ipympl: no front end yet), or when
``_show`` changed something else and called :meth:`Explorer.request_full_redraw`, the
update falls back to ``canvas.draw_idle()``. Everything not listed must stay unchanged
after the figure is built.
"""
from __future__ import annotations

import html
import math
from contextlib import contextmanager

import ipywidgets as widgets

__all__ = ["Explorer", "attach_canvas", "float_slider", "int_slider", "dropdown",
           "checkbox", "fmt"]

_CONTROL_LAYOUT = {"width": "400px"}
_CONTROL_STYLE = {"description_width": "120px"}


def fmt(value, digits: int = 4) -> str:
    """Format a number for a readout: ``digits`` significant digits, honest about inf/nan.

    >>> fmt(0.123456), fmt(1234567.0), fmt(float("inf")), fmt(float("nan")), fmt(-0.0)
    ('0.1235', '1.235e+06', 'inf', 'nan', '0')
    """
    value = float(value)
    if math.isnan(value):
        return "nan"
    if math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if value == 0:
        return "0"
    return f"{value:.{digits}g}"


def float_slider(description: str, value: float, min: float, max: float, step: float,
                 readout_format: str = ".2f") -> widgets.FloatSlider:
    """A keyboard-operable float slider (arrow keys move it by ``step``)."""
    return widgets.FloatSlider(value=value, min=min, max=max, step=step,
                               description=description, readout_format=readout_format,
                               continuous_update=True, layout=dict(_CONTROL_LAYOUT),
                               style=dict(_CONTROL_STYLE))


def int_slider(description: str, value: int, min: int, max: int,
               step: int = 1) -> widgets.IntSlider:
    """A keyboard-operable integer slider."""
    return widgets.IntSlider(value=value, min=min, max=max, step=step,
                             description=description, continuous_update=True,
                             layout=dict(_CONTROL_LAYOUT), style=dict(_CONTROL_STYLE))


def dropdown(description: str, options, value) -> widgets.Dropdown:
    """A drop-down (a native ``<select>``: arrow keys change it)."""
    return widgets.Dropdown(options=options, value=value, description=description,
                            layout=dict(_CONTROL_LAYOUT), style=dict(_CONTROL_STYLE))


def checkbox(description: str, value: bool) -> widgets.Checkbox:
    """A checkbox (space toggles it)."""
    return widgets.Checkbox(value=value, description=description, indent=False,
                            layout=dict(_CONTROL_LAYOUT))


class _ImageCanvas:
    """Stand-in when ipympl is not installed: an Agg canvas shown as an ``Image`` widget.

    Same calls as the ipympl canvas for what the explorers use (``draw``,
    ``draw_idle``); each draw re-renders the PNG into ``self.widget``.
    """

    def __init__(self, figure):
        from matplotlib.backends.backend_agg import FigureCanvasAgg

        self._agg = FigureCanvasAgg(figure)
        self.figure = figure
        self.widget = widgets.Image(format="png")

    def draw(self):
        import io

        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png")
        self.widget.value = buffer.getvalue()

    draw_idle = draw

    def __getattr__(self, name):
        return getattr(self._agg, name)


def _png_chunk(tag: bytes, body: bytes) -> bytes:
    import struct
    import zlib

    return struct.pack(">I", len(body)) + tag + body + struct.pack(">I", zlib.crc32(tag + body))


def _png(width: int, height: int, channels: int, idat: bytes) -> bytes:
    """A PNG of 8-bit RGB (``channels`` 3) or RGBA (4) pixels around its zlib stream."""
    import struct

    colour_type = {3: 2, 4: 6}[channels]
    header = struct.pack(">IIBBBBB", width, height, 8, colour_type, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def _png_rgba(pixels) -> bytes:
    """Encode an (h, w, 4) uint8 array as a PNG: no row filters, zlib level 1.

    A figure is mostly flat colour, for which this is several times faster than PIL's
    encoder (zlib level 6, adaptive row filters) at a similar size.
    """
    import zlib

    import numpy as np

    height, width, _ = pixels.shape
    rows = np.zeros((height, width * 4 + 1), dtype=np.uint8)  # byte 0 of a row: filter 0
    rows[:, 1:] = pixels.reshape(height, width * 4)
    return _png(width, height, 4, zlib.compress(memoryview(rows), 1))


class _FrameEncoder:
    """Whole frames as PNG, recompressing only the bands of rows that changed.

    An update of an explorer changes a few artists, so most rows of a frame are the same
    as in the previous frame. The zlib stream of a frame is cut into bands of
    :attr:`BAND` rows, each compressed on its own (a full flush after each resets the
    compressor, so no band refers to another's bytes); a band whose pixels did not change
    keeps its compressed bytes from the previous frame. The frame is still one complete
    PNG (a zlib header, the bands, a final empty block and the Adler-32 of all rows), so
    the browser needs nothing but a picture. An opaque frame (a figure's usual white
    face) is sent as RGB: a quarter fewer bytes to compress, carry and decode.
    """

    BAND = 16
    _ZLIB_HEADER = b"\x78\x01"    # deflate, 32 KiB window, fastest; (0x7801 % 31 == 0)
    _FINAL_BLOCK = b"\x03\x00"    # an empty, final, fixed-Huffman block

    def __init__(self):
        self._key = None          # (height, width, channels) the caches are for
        self._previous = None     # the last frame's pixels, one uint32 per pixel
        self._rows = None         # the last frame's PNG rows (a filter byte, then pixels)
        self._bands = []          # each band's compressed bytes
        self._checksums = []      # each band's Adler-32 (of its PNG rows)

    def encode(self, pixels, keep=None) -> bytes:
        """The PNG of ``pixels`` ((h, w, 4) uint8 RGBA, C-contiguous, as Agg renders).

        ``keep``, if given, is a copy of ``pixels`` (as (h, w) uint32) that the caller
        will not change: the encoder compares the next frame with it instead of making
        its own copy.
        """
        import struct
        import sys
        import zlib

        import numpy as np
        from PIL import Image

        height, width, _ = pixels.shape
        current = pixels.view(np.uint32).reshape(height, width)
        alpha = 0xFF000000 if sys.byteorder == "little" else 0x000000FF
        channels = 3 if int(np.bitwise_and.reduce(current, axis=None)) & alpha == alpha else 4
        n_bands = -(-height // self.BAND)
        if self._key != (height, width, channels):
            self._key = (height, width, channels)
            self._rows = np.zeros((height, 1 + width * channels), dtype=np.uint8)
            self._bands = [None] * n_bands
            self._checksums = [1] * n_bands
            changed = range(n_bands)
        else:
            differs = (current != self._previous).any(axis=1)
            changed = np.flatnonzero(np.logical_or.reduceat(differs, np.arange(0, height, self.BAND)))
        compressor = zlib.compressobj(1, zlib.DEFLATED, -15)
        for band in changed:
            rows = slice(band * self.BAND, min(height, (band + 1) * self.BAND))
            block = pixels[rows]
            if channels == 3:   # Pillow drops the alpha bytes several times faster than numpy
                block = Image.frombuffer("RGBA", (width, block.shape[0]), memoryview(block),
                                         "raw", "RGBA", 0, 1).tobytes("raw", "RGB")
                block = np.frombuffer(block, dtype=np.uint8)
            self._rows[rows, 1:] = block.reshape(-1, width * channels)
            band_rows = memoryview(self._rows[rows])
            self._bands[band] = compressor.compress(band_rows) + compressor.flush(zlib.Z_FULL_FLUSH)
            self._checksums[band] = zlib.adler32(band_rows)
        self._previous = (keep if keep is not None and keep.shape == (height, width)
                          else current.copy())
        checksum, band_length = self._checksums[0], self._rows[:self.BAND].nbytes
        for band in range(1, n_bands):
            length = band_length if band < n_bands - 1 else self._rows[band * self.BAND:].nbytes
            checksum = _adler32_combine(checksum, self._checksums[band], length)
        idat = b"".join([self._ZLIB_HEADER, *self._bands, self._FINAL_BLOCK,
                         struct.pack(">I", checksum)])
        return _png(width, height, channels, idat)


def _adler32_combine(first: int, second: int, second_length: int) -> int:
    """The Adler-32 of ``A + B`` from those of ``A`` and ``B`` (zlib's adler32_combine).

    Adler-32 is ``(s2 << 16) | s1`` with ``s1 = 1 + Σ bytes`` and ``s2 = Σ s1 after each
    byte``, both mod 65521: appending ``B`` (length n) adds ``s1(B) - 1`` to ``s1`` and
    ``n·s1(A) + s2(B) - n`` to ``s2``. Lets a frame reuse the checksums of bands that did
    not change instead of summing every row again (0.8 ms a frame).
    """
    base = 65521
    s1_a, s2_a = first & 0xFFFF, first >> 16
    s1_b, s2_b = second & 0xFFFF, second >> 16
    n = second_length % base
    s1 = (s1_a + s1_b - 1) % base
    s2 = (s2_a + n * s1_a + s2_b - n) % base
    return (s2 << 16) | s1


_FAST_CANVAS = {}


def _fast_canvas_class(canvas_class):
    """ipympl's canvas, sending every frame whole and encoding it cheaply.

    matplotlib's ``get_diff_image`` sends a frame of only the pixels that changed since
    the previous frame ("diff" mode) whenever it can. ipympl's front end cannot take
    that safely: it shows a frame by setting ``image.src``, so a frame that arrives while
    the previous one is still being decoded *replaces* it, and the previous one is never
    drawn; and it decides whether to clear the canvas from ``_image_mode`` when the image
    has loaded, not when it was sent. When the frame lost is the first full frame after
    the canvas was (re)sized, which happens whenever the kernel sends two frames in a row
    (a draw request answered, then a blit or a second draw), the browser paints only the
    changes onto an empty canvas: the figure stays blank until something forces a full
    frame (issue 13). A lost diff leaves stale pixels in the same way.

    Here every frame is a full, self-contained picture (``_image_mode`` stays "full"),
    so whichever frames the browser drops, the one it draws last is the right one.
    :class:`_FrameEncoder` keeps the encoding of a whole frame cheap. The rest is matplotlib's
    ``FigureCanvasWebAggCore.get_diff_image`` (tests/explorers/test_base.py fails if
    those internals change).
    """
    if canvas_class not in _FAST_CANVAS:
        import numpy as np

        def get_diff_image(self):
            if not self._png_is_old:
                return None
            pixels = np.asarray(self.get_renderer().buffer_rgba())
            self.set_image_mode("full")
            # ipympl's send_binary encodes _last_buff for the notebook file until the
            # front end is there (syncing_data_url): keep the frame as matplotlib does.
            self._last_buff = pixels.view(np.uint32).squeeze(2).copy()
            self._force_full = False
            self._png_is_old = False
            encoder = self.__dict__.get("_lossbook_encoder")
            if encoder is None:
                encoder = self.__dict__["_lossbook_encoder"] = _FrameEncoder()
            # _last_buff is only ever replaced, never written into: the encoder can keep it.
            return encoder.encode(pixels, keep=self._last_buff)

        _FAST_CANVAS[canvas_class] = type("Canvas", (canvas_class,),
                                          {"get_diff_image": get_diff_image,
                                           "__module__": canvas_class.__module__})
    return _FAST_CANVAS[canvas_class]


def attach_canvas(figure, alt: str = "", *, first_frame: bool = True):
    """Give ``figure`` a canvas without touching pyplot; return ``(canvas, widget)``.

    The canvas is a :class:`lossbook.explorers.frame_canvas.FrameCanvas` (its widget's
    accessible name is ``alt``) unless anywidget is missing or the environment variable
    ``LOSSBOOK_EXPLORER_CANVAS`` is ``ipympl`` (what benchmarks/bench_felt_latency.py
    compares against); then it is ipympl's, as below. The frame canvas draws its first
    frame at once unless ``first_frame`` is False (an explorer's ``update()`` draws it).

    The canvas gets a figure manager (ipympl sends images through it) that is *not*
    registered with pyplot, so nothing global changes. Header, footer and toolbar are
    hidden and resizing is off: an explorer's figure has a fixed size. Without ipympl,
    the figure is rendered by Agg into an ``ipywidgets.Image`` instead.
    """
    import os

    if os.environ.get("LOSSBOOK_EXPLORER_CANVAS", "frame") == "frame":
        try:
            from lossbook.explorers.frame_canvas import FrameCanvas
            canvas = FrameCanvas(figure, alt=alt)
            if first_frame:
                canvas.draw()
            return canvas, canvas.widget
        except ImportError:
            pass
    try:
        from ipympl.backend_nbagg import Canvas, FigureManager
    except ImportError:
        canvas = _ImageCanvas(figure)
        return canvas, canvas.widget
    import warnings

    canvas = _fast_canvas_class(Canvas)(figure)
    with warnings.catch_warnings():
        # ipympl 0.10's Toolbar passes the canvas on to traitlets, which warns; harmless.
        warnings.filterwarnings("ignore", "Passing unrecognized arguments",
                                DeprecationWarning)
        FigureManager(canvas, 0)  # sets canvas.manager; draw() sends frames through it
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.toolbar_visible = False
    canvas.resizable = False
    canvas.capture_scroll = False
    return canvas, canvas


def _freeze_layout(figure) -> None:
    """Run the constrained layout once, then keep it: layout on every draw costs time.

    An explorer's axes keep their places after that; explorers that change an axis'
    limits (rarely) keep the space the first layout gave the tick labels.
    """
    engine = figure.get_layout_engine()
    if engine is not None and type(engine).__name__ != "PlaceHolderLayoutEngine":
        figure.draw_without_rendering()
        figure.set_layout_engine("none")


class Explorer:
    """Base class of the course's explorers (see the module docstring for a subclass).

    Attributes
    ----------
    controls : dict[str, ipywidgets.Widget]
        The controls, by name; setting ``.value`` triggers :meth:`update`.
    figure : matplotlib.figure.Figure
        Built once by ``_build_figure``; updates change its artists in place.
    canvas : lossbook.explorers.frame_canvas.FrameCanvas
        The figure's Agg canvas; ``canvas.widget`` is what the page shows (see
        :mod:`lossbook.explorers.frame_canvas`). Without anywidget, or with
        ``LOSSBOOK_EXPLORER_CANVAS=ipympl``: ipympl's canvas (an Agg/Image stand-in
        without ipympl either).
    readout : ipywidgets.HTML
        The live text readout (CSS class ``lossbook-readout``, ``aria-live="polite"``).
    readout_text : str
        The readout as plain text, one line per number.
    widget : ipywidgets.Box
        Everything laid out together (CSS class ``lossbook-explorer``).
    """

    #: Heading above the explorer (also names the readout for screen readers).
    title: str = ""
    #: One or two sentences telling the learner what to try.
    instructions: str = ""
    #: The figure's description for screen readers (the canvas' accessible name).
    alt_text: str = ""

    def __init__(self):
        self._holding = False
        self._pending = False
        self.controls: dict[str, widgets.Widget] = dict(self._build_controls())
        self._check_controls()
        self.figure = self._build_figure()
        self.canvas, canvas_widget = attach_canvas(self.figure, self.alt_text or self.title,
                                                   first_frame=False)
        _freeze_layout(self.figure)
        self._background = None
        self._background_renderer = None
        self._full_redraw = False
        self._animated = [] if isinstance(self.canvas, _ImageCanvas) else list(
            self._changing_artists())
        for artist in self._animated:
            artist.set_animated(True)
        if self._animated:
            self.canvas.mpl_connect("draw_event", self._on_full_draw)
        self.readout = widgets.HTML(layout={"min_width": "300px"})
        self.readout.add_class("lossbook-readout")
        self.readout_text = ""
        header = widgets.HTML(
            f"<h3 style='margin:0.2em 0'>{html.escape(self.title)}</h3>"
            + (f"<p style='margin:0.2em 0'>{html.escape(self.instructions)}</p>"
               if self.instructions else ""))
        side = widgets.VBox([*self.controls.values(), self.readout],
                            layout={"min_width": "400px", "padding": "0 0 0 8px"})
        body = widgets.HBox([canvas_widget, side],
                            layout={"flex_flow": "row wrap", "align_items": "flex-start"})
        self.widget = widgets.VBox([header, body])
        self.widget.add_class("lossbook-explorer")
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        self.update()

    # -- hooks for subclasses -------------------------------------------------------
    def _build_controls(self) -> dict:
        """Return the controls, by name (use the helpers of this module)."""
        raise NotImplementedError(f"{type(self).__name__} must define _build_controls()")

    def _build_figure(self):
        """Build the figure once, keep handles to the artists that change, return it."""
        raise NotImplementedError(f"{type(self).__name__} must define _build_figure()")

    def state(self) -> dict:
        """The key numbers for the current control values, from the ``lossbook`` math."""
        raise NotImplementedError(f"{type(self).__name__} must define state()")

    def _show(self, state: dict) -> None:
        """Put ``state`` on the existing artists (``set_data`` etc.); create nothing."""
        raise NotImplementedError(f"{type(self).__name__} must define _show(state)")

    def _readout_lines(self, state: dict) -> list[str]:
        """The readout as lines of plain text, numbers formatted with :func:`fmt`."""
        raise NotImplementedError(f"{type(self).__name__} must define _readout_lines(state)")

    def _changing_artists(self) -> list:
        """The artists ``_show`` changes; listing them turns on blitting (optional)."""
        return []

    def request_full_redraw(self) -> None:
        """Call from ``_show`` when something outside ``_changing_artists()`` changed."""
        self._full_redraw = True

    # -- machinery ------------------------------------------------------------------
    def _check_controls(self) -> None:
        for name, control in self.controls.items():
            if not isinstance(control, widgets.ValueWidget):
                raise TypeError(f"{type(self).__name__}.controls[{name!r}] is a "
                                f"{type(control).__name__}; controls must be value widgets "
                                "(use float_slider, int_slider, dropdown or checkbox).")

    def _on_change(self, _change=None) -> None:
        if self._holding:
            self._pending = True
        else:
            self.update()

    @contextmanager
    def hold(self):
        """Change several controls and redraw once, at the end of the ``with`` block."""
        self._holding, self._pending = True, False
        try:
            yield self
        finally:
            self._holding = False
            if self._pending:
                self.update()

    def update(self) -> None:
        """Recompute the state, update artists and readout in place, redraw.

        The redraw is a blit of the changing artists when a background is available,
        otherwise ``canvas.draw_idle()`` (see "Fast redraws" in the module docstring).
        """
        state = self.state()
        self._show(state)
        # The frame first: a blit sends it now, and the readout's message queued ahead
        # of it would delay it through the kernel's and the server's queues.
        self._redraw()
        lines = self._readout_lines(state)
        self.readout_text = "\n".join(lines)
        body = "".join(f"<div>{html.escape(line)}</div>" for line in lines)
        self.readout.value = (
            "<div role='status' aria-live='polite' "
            f"aria-label='{html.escape(self.title)}: readout' "
            "style='font-family:monospace;font-size:15px;line-height:1.5'>"
            f"{body}</div>")

    def _on_full_draw(self, event) -> None:
        """After a full draw: keep the background, then draw the changing artists on it."""
        renderer = event.renderer
        if renderer is self.canvas.get_renderer():
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._background_renderer = renderer
        for artist in self._animated:
            artist.draw(renderer)

    def _redraw(self) -> None:
        """Blit the changing artists over the saved background, else ``draw_idle``."""
        full, self._full_redraw = self._full_redraw, False
        if (full or self._background is None
                or self.canvas.get_renderer() is not self._background_renderer):
            self.canvas.draw_idle()
            return
        self.canvas.restore_region(self._background)
        for artist in self._animated:
            self.figure.draw_artist(artist)
        self.canvas.blit(self.figure.bbox)  # ipympl: sends the changed pixels now

    def _ipython_display_(self, **kwargs):
        from IPython.display import display

        display(self.widget)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} explorer: {self.readout_text!r}>"
