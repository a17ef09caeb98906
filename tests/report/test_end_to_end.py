"""Grade real notebooks with `lossbook grade`, then report and export from what it wrote."""
from __future__ import annotations

import csv
import io
import json
import os
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "grading"))
from builders import learner_copy  # noqa: E402

SUMMED = "def mse(y_true, y_pred):\n    return float(np.sum((y_pred - y_true) ** 2))\n"
WRONG_SIGN = "def mse_grad(y_true, y_pred):\n    return 2 * (y_true - y_pred) / y_pred.size\n"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    from lossbook.grading.sandbox import find_bwrap

    if find_bwrap() is None:
        message = "bubblewrap (bwrap) is missing: apt-get install bubblewrap to grade in these tests"
        if os.environ.get("LOSSBOOK_REQUIRE_SANDBOX") == "1" or os.environ.get("LOSSBOOK_NO_SKIPS") == "1":
            pytest.fail(message)
        pytest.skip(message)
    from lossbook.cli import main

    root = tmp_path_factory.mktemp("class")
    answers = [{"mse": SUMMED}, {"mse": SUMMED}, {"mse": SUMMED, "mse_grad": WRONG_SIGN}, {}, {}]
    for k, wrong in enumerate(answers):
        (root / "subs" / f"learner{k}").mkdir(parents=True)
        nbformat.write(learner_copy("02_mse", wrong), root / "subs" / f"learner{k}" / "02_mse.ipynb")
    status = main(["grade", str(root / "subs"), "--out", str(root / "gradebook.csv"), "--jobs", "2",
                   "--feedback", str(root / "feedback")])
    assert status == 0
    return root


def test_grade_writes_the_results_beside_the_gradebook(graded):
    lines = (graded / "gradebook.results.jsonl").read_text(encoding="utf-8").splitlines()
    records = {json.loads(line)["learner"]: json.loads(line) for line in lines}
    assert len(records) == 5
    with open(graded / "gradebook.csv", newline="", encoding="utf-8") as handle:
        csv_rows = {r["learner"]: r for r in csv.DictReader(handle)}
    for learner, data in records.items():
        assert float(csv_rows[learner]["total"]) == data["total"]
        assert csv_rows[learner]["content_hash"] == data["content_hash"]
        assert data["feedback"] == str(graded / "feedback" / learner / "02_mse.md")
    mse = {learner: r["exercises"][0] for learner, r in records.items()}
    assert [mse[f"learner{k}"]["misconception"]["id"] for k in range(3)] == ["sum"] * 3
    assert records["learner2"]["exercises"][1]["misconception"]["id"] == "sign"
    assert mse["learner3"]["status"] == "passed" and mse["learner3"]["misconception"] is None


def test_the_report_counts_three_of_five_summing(graded, capsys):
    from lossbook.cli import main

    assert main(["report", str(graded / "gradebook.csv"), "--format", "md"]) == 0
    md = capsys.readouterr().out
    assert "| exactly n times too large: did you sum instead of averaging? (`sum`) | 3 | 60% |" in md
    assert "**Pass rate 40%** (2 of 5)" in md and "**Pass rate 80%** (4 of 5)" in md
    assert main(["report", str(graded / "gradebook.csv"), "--out", str(graded / "report.html")]) == 0
    page = (graded / "report.html").read_text(encoding="utf-8")
    assert 'href="./feedback/learner2/02_mse.md"' in page   # 0 of 6: may need help, linked to the feedback


def test_export_from_the_graded_class(graded, capsys):
    from lossbook.cli import main

    roster = graded / "roster.csv"
    roster.write_text("learner,name,id,email\n" + "".join(f"learner{k},L{k},{k},l{k}@x\n" for k in range(5)))
    assert main(["export", str(graded / "gradebook.csv"), "--to", "canvas", "--roster", str(roster)]) == 0
    out = list(csv.reader(io.StringIO(capsys.readouterr().out)))
    assert out[1][5] == "6" and [r[5] for r in out[2:]] == ["3", "3", "0", "6", "6"]
