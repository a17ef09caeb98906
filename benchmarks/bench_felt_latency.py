"""Felt latency in real JupyterLab: key press on a slider → changed pixels on screen.

The same set-up as the browser tests (tests/browser/labharness.py): ``jupyter lab`` from
this environment on 127.0.0.1, Debian's Chromium headless through Playwright. Each
explorer of ``lossbook.explorers.FACTORIES`` is shown alone in a notebook of its own (one
kernel, as when a learner has one lesson open); the peer is the usual ``interact`` +
inline-plot cell doing the job of the lesson 02 explorer (a line over the data, the MSE in
the title), open in its own tab for the whole run.

For each explorer: focus the first slider, press an arrow key (alternating right/left so
the value always changes), and time from the ``keydown`` event in the page to the first
animation frame whose pixels differ (explorers: a hash of the canvas' pixels; peer: a new
inline PNG decoded).

``--canvas frame,ipympl`` measures each explorer once per canvas (the ``frame`` canvas of
lossbook/explorers/frame_canvas.py, the default, and ipympl's, chosen in the kernel by
``LOSSBOOK_EXPLORER_CANVAS``), each interleaved with the same peer: before/after in one run. Presses on the explorer and on the peer alternate, so
both see the same load; each explorer's ratio is against the peer presses interleaved
with its own. Between presses the kernel is left to go quiet, so each press is measured
on its own. Median and 90th percentile over ``--presses``, with the load average
(``os.getloadavg``, 1 minute) while they were taken: on a shared machine the figures move
with the load, the ratio much less.

Goals (issue 13): every explorer's median ≥ 3× faster than the peer's in the same run,
and its 90th percentile ≤ 100 ms under load.

``--trace`` (explorers only, no peer) times each press end to end instead, with
clocks on both sides (the machine's wall clock, ms): key press → the widget's message
leaves the page → the kernel's handler starts → the frame is encoded and handed to the
kernel's socket → the frame's websocket message reaches the page → the decode starts
(ipympl: the image's ``src`` is set; frame canvas: ``createImageBitmap``) → the image is
decoded (and, for ipympl, drawn) → the first animation frame with the new pixels; median
of each step per explorer.

Run: ``.venv/bin/python benchmarks/bench_felt_latency.py [--presses 20] [--trace] [names...]``
(needs /usr/bin/chromium or $LOSSBOOK_CHROMIUM).
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import labharness  # noqa: E402

GOAL_P90_MS = 100.0
GOAL_RATIO = 3.0
NOTEBOOK = "felt_latency.ipynb"
PEER = "interact + inline plot (peer)"

PEER_SOURCE = '''\
%matplotlib inline
import matplotlib.pyplot as plt
import numpy as np
from ipywidgets import FloatSlider, interact
from lossbook import data, losses

points = data.regression_1d(n=30, slope=2.0, intercept=1.0, noise=1.0, seed=0)
grid = np.linspace(points.x.min(), points.x.max(), 2)

def show(w=0.0, b=0.0):
    fig, ax = plt.subplots(figsize=(9.6, 4.8), dpi=80)
    ax.scatter(points.x, points.y, color="#4D4D4D")
    ax.plot(grid, w * grid + b, color="#0072B2")
    ax.set_title(f"MSE = {float(losses.mse(points.y, w * points.x + b)):.4g}")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    plt.show()

interact(show, w=FloatSlider(value=0.0, min=-1.0, max=5.0, step=0.05, description="slope w"),
         b=FloatSlider(value=0.0, min=-3.0, max=5.0, step=0.05, description="intercept b"));
'''

# keydown on `handle` → first animation frame whose pixels differ. Resolves to ms or null.
_ARM_JS = """([handle, target, kind]) => {
  const hashCanvas = (canvas) => {
    const ctx = canvas.getContext('2d', {willReadFrequently: true});
    const d = new Uint32Array(ctx.getImageData(0, 0, canvas.width, canvas.height).data.buffer);
    let h = 2166136261 >>> 0;
    for (let i = 0; i < d.length; i++) {   // one word per pixel: the probe stays cheap
      h ^= d[i];
      h = Math.imul(h, 16777619) >>> 0;
    }
    return h;
  };
  // The canvas is hashed only in frames after something drew on it (ipympl paints its
  // view with drawImage/clearRect): hashing every frame cost the page 1-3 ms a frame,
  // which delayed the very decode being timed. Same answer, the first frame whose
  // pixels differ, without the probe's own load (the peer's probe is a string compare).
  if (!window.__lossbookDrawHook) {
    window.__lossbookDrawHook = true;
    const proto = CanvasRenderingContext2D.prototype;
    for (const name of ['drawImage', 'putImageData', 'clearRect', 'fillRect']) {
      const original = proto[name];
      proto[name] = function (...args) {
        if (this.canvas === window.__lossbookTarget) window.__lossbookDirty = true;
        return original.apply(this, args);
      };
    }
  }
  window.__lossbookTarget = target;
  window.__lossbookDirty = true;   // the first frame after the key press is always hashed
  const dirty = () => { if (kind !== 'canvas') return true;
                        const d = window.__lossbookDirty; window.__lossbookDirty = false; return d; };
  const state = kind === 'canvas'
      ? () => String(hashCanvas(target))
      : () => { const img = target.querySelector('img');
                return img && img.complete && img.naturalWidth > 0 ? img.src.slice(-200) + img.src.length : 'loading'; };
  const before = state();
  let t0 = null;
  handle.addEventListener('keydown', () => { t0 = performance.now(); }, {once: true, capture: true});
  window.__lossbookLatency = new Promise((resolve) => {
    const give_up = setTimeout(() => resolve(null), 15000);
    const tick = () => {
      if (t0 !== null && dirty()) {
        const now = state();
        if (now !== before && now !== 'loading') { clearTimeout(give_up); resolve(performance.now() - t0); return; }
      }
      requestAnimationFrame(tick);
    };
    requestAnimationFrame(tick);
  });
  return before;
}"""


# --trace: page side. Timestamps on the wall clock (performance.timeOrigin + now), as the
# kernel's time.time(): both run on this machine.
_TRACE_PAGE_JS = r"""(() => {
  window.__lossbookTrace = [];
  const mark = (tag, size) => window.__lossbookTrace.push([performance.timeOrigin + performance.now(), tag, size]);
  const size = (data) => typeof data === 'string' ? data.length : (data.byteLength || data.size || 0);
  const Socket = window.WebSocket;
  window.WebSocket = class extends Socket {
    constructor(...args) { super(...args); this.addEventListener('message', (e) => mark('ws_in', size(e.data))); }
    send(data) { mark('ws_out', size(data)); return super.send(data); }
  };
  document.addEventListener('keydown', () => mark('keydown', 0), true);
  const createBitmap = window.createImageBitmap;
  window.createImageBitmap = function (...args) {   // the frame canvas' decode
    mark('img_src', 0);
    return createBitmap.apply(this, args).then((bitmap) => { mark('img_drawn', 0); return bitmap; });
  };
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src');
  Object.defineProperty(HTMLImageElement.prototype, 'src', {configurable: true,
    get() { return src.get.call(this); },
    set(value) {
      if (String(value).startsWith('blob:')) {   // ipympl's frames; its onload draws first
        mark('img_src', 0);
        this.addEventListener('load', () => mark('img_drawn', 0), {once: true});
      }
      src.set.call(this, value);
    }});
})();"""

# --trace: kernel side, run in the explorer's own kernel before and after building it.
_TRACE_KERNEL_BEFORE = """\
import time as _lb_time
import ipywidgets as _lb_widgets
_lb_log = open({log!r}, "a", buffering=1)
def _lb_mark(tag):
    _lb_log.write(f"{{_lb_time.time() * 1000:.3f}} {{tag}}\\n")
_lb_handle_msg = _lb_widgets.Widget._handle_msg
def _lb_traced_handle_msg(self, msg):
    _lb_mark("kernel_in")
    _lb_handle_msg(self, msg)
_lb_widgets.Widget._handle_msg = _lb_traced_handle_msg
"""
_TRACE_KERNEL_AFTER = """\
_lb_canvas_class = type(_lb_explorer.canvas)
if hasattr(_lb_canvas_class, "send_frame"):      # the frame canvas
    # "encode" = the patch (changed rectangles, raw), "send" = its state update; the
    # whole PNG follows in a second update, after these marks (only the first counts).
    _lb_send_frame, _lb_widget = _lb_canvas_class.send_frame, _lb_explorer.canvas.widget
    _lb_send_state = _lb_widget.send_state
    def _lb_traced_send_frame(self):
        _lb_mark("encode_start")
        _lb_send_frame(self)
    def _lb_traced_send_state(key=None):
        _lb_mark("encoded")
        _lb_send_state(key)
        _lb_mark("sent")
    _lb_canvas_class.send_frame, _lb_widget.send_state = _lb_traced_send_frame, _lb_traced_send_state
else:                                            # ipympl's canvas
    _lb_encode, _lb_send = _lb_canvas_class.get_diff_image, _lb_canvas_class.send_binary
    def _lb_traced_encode(self):
        _lb_mark("encode_start")
        return _lb_encode(self)
    def _lb_traced_send(self, data):
        _lb_mark("encoded")
        _lb_send(self, data)
        _lb_mark("sent")
    _lb_canvas_class.get_diff_image, _lb_canvas_class.send_binary = _lb_traced_encode, _lb_traced_send
_lb_explorer
"""
TRACE_STEPS = (("key→kernel", "keydown", "kernel_in"), ("kernel", "kernel_in", "encode_start"),
               ("encode", "encode_start", "encoded"), ("send", "encoded", "sent"),
               ("transport", "sent", "frame_in"), ("→decode", "frame_in", "img_src"),
               ("decode", "img_src", "img_drawn"), ("→paint", "img_drawn", "painted"))


def trace_press(presser, log: Path) -> dict | None:
    """One press with both clocks: the time of each event of :data:`TRACE_STEPS` (ms)."""
    presser.page.evaluate("() => { window.__lossbookTrace = []; }")
    log.write_text("")
    elapsed = presser.press()
    time.sleep(0.3)                       # the readout and the idle status arrive after
    if elapsed is None:
        return None
    marks = {}
    page = presser.page.evaluate("() => window.__lossbookTrace")
    for stamp, tag, size in page:
        if tag == "ws_in" and size > 2000 and "frame_in" not in marks:
            marks["frame_in"] = stamp           # the frame (or patch): the first large message
        elif tag in ("keydown", "img_src", "img_drawn"):
            marks.setdefault(tag, stamp)
    for line in log.read_text().splitlines():
        stamp, tag = line.split(maxsplit=1)
        marks.setdefault(tag, float(stamp))
    if "keydown" in marks:
        marks["painted"] = marks["keydown"] + elapsed
    return marks


def print_trace(rows) -> None:
    print("\nWhere a key press goes (ms, medians; wall clocks of page and kernel)")
    print(f"{'explorer':<22} {'total':>6} " + " ".join(f"{step:>10}" for step, _, _ in TRACE_STEPS)
          + f" {'load 1m':>8}")
    for name, presses, load in rows:
        if not presses:
            print(f"{name:<22} no frame changed")
            continue
        total = statistics.median(p["painted"] - p["keydown"] for p in presses)
        cells = []
        for _, start, end in TRACE_STEPS:
            spans = [p[end] - p[start] for p in presses if start in p and end in p]
            cells.append(f"{statistics.median(spans):10.1f}" if spans else f"{'-':>10}")
        print(f"{name:<22} {total:6.0f} " + " ".join(cells) + f" {load:8.1f}")


def canvas_source(canvas: str) -> str:
    """Kernel code choosing the explorers' canvas (before lossbook draws anything)."""
    return f"import os\nos.environ['LOSSBOOK_EXPLORER_CANVAS'] = {canvas!r}\n"


def run_trace(context, server, names, presses: int, canvases) -> int:
    context.add_init_script(_TRACE_PAGE_JS)
    rows = []
    jobs = [(name, canvas) for name in names for canvas in canvases]
    for i, (name, canvas) in enumerate(jobs, start=1):
        log = server.root / f"trace_{i}.log"
        source = (_TRACE_KERNEL_BEFORE.format(log=str(log)) + canvas_source(canvas)
                  + f"from lossbook import explorers\n_lb_explorer = explorers.{name}()\n"
                  + _TRACE_KERNEL_AFTER)
        name = f"{name} [{canvas}]"
        page, notebook, presser = open_job(context, server, i, source, peer=False)
        try:
            presser.press()                  # warm-up
            traced = [m for m in (trace_press(presser, log) for _ in range(presses)) if m]
            rows.append((name, traced, os.getloadavg()[0]))
            print(f"  traced {name}", file=sys.stderr, flush=True)
        finally:
            notebook.close()
            page.close()
    print_trace(rows)
    return 0


def build_notebook(source: str) -> dict:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def wait_quiet(page, seconds: float = 0.4) -> None:
    """Wait until the kernel is idle, then a little longer (pending frames arrive)."""
    labharness.wait_for(lambda: page.evaluate(labharness._KERNEL_STATUS_JS)["status"] == "idle",
                        60, message="the kernel to be idle")
    time.sleep(seconds)


class Presser:
    """One page's slider and picture: :meth:`press` times one key press (ms, or None)."""

    def __init__(self, page, box, target, kind: str):
        self.page, self.target, self.kind = page, target, kind
        self.handle = labharness.first_slider(box)
        now = float(self.handle.get_attribute("aria-valuenow"))
        low = float(self.handle.get_attribute("aria-valuemin"))
        high = float(self.handle.get_attribute("aria-valuemax"))
        self.keys = (("ArrowRight", "ArrowLeft") if high - now >= now - low
                     else ("ArrowLeft", "ArrowRight"))
        self.count = 0

    def press(self) -> float | None:
        self.page.bring_to_front()
        self.handle.scroll_into_view_if_needed()
        self.handle.focus()
        wait_quiet(self.page)
        self.page.evaluate(_ARM_JS, [self.handle.element_handle(), self.target.element_handle(),
                                     self.kind])
        self.handle.press(self.keys[self.count % 2])
        self.count += 1
        elapsed = self.page.evaluate("() => window.__lossbookLatency")
        return None if elapsed is None else float(elapsed)


def open_job(context, server, index: int, source: str, peer: bool):
    """Open a notebook running ``source``; return ``(page, notebook, Presser)``."""
    import nbformat

    path = f"felt_{index}.ipynb"
    nbformat.write(build_notebook(source), server.root / path)
    page = context.new_page()
    notebook = labharness.LabNotebook(page, server, path, workspace=f"bench{index}").open()
    if notebook.run_all() != "ok" or notebook.errors():
        raise RuntimeError("\n".join(notebook.errors()) or "the cell did not run")
    if peer:
        box = page.locator(".jp-Notebook .widget-interact").first
        box.wait_for(state="attached")
        box.scroll_into_view_if_needed()
        labharness.wait_for(lambda: box.locator("img").count() > 0, 60, message="the inline plot")
        return page, notebook, Presser(page, box, box, "img")
    box = page.locator(".jp-Notebook .lossbook-explorer").first
    box.wait_for(state="attached")
    box.scroll_into_view_if_needed()
    target = box.locator("canvas").first
    labharness.wait_canvas_drawn(target)
    return page, notebook, Presser(page, box, target, "canvas")


def p90(values):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.9 * (len(ordered) - 1)))]


def main(argv=None) -> int:
    from lossbook import explorers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--presses", type=int, default=20)
    parser.add_argument("--trace", action="store_true",
                        help="time each step of a press, page and kernel (no peer)")
    parser.add_argument("--canvas", default="frame",
                        help="comma-separated canvases to measure: frame (default), ipympl")
    parser.add_argument("names", nargs="*", help="explorer factories (default: all)")
    args = parser.parse_args(argv)
    canvases = [c.strip() for c in args.canvas.split(",") if c.strip()]
    if not canvases or set(canvases) - {"frame", "ipympl"}:
        parser.error(f"--canvas: choose from frame, ipympl; got {args.canvas!r}")
    names = args.names or list(explorers.FACTORIES)
    unknown = set(names) - set(explorers.FACTORIES)
    if unknown:
        parser.error(f"unknown explorer(s) {sorted(unknown)}; choose from {list(explorers.FACTORIES)}")
    chromium = labharness.chromium_path()
    if chromium is None:
        print("bench_felt_latency: Chromium not found (/usr/bin/chromium or $LOSSBOOK_CHROMIUM); "
              "install it with `apt-get install chromium`", file=sys.stderr)
        return 2
    from playwright.sync_api import sync_playwright

    rows = []   # (name, explorer times, peer times interleaved with them, load before, after)
    with labharness.lab_server(folders=()) as server, \
            tempfile.TemporaryDirectory(prefix="lossbook-chromium-") as profile, \
            sync_playwright() as playwright:
        context = labharness.launch_chromium(playwright, profile, chromium)
        if args.trace:
            try:
                return run_trace(context, server, names, args.presses, canvases)
            finally:
                context.close()
        try:
            try:
                peer_page, peer_notebook, peer = open_job(context, server, 0, PEER_SOURCE, peer=True)
            except (RuntimeError, TimeoutError) as error:
                print(f"bench_felt_latency: the peer failed: {error}", file=sys.stderr)
                return 1
            peer.press()                      # warm-up (first frame, caches)
            jobs = [(name, canvas) for name in names for canvas in canvases]
            for i, (name, canvas) in enumerate(jobs, start=1):
                # One notebook (and kernel) per explorer, as a learner has one lesson open.
                source = canvas_source(canvas) + f"from lossbook import explorers\nexplorers.{name}()"
                name = f"{name} [{canvas}]" if len(canvases) > 1 else name
                try:
                    page, notebook, presser = open_job(context, server, i, source, peer=False)
                except (RuntimeError, TimeoutError) as error:
                    print(f"  {name}: {error}", file=sys.stderr, flush=True)
                    rows.append((name, [], [], os.getloadavg()[0], os.getloadavg()[0]))
                    continue
                try:
                    presser.press()           # warm-up
                    ours, theirs = [], []
                    load_before = os.getloadavg()[0]
                    for _ in range(args.presses):
                        for times, who in ((ours, presser), (theirs, peer)):
                            elapsed = who.press()
                            if elapsed is not None:
                                times.append(elapsed)
                    rows.append((name, ours, theirs, load_before, os.getloadavg()[0]))
                    print(f"  measured {name}", file=sys.stderr, flush=True)
                finally:
                    notebook.close()
                    page.close()
            peer_notebook.close()
            peer_page.close()
        finally:
            context.close()

    print(f"\nFelt latency: key press → changed pixels (ms), {args.presses} presses each, "
          "alternating with the peer's")
    print(f"goals: median ≥ {GOAL_RATIO:.0f}× faster than the peer, p90 ≤ {GOAL_P90_MS:.0f} ms")
    print(f"{'explorer':<30} {'median':>7} {'p90':>6} {'n':>3} {'peer med':>9} {'peer p90':>9} "
          f"{'peer/this':>9} {'load 1m':>9}  goals")
    failed = []
    for name, ours, theirs, load_before, load_after in rows:
        load = f"{load_before:4.1f}→{load_after:<4.1f}"
        if not ours or not theirs:
            print(f"{name:<30} {'-':>7} {'-':>6} {len(ours):3d} {'-':>9} {'-':>9} {'-':>9} {load:>9}"
                  "  no frame changed")
            failed.append(name)
            continue
        median, peer_median = statistics.median(ours), statistics.median(theirs)
        ratio = peer_median / median
        missed = [f"ratio {ratio:.1f}" if ratio < GOAL_RATIO else "",
                  f"p90 {p90(ours):.0f}" if p90(ours) > GOAL_P90_MS else ""]
        missed = ", ".join(m for m in missed if m)
        print(f"{name:<30} {median:7.0f} {p90(ours):6.0f} {len(ours):3d} {peer_median:9.0f} "
              f"{p90(theirs):9.0f} {ratio:9.1f} {load:>9}  {'MISSED ' + missed if missed else 'met'}")
        if len(ours) < args.presses // 2:
            failed.append(name)
    if failed:
        print(f"\nno pixel change seen for most presses of: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
