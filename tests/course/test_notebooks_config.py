"""nbval configuration of the course notebooks: what CI compares, and that nothing volatile hides in it.

nbval runs with ``--nbval-lax``: a cell's output is compared only when the cell is tagged
``nbval-check-output``. In solutions/ that is every check cell (a failing reference
solution fails CI) and every hidden-test cell (their stored outputs are the grader's
expected outputs, so they must be reproducible). exercises/ stores no outputs, so nothing
there may carry the tag.
"""
from __future__ import annotations

import configparser
import inspect
import re
import shlex
import sys
from pathlib import Path

import nbformat
import pytest

from lossbook import notebook_roles as roles

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
ADDOPTS = shlex.split(PYPROJECT["addopts"])
LESSONS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
EXERCISES = sorted((ROOT / "exercises").glob("*.ipynb"))


def _option(name: str) -> str | None:
    for option in ADDOPTS:
        if option == name:
            return ""
        if option.startswith(name + "="):
            return option.split("=", 1)[1]
    return None


def _sanitizer_patterns() -> list[tuple[re.Pattern, str]]:
    parser = configparser.ConfigParser()
    parser.read(ROOT / _option("--nbval-sanitize-with"))
    return [(re.compile(parser[section]["regex"]), parser[section]["replace"]) for section in parser.sections()]


def _compared_outputs(path: Path):
    """(cell id, text) of every stored output nbval compares in a notebook."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if roles.CHECK_OUTPUT_TAG in roles.tags_of(cell):
            for output in cell.get("outputs", []):
                for key, value in {"text": output.get("text"), **output.get("data", {})}.items():
                    if isinstance(value, str):
                        yield f"{path.name}:{cell.id}:{key}", value


def test_pytest_runs_every_notebook_folder_with_nbval():
    assert {"notebooks", "solutions", "exercises"} <= set(PYPROJECT["testpaths"])
    assert _option("--nbval-lax") == ""
    assert _option("--nbval-current-env") == ""
    assert int(_option("--nbval-cell-timeout")) > 0
    assert _option("--nbval-sanitize-with") == "lossbook/grading/sanitize.cfg"
    assert (ROOT / "lossbook" / "grading" / "sanitize.cfg").is_file()


def test_sanitizer_patterns_are_valid_and_active():
    patterns = _sanitizer_patterns()
    assert patterns
    text = "<function f at 0x7f3a2b1c> /tmp/pytest-of-root/x.ipynb"
    for regex, replace in patterns:
        text = regex.sub(replace, text)
    assert "0x7f3a2b1c" not in text and "/tmp/pytest-of-root" not in text


def test_solutions_and_exercises_exist():
    from lossbook.exercises import EXERCISES as REGISTRY   # one solution notebook per lesson with exercises
    assert [path.stem for path in SOLUTIONS] == sorted({exercise.lesson for exercise in REGISTRY})
    assert [path.name for path in EXERCISES] == [path.name for path in SOLUTIONS]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_check_and_hidden_test_cell_in_solutions_is_compared(path):
    nb = nbformat.read(path, as_version=4)
    graded = roles.cells_with_role(nb, roles.CHECK) + roles.cells_with_role(nb, roles.HIDDEN_TESTS)
    assert graded
    for _, cell in graded:
        assert roles.CHECK_OUTPUT_TAG in roles.tags_of(cell), cell.id
        assert cell.outputs, f"{cell.id}: no stored output to compare; run tools.run_notebooks"
    for cell in nb.cells:
        assert not {"nbval-skip", "nbval-ignore-output", "raises-exception"} & set(roles.tags_of(cell)), cell.id


@pytest.mark.parametrize("path", LESSONS, ids=lambda p: p.stem)
def test_interact_cells_in_lessons_ignore_their_output(path):
    """``interact`` re-renders on every run; nbval must not compare what it prints."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code" and re.search(r"\binteract(ive|_manual)?\(", cell.source):
            assert "nbval-ignore-output" in roles.tags_of(cell), f"{path.name}:{cell.get('id')}: tag it nbval-ignore-output"


@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_compared_outputs_need_no_sanitizing(path):
    """Compared outputs are stable as they are: no addresses, paths or timings for a sanitizer to hide,
    and no sanitizer pattern that could mask a wrong number in them."""
    patterns = _sanitizer_patterns()
    outputs = list(_compared_outputs(path))
    if path.parent.name == "solutions":
        assert outputs
    for where, text in outputs:
        for regex, _ in patterns:
            assert not regex.search(text), f"{where}: sanitizer {regex.pattern!r} rewrites {text!r}"
        assert not re.search(r"\d+(\.\d+)?\s*(ms|µs|seconds?)\b", text), f"{where}: a timing in compared output"


@pytest.mark.parametrize("path", EXERCISES, ids=lambda p: p.stem)
def test_exercises_compare_nothing(path):
    """Released notebooks have no stored outputs; a tagged cell would fail nbval by design."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        assert roles.CHECK_OUTPUT_TAG not in roles.tags_of(cell), cell.id
        if cell.cell_type == "code":
            assert cell.outputs == [], cell.id


@pytest.mark.parametrize("path", LESSONS + SOLUTIONS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_compared_cells_store_text_not_html(path):
    """A compared cell stores one rendering, the text nbval compares (tools/run_notebooks.py)."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if roles.CHECK_OUTPUT_TAG in roles.tags_of(cell):
            for output in cell.get("outputs", []):
                assert "text/html" not in output.get("data", {}), f"{path.name}:{cell.id}: HTML stored"


def test_nbval_compares_the_text_of_rich_outputs_not_their_html(request):
    """The root conftest adds text/html to what nbval skips, for every notebook it collects."""
    (conftest,) = [plugin for plugin in request.config.pluginmanager.get_plugins()
                   if getattr(plugin, "__file__", None) == str(ROOT / "conftest.py")]

    class IPyNbFile:                  # what the hook sees of nbval's collector
        skip_compare = ("metadata", "image/png")
        path = ROOT / "notebooks" / "00_welcome.ipynb"

        def setup(self):              # starts the kernel; the hook wraps it (own progress store)
            pass

    collector = IPyNbFile()
    conftest.pytest_collectstart(collector)
    assert collector.skip_compare == ("metadata", "image/png", "text/html")
    conftest.pytest_collectstart(collector)            # idempotent
    assert collector.skip_compare.count("text/html") == 1
    from nbval.plugin import IPyNbFile as Real         # the name and attribute nbval uses
    assert Real.__name__ == "IPyNbFile" and "skip_compare" in inspect.getsource(Real.__init__)


def test_notebooks_diff_and_merge_through_nbdime():
    """.gitattributes hands *.ipynb to nbdime's git drivers (README, "Developing")."""
    rules = [line.split() for line in (ROOT / ".gitattributes").read_text().splitlines()
             if line.strip() and not line.lstrip().startswith("#")]
    assert ["*.ipynb", "diff=jupyternotebook", "merge=jupyternotebook"] in rules


def test_the_grader_compares_with_the_same_sanitizer_as_the_tests():
    """One sanitizer file: the grader's comparison reads the file pytest's nbval runs use."""
    from lossbook.grading import compare

    assert compare.SANITIZER_FILE.resolve() == (ROOT / _option("--nbval-sanitize-with")).resolve()
    ours = [(re.compile(regex), replace) for regex, replace in compare.sanitize_patterns().items()]
    assert [(r.pattern, s) for r, s in ours] == [(r.pattern, s) for r, s in _sanitizer_patterns()]
    same, _ = compare.compare([{"output_type": "stream", "name": "stdout", "text": "at 0x7f00 in /tmp/a\n"}],
                              [{"output_type": "stream", "name": "stdout", "text": "at 0x1234 in /tmp/b\n"}])
    assert same
