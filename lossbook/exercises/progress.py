"""The learner's progress store: which exercises were checked, passed, hinted.

Location: one lookup order, defined here (:func:`locate`) and nowhere else:

1. ``$LOSSBOOK_PROGRESS_DIR`` when set (tests and nbval runs point it at a temporary folder);
2. the course's own ``.lossbook-progress/`` folder (git-ignored), beside the marker file
   ``.lossbook-course`` found walking up from the current directory (``make lab`` writes
   the marker), so a course folder keeps its learner's progress and never dirties a clone;
3. the platform's user data folder, ``platformdirs.user_data_dir("lossbook")``
   (``~/.local/share/lossbook`` on Linux).

The store is one JSON file, ``progress.json``, with its lock file ``progress.json.lock``
beside it. Progress found where older versions kept it (``progress.json`` beside the
marker, or in ``~/.lossbook``) is moved into the new place on first use, merged with what
is there; nothing is lost.

Safety:

- **Atomic writes** (:func:`lossbook._files.write_atomically`): a reader never sees half a file.
- **Two writers** (two notebooks, two kernels): every update is a read-modify-write
  under an exclusive lock (``filelock``: ``fcntl`` on POSIX, ``msvcrt`` on Windows).
- **Corrupt file**: moved aside to ``progress.json.corrupt`` (``.corrupt-2`` …) with a
  warning, and a new one started — nothing is deleted.
- **Read-only folder**: progress is kept in memory for this session, with a warning.
"""
from __future__ import annotations

import copy
import json
import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable

from lossbook.status import CheckStatus, ProgressStatus

ENV_VAR = "LOSSBOOK_PROGRESS_DIR"
MARKER = ".lossbook-course"
COURSE_FOLDER = ".lossbook-progress"
FILENAME = "progress.json"
LOCK_FILENAME = FILENAME + ".lock"
SCHEMA_VERSION = 1
#: Seconds to wait for another process' update before giving up (it takes milliseconds).
LOCK_TIMEOUT = 30.0


class ProgressWarning(UserWarning):
    """The progress store could not be used as usual (corrupt file, read-only folder)."""


def user_data_dir() -> Path:
    """The platform's folder for lossbook's data (``~/.local/share/lossbook`` on Linux)."""
    import platformdirs

    return Path(platformdirs.user_data_dir("lossbook", appauthor=False))


@dataclass(frozen=True)
class Location:
    """Where the store lives, why, and where older versions kept the same progress."""

    directory: Path
    reason: str                  # "environment", "course" or "user"
    legacy: tuple[Path, ...] = ()


def locate(start: str | os.PathLike | None = None) -> Location:
    """The progress store's location (the module docstring gives the order)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Location(Path(env).expanduser(), "environment")
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).exists():
            return Location(folder / COURSE_FOLDER, "course", (folder,))
    return Location(user_data_dir(), "user", (Path.home() / ".lossbook",))


def progress_dir(start: str | os.PathLike | None = None) -> Path:
    """The folder that holds the progress file (see :func:`locate`)."""
    return locate(start).directory


def _empty() -> dict:
    return {"version": SCHEMA_VERSION, "exercises": {}}


def _valid(data: Any) -> bool:
    return (isinstance(data, dict) and isinstance(data.get("exercises"), dict)
            and all(isinstance(v, dict) for v in data["exercises"].values()))


def _count(value: Any) -> int:
    try:
        return max(0, int(value))
    except (TypeError, ValueError):
        return 0


def merge(into: dict, other: dict) -> None:
    """Merge the progress ``other`` into ``into`` without losing any of either.

    Passed / solution viewed stay true if true in either; attempt and hint counts take the
    larger (so merging the same file twice changes nothing).
    """
    for exercise_id, theirs in other.get("exercises", {}).items():
        if not isinstance(theirs, dict):
            continue
        mine = into["exercises"].setdefault(exercise_id, {})
        for key in ("attempts", "hints"):
            if key in theirs or key in mine:
                mine[key] = max(_count(mine.get(key)), _count(theirs.get(key)))
        for key in ("passed", "solution_viewed"):
            if theirs.get(key) or mine.get(key):
                mine[key] = True
        if "last" not in mine and "last" in theirs:
            mine["last"] = theirs["last"]


class ProgressStore:
    """Read and update ``progress.json`` in ``directory`` (default: :func:`locate`).

    ``legacy`` lists folders where older versions kept this store; a ``progress.json``
    found there is merged in and removed on first use.
    """

    def __init__(self, directory: str | os.PathLike | None = None,
                 legacy: Iterable[str | os.PathLike] = ()):
        if directory is None:
            location = locate()
            directory, legacy = location.directory, location.legacy
        self.directory = Path(directory)
        self.legacy = tuple(Path(folder) for folder in legacy)
        self._memory: dict | None = None  # set once the folder turned out unwritable
        self._migrated = not self.legacy

    @property
    def path(self) -> Path:
        return self.directory / FILENAME

    @property
    def lock_path(self) -> Path:
        return self.directory / LOCK_FILENAME

    @property
    def in_memory(self) -> bool:
        """True once the store fell back to memory (read-only folder)."""
        return self._memory is not None

    # ------------------------------------------------------------------ reading
    def _move_aside(self, reason: str) -> None:
        n = 1
        while True:
            target = self.path.with_name(FILENAME + (".corrupt" if n == 1 else f".corrupt-{n}"))
            if not target.exists():
                break
            n += 1
        try:
            os.replace(self.path, target)
            where = f"it was moved to {target.name} beside it"
        except OSError:
            where = "it could not be moved aside"
        warnings.warn(f"lossbook: the progress file {self.path} was unreadable ({reason}); {where} "
                      "and a new one was started", ProgressWarning, stacklevel=4)

    def _read_file(self) -> dict:
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _empty()
        except OSError:
            return _empty()
        try:
            data = json.loads(text)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            self._move_aside(f"not valid JSON: {exc.__class__.__name__}")
            return _empty()
        if not _valid(data):
            self._move_aside("not a lossbook progress file")
            return _empty()
        return data

    def load(self) -> dict:
        """The whole store as a dict (a copy): ``{"version": 1, "exercises": {id: {...}}}``."""
        self._migrate()
        if self._memory is not None:
            return copy.deepcopy(self._memory)
        return self._read_file()

    # ------------------------------------------------------------------ writing
    def _lock(self):
        from filelock import FileLock

        self.directory.mkdir(parents=True, exist_ok=True)
        return FileLock(self.lock_path, timeout=LOCK_TIMEOUT)

    def _write(self, data: dict) -> None:
        from lossbook._files import write_atomically

        write_atomically(self.path, json.dumps(data, indent=1, sort_keys=True))

    def _migrate(self) -> None:
        """Move progress kept where older versions kept it into this store (once)."""
        if self._migrated:
            return
        self._migrated = True
        for folder in self.legacy:
            old = folder / FILENAME
            if not old.is_file() or old.resolve() == self.path.resolve():
                continue
            try:
                found = json.loads(old.read_text(encoding="utf-8"))
            except (OSError, ValueError, UnicodeDecodeError) as exc:
                warnings.warn(f"lossbook: found older progress in {old} but could not read it "
                              f"({exc.__class__.__name__}); it was left where it is",
                              ProgressWarning, stacklevel=4)
                continue
            if not _valid(found):
                continue
            self.update(lambda data, found=found: merge(data, found))
            if self.in_memory:
                continue  # not saved anywhere yet: the old file stays the only copy
            for leftover in (old, folder / LOCK_FILENAME):
                try:
                    leftover.unlink()
                except OSError:
                    pass
            if folder.name == ".lossbook":
                try:
                    folder.rmdir()  # only when empty
                except OSError:
                    pass

    def update(self, change: Callable[[dict], Any]) -> Any:
        """Apply ``change(data)`` under the lock and save atomically; returns what ``change`` returns."""
        self._migrate()
        if self._memory is None:
            try:
                with self._lock():
                    data = self._read_file()
                    result = change(data)
                    self._write(data)
                    return result
            except OSError as exc:
                data = self._read_file()
                self._memory = data
                warnings.warn(f"lossbook: cannot write progress to {self.directory} ({exc.strerror or exc}); "
                              f"progress is kept in memory for this session only (set {ENV_VAR} to a "
                              "writable folder to keep it)", ProgressWarning, stacklevel=3)
        return change(self._memory)

    # ------------------------------------------------------------------ the operations
    @staticmethod
    def _entry(data: dict, exercise_id: str) -> dict:
        return data["exercises"].setdefault(exercise_id, {})

    def record_check(self, exercise_id: str, status: str) -> None:
        """Count an attempt; "passed" is kept once reached (a later failure doesn't undo it)."""
        def change(data):
            entry = self._entry(data, exercise_id)
            entry["attempts"] = int(entry.get("attempts", 0)) + 1
            entry["last"] = str(status)
            entry["passed"] = bool(entry.get("passed")) or status == CheckStatus.PASSED
        self.update(change)

    def next_hint(self, exercise_id: str, n_hints: int) -> int:
        """Index of the hint to show now (0, 1, …, then the last one again)."""
        def change(data):
            entry = self._entry(data, exercise_id)
            shown = int(entry.get("hints", 0))
            entry["hints"] = shown + 1
            return min(shown, n_hints - 1)
        return self.update(change)

    def record_solution_viewed(self, exercise_id: str) -> None:
        def change(data):
            self._entry(data, exercise_id)["solution_viewed"] = True
        self.update(change)

    def reset(self) -> None:
        """Forget all progress (the command asks first)."""
        def change(data):
            data.clear()
            data.update(_empty())
        self.update(change)

    # ------------------------------------------------------------------ the reads
    @staticmethod
    def _status_of(entry: dict) -> ProgressStatus:
        if entry.get("passed"):
            return ProgressStatus.PASSED
        return ProgressStatus.ATTEMPTED if entry.get("attempts") else ProgressStatus.NOT_STARTED

    def status(self, exercise_id: str) -> ProgressStatus:
        """"passed", "attempted" or "not started" (a :class:`~lossbook.status.ProgressStatus`)."""
        return self._status_of(self.load()["exercises"].get(exercise_id, {}))

    def statuses(self, exercise_ids: Iterable[str]) -> dict[str, ProgressStatus]:
        """:meth:`status` of each of ``exercise_ids``, from one read of the file."""
        exercises = self.load()["exercises"]
        return {eid: self._status_of(exercises.get(eid, {})) for eid in exercise_ids}

    def hints_shown(self, exercise_id: str) -> int:
        """How many hints of ``exercise_id`` were shown so far."""
        return _count(self.load()["exercises"].get(exercise_id, {}).get("hints", 0))


_STORES: dict[Path, ProgressStore] = {}


def default_store() -> ProgressStore:
    """The store for the current location (one per folder per process, so memory fallbacks persist)."""
    location = locate()
    store = _STORES.get(location.directory)
    if store is None:
        store = _STORES[location.directory] = ProgressStore(location.directory, location.legacy)
    return store
