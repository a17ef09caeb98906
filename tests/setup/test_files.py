"""lossbook._files.write_atomically: the one way lossbook replaces a file."""
from __future__ import annotations

import os
import stat

import pytest

from lossbook import _files
from lossbook._files import write_atomically


def test_replaces_content_keeps_the_mode_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "notes.json"
    write_atomically(target, "one\n")
    assert stat.S_IMODE(target.stat().st_mode) == 0o666 & ~_files._umask()
    target.chmod(0o600)
    write_atomically(target, "two\nlines\n", newline="\r\n")
    assert target.read_bytes() == b"two\r\nlines\r\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    write_atomically(target, b"\x00bytes", mode=0o640)
    assert target.read_bytes() == b"\x00bytes" and stat.S_IMODE(target.stat().st_mode) == 0o640
    assert [p.name for p in tmp_path.iterdir()] == ["notes.json"]


def test_a_failure_keeps_the_old_file_whole_and_removes_the_temporary(tmp_path, monkeypatch):
    target = tmp_path / "gradebook.csv"
    write_atomically(target, "old\n")

    def broken_replace(source, destination):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError, match="No space left"):
        write_atomically(target, "new\n")
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["gradebook.csv"]


def test_bad_data_names_the_argument(tmp_path):
    with pytest.raises(TypeError, match="data must be str or bytes, got dict"):
        write_atomically(tmp_path / "x", {"a": 1})
    assert list(tmp_path.iterdir()) == []
