"""Run every ``benchmarks/bench_*.py`` (or the ones named) and print their tables.

Usage: ``python -m benchmarks [NAME ...]`` where NAME is a script name with or without
the ``bench_`` prefix and ``.py`` suffix (``losses``, ``bench_import``). Each script
runs in a fresh interpreter from the repository root, so one cannot warm the caches or
the imports of the next. The exit code is non-zero if a script failed.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def discover(names=()) -> list[Path]:
    scripts = sorted(HERE.glob("bench_*.py"))
    if not names:
        return scripts
    wanted = {n.removesuffix(".py").removeprefix("bench_") for n in names}
    chosen = [s for s in scripts if s.stem.removeprefix("bench_") in wanted]
    unknown = wanted - {s.stem.removeprefix("bench_") for s in chosen}
    if unknown:
        available = ", ".join(s.stem.removeprefix("bench_") for s in scripts)
        raise SystemExit(f"benchmarks: no benchmark named {', '.join(sorted(unknown))}; "
                         f"available: {available}")
    return chosen


def main(argv=None) -> int:
    names = sys.argv[1:] if argv is None else argv
    if any(n in ("-h", "--help") for n in names):
        print(__doc__)
        return 0
    failed = []
    for script in discover(names):
        print(f"\n=== {script.stem} ===", flush=True)
        start = time.perf_counter()
        code = subprocess.run([sys.executable, str(script)], cwd=HERE.parent).returncode
        print(f"=== {script.stem}: exit {code}, {time.perf_counter() - start:.0f} s ===",
              flush=True)
        if code:
            failed.append(script.stem)
    if failed:
        print(f"\nfailed: {', '.join(failed)}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
