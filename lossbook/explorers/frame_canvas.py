"""An explorer's canvas: Agg renders, a small anywidget shows whole PNG frames.

Why not ipympl's canvas (issue 13)? Its front end shows a frame by setting an ``<img>``'s
``src`` to a blob URL, waits for the load, draws the image onto a ``<canvas>`` and then
calls ``toDataURL`` on every frame: about 23 ms of a 60 ms key press. And its canvas size
is negotiated with the kernel (initialise → resize → draw request), a handshake that once
left explorers blank. An explorer needs none of the interactive toolbar, so:

- :class:`FrameCanvas` is matplotlib's Agg canvas. ``draw()`` (and so ``draw_idle()``)
  renders and sends the frame at once; ``blit()`` sends the blitted buffer. No draw
  request travels to the browser and back.
- Every frame goes out as two widget state updates (``hold_sync``). First ``patch`` and
  ``patch_rects``, the raw RGBA pixels of the rectangles that changed since frame
  ``seq - 1`` (None: no patch, take the whole frame), and ``seq``, the frame's number;
  then ``frame``, the whole frame as a PNG (:class:`lossbook.explorers.base._FrameEncoder`:
  only the 16-row bands that changed are recompressed), and ``frame_seq``, its number.
  The PNG (up to ~40 ms for a frame where most bands changed, on a loaded machine) is
  encoded after the patch has left, off the key press's path.
- A view that shows frame ``seq - 1`` paints the patch with ``putImageData`` in the same
  task that received the message: no decode, nothing to wait for (a PNG decode waits
  behind whatever else the page's main thread has queued, 20-30 ms in JupyterLab). Any
  other view (new: a second output, a page reload, a reconnect, Voilà, an HTML export
  with widget state; or one that missed a frame) decodes the whole ``frame`` the model
  holds, with ``createImageBitmap``, and takes patches again from the next frame on.
- The view (``frame_canvas.js``) has the figure's size in pixels, fixed: there is no
  resize handshake. A patch is only ever painted on the frame it was computed against,
  and anything else gets a whole frame, so no ordering of messages can leave it blank.
- The ``<canvas>`` has ``role="img"`` and the figure's alt text as its accessible name.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg

__all__ = ["FrameCanvas", "FrameCanvasWidget", "ESM"]

#: The view's ES module, shipped as package data.
ESM = Path(__file__).with_name("frame_canvas.js")

_WIDGET_CLASS = None


def _widget_class():
    """:class:`FrameCanvasWidget`, defined on first use (anywidget loads ipywidgets)."""
    global _WIDGET_CLASS
    if _WIDGET_CLASS is None:
        import anywidget
        import traitlets

        class FrameCanvasWidget(anywidget.AnyWidget):
            """The browser side of a :class:`FrameCanvas`: a fixed-size ``<canvas>``."""

            _esm = ESM
            width = traitlets.Int(0).tag(sync=True)
            height = traitlets.Int(0).tag(sync=True)
            alt = traitlets.Unicode("").tag(sync=True)
            frame = traitlets.Bytes(b"").tag(sync=True)
            patch = traitlets.Bytes(b"").tag(sync=True)
            patch_rects = traitlets.List(None, allow_none=True).tag(sync=True)
            seq = traitlets.Int(0).tag(sync=True)
            frame_seq = traitlets.Int(0).tag(sync=True)

        FrameCanvasWidget.__module__ = __name__
        _WIDGET_CLASS = FrameCanvasWidget
    return _WIDGET_CLASS


def __getattr__(name):
    if name == "FrameCanvasWidget":
        return _widget_class()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


class FrameCanvas(FigureCanvasAgg):
    """Agg canvas whose every draw or blit puts the whole frame on :attr:`widget`.

    Attributes
    ----------
    widget : FrameCanvasWidget
        The ipywidget to lay out (``width``/``height`` in pixels, ``alt``, ``frame``).
    frames_sent : int
        How many frames were handed to the widget.
    """

    def __init__(self, figure, *, alt: str = ""):
        from lossbook.explorers.base import _FrameEncoder

        super().__init__(figure)
        width, height = (int(round(v)) for v in figure.bbox.size)
        self.widget = _widget_class()(width=width, height=height, alt=alt)
        self.widget.add_class("lossbook-canvas")
        self._encoder = _FrameEncoder()
        self._previous = None        # the last frame's pixels, one uint32 each
        self.frames_sent = 0

    def draw(self):
        """Render the whole figure (draw events fire: explorers keep their background),
        then send the frame."""
        super().draw()
        self.send_frame()

    def blit(self, bbox=None):
        """The renderer's buffer already holds the blitted artists: send it."""
        self.send_frame()

    def send_frame(self) -> None:
        """Encode the renderer's buffer as a whole PNG and set it on the widget."""
        pixels = np.asarray(self.get_renderer().buffer_rgba())
        keep = pixels.view(np.uint32).squeeze(2).copy()
        rects = changed_rects(self._previous, keep)
        patch = b"".join(pixels[y:y + h, x:x + w].tobytes() for x, y, w, h in rects or ())
        self._previous = keep
        with self.widget.hold_sync():      # the patch first: what open views paint now
            self.widget.width, self.widget.height = pixels.shape[1], pixels.shape[0]
            self.widget.patch = patch
            self.widget.patch_rects = rects
            self.widget.seq += 1
        png = self._encoder.encode(pixels, keep=keep)
        with self.widget.hold_sync():      # then the whole frame, for any other view
            self.widget.frame = png
            self.widget.frame_seq = self.widget.seq
        self.frames_sent += 1


def changed_rects(previous, current, band: int = 16, gap: int = 48) -> list:
    """Rectangles ``[x, y, width, height]`` covering every pixel that differs.

    Rows are taken in bands of ``band``; in each band that changed, the changed columns
    are split wherever more than ``gap`` unchanged columns separate them (two panels of
    one figure changing give two rectangles, not one across both), each run one
    rectangle. ``previous`` None or of another shape: None (no patch: a view must take
    the whole frame).
    """
    height, _ = current.shape
    if previous is None or previous.shape != current.shape:
        return None
    differs = current != previous
    rows = differs.any(axis=1)
    rects = []
    for top in np.flatnonzero(np.logical_or.reduceat(rows, np.arange(0, height, band))) * band:
        columns = np.flatnonzero(differs[top:top + band].any(axis=0))
        breaks = np.flatnonzero(np.diff(columns) > gap + 1)
        starts = np.concatenate(([columns[0]], columns[breaks + 1]))
        ends = np.concatenate((columns[breaks], [columns[-1]]))
        rows_here = int(min(band, height - top))
        rects.extend([int(x0), int(top), int(x1 - x0 + 1), rows_here]
                     for x0, x1 in zip(starts, ends))
    return rects
