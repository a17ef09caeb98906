"""JupyterLab's file access on the hub: the course's copies are read-only for the learner.

:class:`CourseContentsManager` is jupyter_server's own ``AsyncLargeFileManager`` (what a
single-user server uses by default) with one rule added: a path inside one of
:attr:`~CourseContentsManager.read_only_folders` (``notebooks/`` and ``exercises/`` of the
learner's home, see :mod:`lossbook.hub.homes`), or that folder itself, is reported as not
writable (JupyterLab then opens it read-only) and cannot be saved, created, renamed into or
out of, or deleted: the server answers 403 with a message that says where to work instead.
Copying a lesson *out* (into ``workspace/``) is allowed.

The check uses the real path (symlinks resolved), so ``workspace/link/…`` pointing into
``notebooks/`` is refused too. This guards against accidents in the interface; it is no
security boundary (a learner's kernel runs with the learner's own rights).
"""
from __future__ import annotations

import os
import posixpath

from jupyter_server.services.contents.largefilemanager import AsyncLargeFileManager
from tornado import web
from traitlets import List, Unicode

from lossbook.hub.homes import READ_ONLY_FOLDERS

MESSAGE = ("{path} is part of the course and read-only here: your own copies of the exercises "
           "are in workspace/ (to keep notes on a lesson, save a copy there: File > Save Notebook As…)")


class CourseContentsManager(AsyncLargeFileManager):
    """``AsyncLargeFileManager`` that keeps :attr:`read_only_folders` read-only."""

    read_only_folders = List(
        Unicode(), default_value=list(READ_ONLY_FOLDERS), config=True,
        help="Folders (relative to the server's root) whose files the learner cannot change.")

    def _read_only(self, path: str) -> bool:
        path = posixpath.normpath("/" + (path or "").strip("/")).lstrip("/")
        root = os.path.realpath(self.root_dir)
        real = os.path.realpath(os.path.join(root, *[p for p in path.split("/") if p]))
        for folder in self.read_only_folders:
            guarded = os.path.realpath(os.path.join(root, folder))
            if real == guarded or real.startswith(guarded + os.sep):
                return True
        return False

    def _refuse(self, path: str) -> None:
        if self._read_only(path):
            raise web.HTTPError(403, MESSAGE.format(path=path.strip("/") or path))

    def is_writable(self, path):
        return False if self._read_only(path) else super().is_writable(path)

    async def save(self, model, path=""):
        self._refuse(path)
        return await super().save(model, path)

    async def delete_file(self, path):
        self._refuse(path)
        return await super().delete_file(path)

    async def rename_file(self, old_path, new_path):
        self._refuse(old_path)
        self._refuse(new_path)
        return await super().rename_file(old_path, new_path)

    async def copy(self, from_path, to_path=None):
        # The copy lands in to_path, or beside the original when to_path is not given.
        self._refuse(to_path if to_path is not None else posixpath.dirname(from_path.strip("/")))
        return await super().copy(from_path, to_path)
