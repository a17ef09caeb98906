"""The grading runtime folder: what sandboxed kernels see of lossbook.

Made once per grading run in the grader's private temporary folder and mounted
read-only into every sandbox: the stand-in ``lossbook`` package, a copy of the real
``lossbook/canonical.py`` (hidden tests print with :func:`lossbook.canonical.show`) and of
``lossbook/exercises/forbidden.py`` (as ``lossbook.forbidden``: the run-time check of
forbidden implementations, the same code ``check`` uses), hollow stand-ins for the course's
modules (:data:`~lossbook.exercises.forbidden.COURSE_MODULES`: calling anything from them
raises ``ForbiddenCall``), the kernel bootstrap and the fork server's template
(``forkserver.py``, see :mod:`lossbook.grading.forkserver`). Nothing else of the real package (no
references, no exercise engine).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

STANDIN = Path(__file__).with_name("standin")


def build_runtime(folder: Path) -> Path:
    """Write the runtime into ``folder`` (created) and return it."""
    import lossbook.canonical
    from lossbook.exercises import forbidden

    folder = Path(folder)
    package = folder / "lossbook"
    package.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(STANDIN / "lossbook" / "__init__.py", package / "__init__.py")
    shutil.copyfile(lossbook.canonical.__file__, package / "canonical.py")
    shutil.copyfile(forbidden.__file__, package / "forbidden.py")
    files = [package / "__init__.py", package / "canonical.py", package / "forbidden.py", folder / "boot.py",
             folder / "forkserver.py"]
    for module in forbidden.COURSE_MODULES:
        stub = package / f"{module.split('.', 1)[1]}.py"
        shutil.copyfile(STANDIN / "course_stub.py.txt", stub)
        files.append(stub)
    shutil.copyfile(STANDIN / "boot.py", folder / "boot.py")
    shutil.copyfile(STANDIN / "forkserver.py", folder / "forkserver.py")  # the fork server's template
    for path in (folder, package):
        os.chmod(path, 0o755)
    for path in files:
        os.chmod(path, 0o644)
    return folder
