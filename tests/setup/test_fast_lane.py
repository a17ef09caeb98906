"""The fast lane (``pytest -m "not slow"``) refuses heavy child processes: a test that starts
a kernel, a server or a browser without the ``slow`` marker fails (root conftest.py).

Heavy imports are deferred, not dropped (and a test file that imports PyTorch when collected
fails, saying how to defer it):

- ``tests/support/lazy_iri_syntax.py`` (a pytest plugin loaded before nbval): jsonschema's IRI
  checker is built on first use, and gives the real package's verdicts.
- ``tests/support/lazymodules.py``: PyTorch imported on first use; the root conftest marks
  ``slow`` every test that uses it, found from the names the test reads.

In the fast lane each hypothesis test tries a quarter of its examples; ``make test`` all of them.
"""
from __future__ import annotations

import gc
import subprocess
import sys
import types
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import lazymodules
from lazymodules import heavy_reason_of, lazy
from root_conftest import loaded_root_conftest

HEAVY = [
    [sys.executable, "-m", "ipykernel_launcher", "-f", "kernel.json"],
    ["/usr/bin/prlimit", "--cpu=600", "--", sys.executable, "-I", "/tmp/x/runtime/boot.py",
     "--lossbook-report=18", "-f", "c.json"],
    ["bwrap", "--ro-bind", "/", "/", sys.executable, "-I", "/run/lossbook/forkserver.py", "5"],
    [sys.executable, "-m", "voila", "pages", "--port=8866"],
    ["/usr/bin/chromium", "--headless"],
    ["jupyter-lab", "--no-browser"],
    ["node", "cli.js", "run-driver"],
    ["dask-worker", "tcp://127.0.0.1:8786"],
    [sys.executable, "-m", "jupyterhub", "-f", "config.py"],
]
CHEAP = [
    [sys.executable, "-c", "import lossbook; assert 'dask' not in 'jupyter chromium voila'"],
    [sys.executable, "-m", "lossbook", "--version"],
    ["bwrap", "--bind", "/", "/", "--dev", "/dev", "true"],
    "echo hello",
]


@pytest.fixture
def root_conftest(request):
    """The root conftest, as pytest loaded it (not a re-import)."""
    return loaded_root_conftest(request.config)


@pytest.fixture
def heavy_command(root_conftest):
    return root_conftest.heavy_command


@pytest.mark.parametrize("command", HEAVY, ids=lambda c: Path(c[0] if len(c) < 4 else c[2]).name)
def test_heavy_commands_are_named(command, heavy_command):
    assert heavy_command(command) is not None


@pytest.mark.parametrize("command", CHEAP, ids=str)
def test_cheap_commands_are_allowed(command, heavy_command):
    assert heavy_command(command) is None


def test_a_kernel_started_outside_the_slow_lane_is_refused_and_fails_the_test(fast_lane_guard):
    with pytest.raises(RuntimeError, match=r"outside the slow lane started a Jupyter kernel .*mark it @pytest.mark.slow"):
        subprocess.Popen([sys.executable, "-m", "ipykernel_launcher", "-f", "nowhere.json"])
    assert fast_lane_guard.offenses == ["a Jupyter kernel (ipykernel_launcher)"]
    fast_lane_guard.offenses.clear()  # the refusal was the point here; any other offense fails the test
    subprocess.run([sys.executable, "-c", "pass"], check=True)  # a cheap child is still allowed


@pytest.mark.slow
def test_the_slow_lane_is_not_guarded(fast_lane_guard):
    assert fast_lane_guard is None


# --- heavy imports deferred ---------------------------------------------------------------------

def test_jsonschema_was_given_the_stand_in_before_it_was_imported():
    from jsonschema import _format

    checker = _format._rfc3987_is_valid_syntax      # what jsonschema calls for "iri" formats
    assert type(checker.__self__).__name__ == "_StandIn"
    assert checker.__self__.__name__ == "rfc3987_syntax"


@pytest.mark.slow  # builds rfc3987_syntax's grammar: about 2.3 s of CPU
def test_iri_formats_are_checked_by_the_real_package_with_its_verdicts():
    from jsonschema import FormatChecker, _format

    checker = FormatChecker()
    stand_in = _format._rfc3987_is_valid_syntax.__self__
    values = ["https://example.org/ü?q=1#frag", "urn:isbn:0451450523", "//host/only-a-reference",
              "no scheme here", "http://exa mple.org", "http://[::1]:80/", ""]
    verdicts = [(checker.conforms(v, "iri"), checker.conforms(v, "iri-reference")) for v in values]
    assert stand_in.loaded
    real = stand_in.real()
    assert sys.modules["rfc3987_syntax"] is real and real is not stand_in
    assert verdicts == [(real.is_valid_syntax("iri", v), real.is_valid_syntax("iri_reference", v))
                        for v in values]
    assert verdicts[0] == (True, True) and verdicts[3][0] is False


# --- lazy modules and the tests that use them -------------------------------------------------

def test_a_lazy_module_imports_on_first_use_and_is_then_the_module():
    json_module = lazy("json.decoder")
    assert "not imported yet" in repr(json_module)
    assert json_module.JSONDecodeError is sys.modules["json.decoder"].JSONDecodeError
    assert "imported" in repr(json_module) and "not" not in repr(json_module)
    with pytest.raises(AttributeError, match="set attributes on the real module"):
        json_module.anything = 1


def test_a_missing_module_skips_saying_what_to_install():
    missing = lazy("no_such_package_for_lossbook.sub")
    with pytest.raises(pytest.skip.Exception, match="pip install no_such_package_for_lossbook"):
        missing.thing


#: A heavy stand-in for PyTorch, declared heavy only inside the test below (a lazy "torch" here
#: would make the root conftest mark this very test slow).
_heavy = lazy("lossbook_test_heavy_package")


def _helper_using_it():
    return _heavy.tensor


def _helper_calling_a_helper():
    return _helper_using_it()


def _plain_helper():
    return 1


def test_tests_that_use_a_lazy_heavy_module_are_found_without_importing_it(monkeypatch):
    monkeypatch.setitem(lazymodules.HEAVY, "lossbook_test_heavy_package", "heavy, for this test")

    def direct():
        return _heavy.zeros

    def through_helpers():
        return _helper_calling_a_helper()

    def in_a_lambda():
        return (lambda: _heavy.ones)

    def plain():
        return _plain_helper() + len("lossbook_test_heavy_package")

    for test in (direct, through_helpers, in_a_lambda):
        assert heavy_reason_of(test) == "heavy, for this test", test.__name__
    assert heavy_reason_of(plain) is None
    assert heavy_reason_of(plain, [(_plain_helper, lambda: _heavy.optim)]) is not None
    assert heavy_reason_of(plain, [1, "lossbook_test_heavy_package", (_plain_helper,)]) is None
    assert lazymodules.heavy_reason(lazy("json")) is None       # only HEAVY packages count
    assert "not imported yet" in repr(_heavy)                   # nothing was imported
    assert "PyTorch" in lazymodules.heavy_reason(lazy("torch.nn.functional"))


def test_a_test_file_that_imports_pytorch_when_collected_fails(request, root_conftest, monkeypatch):
    """The root conftest's collection hook, run on this file's module with a stand-in for
    PyTorch that appears in ``sys.modules`` while the module is collected."""
    monkeypatch.setitem(lazymodules.HEAVY, "lossbook_test_heavy_package", "heavy, for this test")
    module = request.node.getparent(pytest.Module)

    def collect(slow_reason=None):
        report = pytest.CollectReport(module.nodeid, "passed", None, [])
        monkeypatch.delitem(sys.modules, "lossbook_test_heavy_package", raising=False)
        monkeypatch.setattr(root_conftest, "_slow_reason", lambda path: slow_reason)
        hook = root_conftest.pytest_make_collect_report(module)
        next(hook)
        monkeypatch.setitem(sys.modules, "lossbook_test_heavy_package", types.ModuleType("stand-in"))

        class Outcome:
            def get_result(self):
                return report

        with pytest.raises(StopIteration):
            hook.send(Outcome())
        return report

    report = collect()
    assert report.outcome == "failed"
    assert report.longrepr.startswith("tests/setup/test_fast_lane.py imports lossbook_test_heavy_package when")
    assert "heavy, for this test" in report.longrepr
    assert "lossbook_test_heavy_package = lazy('lossbook_test_heavy_package')" in report.longrepr
    assert collect(slow_reason="a slow path").outcome == "passed"


# --- hypothesis in the fast lane -----------------------------------------------------------------

_tried = []


@settings(max_examples=40, deadline=None, database=None)
@given(st.integers())
def test_hypothesis_runs_in_both_lanes(value):
    _tried.append(value)


def test_the_fast_lane_tries_a_quarter_of_each_hypothesis_tests_examples(request, root_conftest):
    assert [root_conftest.fast_lane_examples(n) for n in (300, 200, 60, 40, 25, 10, 5)] == [75, 50, 15, 10, 10, 10, 5]
    in_the_fast_lane = root_conftest.fast_lane(request.config)
    expected = 10 if in_the_fast_lane else 40
    assert test_hypothesis_runs_in_both_lanes._hypothesis_internal_use_settings.max_examples == expected
    _tried.clear()
    test_hypothesis_runs_in_both_lanes()
    assert 0 < len(_tried) <= expected


@pytest.mark.parametrize("expression, fast", [
    ("not slow", True), ("not slow and not browser", True), ("not (slow or browser)", True),
    ("", False), ("slow", False), ("not browser", False), ("slow or not slow", False)])
def test_the_fast_lane_is_any_selection_that_leaves_out_the_slow_tests(root_conftest, expression, fast):
    config = types.SimpleNamespace(option=types.SimpleNamespace(markexpr=expression))
    assert root_conftest.fast_lane(config) is fast


def test_what_collection_built_is_kept_out_of_the_full_garbage_collections():
    assert gc.get_freeze_count() > 10_000
