"""`import lossbook` stays light: no plotting, widgets, SciPy or IPython until asked for."""
import json
import subprocess
import sys

import pytest

HEAVY = ("matplotlib", "ipywidgets", "scipy", "IPython", "ipympl", "torch", "sklearn", "nbformat", "nbclient")


def modules_after(statement: str) -> list[str]:
    code = f"import sys\n{statement}\nprint(__import__('json').dumps(sorted(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def heavy_in(modules):
    return sorted({m.split(".")[0] for m in modules} & set(HEAVY))


def test_import_lossbook_loads_no_heavy_library():
    assert heavy_in(modules_after("import lossbook")) == []


@pytest.mark.parametrize("module", ["lossbook.losses", "lossbook.regularization", "lossbook.gradcheck",
                                    "lossbook.data", "lossbook.train"])
def test_math_data_and_training_layers_load_no_heavy_library(module):
    """Layers 1–2 may import numpy only (docs/architecture.md)."""
    assert heavy_in(modules_after(f"import {module}")) == []


def test_the_detector_sees_a_heavy_import():
    """The check can fail: importing scipy is noticed."""
    assert heavy_in(modules_after("import lossbook, scipy.special")) == ["scipy"]
