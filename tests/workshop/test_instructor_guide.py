"""docs/instructor.md stays in step with the course: misconceptions, explorers, commands."""
from __future__ import annotations

import re
from pathlib import Path

from lossbook import exercises, explorers

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "instructor.md"
ROW = re.compile(r"^\| `([a-z0-9_]+)` \| ([^|]+?) \|", re.MULTILINE)


def test_every_misconception_the_checker_diagnoses_is_listed():
    listed = set(ROW.findall(GUIDE.read_text(encoding="utf-8")))
    catalog = {(e.id, m.name) for e in exercises.EXERCISES for m in e.misconceptions}
    assert catalog - listed == set(), "add these to the misconceptions table"
    assert listed - catalog == set(), "these are no longer in the catalog"


def test_every_explorer_and_lesson_has_a_demo():
    text = GUIDE.read_text(encoding="utf-8")
    demo = text.split("## What to demo", 1)[1].split("\n## ", 1)[0]
    for factory, (_module, lesson) in explorers.FACTORIES.items():
        assert f"`{factory}`" in demo, factory
        assert f"| {lesson[:2]} " in demo, lesson


def test_the_guide_covers_what_an_instructor_needs():
    text = GUIDE.read_text(encoding="utf-8")
    for needle in ("### 90 minutes", "### 3 hours", "lossbook release", "lossbook grade",
                   "environment.yml", "JupyterHub", "Binder", "make wheelhouse",
                   "LOSSBOOK_WHEELHOUSE", "lossbook workshop", "lossbook doctor"):
        assert needle in text, needle
