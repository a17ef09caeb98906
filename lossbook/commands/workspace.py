"""``lossbook workspace``: copy exercises/ into your own workspace/ (never overwrites)."""
from __future__ import annotations

import sys

HELP = "copy exercises/ into your own workspace/ (never overwrites)"


def register(subparsers) -> None:
    parser = subparsers.add_parser("workspace", help=HELP, description=HELP)
    parser.set_defaults(func=run)


def run(args) -> int:
    print("lossbook workspace: not available in this version yet", file=sys.stderr)
    return 2
