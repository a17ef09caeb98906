"""How long ``import lossbook`` takes, against ``import numpy``, in fresh processes.

Each figure is the median over RUNS fresh interpreters of the time the import
statement itself takes (measured inside the child, so interpreter start-up is left
out; the start-up is printed too, for scale). Goal (issue 2): ``import lossbook``
≤ 1.2× ``import numpy``. ``import lossbook`` loads nothing heavy (the learner API and
sub-packages load on first use); ``import lossbook.losses`` (the math) needs numpy,
so its figure is the one that has to stay close to numpy's.

It also checks that none of matplotlib, ipywidgets, scipy, IPython is imported by
``import lossbook`` or by the math layer, and exits non-zero if one is.

With ``PYTHONDONTWRITEBYTECODE`` set (as on the development machine of session 6) no
``.pyc`` is written, so lossbook's modules are compiled at every import while numpy's
come precompiled from its wheel: ``import lossbook.losses`` then measured 1.17–1.31×
numpy (load 2–3), and 0.97–1.08× in the same hour with bytecode cached
(``env -u PYTHONDONTWRITEBYTECODE PYTHONPYCACHEPREFIX=/tmp/pyc``), as an installed course
has it. The first line printed says which. (The C extension's look-up of libmvec at
import costs about 0.2 ms.)

Run: ``.venv/bin/python benchmarks/bench_import.py [--runs 15]``
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys

GOAL = 1.2
HEAVY = ["matplotlib", "ipywidgets", "scipy", "IPython"]
STATEMENTS = {
    "nothing (interpreter start-up)": "pass",
    "import numpy": "import numpy",
    "import lossbook": "import lossbook",
    "import lossbook.losses": "import lossbook.losses",
    "import lossbook.losses, .regularization, .gradcheck":
        "import lossbook.losses, lossbook.regularization, lossbook.gradcheck",
}


def _child(statement: str) -> dict:
    code = (
        "import time, sys, json\n"
        "t = time.perf_counter()\n"
        f"{statement}\n"
        "t = time.perf_counter() - t\n"
        f"print(json.dumps({{'s': t, 'heavy': [m for m in {HEAVY!r} if m in sys.modules]}}))\n"
    )
    start = __import__("time").perf_counter()
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    result = json.loads(out)
    result["wall"] = __import__("time").perf_counter() - start
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args(argv)

    results = {}
    # Interleave the statements so that a burst of load on a shared machine hits all alike.
    samples = {label: [] for label in STATEMENTS}
    for _ in range(args.runs):
        for label, statement in STATEMENTS.items():
            samples[label].append(_child(statement))
    for label, runs in samples.items():
        results[label] = {
            "ms": 1e3 * statistics.median(r["s"] for r in runs),
            "wall": 1e3 * statistics.median(r["wall"] for r in runs),
            "heavy": sorted({m for r in runs for m in r["heavy"]}),
        }

    numpy_ms = results["import numpy"]["ms"]
    print(f"python {sys.version.split()[0]}; median of {args.runs} fresh processes each; "
          f"goal: import lossbook ≤ {GOAL}× import numpy; bytecode "
          + ("NOT cached (PYTHONDONTWRITEBYTECODE): lossbook compiled at every import"
             if sys.dont_write_bytecode else "cached"))
    header = f"{'statement':55s} {'import ms':>9s} {'process ms':>10s} {'÷numpy':>7s}  heavy modules loaded"
    print(header)
    print("-" * len(header))
    bad = False
    for label, r in results.items():
        ratio = "" if label.startswith("nothing") else f"{r['ms'] / numpy_ms:7.2f}"
        heavy = ", ".join(r["heavy"]) or "none"
        if label != "import numpy" and r["heavy"]:
            bad = True
        print(f"{label:55s} {r['ms']:9.1f} {r['wall']:10.1f} {ratio:>7s}  {heavy}")
    lossbook_ratio = results["import lossbook"]["ms"] / numpy_ms
    math_ratio = results["import lossbook.losses"]["ms"] / numpy_ms
    print(f"\nimport lossbook: {lossbook_ratio:.2f}× numpy "
          f"({'ok' if lossbook_ratio <= GOAL else 'MISS'}); "
          f"import lossbook.losses: {math_ratio:.2f}× numpy "
          f"({'ok' if math_ratio <= GOAL else 'MISS'})")
    if bad:
        print("ERROR: a heavy module (" + ", ".join(HEAVY) + ") was imported")
        return 1
    print("none of " + ", ".join(HEAVY) + " imported by import lossbook or the math layer")
    return 0


if __name__ == "__main__":
    sys.exit(main())
