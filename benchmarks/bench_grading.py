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

Goals (issue 13): lossbook at least 10× faster than nbgrader on the honest batch and 4×
on the mixed batch, with the same isolation (kernels forked by the fork server,
``lossbook/grading/forkserver.py``, where the grader runs as root with bubblewrap). Beside
the wall-clock figures each tool's CPU time per submission is printed: the CPU of the
command and of every process it started (kernels, sandboxes, the fork server's template,
nbgrader's kernels), counted by a control group made for each run (cgroup v1
``cpuacct`` or v2 ``cpu.stat``; the last line says which). Where none can be made (not
root) it falls back to ``getrusage`` of the waited-for descendants, a lower bound that
misses most kernels: a forked kernel is reaped inside its sandbox and a killed bwrap tree
by the machine's init (before session 6 that was the only measure: it showed about 40 %
of lossbook's real CPU). CPU depends less than wall time on what else the machine is
doing, but under load it grows too (caches, frequency). And lossbook once more with
``LOSSBOOK_FORKSERVER=0`` (one bwrap and one cold Python per kernel, the path before the
fork server) unless ``--no-plain``. The machine may be shared with other work: compare the
ratios, not absolute seconds; the load average is printed beside every run.

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
GOALS = {"honest": 10.0, "mixed": 4.0}

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


def _children_cpu() -> float:
    import resource

    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _cpu_group() -> tuple[Path, str] | None:
    """A fresh control group that counts the CPU of everything run in it, with the file
    to read (cgroup v1 ``cpuacct``, else v2 ``cpu.stat``), or ``None`` where this process
    may not make one (then CPU is counted with ``getrusage``: a lower bound)."""
    name = f"lossbook-bench-{os.getpid()}-{time.monotonic_ns()}"
    for parent, counter, marker in ((Path("/sys/fs/cgroup/cpuacct"), "cpuacct.usage", "cpuacct.usage"),
                                    (Path("/sys/fs/cgroup"), "cpu.stat", "cgroup.controllers")):
        if not (parent / marker).exists():
            continue
        try:
            (parent / name).mkdir()
        except OSError:
            continue
        if (parent / name / counter).exists():
            return parent / name, counter
        (parent / name).rmdir()
    return None


def _group_cpu(group: Path, counter: str) -> float:
    text = (group / counter).read_text()
    if counter == "cpuacct.usage":
        return int(text) / 1e9
    return int(dict(line.split() for line in text.splitlines())["usage_usec"]) / 1e6


CPU_MEASURE = ["getrusage"]  # what the last run's CPU figure counted (printed with the results)


def timed(command: list[str], **kwargs) -> tuple[float, float, float]:
    """Run ``command``: (wall seconds, CPU seconds of it and every process it started, load average).

    The CPU is counted by a control group made for the run (every descendant, also those
    it does not wait for: lossbook's forked kernels are reaped inside their sandboxes,
    so ``getrusage`` misses them); where no group can be made, by ``getrusage`` (its
    waited-for descendants only: a lower bound).
    """
    load = os.getloadavg()[0]
    group = _cpu_group()
    if group is not None:
        command = ["/bin/sh", "-c", f'echo $$ > "{group[0]}/cgroup.procs" && exec "$@"', "bench", *command]
    cpu, start = _children_cpu(), time.perf_counter()
    try:
        subprocess.run(command, check=True, capture_output=True, **kwargs)
        seconds = time.perf_counter() - start
        if group is not None:
            CPU_MEASURE[0] = "control group"
            cpu = _group_cpu(*group)
        else:
            CPU_MEASURE[0] = "getrusage (lower bound)"
            cpu = _children_cpu() - cpu
    finally:
        if group is not None:
            from lossbook.grading.cgroups import remove

            remove(group[0])
    return seconds, cpu, (load + os.getloadavg()[0]) / 2


def run_lossbook(folder: Path, jobs: int, timeout: float, forkserver: bool = True):
    """(wall s, CPU s, load average, gradebook rows) of ``lossbook grade`` on ``folder``."""
    out = folder.parent / "lossbook-gradebook.csv"
    out.unlink(missing_ok=True)
    env = {**os.environ, "LOSSBOOK_FORKSERVER": "1" if forkserver else "0"}
    seconds, cpu, load = timed([sys.executable, "-m", "lossbook", "grade", str(folder), "--out", str(out),
                                "--jobs", str(jobs), "--timeout", str(timeout)], env=env)
    import csv

    with open(out, newline="") as handle:
        return seconds, cpu, load, list(csv.DictReader(handle))


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


def run_nbgrader(nbgrader: Path, root: Path):
    """(wall s, CPU s, load average, scores) of ``nbgrader autograde``."""
    env = {**os.environ, "PATH": f"{nbgrader.parent}:{os.environ.get('PATH', '')}"}
    env.pop("PYTHONPATH", None)
    subprocess.run([str(nbgrader), "generate_assignment", "a", "--force"], cwd=root, env=env, check=True,
                   capture_output=True)
    seconds, cpu, load = timed([str(nbgrader), "autograde", "a", "--force"], cwd=root, env=env)
    exported = root / "grades.csv"
    subprocess.run([str(nbgrader), "export", "--to", str(exported)], cwd=root, env=env, check=True,
                   capture_output=True)
    import csv

    with open(exported, newline="") as handle:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    return seconds, cpu, load, scores


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--honest", type=int, default=100, help="size of the honest batch (default 100)")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=10.0)
    parser.add_argument("--no-peer", action="store_true", help="skip nbgrader")
    parser.add_argument("--no-plain", action="store_true", help="skip lossbook without the fork server")
    parser.add_argument("--only", choices=["honest", "mixed"], help="one batch only")
    args = parser.parse_args(argv)
    nbgrader = None if args.no_peer else ensure_peer()
    print(f"grading benchmark: lesson {LESSON}, --jobs {args.jobs}, cell timeout {args.timeout:g} s, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}", flush=True)
    rows = []
    for name, answers_list in batches(args.honest).items():
        if args.only and name != args.only:
            continue
        work = Path(tempfile.mkdtemp(prefix=f"lossbook-bench-{name}-"))
        n = len(answers_list)
        try:
            subs = work / "lossbook"
            write_lossbook_batch(subs, answers_list)
            # Interleaved: lossbook, nbgrader, lossbook without the fork server.
            seconds, cpu, load, book = run_lossbook(subs, args.jobs, args.timeout)
            rows.append((name, n, "lossbook", seconds, cpu, load, sum(float(r["total"]) for r in book)))
            print(_line(*rows[-1]), flush=True)
            if nbgrader is not None:
                write_nbgrader_course(work / "nbgrader", answers_list, args.timeout)
                try:
                    seconds, cpu, load, scores = run_nbgrader(nbgrader, work / "nbgrader")
                    rows.append((name, n, "nbgrader", seconds, cpu, load, sum(scores.values())))
                    print(_line(*rows[-1]), flush=True)
                except subprocess.CalledProcessError as error:
                    print(f"nbgrader failed: {error.stderr.decode()[-2000:]}", file=sys.stderr)
            if not args.no_plain:
                seconds, cpu, load, book = run_lossbook(subs, args.jobs, args.timeout, forkserver=False)
                rows.append((name, n, "lossbook-plain", seconds, cpu, load, sum(float(r["total"]) for r in book)))
                print(_line(*rows[-1]), flush=True)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    print()
    print(f"{'batch':8} {'n':>4} {'tool':15} {'wall s':>7} {'per sub':>8} {'CPU/sub':>8} {'load':>5} {'points':>7}")
    for row in rows:
        print(_line(*row))
    print()
    by = {(r[0], r[2]): r for r in rows}
    for name in ("honest", "mixed"):
        ours, peer, plain = by.get((name, "lossbook")), by.get((name, "nbgrader")), by.get((name, "lossbook-plain"))
        if ours and peer:
            print(f"{name}: lossbook {peer[3] / ours[3]:.1f}× faster than nbgrader (wall; goal ≥ {GOALS[name]:g}×), "
                  f"{peer[4] / ours[4]:.1f}× less CPU per submission")
        if ours and plain:
            print(f"{name}: the fork server makes lossbook {plain[3] / ours[3]:.1f}× faster (wall) than one bwrap "
                  "+ cold Python per kernel (plain's CPU column misses its killed kernels: not compared)")
    print(f"CPU counted by {CPU_MEASURE[0]}")
    if nbgrader is None:
        print("nbgrader side skipped: lossbook's figures only")
    return 0


def _line(name, n, tool, seconds, cpu, load, points) -> str:
    return (f"{name:8} {n:4d} {tool:15} {seconds:7.1f} {seconds / n:8.3f} {cpu / n:8.3f} {load:5.1f} "
            f"{points:7g}")


if __name__ == "__main__":
    sys.exit(main())
