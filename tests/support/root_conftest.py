"""The repository's root conftest.py as pytest loaded it (a re-import would be a second copy
with its own state), for tests of the test session's own rules."""
from __future__ import annotations

from pathlib import Path

ROOT_CONFTEST = Path(__file__).resolve().parents[2] / "conftest.py"


def loaded_root_conftest(config):
    """The plugin module pytest loaded from :data:`ROOT_CONFTEST` (``config``: pytest's)."""
    for plugin in config.pluginmanager.get_plugins():
        if Path(getattr(plugin, "__file__", "") or "").resolve() == ROOT_CONFTEST:
            return plugin
    raise AssertionError(f"{ROOT_CONFTEST} is not loaded")
