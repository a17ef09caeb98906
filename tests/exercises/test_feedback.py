"""CheckResult renders as stable text and compact, deterministic HTML (nbval compares both)."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from lossbook.exercises import get
from lossbook.exercises.checking import run_check
from lossbook.exercises.feedback import STATUSES, CheckResult, format_value

# One learner function per verdict; run here and in a fresh interpreter, the renderings must be identical.
SCENARIOS = textwrap.dedent('''
    import numpy as np
    def passed(y_true, y_pred):
        return 2 * (np.asarray(y_pred, float) - y_true) / np.size(y_pred)
    def failed(y_true, y_pred):
        return 2 * (np.asarray(y_pred, float) - y_true)
    def error(y_true, y_pred):
        return y_pred[5] - y_true
    def not_attempted(y_true, y_pred):
        raise NotImplementedError
    def timeout(y_true, y_pred):
        while True:
            pass
''')


def _render_all():
    namespace = {}
    exec(SCENARIOS, namespace)  # noqa: S102
    out = {}
    for name in ("passed", "failed", "error", "not_attempted", "timeout"):
        # a short CPU limit: the infinite loop spins until it, the other answers take milliseconds
        result = run_check(get("mse_grad"), namespace[name], timeout=0.2)
        out[name] = [result.status, repr(result), result._repr_html_()]
    return out


def test_renderings_are_identical_in_a_fresh_process():
    here = _render_all()
    code = (f"import json\nfrom tests.exercises.test_feedback import _render_all\n"
            "print(json.dumps(_render_all()))")
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120,
                          cwd=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == here
    assert {v[0] for v in here.values()} == {"passed", "failed", "error", "not-attempted", "timeout"}


def test_no_volatile_content():
    for status, text, html in _render_all().values():
        for rendering in (text, html):
            assert not re.search(r"0x[0-9a-f]{6,}", rendering), rendering
            assert "/tmp" not in rendering and "ipykernel" not in rendering and "<module>" not in rendering
            assert not re.search(r"\d+(\.\d+)? ?(ms|seconds)\b", rendering), rendering
            assert " id=" not in rendering


def test_only_the_failing_case_is_shown():
    result = run_check(get("mse"), lambda y, p: float(np.sum((p - y) ** 2)))
    shown = [c.name for c in get("mse").cases if f"Failing case: {c.name}" in result.message]
    assert shown == ["integer inputs"]
    assert result.message.count("expected:") == 1
    others = [c.name for c in get("mse").cases if c.name != "integer inputs"]
    assert not any(name in result.message for name in others)
    assert "y_true = [1, 2, 3, 4]" in result.message and "y_pred = [2, 2, 5, 1]" in result.message
    assert "expected: 3.5" in result.message and "got:      14" in result.message
    assert 'hint("mse")' in result.message


@pytest.mark.parametrize("status", STATUSES)
def test_verdict_is_a_symbol_and_a_word_not_only_a_colour(status):
    result = CheckResult("mse", "Mean squared error", status, 0, 3, "summary")
    symbol_word = result.message.split(" — ")[0]
    assert re.match(r"^\S \w", symbol_word)
    html = result._repr_html_()
    assert symbol_word in html and 'role="status"' in html and f"lossbook-check-{status}" in html
    assert result.passed is (status == "passed")


def test_html_escapes_learner_text():
    def mse(y_true, y_pred):
        raise ValueError("<script>alert(1)</script>")

    html = run_check(get("mse"), mse)._repr_html_()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_pretty_repr_is_the_message():
    result = run_check(get("mse"), lambda y, p: float(np.mean((p - y) ** 2)))

    class Printer:
        def __init__(self):
            self.out = ""

        def text(self, s):
            self.out += s

    p = Printer()
    result._repr_pretty_(p, False)
    assert p.out == result.message == repr(result) == str(result)
    assert bool(result) is True


def test_unknown_status_is_refused():
    with pytest.raises(ValueError, match="status must be one of"):
        CheckResult("mse", "t", "ok", 0, 1, "s")


@pytest.mark.parametrize(("value", "text"), [
    (np.float64(0.1 + 0.2), "0.3"),
    (-0.0, "0"),
    (np.array([-0.00001, 1.23456789]), "[0.    , 1.2346]"),
    (np.arange(30.0), "[ 0.,  1.,  2., ..., 27., 28., 29.]"),
    ([1.0, 2.0], "list [1., 2.]"),
    (None, "None"),
    ((np.array([1.0]), 2.0), "([1.], 2)"),
    (object(), "<object>"),
])
def test_format_value_is_short_rounded_and_stable(value, text):
    assert format_value(value) == text


def test_the_gradient_ladder_is_cs231ns_and_check_says_which_rung_it_passes():
    from lossbook.exercises import get
    from lossbook.exercises.checking import GRADIENT_RTOL, run_check
    from lossbook.exercises.feedback import GRADIENT_LADDER, gradient_verdict

    assert GRADIENT_LADDER == ("above 1e-2: wrong; 1e-4 to 1e-2: suspicious; below 1e-4: acceptable near kinks; "
                               "below 1e-7: right")
    assert [gradient_verdict(e) for e in (0.5, 1e-2, 5e-3, 1e-4, 5e-5, 1e-7, 1e-9, float("nan"))] == \
        ["wrong", "wrong", "suspicious", "suspicious", "acceptable near kinks", "acceptable near kinks", "right", "wrong"]
    assert GRADIENT_RTOL == 1e-4  # the rung the pass note names
    passed = run_check(get("mse_grad"), lambda y, p: 2 * (p - y) / p.size)
    assert passed.passed and GRADIENT_LADDER in passed.message
    assert '"acceptable near kinks" or better' in passed.message
    wrong = run_check(get("mse_grad"), lambda y, p: 3 * (p - y) / p.size)
    assert "relative error against a numeric gradient" in wrong.message and ", wrong (" in wrong.message
    assert GRADIENT_LADDER in wrong.message and GRADIENT_LADDER in wrong._repr_html_()
