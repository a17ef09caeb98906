"""``lossbook doctor``: check that JupyterLab, widgets and plots will work, and say how to fix them.

Exit status: 0 when everything is in place, 1 when at least one problem was found.
"""
from __future__ import annotations

HELP = "check that JupyterLab, widgets and plots will work, and say how to fix them"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "doctor", help=HELP, description=HELP + ": package versions, the lab extensions "
        "JupyterLab loads, the kernel the notebooks run in, ipympl's backend, the progress "
        "store. Exit status 1 when something is wrong.")
    parser.set_defaults(func=run)


def run(args) -> int:
    from lossbook import doctor

    findings = doctor.diagnose()
    print(doctor.report(findings))
    return 0 if all(f.ok for f in findings) else 1
