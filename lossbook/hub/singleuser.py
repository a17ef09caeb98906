"""The single-user server's command on the hub: ``python -m lossbook.hub.singleuser [ARGS]``.

Runs as the learner, in their home, before anything else of theirs:

1. prepares the home for the course in ``$LOSSBOOK_COURSE`` (:func:`lossbook.hub.homes.prepare_home`:
   read-only lessons and released exercises refreshed, new exercises copied into
   ``workspace/``, never overwriting the learner's files);
2. points the progress store at the home's ``.lossbook-progress/`` (``$LOSSBOOK_PROGRESS_DIR``,
   first in :func:`lossbook.exercises.progress.locate`'s order) unless the hub set it;
3. replaces itself (``exec``, same process) by ``jupyterhub-singleuser`` serving the home,
   with :class:`lossbook.hub.contents.CourseContentsManager` and the remaining ``ARGS``.

Set it as the spawner's command (``c.Spawner.cmd``); ``deploy/jupyterhub_config.py`` does.
Running it in the learner's own process, not in a hub hook, means the files belong to the
learner and it works where the hub cannot reach the home (KubeSpawner's volumes).
A problem (no course, a home that cannot be written) stops the start with a message in the
spawner's log, which JupyterHub shows on the learner's spawn page.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

COURSE_VARIABLE = "LOSSBOOK_COURSE"
CONTENTS_MANAGER = "lossbook.hub.contents.CourseContentsManager"


def server_command(home: Path, argv: list[str]) -> list[str]:
    """``jupyterhub-singleuser`` (this Python's) serving ``home`` with the course's rules."""
    return [sys.executable, "-m", "jupyterhub.singleuser", f"--ServerApp.root_dir={home}",
            f"--ServerApp.contents_manager_class={CONTENTS_MANAGER}", *argv]


def main(argv: list[str] | None = None) -> int:
    from lossbook.exercises.progress import ENV_VAR
    from lossbook.hub.homes import PROGRESS_FOLDER, HomeError, prepare_home

    argv = sys.argv[1:] if argv is None else argv
    course = os.environ.get(COURSE_VARIABLE)
    if not course:
        print(f"lossbook.hub.singleuser: ${COURSE_VARIABLE} is not set: set it in the spawner's "
              "environment to the course folder (the one with notebooks/ and exercises/), e.g. "
              f"c.Spawner.environment = {{'{COURSE_VARIABLE}': '/srv/lossbook'}}", file=sys.stderr)
        return 2
    home = Path(os.environ.get("HOME") or os.getcwd())
    try:
        report = prepare_home(course, home)
    except HomeError as exc:
        print(f"lossbook.hub.singleuser: {exc}", file=sys.stderr)
        return 1
    print(report.text(), file=sys.stderr, flush=True)
    home = report.home
    os.environ.setdefault(ENV_VAR, str(home / PROGRESS_FOLDER))
    os.chdir(home)
    command = server_command(home, argv)
    sys.stderr.flush()
    os.execv(command[0], command)
    return 0  # not reached


if __name__ == "__main__":
    sys.exit(main())
