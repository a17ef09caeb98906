"""Build learners' submissions for grading tests from the course's own notebooks.

A submission starts as the released exercise notebook (``exercises/<lesson>.ipynb``, what
a learner receives) with every answer cell filled in with the solution's answer (an
honest, complete learner); an attack then changes what it needs. Attacks are described
as data in ``tests/grading/attacks/*.toml`` (not ``.py``: pytest imports every ``.py``
under ``tests/`` for doctests, and attack code must never run in the test process).
"""
from __future__ import annotations

import copy
import json
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from lossbook import notebook_roles as roles

REPO = Path(__file__).resolve().parents[2]
ATTACKS = Path(__file__).with_name("attacks")


def read(path: Path):
    return nbformat.read(path, as_version=4)


def solution_answers(lesson: str) -> dict[str, str]:
    sol = read(REPO / "solutions" / f"{lesson}.ipynb")
    return {roles.exercise_of(c): roles.source_of(c) for _, c in roles.cells_with_role(sol, roles.ANSWER)}


def max_points(lesson: str) -> dict[str, float]:
    sol = read(REPO / "solutions" / f"{lesson}.ipynb")
    points: dict[str, float] = {}
    for _, cell in roles.cells_with_role(sol, roles.HIDDEN_TESTS):
        points[roles.exercise_of(cell)] = points.get(roles.exercise_of(cell), 0) + roles.points_of(cell)
    return points


def learner_copy(lesson: str, answers: dict[str, str] | None = None):
    """The released notebook with answers: the solution's, except those in ``answers``."""
    nb = read(REPO / "exercises" / f"{lesson}.ipynb")
    filled = {**solution_answers(lesson), **(answers or {})}
    for _, cell in roles.cells_with_role(nb, roles.ANSWER):
        cell.source = filled[roles.exercise_of(cell)]
    return nb


@dataclass
class Attack:
    """One submission from ``attacks/<name>.toml`` and the grade it must get."""

    name: str
    spec: dict = field(repr=False)

    @property
    def lesson(self) -> str:
        return self.spec.get("lesson", "02_mse")

    @property
    def expected_lesson(self) -> str:
        return self.spec.get("expect_lesson", self.lesson)

    @property
    def learner(self) -> str:
        return self.spec.get("learner", self.name)

    @property
    def filename(self) -> str:
        return self.spec.get("filename", f"{self.lesson}.ipynb")

    def expected_points(self) -> dict[str, float]:
        """Exact points per exercise: those in ``expect``, full marks for the others."""
        full = max_points(self.expected_lesson)
        if self.spec.get("expect_status", "graded") not in ("graded", "timed-out", "kernel-died"):
            full = {e: 0 for e in full}
        return {**full, **self.spec.get("expect", {})}

    def content(self) -> bytes:
        spec = self.spec
        if "raw" in spec:
            return spec["raw"].encode("utf-8")
        if "raw_repeat" in spec:
            text, times = spec["raw_repeat"]
            return (text * times).encode("utf-8")
        nb = learner_copy(self.lesson, spec.get("answers"))
        for role, source in spec.get("set_source", {}).items():
            for _, cell in roles.cells_with_role(nb, role):
                cell.source = source
        for role in spec.get("delete_roles", []):
            nb.cells = [c for c in nb.cells if roles.role_of(c) != role]
        for old, new in spec.get("retag", {}).items():
            for _, cell in roles.cells_with_role(nb, old):
                cell.metadata["lossbook"]["role"] = new
        for extra in spec.get("cells", []):
            cell = nbformat.v4.new_code_cell(extra["source"])
            if "role" in extra:
                cell.metadata["lossbook"] = {k: extra[k] for k in ("role", "exercise", "points") if k in extra}
            nb.cells.insert(extra.get("index", len(nb.cells)), cell)
        if spec.get("reverse_cells"):
            nb.cells.reverse()
        if "metadata_lesson" in spec:
            if spec["metadata_lesson"]:
                nb.metadata["lossbook"] = {"lesson": spec["metadata_lesson"]}
            else:
                nb.metadata.pop("lossbook", None)
        if spec.get("huge_output"):
            first = next(c for c in nb.cells if c.cell_type == "code")
            first.outputs = [nbformat.v4.new_output("stream", name="stdout", text="x" * spec["huge_output"])]
        data = json.loads(nbformat.writes(nb))
        if "cell_metadata" in spec:  # e.g. a list where a mapping belongs
            data["cells"][spec.get("cell_index", 0)]["metadata"] = spec["cell_metadata"]
        if "nbformat" in spec:
            data["nbformat"] = spec["nbformat"]
        return json.dumps(data, indent=1).encode("utf-8")

    @property
    def multi(self) -> bool:
        """A case of several files (``[[files]]``), checked by its expected ``[[rows]]``."""
        return "files" in self.spec

    def write(self, root: Path) -> Path:
        if self.multi:
            return self.write_files(root)[0]
        folder = root / self.learner if self.learner else root
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / self.filename
        if "symlink_to" in self.spec:
            path.symlink_to(REPO / self.spec["symlink_to"])
        else:
            path.write_bytes(self.content())
        return path

    def write_files(self, root: Path) -> list[Path]:
        """Each ``[[files]]`` entry: ``path`` under ``root``, built like a one-file case."""
        paths = []
        for entry in self.spec.get("files", []):
            path = root / entry["path"]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(Attack(self.name, entry).content())
            paths.append(path)
        return paths

    def paths(self, root: Path) -> list[Path]:
        if self.multi:
            return [root / entry["path"] for entry in self.spec["files"]]
        return [(root / self.learner if self.learner else root) / self.filename]


def load_attacks() -> list[Attack]:
    return [Attack(path.stem, tomllib.loads(path.read_text(encoding="utf-8")))
            for path in sorted(ATTACKS.glob("*.toml"))]
