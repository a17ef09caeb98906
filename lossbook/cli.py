"""The ``lossbook`` command: one sub-command per module in :mod:`lossbook.commands`.

Each sub-command module defines ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed arguments, returns the exit status). Modules import
their heavy dependencies inside ``func`` so ``lossbook --help`` stays instant.
"""
from __future__ import annotations

import argparse
import importlib
import os
import sys

from lossbook import __version__

# In the order ``lossbook --help`` lists them.
COMMANDS = ("progress", "check", "release", "grade", "report", "export", "workspace", "workshop",
            "doctor", "hub", "collect")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="lossbook",
        description="The lossbook course: learner progress, releasing and grading exercises, set-up checks.",
    )
    parser.add_argument("--version", action="version", version=f"lossbook {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"lossbook.commands.{name}").register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        print("\nerror: give a command, e.g. `lossbook progress`", file=sys.stderr)
        return 2
    try:
        return int(args.func(args) or 0)
    except BrokenPipeError:
        # `lossbook progress | head` closed the pipe: not an error worth a traceback.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
