"""Stand-ins for a learner's function that never returns, shared by the check's limit tests
(tests/exercises/test_cpu_limit.py, tests/exercises/test_robustness.py). Each takes the
arguments of ``mse(y_true, y_pred)``."""
from __future__ import annotations

import time


def looping(y_true, y_pred):
    """Computes nothing, forever."""
    while True:
        pass


def looping_and_swallowing(y_true, y_pred):
    """Computes forever and swallows everything, even the check's ``BaseException`` (a
    learner's worst habit): only a limit outside the Python code can stop it."""
    while True:
        try:
            sum(range(1000))
        except BaseException:  # noqa: BLE001 - the point of the stand-in
            pass


def looping_and_swallowing_exceptions(y_true, y_pred):
    """Computes forever and swallows every ``Exception`` (not ``BaseException``)."""
    while True:
        try:
            sum(range(1000))
        except Exception:  # noqa: BLE001 - the point of the stand-in
            pass


def sleeping(y_true, y_pred):
    """Waits (uses no CPU time) for an hour."""
    time.sleep(3600)
