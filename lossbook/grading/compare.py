"""Compare a hidden-test cell's outputs with the expected ones, the way nbval does.

nbval's own comparison (:meth:`nbval.plugin.IPyNbCell.compare_outputs`, with
:func:`nbval.plugin.coalesce_streams`) runs here, in the grading process, on the outputs
the sandboxed kernel sent and the outputs stored in ``solutions/``, with nbval's default
skipped keys (metadata, execution counts, images, widget ids) and the course's sanitizer
file (``lossbook/grading/sanitize.cfg``, shipped with the package; the test suite's nbval
runs read the same file). One deliberate difference: ``stderr`` streams are
dropped on both sides, so a warning printed by a correct implementation (a
``RuntimeWarning`` from numpy) does not cost points; stderr cannot carry a forged stdout.

Examples
--------
>>> from nbformat.v4 import new_output
>>> same, why = compare([new_output("stream", name="stdout", text="1.5\\n")],
...                     [new_output("stream", name="stdout", text="1.5\\n")])
>>> same
True
>>> compare([new_output("stream", name="stdout", text="2\\n")],
...         [new_output("stream", name="stdout", text="1.5\\n")])[0]
False
"""
from __future__ import annotations

import copy
import functools
import re
from pathlib import Path
from types import SimpleNamespace

#: The course's one nbval sanitizer file: pytest's ``--nbval-sanitize-with`` and the
#: grader's comparison both read it.
SANITIZER_FILE = Path(__file__).with_name("sanitize.cfg")


@functools.lru_cache(maxsize=1)
def sanitize_patterns() -> dict[str, str]:
    """``{regex: replacement}`` from :data:`SANITIZER_FILE`, parsed by nbval itself."""
    from nbval.plugin import get_sanitize_patterns

    return dict(get_sanitize_patterns(SANITIZER_FILE.read_text(encoding="utf-8")))

_SKIP = ("metadata", "traceback", "prompt_number", "output_type", "name", "execution_count",
         "application/vnd.jupyter.widget-view+json", "image/png", "image/jpeg")


class _NoHook:
    @staticmethod
    def pytest_assertrepr_compare(**_kwargs):
        return []


def _adapter():
    from nbval.plugin import IPyNbCell, nocolors

    parent = SimpleNamespace(skip_compare=_SKIP, sanitize_patterns=sanitize_patterns())
    adapter = SimpleNamespace(parent=parent, colors=nocolors, ihook=_NoHook(), config=None,
                              comparison_traceback=[])
    adapter.sanitize = lambda s: IPyNbCell.sanitize(adapter, s)
    adapter.format_output_compare = lambda key, left, right: IPyNbCell.format_output_compare(adapter, key, left, right)
    return adapter, IPyNbCell


def warm_up() -> None:
    """Import nbval (and pytest, which it imports) ahead of the first comparison."""
    _adapter()


def _prepare(outputs):
    from nbformat import from_dict
    from nbval.plugin import coalesce_streams

    kept = [from_dict(copy.deepcopy(dict(o))) for o in outputs
            if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
    return coalesce_streams(kept)


def compare(got, expected) -> tuple[bool, str]:
    """``(same, explanation)`` for the kernel's outputs ``got`` vs the stored ``expected``."""
    adapter, cell_class = _adapter()
    same = cell_class.compare_outputs(adapter, _prepare(got), _prepare(expected))
    text = "\n".join(str(line) for line in adapter.comparison_traceback)
    return bool(same), re.sub(r"\s+", " ", text).strip()


def stdout_text(outputs) -> str:
    """The cell's coalesced stdout (what hidden tests print)."""
    return "".join(o.get("text", "") for o in outputs
                   if o.get("output_type") == "stream" and o.get("name") == "stdout")
