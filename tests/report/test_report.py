"""The class report from synthetic results with known mistakes: counts, statistics, hostile text."""
from __future__ import annotations

import html
import re

import numpy as np
import pytest

from lossbook.grading.results import results_path, write_results
from lossbook.report import aggregate, build
from lossbook.report.aggregate import item_statistics

from classes import SIGN, SUM, exercise, mse_class, record, write_class


def test_three_of_five_summing_in_mse_are_counted(tmp_path):
    book = write_class(tmp_path, mse_class(n_sum=3, n=5))
    report = aggregate(book)
    assert report.learners == 5 and report.rows == 5 and not report.warnings
    (lesson,) = report.lessons
    mse, grad = lesson.exercises
    assert (mse.exercise, mse.submissions, mse.passed, mse.failed) == ("mse", 5, 2, 3)
    (sum_,) = mse.misconceptions
    assert (sum_.id, sum_.count, sum_.share) == ("sum", 3, 0.6)
    assert "average of the per-example losses" in sum_.reteach
    assert sum_.section_heading == "Why the mean and not the sum?" and sum_.explorer == "mse_line_fit"
    assert [(m.id, m.count) for m in grad.misconceptions] == [("sign", 1)]
    assert grad.pass_rate == 0.8


def test_the_html_and_markdown_show_the_counts(tmp_path):
    book = write_class(tmp_path, mse_class(n_sum=3, n=5))
    page = build(book, out=tmp_path / "r.html")
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    assert re.search(re.escape(SUM) + r"\s+\(\s*sum\s*\)\s+3\s+60%", text), "the sum row: 3 learners, 60%"
    assert "Pass rate 40%" in text and "Pass rate 80%" in text
    assert "Why the mean and not the sum?" in text and "explorers.mse_line_fit()" in text
    assert page.count('<img src="data:image/svg+xml;base64,') == 2 + 2 + 1   # overview ×2, one per exercise, item map
    md = build(book, fmt="md")
    assert f"| {SUM} (`sum`) | 3 | 60% |" in md
    assert "**Pass rate 40%** (2 of 5)" in md


def test_every_figure_has_alt_text_with_its_numbers(tmp_path):
    page = build(write_class(tmp_path, mse_class()), out=tmp_path / "r.html")
    alts = re.findall(r'<img [^>]*alt="([^"]*)"', page)
    assert len(alts) == 5 and all(len(a) > 40 for a in alts)
    assert any("sum: exactly n times too large" in html.unescape(a) and "3 of 5 (60%)" in a for a in alts)


def test_item_statistics_match_scipy_point_biserial():
    from scipy import stats
    rng = np.random.default_rng(5)
    ability = rng.normal(size=60)
    passed = (ability[:, None] + rng.normal(scale=0.8, size=(60, 4)) > 0).astype(float)   # four pass/fail items
    maxima = np.array([3.0, 2.0, 3.0, 1.0])
    scores = passed * maxima
    for j, (difficulty, discrimination) in enumerate(item_statistics(scores, maxima)):
        rest = scores.sum(axis=1) - scores[:, j]
        expected = stats.pointbiserialr(passed[:, j].astype(bool), rest).statistic
        assert difficulty == pytest.approx(passed[:, j].mean())
        assert discrimination == pytest.approx(expected, rel=1e-12)


def test_an_exercise_everyone_passes_is_flagged_as_not_separating(tmp_path):
    records = []
    for k in range(6):
        records.append(record(f"l{k}", "02_mse", [exercise("mse", 3 if k % 2 else 0), exercise("mse_grad", 3)]))
    report = aggregate(write_class(tmp_path, records))
    mse, grad = report.lessons[0].exercises
    assert grad.difficulty == 1.0 and grad.discrimination is None
    assert "every submission got full marks" in grad.flag
    assert mse.difficulty == 0.5


def test_a_class_of_one_and_an_empty_class(tmp_path):
    one = aggregate(write_class(tmp_path, mse_class(n_sum=1, n=1)))
    assert one.learners == 1 and one.lessons[0].exercises[0].misconceptions[0].count == 1
    assert "need at least 5" in one.lessons[0].statistics_note
    assert "<html" in build(tmp_path / "gradebook.csv", out=tmp_path / "one.html")
    empty = tmp_path / "empty"
    empty.mkdir()
    write_results(results_path(empty / "g.csv"), [])
    page = build(empty / "g.csv", out=empty / "r.html")
    assert "no rows yet" in page
    assert "no rows yet" in build(empty / "g.csv", fmt="md")


def test_learners_who_may_need_help_link_to_their_feedback(tmp_path):
    feedback = tmp_path / "feedback"
    records = mse_class(n_sum=3, n=5)
    records[0] = record("learner0", "02_mse", [exercise("mse", 0), exercise("mse_grad", 0, reasons=["all tests: timed out after 10 s"])],
                        status="timed-out", feedback=str(feedback / "learner0" / "02_mse.md"))
    records.append(record("learner0", "03_mae_huber", [exercise("mae", 0, reasons=["all tests: timed out"])],
                          status="timed-out"))
    report = aggregate(write_class(tmp_path, records))
    first = report.needs_help[0]
    assert first.learner == "learner0" and first.timeouts >= 2 and first.share == 0
    page = build(tmp_path / "gradebook.csv", out=tmp_path / "report.html")
    assert 'href="./feedback/learner0/02_mse.md"' in page
    # --feedback DIR: links to the files that exist there
    (feedback / "learner0").mkdir(parents=True)
    (feedback / "learner0" / "03_mae_huber.html").write_text("<p>x</p>")
    page = build(tmp_path / "gradebook.csv", out=tmp_path / "out" / "report.html", feedback=feedback)
    assert 'href="../feedback/learner0/03_mae_huber.html"' in page
    assert "02_mse.md" not in page   # not written in that folder: no dead link


HOSTILE = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'


def test_hostile_learner_names_messages_and_feedback_paths_are_escaped(tmp_path):
    records = [record(HOSTILE, "02_mse", [exercise("mse", 0, misconception=("x<script>", "</td><script>alert(3)</script>")),
                                         exercise("mse_grad", 0)],
                      feedback="javascript:alert(4)"),
               record("ok|`[x](http://evil)`", "<b>02</b>", [exercise("mse", 0)], feedback='"><script>alert(5)</script>')]
    book = write_class(tmp_path, records)
    page = build(book, out=tmp_path / "r.html")
    assert "<script" not in page.lower()
    assert "onerror=" not in page.replace("onerror=alert(2)&gt;", "")   # only ever as escaped text
    assert not re.search(r'href="(?!#|\./|\.\./)', page), "every link is in-page or a relative path"
    assert 'href="./javascript%3Aalert%284%29"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    md = build(book, fmt="md")
    assert "<script" not in md
    assert not re.search(r"(?<!\\)\]\(http", md), "a learner id cannot make a Markdown link"
    assert "\\|" in md   # a pipe in a learner id cannot break the table


def test_records_without_a_gradebook_row_and_rows_without_results_are_reported(tmp_path):
    book = write_class(tmp_path, mse_class())
    write_results(results_path(book), [record("newcomer", "02_mse", [exercise("mse", 3)])])
    warnings = aggregate(book).warnings
    assert any("not in the gradebook" in w for w in warnings)
    results_path(book).write_text("")  # results emptied: every CSV row lacks a record
    assert any("5 gradebook row(s) have no results record" in w for w in aggregate(book).warnings)


def test_the_command(tmp_path, capsys):
    from lossbook.cli import main

    book = write_class(tmp_path, mse_class())
    assert main(["report", str(book), "--out", str(tmp_path / "r.html")]) == 0
    assert (tmp_path / "r.html").read_text().startswith("<!doctype html>")
    assert main(["report", str(book), "--format", "md"]) == 0
    assert "| 3 | 60% |" in capsys.readouterr().out
    assert main(["report", str(tmp_path / "missing.csv"), "--out", str(tmp_path / "x.html")]) == 2
    assert "no results file" in capsys.readouterr().err
    assert main(["report", str(book)]) == 2
    assert "give --out FILE" in capsys.readouterr().err
    assert main(["report", str(book), "--out", str(tmp_path)]) == 2
