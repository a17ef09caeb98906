r"""Write the learners' exercise notebooks (``exercises/``) from the solutions (``solutions/``).

``solutions/<lesson>.ipynb`` is the single source of each lesson's exercises. Releasing a
solution notebook

- replaces each answer cell's source with the exercise's starter code (the cell's own
  ``metadata.lossbook.starter`` when present, else ``lossbook.exercises.get(id).starter``),
  which ends in ``raise NotImplementedError``;
- removes the hidden-test cells;
- clears every output and execution count;
- keeps the notebook and cell metadata (lesson, roles, tags, cell ids), except the
  ``nbval-check-output`` tag (on check cells): it tells nbval to compare the reference
  solution's stored output, and a released copy has no stored output to compare.

The result is a pure function of the solution notebook and the exercise registry, so
releasing twice writes the same bytes. Files are written atomically
(:func:`lossbook._files.write_atomically`), only when their content changes, and files in
the output folder that release does not produce are never touched.

Examples
--------
>>> import nbformat
>>> from types import SimpleNamespace
>>> registry = {"mse": SimpleNamespace(lesson="02_mse", starter="def mse(y_true, y_pred):\n    raise NotImplementedError\n")}.get
>>> nb = nbformat.v4.new_notebook(metadata={"lossbook": {"lesson": "02_mse"}})
>>> answer = nbformat.v4.new_code_cell("def mse(y_true, y_pred):\n    return 0.0", id="mse-answer")
>>> answer.metadata["lossbook"] = {"role": "answer", "exercise": "mse"}
>>> check = nbformat.v4.new_code_cell('check("mse", mse)', id="mse-check")
>>> check.metadata.update(lossbook={"role": "check", "exercise": "mse"}, tags=["nbval-check-output"])
>>> hidden = nbformat.v4.new_code_cell("show(mse(y, p))", id="mse-hidden")
>>> hidden.metadata["lossbook"] = {"role": "hidden-tests", "exercise": "mse", "points": 1}
>>> nb.cells = [answer, check, hidden]
>>> released = release_notebook(nb, registry)
>>> [cell.source for cell in released.cells]
['def mse(y_true, y_pred):\n    raise NotImplementedError', 'check("mse", mse)']
>>> released.cells[1].metadata
{'lossbook': {'role': 'check', 'exercise': 'mse'}}
"""
from __future__ import annotations

import ast
import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from lossbook import notebook_roles as roles
from lossbook._files import write_atomically

#: Looks an exercise up by id: returns an object with ``.starter`` and ``.lesson`` (a
#: :class:`lossbook.exercises.Exercise`), or ``None`` for an unknown id.
Registry = Callable[[str], Any]


class ReleaseError(ValueError):
    """The solutions cannot be released; ``.problems`` lists every reason found."""

    def __init__(self, problems: list[str]):
        self.problems = list(problems)
        super().__init__("cannot release:\n" + "\n".join(f"  - {p}" for p in self.problems))


@dataclass(frozen=True)
class Planned:
    """One exercise notebook that release would write."""

    source: Path  # the solution notebook
    target: Path  # the exercise notebook
    text: str  # its exact file content


def default_registry(exercise_id: str):
    """The exercise from :mod:`lossbook.exercises`, or ``None`` when the id is unknown."""
    from lossbook import exercises

    try:
        return exercises.get(exercise_id)
    except (KeyError, LookupError, ValueError):
        return None


def _starter_problem(starter: str) -> str | None:
    """Why ``starter`` is not usable starter code, or ``None`` when it is."""
    try:
        ast.parse(starter)
    except SyntaxError as error:
        return f"starter code is not valid Python ({error.msg}, line {error.lineno})"
    lines = [line.strip() for line in starter.strip().splitlines()]
    if not lines or not lines[-1].startswith("raise NotImplementedError"):
        return "starter code must end in `raise NotImplementedError`"
    return None


def _starter(cell, exercise: Any) -> str:
    starter = roles.starter_of(cell) or getattr(exercise, "starter", None) or ""
    return starter.strip("\n")


def notebook_problems(nb, registry: Registry) -> list[str]:
    """Every reason ``nb`` (a solution notebook) cannot be released; empty when it can."""
    found = roles.problems(nb)
    lesson = roles.lesson_of(nb)
    for exercise_id, cells in roles.exercise_cells(nb).items():
        exercise = registry(exercise_id)
        if exercise is None:
            found.append(
                f"exercise {exercise_id!r} is not in the exercise registry (lossbook.exercises); "
                "fix the id in the cell metadata or add the exercise to the registry"
            )
            continue
        if lesson is not None and getattr(exercise, "lesson", lesson) != lesson:
            found.append(
                f"exercise {exercise_id!r} belongs to lesson {exercise.lesson!r}, "
                f"not to this notebook's lesson {lesson!r}"
            )
        for index in cells.answers:
            starter = _starter(nb["cells"][index], exercise)
            problem = _starter_problem(starter) if starter else "no starter code (neither cell metadata nor registry)"
            if problem:
                found.append(f"cell {index} (answer of {exercise_id!r}): {problem}")
    return found


def release_notebook(nb, registry: Registry = default_registry):
    """The learner's copy of the solution notebook ``nb`` (a new notebook; ``nb`` is unchanged).

    ``nb`` must be releasable (see :func:`notebook_problems`); call that first for a
    clear report, this function raises :class:`ReleaseError` otherwise.
    """
    problems = notebook_problems(nb, registry)
    if problems:
        raise ReleaseError(problems)
    released = copy.deepcopy(nb)
    cells = []
    for cell in released.cells:
        role = roles.role_of(cell)
        if role == roles.HIDDEN_TESTS:
            continue
        if role == roles.ANSWER:
            cell.source = _starter(cell, registry(roles.exercise_of(cell)))
        if roles.CHECK_OUTPUT_TAG in roles.tags_of(cell):
            tags = [tag for tag in roles.tags_of(cell) if tag != roles.CHECK_OUTPUT_TAG]
            if tags:
                cell.metadata["tags"] = tags
            else:
                del cell.metadata["tags"]
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
        cells.append(cell)
    released.cells = cells
    return released


def _notebook_text(nb) -> str:
    import nbformat

    nbformat.validate(nb)
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def plan(solutions: Path, out: Path, registry: Registry = default_registry) -> list[Planned]:
    """What release would write: one :class:`Planned` per solution notebook.

    Reads every ``*.ipynb`` directly in ``solutions`` and checks all of them before
    returning; raises :class:`ReleaseError` listing every problem in every notebook.
    """
    import nbformat

    solutions, out = Path(solutions), Path(out)
    if not solutions.is_dir():
        raise ReleaseError([f"--solutions {str(solutions)!r} is not a folder (looked for {solutions.resolve()}); "
                            "run from the course's root folder or pass --solutions DIR"])
    if out.exists() and not out.is_dir():
        raise ReleaseError([f"--out {str(out)!r} exists and is not a folder; pass a folder for the exercise notebooks"])
    if out.resolve() == solutions.resolve():
        raise ReleaseError([f"--out {str(out)!r} is the solutions folder: releasing there would overwrite the solutions"])
    sources = sorted(path for path in solutions.glob("*.ipynb") if path.is_file())
    if not sources:
        raise ReleaseError([f"no notebooks (*.ipynb) in {str(solutions)!r}; is --solutions the right folder?"])

    problems: list[str] = []
    planned: list[Planned] = []
    for source in sources:
        try:
            nb = nbformat.read(source, as_version=4)
        except Exception as error:  # nbformat raises several types for unreadable files
            problems.append(f"{source}: not a readable notebook ({type(error).__name__}: {error})")
            continue
        found = notebook_problems(nb, registry)
        lesson = roles.lesson_of(nb)
        if lesson is not None and lesson != source.stem:
            found.append(f"the notebook's lesson is {lesson!r} but its file is named {source.name!r}; name it {lesson}.ipynb")
        if found:
            problems.extend(f"{source}: {problem}" for problem in found)
            continue
        planned.append(Planned(source, out / source.name, _notebook_text(release_notebook(nb, registry))))
    # The instructor's library policy (lossbook/exercises/forbidden.py) goes along, so that
    # check in the learners' copies applies the policy grade applies.
    from lossbook.exercises.forbidden import POLICY_FILE, read_policy

    policy = solutions / POLICY_FILE
    if policy.is_file():
        try:
            read_policy(solutions)
            planned.append(Planned(policy, out / POLICY_FILE, policy.read_text(encoding="utf-8")))
        except ValueError as error:
            problems.append(str(error))
    if problems:
        raise ReleaseError(problems)
    return planned


def _cell_differences(old_text: str, new_text: str) -> str:
    """A short description of how two notebook texts differ, cell by cell."""
    try:
        old = json.loads(old_text)
    except ValueError:
        return "not valid notebook JSON"
    new = json.loads(new_text)
    old_cells, new_cells = old.get("cells", []), new["cells"]
    if len(old_cells) != len(new_cells):
        return f"{len(old_cells)} cells, release makes {len(new_cells)}"
    details = []
    for index, (a, b) in enumerate(zip(old_cells, new_cells)):
        keys = sorted(key for key in set(a) | set(b) if a.get(key) != b.get(key))
        if keys:
            details.append(f"cell {index} ({', '.join(keys)})")
    if old.get("metadata") != new["metadata"]:
        details.append("notebook metadata")
    return "differs in " + ", ".join(details) if details else "differs in formatting"


def differences(planned: list[Planned], out: Path) -> list[str]:
    """How the notebooks on disk in ``out`` differ from ``planned`` (empty when identical)."""
    found = []
    for item in planned:
        if not item.target.exists():
            found.append(f"{item.target}: missing")
            continue
        old = item.target.read_text(encoding="utf-8")
        if old != item.text:
            found.append(f"{item.target}: {_cell_differences(old, item.text)}")
    for path in stale(planned, out):
        source = "library policy file" if path.suffix == ".toml" else "solution notebook"
        found.append(f"{path}: not produced by release (no {source} {path.name})")
    return found


def write(planned: list[Planned], out: Path) -> list[Path]:
    """Write the planned notebooks into ``out`` (created if needed); returns those that changed."""
    Path(out).mkdir(parents=True, exist_ok=True)
    changed = []
    for item in planned:
        if item.target.exists() and item.target.read_text(encoding="utf-8") == item.text:
            continue
        write_atomically(item.target, item.text, mode=0o644)
        changed.append(item.target)
    return changed


def release(solutions: Path, out: Path, registry: Registry = default_registry) -> list[Path]:
    """Release every solution notebook in ``solutions`` into ``out``; returns the files written."""
    return write(plan(solutions, out, registry), out)


def stale(planned: list[Planned], out: Path) -> list[Path]:
    """Exercise notebooks in ``out`` that no solution notebook produces, and a library policy
    file the solutions no longer have (release leaves them: ``check`` would still apply it)."""
    from lossbook.exercises.forbidden import POLICY_FILE

    produced = {item.target.name for item in planned}
    found = sorted(Path(out).glob("*.ipynb"))
    if (Path(out) / POLICY_FILE).is_file():
        found.append(Path(out) / POLICY_FILE)
    return [path for path in found if path.name not in produced]


__all__ = [
    "Planned", "Registry", "ReleaseError", "default_registry", "differences", "notebook_problems",
    "plan", "release", "release_notebook", "stale", "write",
]
