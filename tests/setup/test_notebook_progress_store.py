"""Each notebook nbval runs starts its kernel with a progress store of its own (root conftest.py):
lesson 00's ``progress()`` output is compared by nbval, so it must not depend on which tests
or notebooks recorded checks earlier in the session (CI failed on exactly that)."""
from __future__ import annotations

import inspect
import os
from pathlib import Path

import pytest
from nbval.plugin import IPyNbFile

from lossbook.exercises.progress import ProgressStore
from root_conftest import loaded_root_conftest


@pytest.fixture
def root_conftest(request):
    return loaded_root_conftest(request.config)


def test_a_notebook_kernel_starts_with_an_empty_store_and_the_session_keeps_its_own(root_conftest):
    session_store = os.environ["LOSSBOOK_PROGRESS_DIR"]
    ProgressStore().record_check("mse", "passed")  # something an earlier test left behind
    seen = {}

    def start_kernel():
        seen["store"] = os.environ["LOSSBOOK_PROGRESS_DIR"]
        seen["status"] = ProgressStore().status("mse")

    root_conftest._with_own_progress_store(start_kernel, "00_welcome")()
    assert seen["store"] != session_store and "00_welcome" in Path(seen["store"]).name
    assert seen["status"] == "not started"
    assert os.environ["LOSSBOOK_PROGRESS_DIR"] == session_store
    assert ProgressStore().status("mse") == "passed"


def test_the_session_store_is_restored_when_the_kernel_fails_to_start(root_conftest):
    session_store = os.environ["LOSSBOOK_PROGRESS_DIR"]

    def start_kernel():
        raise RuntimeError("kernel died")

    with pytest.raises(RuntimeError, match="kernel died"):
        root_conftest._with_own_progress_store(start_kernel, "broken")()
    assert os.environ["LOSSBOOK_PROGRESS_DIR"] == session_store


def test_nbval_still_launches_the_kernel_in_the_file_collectors_setup():
    """The conftest wraps ``IPyNbFile.setup`` because that is where nbval 0.11 starts the kernel
    (with this process's environment); if nbval moves the launch, this fails first."""
    assert "RunningKernel(" in inspect.getsource(IPyNbFile.setup)
