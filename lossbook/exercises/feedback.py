"""What ``check`` returns: :class:`CheckResult`, rendered as stable text and compact HTML.

Both renderings are deterministic: no timings, object ids, addresses or paths, and
numbers rounded. JupyterLab shows the HTML; nbval compares the ``text/plain`` output of
check cells, the only rendering the course's notebooks store (the HTML says the same). The verdict is never told by colour alone: a symbol and a word say it too.
"""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

import numpy as np

# Okabe–Ito hues, darkened where needed for text contrast on white (WCAG AA). The
# exercise engine sits below lossbook.figures, so it cannot import the palette there.
_STYLE = {
    "passed": ("✔", "Passed", "#0072B2"),
    "failed": ("✘", "Not yet", "#B34700"),
    "error": ("⚠", "Error", "#B34700"),
    "timeout": ("⏱", "Stopped", "#8A5A00"),
    "not-attempted": ("…", "Not attempted", "#595959"),
}
STATUSES = tuple(_STYLE)
#: CS231n's ladder for the relative error |a − n| / max(|a|, |n|) between an analytic
#: gradient a and a numeric one n. The lessons quote these words; ``check`` passes a
#: gradient on the "acceptable near kinks" rung or better (below 1e-4).
GRADIENT_LADDER = ("above 1e-2: wrong; 1e-4 to 1e-2: suspicious; below 1e-4: acceptable "
                   "near kinks; below 1e-7: right")


def gradient_verdict(error: float) -> str:
    """The rung of CS231n's ladder a relative error is on: "wrong", "suspicious",
    "acceptable near kinks" or "right" (see :data:`GRADIENT_LADDER`).

    >>> gradient_verdict(0.3), gradient_verdict(1e-3), gradient_verdict(1e-5), gradient_verdict(1e-9)
    ('wrong', 'suspicious', 'acceptable near kinks', 'right')
    """
    if not error < 1e-2:
        return "wrong"
    if not error < 1e-4:
        return "suspicious"
    if not error < 1e-7:
        return "acceptable near kinks"
    return "right"


def _gradient_error_line(error: float) -> str:
    return (f"relative error against a numeric gradient: {error:.1e}, {gradient_verdict(error)} "
            f"(CS231n's ladder: {GRADIENT_LADDER}; check passes below 1e-4)")


# JupyterLab stripes and right-aligns table rows in rendered HTML; these are label/value pairs.
_ROW = ' style="background:transparent"'
_CELL = ' style="text-align:left;padding:1px 8px 1px 0;vertical-align:top"'


def format_value(value: Any, *, max_items: int = 8) -> str:
    """Short, rounded, deterministic text for an input or output value."""
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, str):
        return repr(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{format_value(k)}: {format_value(v, max_items=max_items)}"
                               for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))) + "}"
    if isinstance(value, (tuple, list)) and not all(isinstance(v, (int, float, np.number)) for v in value):
        inner = ", ".join(format_value(v, max_items=max_items) for v in value)
        return f"({inner})" if isinstance(value, tuple) else f"[{inner}]"
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001 - anything the learner returned
        return f"<{type(value).__name__}>"
    if arr.dtype.kind not in "biufc":
        return f"<{type(value).__name__}>"
    if arr.dtype.kind == "f":
        arr = np.round(arr, 4) + 0.0  # + 0.0 turns -0.0 into 0.0
    prefix = "list " if isinstance(value, list) else ""
    if arr.ndim == 0:
        v = arr.item()
        return prefix + (f"{v:.6g}" if isinstance(v, float) else str(v))
    with np.printoptions(precision=4, suppress=True, threshold=max_items, edgeitems=3, linewidth=76,
                         floatmode="maxprec", legacy=False):
        return prefix + np.array2string(arr, separator=", ")


def _hang(prefix: str, text: str) -> str:
    """``prefix`` + ``text``, continuation lines aligned under the text's first character."""
    return prefix + text.replace("\n", "\n" + " " * len(prefix))


@dataclass
class Failure:
    """The first failing case: its inputs, what was expected, what came back, and why."""

    case_name: str
    inputs: list[tuple[str, str]]
    problem: str
    expected: str | None = None
    got: str | None = None
    error_line: str | None = None
    gradient_error: float | None = None


@dataclass
class CheckResult:
    """The verdict of ``check(exercise_id, fn)``.

    Attributes
    ----------
    exercise_id, title : str
    status : {"passed", "failed", "not-attempted", "error", "timeout"}
    n_passed, n_total : int
        Cases passed, and cases in the exercise.
    message : str
        The whole verdict as plain text (what ``repr`` shows).
    passed : bool
    diagnosis : str or None
        The likely mistake (see :func:`lossbook.exercises.diagnose`).
    gradient_error : float or None
        Gradient exercises that passed: the largest CS231n relative error against a
        numeric gradient (not printed: its digits vary between machines).
    """

    exercise_id: str
    title: str
    status: str
    n_passed: int
    n_total: int
    summary: str
    failure: Failure | None = None
    diagnosis: str | None = None
    warnings: list[str] = field(default_factory=list)
    printed: str = ""
    gradient_error: float | None = None
    gradient_note: str | None = None

    def __post_init__(self):
        if self.status not in _STYLE:
            raise ValueError(f"status must be one of {STATUSES}, got {self.status!r}")

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def __bool__(self) -> bool:
        return self.passed

    # ------------------------------------------------------------------ text
    def _headline(self) -> str:
        symbol, word, _ = _STYLE[self.status]
        return f"{symbol} {word} — {self.exercise_id}: {self.summary}"

    def _gradient_note(self) -> str | None:
        # The measured error is kept in .gradient_error but not printed: its digits (even its
        # power of ten) vary with the CPU's summation order, and nbval compares this text.
        return self.gradient_note

    def _hint_line(self) -> str | None:
        if self.status in ("failed", "error", "timeout"):
            return f'Stuck? hint("{self.exercise_id}") gives a hint; run it again for the next one.'
        return None

    @property
    def message(self) -> str:
        lines = [self._headline()]
        f = self.failure
        if f is not None:
            lines.append(f"Failing case: {f.case_name}")
            lines += [_hang(f"    {name} = ", text) for name, text in f.inputs]
            lines.append(f"  {f.problem}")
            if f.error_line:
                lines.append(f"    {f.error_line}")
            if f.expected is not None:
                lines.append(_hang("  expected: ", f.expected))
            if f.got is not None:
                lines.append(_hang("  got:      ", f.got))
            if f.gradient_error is not None:
                lines.append(f"  {_gradient_error_line(f.gradient_error)}")
        if self.diagnosis:
            lines.append(f"Diagnosis: {self.diagnosis}")
        note = self._gradient_note() if self.passed else None
        if note:
            lines.append(note)
        lines += [f"Warning: {w}" for w in self.warnings]
        if self.printed.strip():
            lines.append("Your function printed:")
            lines += [f"    {line}" for line in self.printed.rstrip().splitlines()[:20]]
        hint = self._hint_line()
        if hint:
            lines.append(hint)
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.message

    def __str__(self) -> str:
        return self.message

    def _repr_pretty_(self, p, cycle) -> None:
        p.text(self.message)

    # ------------------------------------------------------------------ HTML
    def _repr_html_(self) -> str:
        symbol, word, colour = _STYLE[self.status]
        e = html.escape
        parts = [
            f'<div class="lossbook-check lossbook-check-{self.status}" role="status" '
            f'style="border-left:4px solid {colour};padding:4px 10px;margin:2px 0;line-height:1.4">',
            f'<div><span style="color:{colour};font-weight:bold">{symbol} {word}</span> '
            f'<code>{e(self.exercise_id)}</code>: {e(self.summary)}</div>',
        ]
        f = self.failure
        if f is not None:
            rows = "".join(f"<tr{_ROW}><td{_CELL}><code>{e(n)}</code></td><td{_CELL}><pre style='margin:0'>{e(t)}</pre>"
                           "</td></tr>" for n, t in f.inputs)
            parts.append(f"<div>Failing case: <b>{e(f.case_name)}</b></div>")
            if rows:
                parts.append(f'<table style="margin:2px 0 2px 12px;font-size:90%">{rows}</table>')
            parts.append(f"<div>{e(f.problem)}</div>")
            if f.error_line:
                parts.append(f"<pre style='margin:0 0 0 12px'>{e(f.error_line)}</pre>")
            if f.expected is not None or f.got is not None:
                cells = "".join(f"<tr{_ROW}><td{_CELL}>{label}</td><td{_CELL}><pre style='margin:0'>{e(v)}</pre></td></tr>"
                                for label, v in (("expected", f.expected), ("got", f.got)) if v is not None)
                parts.append(f'<table style="margin:2px 0 2px 12px;font-size:90%">{cells}</table>')
            if f.gradient_error is not None:
                line = _gradient_error_line(f.gradient_error)
                parts.append(f"<div>{e(line[0].upper() + line[1:])}</div>")
        if self.diagnosis:
            parts.append(f"<div><b>Diagnosis:</b> {e(self.diagnosis)}</div>")
        note = self._gradient_note() if self.passed else None
        if note:
            parts.append(f"<div>{e(note)}</div>")
        parts += [f"<div><b>Warning:</b> {e(w)}</div>" for w in self.warnings]
        if self.printed.strip():
            text = "\n".join(self.printed.rstrip().splitlines()[:20])
            parts.append(f"<details><summary>Your function printed</summary><pre>{e(text)}</pre></details>")
        hint = self._hint_line()
        if hint:
            parts.append(f'<div style="color:#595959">{e(hint)}</div>')
        parts.append("</div>")
        return "".join(parts)
