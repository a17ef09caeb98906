"""Stand-ins for a learner's function that never returns, shared by the check's limit tests
(tests/exercises/test_cpu_limit.py, tests/exercises/test_robustness.py). Each takes the
arguments of ``mse(y_true, y_pred)``."""
from __future__ import annotations

import time


def looping(y_true, y_pred):
    """Computes nothing, forever."""
    while True:
        pass


def _looping_and_swallowing(swallowed: type[BaseException], name: str):
    def stand_in(y_true, y_pred):
        while True:
            try:
                sum(range(1000))
            except swallowed:  # noqa: BLE001 - the point of the stand-in
                pass
    stand_in.__name__ = stand_in.__qualname__ = name   # the test ids name it
    return stand_in


#: Computes forever and swallows everything, even the check's ``BaseException`` (a learner's
#: worst habit): only a limit outside the Python code can stop it.
looping_and_swallowing = _looping_and_swallowing(BaseException, "looping_and_swallowing")
#: Computes forever and swallows every ``Exception`` (not ``BaseException``).
looping_and_swallowing_exceptions = _looping_and_swallowing(Exception, "looping_and_swallowing_exceptions")


def sleeping(y_true, y_pred):
    """Waits (uses no CPU time) for an hour."""
    time.sleep(3600)
