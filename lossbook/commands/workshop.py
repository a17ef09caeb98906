"""``lossbook workshop``: serve the explorers as an offline dashboard for a projector."""
from __future__ import annotations

import sys

HELP = "serve the explorers as an offline dashboard for a projector"


def register(subparsers) -> None:
    parser = subparsers.add_parser("workshop", help=HELP, description=HELP)
    parser.set_defaults(func=run)


def run(args) -> int:
    print("lossbook workshop: not available in this version yet", file=sys.stderr)
    return 2
