"""Settings for the math tests.

- The tests share small input builders in ``mathhelpers.py`` next to this file. pytest
  runs with ``--import-mode=importlib``, which does not put test folders on
  ``sys.path``, so this folder is added.
- hypothesis keeps no example database in the repository, and in CI (``CI`` set) it is
  derandomized, so a failure there reproduces from the log alone.
"""
import os
import sys

from hypothesis import settings

sys.path.insert(0, os.path.dirname(__file__))

settings.register_profile("lossbook", database=None)
settings.register_profile("lossbook-ci", database=None, derandomize=True)
settings.load_profile("lossbook-ci" if os.environ.get("CI") else "lossbook")
