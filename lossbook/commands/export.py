"""``lossbook export``: grades for Canvas, Moodle, or a long CSV for pandas.

Reads the results beside GRADEBOOK (``GRADEBOOK.results.jsonl``) and a roster CSV
(``learner, name, id, email``); writes ``--out`` or standard output. Learners of the
results missing from the roster, and of the roster without results, are listed on
standard error: nobody is dropped silently (details: :mod:`lossbook.grading.export`).

Exit status: 0 when the export was written (the lists are information); 1 when it could
not be written; 2 when the roster or the results cannot be used.
"""
from __future__ import annotations

import sys
from pathlib import Path

HELP = "export grades for Canvas, Moodle, or as a long CSV (one row per learner × exercise)"


def register(subparsers) -> None:
    parser = subparsers.add_parser("export", help=HELP, description=HELP + ".")
    parser.add_argument("gradebook", type=Path, metavar="GRADEBOOK",
                        help="the gradebook CSV that `lossbook grade --out` wrote (its results file is read)")
    parser.add_argument("--to", required=True, choices=("canvas", "moodle", "long"),
                        help="canvas: Canvas's gradebook import CSV; moodle: Moodle's grade import CSV; "
                             "long: one row per learner × lesson × exercise")
    parser.add_argument("--roster", type=Path, required=True, metavar="CSV",
                        help="a CSV with the columns learner (submission folder name), name, id (the LMS's id) "
                             "and email; optional for Canvas: sis_user_id, sis_login_id, section")
    parser.add_argument("--out", type=Path, default=None, metavar="FILE",
                        help="where to write the export (default: standard output)")
    parser.add_argument("--moodle-identifier", choices=("email", "id"), default="email",
                        help="the user field Moodle matches on: email (default, column 'Email address') or id "
                             "(column 'ID number', the roster's id)")
    parser.set_defaults(func=run)


def run(args) -> int:
    from lossbook._files import write_atomically
    from lossbook.grading.export import ExportError, export, read_roster
    from lossbook.grading.results import ResultsError, read_results, results_path

    if args.out is not None and args.out.is_dir():
        print(f"lossbook export: --out {args.out} is a folder; give a file name, e.g. --out grades.csv",
              file=sys.stderr)
        return 2
    try:
        roster = read_roster(args.roster)
        done = export(read_results(results_path(args.gradebook)), roster, args.to,
                      moodle_identifier=args.moodle_identifier)
    except (ExportError, ResultsError) as error:
        print(f"lossbook export: {error}", file=sys.stderr)
        return 2
    if args.out is None:
        sys.stdout.write(done.text)
    else:
        try:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            write_atomically(args.out, done.text)
        except OSError as error:
            print(f"lossbook export: cannot write {args.out}: {error.strerror or error}; check --out",
                  file=sys.stderr)
            return 1
    from lossbook.grading.safe_text import printable

    if done.not_in_roster:
        left_out = "" if args.to == "long" else " (left out of this file: no LMS account to match)"
        print(f"lossbook export: {len(done.not_in_roster)} learner(s) with results are not in the roster"
              f"{left_out}: " + ", ".join(printable(x, keep_newlines=False) for x in done.not_in_roster),
              file=sys.stderr)
    if done.no_results:
        print(f"lossbook export: {len(done.no_results)} learner(s) of the roster have no results (blank "
              "grades): " + ", ".join(printable(x, keep_newlines=False) for x in done.no_results), file=sys.stderr)
    if args.out is not None:
        print(f"export ({args.to}): {args.out}", file=sys.stderr)
    return 0
