"""Issue #12's teaching standards for lessons 00–04, read from the stored notebooks.

- One residual convention, r = ŷ − y: no lesson, figure label, explorer or exercise text
  of lessons 00–04 writes a residual or a loss as y − ŷ.
- Every explorer has a "predict first, then look" question and worked answers to its
  "Try this" list right after it; the end-of-lesson answers are "Worked answers".
- CS231n's gradient-check ladder appears in lesson 02 in the words ``check`` uses.
- Lesson 04 prints, from a cell, where naive BCE breaks in float64 and float32 (checked
  here against numpy directly); lesson 03 shows a high-leverage point moving MAE and Huber
  slopes, and marks its efficiency derivation "going deeper".
"""
from __future__ import annotations

import inspect
import re
from pathlib import Path

import nbformat
import numpy as np
import pytest

from lossbook.exercises import by_lesson
from lossbook.exercises.feedback import GRADIENT_LADDER

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ("00_welcome", "01_loss_vs_cost", "02_mse", "03_mae_huber", "04_cross_entropy")
EXPLORER_OF = {"00_welcome": "welcome", "01_loss_vs_cost": "loss_vs_cost", "02_mse": "mse_line_fit",
               "03_mae_huber": "robust_fit", "04_cross_entropy": "cross_entropy"}

#: y minus ŷ, as LaTeX (y_i - \hat y_i, y - \hat{y}) or Unicode (y − ŷ), and the code forms.
Y_MINUS_YHAT = re.compile(r"(?<![\w^])y(_\{?[ijk0-9]\}?)?\s*[-−]\s*(\\hat\s*\{?y\}?|ŷ)")
CODE_Y_MINUS_PRED = re.compile(r"\by(_true|_t)?\s*-\s*(y_hat|y_pred|y_p|p)\b")


def load(lesson: str):
    return nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)


def stdout(cell) -> str:
    return "".join(o.get("text", "") for o in cell.get("outputs", []) if o.get("output_type") == "stream")


@pytest.mark.parametrize("lesson", LESSONS)
def test_the_residual_is_y_hat_minus_y_in_every_lesson(lesson):
    for i, cell in enumerate(load(lesson).cells):
        pattern = Y_MINUS_YHAT if cell.cell_type == "markdown" else CODE_Y_MINUS_PRED
        found = pattern.search(cell.source)
        assert not found, (f"{lesson} cell {i}: {found.group(0)!r} — the course writes the residual as "
                           f"r = ŷ − y (prediction minus target)")


def test_the_residual_convention_holds_in_figures_explorers_and_exercises():
    import lossbook.exercises.catalog as catalog
    import lossbook.explorers.cross_entropy
    import lossbook.explorers.loss_vs_cost
    import lossbook.explorers.robust_fit
    import lossbook.explorers.welcome
    import lossbook.figures.lessons.lesson00_welcome
    import lossbook.figures.lessons.lesson01_loss_vs_cost
    import lossbook.figures.lessons.lesson02_mse
    import lossbook.figures.lessons.lesson03_mae_huber
    import lossbook.figures.lessons.lesson04_cross_entropy
    import lossbook.figures.loss_vs_cost
    import lossbook.figures.welcome

    modules = [lossbook.explorers.welcome, lossbook.explorers.loss_vs_cost, lossbook.explorers.robust_fit,
               lossbook.explorers.cross_entropy, lossbook.figures.welcome, lossbook.figures.loss_vs_cost,
               lossbook.figures.lessons.lesson00_welcome, lossbook.figures.lessons.lesson01_loss_vs_cost,
               lossbook.figures.lessons.lesson02_mse, lossbook.figures.lessons.lesson03_mae_huber,
               lossbook.figures.lessons.lesson04_cross_entropy]
    for module in modules:
        found = Y_MINUS_YHAT.search(inspect.getsource(module))
        assert not found, f"{module.__name__}: {found.group(0)!r}; write the residual as ŷ − y"
    assert catalog  # the exercises' texts: docstrings and hints (messages may name the mistake "y − ŷ")
    for lesson in LESSONS[1:]:
        for exercise in by_lesson()[lesson]:
            for text in (exercise.docstring, *exercise.hints):
                found = Y_MINUS_YHAT.search(text) or CODE_Y_MINUS_PRED.search(text)
                assert not found, f"{exercise.id}: {found.group(0)!r}"


def test_the_pattern_catches_the_ways_a_lesson_writes_y_minus_y_hat():
    for text in ("r_i = y_i - \\hat y_i", "(y - \\hat{y})^2", "|y − ŷ|", "residual r = y − ŷ"):
        assert Y_MINUS_YHAT.search(text), text
    for text in ("r_i = \\hat y_i - y_i", "(\\hat y - y)^2", "|ŷ − y|", "y_pred - y_true"):
        assert not Y_MINUS_YHAT.search(text), text
    assert CODE_Y_MINUS_PRED.search("r = y_t - y_p") and not CODE_Y_MINUS_PRED.search("r = y_p - y_t")


def _explorer_index(nb, lesson) -> int:
    return next(i for i, c in enumerate(nb.cells)
                if c.cell_type == "code" and f"explorers.{EXPLORER_OF[lesson]}(" in c.source)


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_explorer_asks_for_a_prediction_first(lesson):
    nb = load(lesson)
    try_this = nb.cells[_explorer_index(nb, lesson) - 1].source
    items = try_this.split("**Try this**", 1)[1]
    first = re.search(r"^1\. (.*)", items, re.M).group(1)
    assert first.startswith("**Predict first, then look.**"), f"{lesson}: the first Try-this item predicts first"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_try_this_list_has_worked_answers_right_after_the_explorer(lesson):
    nb = load(lesson)
    index = _explorer_index(nb, lesson)
    questions = re.findall(r"^(\d+)\. ", nb.cells[index - 1].source.split("**Try this**", 1)[1], re.M)
    after = nb.cells[index + 1]
    assert after.cell_type == "markdown" and after.source.startswith("<details>\n<summary>Worked answers (Try this)")
    assert after.source.rstrip().endswith("</details>")
    answers = re.findall(r"^(\d+)\. ", after.source, re.M)
    assert answers == questions, f"{lesson}: one worked answer per Try-this item"


@pytest.mark.parametrize("lesson", LESSONS)
def test_every_end_of_lesson_question_has_a_worked_answer(lesson):
    nb = load(lesson)
    cell = next(c for c in nb.cells if c.cell_type == "markdown" and "## Questions" in c.source)
    questions_part, _, answers_part = cell.source.partition("<summary>Worked answers</summary>")
    assert answers_part, f"{lesson}: the answers are collapsed under <summary>Worked answers</summary>"
    questions = re.findall(r"^(\d+)\. ", questions_part.split("## Questions", 1)[1], re.M)
    answers = re.findall(r"^(\d+)\. ", answers_part, re.M)
    assert questions and answers == questions
    assert all(len(a.split()) >= 8 for a in re.split(r"^\d+\. ", answers_part, flags=re.M)[1:]), (
        f"{lesson}: a worked answer shows the reasoning, not only a result")


def test_lesson_02_states_the_gradient_ladder_in_checks_words():
    text = "\n".join(c.source for c in load("02_mse").cells if c.cell_type == "markdown")
    assert GRADIENT_LADDER in text
    assert "acceptable near kinks" in text and "below 1e-4" in text and "`check`" in text


def test_lesson_04_prints_where_naive_bce_breaks_in_float64_and_float32():
    def first_inf(dtype) -> int:
        for z in range(1, 200):
            with np.errstate(divide="ignore", over="ignore"):
                p = dtype(1) / (dtype(1) + np.exp(-dtype(z)))
                if np.isinf(-np.log(dtype(1) - p)):
                    return z
        raise AssertionError("no overflow below 200")

    expected = {"float64": first_inf(np.float64), "float32": first_inf(np.float32)}
    assert expected == {"float64": 37, "float32": 17}  # the numbers, from numpy itself
    printed = "".join(stdout(c) for c in load("04_cross_entropy").cells if "naive_bce_in" in c.source)
    for name, z in expected.items():
        assert f"{name}: label 0, naive loss is inf from z = {z} on" in printed
    assert re.search(r"float64, z = 30: naive 30\.00\d+, exact 30\.000000, relative error \de-0[45]", printed)


def test_lesson_03_shows_leverage_and_marks_the_steep_derivation():
    cells = load("03_mae_huber").cells
    table = next(stdout(c) for c in cells if "slope_of_fit" in c.source)
    rows = {line[:22].strip(): [float(v) for v in line[22:].split()] for line in table.splitlines()[1:]}
    mse_, mae_, huber_ = rows["outlier in y (x = 2)"]
    assert abs(mae_ - 2) < 0.2 and abs(huber_ - 2) < 0.2 and abs(mse_ - 2) > 0.5  # capped pull in y
    assert all(abs(s - 2) > 1 for s in rows["outlier in x (x = 30)"])  # leverage moves all three
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    assert "### Going deeper: the efficiency" in text and "skip it on a first reading" in text
    assert "$C^1$" in text and "\\psi(r_i)\\,x_i" in text
