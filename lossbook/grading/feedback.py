"""Feedback for each learner: per exercise passed / failed, why, and the likely mistake.

The diagnosis is computed here, in the grading process, from what the learner's code
**printed** in the hidden tests, by the exercise engine's pure
:func:`lossbook.exercises.diagnose`. To know which inputs each printed line belongs to,
the hidden-test cell's source (instructor code) is run here with a recorder standing in
for the learner's function: it records every call's arguments (and answers with the
reference, so the cell runs on). The feedback never contains the expected outputs nor
the hidden tests' inputs: only pass/fail, the reason and the diagnosis.

Examples
--------
>>> parse_canonical("[1.5, -2, nan]")
[1.5, -2, nan]
>>> parse_canonical("(0.5, [1, 2])")
[0.5, [1, 2]]
>>> parse_canonical("not numbers") is None
True
"""
from __future__ import annotations

import contextlib
import html
import io
from pathlib import Path
from typing import Any

from lossbook import notebook_roles as roles
from lossbook.grading.safe_text import printable

def _lists(value):
    if isinstance(value, (list, tuple)):
        return [_lists(v) for v in value]
    return value


def parse_canonical(text: str) -> Any:
    """The value a :func:`lossbook.canonical.canonical` line stands for (tuples as lists), or
    ``None`` when it is not numbers (:func:`lossbook.canonical.parse`)."""
    from lossbook.canonical import parse

    try:
        value = _lists(parse(text))
    except ValueError:
        return None
    return value if isinstance(value, (int, float, list)) and not isinstance(value, bool) else None


def recorded_calls(source: str, exercise) -> tuple[list[dict], str] | None:
    """Run a hidden-test cell with a recorder for the learner's function.

    Returns the calls' arguments (by the learner's parameter names) and what the cell
    printed with the reference in place, or ``None`` when the cell cannot run here.
    """
    calls: list[dict] = []
    names = exercise.param_names

    def recorder(*args, **kwargs):
        bound = dict(zip(names, args))
        bound.update(kwargs)
        calls.append(bound)
        return exercise.reference(*args, **kwargs)

    namespace = {"__name__": "__lossbook_feedback__", exercise.name: recorder}
    buffer = io.StringIO()
    try:
        with contextlib.redirect_stdout(buffer):
            exec(compile(source, "<hidden test>", "exec"), namespace)  # noqa: S102 - instructor's cell
    except Exception:  # noqa: BLE001 - no diagnosis for this cell then
        return None
    return calls, buffer.getvalue()


def _paired(exercise, calls: list[dict], printed: str) -> list[tuple[dict, Any]] | None:
    lines = [line for line in printed.splitlines() if line.strip()]
    if exercise.output == "tuple":
        from lossbook.exercises.compare import n_leaves
        per_call = n_leaves(exercise.template)   # hidden tests print each part on its own line
    else:
        per_call = 2 if exercise.output == "step" else 1
    if not calls or len(lines) != per_call * len(calls):
        return None
    values = [parse_canonical(line) for line in lines]
    pairs = []
    for index, call in enumerate(calls):
        chunk = values[index * per_call:(index + 1) * per_call]
        if any(v is None for v in chunk):
            continue
        pairs.append((call, tuple(chunk) if per_call > 1 else chunk[0]))
    return pairs


def diagnosis_for(exercise_id: str, hidden_sources: list[str], printed: list[str]) -> str | None:
    """The exercise engine's diagnosis from the learner's printed hidden-test outputs."""
    found = diagnosis_detail_for(exercise_id, hidden_sources, printed)
    return None if found is None else found.message


def diagnosis_detail_for(exercise_id: str, hidden_sources: list[str], printed: list[str]):
    """:func:`diagnosis_for` with the diagnosis's stable id: a
    :class:`lossbook.exercises.diagnosis.Diagnosis` ``(id, message)``, or ``None``."""
    from lossbook.exercises import get
    from lossbook.exercises.diagnosis import diagnose_detail as diagnose

    try:
        exercise = get(exercise_id)
    except Exception:  # noqa: BLE001 - an exercise the engine does not know
        return None
    inputs, outputs = [], []
    for source, text in zip(hidden_sources, printed):
        recorded = recorded_calls(source, exercise)
        if recorded is None:
            continue
        pairs = _paired(exercise, recorded[0], text)
        for call, value in pairs or []:
            inputs.append(call)
            outputs.append(value)
    if not inputs:
        return None
    try:
        return diagnose(exercise_id, inputs, outputs)
    except Exception:  # noqa: BLE001 - feedback must not stop the batch
        return None


def _describe(name: str, value) -> str | None:
    import numpy as np

    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return f"{name}={value:g}"
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        return None
    if array.ndim == 0:
        return f"{name}={float(array):g}"
    text = f"{name} {'1-D' if array.ndim == 1 else f'{array.ndim}-D'} of shape {array.shape}"
    finite = array[np.isfinite(array)]
    if finite.size and float(np.max(np.abs(finite))) >= 100:
        text += f", values up to ±{float(np.max(np.abs(finite))):g}"
    if finite.size < array.size:
        text += ", with inf or nan"
    return text


def case_name(exercise_id: str, source: str) -> str:
    """What a hidden test probes, named like ``check``'s cases ("z 2-D of shape (2, 3), values up
    to ±1000"), from the arguments of its calls (" | " between calls): the kinds and sizes of the inputs,
    never the expected values (see :func:`exercise_feedback`)."""
    from lossbook.exercises import get

    try:
        exercise = get(exercise_id)
    except Exception:  # noqa: BLE001 - an exercise the engine does not know
        return "?"
    recorded = recorded_calls(source, exercise)
    if not recorded or not recorded[0]:
        return "?"
    described = []
    for call in recorded[0]:
        text = ", ".join(p for p in (_describe(name, value) for name, value in call.items()) if p)
        if text and text not in described:
            described.append(text)
    more = f" and {len(described) - 3} more" if len(described) > 3 else ""
    return " | ".join(described[:3]) + more or "?"


def hidden_sources(solution) -> dict[str, list[str]]:
    """The source of each hidden-test cell of ``solution``, per exercise, in notebook order
    (test *n* of an exercise is ``hidden_sources(solution)[exercise][n - 1]``)."""
    sources: dict[str, list[str]] = {}
    for _, cell in roles.cells_with_role(solution.notebook, roles.HIDDEN_TESTS):
        sources.setdefault(roles.exercise_of(cell), []).append(roles.source_of(cell))
    return sources


def _case(exercise: str, number: int, hidden: list[str], names: dict) -> str:
    """:func:`case_name` of hidden test ``number`` (``"?"``: none), each replayed once (``names``)."""
    if number not in names:
        names[number] = case_name(exercise, hidden[number - 1]) if 1 <= number <= len(hidden) else "?"
    return names[number]


def exercise_feedback(result, solution) -> list[dict]:
    """Per exercise: id, points, max, passed, reasons (learner-safe), diagnosis, misconception
    (its stable id) and failing case (the first failing test's label, or ``None``).

    This is the one diagnosis of a result: ``lossbook grade`` computes it once and gives it
    to both the feedback file (:func:`render`) and the results record
    (:func:`lossbook.grading.results.record`).
    """
    sources = hidden_sources(solution) if solution is not None else {}
    items = []
    for exercise, max_points in result.max_points.items():
        tests = [t for t in result.tests if t.exercise == exercise]
        points = result.points.get(exercise, 0)
        passed = bool(tests) and points >= max_points
        distinct = {t.reason for t in tests}
        hidden, names = sources.get(exercise, []), {}
        if len(tests) > 1 and len(distinct) == 1 and "" not in distinct:
            reasons = [f"all tests: {tests[0].reason}"]
        else:
            reasons = [f"test {t.number} ({_case(exercise, t.number, hidden, names)}): {t.reason}"
                       for t in tests if t.reason]
        failing_case = None
        failing = next((t for t in tests if t.reason), None)
        if failing is not None:
            name = _case(exercise, failing.number, hidden, names)
            failing_case = f"test {failing.number} ({name})" if name != "?" else f"test {failing.number}"
        if not tests:
            reasons = [r.split(": ", 1)[1] for r in result.reasons if r.startswith(f"{exercise}: ")] or \
                      ["not graded: " + (result.reasons[0] if result.reasons else result.status)]
        found = None
        if not passed and tests and any(t.stdout for t in tests):
            found = diagnosis_detail_for(exercise, sources.get(exercise, []), [t.stdout for t in tests])
        items.append({"exercise": exercise, "points": points, "max": max_points, "passed": passed,
                      "reasons": reasons, "diagnosis": found.message if found else None,
                      "misconception": found.id if found else None, "failing_case": failing_case})
    return items


def _points(value: float) -> str:
    return f"{value:g}"


def render_markdown(result, items: list[dict]) -> str:
    lines = [f"# Feedback: {result.lesson}", "",
             f"Learner: {result.learner} · score {_points(result.total)} / {_points(result.max_total)}"
             f" · status: {result.status}", ""]
    if not result.sandboxed:
        lines += ["> Graded without a sandbox.", ""]
    for item in items:
        mark = "✔ passed" if item["passed"] else "✘ not yet"
        lines.append(f"## `{item['exercise']}` — {mark} ({_points(item['points'])} / {_points(item['max'])})")
        lines.append("")
        for reason in item["reasons"]:
            lines.append(f"- {reason}")
        if item["diagnosis"]:
            lines.append(f"- Likely mistake: {item['diagnosis']}")
        if not item["passed"]:
            lines.append(f"- Try `check(\"{item['exercise']}\", {item['exercise']})` and `hint(\"{item['exercise']}\")` "
                         "in your notebook.")
        lines.append("")
    other = [r for r in result.reasons if r.startswith("refused:") or r.startswith("graded WITHOUT")]
    if other:
        lines += ["## Notes", ""] + [f"- {r}" for r in other] + [""]
    return "\n".join(lines)


def render_html(result, items: list[dict]) -> str:
    esc = html.escape
    parts = [f"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Feedback: {esc(result.lesson)}</title>",
             "<body style=\"font-family:sans-serif;max-width:50em\">",
             f"<h1>Feedback: {esc(result.lesson)}</h1>",
             f"<p>Learner: {esc(result.learner)} · score {_points(result.total)} / {_points(result.max_total)} · "
             f"status: {esc(result.status)}</p>"]
    for item in items:
        colour = "#0072B2" if item["passed"] else "#D55E00"  # Okabe–Ito blue / vermillion
        mark = "✔ passed" if item["passed"] else "✘ not yet"
        parts.append(f"<h2><code>{esc(item['exercise'])}</code> — <span style=\"color:{colour}\">{mark}</span> "
                     f"({_points(item['points'])} / {_points(item['max'])})</h2><ul>")
        parts += [f"<li>{esc(r)}</li>" for r in item["reasons"]]
        if item["diagnosis"]:
            parts.append(f"<li><strong>Likely mistake:</strong> {esc(item['diagnosis'])}</li>")
        parts.append("</ul>")
    other = [r for r in result.reasons if r.startswith("refused:") or r.startswith("graded WITHOUT")]
    if other:
        parts.append("<h2>Notes</h2><ul>" + "".join(f"<li>{esc(r)}</li>" for r in other) + "</ul>")
    parts.append("</body></html>\n")
    return "\n".join(parts)


def render(result, solution, fmt: str = "md", *, items: list[dict] | None = None) -> str:
    """The feedback text of one result (``fmt`` "md" or "html"), control characters removed.

    ``items``: the result's :func:`exercise_feedback`, when already computed (else computed here).
    """
    items = exercise_feedback(result, solution) if items is None else items
    text = render_html(result, items) if fmt == "html" else render_markdown(result, items)
    return printable(text)


def write_feedback(folder: Path, results, solutions_by_lesson: dict, fmt: str = "md") -> list[Path]:
    """Write ``folder/<learner>/<lesson>.md`` (or ``.html``) for every result, each atomically
    (as ``lossbook grade --feedback`` does: :func:`lossbook.grading.batch.write_feedback_file`)."""
    from lossbook.grading.batch import write_feedback_file

    return [write_feedback_file(Path(folder), result, render(result, solutions_by_lesson.get(result.lesson), fmt), fmt)
            for result in results]


__all__ = ["diagnosis_detail_for", "diagnosis_for", "exercise_feedback", "parse_canonical", "recorded_calls", "render_html",
           "render", "render_markdown", "write_feedback"]
