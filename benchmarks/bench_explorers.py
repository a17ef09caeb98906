"""Kernel-side time per explorer update, against peers measured in the same run.

For every explorer in ``lossbook.explorers.FACTORIES`` this sets a slider's ``.value``
(cycling through all its sliders and across their ranges) and measures the time until
the canvas image is ready to send, matplotlib's draw and the PNG encoding included. The
front end is simulated the way ipympl talks to it: when the kernel asks for a draw
(``draw_idle``), the "browser" answers at once with a draw request, as the real one does.
The explorers' own canvas (lossbook/explorers/frame_canvas.py, the default) needs no
answer: a frame counts as sent when it was set on the widget (whole PNG and patch).
``LOSSBOOK_EXPLORER_CANVAS=ipympl`` measures ipympl's canvas instead.

Columns (milliseconds, median and 90th percentile over the updates):

- ``update``  : the explorer as shipped (in-place artists; blitting where it has it);
- ``full``    : the same explorer, but every update does a full matplotlib redraw
  (``set_data`` + ``draw_idle``: what a plain ipympl figure does);
- ``rebuild`` : the peer ``interact`` + inline plotting pays: build the figure from
  scratch for the new state and render it to PNG.

Goal (issue 4): ``update`` median ≤ 20 ms for every explorer.

Run: ``.venv/bin/python benchmarks/bench_explorers.py [--updates 40] [names...]``
"""
from __future__ import annotations

import argparse
import copy
import io
import json
import os
import statistics
import sys
import time

GOAL_MS = 20.0


class _FakeFrontend:
    """Records what the canvas sends and answers draw requests like the browser does."""

    def __init__(self, canvas):
        self.canvas = canvas
        self.frames_seen = getattr(canvas, "frames_sent", 0)
        self.messages = []
        canvas.send = lambda content, buffers=None: self.messages.append((content, buffers))
        canvas.syncing_data_url = False  # a front end is attached: only diffs are sent

    def settle(self) -> bool:
        """Answer pending draw requests; return True when a frame was sent."""
        frame_sent = False
        if hasattr(self.canvas, "frames_sent"):        # the frame canvas: no round trip
            frame_sent = self.canvas.frames_sent > self.frames_seen
            self.frames_seen = self.canvas.frames_sent
        while self.messages:
            pending, self.messages = self.messages, []
            for content, buffers in pending:
                if buffers:
                    frame_sent = True
                elif json.loads(content.get("data", "{}")).get("type") == "draw":
                    self.canvas.handle_event({"type": "draw"})
        return frame_sent


def _load() -> str:
    try:
        return "%.1f" % os.getloadavg()[0]
    except (AttributeError, OSError):
        return "unknown"


def _sliders(explorer):
    import ipywidgets

    return [(name, control) for name, control in explorer.controls.items()
            if isinstance(control, (ipywidgets.FloatSlider, ipywidgets.IntSlider))]


def _values(control, k: int, n: int):
    """The k-th of n values sweeping the slider back and forth across its range."""
    phase = (k % n) / n
    fraction = 2 * phase if phase < 0.5 else 2 - 2 * phase
    value = control.min + fraction * (control.max - control.min)
    if control.value == value:
        value = control.min if value != control.min else control.max
    return type(control.value)(value)


def _percentiles(samples):
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(round(0.9 * (len(ordered) - 1))))]
    return 1000 * statistics.median(ordered), 1000 * p90


def measure(explorer, updates: int, full: bool):
    frontend = _FakeFrontend(explorer.canvas)
    explorer.canvas.draw()          # first frame: what the browser gets on display
    frontend.settle()
    sliders = _sliders(explorer)
    times, frames = [], 0
    for k in range(updates):
        name, control = sliders[k % len(sliders)]
        value = _values(control, k // len(sliders) * 3 + k, updates)
        if full:
            explorer.request_full_redraw()
        start = time.perf_counter()
        control.value = value
        frames += frontend.settle()
        times.append(time.perf_counter() - start)
    return times, frames


def measure_rebuild(explorer, updates: int):
    """Peer: a new figure for every state (interact + inline), rendered to PNG."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    sliders = _sliders(explorer)
    times = []
    for k in range(updates):
        name, control = sliders[k % len(sliders)]
        with explorer.hold():
            control.value = _values(control, k // len(sliders) * 3 + k, updates)
        state = explorer.state()
        start = time.perf_counter()
        peer = copy.copy(explorer)          # fresh artists go on the copy, not the explorer
        figure = peer._build_figure()
        peer._show(state)
        FigureCanvasAgg(figure)
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        times.append(time.perf_counter() - start)
    return times


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="explorers to measure (default: all)")
    parser.add_argument("--updates", type=int, default=40, help="updates per explorer")
    args = parser.parse_args(argv)

    import matplotlib

    from lossbook import explorers

    names = args.names or list(explorers.FACTORIES)
    print(f"python {sys.version.split()[0]}, matplotlib {matplotlib.__version__}, "
          f"{args.updates} updates per explorer; times in ms (median / p90); "
          f"{os.cpu_count()} CPUs, load average {_load()} at start")
    header = f"{'explorer':22} {'update':>15} {'full redraw':>15} {'rebuild':>15} " \
             f"{'rebuild/update':>15}  goal ≤{GOAL_MS:g} ms"
    print(header)
    print("-" * len(header))
    worst = 0.0
    for name in names:
        try:
            factory = getattr(explorers, name)
            fast, slow, peer = factory(), factory(), factory()
        except (ImportError, AttributeError) as error:
            print(f"{name:22} not available: {error}")
            continue
        if not _sliders(fast):
            print(f"{name:22} has no slider to move")
            continue
        update_times, frames = measure(fast, args.updates, full=False)
        full_times, _ = measure(slow, args.updates, full=True)
        rebuild_times = measure_rebuild(peer, max(10, args.updates // 2))
        u, f, r = (_percentiles(t) for t in (update_times, full_times, rebuild_times))
        worst = max(worst, u[0])
        verdict = "ok" if u[0] <= GOAL_MS else "OVER"
        if frames < args.updates:
            verdict += f" ({args.updates - frames} updates sent no frame)"
        print(f"{name:22} {u[0]:7.1f} / {u[1]:5.1f} {f[0]:7.1f} / {f[1]:5.1f} "
              f"{r[0]:7.1f} / {r[1]:5.1f} {r[0] / u[0]:14.1f}×  {verdict}")
    print(f"slowest median update: {worst:.1f} ms (goal ≤ {GOAL_MS:g} ms); "
          f"load average {_load()} at the end (other work on the machine slows every column)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
