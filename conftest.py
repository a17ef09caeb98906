"""Test-session settings shared by every test (unit, notebook, browser), wherever collected.

- The learner's progress store is pointed at a temporary folder, so tests and nbval runs
  never write into the repository or the user's home.
- Each notebook nbval runs gets a progress store of its own (:func:`pytest_collectstart`): what
  a notebook's ``progress()`` prints must not depend on which notebooks ran before it.
- ``LOSSBOOK_NO_SKIPS=1`` (set by ``.ci/run``) turns every skipped test into a failure:
  a check that is skipped in CI is not a check. On a laptop, tests that need Chromium,
  bubblewrap or PyTorch skip with a message saying what to install.
- The fast lane: tests that start kernels, the grader's sandbox, JupyterLab in Chromium,
  or run notebooks through nbval are marked ``slow`` here, by path (:data:`SLOW`), so
  ``pytest -m "not slow"`` is the quick check while developing (README) and ``make test``
  still runs everything. With ``-m "not slow"`` those files are not even collected (nbval
  would otherwise parse every notebook only to deselect it).
- In the fast lane (any ``-m`` that leaves out ``slow``) each hypothesis test tries a quarter of
  the examples its ``@settings`` ask for, at least 10 (:data:`FAST_LANE_EXAMPLES`); ``make test``
  tries every one.
- A test file outside the slow paths that imports PyTorch when it is collected fails (seconds
  in the fast lane): its tests should use ``lazy("torch")`` (``tests/support/lazymodules.py``).
- What collection builds is frozen out of the garbage collector's full passes (``gc.freeze``).
- The fast lane stays fast: a test that is not marked ``slow`` may not start a Jupyter kernel
  (ipykernel, the grader's sandboxed kernel or fork server), JupyterLab/Voilà, Chromium,
  Playwright's driver, a Dask cluster or JupyterHub (:data:`HEAVY_COMMANDS`): the
  ``subprocess.Popen`` is refused and the test fails, saying to mark it ``slow``. This runs in
  every lane, so ``make test`` (CI) catches a heavy test that lost its marker.
- nbval compares the text of rich outputs, not their HTML (:data:`NBVAL_NOT_COMPARED`):
  ``check``'s verdict is shown as HTML in JupyterLab and as the same verdict in
  ``text/plain``; the text is what is compared (and the only copy stored, see
  ``tools/run_notebooks.py``), so a style change in the HTML fails nothing.
"""
import functools
import gc
import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ["LOSSBOOK_PROGRESS_DIR"] = tempfile.mkdtemp(prefix="lossbook-progress-")

NO_SKIPS = os.environ.get("LOSSBOOK_NO_SKIPS") == "1"
ROOT = Path(__file__).resolve().parent

#: Paths (relative to the repository) whose tests are all slow, and why. Notebooks
#: (``*.ipynb``, run by nbval in a kernel) are slow wherever they are.
SLOW = {
    "tests/browser": "JupyterLab and Voilà in headless Chromium",
    "tests/grading/test_attacks.py": "sandboxed kernels running the attack corpus",
    "tests/grading/test_course.py": "grades the course's notebooks in sandboxed kernels",
    "tests/grading/test_sandbox.py": "sandboxed kernels",
    "tests/exercises/test_in_kernel.py": "check() inside real kernels",
    "tests/workshop/test_workshop.py": "builds and serves the Voilà pages",
    "tests/setup/test_course_lab.py": "starts JupyterLab through course.py",
    # Minutes of CPU with little new per test: optimisers run to convergence against
    # scikit-learn, hypothesis property searches, every explorer swept over every control.
    "tests/train/test_fit.py": "optimisers run to convergence against scikit-learn",
    "tests/train/test_nn_torch.py": "imports PyTorch (seconds) and trains beside it",
    "tests/math/test_properties.py": "hypothesis property searches over every loss",
    "tests/math/test_fast_sums.py": "hypothesis searches of the fast sums at block boundaries",
    # Fresh interpreters: each check starts Python (and import-linter) in a subprocess.
    "tests/setup/test_import_hygiene.py": "fresh Python interpreters, one per import check",
    "tests/setup/test_layers.py": "import-linter's contracts, run in subprocesses",
    "tests/exercises/test_robustness.py": "forked checks under load (BLAS threads, time-outs)",
    **{f"tests/explorers/test_{name}.py": "every control of an explorer swept, frames drawn"
       for name in ("barron", "cross_entropy", "hinge_margin", "loss_vs_cost", "mse_line_fit",
                    "outlier_experiment", "regularization_paths", "robust_fit", "welcome",
                    "calibration", "embedding_forces", "network_training",
                    "regularization_paths_claims")},
}
#: Single tests (path::name prefix) that start kernels in otherwise quick files.
SLOW_TESTS = {
    "tests/grading/test_units.py::test_lossbook_check_runs_visible_checks": "runs notebooks in kernels",
    "tests/course/test_release.py::test_released_answers_run": "runs notebooks in kernels",
    "tests/grading/test_units.py::test_no_sandbox_rows_say_so": "grades in a (non-sandboxed) kernel",
    # Seconds each (measured in the fast lane, load 4-8), with little that quicker tests miss:
    "tests/grading/test_units.py::test_remove_tree_removes_a_chain_deeper_than_the_recursion_limit":
        "builds and removes a very deep folder chain",
    "tests/grading/test_cluster.py::test_unreachable_scheduler_names_the_option_and_the_fix":
        "waits for a connection to time out",
    "tests/grading/test_compare.py::test_verdicts_are_nbvals": "a hypothesis search against nbval",
    "tests/hub/test_hub_command.py::test_leftover_processes_of_the_hub_are_found_and_ended":
        "waits for processes that ignore SIGTERM",
    "tests/exercises/test_feedback.py::test_renderings_are_identical_in_a_fresh_process":
        "a fresh interpreter importing the course",
    # choose_loss checked in-process: 8 data sets x 3 losses x 300 descent steps under the
    # forbidden-call profile hook, about a second of CPU each (the same checks run forked in slow).
    **{f"tests/exercises/test_catalog.py::{name}[inprocess-choose_loss]": "a second of CPU per choose_loss check"
       for name in ("test_reference_passes", "test_stored_solution_passes")},
    # Builds every explorer (about a second of CPU each, 11 s in all); the fast lane builds the
    # first (welcome), checks every explorer's alt text without building it, and that the canvas
    # is named by it (test_every_explorer_class_has_alt_text, ..._named_by_the_figures_alt_text).
    **{f"tests/explorers/test_frame_canvas.py::test_every_explorer_has_alt_text_on_its_canvas[{name}]":
       "builds an explorer (about a second of CPU)"
       for name in ("loss_vs_cost", "mse_line_fit", "robust_fit", "cross_entropy", "hinge_margin",
                    "regularization_paths", "outlier_experiment", "barron", "network_training",
                    "calibration", "embedding_forces")},
    # Imports PyTorch inside the test (the lazily imported ones are found by _heavy_reference).
    "tests/math/test_buffer_blocks.py::test_real_blocks_match_torch":
        "a PyTorch cross-check (importing PyTorch costs about 2 s of CPU)",
    # The three tests of the `graded` fixture: one sandboxed grading batch (about 100 s).
    **{f"tests/grading/test_agreement.py::{name}": "grades a corpus in sandboxed kernels"
       for name in ("test_check_and_grade_give_the_same_verdict_per_exercise",
                    "test_forbidden_implementations_give_the_same_reason",
                    "test_honest_answers_written_differently_pass_both")},
}


#: What a test outside the ``slow`` lane may not start (a word of the command line, or a part
#: of one), and why it is heavy. Cheap child processes (``python -c``, ``lossbook --version``,
#: ``bwrap ... true`` for a read-only mount, lint-imports) stay allowed.
HEAVY_COMMANDS = {
    "ipykernel": "a Jupyter kernel",
    "--lossbook-report=": "the grader's sandboxed kernel",
    "forkserver.py": "the grader's fork server",
    "jupyter": "a Jupyter server or kernel",
    "voila": "a Voilà server",
    "chromium": "a browser",
    "run-driver": "Playwright's driver (a browser)",
    "dask": "a Dask scheduler or worker",
    "jupyterhub": "JupyterHub",
    "configurable-http-proxy": "JupyterHub's proxy",
}


def heavy_command(args) -> str | None:
    """What is heavy about the command line ``args`` (see :data:`HEAVY_COMMANDS`), or None."""
    words = [os.fspath(a) for a in args] if isinstance(args, (list, tuple)) else str(args).split()
    for before, word in zip([None, *words], words):
        if before == "-c":  # Python code given on the command line, not a program's name
            continue
        name = os.path.basename(word)
        for part, what in HEAVY_COMMANDS.items():
            if part in name or (part.endswith("=") and word.startswith(part)):
                return f"{what} ({word})"
    return None


class _FastLaneGuard:
    """Refuses heavy child processes while a test outside the ``slow`` lane runs."""

    def __init__(self):
        self.offenses: list[str] = []

    def __enter__(self):
        import subprocess

        self._original = original = subprocess.Popen.__init__
        guard = self

        def refusing_init(popen, args, *more, **kwargs):
            what = heavy_command(args)
            if what is not None:
                guard.offenses.append(what)
                raise RuntimeError(f"a test outside the slow lane started {what}: mark it @pytest.mark.slow "
                                   "(or add its path to SLOW in the root conftest.py)")
            return original(popen, args, *more, **kwargs)

        subprocess.Popen.__init__ = refusing_init
        return self

    def __exit__(self, *exc):
        import subprocess

        subprocess.Popen.__init__ = self._original


@pytest.fixture(autouse=True)
def fast_lane_guard(request):
    """In a test not marked ``slow``: refuse heavy child processes, then fail the test if it tried
    (even when the code under test caught the refusal and went on)."""
    if request.node.get_closest_marker("slow") is not None:
        yield None
        return
    with _FastLaneGuard() as guard:
        yield guard
    if guard.offenses:
        pytest.fail("not marked slow, but started " + "; ".join(guard.offenses)
                    + ": mark it @pytest.mark.slow (or add its path to SLOW in the root conftest.py)",
                    pytrace=False)


#: Output renderings nbval does not compare (added to its ``skip_compare``): HTML always
#: comes with a ``text/plain`` rendering of the same object, and that text is compared.
NBVAL_NOT_COMPARED = ("text/html",)


def pytest_collectstart(collector):
    """Before nbval collects a notebook's cells: compare text, not HTML, and give the notebook's
    kernel a fresh progress store of its own."""
    if type(collector).__name__ != "IPyNbFile":
        return
    skip = getattr(collector, "skip_compare", None)
    if isinstance(skip, tuple):
        collector.skip_compare = skip + tuple(m for m in NBVAL_NOT_COMPARED if m not in skip)
    collector.setup = _with_own_progress_store(collector.setup, collector.path.stem)


def _with_own_progress_store(start_kernel, notebook: str):
    """``start_kernel`` (nbval's ``IPyNbFile.setup``, which launches the kernel with this
    process's environment) run with ``LOSSBOOK_PROGRESS_DIR`` pointing at a new empty folder;
    the session's store is restored once the kernel has started."""
    def setup():
        session_store = os.environ["LOSSBOOK_PROGRESS_DIR"]
        os.environ["LOSSBOOK_PROGRESS_DIR"] = tempfile.mkdtemp(prefix=f"lossbook-progress-{notebook}-")
        try:
            start_kernel()
        finally:
            os.environ["LOSSBOOK_PROGRESS_DIR"] = session_store
    return setup


def _relative(path: Path) -> str | None:
    return _relative_of(os.fspath(path))


@functools.lru_cache(maxsize=None)  # once per file, not once per test (resolve() asks the disk)
def _relative_of(path: str) -> str | None:
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return None


def _slow_reason(path: Path) -> str | None:
    return _slow_reason_of(os.fspath(path))


@functools.lru_cache(maxsize=None)
def _slow_reason_of(path: str) -> str | None:
    if Path(path).suffix == ".ipynb":
        return "a notebook run by nbval"
    relative = _relative_of(path)
    if relative is None:
        return None
    for prefix, reason in SLOW.items():
        if relative == prefix or relative.startswith(prefix + "/"):
            return reason
    return None


def _marks_of(path: Path) -> set[str]:
    relative = _relative(path) or ""
    return {"slow", "browser"} if relative.startswith("tests/browser") else {"slow"}


def _deselected(path: Path, config) -> bool:
    """True when ``-m`` deselects every test of ``path`` (one of the slow paths)."""
    expression = config.option.markexpr
    if not expression or _slow_reason(path) is None:
        return False
    marks = _marks_of(path)
    try:
        from _pytest.mark.expression import Expression

        return not Expression.compile(expression).evaluate(lambda name, **kwargs: name in marks)
    except Exception:  # noqa: BLE001 - an unknown pytest: collect everything, deselect later
        return False


def pytest_ignore_collect(collection_path, config):
    return True if _deselected(collection_path, config) else None


def _heavy_reference(item) -> str | None:
    """Why ``item`` is slow if it uses a lazily imported heavy module (PyTorch), else None
    (``tests/support/lazymodules.py``)."""
    from lazymodules import heavy_reason_of

    function = getattr(item, "function", None)
    params = getattr(getattr(item, "callspec", None), "params", {})
    return heavy_reason_of(function, params.values()) if function is not None else None


def fast_lane(config) -> bool:
    """True when ``-m`` leaves out the ``slow`` tests (``pytest -m "not slow"``)."""
    expression = config.option.markexpr
    if not expression:
        return False
    try:
        from _pytest.mark.expression import Expression

        return not Expression.compile(expression).evaluate(lambda name, **kwargs: name == "slow")
    except Exception:  # noqa: BLE001 - an unknown pytest: the full counts, as in make test
        return False


#: In the fast lane each hypothesis test tries this fraction of the examples its ``@settings``
#: ask for, and at least :data:`FAST_LANE_MIN_EXAMPLES`; ``make test`` tries every one.
FAST_LANE_EXAMPLES = 1 / 4
FAST_LANE_MIN_EXAMPLES = 10


def fast_lane_examples(max_examples: int) -> int:
    """How many of a hypothesis test's ``max_examples`` the fast lane tries."""
    return min(max_examples, max(FAST_LANE_MIN_EXAMPLES, int(max_examples * FAST_LANE_EXAMPLES)))


def _try_fewer_examples(function) -> None:
    """Give the hypothesis test ``function`` the fast lane's share of its examples (once: the
    items of a parametrized test share the function)."""
    from hypothesis import settings

    current = getattr(function, "_hypothesis_internal_use_settings", None)  # where @settings puts them
    if current is None or getattr(function, "_lossbook_fast_lane_examples", False):
        return
    function._hypothesis_internal_use_settings = settings(
        current, max_examples=fast_lane_examples(current.max_examples))
    function._lossbook_fast_lane_examples = True


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Mark ``slow``: every test under a :data:`SLOW` path, every notebook cell, the tests of
    :data:`SLOW_TESTS`, and every test that uses a lazily imported heavy module (PyTorch).
    In the fast lane, hypothesis tests try fewer examples (:data:`FAST_LANE_EXAMPLES`)."""
    fewer_examples = fast_lane(config)
    for item in items:
        if item.get_closest_marker("slow"):
            continue
        node = f"{_relative(item.path)}::{item.name}"
        slow = (_slow_reason(item.path) is not None or any(node.startswith(t) for t in SLOW_TESTS)
                or _heavy_reference(item) is not None)
        if slow:
            item.add_marker(pytest.mark.slow)
        elif fewer_examples and getattr(getattr(item, "function", None), "is_hypothesis_test", False):
            _try_fewer_examples(item.function)


def pytest_collectreport(report):
    """What collection builds (modules, test items, the course's objects) lives to the end of
    the session: keep it out of the garbage collector's full passes, which would otherwise walk
    all of it again and again, ever more as collection goes on (about 1 s of CPU while the fast
    lane is collected, and up to a second per full pass while it runs). Frozen after each
    collector, so that the passes during collection skip what is already collected too."""
    gc.freeze()


def pytest_collection_finish(session):
    gc.freeze()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if NO_SKIPS and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped, but LOSSBOOK_NO_SKIPS=1 forbids skipping in CI: {reason}"


def _heavy_modules_loaded() -> set[str]:
    from lazymodules import HEAVY

    return {name for name in HEAVY if name in sys.modules}


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """A test file outside the slow paths that imports PyTorch when collected fails (it would
    cost seconds in the fast lane): its tests should use a lazy module (``lazymodules``)."""
    heavy_before = _heavy_modules_loaded()
    outcome = yield
    report = outcome.get_result()
    imported = sorted(_heavy_modules_loaded() - heavy_before)
    if imported and report.passed and isinstance(collector, pytest.File) and _slow_reason(collector.path) is None:
        from lazymodules import HEAVY

        report.outcome = "failed"
        report.longrepr = (f"{_relative(collector.path) or collector.path} imports {', '.join(imported)} when it is "
                           f"collected ({HEAVY[imported[0]]}), in the fast lane too: write "
                           f"`{imported[0]} = lazy({imported[0]!r})` (from lazymodules import lazy, "
                           "tests/support/lazymodules.py); the tests that use it are then marked slow")
    if NO_SKIPS and report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"module skipped, but LOSSBOOK_NO_SKIPS=1 forbids skipping in CI: {reason}"
