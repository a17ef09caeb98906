"""Grading speed: ``lossbook grade`` vs ``nbgrader autograde`` on the same batches, one run.

Batches (lesson 02, MSE; built from the course's own notebooks):

- **mixed**: 20 submissions — 10 correct, 9 wrong, 1 with an infinite loop — with a 10 s
  cell timeout (the loop alone costs 10 s: that is the floor);
- **honest**: 100 correct submissions, no timeouts: the per-submission cost.

Both tools are timed end to end as an instructor runs them (a fresh command, CLI start
included), with 2 parallel jobs for lossbook (``--jobs 2``; nbgrader has no parallel
autograde). nbgrader runs from its own virtual environment, created on first use in
``~/.cache/lossbook-bench/nbgrader-venv`` (``python -m venv`` + ``pip install nbgrader
numpy``; pass ``--no-peer`` to skip it). Its course gets the same answers and the same
hidden tests as autograded test cells (``assert`` on the same values), so both grade
the same work. lossbook grades with its full isolation (bubblewrap sandbox, fresh
kernel per submission); nbgrader with none.

Goal (issue 5): lossbook at least 3× faster than nbgrader on the mixed batch.
The machine may be shared with other work: compare the ratio, not absolute seconds.

Run: ``.venv/bin/python benchmarks/bench_grading.py [--honest 100] [--no-peer]``
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]
LESSON = "02_mse"
PEER_VENV = Path.home() / ".cache" / "lossbook-bench" / "nbgrader-venv"
GOAL = 3.0

WRONG = [
    {"mse": "def mse(y_true, y_pred):\n    return np.sum((y_pred - y_true) ** 2)\n"},
    {"mse": "def mse(y_true, y_pred):\n    return np.mean(np.abs(y_pred - y_true))\n"},
    {"mse_grad": "def mse_grad(y_true, y_pred):\n    return 2 * (y_true - y_pred) / y_pred.size\n"},
    {"mse_grad": "def mse_grad(y_true, y_pred):\n    return 2 * (y_pred - y_true)\n"},
    {"mse": "def mse(y_true, y_pred):\n    return np.mean((y_pred - y_true) ** 2) / 2\n"},
    {"mse": "def mse(y_true, y_pred):\n    return float(np.sum((y_pred - y_true) ** 2) / len(y_pred))\n"},
    {"mse_grad": "def mse_grad(y_true, y_pred):\n    return (y_pred - y_true) / y_pred.size\n"},
    {"mse": "def mse(y_true, y_pred):\n    return 0.0\n",
     "mse_grad": "def mse_grad(y_true, y_pred):\n    return np.zeros_like(y_pred)\n"},
    {"mse": "def mse(y_true, y_pred):\n    return np.mean(y_pred - y_true) ** 2\n"},
]
LOOP = {"mse": "def mse(y_true, y_pred):\n    while True:\n        pass\n"}


def _answers() -> dict[str, str]:
    from lossbook import notebook_roles as roles

    sol = nbformat.read(REPO / "solutions" / f"{LESSON}.ipynb", as_version=4)
    return {roles.exercise_of(c): roles.source_of(c) for _, c in roles.cells_with_role(sol, roles.ANSWER)}


def batches(honest: int) -> dict[str, list[dict[str, str]]]:
    correct = _answers()
    mixed = [dict(correct) for _ in range(10)] + [{**correct, **w} for w in WRONG] + [{**correct, **LOOP}]
    return {"mixed": mixed, "honest": [dict(correct) for _ in range(honest)]}


# -- lossbook ---------------------------------------------------------------------------
def write_lossbook_batch(folder: Path, answers_list: list[dict[str, str]]) -> None:
    from lossbook import notebook_roles as roles

    for index, answers in enumerate(answers_list):
        nb = nbformat.read(REPO / "exercises" / f"{LESSON}.ipynb", as_version=4)
        for _, cell in roles.cells_with_role(nb, roles.ANSWER):
            cell.source = answers[roles.exercise_of(cell)]
        (folder / f"s{index:03d}").mkdir(parents=True)
        nbformat.write(nb, folder / f"s{index:03d}" / f"{LESSON}.ipynb")


def run_lossbook(folder: Path, jobs: int, timeout: float) -> tuple[float, list[dict]]:
    out = folder.parent / "lossbook-gradebook.csv"
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "lossbook", "grade", str(folder), "--out", str(out),
                    "--jobs", str(jobs), "--timeout", str(timeout)], check=True, capture_output=True)
    seconds = time.perf_counter() - start
    import csv

    with open(out, newline="") as handle:
        return seconds, list(csv.DictReader(handle))


# -- nbgrader ---------------------------------------------------------------------------
def ensure_peer() -> Path | None:
    nbgrader = PEER_VENV / "bin" / "nbgrader"
    if nbgrader.exists():
        return nbgrader
    print(f"creating nbgrader's virtual environment in {PEER_VENV} (once)...", file=sys.stderr)
    PEER_VENV.parent.mkdir(parents=True, exist_ok=True)
    try:
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(PEER_VENV)], check=True)
        subprocess.run([sys.executable, "-m", "venv", str(PEER_VENV)], check=True)
        subprocess.run([str(PEER_VENV / "bin" / "pip"), "install", "-q", "nbgrader", "numpy"], check=True)
    except (subprocess.CalledProcessError, OSError) as error:
        print(f"nbgrader could not be installed ({error}); its side is skipped", file=sys.stderr)
        return None
    return nbgrader if nbgrader.exists() else None


def _hidden_as_asserts() -> list[tuple[str, str, int]]:
    """The hidden tests as nbgrader test cells: same calls, ``assert`` on the same printed values."""
    from lossbook import notebook_roles as roles

    sol = nbformat.read(REPO / "solutions" / f"{LESSON}.ipynb", as_version=4)
    cells = []
    for index, cell in roles.cells_with_role(sol, roles.HIDDEN_TESTS):
        expected = "".join(o.get("text", "") for o in cell.outputs)
        source = (roles.source_of(cell).replace("from lossbook.canonical import show", "import io, contextlib")
                  .replace("show(", "_show(")) + "\n"
        checker = (
            "def _canon(v):\n"
            "    v = np.asarray(v, dtype=float)\n"
            "    if v.ndim == 0:\n"
            "        t = '%.8g' % float(v)\n"
            "        return '0' if t == '-0' else t\n"
            "    return '[' + ', '.join(_canon(x) for x in v) + ']'\n"
            "_printed = []\n"
            "def _show(*values):\n"
            "    _printed.extend(_canon(v) for v in values)\n")
        test = checker + source + f"assert '\\n'.join(_printed) + '\\n' == {expected!r}\n"
        cells.append((roles.exercise_of(cell), test, int(roles.points_of(cell))))
    return cells


def write_nbgrader_course(root: Path, answers_list: list[dict[str, str]], timeout: float) -> None:
    from lossbook import notebook_roles as roles

    root.mkdir(parents=True, exist_ok=True)
    (root / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        "c.CourseDirectory.course_id = 'lossbook'\n"
        f"c.ExecutePreprocessor.timeout = {int(timeout)}\n"
        f"c.Execute.timeout = {int(timeout)}\n"
        "c.CourseDirectory.db_assignments = [dict(name='a')]\n")
    released = nbformat.read(REPO / "exercises" / f"{LESSON}.ipynb", as_version=4)
    tests = _hidden_as_asserts()

    def build(answers: dict[str, str]):
        nb = nbformat.v4.new_notebook(metadata=released.metadata)
        for cell in released.cells:
            role, exercise = roles.role_of(cell), roles.exercise_of(cell)
            if role == roles.CHECK:
                continue
            new = nbformat.v4.new_code_cell(cell.source) if cell.cell_type == "code" else \
                nbformat.v4.new_markdown_cell(cell.source)
            if role == roles.ANSWER:
                new.source = answers[exercise]
                new.metadata["nbgrader"] = {"grade": False, "solution": True, "locked": False,
                                            "grade_id": f"{exercise}-answer", "schema_version": 3}
            nb.cells.append(new)
            if role == roles.ANSWER:
                for number, (test_exercise, source, points) in enumerate(tests):
                    if test_exercise == exercise:
                        test = nbformat.v4.new_code_cell(source)
                        test.metadata["nbgrader"] = {"grade": True, "solution": False, "locked": True,
                                                     "points": points, "schema_version": 3,
                                                     "grade_id": f"{exercise}-test-{number}"}
                        nb.cells.append(test)
        return nb

    source = root / "source" / "a"
    source.mkdir(parents=True)
    nbformat.write(build(_answers()), source / f"{LESSON}.ipynb")
    for index, answers in enumerate(answers_list):
        folder = root / "submitted" / f"s{index:03d}" / "a"
        folder.mkdir(parents=True)
        nbformat.write(build(answers), folder / f"{LESSON}.ipynb")


def run_nbgrader(nbgrader: Path, root: Path) -> tuple[float, dict[str, float]]:
    env = {**os.environ, "PATH": f"{nbgrader.parent}:{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    subprocess.run([str(nbgrader), "generate_assignment", "a", "--force"], cwd=root, env=env, check=True,
                   capture_output=True)
    start = time.perf_counter()
    subprocess.run([str(nbgrader), "autograde", "a", "--force"], cwd=root, env=env, check=True,
                   capture_output=True)
    seconds = time.perf_counter() - start
    exported = root / "grades.csv"
    subprocess.run([str(nbgrader), "export", "--to", str(exported)], cwd=root, env=env, check=True,
                   capture_output=True)
    import csv

    with open(exported, newline="") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    return seconds, scores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--honest", type=int, default=100, help="size of the honest batch (default 100)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--no-peer", action="store_true", help="skip nbgrader")
    args = parser.parse_args(argv)
    nbgrader = None if args.no_peer else ensure_peer()
    print(f"grading benchmark: lesson {LESSON}, --jobs {args.jobs}, cell timeout {args.timeout:g} s, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}")
    rows = []
    for name, answers_list in batches(args.honest).items():
        work = Path(tempfile.mkdtemp(prefix=f"lossbook-bench-{name}-"))
        try:
            subs = work / "lossbook"
            write_lossbook_batch(subs, answers_list)
            ours, book = run_lossbook(subs, args.jobs, args.timeout)
            total = sum(float(r["total"]) for r in book)
            peer, peer_total = None, None
            if nbgrader is not None:
                write_nbgrader_course(work / "nbgrader", answers_list, args.timeout)
                try:
                    peer, scores = run_nbgrader(nbgrader, work / "nbgrader")
                    peer_total = sum(scores.values())
                except subprocess.CalledProcessError as error:
                    print(f"nbgrader failed: {error.stderr.decode()[-2000:]}", file=sys.stderr)
            rows.append((name, len(answers_list), ours, total, peer, peer_total))
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print(f"{'batch':8} {'n':>4} {'lossbook s':>11} {'per sub':>8} {'points':>7} "
          f"{'nbgrader s':>11} {'per sub':>8} {'points':>7} {'speed-up':>9}")
    for name, n, ours, total, peer, peer_total in rows:
        peer_text = f"{peer:11.1f} {peer / n:8.2f} {peer_total:7g}" if peer is not None else f"{'—':>11} {'—':>8} {'—':>7}"
        ratio = f"{peer / ours:8.1f}×" if peer is not None else f"{'—':>9}"
        print(f"{name:8} {n:4d} {ours:11.1f} {ours / n:8.2f} {total:7g} {peer_text} {ratio}")
    if nbgrader is None:
        print("nbgrader side skipped: lossbook's figures only")
    print(f"goal: lossbook ≥ {GOAL:g}× faster than nbgrader on the mixed batch")
    return 0


if __name__ == "__main__":
    sys.exit(main())
