"""Test-session settings shared by every test (unit, notebook, browser).

The learner's progress store is pointed at a temporary folder so tests and nbval runs
never write into the repository or the user's home.
"""
import os
import tempfile

os.environ["LOSSBOOK_PROGRESS_DIR"] = tempfile.mkdtemp(prefix="lossbook-progress-")
