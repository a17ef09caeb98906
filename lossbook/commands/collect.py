"""``lossbook collect``: gather learners' exercise notebooks into SUBMISSIONS/<learner>/<lesson>.ipynb.

HUB_HOMES_OR_FOLDER holds one folder per learner: the homes `lossbook hub` made (their
``workspace/`` is read) or plain folders of notebooks. Copies are read-only and keep their
modification time; a notebook unchanged since release (same cells; outputs and metadata
ignored) is reported as not submitted. Symbolic links are never followed; learner ids are
sanitised as `lossbook grade` does, and two folders that would become the same id are both
refused, never merged. Then: ``lossbook grade SUBMISSIONS --out gradebook.csv``.

Exit status: 0 when every learner folder and notebook was collected or reported as not
submitted; 1 when something was refused (listed; fix it and collect again); 2 on bad arguments.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

HELP = "gather learners' exercise notebooks (hub homes or folders) into <learner>/<lesson>.ipynb for grading"


def register(subparsers) -> None:
    parser = subparsers.add_parser("collect", help=HELP, description=__doc__.split("\n\n", 1)[1],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", type=Path, metavar="HUB_HOMES_OR_FOLDER",
                        help="the folder of learners' homes or folders")
    parser.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="where to write <learner>/<lesson>.ipynb (e.g. submissions/)")
    parser.add_argument("--released", type=Path, default=None, metavar="DIR",
                        help="the released exercise notebooks (default: the course's exercises/)")
    parser.add_argument("--prefix", default="", metavar="TEXT",
                        help="only folders named TEXT<learner> are learners, e.g. --prefix jupyter- "
                             "for The Littlest JupyterHub's /home/jupyter-<name>")
    parser.add_argument("--max-mb", type=float, default=20.0, metavar="MB",
                        help="refuse notebooks larger than this (default 20, the grader's limit)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from lossbook.collect import CollectError, collect
    from lossbook.commands.workspace import WorkspaceError, find_course_root

    try:
        released = args.released
        if released is None:
            released = find_course_root() / "exercises"
        if not args.max_mb > 0:
            raise CollectError(f"--max-mb {args.max_mb}: give a positive size in MB")
        report = collect(args.source, args.out, released, max_bytes=int(args.max_mb * 1e6),
                         prefix=args.prefix)
    except WorkspaceError:
        print("lossbook collect: no course folder found here to take exercises/ from; pass "
              "--released PATH/TO/COURSE/exercises", file=sys.stderr)
        return 2
    except CollectError as exc:
        print(f"lossbook collect: {exc}", file=sys.stderr)
        return 2
    print(report.text())
    return 0 if report.ok else 1
