"""Time every loss and gradient on 10⁵, 10⁶ and 10⁷ float64 elements, against PyTorch.

Peers, measured in the same run on the same arrays:

- PyTorch CPU (if installed): ``torch.nn.functional``'s loss, or the same formula in
  torch ops where there is none; for a ``*_grad`` the peer is torch's forward *plus*
  ``backward()`` (what a learner would otherwise use to get the gradient). Each torch
  figure is taken twice: on **one thread** (``torch.set_num_threads(1)``, one core
  against numpy's one core: the goal) and on two threads (printed beside it);
- scikit-learn's metric where one exists (``--sklearn``; ``mean_squared_error``,
  ``mean_absolute_error``, ``mean_pinball_loss``, ``log_loss``, ``hinge_loss``).

Each figure is the best (shortest) wall time of several calls after one warm-up, as
``timeit`` recommends: on a shared machine the longer calls measure the other
processes; the calls of lossbook and of its peers are interleaved, so that a change in
the machine's load during the run affects them alike (``--median`` prints medians). Ratios are lossbook / peer, so below 1 means
lossbook is faster. Goal (issue 13): every loss and gradient ≤ 1.5× torch on one
thread at each size, judged on the CPU time of the calling thread (one core against
one core: on a machine shared with other work, wall time also measures the others;
both are printed). lossbook's time includes its input validation (shapes, dtype,
NaN/inf, label sets); the peers validate less. The load average is printed before
and after: the machine may be shared, so compare ratios, not absolute times.

Caveats for reading the figures:

- OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE: on some processors this machine sets them to
  work around bugs in older OpenBLAS builds; they slow a current numpy's BLAS calls.
  The losses here use no BLAS, so they do not change these figures. To check a BLAS-
  heavy benchmark without them, unset both *in that command alone*
  (``env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE .venv/bin/python -m benchmarks``) and
  check which kernel runs with threadpoolctl; never change them in tests or CI.
- mse, mae, huber, hinge, squared_hinge and multiclass_hinge sum in one pass in C where
  ``lossbook.losses._fused`` was built (setup.py; the first line printed says whether it was;
  session 6 added mse, mae and multiclass_hinge: 10⁵ values, load 3, mse 0.91× → 0.50×, mae
  0.77× → 0.71×, multiclass_hinge 0.85× → 0.23× (10⁶: 0.69× → 0.19×)).
  Without it their numpy sums take two (mse) to seven passes over a cached block, each at
  its own hardware floor (subtract
  0.25–0.4, abs 0.25, minimum 0.26 ns per element, each BLAS dot 0.34–0.40), against
  torch's fused 0.6–1 ns per element: huber then misses the goal (session 4: 2.0–2.8× at
  10⁵, 1.3–1.9× at 10⁶).
- The logs and exps: numpy on this AVX2 machine calls libm for each element (its
  vectorized float64 exp/log need AVX-512), 6–30 ns an element depending on load; torch's
  are vectorized. Where ``_fused`` was built, the sums of binary_cross_entropy (+ with
  logits), focal (+ with logits), cross_entropy, softmax_cross_entropy, log_cosh and barron,
  and the gradients of bce_with_logits and softmax_cross_entropy, run in one pass in C with
  glibc's libmvec (AVX2, four elements a call: about 1.4 ns an exp against libm's 6.5 on a
  quiet core); the first line says whether libmvec was found (else libm's scalar functions,
  still one pass: ``--ab VECTOR_MATH=0`` times that mode). Session 6, load 3–6: these were
  0.2–0.75× torch on one thread at 10⁵–10⁶ in three full runs, from 0.8–1.8× with numpy
  (full run before: focal_with_logits 1.56×, barron 1.75× at 10⁵; another: focal 1.52×;
  ``--ab FUSED=0 --repeat 40`` at load 5: 0.24–0.57× against 0.65–1.35× for the numpy
  paths); in the libm mode 0.25–1.2×. Still on numpy's
  libm: log_cosh_grad (tanh), focal_grad, focal_with_logits_grad and barron_grad (0.5–0.95×:
  torch's backward pass costs more), and every ``reduction="none"``.
- Under load the ratios of one run move by ±40 % (torch's own time varies 2–5×); compare
  two versions in one process, interleaved, with many repeats (best of ≥ 25) before trusting
  a change of less than that.

Run: ``.venv/bin/python benchmarks/bench_losses.py [--sizes 1e5 1e6 1e7] [--only mse hinge]``;
``--ab ROW_BLOCKS=1`` also times lossbook with that constant of ``lossbook.losses._compute``
changed, interleaved in the same rounds (a change measured against its previous version);
``--ab VECTOR_MATH=0`` with the C extension's exp/log from libm instead of libmvec;
``--ab FUSED=0`` without the C extension (the numpy paths, as where it was not built).
"""
from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
import warnings

import numpy as np

import lossbook.losses as L

N_CLASSES = 10
GOAL = 1.5


def _time_ms(fns: dict, repeat: int) -> dict:
    """Best (or median) ms of each ``fns[name]()``: one warm-up each (first-touch page
    faults, lazy imports, torch kernel selection), then ``repeat`` rounds calling each
    once in turn. ``"torch 1"`` / ``"torch 2"`` run with torch on 1 / 2 threads.

    Returns ``{name: (wall ms, cpu ms)}``; the CPU time is that of the calling thread,
    which for single-threaded code (lossbook, torch on 1 thread) is the time it actually
    ran, whatever else the machine was doing."""
    def call(name):
        threads = _THREADS.get(name)
        if threads is not None:
            _TORCH.set_num_threads(threads)
        wall, cpu = time.perf_counter(), time.thread_time()
        fns[name]()
        return time.perf_counter() - wall, time.thread_time() - cpu

    for name in fns:
        call(name)
    times = {name: [] for name in fns}
    for _ in range(repeat):
        for name in fns:
            times[name].append(call(name))
    summary = statistics.median if _MEDIAN else min
    return {name: (1e3 * summary(w for w, _ in t), 1e3 * summary(c for _, c in t))
            for name, t in times.items()}


_TORCH = None
_MEDIAN = False


def _extension() -> str:
    from lossbook.losses import _compute
    if _compute.FUSED is None:
        return "NOT built (numpy sums)"
    return "built, exp/log from " + (
        "libmvec (AVX2)" if _compute.FUSED.vector_math() else "libm (scalar)")


def _with_setting(fn, setting):
    """``fn`` run with ``lossbook.losses._compute.<name> = value`` for ``setting =
    (name, value)`` (restored afterwards): the alternative of ``--ab``. ``VECTOR_MATH``
    switches the C extension's libmvec exp/log on or off (0: libm's scalar functions);
    ``FUSED=0`` runs without the extension (the numpy paths)."""
    from lossbook.losses import _compute
    name, value = setting

    if name == "FUSED":  # FUSED=0: without the C extension, as where it was not built
        def run_numpy():
            old = _compute.FUSED
            _compute.FUSED = None
            try:
                return fn()
            finally:
                _compute.FUSED = old
        return run_numpy

    if name == "VECTOR_MATH":
        def run_math():
            old = _compute.FUSED.vector_math(bool(value))
            try:
                return fn()
            finally:
                _compute.FUSED.vector_math(old)
        return run_math

    def run():
        old = getattr(_compute, name)
        setattr(_compute, name, value)
        try:
            return fn()
        finally:
            setattr(_compute, name, old)
    return run


def _parse_setting(text):
    from lossbook.losses import _compute
    name, _, value = text.partition("=")
    if name in ("VECTOR_MATH", "FUSED") and value in ("0", "1") and _compute.FUSED is not None:
        return name, int(value)
    if not hasattr(_compute, name) or not value:
        raise argparse.ArgumentTypeError(
            f"--ab takes NAME=VALUE with NAME a constant of lossbook.losses._compute "
            f"(e.g. ROW_BLOCKS=1), VECTOR_MATH=0 (the C extension's exp/log from libm "
            f"instead of libmvec) or FUSED=0 (without the C extension), got {text!r}")
    return name, type(getattr(_compute, name))(value)
_THREADS = {"torch 1": 1, "torch 2": 2}


def _inputs(n_elements: int, seed: int = 0) -> dict:
    g = np.random.default_rng(seed)
    n_rows = n_elements // N_CLASSES
    y01 = g.integers(0, 2, size=n_elements).astype(np.float64)
    return {
        "y": g.normal(size=n_elements),
        "pred": g.normal(scale=2.0, size=n_elements),
        "y01": y01,
        "ypm": 2.0 * y01 - 1.0,
        "prob": g.uniform(0.01, 0.99, size=n_elements),
        "logit": g.normal(scale=3.0, size=n_elements),
        "cls": g.integers(0, N_CLASSES, size=n_rows),
        "scores": g.normal(scale=2.0, size=(n_rows, N_CLASSES)),
    }


def _rows_prob(d):
    if "rows_prob" not in d:
        d["rows_prob"] = L.softmax(d["scores"])
    return d["rows_prob"]


def _sklearn_cases():
    try:
        from sklearn import metrics as M
    except ImportError:
        return {}
    return {
        "mse": lambda d: M.mean_squared_error(d["y"], d["pred"]),
        "mae": lambda d: M.mean_absolute_error(d["y"], d["pred"]),
        "quantile": lambda d: M.mean_pinball_loss(d["y"], d["pred"], alpha=0.9),
        "binary_cross_entropy": lambda d: M.log_loss(d["y01"], d["prob"]),
        "cross_entropy": lambda d: M.log_loss(d["cls"], _rows_prob(d), labels=range(N_CLASSES)),
        "hinge": lambda d: M.hinge_loss(d["ypm"], d["logit"]),
    }


def _torch_cases(torch):
    F = torch.nn.functional
    T = {}

    def t(d, key):
        cache = d.setdefault("_torch", {})
        if key not in cache:
            cache[key] = torch.from_numpy(_rows_prob(d) if key == "rows_prob" else d[key])
        return cache[key]

    def fwd_bwd(loss_of_x, key):
        def run(d):
            x = t(d, key).detach().requires_grad_()
            loss_of_x(d, x).backward()
            return x.grad
        return run

    fwd = {
        "mse": (lambda d, x: F.mse_loss(x, t(d, "y")), "pred"),
        "mae": (lambda d, x: F.l1_loss(x, t(d, "y")), "pred"),
        "huber": (lambda d, x: F.huber_loss(x, t(d, "y"), delta=1.0), "pred"),
        "log_cosh": (lambda d, x: torch.log(torch.cosh(x - t(d, "y"))).mean(), "pred"),
        "quantile": (lambda d, x: torch.maximum(0.9 * (t(d, "y") - x),
                                                -0.1 * (t(d, "y") - x)).mean(), "pred"),
        "binary_cross_entropy": (lambda d, x: F.binary_cross_entropy(x, t(d, "y01")), "prob"),
        "binary_cross_entropy_with_logits": (
            lambda d, x: F.binary_cross_entropy_with_logits(x, t(d, "y01")), "logit"),
        "cross_entropy": (lambda d, x: F.nll_loss(torch.log(x), t(d, "cls")), "rows_prob"),
        "softmax_cross_entropy": (lambda d, x: F.cross_entropy(x, t(d, "cls")), "scores"),
        "hinge": (lambda d, x: torch.clamp(1 - t(d, "ypm") * x, min=0).mean(), "logit"),
        "squared_hinge": (lambda d, x: (torch.clamp(1 - t(d, "ypm") * x, min=0) ** 2).mean(),
                          "logit"),
        "multiclass_hinge": (lambda d, x: N_CLASSES * F.multi_margin_loss(x, t(d, "cls")),
                             "scores"),
        "focal": (lambda d, x: -(t(d, "y01") * (1 - x) ** 2 * torch.log(x)
                                 + (1 - t(d, "y01")) * x ** 2 * torch.log1p(-x)).mean(), "prob"),
        "focal_with_logits": (lambda d, x: _sigmoid_focal(torch, x, t(d, "y01")).mean(), "logit"),
        "barron": (lambda d, x: (1.5 / 0.5 * (((x - t(d, "y")) ** 2 / 1.5 + 1) ** 0.25 - 1)).mean(),
                   "pred"),
    }
    for name, (loss_of_x, key) in fwd.items():
        T[name] = (lambda lf, k: lambda d: lf(d, t(d, k)))(loss_of_x, key)
        T[name + "_grad"] = fwd_bwd(loss_of_x, key)
    return T


def _sigmoid_focal(torch, inputs, targets, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss with alpha=-1 (no weighting), in torch ops."""
    p = torch.sigmoid(inputs)
    ce = torch.nn.functional.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    return ce * (1 - p_t) ** gamma


def _ours():
    return {
        "mse": lambda d: L.mse(d["y"], d["pred"]),
        "mse_grad": lambda d: L.mse_grad(d["y"], d["pred"]),
        "mae": lambda d: L.mae(d["y"], d["pred"]),
        "mae_grad": lambda d: L.mae_grad(d["y"], d["pred"]),
        "huber": lambda d: L.huber(d["y"], d["pred"]),
        "huber_grad": lambda d: L.huber_grad(d["y"], d["pred"]),
        "log_cosh": lambda d: L.log_cosh(d["y"], d["pred"]),
        "log_cosh_grad": lambda d: L.log_cosh_grad(d["y"], d["pred"]),
        "quantile": lambda d: L.quantile(d["y"], d["pred"], q=0.9),
        "quantile_grad": lambda d: L.quantile_grad(d["y"], d["pred"], q=0.9),
        "binary_cross_entropy": lambda d: L.binary_cross_entropy(d["y01"], d["prob"]),
        "binary_cross_entropy_grad": lambda d: L.binary_cross_entropy_grad(d["y01"], d["prob"]),
        "binary_cross_entropy_with_logits":
            lambda d: L.binary_cross_entropy_with_logits(d["y01"], d["logit"]),
        "binary_cross_entropy_with_logits_grad":
            lambda d: L.binary_cross_entropy_with_logits_grad(d["y01"], d["logit"]),
        "cross_entropy": lambda d: L.cross_entropy(d["cls"], _rows_prob(d)),
        "cross_entropy_grad": lambda d: L.cross_entropy_grad(d["cls"], _rows_prob(d)),
        "softmax_cross_entropy": lambda d: L.softmax_cross_entropy(d["cls"], d["scores"]),
        "softmax_cross_entropy_grad":
            lambda d: L.softmax_cross_entropy_grad(d["cls"], d["scores"]),
        "hinge": lambda d: L.hinge(d["ypm"], d["logit"]),
        "hinge_grad": lambda d: L.hinge_grad(d["ypm"], d["logit"]),
        "squared_hinge": lambda d: L.squared_hinge(d["ypm"], d["logit"]),
        "squared_hinge_grad": lambda d: L.squared_hinge_grad(d["ypm"], d["logit"]),
        "multiclass_hinge": lambda d: L.multiclass_hinge(d["cls"], d["scores"]),
        "multiclass_hinge_grad": lambda d: L.multiclass_hinge_grad(d["cls"], d["scores"]),
        "focal": lambda d: L.focal(d["y01"], d["prob"]),
        "focal_grad": lambda d: L.focal_grad(d["y01"], d["prob"]),
        "focal_with_logits": lambda d: L.focal_with_logits(d["y01"], d["logit"]),
        "focal_with_logits_grad": lambda d: L.focal_with_logits_grad(d["y01"], d["logit"]),
        "barron": lambda d: L.barron(d["y"], d["pred"], alpha=0.5),
        "barron_grad": lambda d: L.barron_grad(d["y"], d["pred"], alpha=0.5),
    }


def _fmt(ms):
    if ms is None:
        return f"{'-':>9s}"
    return f"{ms:9.3f}" if ms < 1 else f"{ms:9.2f}" if ms < 100 else f"{ms:9.1f}"


def _ratio(a, b):
    return "-" if a is None or b is None else f"{a / b:5.2f}"


def _load() -> str:
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:
        return "unknown"


def main(argv=None) -> int:
    global _TORCH
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", type=float, default=[1e5, 1e6, 1e7])
    parser.add_argument("--only", nargs="+", default=None, help="function names to run")
    parser.add_argument("--repeat", type=int, default=None,
                        help="timed calls per figure (default 15 at 1e5, 7 at 1e6, 3 at 1e7)")
    parser.add_argument("--sklearn", action="store_true", help="also time scikit-learn")
    parser.add_argument("--median", action="store_true",
                        help="print the median time instead of the best")
    parser.add_argument("--ab", type=_parse_setting, default=None, metavar="NAME=VALUE",
                        help="also time lossbook with lossbook.losses._compute.NAME = VALUE "
                             "(e.g. ROW_BLOCKS=1, the previous block size), interleaved with "
                             "the current settings and the peers; printed on a line of its own; "
                             "VECTOR_MATH=0: the C extension's exp/log from libm, not libmvec; "
                             "FUSED=0: without the C extension")
    args = parser.parse_args(argv)
    global _MEDIAN
    _MEDIAN = args.median

    try:
        import torch
    except ImportError:
        torch = None
    _TORCH = torch
    ours = _ours()
    sk = _sklearn_cases() if args.sklearn else {}
    th = _torch_cases(torch) if torch is not None else {}
    names = [n for n in ours if args.only is None or n in args.only]

    from lossbook.losses import _compute
    print(f"python {platform.python_version()}, numpy {np.__version__}, "
          f"torch {torch.__version__ if torch else 'not installed'}, cpus {os.cpu_count()}, "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}, "
          f"C sums (lossbook.losses._fused): {_extension()}")
    print(f"load average (1, 5, 15 min) before: {_load()}")
    print(f"times: {'median' if args.median else 'best'} of interleaved calls, wall ms; ratios: "
          "lossbook / peer (below 1 = lossbook faster); '÷1t cpu' compares the CPU time of "
          f"the calling thread (one core against one core); goal: ≤ {GOAL}× torch on 1 thread")
    header = (f"{'function':38s} {'n':>6s} {'lossbook':>9s} {'torch 1t':>9s} {'torch 2t':>9s}"
              f" {'÷1t':>6s} {'÷2t':>6s} {'÷1t cpu':>8s}"
              + (f" {'sklearn':>9s} {'÷sk':>6s}" if sk else "") + "  goal (cpu)")
    print(header)
    print("-" * len(header))
    misses = []
    for size in args.sizes:
        n = int(size)
        print(f"-- n = {n:.0e}, load average now: {_load()}", flush=True)
        data = _inputs(n)
        repeat = args.repeat or (15 if n <= 10**5 else 7 if n <= 10**6 else 3)
        for name in names:
            fns = {"lossbook": lambda: ours[name](data)}
            if args.ab is not None:
                fns["lossbook ab"] = _with_setting(lambda: ours[name](data), args.ab)
            if name in th:
                fns["torch 1"] = fns["torch 2"] = lambda: th[name](data)
            if name in sk:
                fns["sklearn"] = lambda: sk[name](data)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ms = _time_ms(fns, repeat)
            ours_ms, ours_cpu = ms["lossbook"]
            t1, t1_cpu = ms.get("torch 1", (None, None))
            t2 = ms.get("torch 2", (None, None))[0]
            verdict = ""
            if t1 is not None:
                verdict = "ok" if ours_cpu <= GOAL * t1_cpu else f"MISS (> {GOAL}×)"
                if verdict != "ok":
                    misses.append(f"{name}@{n:.0e} ({ours_cpu / t1_cpu:.2f}×)")
            sk_ms = ms.get("sklearn", (None,))[0]
            sk_cols = f" {_fmt(sk_ms)} {_ratio(ours_ms, sk_ms):>6s}" if sk else ""
            print(f"{name:38s} {n:6.0e} {_fmt(ours_ms)} {_fmt(t1)} {_fmt(t2)}"
                  f" {_ratio(ours_ms, t1):>6s} {_ratio(ours_ms, t2):>6s}"
                  f" {_ratio(ours_cpu, t1_cpu):>8s}{sk_cols}  {verdict}", flush=True)
            if args.ab is not None:
                ab_ms, ab_cpu = ms["lossbook ab"]
                label = f"  [{args.ab[0]}={args.ab[1]}]"
                print(f"{label:38s} {n:6.0e} {_fmt(ab_ms)} {_fmt(t1)} {_fmt(t2)}"
                      f" {_ratio(ab_ms, t1):>6s} {_ratio(ab_ms, t2):>6s}"
                      f" {_ratio(ab_cpu, t1_cpu):>8s}", flush=True)
        del data
    print(f"\nload average (1, 5, 15 min) after: {_load()}")
    if misses:
        print(f"slower than {GOAL}× torch on 1 thread (CPU time): {', '.join(misses)}")
    else:
        print(f"all within {GOAL}× torch on 1 thread" if th else
              "torch not installed: no goal check")
    return 0


if __name__ == "__main__":
    sys.exit(main())
