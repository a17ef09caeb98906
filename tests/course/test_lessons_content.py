"""Static checks of the lesson notebooks (notebooks/*.ipynb): the course's writing standards.

Each lesson follows one rhythm (title + learning objectives → intuition → derivation ending
in a boxed formula that the next code cell checks → explorer → summary → questions with
answers in <details> → exercise link), stores no errors and no widget views, keeps code
cells short, and gives every static figure alt text: the Markdown cell right *before* a
figure-producing cell holds a "*Figure: …*" sentence describing what the figure shows.
These tests read the stored notebooks only (nbval executes them separately).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest

from lossbook.explorers import FACTORIES

ROOT = Path(__file__).resolve().parents[2]
LESSON_IDS = [lesson for _module, lesson in FACTORIES.values()]
EXPLORER_OF = {lesson: name for name, (_module, lesson) in FACTORIES.items()}
MAX_CODE_LINES = 20
MIN_ALT_WORDS = 12
FIGURE_CALL = re.compile(r"\b\w+_figure\(")
EXPLORER_CALL = re.compile(r"\bexplorers\.(\w+)\(")
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def lesson_path(lesson: str) -> Path:
    return ROOT / "notebooks" / f"{lesson}.ipynb"


def load(lesson: str):
    return nbformat.read(lesson_path(lesson), as_version=4)


def markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def rendered_markdown(cell) -> str:
    """Markdown a code cell rendered (``display(Markdown(...))``), joined."""
    return "\n".join(o.get("data", {}).get("text/markdown", "") for o in cell.get("outputs", []))


def has_image(cell) -> bool:
    return any("image/png" in o.get("data", {}) for o in cell.get("outputs", []))


def makes_figure(cell) -> bool:
    return cell.cell_type == "code" and (has_image(cell) or bool(FIGURE_CALL.search(cell.source)))


def headed(cells, heading: str) -> list[int]:
    """Indices of the Markdown cells with a line starting with ``heading``."""
    return [i for i, c in enumerate(cells) if c.cell_type == "markdown" and re.search(f"^{heading}", c.source, re.M)]


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


def test_every_lesson_is_there_and_nothing_else():
    on_disk = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert on_disk == sorted(LESSON_IDS), (
        f"notebooks/ should hold exactly the lessons of docs/architecture.md: {LESSON_IDS}; found {on_disk}")


# ----------------------------------------------------------------------------- per lesson
lessons = pytest.mark.parametrize("lesson", LESSON_IDS)


@lessons
def test_metadata_names_the_lesson(lesson):
    nb = load(lesson)
    assert nb.metadata.get("lossbook", {}).get("lesson") == lesson, (
        f"{lesson}: set notebook metadata lossbook = {{'lesson': '{lesson}'}}")
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3", f"{lesson}: kernelspec must be python3"


@lessons
def test_title_and_learning_objectives_come_first(lesson):
    first = load(lesson).cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# "), (
        f"{lesson}: the first cell must be the Markdown title '# …'")
    assert "**Learning objectives.**" in first.source, (
        f"{lesson}: the first cell must list the learning objectives under '**Learning objectives.**'")


@lessons
def test_summary_and_questions_with_collapsed_answers(lesson):
    nb = load(lesson)
    cells = nb.cells
    summary, questions = headed(cells, "## Summary"), headed(cells, "## Questions")
    assert summary, f"{lesson}: no '## Summary' heading"
    assert questions, f"{lesson}: no '## Questions' heading"
    assert summary[0] <= questions[0], f"{lesson}: the summary must come before the questions"
    after = cells[questions[0]:]
    details = [c for c in after if "<details>" in (c.source if c.cell_type == "markdown" else rendered_markdown(c))]
    assert details, f"{lesson}: the answers to the questions belong in a collapsed <details> block"
    answer_cells = [i for i, c in enumerate(cells) if c.cell_type == "code" and "<details>" in rendered_markdown(c)]
    early = [i for i in answer_cells if i < questions[0]]
    shown = [i for i in answer_cells if not cells[i].metadata.get("jupyter", {}).get("source_hidden")]
    assert not shown, (f"{lesson}: cells {shown} compute the answers in plain sight; "
                       "hide their source (cell metadata jupyter.source_hidden = true)")
    assert not early, f"{lesson}: cells {early} render answers before the questions are asked"


@lessons
def test_explorer_cell_is_there_and_ignored_by_nbval(lesson):
    nb = load(lesson)
    calls = [(c, EXPLORER_CALL.findall(c.source)) for c in nb.cells if c.cell_type == "code"]
    calls = [(c, names) for c, names in calls if names]
    assert any(EXPLORER_OF[lesson] in names for _c, names in calls), (
        f"{lesson}: the lesson must show its explorer, explorers.{EXPLORER_OF[lesson]}()")
    for cell, _names in calls:
        assert "nbval-ignore-output" in cell.metadata.get("tags", []), (
            f"{lesson}: tag the explorer cell {cell.source!r} with nbval-ignore-output")
        last = cell.source.strip().splitlines()[-1]
        assert EXPLORER_CALL.search(last), f"{lesson}: the explorer call must be the cell's last expression"


@lessons
def test_explorer_comes_with_a_try_this_list(lesson):
    nb = load(lesson)
    index = next(i for i, c in enumerate(nb.cells)
                 if c.cell_type == "code" and f"explorers.{EXPLORER_OF[lesson]}(" in c.source)
    before = nb.cells[index - 1]
    assert before.cell_type == "markdown" and "**Try this**" in before.source, (
        f"{lesson}: the Markdown cell before the explorer needs a '**Try this**' list")


@lessons
def test_every_figure_has_alt_text_right_before_it(lesson):
    nb = load(lesson)
    for i, cell in enumerate(nb.cells):
        if not makes_figure(cell):
            continue
        before = nb.cells[i - 1] if i else None
        assert before is not None and before.cell_type == "markdown", (
            f"{lesson}: figure cell {i} needs a Markdown cell right before it with '*Figure: …*' alt text")
        match = re.search(r"\*Figure: (.+?)\*(?:\s|$)", before.source, re.S)
        assert match, f"{lesson}: the Markdown before figure cell {i} lacks a '*Figure: …*' sentence"
        words = len(match.group(1).split())
        assert words >= MIN_ALT_WORDS, (
            f"{lesson}: the alt text before figure cell {i} has {words} words; describe what the figure shows")
        assert "alt text" not in match.group(1).lower(), f"{lesson}: write the description, not 'alt text'"


@lessons
def test_boxed_formulas_are_checked_by_the_next_code_cell(lesson):
    """A derivation ends in a boxed formula; the next code cell prints its numeric check."""
    nb = load(lesson)
    boxed = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and r"\boxed" in c.source]
    if lesson != "00_welcome":
        assert boxed, f"{lesson}: no derivation ends in a \\boxed{{…}} formula"
    for i in boxed:
        following = next((c for c in nb.cells[i + 1:] if c.cell_type == "code"), None)
        assert following is not None, f"{lesson}: nothing checks the boxed formula in cell {i}"
        assert not makes_figure(following) and not EXPLORER_CALL.search(following.source), (
            f"{lesson}: the code cell after the boxed formula in cell {i} must check it numerically, "
            "not draw a figure")
        assert stdout(following).strip(), (
            f"{lesson}: the check after the boxed formula in cell {i} prints nothing")


@lessons
def test_exercise_link_points_at_an_existing_notebook(lesson):
    text = "\n".join(markdown(load(lesson)))
    if lesson == "00_welcome":
        assert "../workspace/" in text or "../exercises/" in text, "00_welcome: say where the exercises live"
        return
    assert f"](../workspace/{lesson}.ipynb)" in text, (
        f"{lesson}: link the learner's copy: [Exercises](../workspace/{lesson}.ipynb)")
    assert f"../exercises/{lesson}.ipynb" in text, f"{lesson}: name the pristine copy ../exercises/{lesson}.ipynb"
    assert (ROOT / "exercises" / f"{lesson}.ipynb").is_file(), f"{lesson}: exercises/{lesson}.ipynb does not exist"
    assert f"../workspace/{lesson}.ipynb" in load(lesson).cells[-1].source, (
        f"{lesson}: the lesson ends with the link to its exercises (make it the last cell)")


@lessons
def test_no_stored_errors_or_widget_views(lesson):
    nb = load(lesson)
    assert "widgets" not in nb.metadata, f"{lesson}: notebook metadata stores widget state; run tools.run_notebooks"
    for i, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"{lesson}: cell {i} stores an error"
            assert WIDGET_VIEW not in output.get("data", {}), f"{lesson}: cell {i} stores a widget view"
            text = output.get("text", "") + output.get("data", {}).get("text/plain", "")
            assert not re.search(r" at 0x[0-9a-f]+", text), f"{lesson}: cell {i} prints a memory address"
            assert output.get("name") != "stderr", f"{lesson}: cell {i} stores a warning or stderr output"


@lessons
def test_code_cells_are_short(lesson):
    for i, cell in enumerate(load(lesson).cells):
        if cell.cell_type == "code":
            lines = len(cell.source.splitlines())
            assert lines <= MAX_CODE_LINES, (
                f"{lesson}: code cell {i} has {lines} lines (at most {MAX_CODE_LINES}); move logic into lossbook")


@lessons
def test_no_helpers_for_plotting_or_grading_in_notebooks(lesson):
    for i, cell in enumerate(load(lesson).cells):
        if cell.cell_type == "code":
            assert not re.search(r"^\s*import matplotlib|plt\.|^\s*from matplotlib", cell.source, re.M), (
                f"{lesson}: cell {i} plots by hand; use a builder in lossbook/figures/lessons")


@lessons
def test_matplotlib_inline_before_any_static_figure(lesson):
    nb = load(lesson)
    code = [c for c in nb.cells if c.cell_type == "code"]
    if any(has_image(c) for c in code):
        assert "%matplotlib inline" in code[0].source, (
            f"{lesson}: the first code cell must say %matplotlib inline (the lesson shows static figures)")


@lessons
def test_check_cells_print_and_are_executed(lesson):
    nb = load(lesson)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        assert cell.get("execution_count") is not None, f"{lesson}: cell {i} was not executed; run tools.run_notebooks"
        if "nbval-check-output" in cell.metadata.get("tags", []):
            assert cell.outputs, f"{lesson}: cell {i} is tagged nbval-check-output but stores no output"


# ----------------------------------------------------------- the checks catch broken lessons
def _first(nb, predicate):
    return next(c for c in nb.cells if predicate(c))


def _strip_details(nb):
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = cell.source.replace("<details>", "")
        for output in cell.get("outputs", []):
            if "text/markdown" in output.get("data", {}):
                output["data"]["text/markdown"] = output["data"]["text/markdown"].replace("<details>", "")


def _drop_check_output(nb):
    boxed = next(i for i, c in enumerate(nb.cells) if c.cell_type == "markdown" and r"\boxed" in c.source)
    next(c for c in nb.cells[boxed + 1:] if c.cell_type == "code").outputs = []


BREAKAGES = {
    "wrong lesson id": (test_metadata_names_the_lesson,
                        lambda nb: nb.metadata["lossbook"].update(lesson="02_msee")),
    "no objectives": (test_title_and_learning_objectives_come_first,
                      lambda nb: setattr(nb.cells[0], "source", nb.cells[0].source.replace("Learning objectives", "Goals"))),
    "no summary": (test_summary_and_questions_with_collapsed_answers,
                   lambda nb: [setattr(c, "source", c.source.replace("## Summary", "## Recap")) for c in nb.cells]),
    "answers not collapsed": (test_summary_and_questions_with_collapsed_answers, _strip_details),
    "worked answers before the questions": (test_summary_and_questions_with_collapsed_answers,
                                            lambda nb: nb.cells.insert(1, nb.cells.pop(next(
                                                i for i, c in enumerate(nb.cells) if "<details>" in rendered_markdown(c))))),
    "answer code in plain sight": (test_summary_and_questions_with_collapsed_answers,
                                   lambda nb: next(c for c in nb.cells if "<details>" in rendered_markdown(c))
                                   .metadata.pop("jupyter")),
    "exercise link not last": (test_exercise_link_points_at_an_existing_notebook,
                               lambda nb: nb.cells.append(nbformat.v4.new_markdown_cell("The end."))),
    "explorer compared by nbval": (test_explorer_cell_is_there_and_ignored_by_nbval,
                                   lambda nb: _first(nb, lambda c: "explorers." in c.source and c.cell_type == "code")
                                   .metadata.update(tags=[])),
    "no try-this list": (test_explorer_comes_with_a_try_this_list,
                         lambda nb: [setattr(c, "source", c.source.replace("**Try this**", "Play:")) for c in nb.cells]),
    "figure without alt text": (test_every_figure_has_alt_text_right_before_it,
                                lambda nb: [setattr(c, "source", c.source.replace("*Figure:", "*Plot:")) for c in nb.cells]),
    "formula not checked": (test_boxed_formulas_are_checked_by_the_next_code_cell, _drop_check_output),
    "broken exercise link": (test_exercise_link_points_at_an_existing_notebook,
                             lambda nb: [setattr(c, "source", c.source.replace("../workspace/02_mse.ipynb", "../workspace/2.ipynb"))
                                         for c in nb.cells]),
    "stored error": (test_no_stored_errors_or_widget_views,
                     lambda nb: _first(nb, lambda c: c.cell_type == "code").outputs.append(
                         nbformat.v4.new_output("error", ename="ValueError", evalue="x", traceback=[]))),
    "stored widget view": (test_no_stored_errors_or_widget_views,
                           lambda nb: _first(nb, lambda c: c.cell_type == "code").outputs.append(
                               nbformat.v4.new_output("display_data", data={WIDGET_VIEW: {"model_id": "1"}}))),
    "long cell": (test_code_cells_are_short,
                  lambda nb: setattr(_first(nb, lambda c: c.cell_type == "code"), "source", "x = 1\n" * 21)),
    "no inline backend": (test_matplotlib_inline_before_any_static_figure,
                          lambda nb: setattr(_first(nb, lambda c: c.cell_type == "code"), "source", "import numpy as np")),
    "plotting by hand": (test_no_helpers_for_plotting_or_grading_in_notebooks,
                         lambda nb: nb.cells.append(nbformat.v4.new_code_cell("import matplotlib.pyplot as plt"))),
}


@pytest.mark.parametrize("breakage", list(BREAKAGES))
def test_the_checks_catch_a_broken_lesson(breakage, tmp_path, monkeypatch):
    check, break_it = BREAKAGES[breakage]
    (tmp_path / "notebooks").mkdir()
    (tmp_path / "exercises").symlink_to(ROOT / "exercises")
    nb = load("02_mse")
    check("02_mse")                                     # the real lesson passes ...
    break_it(nb)
    nbformat.write(nb, tmp_path / "notebooks" / "02_mse.ipynb")
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    with pytest.raises(AssertionError):                 # ... and the broken copy does not
        check("02_mse")
