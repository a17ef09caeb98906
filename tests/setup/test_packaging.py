"""environment.yml (conda route) and pyproject.toml (pip route) ask for the same things.

conda-forge is not reachable from CI, so this is a static check: both files are parsed
and their runtime dependencies compared by name and version specifier.
"""
import os
import re
import sys
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10: pytest itself depends on tomli there
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[2]
# Packages whose conda-forge name differs from the PyPI name (PyPI name -> conda name).
CONDA_NAMES: dict[str, str] = {}
# Entries of environment.yml that are not runtime dependencies of the package.
CONDA_ONLY = {"python", "pip"}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def pip_requirements() -> dict[str, SpecifierSet]:
    result = {}
    for line in pyproject()["project"]["dependencies"]:
        requirement = Requirement(line)
        name = normalise(CONDA_NAMES.get(requirement.name, requirement.name))
        assert name not in result, f"pyproject.toml lists {name} twice"
        result[name] = requirement.specifier
    return result


def conda_requirements() -> tuple[dict[str, SpecifierSet], list]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))
    result, pip_section = {}, []
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):
            pip_section += entry.get("pip", [])
            continue
        # conda match specs: "name>=1.2", "name >=1.2", "name=1.2" (= means 1.2.*)
        match = re.fullmatch(r"\s*([A-Za-z0-9_.\-]+)\s*(.*?)\s*", str(entry))
        assert match, f"environment.yml: cannot read the dependency {entry!r}"
        name, spec = normalise(match[1]), match[2].replace(" ", "")
        if re.fullmatch(r"=[^=<>!]+", spec):
            spec = f"=={spec[1:]}.*" if not spec.endswith("*") else f"=={spec[1:]}"
        assert name not in result, f"environment.yml lists {name} twice"
        result[name] = SpecifierSet(spec)
    return result, pip_section


def test_same_runtime_dependencies_with_the_same_versions():
    pip = pip_requirements()
    conda, _ = conda_requirements()
    conda = {name: spec for name, spec in conda.items() if name not in CONDA_ONLY}
    assert sorted(set(pip) - set(conda)) == [], "in pyproject.toml but not in environment.yml"
    assert sorted(set(conda) - set(pip)) == [], "in environment.yml but not in pyproject.toml"
    different = {name: (str(pip[name]), str(conda[name])) for name in pip if pip[name] != conda[name]}
    assert different == {}, "version specifiers differ (pyproject, environment.yml)"


def test_environment_installs_this_package_and_the_same_python():
    """Binder builds environment.yml before copying the repository, so the package itself
    is installed by postBuild (and by `make lab` on the conda route), not by environment.yml."""
    conda, pip_section = conda_requirements()
    assert not any(line.strip().startswith("-e") for line in pip_section), \
        "an editable install in environment.yml fails on Binder: use postBuild"
    post_build = (ROOT / "postBuild").read_text()
    assert re.search(r"^pip install (--no-deps )?-e \.$", post_build, re.M)
    assert os.access(ROOT / "postBuild", os.X_OK)
    requires_python = SpecifierSet(pyproject()["project"]["requires-python"])
    assert conda["python"] == requires_python


def test_torch_is_not_a_default_dependency():
    project = pyproject()["project"]
    everything = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    assert not [r for r in everything if normalise(Requirement(r).name) == "torch"]


def test_the_comparison_notices_a_difference(tmp_path, monkeypatch):
    """The check itself can fail: a changed specifier in environment.yml is caught."""
    fake = tmp_path
    (fake / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    text = (ROOT / "environment.yml").read_text()
    changed = re.sub(r"numpy\s*>=\s*[\d.]+", "numpy>=0.1", text)
    assert changed != text
    (fake / "environment.yml").write_text(changed)
    monkeypatch.setattr(sys.modules[__name__], "ROOT", fake)
    with pytest.raises(AssertionError, match="version specifiers differ"):
        test_same_runtime_dependencies_with_the_same_versions()


def test_licence_is_an_spdx_expression_built_by_a_setuptools_that_knows_it():
    """The table form (``license = {file = ...}``) and licence classifiers make setuptools
    print pages of deprecation warnings on every install; SPDX needs setuptools >= 77."""
    data = pyproject()
    project = data["project"]
    assert project["license"] == "BSD-3-Clause" and project["license-files"] == ["LICENSE"]
    assert not [c for c in project.get("classifiers", []) if c.startswith("License ::")]
    setuptools = next(Requirement(r) for r in data["build-system"]["requires"]
                      if Requirement(r).name == "setuptools")
    assert "77" in setuptools.specifier and "76.9" not in setuptools.specifier
    assert "setuptools>=77" in (ROOT / "course.py").read_text()  # the wheelhouse has it too
