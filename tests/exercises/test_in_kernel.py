"""In a real Jupyter kernel: check shows HTML and text, a looping function (even one that
swallows BaseException) and a function calling os._exit are stopped, and the kernel goes on."""
from __future__ import annotations

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")

CELLS = [
    "import numpy as np\nfrom lossbook import check, hint, solution, progress",
    "def mse(y_true, y_pred):\n    return float(np.mean((y_pred - y_true) ** 2))\ncheck('mse', mse)",
    "def mse(y_true, y_pred):\n    while True:\n        try:\n            pass\n        except BaseException:\n"
    "            pass\ncheck('mse', mse, timeout=1)",
    "def mse(y_true, y_pred):\n    import os\n    os._exit(1)\ncheck('mse', mse)",
    "def mse(y_true, y_pred):\n    raise NotImplementedError\ncheck('mse', mse)",
    "solution('mse')",
    "def mse(y_true, y_pred):\n    r = y_pred - y_true\n    return float(np.mean(r[:, 0] ** 2))\ncheck('mse', mse)",
    "print('alive', 6 * 7)",
]


@pytest.mark.slow
def test_checks_in_a_jupyter_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("LOSSBOOK_PROGRESS_DIR", str(tmp_path))
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(src) for src in CELLS]
    nbclient.NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    outputs = [cell.outputs for cell in nb.cells]

    passed = outputs[1][0]["data"]
    assert passed["text/plain"] == "✔ Passed — mse: all 8 cases passed."
    assert 'class="lossbook-check lossbook-check-passed"' in passed["text/html"]

    timeout = outputs[2][0]["data"]["text/plain"]
    assert timeout.startswith("⏱ Stopped — mse:") and "The kernel is fine" in timeout

    crashed = outputs[3][0]["data"]["text/plain"]
    assert crashed.startswith("⚠ Error — mse:") and "exit status 1" in crashed

    assert outputs[4][0]["data"]["text/plain"].startswith("… Not attempted — mse:")
    assert "application/vnd.jupyter.widget-view+json" in outputs[5][0]["data"], "a Show-solution button"
    raised = outputs[6][0]["data"]["text/plain"]
    assert "IndexError: too many indices for array" in raised
    assert "at line 3: return float(np.mean(r[:, 0] ** 2))" in raised
    assert outputs[7][0]["text"] == "alive 42\n"
