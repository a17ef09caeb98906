"""``lossbook release``: write exercises/ (learners' copies) from solutions/."""
from __future__ import annotations

import sys

HELP = "write exercises/ (learners' copies) from solutions/"


def register(subparsers) -> None:
    parser = subparsers.add_parser("release", help=HELP, description=HELP)
    parser.set_defaults(func=run)


def run(args) -> int:
    print("lossbook release: not available in this version yet", file=sys.stderr)
    return 2
