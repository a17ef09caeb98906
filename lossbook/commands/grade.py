"""``lossbook grade``: grade a folder of learners' notebooks into a gradebook."""
from __future__ import annotations

import sys

HELP = "grade a folder of learners' notebooks into a gradebook"


def register(subparsers) -> None:
    parser = subparsers.add_parser("grade", help=HELP, description=HELP)
    parser.set_defaults(func=run)


def run(args) -> int:
    print("lossbook grade: not available in this version yet", file=sys.stderr)
    return 2
