"""The attack corpus: every submission in attacks/*.toml gets exactly its expected grade.

All submissions are graded in one batch (``--jobs 2``, 2-second cell timeout), as an
instructor would; each test then checks one row: the exact points per exercise, the
status, the reasons, and that the submission file is byte-identical afterwards.
"""
import hashlib

import pytest

from builders import load_attacks
from lossbook.grading import grade
from lossbook.grading.gradebook import read_rows

ATTACKS = load_attacks()


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox_ok):
    root = tmp_path_factory.mktemp("submissions")
    paths = {attack.name: attack.write(root) for attack in ATTACKS}
    before = {name: hashlib.sha256(path.read_bytes()).hexdigest() for name, path in paths.items()}
    out = tmp_path_factory.mktemp("out") / "gradebook.csv"
    feedback = tmp_path_factory.mktemp("feedback")
    results = grade([root], out, jobs=2, cell_timeout=2.0, submission_timeout=20.0, feedback=feedback)
    by_source = {r.source: r for r in results}
    return {"paths": paths, "before": before, "results": by_source, "rows": read_rows(out), "all": results,
            "feedback": feedback}


def test_every_submission_has_a_row(graded):
    assert len(graded["all"]) == len(ATTACKS)
    assert len(graded["rows"]) == len(ATTACKS)


@pytest.mark.parametrize("attack", ATTACKS, ids=[a.name for a in ATTACKS])
def test_attack(graded, attack):
    path = graded["paths"][attack.name]
    result = graded["results"][str(path)]
    reasons = "; ".join(result.reasons)
    assert result.status == attack.spec.get("expect_status", "graded"), reasons
    assert result.lesson == attack.expected_lesson
    assert result.learner == attack.spec.get("expect_learner", attack.learner)
    assert result.points == attack.expected_points(), reasons
    for fragment in attack.spec.get("expect_reasons", []):
        assert fragment in reasons
    if any(v < full for v, full in zip(result.points.values(), result.max_points.values())):
        assert reasons, "a lost point always comes with a reason"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == graded["before"][attack.name]
    row = next(r for r in graded["rows"] if r["learner"] == result.learner and r["lesson"] == result.lesson)
    assert float(row["total"]) == sum(attack.expected_points().values())
    for exercise, points in attack.expected_points().items():
        assert float(row[exercise]) == points


def _expected_texts(lesson):
    import nbformat
    from builders import REPO
    from lossbook import notebook_roles as roles

    nb = nbformat.read(REPO / "solutions" / f"{lesson}.ipynb", as_version=4)
    return [line for _, cell in roles.cells_with_role(nb, roles.HIDDEN_TESTS)
            for out in cell.outputs for line in out.get("text", "").splitlines() if line.strip()]


@pytest.mark.parametrize("learner, exercise, diagnosis", [
    ("honest_all_wrong", "mse", "exactly n times too large"),
    ("honest_all_wrong", "mse_grad", "gradient has the wrong sign"),
    ("honest_partly_right", "mse", "right for 1-D input but not for 2-D"),
])
def test_feedback_diagnoses_from_printed_outputs(graded, learner, exercise, diagnosis):
    text = (graded["feedback"] / learner / "02_mse.md").read_text()
    section = text.split(f"## `{exercise}`")[1].split("\n## ")[0]
    assert "✘ not yet" in section and f"Likely mistake: {diagnosis}" in section


def test_feedback_for_everyone_and_never_the_expected_outputs(graded):
    expected = _expected_texts("02_mse")
    files = sorted(graded["feedback"].glob("*/*.md"))
    assert len(files) == len(ATTACKS)
    for path in files:
        text = path.read_text()
        for line in expected:
            assert line not in text, (path, line)
    passed = (graded["feedback"] / "honest_all_correct_different" / "02_mse.md").read_text()
    assert passed.count("✔ passed") == 2 and "Likely mistake" not in passed
