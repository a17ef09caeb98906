"""The learner's API: check records progress, hint escalates, solution asks first."""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from lossbook.exercises import api, get
from lossbook.exercises import progress as store_mod


@pytest.fixture(autouse=True)
def folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_PROGRESS_DIR", str(tmp_path))
    store_mod._STORES.clear()
    yield tmp_path
    store_mod._STORES.clear()


def test_check_records_each_attempt(folder):
    def mse(y_true, y_pred):
        return float(np.sum((y_pred - y_true) ** 2))

    assert api.check("mse", mse).status == "failed"
    assert api.check("mse", lambda y, p: float(np.mean((p - y) ** 2))).passed
    entry = json.loads((folder / "progress.json").read_text())["exercises"]["mse"]
    assert entry == {"attempts": 2, "last": "passed", "passed": True}


def test_check_unknown_exercise_is_a_clear_error():
    with pytest.raises(KeyError, match="no exercise called 'mse2'; did you mean 'mse'"):
        api.check("mse2", print)


def test_hint_goes_from_nudge_to_nearly_the_answer_then_repeats():
    hints = [api.hint("huber") for _ in range(5)]
    assert [h.number for h in hints] == [1, 2, 3, 3, 3]
    assert [h.text for h in hints[:3]] == list(get("huber").hints)
    assert 'hint("huber") again' in repr(hints[0]) and "(the last one; solution(" in repr(hints[-1])
    assert "lossbook-hint" in hints[0]._repr_html_()
    assert api.hint("mse").number == 1  # counters are per exercise


def test_solution_outside_jupyter_asks_for_confirmation(folder):
    note = api.solution("mse")
    assert not note.shown and 'solution("mse", confirm=True)' in repr(note)
    assert "def mse" not in repr(note)
    shown = api.solution("mse", confirm=True)
    assert shown.shown and get("mse").solution.strip() in repr(shown)
    entry = json.loads((folder / "progress.json").read_text())["exercises"]["mse"]
    assert entry["solution_viewed"] is True


def test_solution_button_reveals_the_code(folder):
    pytest.importorskip("ipywidgets")
    box = api._solution_widget("mse", get("mse").solution)
    button, shown = box.children[0].children[0], box.children[1]
    assert button.description == "Show solution" and shown.value == ""
    button.click()
    assert "def mse(y_true, y_pred):" in shown.value and button.disabled
    assert json.loads((folder / "progress.json").read_text())["exercises"]["mse"]["solution_viewed"] is True


def test_import_stays_light():
    code = ("import sys, lossbook\nfrom lossbook import check, hint, solution, progress\n"
            "import lossbook.exercises\n"
            "print(sorted(m for m in ('matplotlib', 'ipywidgets', 'scipy', 'IPython') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_solution_in_plain_python_needs_no_frontend():
    code = ("from lossbook import solution\nprint(repr(solution('hinge')))\n"
            "print(repr(solution('hinge', confirm=True)).splitlines()[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'solution("hinge", confirm=True)' in out.stdout and "Solution for hinge:" in out.stdout


def test_a_hand_edited_store_never_breaks_check_or_hint(folder):
    (folder / "progress.json").write_text(json.dumps({"exercises": {"mse": {"attempts": "many", "hints": "x"}}}))
    with pytest.warns(store_mod.ProgressWarning, match="progress could not be recorded"):
        assert api.check("mse", lambda y, p: float(np.mean((p - y) ** 2))).passed
    with pytest.warns(store_mod.ProgressWarning):
        assert api.hint("mse").number == 1


def test_ids_are_forgiving_about_case_and_spaces():
    assert get(" MSE ").id == "mse"


def test_record_false_leaves_progress_untouched(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_PROGRESS_DIR", str(tmp_path))
    from lossbook.exercises import api
    from lossbook.exercises.progress import default_store

    before = default_store().load()
    result = api.check("squared_errors", lambda y_true, y_pred: (np.asarray(y_pred) - y_true) ** 2, record=False)
    assert result.passed
    first = api.hint("squared_errors", record=False)
    again = api.hint("squared_errors", record=False)
    assert first.number == again.number == 1
    assert default_store().load() == before
    # …while the default records both.
    api.check("squared_errors", lambda y_true, y_pred: (np.asarray(y_pred) - y_true) ** 2)
    assert api.hint("squared_errors").number == 1 and api.hint("squared_errors").number == 2
    assert default_store().status("squared_errors") == "passed"
