"""Load explorers again and again in real JupyterLab + Chromium; count blank canvases.

Issue 13: an explorer's figure sometimes stayed blank (the ipympl canvas painted one
colour, or 0 px wide) and never recovered. This script shows whether that still happens:
``--loads`` consecutive loads (default 100) cycling through every explorer of
``lossbook.explorers.FACTORIES``. Each load runs a cell that builds a new explorer; every
``--fresh-every`` loads (default 10) the notebook is opened in a new tab with a new kernel,
so the first-frame handshake of a fresh page and of a warm page are both exercised. A load
counts as blank when its canvas shows no figure ``--timeout`` seconds (default 30) after
the cell finished. Screenshots of blank loads go to ``artifacts/blank-canvas/``.

Not part of ``make test`` (it takes minutes). Exit status 1 when any load was blank.

Run: ``.venv/bin/python benchmarks/check_blank_canvas.py [--loads 100] [--fresh-every 10]``
(needs /usr/bin/chromium or $LOSSBOOK_CHROMIUM).
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
import labharness  # noqa: E402

NOTEBOOK = "blank_canvas_{}.ipynb"

_RUN_CELL_JS = """async (source) => {
  const app = window.jupyterapp;
  const panel = app.shell.currentWidget;
  const notebook = panel.content;
  notebook.activeCellIndex = 0;
  notebook.activeCell.model.sharedModel.setSource(source);
  const ok = await app.commands.execute('notebook:run-cell');
  return ok === false ? 'failed' : 'ok';
}"""

#: The canvas of the (only) explorer: its size and whether it shows more than one colour.
_CANVAS_STATE_JS = """(selector) => {
  const canvas = document.querySelector(selector);
  if (!canvas) return null;
  const ctx = canvas.getContext('2d', {willReadFrequently: true});
  if (canvas.width === 0 || canvas.height === 0) return {width: canvas.width, height: canvas.height, varied: false};
  const d = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
  let varied = false;
  for (let i = 4; i < d.length && !varied; i += 4) {
    if (d[i] !== d[0] || d[i+1] !== d[1] || d[i+2] !== d[2] || d[i+3] !== d[3]) varied = true;
  }
  // a figure has a white background and dark text: require both
  let dark = 0;
  for (let i = 0; i < d.length; i += 16) { if (d[i+3] > 200 && d[i] < 90 && d[i+1] < 90 && d[i+2] < 90) dark++; }
  return {width: canvas.width, height: canvas.height, varied: varied && dark > 20};
}"""

CANVAS_SELECTOR = ".jp-Notebook .lossbook-explorer canvas"

#: ``--trace``: record, in the page, ipympl's messages (custom messages and the state keys
#: that steer drawing), each image's src / onload (with the share of transparent pixels:
#: ~0 for a full frame, ~1 for a diff) and every resize of a canvas; printed for blank loads.
TRACE_JS = """(() => {
  const log = window.__lossbookTrace = [];
  const now = () => Math.round(performance.now());
  const kinds = new Set(['draw', 'resize', 'refresh', 'binary', 'image_mode', 'initialized', 'send_image_mode']);
  const parse = JSON.parse;
  JSON.parse = function (...args) {
    const value = parse.apply(this, args);
    try {
      if (value && typeof value === 'object') {
        if (kinds.has(value.type)) log.push([now(), 'msg', value.type, value.size || value.mode || '']);
        const data = value.data;
        if (data && data.method === 'update' && data.state) {
          for (const key of ['_image_mode', '_size']) if (key in data.state) log.push([now(), 'state', key, JSON.stringify(data.state[key])]);
        }
      }
    } catch (e) {}
    return value;
  };
  const stringify = JSON.stringify;
  JSON.stringify = function (value, ...rest) {
    try {
      const data = value && (value.data || (value.content && value.content.data));
      if (data && data.method === 'custom' && data.content && kinds.has(data.content.type)) log.push([now(), 'sent', data.content.type]);
      if (data && data.method === 'update' && data.state) log.push([now(), 'sent-state', Object.keys(data.state).join(',')]);
    } catch (e) {}
    return stringify.call(this, value, ...rest);
  };
  let images = 0;
  const src = Object.getOwnPropertyDescriptor(HTMLImageElement.prototype, 'src');
  Object.defineProperty(HTMLImageElement.prototype, 'src', {
    get() { return src.get.call(this); },
    set(v) { if (!this.__id) this.__id = ++images; if (String(v).startsWith('blob:')) log.push([now(), 'src', this.__id]); src.set.call(this, v); },
  });
  const onload = Object.getOwnPropertyDescriptor(HTMLElement.prototype, 'onload');
  Object.defineProperty(HTMLImageElement.prototype, 'onload', {
    get() { return onload.get.call(this); },
    set(handler) {
      onload.set.call(this, function (...args) {
        let clear = -1;
        try {
          const c = document.createElement('canvas'); c.width = this.width; c.height = this.height;
          const x = c.getContext('2d'); x.drawImage(this, 0, 0);
          const d = x.getImageData(0, 0, c.width, c.height).data; let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] === 0) n++;
          clear = Math.round(100 * n / (d.length / 4));
        } catch (e) {}
        log.push([now(), 'onload', this.__id, this.width + 'x' + this.height, 'transparent%=' + clear]);
        return handler.apply(this, args);
      });
    },
  });
  for (const dim of ['width', 'height']) {
    const d = Object.getOwnPropertyDescriptor(HTMLCanvasElement.prototype, dim);
    Object.defineProperty(HTMLCanvasElement.prototype, dim, {
      get() { return d.get.call(this); },
      set(v) { log.push([now(), this.isConnected ? 'view-canvas' : 'offscreen', dim, v]); d.set.call(this, v); },
    });
  }
  const setAttribute = Element.prototype.setAttribute;
  Element.prototype.setAttribute = function (name, value) {
    if (this instanceof HTMLCanvasElement && (name === 'width' || name === 'height')) log.push([now(), 'view-canvas-attr', name, value]);
    return setAttribute.call(this, name, value);
  };
})();"""


def build_notebook() -> dict:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("")])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


def wait_idle(page, timeout: float = 120.0) -> None:
    labharness.wait_for(lambda: (lambda s: s["status"] == "idle" and not s["busy"])(
        page.evaluate(labharness._KERNEL_STATUS_JS)), timeout, interval=0.1,
        message="the kernel to be idle")


def one_load(page, name: str, timeout: float, setup: str = "") -> tuple[bool, float, dict | None]:
    """Run a cell building explorer ``name``; (drawn?, seconds to first figure, canvas state)."""
    result = page.evaluate(_RUN_CELL_JS, f"{setup}\nfrom lossbook import explorers\nexplorers.{name}()")
    if result != "ok":
        raise RuntimeError(f"the cell building {name} failed")
    wait_idle(page)
    start = time.monotonic()
    state = None
    while time.monotonic() - start < timeout:
        state = page.evaluate(_CANVAS_STATE_JS, CANVAS_SELECTOR)
        if state and state["varied"]:
            return True, time.monotonic() - start, state
        time.sleep(0.05)
    return False, timeout, state


def main(argv=None) -> int:
    from lossbook import explorers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loads", type=int, default=100)
    parser.add_argument("--fresh-every", type=int, default=10,
                        help="open a new tab and kernel every N loads (default 10)")
    parser.add_argument("--timeout", type=float, default=30.0,
                        help="seconds a canvas may take to show the figure (default 30)")
    parser.add_argument("--trace", action="store_true",
                        help="record ipympl's messages and image loads; print them for blank loads")
    parser.add_argument("--trace-all", action="store_true", help="with --trace: print every load's trace")
    parser.add_argument("--setup", default="", metavar="CODE",
                        help="Python run in the kernel before each load (e.g. to try another encoder)")
    parser.add_argument("names", nargs="*", help="explorer factories (default: all, in turn)")
    args = parser.parse_args(argv)
    names = args.names or list(explorers.FACTORIES)
    chromium = labharness.chromium_path()
    if chromium is None:
        print("check_blank_canvas: Chromium not found (/usr/bin/chromium or $LOSSBOOK_CHROMIUM)",
              file=sys.stderr)
        return 2
    import nbformat
    from playwright.sync_api import sync_playwright

    shots = labharness.artifacts_dir("blank-canvas")
    blank, seconds = [], []
    with labharness.lab_server(folders=()) as server, \
            tempfile.TemporaryDirectory(prefix="lossbook-chromium-") as profile, \
            sync_playwright() as playwright:
        context = labharness.launch_chromium(playwright, profile, chromium)
        if args.trace:
            context.add_init_script(TRACE_JS)
        page = notebook = None
        try:
            for load in range(args.loads):
                if load % args.fresh_every == 0:
                    if notebook is not None:
                        notebook.close()
                        page.close()
                    path = NOTEBOOK.format(load)
                    nbformat.write(build_notebook(), server.root / path)
                    page = context.new_page()
                    notebook = labharness.LabNotebook(page, server, path, workspace=f"blank{load}").open()
                name = names[load % len(names)]
                if args.trace:
                    page.evaluate("() => { window.__lossbookTrace.length = 0; }")
                drawn, took, state = one_load(page, name, args.timeout, args.setup)
                seconds.append(took)
                status = "ok" if drawn else "BLANK"
                print(f"load {load + 1:3d} {name:<22} {status:<5} {took * 1000:7.0f} ms  {state}",
                      flush=True)
                if args.trace and args.trace_all and drawn:
                    for entry in page.evaluate("() => window.__lossbookTrace"):
                        print("    trace", *entry, flush=True)
                if not drawn:
                    blank.append((load + 1, name, state))
                    if args.trace:
                        for entry in page.evaluate("() => window.__lossbookTrace"):
                            print("    trace", *entry, flush=True)
                    page.screenshot(path=str(shots / f"load{load + 1:03d}-{name}.png"), full_page=True)
        finally:
            if notebook is not None:
                notebook.close()
            context.close()
    drawn_times = [s for s in seconds if s < args.timeout]
    print(f"\n{args.loads} explorer loads in real JupyterLab + Chromium: {len(blank)} blank canvas(es); "
          f"time from the cell's end to the first figure: median "
          f"{statistics.median(drawn_times) * 1000:.0f} ms, max {max(drawn_times) * 1000:.0f} ms"
          if drawn_times else f"\n{args.loads} loads: every canvas stayed blank")
    for load, name, state in blank:
        print(f"  blank: load {load} ({name}): {state}")
    return 1 if blank else 0


if __name__ == "__main__":
    sys.exit(main())
