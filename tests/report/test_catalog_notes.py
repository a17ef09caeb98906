"""Every catalogued misconception tells the instructor what to reteach and where the course teaches it."""
from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

import pytest

from lossbook.exercises import EXERCISES
from lossbook.exercises.diagnosis import GENERIC
from lossbook.explorers import FACTORIES

ROOT = Path(__file__).resolve().parents[2]
MISCONCEPTIONS = [(e, m) for e in EXERCISES for m in e.misconceptions]


@lru_cache(maxsize=None)
def headings(lesson: str) -> frozenset[str]:
    """The Markdown headings (text after the #s) of notebooks/<lesson>.ipynb."""
    path = ROOT / "notebooks" / f"{lesson}.ipynb"
    assert path.exists(), f"no lesson notebook {path}"
    found = set()
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                match = re.match(r"^#{1,6}\s+(.*?)\s*$", line)
                if match:
                    found.add(match.group(1))
    return frozenset(found)


def test_the_catalog_has_misconceptions_to_check():
    assert len(MISCONCEPTIONS) > 100


@pytest.mark.parametrize("exercise,misconception", MISCONCEPTIONS,
                         ids=[f"{e.id}:{m.name}" for e, m in MISCONCEPTIONS])
def test_every_misconception_has_a_specific_reteach_note_and_a_place(exercise, misconception):
    note = misconception.reteach
    assert note and note.strip() == note, f"{exercise.id}/{misconception.name}: no reteach note"
    assert 40 <= len(note) <= 220, f"{exercise.id}/{misconception.name}: a one-line note of 40-220 characters"
    assert "\n" not in note
    assert note != misconception.message, "the note tells the instructor what to teach, not the learner's message"
    assert misconception.section or misconception.explorer, f"{exercise.id}/{misconception.name}: no section or explorer"


def test_reteach_notes_are_not_one_sentence_pasted_everywhere():
    notes = [m.reteach for _, m in MISCONCEPTIONS]
    # The same mistake (sum instead of mean) may share a note; everything else is specific.
    from collections import Counter

    repeated = {n: c for n, c in Counter(notes).items() if c > 1 and "average of the per-example losses" not in n}
    assert not repeated, repeated


@pytest.mark.parametrize("exercise,misconception", [(e, m) for e, m in MISCONCEPTIONS if m.section],
                         ids=[f"{e.id}:{m.name}" for e, m in MISCONCEPTIONS if m.section])
def test_every_named_section_is_a_heading_of_its_lesson_notebook(exercise, misconception):
    lesson, sep, heading = misconception.section.partition(": ")
    assert sep, f"section {misconception.section!r}: write it as '<lesson id>: <heading>'"
    assert heading in headings(lesson), (f"{exercise.id}/{misconception.name}: {heading!r} is not a heading of "
                                         f"notebooks/{lesson}.ipynb ({sorted(headings(lesson))})")


@pytest.mark.parametrize("exercise,misconception", [(e, m) for e, m in MISCONCEPTIONS if m.explorer],
                         ids=[f"{e.id}:{m.name}" for e, m in MISCONCEPTIONS if m.explorer])
def test_every_named_explorer_exists(exercise, misconception):
    assert misconception.explorer in FACTORIES, f"{misconception.explorer!r} is not in lossbook.explorers.FACTORIES"


@pytest.mark.parametrize("generic_id", sorted(GENERIC))
def test_generic_patterns_have_notes_and_real_sections(generic_id):
    note, section = GENERIC[generic_id]
    assert 40 <= len(note) <= 220
    if section:
        lesson, _, heading = section.partition(": ")
        assert heading in headings(lesson)


def test_misconception_keys_are_unique_within_each_exercise():
    for exercise in EXERCISES:
        names = [m.name for m in exercise.misconceptions]
        assert len(names) == len(set(names)), exercise.id
        assert not any(n.startswith("generic:") for n in names)
