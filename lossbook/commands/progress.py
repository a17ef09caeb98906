"""``lossbook progress``: show which exercises are done, lesson by lesson.

``lossbook progress --reset`` forgets all progress after asking for confirmation
(``--yes`` skips the question; without a terminal to ask on, ``--yes`` is required).
"""
from __future__ import annotations

import sys

HELP = "show which exercises are done, lesson by lesson"


def register(subparsers) -> None:
    parser = subparsers.add_parser("progress", help=HELP, description=HELP)
    parser.add_argument("--reset", action="store_true", help="forget all progress (asks first)")
    parser.add_argument("--yes", "-y", action="store_true", help="with --reset: do not ask for confirmation")
    parser.set_defaults(func=run)


def _confirm(question: str) -> bool:
    if not sys.stdin or not sys.stdin.isatty():
        return False
    try:
        answer = input(f"{question} [y/N] ")
    except EOFError:
        return False
    return answer.strip().lower() in ("y", "yes")


def run(args) -> int:
    from lossbook.exercises.api import progress
    from lossbook.exercises.progress import default_store

    store = default_store()
    if args.reset:
        if not args.yes:
            if not (sys.stdin and sys.stdin.isatty()):
                print("lossbook progress --reset: refusing to reset without confirmation; "
                      "run it in a terminal to be asked, or add --yes", file=sys.stderr)
                return 1
            if not _confirm(f"Forget all progress stored in {store.path}?"):
                print("Nothing was reset.")
                return 1
        store.reset()
        print(f"Progress reset ({store.path}).")
        return 0
    print(progress().message)
    print(f"(stored in {store.path}{', in memory only this session' if store.in_memory else ''})")
    return 0
