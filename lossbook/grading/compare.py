"""Compare a hidden-test cell's outputs with the expected ones: nbval's rules, as plain text.

What nbval (``--nbval``, the course's notebook tests) compares of a cell is, for each
stream name and each MIME type, the list of values in order, after its sanitizer
patterns; the relative order of different kinds of output does not matter. This module
computes exactly that (:func:`comparable`) on the outputs the sandboxed kernel sent and
the outputs stored in ``solutions/``, and the verdict is plain equality — in the grading
process, never in the kernel:

- streams of one name are joined into one text (nbval's ``coalesce_streams``; a ``\\r``
  followed by more text on its line rubs out what came before it on that line);
- nbval's default skipped keys are ignored (metadata, execution counts, tracebacks,
  images, widget ids); error outputs compare their ``ename`` and ``evalue``;
- text goes through the course's sanitizer file (``lossbook/grading/sanitize.cfg``,
  shipped with the package and parsed by nbval's own reader; the test suite's nbval runs
  read the same file);
- one deliberate difference: ``stderr`` is dropped on both sides, so a warning printed by
  a correct implementation (a ``RuntimeWarning`` from numpy) does not cost points; stderr
  cannot carry a forged stdout.

``tests/grading/test_compare.py`` checks that the verdicts are nbval's own
(``IPyNbCell.compare_outputs``) on generated outputs.

Examples
--------
>>> from nbformat.v4 import new_output
>>> same, why = compare([new_output("stream", name="stdout", text="1.5\\n")],
...                     [new_output("stream", name="stdout", text="1.5\\n")])
>>> same
True
>>> compare([new_output("stream", name="stdout", text="2\\n")],
...         [new_output("stream", name="stdout", text="1.5\\n")])
(False, "stdout: expected '1.5\\\\n', got '2\\\\n'")
>>> comparable([new_output("stream", name="stdout", text="at 0x7f3a\\n"),
...             new_output("stream", name="stderr", text="warning\\n"),
...             new_output("stream", name="stdout", text="done\\n")])
{'stdout': ['at 0xADDRESS\\ndone\\n']}
"""
from __future__ import annotations

import functools
import re
from pathlib import Path

#: The course's one nbval sanitizer file: pytest's ``--nbval-sanitize-with`` and the
#: grader's comparison both read it.
SANITIZER_FILE = Path(__file__).with_name("sanitize.cfg")
#: nbval's default ``skip_compare`` keys (with images: the course does not run nbdime).
SKIPPED_KEYS = frozenset({"metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
                          "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg"})
#: nbval's carriage-return rule for coalesced streams.
_CARRIAGE_RETURN = re.compile(r"^.*\r(?=[^\n])", re.MULTILINE)


@functools.lru_cache(maxsize=1)
def sanitize_patterns() -> dict[str, str]:
    """``{regex: replacement}`` from :data:`SANITIZER_FILE`, parsed by nbval itself."""
    from nbval.plugin import get_sanitize_patterns

    return dict(get_sanitize_patterns(SANITIZER_FILE.read_text(encoding="utf-8")))


@functools.lru_cache(maxsize=1)
def _compiled() -> tuple[tuple[re.Pattern, str], ...]:
    return tuple((re.compile(regex), replacement) for regex, replacement in sanitize_patterns().items())


def sanitize(value):
    """``value`` with the sanitizer's replacements applied in order (text only)."""
    if not isinstance(value, str):
        return value
    for pattern, replacement in _compiled():
        value = pattern.sub(replacement, value)
    return value


def warm_up() -> None:
    """Import what grading imports in this process (nbval, nbformat, jupyter_client's client)
    and read the sanitizer file: call it before starting threads that import them too."""
    import jupyter_client.blocking  # noqa: F401 - the kernels' client (lossbook.grading.kernel)
    import nbformat.v4  # noqa: F401

    _compiled()


def comparable(outputs) -> dict[str, list]:
    """What nbval compares of ``outputs``: per stream name or MIME type, sanitized values in order."""
    streams: dict[str, str] = {}
    found: dict[str, list] = {}
    for out in outputs:
        if out.get("output_type") == "stream":
            name = out.get("name")
            if name == "stderr" or name in SKIPPED_KEYS:  # nbval keys a stream by its name
                continue
            if name not in streams:
                found.setdefault(name, []).append(None)  # its place among the outputs
            streams[name] = streams.get(name, "") + out.get("text", "")
            continue
        for key, value in out.items():
            if key in SKIPPED_KEYS:
                continue
            if key == "data":
                for mime, data in value.items():
                    if mime not in SKIPPED_KEYS:
                        found.setdefault(mime, []).append(sanitize(data))
            else:
                found.setdefault(key, []).append(sanitize(value))
    for name, text in streams.items():
        found[name] = [sanitize(_CARRIAGE_RETURN.sub("", text)) if value is None else value
                       for value in found[name]]
    return found


def _explain(got: dict, expected: dict) -> str:
    if set(expected) - set(got):
        return f"missing output: {', '.join(sorted(map(str, set(expected) - set(got))))}"
    if set(got) - set(expected):
        return f"unexpected output: {', '.join(sorted(map(str, set(got) - set(expected))))}"
    for key, values in expected.items():
        if len(got[key]) != len(values):
            return f"{key}: {len(values)} output(s) expected, {len(got[key])} given"
        for want, have in zip(values, got[key]):
            if want != have:
                return f"{key}: expected {str(want)[:200]!r}, got {str(have)[:200]!r}"
    return ""


def compare(got, expected) -> tuple[bool, str]:
    """``(same, explanation)`` for the kernel's outputs ``got`` vs the stored ``expected``."""
    mine, theirs = comparable(got), comparable(expected)
    if mine == theirs:
        return True, ""
    return False, _explain(mine, theirs)


def stdout_text(outputs) -> str:
    """The cell's coalesced stdout (what hidden tests print)."""
    return "".join(o.get("text", "") for o in outputs
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
