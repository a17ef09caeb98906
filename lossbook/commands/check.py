"""``lossbook check NOTEBOOK``: run a notebook's visible checks before handing it in.

Runs the learner's notebook top to bottom in a fresh kernel of this Python environment
(their own code, on their own machine: no sandbox), in the notebook's folder, and prints
the result of every check cell (the same text ``check`` shows in JupyterLab). The
notebook file is not modified. Exit status: 0 when every check passed, 1 when one did
not (or its cell raised), 2 when the notebook cannot be read or has no check cells.

Pass or fail comes from each check cell's ``CheckResult.status``
(:class:`lossbook.status.CheckStatus`), read in the kernel after the notebook has run
(a last cell, added to the in-memory copy only, reports the status of every
``CheckResult`` in IPython's ``Out`` by execution count), never from its text. A check
cell that shows no ``CheckResult`` (it raised, or was edited to print one) has not passed.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HELP = "run a notebook's visible checks before handing it in"
#: The line the status-reporting cell prints before its JSON.
STATUS_MARKER = "lossbook-check-statuses:"
#: Run after the notebook: {execution count: status} of every CheckResult in ``Out``.
STATUS_PROBE = f"""\
def _lossbook_check_statuses():
    try:
        from lossbook.exercises.feedback import CheckResult
    except ImportError:
        return {{}}
    return {{str(n): str(v.status) for n, v in dict(Out).items() if isinstance(v, CheckResult)}}
print({STATUS_MARKER!r}, __import__("json").dumps(_lossbook_check_statuses()))
del _lossbook_check_statuses
"""


def register(subparsers) -> None:
    parser = subparsers.add_parser("check", help=HELP, description=HELP + " (the file is not modified)")
    parser.add_argument("notebook", type=Path, metavar="NOTEBOOK", help="your exercise notebook (.ipynb)")
    parser.add_argument("--timeout", type=float, default=120.0, metavar="S",
                        help="seconds per cell before it is stopped (default 120)")
    parser.set_defaults(func=run)


def _text(outputs) -> str:
    parts = []
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            parts.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
        elif kind == "error":
            parts.append(f"{out.get('ename')}: {out.get('evalue')}")
    return "".join(p if p.endswith("\n") else p + "\n" for p in parts if p).rstrip("\n")


def reported_statuses(outputs) -> dict[int, str]:
    """``{execution count: status}`` from the outputs of :data:`STATUS_PROBE` (``{}``: none)."""
    import json

    for out in outputs:
        if out.get("output_type") != "stream" or out.get("name") != "stdout":
            continue
        for line in out.get("text", "").splitlines():
            if line.startswith(STATUS_MARKER):
                try:
                    found = json.loads(line[len(STATUS_MARKER):])
                    return {int(count): status for count, status in found.items()}
                except (ValueError, AttributeError):
                    return {}
    return {}


def run(args) -> int:
    from lossbook.commands.grade import skip_slow_optional_imports

    skip_slow_optional_imports()
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError, DeadKernelError
    from nbval.kernel import CURRENT_ENV_KERNEL_NAME, NbvalKernelspecManager

    from lossbook import notebook_roles as roles
    from lossbook.status import CheckStatus

    path = args.notebook
    try:
        nb = nbformat.read(path, as_version=4)
    except FileNotFoundError:
        print(f"lossbook check: no such file: {path}", file=sys.stderr)
        return 2
    except Exception as error:  # noqa: BLE001 - nbformat raises many types
        print(f"lossbook check: {path} is not a readable notebook ({error})", file=sys.stderr)
        return 2
    checks = roles.cells_with_role(nb, roles.CHECK)
    if not checks:
        print(f"lossbook check: {path} has no check cells (cells with lossbook role \"check\"); "
              "is it one of the course's exercise notebooks?", file=sys.stderr)
        return 2
    probe = nbformat.v4.new_code_cell(STATUS_PROBE)
    nb.cells.append(probe)  # the in-memory copy only: the file is never written
    km = KernelManager(kernel_name=CURRENT_ENV_KERNEL_NAME, kernel_spec_manager=NbvalKernelspecManager())
    client = NotebookClient(nb, km=km, timeout=int(args.timeout), allow_errors=True,
                            resources={"metadata": {"path": str(path.resolve().parent)}})
    stopped = None
    try:
        client.execute(stderr=subprocess.DEVNULL)  # the kernel's own warnings are noise here
    except CellTimeoutError:
        stopped = f"a cell ran longer than {args.timeout:g} s and was stopped"
    except DeadKernelError:
        stopped = "the kernel died (sys.exit, os._exit or a crash in the notebook)"
    all_passed = stopped is None
    statuses = reported_statuses(probe.get("outputs", []))
    for index, cell in checks:
        exercise = roles.exercise_of(cell) or "?"
        text = _text(cell.get("outputs", [])) or "(not run)"
        passed = statuses.get(cell.get("execution_count")) == CheckStatus.PASSED
        all_passed &= passed
        print(f"── {exercise} " + "─" * max(0, 60 - len(exercise)))
        print(text)
    if stopped:
        print(f"\nstopped early: {stopped}")
    print("\nall checks passed: ready to hand in" if all_passed else
          "\nsome checks did not pass yet: see above, and try hint(\"<exercise>\") in the notebook")
    return 0 if all_passed else 1
