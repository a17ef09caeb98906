"""check's limit is CPU time, not wall-clock time: a busy machine does not change a verdict,
and a learner's infinite loop is still stopped, with a message naming the cause.

No timed assertions: what is checked is which limit stopped the run and what it says.
"""
from __future__ import annotations

import os
import sys
import time

import pytest

from lossbook.exercises import get, runner
from lossbook.exercises.checking import run_check
from never_returning import looping, looping_and_swallowing, sleeping

MSE = get("mse")
FORK = hasattr(os, "fork") and sys.platform != "darwin"
ISOLATIONS = ["inprocess"] + (["fork"] if FORK else [])


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_an_infinite_loop_is_stopped_by_its_cpu_limit_with_a_message_naming_it(isolation):
    result = run_check(MSE, looping, timeout=0.3, isolation=isolation)
    assert result.status == "timeout" and not result.passed
    assert result.failure.case_name == MSE.cases[0].name
    assert "did not finish in time: it used its 0.3 s of CPU time" in result.message
    assert "CPU-time limit (an infinite loop, or very slow code?)" in result.message
    assert "The kernel is fine" in result.message


@pytest.mark.skipif(not FORK, reason="needs os.fork")
def test_a_loop_that_swallows_every_exception_is_still_stopped_in_the_child():
    run = runner.run_cases(looping_and_swallowing, MSE.cases, MSE.param_names, timeout=0.3, isolation="fork")
    assert run.timed_out_case == 0 and run.timeout_kind == "cpu" and run.limit == 0.3
    assert run.crashed is None


@pytest.mark.skipif(not FORK, reason="needs os.fork")
def test_the_child_is_ended_by_cpu_time_not_by_the_clock(monkeypatch):
    # With the wall-clock backstop an hour away, only the child's own CPU-time limit can
    # end the loop: the child ends itself (SIGPROF) and the parent reports "cpu".
    monkeypatch.setattr(runner, "MIN_WALL_LIMIT", 3600.0)
    run = runner.run_cases(looping, MSE.cases, MSE.param_names, timeout=0.3, isolation="fork")
    assert (run.timeout_kind, run.limit) == ("cpu", 0.3)


@pytest.mark.parametrize("isolation", ISOLATIONS)
def test_code_that_waits_is_stopped_by_the_wall_clock_backstop(isolation, monkeypatch):
    monkeypatch.setattr(runner, "MIN_WALL_LIMIT", 0.5)
    monkeypatch.setattr(runner, "WALL_LIMIT_FACTOR", 1.0)
    result = run_check(MSE, sleeping, timeout=0.2, isolation=isolation)
    assert result.status == "timeout"
    assert "it waited 0.5 s without finishing" in result.message
    assert "time.sleep" in result.message


def test_the_wall_clock_backstop_is_generous():
    assert runner.wall_limit(5.0) == 60.0
    assert runner.wall_limit(10.0) == 120.0


def test_a_correct_answer_is_not_stopped_by_a_limit_smaller_than_its_waiting(monkeypatch):
    # Waiting (here: sleeping) uses no CPU time: more sleep than the CPU limit still passes.
    def mse(y_true, y_pred):
        time.sleep(0.05)
        import numpy as np
        return float(np.mean((np.asarray(y_pred, float) - y_true) ** 2))

    assert 0.05 * len(MSE.cases) > 0.2
    result = run_check(MSE, mse, timeout=0.2, isolation="fork" if FORK else "inprocess")
    assert result.status == "passed", result.message
