"""``lossbook workshop``: serve the explorers as an offline dashboard for a projector.

Builds the dashboard pages (:mod:`lossbook.workshop.pages`) and an offline Voilà template
(:mod:`lossbook.workshop.template`) in a temporary folder (or ``--out``), then runs Voilà
on 127.0.0.1 until Ctrl-C. Exit status: Voilà's, or 2 when Voilà is not installed.
"""
from __future__ import annotations

import sys
from pathlib import Path

HELP = "serve the explorers as an offline dashboard for a projector"
DEFAULT_PORT = 8866


def register(subparsers) -> None:
    parser = subparsers.add_parser(
        "workshop", help=HELP, description=HELP + " (Voilà on 127.0.0.1: one page per "
        "lesson with its explorer and no code, plus an index; nothing loaded from the network).")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT,
                        help=f"port on 127.0.0.1 (default {DEFAULT_PORT})")
    parser.add_argument("--no-browser", action="store_true",
                        help="do not open a web browser on the index page")
    parser.add_argument("--dpi", type=float, default=None, metavar="DPI",
                        help="figure resolution: larger means larger figures "
                             "(default 110; the lessons use 80)")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="write the dashboard pages into DIR and keep them "
                             "(default: a temporary folder removed afterwards)")
    parser.set_defaults(func=run)


def run(args) -> int:
    import importlib.util
    import tempfile

    from lossbook.workshop import PROJECTOR_DPI, build_pages, server, template

    if not 1 <= args.port <= 65535:
        print(f"lossbook workshop: --port must be between 1 and 65535, got {args.port}",
              file=sys.stderr)
        return 2
    if importlib.util.find_spec("voila") is None:
        print("lossbook workshop: Voilà is not installed in this environment: "
              "`pip install -e .[workshop]` (or `make workshop`, which installs it)",
              file=sys.stderr)
        return 2
    dpi = PROJECTOR_DPI if args.dpi is None else args.dpi
    with tempfile.TemporaryDirectory(prefix="lossbook-workshop-") as tmp:
        pages_dir = args.out if args.out is not None else Path(tmp) / "pages"
        try:
            build_pages(pages_dir, dpi=dpi, course_root=Path.cwd())
            template.write_template(Path(tmp) / "share")
        except (ValueError, FileNotFoundError, RuntimeError, OSError) as error:
            print(f"lossbook workshop: {error}", file=sys.stderr)
            return 2
        return server.serve(pages_dir.resolve(), Path(tmp) / "share", args.port,
                            open_browser=not args.no_browser)
