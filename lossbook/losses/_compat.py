"""Old spellings that still work for a while, with a ``DeprecationWarning`` (issue 10).

- :func:`positional_options`: a loss whose options became keyword-only still accepts
  them in the old positional order (``huber(y, p, 0.5)`` for ``huber(y, p, delta=0.5)``).
  Only the losses that a lesson notebook still calls that way have it.
- :func:`renamed`: the old name of a renamed loss (``focal_loss`` for ``focal``).

Both keep the new function's signature and docstring for ``help()`` and ``inspect``.

Who sees the warning: it is attributed to lossbook itself, not to the caller, so
Python's default filters hide it in a notebook or script (``python -W default`` or
``-X dev`` shows it), while the test suite, which turns lossbook's own
``DeprecationWarning`` into an error, fails on any old spelling left in the package,
its tests or benchmarks. Lessons 03 and 08 still use the old forms in cells whose
output nbval compares; a warning on stderr there would fail those comparisons. Once the
notebooks use the new forms, set :data:`WARN_CALLER` to True so that learners see it too.
"""
from __future__ import annotations

import functools
import warnings

#: Attribute the warning to the caller (visible in notebooks) instead of to lossbook.
WARN_CALLER = False


def _warn(message: str) -> None:
    # stacklevel 1 is this function (lossbook); 3 is the caller of the shim or alias.
    warnings.warn(message, DeprecationWarning, stacklevel=3 if WARN_CALLER else 1)


def positional_options(*names: str, n_arrays: int = 2):
    """Let the options ``names`` still be passed positionally after the ``n_arrays``
    arrays, in this order, with a ``DeprecationWarning``."""
    def decorate(func):
        @functools.wraps(func)
        def shim(*args, **kwargs):
            if len(args) <= n_arrays:
                return func(*args, **kwargs)
            extra = args[n_arrays:]
            if len(extra) > len(names):
                raise TypeError(
                    f"{func.__name__}() takes {n_arrays} positional arguments (the arrays) "
                    f"but {len(args)} were given; pass the options by name, e.g. "
                    f"{func.__name__}(y_true, y_pred, {names[0]}=...)"
                )
            for name, value in zip(names, extra):
                if name in kwargs:
                    raise TypeError(f"{func.__name__}() got multiple values for argument "
                                    f"{name!r}")
                kwargs[name] = value
            given = ", ".join(f"{name}={value!r}" for name, value in zip(names, extra))
            _warn(f"{func.__name__}: passing {', '.join(names[:len(extra)])} by position is "
                  f"deprecated; options are keyword-only: write {func.__name__}(..., {given})")
            return func(*args[:n_arrays], **kwargs)
        return shim
    return decorate


def renamed(func, old_name: str):
    """``func`` under its old name ``old_name``, warning on every call."""
    @functools.wraps(func)
    def alias(*args, **kwargs):
        _warn(f"{old_name} is deprecated, renamed {func.__name__} (the losses are named "
              f"without a _loss suffix); use lossbook.losses.{func.__name__}")
        return func(*args, **kwargs)

    alias.__name__ = alias.__qualname__ = old_name
    alias.__doc__ = (f"Deprecated name of :func:`{func.__name__}` (same arguments); it warns "
                     f"on every call. Use :func:`{func.__name__}`.")
    return alias
