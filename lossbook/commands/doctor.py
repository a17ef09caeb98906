"""``lossbook doctor``: check that JupyterLab, widgets and plots will work, and say how to fix them."""
from __future__ import annotations

import sys

HELP = "check that JupyterLab, widgets and plots will work, and say how to fix them"


def register(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help=HELP, description=HELP)
    parser.set_defaults(func=run)


def run(args) -> int:
    print("lossbook doctor: not available in this version yet", file=sys.stderr)
    return 2
