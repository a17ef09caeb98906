"""A learner's home on the hub, laid out like a course folder after ``make lab``.

::

    HOME/
      notebooks/           the lessons: copies of the course's, refreshed on every start, read-only
      exercises/           the released exercise notebooks, refreshed likewise, read-only
      workspace/           the learner's own copies of exercises/ (never overwritten)
      .lossbook-course     the marker by which the progress store finds this folder
      .lossbook-progress/  the learner's progress store ($LOSSBOOK_PROGRESS_DIR points here)
      .lossbook-hub.json   what was installed from the course last time (file name -> sha256)
      .lossbook-released.json  each exercise version copied into workspace/ (for lossbook collect)

``workspace/`` is filled by :func:`lossbook.commands.workspace.sync_workspace`, the code
behind ``make lab`` and ``lossbook workspace``: a notebook is copied only when no file of
that name exists (``O_EXCL``), so a learner's edits survive every start and course update,
and exercises added by an update appear beside them.

The read-only copies are the course's, not the learner's: a changed lesson replaces the
old copy (atomically). A file the course no longer has is removed only when it is still
exactly what was installed (its hash is in ``.lossbook-hub.json``); anything else is kept.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from lossbook._files import write_atomically
from lossbook.collect import RELEASED_RECORD, fingerprint, fingerprint_digest, read_released_record
from lossbook.commands.workspace import WorkspaceError, sync_workspace

#: Folders copied from the course into every home, read-only for the learner.
READ_ONLY_FOLDERS = ("notebooks", "exercises")
PROGRESS_FOLDER = ".lossbook-progress"
MANIFEST = ".lossbook-hub.json"
#: Read-only copies: readable by all, writable by nobody (their owner may still replace them).
READ_ONLY_MODE = 0o444


class HomeError(Exception):
    """The home cannot be prepared; the message says why and what to do."""


@dataclass
class HomeReport:
    """What :func:`prepare_home` did."""

    home: Path
    installed: list[str] = field(default_factory=list)   # read-only copies written (new or changed)
    removed: list[str] = field(default_factory=list)     # copies of files the course dropped
    kept: list[str] = field(default_factory=list)        # course dropped them, but they were changed
    copied: list[str] = field(default_factory=list)      # new exercises copied into workspace/
    notes: list[str] = field(default_factory=list)       # what sync_workspace had to say (policy kept)

    def text(self) -> str:
        lines = [f"lossbook: prepared {self.home}"]
        if self.installed:
            lines.append(f"  course files updated: {', '.join(self.installed)}")
        if self.removed:
            lines.append(f"  course files removed (no longer in the course): {', '.join(self.removed)}")
        if self.kept:
            lines.append(f"  kept (changed, no longer in the course): {', '.join(self.kept)}")
        if self.copied:
            lines.append(f"  new in workspace/: {', '.join(self.copied)}")
        lines += [f"  {note}" for note in self.notes]
        return "\n".join(lines)


def check_course(course: str | os.PathLike) -> Path:
    """``course`` resolved, or :class:`HomeError` when it lacks ``notebooks/`` or ``exercises/``."""
    course = Path(course).expanduser().resolve()
    missing = [name for name in READ_ONLY_FOLDERS if not (course / name).is_dir()]
    if missing:
        raise HomeError(
            f"course folder {course} has no {' or '.join(n + '/' for n in missing)}: set "
            "LOSSBOOK_COURSE (or `lossbook hub --course DIR`) to the folder of the course, the one "
            "holding notebooks/ and exercises/")
    return course


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _course_files(folder: Path) -> dict[str, bytes]:
    """The regular, visible files directly in ``folder`` (symlinks and sub-folders left out)."""
    files = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.is_symlink() or not path.is_file():
            continue
        files[path.name] = path.read_bytes()
    return files


def _read_manifest(home: Path) -> dict[str, str]:
    try:
        data = json.loads((home / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {k: v for k, v in data.items() if isinstance(k, str) and isinstance(v, str)}


def _file_digest(path: Path) -> str | None:
    try:
        if path.is_symlink() or not path.is_file():
            return None
        return _digest(path.read_bytes())
    except OSError:
        return None


def _install(target: Path, data: bytes) -> None:
    """Write a read-only copy, replacing whatever is there (a symlink is replaced, not followed)."""
    if target.is_dir() and not target.is_symlink():
        raise HomeError(f"{target} is a folder where the course's file belongs: move it away "
                        "(e.g. into workspace/), then start the server again")
    write_atomically(target, data, mode=READ_ONLY_MODE)


def prepare_home(course: str | os.PathLike, home: str | os.PathLike) -> HomeReport:
    """Lay out ``home`` for the course in ``course`` (see the module docstring); idempotent."""
    course = check_course(course)
    home = Path(home).expanduser().resolve()
    course_files = [course / name for name in READ_ONLY_FOLDERS]
    if home == course or any(home == folder or folder in home.parents for folder in course_files):
        raise HomeError(f"the learner's home {home} is the course folder {course} or inside its "
                        f"{' or '.join(n + '/' for n in READ_ONLY_FOLDERS)}: give learners homes of "
                        "their own (SimpleLocalProcessSpawner.home_dir_template, `lossbook hub --homes`)")
    try:
        home.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HomeError(f"cannot create the learner's home {home} ({exc.strerror or exc})") from None
    report = HomeReport(home=home)
    previous = _read_manifest(home)
    manifest: dict[str, str] = {}
    try:
        for name in READ_ONLY_FOLDERS:
            folder = home / name
            if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
                raise HomeError(f"{folder} is not a folder: move it away, then start the server again")
            folder.mkdir(exist_ok=True)
            wanted = _course_files(course / name)
            for file_name, data in wanted.items():
                key = f"{name}/{file_name}"
                manifest[key] = _digest(data)
                if _file_digest(folder / file_name) != manifest[key]:
                    _install(folder / file_name, data)
                    report.installed.append(key)
                elif stat.S_IMODE((folder / file_name).stat().st_mode) != READ_ONLY_MODE:
                    os.chmod(folder / file_name, READ_ONLY_MODE)
            for key, digest in previous.items():
                folder_name, _, file_name = key.partition("/")
                if folder_name != name or file_name in wanted or "/" in file_name or not file_name:
                    continue
                path = folder / file_name
                if _file_digest(path) == digest:
                    path.unlink()
                    report.removed.append(key)
                elif path.exists() or path.is_symlink():
                    report.kept.append(key)
        (home / PROGRESS_FOLDER).mkdir(exist_ok=True)
        write_atomically(home / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True) + "\n")
    except OSError as exc:
        raise HomeError(f"cannot write the course's files into {home} ({exc.strerror or exc}); "
                        "the learner's own files were not touched") from None
    try:
        synced = sync_workspace(home)
        report.copied, report.notes = synced.copied, synced.notes
    except WorkspaceError as exc:
        raise HomeError(str(exc)) from None
    notebooks = [name for name in report.copied if name.endswith(".ipynb")]
    if notebooks:
        _record_released(home, notebooks)
    return report


def _record_released(home: Path, names: list[str]) -> None:
    """Remember which released version each new workspace copy is (``lossbook collect`` reads it).

    A copy the learner never touched is then "not submitted" even after a course update
    changed the exercise. Only ever added to.
    """
    record = {name: sorted(digests) for name, digests in read_released_record(home).items()}
    for name in names:
        try:
            digest = fingerprint_digest(fingerprint(json.loads(
                (home / "exercises" / name).read_text(encoding="utf-8"))))
        except (OSError, ValueError):
            continue
        if digest and digest not in record.setdefault(name, []):
            record[name].append(digest)
    try:
        write_atomically(home / RELEASED_RECORD, json.dumps(record, indent=1, sort_keys=True) + "\n")
    except OSError:
        pass   # only a convenience for collect: the learner's start must not fail for it
