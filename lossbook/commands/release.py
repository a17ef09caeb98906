"""``lossbook release``: write exercises/ (learners' copies) from solutions/.

Exit status: 0 done (or, with ``--check``, nothing to update); 1 with ``--check`` when the
exercise notebooks differ from what release produces; 2 when the solutions cannot be
released (every problem is listed, nothing is written).
"""
from __future__ import annotations

import sys
from pathlib import Path

HELP = "write exercises/ (learners' copies) from solutions/"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "release", help=HELP, description=HELP + ": answers become starter code, hidden tests "
        "are removed, outputs cleared. Run it from the course's root folder."
    )
    parser.add_argument("--solutions", type=Path, default=Path("solutions"), metavar="DIR",
                        help="folder of solution notebooks (default: solutions)")
    parser.add_argument("--out", type=Path, default=Path("exercises"), metavar="DIR",
                        help="folder for the exercise notebooks (default: exercises)")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; exit 1 and list the differences when DIR is not up to date")
    parser.set_defaults(func=run)


def run(args) -> int:
    from lossbook import release

    try:
        planned = release.plan(args.solutions, args.out)
    except release.ReleaseError as error:
        print(f"lossbook release: {error}", file=sys.stderr)
        return 2
    if args.check:
        found = release.differences(planned, args.out)
        if found:
            print(f"lossbook release --check: {args.out} is not what release produces:", file=sys.stderr)
            for line in found:
                print(f"  {line}", file=sys.stderr)
            print("run `lossbook release` to update it", file=sys.stderr)
            return 1
        print(f"{args.out}: up to date ({len(planned)} notebooks)")
        return 0
    changed = release.write(planned, args.out)
    for path in changed:
        print(f"wrote {path}")
    print(f"{args.out}: {len(changed)} written, {len(planned) - len(changed)} unchanged")
    for path in release.stale(planned, args.out):
        if path.suffix == ".toml":
            print(f"note: {path} is no longer in the solutions; release leaves it alone, and check still applies "
                  "it in the learners' copies: delete it if the policy is withdrawn")
        else:
            print(f"note: {path} has no solution notebook; release leaves it alone (delete it if it is obsolete)")
    return 0
