"""``lossbook.explorers.<name>`` is the real factory: its signature is the explorer class's."""
from __future__ import annotations

import importlib
import inspect
import json
import subprocess
import sys

import pytest

from lossbook import explorers


def _module(name):
    return importlib.import_module(f"lossbook.explorers.{explorers.FACTORIES[name][0]}")


def _explorer_class(name):
    factory = getattr(explorers, name)
    return getattr(_module(name), inspect.signature(factory).return_annotation)


@pytest.mark.parametrize("name", list(explorers.FACTORIES))
def test_factory_is_the_module_function_with_the_class_signature(name):
    factory = getattr(explorers, name)
    assert factory is getattr(_module(name), name)
    assert inspect.isfunction(factory) and factory.__module__ == f"lossbook.explorers.{name}"
    cls = _explorer_class(name)
    assert inspect.isclass(cls) and issubclass(cls, importlib.import_module(
        "lossbook.explorers.base").Explorer)
    factory_signature = inspect.signature(factory).replace(
        return_annotation=inspect.Signature.empty)
    assert factory_signature == inspect.signature(cls), (
        f"explorers.{name}{factory_signature} differs from {cls.__name__}"
        f"{inspect.signature(cls)}: give the factory the class's parameters")
    assert factory.__doc__ and "**kwargs" not in str(factory_signature)


def test_from_import_and_dir_give_the_factories():
    from lossbook.explorers import robust_fit

    assert robust_fit is explorers.robust_fit and callable(robust_fit)
    assert set(explorers.FACTORIES) <= set(dir(explorers))
    with pytest.raises(AttributeError, match="has no attribute 'no_such_explorer'"):
        explorers.no_such_explorer  # noqa: B018


def _run(code: str) -> dict:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_the_package_loads_no_widget_and_a_module_import_keeps_the_factory():
    """``import lossbook.explorers`` runs no explorer module; importing one by name runs it
    but does not hide the factory of the same name (fresh interpreter, any import order)."""
    result = _run(
        "import json, sys, importlib, types\n"
        "import lossbook.explorers as e\n"
        "heavy = sorted({n.split('.')[0] for n in sys.modules} & {'matplotlib', 'ipywidgets'})\n"
        "import lossbook.explorers.robust_fit\n"
        "from lossbook.explorers.outlier_experiment import OutlierExperimentExplorer\n"
        "m = importlib.import_module('lossbook.explorers.barron')\n"
        "print(json.dumps({'heavy_after_package_import': heavy,\n"
        "  'factory': isinstance(e.robust_fit, types.FunctionType),\n"
        "  'same': e.outlier_experiment is sys.modules[OutlierExperimentExplorer.__module__]"
        ".outlier_experiment,\n"
        "  'barron': e.barron is m.barron, 'module': isinstance(m, types.ModuleType),\n"
        "  'class': m.BarronExplorer.__name__}))\n")
    assert result == {"heavy_after_package_import": [], "factory": True, "same": True,
                      "barron": True, "module": True, "class": "BarronExplorer"}
