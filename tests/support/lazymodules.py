"""Heavy libraries the tests compare against, imported on first use rather than at collection.

``torch = lazy("torch")`` in a test module costs nothing until a test touches ``torch.…``;
importing PyTorch itself costs about 2 s of CPU. The root ``conftest.py`` marks ``slow``
every test that refers to a lazy PyTorch (directly, through a helper function of its module,
or through a parameter), so the fast lane (``pytest -m "not slow"``) never imports it and
``make test`` runs every cross-check.

On first use the module is imported with :func:`pytest.importorskip`: on a machine without
it the test skips and says what to install; in CI (``LOSSBOOK_NO_SKIPS=1``) that skip fails
the run (root ``conftest.py``), so a cross-check can never silently go missing.
"""
from __future__ import annotations

import importlib
import types
from typing import Any, Iterable

#: Top-level packages whose lazy tests are marked ``slow``, and why.
HEAVY = {"torch": "a PyTorch cross-check (importing PyTorch costs about 2 s of CPU)"}


class LazyModule:
    """Stands for the module ``name``; the first attribute read imports it.

    ``lazy("torch.nn.functional")`` stands for a submodule: its package is imported (or the
    test skipped) first, as ``pytest.importorskip(package)``.
    """

    __slots__ = ("_name", "_reason", "_module")

    def __init__(self, name: str, reason: str):
        object.__setattr__(self, "_name", name)
        object.__setattr__(self, "_reason", reason)
        object.__setattr__(self, "_module", None)

    @property
    def lazy_package(self) -> str:
        """The top-level package this stands for (``"torch"``), without importing it."""
        return self._name.partition(".")[0]

    def _load(self):
        if self._module is None:
            import pytest

            pytest.importorskip(self.lazy_package, reason=self._reason)
            object.__setattr__(self, "_module", importlib.import_module(self._name))
        return self._module

    def __getattr__(self, attribute: str):
        if attribute.startswith("_"):
            # Introspection (pytest's fixture and doctest collection reads ``_mock_name``,
            # ``__wrapped__``, ...) must not import the module; tests use public names.
            raise AttributeError(f"{attribute} (lazy module {self._name}: only public names are looked up)")
        return getattr(self._load(), attribute)

    def __setattr__(self, attribute: str, value) -> None:
        raise AttributeError(f"lazy module {self._name}: set attributes on the real module")

    def __repr__(self) -> str:
        state = "imported" if self._module is not None else "not imported yet"
        return f"<lazy module {self._name!r} ({state})>"


def lazy(name: str, reason: str | None = None) -> LazyModule:
    """A :class:`LazyModule` for ``name`` (``"torch"``, ``"torch.nn.functional"``)."""
    package = name.partition(".")[0]
    how = " (CPU build); CI installs it" if package == "torch" else ""
    return LazyModule(name, reason or f"cross-checks against {package}: pip install {package}{how}")


def heavy_reason(obj) -> str | None:
    """Why a test referring to ``obj`` is slow (a lazy heavy module), or None."""
    if isinstance(obj, LazyModule):
        return HEAVY.get(obj.lazy_package)
    return None


def heavy_reason_of(function: Any, params: Iterable[Any] = ()) -> str | None:
    """Why a test is slow if it uses a lazy heavy module (:data:`HEAVY`), else None.

    Looked for in the names the test ``function`` reads, in the functions of its own module
    that it calls (transitively), in nested functions and lambdas, and in its parameters (a
    function, or a tuple or list of them). Names only: nothing is imported or called.
    """
    if not isinstance(function, types.FunctionType):
        return None
    todo = [function] + [f for value in params
                         for f in (value if isinstance(value, (tuple, list)) else (value,))
                         if isinstance(f, types.FunctionType)]
    seen = set(todo)
    while todo:
        function = todo.pop()
        names = function.__globals__
        codes = [function.__code__]
        while codes:
            code = codes.pop()
            codes.extend(c for c in code.co_consts if isinstance(c, types.CodeType))
            for name in code.co_names:
                value = names.get(name)
                reason = heavy_reason(value)
                if reason is not None:
                    return reason
                if isinstance(value, types.FunctionType) and value.__globals__ is names and value not in seen:
                    seen.add(value)
                    todo.append(value)
    return None
