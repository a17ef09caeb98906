"""The learner's API: ``check``, ``hint``, ``solution``, ``progress``.

::

    from lossbook import check, hint, solution, progress
    check("mse", mse)      # runs the exercise's cases against your function
    hint("mse")            # the next hint each call: first a nudge, last nearly the answer
    solution("mse")        # JupyterLab: a "Show solution" button; plain Python: see below
    progress()             # which exercises are done, lesson by lesson

``solution`` outside JupyterLab (plain Python, a terminal IPython, a script) does not
prompt (``input()`` would block scripts and test runs): it returns a note saying to call
``solution(id, confirm=True)``, which returns the code. In a Jupyter kernel with
ipywidgets it shows a button that reveals the code; ``confirm=True`` shows it at once.
"""
from __future__ import annotations

import html
import sys
import warnings
from dataclasses import dataclass
from typing import Callable

from lossbook.exercises.checking import run_check
from lossbook.exercises.feedback import CheckResult
from lossbook.exercises.progress import ProgressWarning, default_store
from lossbook.exercises.registry import by_lesson, get

__all__ = ["check", "hint", "solution", "progress", "Hint", "Solution", "ProgressReport"]


def check(exercise_id: str, fn: Callable, *, timeout: float | None = None,
          record: bool = True) -> CheckResult:
    """Check your function ``fn`` for exercise ``exercise_id`` and record the result.

    Parameters
    ----------
    exercise_id : str
        The exercise, e.g. ``"mse"`` (``lossbook.exercises.EXERCISES`` lists them all).
    fn : callable
        Your function itself (``check("mse", mse)``, not ``check("mse", mse(y, p))``).
    timeout : float, optional
        Seconds of CPU time before a slow or looping function is stopped (so a busy
        machine does not change the verdict); default ``$LOSSBOOK_CHECK_TIMEOUT`` or 5.
        Code that waits without computing is stopped after a minute of wall-clock time.
    record : bool, default True
        ``False`` leaves your progress untouched (used for demonstrations, e.g. lesson 00).

    Returns
    -------
    CheckResult
        ``.passed``, ``.status``, ``.n_passed``, ``.n_total``, ``.message``; shows as
        HTML in JupyterLab and as plain text elsewhere.
    """
    exercise = get(exercise_id)
    result = run_check(exercise, fn, timeout=timeout)
    if record:
        _record(lambda store: store.record_check(exercise.id, result.status), None)
    return result


def _record(action, default):
    """Run a progress-store action; a broken store never breaks check, hint or solution."""
    try:
        return action(default_store())
    except Exception as exc:  # noqa: BLE001 - e.g. a hand-edited progress file with odd values
        warnings.warn(f"lossbook: progress could not be recorded ({type(exc).__name__}: {exc})",
                      ProgressWarning, stacklevel=3)
        return default


class _ShownAsMessage:
    """Shown as its ``message`` text (repr and IPython's pretty printer; HTML is the class's own).
    Subclassing dataclasses pass ``repr=False``, or the generated ``__repr__`` would win."""

    def __repr__(self) -> str:
        return self.message

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(self.message)


@dataclass(frozen=True, repr=False)  # repr: the message
class Hint(_ShownAsMessage):
    """One hint; shows as text or HTML."""

    exercise_id: str
    number: int
    total: int
    text: str

    @property
    def message(self) -> str:
        more = (f'; hint("{self.exercise_id}") again for the next' if self.number < self.total
                else f' (the last one; solution("{self.exercise_id}") shows the code)')
        return f"Hint {self.number} of {self.total} for {self.exercise_id}{more}:\n{self.text}"

    def _repr_html_(self) -> str:
        e = html.escape
        head, _, body = self.message.partition("\n")
        # The last hint is a code skeleton with a blank: show it as code, line breaks kept.
        body_html = f"<pre style='margin:0'>{e(body)}</pre>" if self.number == self.total else e(body)
        return (f'<div class="lossbook-hint" style="border-left:4px solid #56B4E9;padding:4px 10px">'
                f'<div style="color:#595959">{e(head)}</div><div>{body_html}</div></div>')


def hint(exercise_id: str, *, record: bool = True) -> Hint:
    """The next hint for ``exercise_id``: the idea, then the formula, then a code skeleton with a blank
    (which then repeats); the code itself is :func:`solution`'s.

    ``record=False`` shows the hint that is next without using it up (for demonstrations).
    """
    exercise = get(exercise_id)
    if record:
        index = _record(lambda store: store.next_hint(exercise.id, len(exercise.hints)), 0)
    else:
        shown = _record(lambda store: store.hints_shown(exercise.id), 0)
        index = min(shown, len(exercise.hints) - 1)
    return Hint(exercise.id, index + 1, len(exercise.hints), exercise.hints[index])


@dataclass(frozen=True, repr=False)  # repr: the message
class Solution(_ShownAsMessage):
    """The solution code, or (``shown=False``) a note on how to see it."""

    exercise_id: str
    code: str
    shown: bool

    @property
    def message(self) -> str:
        if not self.shown:
            return (f'Try hint("{self.exercise_id}") first. To see the solution, '
                    f'call solution("{self.exercise_id}", confirm=True).')
        return f"Solution for {self.exercise_id}:\n\n{self.code.rstrip()}\n"

    def _repr_html_(self) -> str:
        if not self.shown:
            return f"<div>{html.escape(self.message)}</div>"
        return f"<div>Solution for <code>{html.escape(self.exercise_id)}</code>:</div><pre>{html.escape(self.code)}</pre>"


def _in_jupyter_kernel() -> bool:
    """True inside a Jupyter (ZMQ) kernel; never imports IPython itself."""
    ipython = sys.modules.get("IPython")
    if ipython is None or "ipykernel" not in sys.modules:
        return False
    shell = ipython.get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def _solution_widget(exercise_id: str, code: str):
    """A "Show solution" button that reveals the code (ipywidgets, imported only here)."""
    import ipywidgets as widgets

    button = widgets.Button(description="Show solution", icon="eye", button_style="warning",
                            tooltip=f"Reveal the solution for {exercise_id}")
    shown = widgets.HTML()
    note = widgets.HTML(f'<span style="color:#595959">Try <code>hint("{html.escape(exercise_id)}")</code> first: '
                        "working it out sticks better.</span>")

    def reveal(_):
        shown.value = f"<pre>{html.escape(code)}</pre>"
        button.disabled = True
        _record(lambda store: store.record_solution_viewed(exercise_id), None)

    button.on_click(reveal)
    box = widgets.VBox([widgets.HBox([button, note]), shown])
    box.add_class("lossbook-solution")
    return box


def solution(exercise_id: str, confirm: bool = False):
    """The solution for ``exercise_id``, after a confirmation.

    In a Jupyter kernel with ipywidgets: a "Show solution" button that reveals the code
    (``confirm=True`` shows it at once). Elsewhere: a note asking for
    ``solution(exercise_id, confirm=True)``, which returns the code. Never needs a frontend.
    """
    exercise = get(exercise_id)
    if confirm:
        _record(lambda store: store.record_solution_viewed(exercise.id), None)
        return Solution(exercise.id, exercise.solution, shown=True)
    if _in_jupyter_kernel():
        try:
            return _solution_widget(exercise.id, exercise.solution)
        except ImportError:
            pass
    return Solution(exercise.id, exercise.solution, shown=False)


_SYMBOLS = {"passed": "✔", "attempted": "◐", "not started": "·"}


@dataclass(frozen=True, repr=False)  # repr: the message
class ProgressReport(_ShownAsMessage):
    """Lessons × exercises with passed / attempted / not started; shows as text or HTML."""

    lessons: tuple[tuple[str, tuple[tuple[str, str], ...]], ...]
    location: str
    in_memory: bool

    def counts(self) -> dict[str, int]:
        out = dict.fromkeys(_SYMBOLS, 0)
        for _, exercises in self.lessons:
            for _, status in exercises:
                out[status] += 1
        return out

    def _summary(self) -> str:
        c = self.counts()
        total = sum(c.values())
        return f"{c['passed']} of {total} exercises passed, {c['attempted']} attempted, {c['not started']} not started"

    @property
    def message(self) -> str:
        lines = [f"Progress: {self._summary()}."]
        width = max((len(lesson) for lesson, _ in self.lessons), default=0)
        for lesson, exercises in self.lessons:
            cells = "  ".join(f"{_SYMBOLS[s]} {eid}" + ("" if s != "attempted" else " (attempted)")
                              for eid, s in exercises)
            lines.append(f"  {lesson:<{width}}  {cells}")
        lines.append("  (✔ passed, ◐ attempted, · not started)")
        if self.in_memory:
            lines.append("  Note: the progress folder is not writable; this session's progress is kept in memory only.")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        e = html.escape
        colours = {"passed": "#0072B2", "attempted": "#8A5A00", "not started": "#595959"}
        rows = []
        for lesson, exercises in self.lessons:
            cells = " ".join(
                f'<span style="color:{colours[s]};margin-right:1em">{_SYMBOLS[s]} <code>{e(eid)}</code> '
                f"<small>{e(s)}</small></span>" for eid, s in exercises)
            rows.append(f"<tr><th style='text-align:left;padding-right:1em'>{e(lesson)}</th><td>{cells}</td></tr>")
        note = ("<div><small>The progress folder is not writable; this session's progress is kept in memory only."
                "</small></div>" if self.in_memory else "")
        return (f'<div class="lossbook-progress"><div><b>Progress:</b> {e(self._summary())}.</div>'
                f"<table>{''.join(rows)}</table>{note}</div>")


def progress() -> ProgressReport:
    """Which exercises are passed, attempted or not started, lesson by lesson."""
    store = default_store()
    grouped = by_lesson()
    status = store.statuses(ex.id for exercises in grouped.values() for ex in exercises)
    lessons = [(lesson, tuple((ex.id, status[ex.id]) for ex in exercises))
               for lesson, exercises in grouped.items()]
    return ProgressReport(tuple(lessons), str(store.directory), store.in_memory)
