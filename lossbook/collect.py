"""Collect learners' exercise notebooks for grading: ``lossbook collect`` (layer 3b, course tooling).

Reads a folder of learners: JupyterHub homes (``HOMES/<learner>/workspace/<lesson>.ipynb``,
the layout of :mod:`lossbook.hub.homes`) or plain folders (``FOLDER/<learner>/<lesson>.ipynb``),
and writes ``OUT/<learner>/<lesson>.ipynb``: the input of ``lossbook grade``.

Rules (each refusal is reported, nothing is silently merged or dropped):

- **Learner ids** are sanitised exactly as the grader does
  (:func:`lossbook.grading.batch.sanitize_learner`). Two folders whose ids sanitise alike
  (``yan``, `` yan``) are never merged: neither is collected and the report names both.
- **Lessons** are the released exercise notebooks' names (``exercises/*.ipynb``); only a file
  named exactly ``<lesson>.ipynb`` is collected (other notebooks are listed as ignored).
- **Not submitted**: a notebook whose cells (type and source; outputs, execution counts,
  metadata, cell ids, empty cells and trailing whitespace ignored) equal the released
  exercise's, or no file at all, is reported as not submitted and not copied. "Released"
  is the course's exercise now and, in a hub home, each version that was copied into the
  learner's workspace (recorded by :mod:`lossbook.hub.homes` in ``.lossbook-released.json``),
  so an untouched copy from before a course update is not taken for work.
- **Hostile files**: symbolic links (the learner folder, its ``workspace/``, a notebook) are
  never followed; non-regular and unreadable files and files over ``max_bytes`` are refused.
  A file is read once (``O_NOFOLLOW``) and the copy is written from those bytes.
- **Copies** are read-only (0444) with the original's modification time; an earlier
  collection's copy is replaced atomically. The source is only ever read.
"""
from __future__ import annotations

import errno
import hashlib
import json
import os
import stat
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

from lossbook._files import write_atomically

#: Notebooks larger than this are refused (the grader's own limit is the same, 20 MB).
MAX_BYTES = 20_000_000
WORKSPACE = "workspace"
COPY_MODE = 0o444
#: In a hub home: file name -> digests of the released versions copied into workspace/.
RELEASED_RECORD = ".lossbook-released.json"
MAX_RECORD_BYTES = 1_000_000


class CollectError(ValueError):
    """Bad arguments (the message names the argument and the fix)."""


@dataclass
class Refused:
    learner: str      # as found, %-encoded where not printable
    path: str
    reason: str


@dataclass
class CollectReport:
    """What :func:`collect` did, learner by learner."""

    out: Path
    lessons: tuple[str, ...]
    collected: dict[str, list[str]] = field(default_factory=dict)       # learner id -> lessons
    not_submitted: dict[str, list[str]] = field(default_factory=dict)   # learner id -> lessons
    ignored: list[str] = field(default_factory=list)                    # other notebooks seen
    refused: list[Refused] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.refused

    def text(self) -> str:
        learners = sorted(set(self.collected) | set(self.not_submitted))
        lines = [f"Collected {sum(map(len, self.collected.values()))} notebook(s) of "
                 f"{len(self.collected)} learner(s) into {self.out}"]
        for learner in learners:
            got, missing = self.collected.get(learner, []), self.not_submitted.get(learner, [])
            lines.append(f"  {learner}: submitted {', '.join(got) or 'nothing'}"
                         + (f"; not submitted: {', '.join(missing)}" if missing else ""))
        if self.ignored:
            lines.append(f"Ignored {len(self.ignored)} (hidden folders, notebooks not named <lesson>.ipynb): "
                         + ", ".join(self.ignored))
        if self.refused:
            lines.append(f"REFUSED {len(self.refused)} (not collected; fix and collect again):")
            lines += [f"  {r.learner}: {r.path}: {r.reason}" for r in self.refused]
        return "\n".join(lines)


def shown(name: str) -> str:
    """A name as found, safe to print: control characters, spaces and ``%`` are %-encoded.

    >>> shown(" yan"), shown("e\x1b[31mvil"), shown("ana")
    ('%20yan', 'e%1B[31mvil', 'ana')
    """
    return urllib.parse.quote(name, safe="!#$&'()*+,-./:;=?@[]^_`{|}~")


def fingerprint(notebook) -> list[tuple[str, str]] | None:
    """What a learner changes: each non-empty cell's type and source, whitespace-normalised.

    None when ``notebook`` is not a notebook (then nothing can be equal to it).

    >>> run = {"cells": [{"cell_type": "code", "source": ["x = 1  \\r\\n"], "outputs": [1],
    ...                   "execution_count": 3, "metadata": {"collapsed": True}},
    ...                  {"cell_type": "code", "source": "", "outputs": []}]}
    >>> fingerprint(run) == fingerprint({"cells": [{"cell_type": "code", "source": "x = 1"}]})
    True
    >>> fingerprint({"cells": "not a list"}) is None
    True
    """
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        return None
    cells = []
    for cell in notebook["cells"]:
        if not isinstance(cell, dict):
            return None
        source = cell.get("source", "")
        if isinstance(source, list):
            if not all(isinstance(part, str) for part in source):
                return None
            source = "".join(source)
        if not isinstance(source, str):
            return None
        text = "\n".join(line.rstrip() for line in source.replace("\r\n", "\n").split("\n")).strip("\n")
        if text:
            cells.append((str(cell.get("cell_type")), text))
    return cells


def fingerprint_digest(fingerprint_value) -> str | None:
    """A short stable digest of a :func:`fingerprint` (None stays None)."""
    if fingerprint_value is None:
        return None
    return hashlib.sha256(json.dumps(fingerprint_value).encode("utf-8")).hexdigest()


def read_released_record(folder: Path) -> dict[str, set[str]]:
    """``folder/.lossbook-released.json`` (file name -> digests); empty when absent or not sane."""
    try:
        data = json.loads(_read_no_follow(folder / RELEASED_RECORD, MAX_RECORD_BYTES).decode("utf-8"))
    except (OSError, ValueError, UnicodeDecodeError, RecursionError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {name: {d for d in digests if isinstance(d, str)} for name, digests in data.items()
            if isinstance(name, str) and isinstance(digests, list)}


def released_fingerprints(released: Path) -> dict[str, list]:
    """Lesson id -> fingerprint of each released exercise notebook in ``released``."""
    if not released.is_dir():
        raise CollectError(f"--released {released}: not a folder; pass the course's exercises/ "
                           "folder (the notebooks learners were given)")
    result = {}
    for path in sorted(released.glob("*.ipynb")):
        try:
            result[path.stem] = fingerprint(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError) as exc:
            raise CollectError(f"--released {released}: cannot read {path.name} ({exc})") from None
    if not result:
        raise CollectError(f"--released {released}: no .ipynb files there; pass the course's "
                           "exercises/ folder")
    return result


def _read_no_follow(path: Path, limit: int) -> bytes:
    """The file's bytes, read once; OSError for a symlink (ELOOP), a non-regular file, > limit."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, "not a regular file")
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"{info.st_size / 1e6:.1f} MB, over the {limit / 1e6:.0f} MB limit")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:   # grew while we read it
                raise OSError(errno.EFBIG, f"over the {limit / 1e6:.0f} MB limit")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def _unchanged(data: bytes, released, earlier: set[str]) -> bool:
    """True when the notebook's cells are those of the release (now, or a version copied earlier)."""
    try:
        mine = fingerprint(json.loads(data.decode("utf-8")))
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False
    if mine is None:
        return False
    return mine == released or fingerprint_digest(mine) in earlier


def collect(source: str | os.PathLike, out: str | os.PathLike, released: str | os.PathLike,
            *, max_bytes: int = MAX_BYTES, prefix: str = "") -> CollectReport:
    """Copy each learner's submitted exercise notebooks from ``source`` into ``out`` (module docstring).

    ``prefix``: only folders whose name starts with it are learners, and it is not part of
    their id (TLJH's homes are ``/home/jupyter-<name>``: ``prefix="jupyter-"``); the other
    folders are listed as ignored.
    """
    source, out, released = Path(source), Path(out), Path(released)
    if not source.is_dir():
        raise CollectError(f"HUB_HOMES_OR_FOLDER {source}: not a folder; pass the folder that holds "
                           "one folder per learner (`lossbook hub` prints where the homes are)")
    source_real, out_real = source.resolve(), out.resolve()
    if out_real == source_real or source_real in out_real.parents or out_real in source_real.parents:
        raise CollectError(f"--out {out}: must be outside {source} (and not contain it); e.g. "
                           "--out submissions/ in your own folder")
    # The grader's own rule (imported here: the hub's servers import this module at start).
    from lossbook.grading.batch import sanitize_learner

    lessons = released_fingerprints(released)
    report = CollectReport(out=out, lessons=tuple(lessons))

    learners: dict[str, list[Path]] = {}
    for entry in sorted(source.iterdir()):
        if not entry.name.startswith(prefix) or entry.name == prefix:
            report.ignored.append(f"{shown(entry.name)}/ (not named {shown(prefix)}<learner>)")
            continue
        if entry.name.startswith("."):   # as the grader: hidden folders are not learners
            report.ignored.append(f"{shown(entry.name)}/ (hidden)")
            continue
        if entry.is_symlink():
            report.refused.append(Refused(shown(entry.name), str(entry), "a symbolic link, not followed"))
            continue
        if entry.is_dir():
            learners.setdefault(sanitize_learner(entry.name[len(prefix):]), []).append(entry)
    for learner_id, folders in sorted(learners.items()):
        if len(folders) > 1:
            names = ", ".join(repr(shown(f.name)) for f in folders)
            for folder in folders:
                report.refused.append(Refused(
                    shown(folder.name), str(folder),
                    f"learner ids collide: the folders {names} all become {learner_id!r}; rename them "
                    "so that each learner has a distinct id"))
            continue
        _collect_learner(folders[0], learner_id, out, lessons, max_bytes, report)
    return report


def _collect_learner(folder: Path, learner_id: str, out: Path, lessons: dict, max_bytes: int,
                     report: CollectReport) -> None:
    name = shown(folder.name)
    notebooks = folder / WORKSPACE
    if notebooks.is_symlink():
        report.refused.append(Refused(name, str(notebooks), "a symbolic link, not followed"))
        return
    if not notebooks.is_dir():
        notebooks = folder
    record = read_released_record(folder)
    try:
        entries = sorted(notebooks.iterdir())
    except OSError as exc:
        report.refused.append(Refused(name, str(notebooks), f"unreadable ({exc.strerror or exc})"))
        return
    present = {}
    for path in entries:
        if path.suffix != ".ipynb" or path.name.startswith("."):
            continue
        if path.stem in lessons:
            present[path.stem] = path
        else:
            report.ignored.append(f"{name}/{shown(path.name)}")
    for lesson, released in lessons.items():
        path = present.get(lesson)
        if path is None:
            report.not_submitted.setdefault(learner_id, []).append(lesson)
            continue
        try:
            data = _read_no_follow(path, max_bytes)
            info = os.lstat(path)
        except OSError as exc:
            reason = ("a symbolic link, not followed" if exc.errno == errno.ELOOP
                      else f"too large: {exc.strerror}" if exc.errno == errno.EFBIG
                      else exc.strerror if exc.errno == errno.EINVAL
                      else f"unreadable ({exc.strerror or exc})")
            report.refused.append(Refused(name, str(path), reason))
            continue
        if _unchanged(data, released, record.get(f"{lesson}.ipynb", set())):
            report.not_submitted.setdefault(learner_id, []).append(lesson)
            continue
        target = out / learner_id / f"{lesson}.ipynb"
        target.parent.mkdir(parents=True, exist_ok=True)
        write_atomically(target, data, mode=COPY_MODE)
        os.utime(target, ns=(info.st_atime_ns, info.st_mtime_ns))
        report.collected.setdefault(learner_id, []).append(lesson)
