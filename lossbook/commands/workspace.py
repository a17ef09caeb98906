"""``lossbook workspace``: copy exercises/ into your own workspace/ (never overwrites).

A learner never edits the course's copies in ``exercises/`` (a course update would
replace them). ``make lab`` runs this command first: every ``exercises/*.ipynb`` that
is not yet in ``workspace/`` is copied there; a notebook already in ``workspace/`` is
never touched, so a learner's work survives any number of runs and course updates, and
exercises added by an update appear next to it. The instructor's library policy
``exercises/lossbook-policy.toml`` (written by ``lossbook release``: which forbidden
implementations an exercise allows) is copied the same way, because ``check`` reads it from
the folder the learner's notebook runs in; a file of that name already in ``workspace/``
is never overwritten, and the report says when it differs from the course's. It also
writes the marker file ``.lossbook-course`` at the course root, by which the progress store
finds the course.

The course root is ``--course DIR``, or else the first folder, walking up from the
current one, that holds both ``pyproject.toml`` and ``exercises/``.
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path

HELP = "copy exercises/ into your own workspace/ (never overwrites)"
MARKER = ".lossbook-course"
WORKSPACE = "workspace"
EXERCISES = "exercises"
MARKER_TEXT = (
    "This file marks the lossbook course folder: your progress is stored next to it.\n"
    "It was written by `lossbook workspace`; you can leave it alone.\n"
)


class WorkspaceError(Exception):
    """A problem the learner can fix; the message says how."""


@dataclass
class WorkspaceReport:
    """What :func:`sync_workspace` did."""

    course: Path
    workspace: Path
    copied: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    created_workspace: bool = False
    created_marker: bool = False
    notes: list[str] = field(default_factory=list)

    def text(self) -> str:
        where = f"{self.workspace}"
        lines = []
        notebooks = [name for name in self.copied if name.endswith(".ipynb")]
        others = [name for name in self.copied if not name.endswith(".ipynb")]
        kept = [name for name in self.kept if name.endswith(".ipynb")]
        if self.created_workspace:
            lines.append(f"Created your workspace: {where}")
        if notebooks:
            lines.append(f"Copied {len(notebooks)} new exercise notebook(s) into {where}:")
            lines += [f"  + {name}" for name in notebooks]
        if others:
            lines.append(f"Copied the course's library policy into {where} (check reads it there):")
            lines += [f"  + {name}" for name in others]
        if kept:
            lines.append(f"Kept {len(kept)} notebook(s) you already have (never overwritten).")
        if not self.copied:
            lines.append(f"Your workspace is up to date: {where}")
        lines += self.notes
        return "\n".join(lines)


def find_course_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` holding ``pyproject.toml`` and ``exercises/``."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / "pyproject.toml").is_file() and (folder / EXERCISES).is_dir():
            return folder
    raise WorkspaceError(
        f"no lossbook course found in {here} or any folder above it (looked for a folder "
        f"with pyproject.toml and {EXERCISES}/); run this from inside the course folder, "
        "or pass --course PATH/TO/COURSE"
    )


def check_course_root(folder: Path) -> Path:
    folder = folder.expanduser().resolve()
    if not (folder / EXERCISES).is_dir():
        raise WorkspaceError(
            f"--course {folder}: no {EXERCISES}/ folder there; pass the folder of the course "
            f"(the one with {EXERCISES}/ and pyproject.toml)"
        )
    return folder


def sync_workspace(course: Path) -> WorkspaceReport:
    """Copy every ``course/exercises/*.ipynb`` missing from ``course/workspace/``.

    Never overwrites: a file is created only if no file of that name exists (checked
    atomically by the operating system, ``O_EXCL``), so even a concurrent run cannot
    replace a learner's notebook.
    """
    workspace = course / WORKSPACE
    report = WorkspaceReport(course=course, workspace=workspace)
    report.created_marker = _write_marker(course)
    if workspace.exists() and not workspace.is_dir():
        raise WorkspaceError(
            f"{workspace} exists but is not a folder; rename or move that file, then run "
            "`lossbook workspace` again"
        )
    try:
        if not workspace.exists():
            workspace.mkdir()
            report.created_workspace = True
    except OSError as exc:
        raise _not_writable(workspace, exc) from None

    for source in sorted((course / EXERCISES).glob("*.ipynb")):
        target = workspace / source.name
        if target.exists() or target.is_symlink():
            report.kept.append(source.name)
            continue
        try:
            _copy_new(source, target)
        except FileExistsError:          # appeared since we looked: it is the learner's
            report.kept.append(source.name)
            continue
        except OSError as exc:
            raise _not_writable(workspace, exc) from None
        report.copied.append(source.name)
    _sync_policy(course, workspace, report)
    return report


def _sync_policy(course: Path, workspace: Path, report: WorkspaceReport) -> None:
    """Copy ``exercises/lossbook-policy.toml`` into the workspace unless a file of that name is there."""
    from lossbook.exercises.forbidden import POLICY_FILE

    source, target = course / EXERCISES / POLICY_FILE, workspace / POLICY_FILE
    if source.is_symlink() or not source.is_file():
        return
    if not (target.exists() or target.is_symlink()):
        try:
            _copy_new(source, target)
            report.copied.append(POLICY_FILE)
            return
        except FileExistsError:          # appeared since we looked: it is the learner's
            pass
        except OSError as exc:
            raise _not_writable(workspace, exc) from None
    report.kept.append(POLICY_FILE)
    try:
        same = not target.is_symlink() and target.is_file() and target.read_bytes() == source.read_bytes()
    except OSError:
        same = False
    if not same:
        report.notes.append(
            f"Note: {target} differs from the course's {source} and was kept (never overwritten): "
            "check allows what your copy lists, grade what the course's does. To take the course's, "
            f"delete {target} and run `lossbook workspace` again.")


def _copy_new(source: Path, target: Path) -> None:
    content = source.read_bytes()
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(content)
    except BaseException:
        target.unlink(missing_ok=True)   # only the file we just created, never an older one
        raise


def _write_marker(course: Path) -> bool:
    marker = course / MARKER
    if marker.exists():
        return False
    try:
        marker.write_text(MARKER_TEXT, encoding="utf-8")
    except OSError as exc:
        raise WorkspaceError(
            f"cannot write {marker} ({exc.strerror or exc}); the course folder must be "
            "writable: copy the course to a folder you own (e.g. your home folder) and run "
            "it from there"
        ) from None
    return True


def _not_writable(workspace: Path, exc: OSError) -> WorkspaceError:
    return WorkspaceError(
        f"cannot write into {workspace} ({exc.strerror or exc}); nothing of yours was "
        "changed. Make the folder writable (e.g. `chmod u+w workspace`) or copy the course "
        "to a folder you own, then run `lossbook workspace` again"
    )


def register(subparsers) -> None:
    parser = subparsers.add_parser("workspace", help=HELP, description=__doc__.split("\n\n", 1)[1],
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--course", metavar="DIR", type=Path,
                        help="the course folder (default: found by walking up from here)")
    parser.add_argument("--quiet", "-q", action="store_true",
                        help="print nothing unless something goes wrong")
    parser.set_defaults(func=run)


def run(args) -> int:
    try:
        course = check_course_root(args.course) if args.course else find_course_root()
        report = sync_workspace(course)
    except WorkspaceError as exc:
        print(f"lossbook workspace: {exc}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(report.text())
    return 0
