"""The layers of docs/architecture.md hold: import-linter's contracts in pyproject.toml."""
from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"


def lint_imports(config: Path, cwd: Path, pythonpath: Path) -> subprocess.CompletedProcess:
    """``lint-imports`` from this environment, analysing the package found on ``pythonpath``."""
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    code = ("import sys; from importlinter.cli import lint_imports_command; "
            "sys.exit(lint_imports_command())")
    return subprocess.run([sys.executable, "-c", code, str(config), "--no-cache"], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def contracts() -> list[dict]:
    return tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]


def test_the_package_keeps_its_contracts():
    done = lint_imports(PYPROJECT, ROOT, ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert re.search(r"Contracts: \d+ kept, 0 broken", done.stdout), done.stdout
    assert "Imports only go down the layers" in done.stdout


def test_the_layers_contract_lists_every_module_and_is_the_documented_table():
    """The contract is exhaustive, and each module in it is named in the layer table."""
    (layers,) = [c for c in contracts() if c["type"] == "layers"]
    assert layers["exhaustive"] is True and layers["containers"] == ["lossbook"]
    table = (ROOT / "docs" / "architecture.md").read_text().split("## Conventions")[0]
    for layer in layers["layers"]:
        for name in re.split(r"[:|]", layer):
            name = name.strip()
            path = f"lossbook/{name}" + ("" if (ROOT / "lossbook" / name).is_dir() else ".py")
            assert f"`{path}" in table, f"{path} is in the contract but not in the layer table"


def _fake_package(tmp_path: Path, layers: list[str], extra: dict[str, str]) -> None:
    """A package ``lossbook`` with an empty module for every layer, plus ``extra``."""
    package = tmp_path / "lossbook"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for layer in layers:
        for name in re.split(r"[:|]", layer):
            (package / f"{name.strip()}.py").write_text("")
    for name, source in extra.items():
        (package / f"{name}.py").write_text(source)


@pytest.mark.parametrize("module, source, expected", [
    ("figures", "from lossbook import explorers\n",
     "lossbook.figures -> lossbook.explorers"),
    ("losses", "def f():\n    import lossbook.fitting\n",            # a lazy import too
     "lossbook.losses -> lossbook.fitting"),
    ("exercises", "from lossbook import grading\n",
     "lossbook.exercises -> lossbook.grading"),
    ("grading", "import lossbook\n", "lossbook.grading -> lossbook"),
    ("explorers", "from lossbook.exercises import api\n",           # allowed by the layers
     "lossbook.explorers -> lossbook.exercises"),
    ("fitting", "def f():\n    import scipy.optimize\n", "lossbook.fitting -> scipy"),
])
def test_the_contracts_catch_an_upward_import(tmp_path, module, source, expected):
    """The check can fail: the same contracts, on a package with one import that goes up."""
    config = dict(tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"])
    (layers,) = [c for c in config["contracts"] if c["type"] == "layers"]
    _fake_package(tmp_path, layers["layers"], {module: source})
    # the fake package has no stand-in nor batch module: keep only the contracts' rules
    rules = [{k: v for k, v in c.items() if k != "ignore_imports"} for c in config["contracts"]]
    lines = ['[tool.importlinter]', 'root_package = "lossbook"',
             f'include_external_packages = {_toml(config["include_external_packages"])}']
    for rule in rules:
        lines.append("[[tool.importlinter.contracts]]")
        lines += [f"{key} = {_toml(value)}" for key, value in rule.items()]
    toml_file = tmp_path / "contracts.toml"
    toml_file.write_text("\n".join(lines) + "\n")
    done = lint_imports(toml_file, tmp_path, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert expected in done.stdout, done.stdout


def _toml(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'
