"""The learner's progress store: which exercises were checked, passed, hinted.

Location (``docs/architecture.md``): ``$LOSSBOOK_PROGRESS_DIR`` when set (tests and
nbval runs point it at a temporary folder), else the folder holding the marker file
``.lossbook-course`` found walking up from the current directory, else ``~/.lossbook``.
The store is one JSON file, ``progress.json``, in that folder.

Safety:

- **Atomic writes**: a temporary file in the same folder, ``fsync``, then ``os.replace``;
  a reader never sees half a file.
- **Two writers** (two notebooks, two kernels): every update is a read-modify-write
  under an exclusive lock (``fcntl.flock`` on ``progress.json.lock``; on platforms
  without ``fcntl`` the update still re-reads and merges just before replacing, which
  leaves only a tiny window).
- **Corrupt file**: moved aside to ``progress.json.corrupt`` (``.corrupt-2`` …) with a
  warning, and a new one started — nothing is deleted.
- **Read-only folder**: progress is kept in memory for this session, with a warning.
"""
from __future__ import annotations

import contextlib
import copy
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Iterator

ENV_VAR = "LOSSBOOK_PROGRESS_DIR"
MARKER = ".lossbook-course"
FILENAME = "progress.json"
SCHEMA_VERSION = 1

try:  # POSIX
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None


class ProgressWarning(UserWarning):
    """The progress store could not be used as usual (corrupt file, read-only folder)."""


def progress_dir(start: str | os.PathLike | None = None) -> Path:
    """The folder that holds the progress file (see the module docstring for the order)."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MARKER).exists():
            return folder
    return Path.home() / ".lossbook"


def _empty() -> dict:
    return {"version": SCHEMA_VERSION, "exercises": {}}


def _valid(data: Any) -> bool:
    return (isinstance(data, dict) and isinstance(data.get("exercises"), dict)
            and all(isinstance(v, dict) for v in data["exercises"].values()))


class ProgressStore:
    """Read and update ``progress.json`` in ``directory`` (default: :func:`progress_dir`)."""

    def __init__(self, directory: str | os.PathLike | None = None):
        self.directory = Path(directory) if directory is not None else progress_dir()
        self._memory: dict | None = None  # set once the folder turned out unwritable

    @property
    def path(self) -> Path:
        return self.directory / FILENAME

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
        if self._memory is not None:
            return copy.deepcopy(self._memory)
        return self._read_file()

    # ------------------------------------------------------------------ writing
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        if fcntl is None:
            yield
            return
        with open(self.directory / (FILENAME + ".lock"), "a+") as lock:
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock.fileno(), fcntl.LOCK_UN)

    def _write(self, data: dict) -> None:
        fd, tmp = tempfile.mkstemp(prefix=FILENAME + ".", suffix=".tmp", dir=self.directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, indent=1, sort_keys=True)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise

    def update(self, change: Callable[[dict], Any]) -> Any:
        """Apply ``change(data)`` under the lock and save atomically; returns what ``change`` returns."""
        if self._memory is None:
            try:
                with self._locked():
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
            entry["last"] = status
            entry["passed"] = bool(entry.get("passed")) or status == "passed"
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

    def status(self, exercise_id: str) -> str:
        """"passed", "attempted" or "not started"."""
        entry = self.load()["exercises"].get(exercise_id, {})
        if entry.get("passed"):
            return "passed"
        return "attempted" if entry.get("attempts") else "not started"


_STORES: dict[Path, ProgressStore] = {}


def default_store() -> ProgressStore:
    """The store for the current location (one per folder per process, so memory fallbacks persist)."""
    directory = progress_dir()
    store = _STORES.get(directory)
    if store is None:
        store = _STORES[directory] = ProgressStore(directory)
    return store
