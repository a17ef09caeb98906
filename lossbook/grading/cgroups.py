"""Per-kernel control groups (cgroup v1 ``pids`` and ``memory``), when the host allows.

The sandbox limits each process (``RLIMIT_AS``); a control group limits the kernel and
everything it starts **together**: at most :data:`PIDS_MAX` processes (no fork bomb) and
``memory_mb`` of memory in all. The kernel's command is prefixed with a tiny shell that
moves itself into the groups and then ``exec``\\ s, so every descendant is inside. Killing
a kernel also kills every process left in its groups. Where cgroups cannot be created
(cgroup v2 only, no rights) this is skipped and the rlimits alone apply.
"""
from __future__ import annotations

import os
import random
import signal
import time
from pathlib import Path

ROOT = Path("/sys/fs/cgroup")
PARENT = "lossbook-grading"
PIDS_MAX = 64


def _sweep(parent: Path) -> None:
    """Remove empty groups left by a grader that was killed (older than an hour)."""
    try:
        groups = [g for g in parent.iterdir() if g.is_dir()]
    except OSError:
        return
    for group in groups:
        try:
            if time.time() - group.stat().st_mtime > 3600:
                group.rmdir()  # fails (harmlessly) while processes are inside
        except OSError:
            pass


def create(name: str, memory_mb: int) -> list[Path]:
    """Create the groups for one kernel; returns their folders (empty when unavailable)."""
    made = []
    settings = {"pids": {"pids.max": str(PIDS_MAX)},
                "memory": {"memory.limit_in_bytes": str(memory_mb * 1024 * 1024)}}
    for controller, values in settings.items():
        base = ROOT / controller
        if not (base / "cgroup.procs").exists():
            continue
        group = base / PARENT / name
        if random.random() < 0.05:
            _sweep(base / PARENT)
        try:
            group.mkdir(parents=True, exist_ok=True)
            for key, value in values.items():
                (group / key).write_text(value)
        except OSError:
            remove(group)
            continue
        made.append(group)
    return made


def prefix(groups: list[Path]) -> list[str]:
    """Command prefix that joins ``groups`` and then runs the rest of the command."""
    if not groups:
        return []
    joins = "; ".join(f'echo $$ > "{g}/cgroup.procs"' for g in groups)
    return ["/bin/sh", "-c", f'{joins}; exec "$@"', "lossbook-cgroup"]


def kill_and_remove(groups: list[Path]) -> None:
    """SIGKILL every process still in ``groups``, then remove them."""
    for _ in range(50):
        alive = False
        for group in groups:
            try:
                pids = [int(p) for p in (group / "cgroup.procs").read_text().split()]
            except (OSError, ValueError):
                continue
            for pid in pids:
                alive = True
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        if not alive:
            break
        time.sleep(0.02)
    for group in groups:
        remove(group)


def remove(group: Path) -> None:
    """Remove an empty control group (any hierarchy), waiting up to 2 s for the processes
    that are leaving it."""
    for _ in range(100):  # exiting processes keep a group busy for a moment
        try:
            group.rmdir()
            return
        except FileNotFoundError:
            return
        except OSError:
            time.sleep(0.02)
