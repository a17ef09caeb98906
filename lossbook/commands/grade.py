"""``lossbook grade``: grade learners' notebooks into a gradebook.

Each submission runs in a fresh kernel inside an operating-system sandbox (bubblewrap);
nbval compares its hidden-test outputs with the solutions' stored outputs.

Exit status: 0 when every submission got a row (whatever its score or status, ``ambiguous``
and ``refused-identity`` included; rows the gradebook refused are listed in the summary);
1 when the gradebook or feedback could not be written; 2 when the grader could not run
(bad arguments, no notebooks found, no solutions, no sandbox without ``--no-sandbox``).
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

HELP = "grade learners' notebooks into a gradebook (sandboxed, hidden tests checked by nbval)"


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise ValueError(text)
    return value


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "grade", help=HELP, description=HELP + ". SUBMISSIONS are notebook files or folders of "
        "<learner>/<lesson>.ipynb.")
    parser.add_argument("submissions", nargs="+", type=Path, metavar="SUBMISSIONS",
                        help="notebook files, or folders holding <learner>/<lesson>.ipynb")
    parser.add_argument("--out", type=Path, required=True, metavar="CSV",
                        help="the gradebook (rows of the learners graded now are replaced, others kept)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="submissions graded at once (default: the number of cores)")
    parser.add_argument("--timeout", type=_positive, default=10.0, metavar="S",
                        help="seconds per cell before the kernel is interrupted (default 10)")
    parser.add_argument("--submission-timeout", type=_positive, default=None, metavar="S",
                        help="seconds per submission in all (default: max(60, 6 x --timeout))")
    parser.add_argument("--memory", type=int, default=None, metavar="MB",
                        help="address-space limit per kernel in MB (default 1536)")
    parser.add_argument("--feedback", type=Path, default=None, metavar="DIR",
                        help="write each learner's feedback into DIR/<learner>/<lesson>.md")
    parser.add_argument("--feedback-format", choices=("md", "html"), default="md",
                        help="feedback as Markdown (default) or HTML")
    parser.add_argument("--solutions", type=Path, default=None, metavar="DIR",
                        help="solution notebooks with hidden tests (default: the course's solutions/)")
    parser.add_argument("--learner", default=None, metavar="ID",
                        help="learner id for every submission (default: folder name or file stem)")
    parser.add_argument("--replace-from-other-source", action="store_true",
                        help="let a submission from another file replace a learner's existing gradebook row "
                             "(default: the old row is kept and the new one is reported as refused-identity)")
    parser.add_argument("--no-sandbox", action="store_true",
                        help="grade without an operating-system sandbox (UNSAFE: learners' code runs "
                             "with your rights); every gradebook row says so")
    # Grading on a Dask cluster (lossbook/grading/cluster.py; the `cluster` extra).
    parser.add_argument("--scheduler", default=None, metavar="ADDRESS",
                        help="grade on a Dask cluster: the scheduler's address, e.g. tcp://HOST:8786; each "
                             "submission is a task run in a worker's sandbox, the gradebook and feedback are "
                             "written here (--jobs is then ignored; needs pip install 'lossbook[cluster]')")
    parser.set_defaults(func=run)


def skip_slow_optional_imports() -> None:
    """Keep jsonschema (imported by nbformat) from loading ``rfc3987_syntax``.

    That optional package builds a parser grammar at import (≈1.5 s of CPU here) for URI
    formats notebook schemas never use. Only this command's own process is affected.
    """
    if "jsonschema" not in sys.modules:
        sys.modules.setdefault("rfc3987_syntax", None)


def run(args) -> int:
    skip_slow_optional_imports()
    from lossbook.grading import SandboxUnavailable, grade
    from lossbook.grading.batch import summary_text
    from lossbook.grading.sandbox import Limits

    if args.jobs < 1:
        print("lossbook grade: --jobs must be at least 1", file=sys.stderr)
        return 2
    missing = [str(p) for p in args.submissions if not p.exists()]
    if missing:
        print(f"lossbook grade: no such file or folder: {', '.join(missing)}", file=sys.stderr)
        return 2
    if args.out.is_dir():
        print(f"lossbook grade: --out {args.out} is a folder; give the gradebook's file name, "
              "e.g. --out gradebook.csv", file=sys.stderr)
        return 2
    limits = Limits(memory_mb=args.memory) if args.memory else None
    executor = None
    if args.scheduler:  # grading on a Dask cluster (lossbook/grading/cluster.py)
        from lossbook.grading.cluster import ClusterUnavailable, DaskExecutor

        try:
            executor = DaskExecutor(args.scheduler, no_sandbox=args.no_sandbox, limits=limits)
        except (ClusterUnavailable, SandboxUnavailable) as error:
            print(f"lossbook grade: {error}", file=sys.stderr)
            return 2
    # What the sandbox cannot protect here (--no-sandbox, root without uid 65534) is said
    # once, at the start, by grade() itself.
    try:
        results = grade(args.submissions, args.out, solutions=args.solutions, jobs=args.jobs,
                        cell_timeout=args.timeout, submission_timeout=args.submission_timeout,
                        no_sandbox=args.no_sandbox, learner=args.learner, limits=limits,
                        feedback=args.feedback, feedback_format=args.feedback_format,
                        replace_other_source=args.replace_from_other_source, executor=executor)
    except SandboxUnavailable as error:
        print(f"lossbook grade: {error}", file=sys.stderr)
        return 2
    except (FileNotFoundError, ValueError) as error:  # no solutions; a malformed policy file
        print(f"lossbook grade: {error}", file=sys.stderr)
        return 2
    except OSError as error:
        print(f"lossbook grade: cannot write {error.filename or 'the output'}: {error.strerror}; "
              "check --out and --feedback", file=sys.stderr)
        return 1
    finally:
        if executor is not None:
            executor.close()
    if not results:
        print("lossbook grade: no notebooks (*.ipynb) found in the given paths", file=sys.stderr)
        return 2
    print(summary_text(results))
    print(f"\n{len(results)} rows; gradebook: {args.out}")
    from lossbook.grading.results import results_path

    if results_path(args.out).is_file():  # the machine-readable rows (lossbook report / export read them)
        print(f"results: {results_path(args.out)}")
    if args.feedback:
        print(f"feedback: {args.feedback}")
    return 0
