"""Writing a file so that no reader ever sees half of it: the one way lossbook does it.

:func:`write_atomically` writes to a temporary file in the target's own folder, flushes it
to disk (``fsync``), gives it the target's permissions, and renames it over the target
(:func:`os.replace`, atomic on POSIX and Windows). A crash or a full disk leaves either the
old file or the new one, never a mix, and no temporary file behind.

Used by the progress store (``lossbook.exercises.progress``), ``lossbook release``, and the
grader's gradebook, results file and feedback files.

>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> write_atomically(folder / "a.txt", "first\\n")
>>> write_atomically(folder / "a.txt", b"second\\n")
>>> (folder / "a.txt").read_text(), sorted(p.name for p in folder.iterdir())
('second\\n', ['a.txt'])
"""
from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from pathlib import Path

__all__ = ["write_atomically"]

#: Permissions of a new file (before the umask): what ``open(path, "w")`` would give.
NEW_FILE_MODE = 0o666


def _umask() -> int:
    """The process' umask, read without changing it where the OS allows (threads are about)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)  # elsewhere: the classic read-and-restore
    os.umask(mask)
    return mask


def write_atomically(path: str | os.PathLike, data: str | bytes, *, encoding: str = "utf-8",
                     newline: str | None = "\n", mode: int | None = None) -> None:
    """Replace ``path`` by ``data`` (text is encoded with ``encoding``) in one step.

    Parameters
    ----------
    path : path-like
        The file to write; its folder must exist.
    data : str or bytes
        The whole new content. Text line endings are written as ``newline``
        (``"\\n"`` by default, so files are the same on every OS; ``None`` keeps them).
    mode : int, optional
        Permission bits of the result. Default: those of the file being replaced, or, for
        a new file, what ``open(path, "w")`` would give (0o666 less the umask).
    """
    path = Path(path)
    if isinstance(data, str):
        if newline is not None and newline != "\n":
            data = data.replace("\n", newline)
        data = data.encode(encoding)
    elif not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"write_atomically: data must be str or bytes, got {type(data).__name__}")
    if mode is None:
        try:
            mode = stat.S_IMODE(os.stat(path).st_mode)
        except FileNotFoundError:
            mode = NEW_FILE_MODE & ~_umask()
    descriptor, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temporary, mode)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _sync_folder(path.parent)


def _sync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    if os.name != "posix":
        return
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
