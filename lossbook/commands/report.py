"""``lossbook report``: what the class got wrong, from the grader's results.

Reads ``<gradebook>.results.jsonl`` (written beside the gradebook by ``lossbook grade``)
and writes one self-contained HTML page (``--out report.html``), or Markdown
(``--format md``, to ``--out`` or standard output).

Exit status: 0 when the report was written; 1 when it could not be written; 2 when the
results cannot be read (missing, not a results file, a newer version).
"""
from __future__ import annotations

import sys
from pathlib import Path

HELP = "a class report from the grader's diagnoses: misconceptions, item statistics, who may need help"


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "report", help=HELP, description=HELP + ". Reads GRADEBOOK's results file "
        "(GRADEBOOK.results.jsonl, written beside it by `lossbook grade`).")
    parser.add_argument("gradebook", type=Path, metavar="GRADEBOOK",
                        help="the gradebook CSV that `lossbook grade --out` wrote")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="where to write the report (required for HTML; Markdown goes to standard output "
                             "without it)")
    parser.add_argument("--format", choices=("html", "md"), default="html", dest="fmt",
                        help="a self-contained HTML page (default) or Markdown")
    parser.add_argument("--feedback", type=Path, default=None, metavar="DIR",
                        help="the folder `lossbook grade --feedback` wrote: learners who may need help link "
                             "to their files in it (default: the paths the results recorded)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from lossbook._files import write_atomically
    from lossbook.grading.results import ResultsError
    from lossbook.report import build

    if args.fmt == "html" and args.out is None:
        print("lossbook report: give --out FILE for the HTML report (e.g. --out report.html), or --format md "
              "to print Markdown", file=sys.stderr)
        return 2
    if args.out is not None and args.out.is_dir():
        print(f"lossbook report: --out {args.out} is a folder; give the report's file name, e.g. "
              "--out report.html", file=sys.stderr)
        return 2
    if args.feedback is not None and not args.feedback.is_dir():
        print(f"lossbook report: --feedback {args.feedback}: no such folder; give the folder "
              "`lossbook grade --feedback` wrote", file=sys.stderr)
        return 2
    try:
        text = build(args.gradebook, fmt=args.fmt, out=args.out, feedback=args.feedback)
    except ResultsError as error:
        print(f"lossbook report: {error}", file=sys.stderr)
        return 2
    if args.out is None:
        sys.stdout.write(text)
        return 0
    try:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(args.out, text)
    except OSError as error:
        print(f"lossbook report: cannot write {args.out}: {error.strerror or error}; check --out", file=sys.stderr)
        return 1
    print(f"report: {args.out}")
    return 0
