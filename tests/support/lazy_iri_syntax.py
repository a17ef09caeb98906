"""A pytest plugin, loaded first (``-p lazy_iri_syntax`` in pyproject's ``addopts``): jsonschema's
IRI syntax checker is built on first use instead of at start-up.

nbval (a pytest plugin, loaded before any conftest) imports nbformat, which imports jsonschema,
whose ``jsonschema._format`` imports ``rfc3987_syntax`` (installed by ``jsonschema[format-nongpl]``,
which jupyter-events requires) to check the ``iri`` and ``iri-reference`` formats. That import
builds about 40 Earley parsers from a grammar: 2.3 s of CPU at every pytest start, for formats
that no schema of nbformat, nbval or the course uses (nbformat does not even check formats).

Before nbval loads, this plugin puts a stand-in for ``rfc3987_syntax`` in ``sys.modules``. Its
``is_valid_syntax`` (the one name jsonschema imports) imports the real package on its first call
and hands the call on; any other attribute read does the same. So every check is still made by
the real ``rfc3987_syntax``, with the same results; only its start-up cost moves to the first IRI
that is checked (tests/setup/test_fast_lane.py checks both). Nothing is changed on disk.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
import types

NAME = "rfc3987_syntax"


class _StandIn(types.ModuleType):
    """``rfc3987_syntax`` until first use; then the real module does the work."""

    def __init__(self):
        super().__init__(NAME, __doc__)
        self.__real = None

    def real(self) -> types.ModuleType:
        """The real ``rfc3987_syntax``, imported now if it was not yet."""
        if self.__real is None:
            if sys.modules.get(NAME) is self:
                del sys.modules[NAME]          # let the import system find the real package
            try:
                self.__real = importlib.import_module(NAME)
            except BaseException:
                sys.modules.setdefault(NAME, self)
                raise
        return self.__real

    @property
    def loaded(self) -> bool:
        return self.__real is not None

    def is_valid_syntax(self, term: str, value: str):
        return self.real().is_valid_syntax(term, value)

    def __getattr__(self, attribute: str):
        if attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(self.real(), attribute)


def install() -> _StandIn | None:
    """Put the stand-in in ``sys.modules`` if ``rfc3987_syntax`` is installed and not imported yet."""
    if NAME in sys.modules or importlib.util.find_spec(NAME) is None:
        return None
    stand_in = _StandIn()
    sys.modules[NAME] = stand_in
    return stand_in


install()
