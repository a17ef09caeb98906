"""The explorers' canvas view (lossbook/explorers/frame_canvas.js) in real Chromium, with
the message order forced: it must always end up showing exactly the kernel's last frame.

The ES module is loaded into a blank page with a stand-in for the widget model (``get``,
``on``, ``off`` and a ``deliver`` that applies one kernel state update as Backbone does:
every key first, then one ``change:<key>`` event per key). ``createImageBitmap`` is
wrapped so that a test decides when a whole-frame decode finishes: the blank-canvas race
of issue 13 was a frame arriving while another was still being decoded. The frames are
real: a matplotlib figure on a :class:`lossbook.explorers.frame_canvas.FrameCanvas`.
"""
from __future__ import annotations

import base64

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
pytest.importorskip("anywidget")

from lossbook.explorers import frame_canvas  # noqa: E402

pytestmark = pytest.mark.browser

_SETUP_JS = """async (source) => {
  const realDecode = window.createImageBitmap.bind(window);
  window.decodes = { started: 0, held: [], hold: false };
  window.createImageBitmap = (blob) => {
    window.decodes.started++;
    const result = realDecode(blob);
    if (!window.decodes.hold) return result;
    return new Promise((resolve) => window.decodes.held.push(() => resolve(result)));
  };
  window.releaseDecodes = async () => {
    const held = window.decodes.held.splice(0);
    for (const release of held) release();
    for (let i = 0; i < 20; i++) await new Promise((r) => setTimeout(r, 10));
  };
  const url = URL.createObjectURL(new Blob([source], { type: 'text/javascript' }));
  window.view = (await import(url)).default;
  window.makeModel = () => {
    const state = {}, handlers = {};
    return {
      get: (key) => state[key],
      on: (event, f) => { (handlers[event] = handlers[event] || []).push(f); },
      off: (event, f) => { handlers[event] = (handlers[event] || []).filter((g) => g !== f); },
      deliver(update) {
        for (const [key, value] of Object.entries(update)) state[key] = value;
        for (const key of Object.keys(update)) for (const f of handlers['change:' + key] || []) f();
      },
    };
  };
  window.models = [];
  window.views = [];
}"""

# One kernel update as the widget manager hands it over: bytes become DataViews.
_DELIVER_JS = """([index, update]) => {
  const bytes = (b64) => { const a = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
                           return new DataView(a.buffer); };
  const decoded = { ...update };
  for (const key of ['frame', 'patch']) if (key in decoded) decoded[key] = bytes(decoded[key]);
  window.models[index].deliver(decoded);
}"""

_NEW_VIEW_JS = """(index) => {
  const el = document.createElement('div');
  document.body.appendChild(el);
  window.view.render({ model: window.models[index], el });
  window.views.push(el);
  return window.views.length - 1;
}"""

_PIXELS_JS = """(which) => {
  const canvas = window.views[which].querySelector('canvas');
  const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  let s = ''; for (let i = 0; i < data.length; i += 8192) s += String.fromCharCode(...data.subarray(i, i + 8192));
  return { width: canvas.width, height: canvas.height, role: canvas.getAttribute('role'),
           label: canvas.getAttribute('aria-label'), pixels: btoa(s) };
}"""


class Kernel:
    """A figure on a FrameCanvas; :meth:`frame` moves its dot and returns the update."""

    def __init__(self):
        from matplotlib.figure import Figure

        self.figure = Figure(figsize=(4, 3), dpi=60)
        ax = self.figure.add_subplot()
        ax.set(xlim=(-3, 3), ylim=(-1, 10), title="r²", xlabel="r", ylabel="loss")
        r = np.linspace(-3, 3, 61)
        ax.plot(r, r**2)
        (self.dot,) = ax.plot([0], [0], "o", markersize=12)
        self.canvas = frame_canvas.FrameCanvas(self.figure, alt="A parabola with a dot.")
        self.canvas.draw()

    def state(self) -> dict:
        w = self.canvas.widget
        return {"width": w.width, "height": w.height, "alt": w.alt, "seq": w.seq,
                "frame_seq": w.frame_seq, "frame": base64.b64encode(bytes(w.frame)).decode(),
                "patch": base64.b64encode(bytes(w.patch)).decode(),
                "patch_rects": w.patch_rects}

    def frame(self, r: float) -> tuple[dict, dict]:
        """The two updates of one frame, as the kernel sends them: the patch, then the PNG."""
        self.dot.set_data([r], [r * r])
        self.canvas.draw()
        state = self.state()
        return ({k: state[k] for k in ("patch", "patch_rects", "seq")},
                {k: state[k] for k in ("frame", "frame_seq")})

    def picture(self) -> np.ndarray:
        return np.asarray(self.canvas.get_renderer().buffer_rgba())


@pytest.fixture
def blank(page):
    page.set_content("<!doctype html><html><body></body></html>")
    page.evaluate(_SETUP_JS, frame_canvas.ESM.read_text())
    page.evaluate("() => window.models.push(window.makeModel())")
    return page


def shown(page, view: int) -> np.ndarray:
    got = page.evaluate(_PIXELS_JS, view)
    return np.frombuffer(base64.b64decode(got["pixels"]), np.uint8).reshape(got["height"], got["width"], 4)


def settle(page):
    page.evaluate("() => window.releaseDecodes()")


def deliver(page, updates, model: int = 0):
    for update in updates:
        page.evaluate(_DELIVER_JS, [model, update])


def shown_kernel(page):
    """A kernel and a view of it that has drawn its first frame: ``(kernel, view)``."""
    kernel = Kernel()
    page.evaluate(_DELIVER_JS, [0, kernel.state()])
    view = page.evaluate(_NEW_VIEW_JS, 0)
    settle(page)
    return kernel, view


def test_a_new_view_shows_the_kernels_frame_with_its_accessible_name(blank):
    kernel, view = shown_kernel(blank)
    np.testing.assert_array_equal(shown(blank, view), kernel.picture())
    got = blank.evaluate(_PIXELS_JS, view)
    assert got["role"] == "img" and got["label"] == "A parabola with a dot."


def test_patches_are_painted_at_once_without_a_decode(blank):
    kernel, view = shown_kernel(blank)
    decodes = blank.evaluate("() => window.decodes.started")
    for r in (-2.0, 1.5, 2.5, -0.5):
        patch, whole = kernel.frame(r)
        deliver(blank, [patch])
        # no settle(), no PNG yet: a patch is painted in the task that delivered it
        np.testing.assert_array_equal(shown(blank, view), kernel.picture())
        deliver(blank, [whole])
    assert blank.evaluate("() => window.decodes.started") == decodes


def test_frames_arriving_while_the_first_frame_decodes_never_leave_it_blank_or_stale(blank):
    """The race of issue 13, forced: the view's first whole frame is still decoding when
    two more frames arrive. Their patches must not be painted on the empty canvas; once
    the decode finishes the view catches up with a whole frame of the newest state."""
    kernel = Kernel()
    blank.evaluate(_DELIVER_JS, [0, kernel.state()])
    blank.evaluate("() => { window.decodes.hold = true; }")
    view = blank.evaluate(_NEW_VIEW_JS, 0)
    for r in (-2.0, 2.0):
        deliver(blank, kernel.frame(r))
    assert not shown(blank, view)[..., 3].any(), "nothing may be painted before the decode"
    blank.evaluate("() => { window.decodes.hold = false; }")
    settle(blank)
    np.testing.assert_array_equal(shown(blank, view), kernel.picture())


def test_a_missed_frame_is_repaired_with_a_whole_frame(blank):
    kernel, view = shown_kernel(blank)
    kernel.frame(-2.0)                                  # never delivered to the page
    patch, whole = kernel.frame(2.5)
    deliver(blank, [patch])
    settle(blank)          # a patch against a frame the view never had: not painted
    assert blank.evaluate("() => window.decodes.started") == 1
    deliver(blank, [whole])
    settle(blank)
    np.testing.assert_array_equal(shown(blank, view), kernel.picture())


def test_a_second_view_opened_later_shows_the_same_frame(blank):
    kernel, first = shown_kernel(blank)
    for r in (1.0, -1.5):
        deliver(blank, kernel.frame(r))
    second = blank.evaluate(_NEW_VIEW_JS, 0)
    deliver(blank, kernel.frame(0.5))                    # arrives while the second decodes
    patch, whole = kernel.frame(-1.0)
    deliver(blank, [patch])
    third = blank.evaluate(_NEW_VIEW_JS, 0)             # between a patch and its PNG
    settle(blank)
    deliver(blank, [whole])
    settle(blank)
    for view in (first, second, third):
        np.testing.assert_array_equal(shown(blank, view), kernel.picture())
