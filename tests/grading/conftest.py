"""Grading tests need bubblewrap; without it they skip, unless LOSSBOOK_REQUIRE_SANDBOX=1 (CI)."""
import os
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))  # builders.py


@pytest.fixture(scope="session")
def sandbox_ok():
    from lossbook.grading.sandbox import find_bwrap

    if find_bwrap() is None:
        message = ("bubblewrap (bwrap) is missing or cannot create namespaces: install it "
                   "(apt-get install bubblewrap) to run the grading tests")
        if os.environ.get("LOSSBOOK_REQUIRE_SANDBOX") == "1":
            pytest.fail(message + " (LOSSBOOK_REQUIRE_SANDBOX=1)")
        pytest.skip(message)
    return True
