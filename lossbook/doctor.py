"""``lossbook doctor``: find what stops widgets and plots from working, and say how to fix it.

What breaks explorers in practice, in the order it is checked:

1. **Packages**: JupyterLab, ipywidgets, jupyterlab_widgets, ipympl, anywidget, ipykernel,
   matplotlib installed, at the versions lossbook requires, and ipywidgets' own pin on
   jupyterlab_widgets satisfied (a mismatch gives "Error displaying widget").
2. **Lab extensions**: the front-end halves ``@jupyter-widgets/jupyterlab-manager``,
   ``jupyter-matplotlib`` and ``anywidget`` (the explorers' canvas) present in a folder JupyterLab searches, the copy JupyterLab
   loads (the first found, as ``jupyter labextension list`` shows) being the one the
   Python package installed (an old copy in ``~/.local/share/jupyter`` shadows a new one),
   ipympl's JavaScript version range satisfied, and none disabled in ``page_config.json``.
3. **Kernel**: the ``python3`` kernel the notebooks ask for runs the Python environment
   lossbook is installed in (otherwise ``import lossbook`` fails, or widgets talk to a
   kernel with other versions).
4. **Plots**: ipympl's backend ``module://ipympl.backend_nbagg`` importable.
5. **Progress store**: the folder where ``check`` records progress is writable.
6. **Workshop mode** (optional): Voilà installed; missing is only a warning.

Every probe of the environment is a method of :class:`Environment`, so tests replace one
probe to inject one failure. :func:`diagnose` returns :class:`Finding` objects; the
command prints them and exits non-zero when one is a problem.

>>> Finding("ipympl", "problem", "not installed", fix="pip install ipympl").ok
False
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Finding", "Environment", "diagnose", "report", "PACKAGES", "EXTENSIONS"]

#: Python distributions the explorers need (checked against lossbook's own requirements).
PACKAGES = ("jupyterlab", "ipywidgets", "jupyterlab_widgets", "ipympl", "anywidget", "ipykernel",
            "matplotlib")
#: Lab extension name -> the Python distribution that installs it.
EXTENSIONS = {"@jupyter-widgets/jupyterlab-manager": "jupyterlab_widgets",
              "jupyter-matplotlib": "ipympl", "anywidget": "anywidget"}
#: Minimum versions when lossbook's metadata cannot be read (an uninstalled checkout).
FALLBACK_MINIMUMS = {"jupyterlab": ">=4.0", "ipywidgets": ">=8.1", "ipympl": ">=0.9.3",
                     "anywidget": ">=0.9",
                     "ipykernel": ">=6.25", "matplotlib": ">=3.7", "jupyterlab_widgets": ">=3.0"}
IPYMPL_BACKEND = "module://ipympl.backend_nbagg"
KERNEL_NAME = "python3"
_SERVER_PYTHON_NAMES = {"python", f"python{sys.version_info[0]}",
                        f"python{sys.version_info[0]}.{sys.version_info[1]}"}


@dataclass(frozen=True)
class Finding:
    """One line of the doctor's report.

    Attributes
    ----------
    what : str
        The thing checked ("ipympl", "lab extension jupyter-matplotlib", ...).
    level : {"ok", "warning", "problem"}
        Only problems make the command fail.
    detail : str
        What was found.
    fix : str
        How to fix it (empty when nothing needs fixing).
    """

    what: str
    level: str
    detail: str
    fix: str = ""

    @property
    def ok(self) -> bool:
        return self.level != "problem"


def _normalise(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


class Environment:
    """The probes of the running environment; tests override single methods."""

    executable = sys.executable
    prefix = sys.prefix

    def version(self, distribution: str) -> str | None:
        """Installed version of a Python distribution, or None."""
        from importlib import metadata

        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            return None

    def requirements(self, distribution: str) -> list[str]:
        """The requirement strings a distribution declares (empty when not installed)."""
        from importlib import metadata

        try:
            return list(metadata.requires(distribution) or [])
        except metadata.PackageNotFoundError:
            return []

    def bundled_extension_version(self, distribution: str, extension: str) -> str | None:
        """Version of the lab extension that ``distribution`` installed (its package.json)."""
        from importlib import metadata

        try:
            files = metadata.distribution(distribution).files or []
        except metadata.PackageNotFoundError:
            return None
        suffix = f"labextensions/{extension}/package.json"
        for file in files:
            if str(file).replace("\\", "/").endswith(suffix):
                try:
                    return json.loads(Path(file.locate()).read_text(encoding="utf-8"))["version"]
                except (OSError, ValueError, KeyError):
                    return None
        return None

    def labextension_paths(self) -> list[str]:
        """The folders JupyterLab searches for lab extensions, in order."""
        from jupyter_core.paths import jupyter_path

        return jupyter_path("labextensions")

    def installed_extensions(self, name: str) -> list[tuple[str, str]]:
        """``(folder, version)`` of every copy of lab extension ``name``, search order."""
        found = []
        for folder in self.labextension_paths():
            package = Path(folder, *name.split("/"), "package.json")
            if package.is_file():
                try:
                    version = json.loads(package.read_text(encoding="utf-8")).get("version", "?")
                except (OSError, ValueError):
                    version = "unreadable package.json"
                found.append((folder, version))
        return found

    def disabled_extensions(self) -> dict[str, str]:
        """Lab extensions disabled in any ``labconfig/page_config.json``: name -> file."""
        from jupyter_core.paths import jupyter_config_path

        disabled = {}
        for folder in jupyter_config_path():
            config = Path(folder, "labconfig", "page_config.json")
            try:
                data = json.loads(config.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            entries = data.get("disabledExtensions", {})
            names = entries if isinstance(entries, list) else [k for k, v in entries.items() if v]
            for name in names:
                disabled.setdefault(name.split(":")[0], str(config))
        return disabled

    def kernel_argv(self, name: str = KERNEL_NAME) -> list[str] | None:
        """The ``argv`` of the kernel spec ``name`` as Jupyter resolves it, or None."""
        try:
            from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel
        except ImportError:
            return None
        try:
            return list(KernelSpecManager().get_kernel_spec(name).argv)
        except NoSuchKernel:
            return None

    def interpreter_prefix(self, python: str) -> str | None:
        """``sys.prefix`` of the interpreter ``python`` (None when it does not run)."""
        try:
            done = subprocess.run([python, "-c", "import sys; print(sys.prefix)"],
                                  capture_output=True, text=True, timeout=60)
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    def which(self, command: str) -> str | None:
        """The executable ``command`` resolves to on PATH, or None."""
        import shutil

        return shutil.which(command)

    def import_error(self, module: str) -> str | None:
        """None when ``module`` imports, else the error as text."""
        import importlib

        try:
            importlib.import_module(module)
        except Exception as error:  # any failure to import is what we report
            return f"{type(error).__name__}: {error}"
        return None

    def progress_dir(self) -> Path:
        from lossbook.exercises.progress import progress_dir

        return progress_dir()

    def writable_error(self, folder: Path) -> str | None:
        """None when a file can be created in ``folder`` (created if missing), else why not."""
        import tempfile

        try:
            folder.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(dir=folder, prefix=".lossbook-doctor-"):
                pass
        except OSError as error:
            return f"{type(error).__name__}: {error}"
        return None


# ---------------------------------------------------------------------------- checks
def _pip(env: Environment, *args: str) -> str:
    return f"{env.executable} -m pip install " + " ".join(args)


def _required_specifiers(env: Environment) -> dict[str, str]:
    from packaging.requirements import InvalidRequirement, Requirement

    wanted = dict(FALLBACK_MINIMUMS)
    for line in env.requirements("lossbook"):
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker is None and _normalise(requirement.name) in wanted:
            wanted[_normalise(requirement.name)] = str(requirement.specifier)
    return wanted


def check_packages(env: Environment) -> list[Finding]:
    from packaging.requirements import InvalidRequirement, Requirement
    from packaging.version import InvalidVersion, Version

    findings = []
    wanted = _required_specifiers(env)
    for name in PACKAGES:
        version = env.version(name)
        spec = wanted.get(name, "")
        if version is None:
            findings.append(Finding(name, "problem", "not installed in this environment",
                                    _pip(env, f'"{name}{spec}"')))
            continue
        try:
            fits = Version(version) in Requirement(f"{name}{spec}").specifier
        except (InvalidVersion, InvalidRequirement):
            fits = True
        if fits:
            findings.append(Finding(name, "ok", version))
        else:
            findings.append(Finding(name, "problem", f"{version} installed, lossbook needs {spec}",
                                    _pip(env, "--upgrade", f'"{name}{spec}"')))
    # ipywidgets pins the jupyterlab_widgets it was built with; a mismatch breaks rendering.
    widgets_lab = env.version("jupyterlab_widgets")
    if env.version("ipywidgets") and widgets_lab:
        for line in env.requirements("ipywidgets"):
            try:
                requirement = Requirement(line)
            except InvalidRequirement:
                continue
            if _normalise(requirement.name) == "jupyterlab_widgets" and requirement.marker is None:
                if Version(widgets_lab) not in requirement.specifier:
                    findings.append(Finding(
                        "ipywidgets ↔ jupyterlab_widgets", "problem",
                        f"ipywidgets {env.version('ipywidgets')} needs jupyterlab_widgets"
                        f"{requirement.specifier}, found {widgets_lab}",
                        _pip(env, "--upgrade", "ipywidgets", f'"jupyterlab_widgets{requirement.specifier}"')))
    return findings


def check_extensions(env: Environment) -> list[Finding]:
    findings = []
    disabled = env.disabled_extensions()
    for extension, distribution in EXTENSIONS.items():
        what = f"lab extension {extension}"
        copies = env.installed_extensions(extension)
        if not copies:
            findings.append(Finding(
                what, "problem", "not found in any folder JupyterLab searches "
                f"({', '.join(env.labextension_paths()) or 'none'})",
                _pip(env, "--force-reinstall", "--no-deps", distribution)
                + " (then restart JupyterLab and reload the page)"))
            continue
        folder, loaded = copies[0]
        bundled = env.bundled_extension_version(distribution, extension)
        if bundled is not None and loaded != bundled:
            findings.append(Finding(
                what, "problem",
                f"JupyterLab loads version {loaded} from {folder}, but {distribution} "
                f"{env.version(distribution)} installed version {bundled}",
                f"remove the stale copy {Path(folder, *extension.split('/'))} "
                "(e.g. an old `pip install --user`), then restart JupyterLab"))
            continue
        if extension == "jupyter-matplotlib" and not _ipympl_js_ok(env, loaded):
            findings.append(Finding(
                what, "problem", f"version {loaded} does not match ipympl "
                f"{env.version('ipympl')}'s JavaScript range {_ipympl_js_semver(env)}",
                _pip(env, "--force-reinstall", "--no-deps", "ipympl")))
            continue
        if extension in disabled:
            findings.append(Finding(what, "problem", f"disabled in {disabled[extension]}",
                                    f"jupyter labextension enable {extension}"))
            continue
        findings.append(Finding(what, "ok", f"{loaded} in {folder}"))
    return findings


def _ipympl_js_semver(env: Environment) -> str | None:
    if env.import_error("ipympl._version") is not None:
        return None
    from ipympl._version import js_semver

    return js_semver


def _ipympl_js_ok(env: Environment, version: str) -> bool:
    """Does ``version`` satisfy ipympl's ``js_semver`` (a ``^x.y`` caret range)?"""
    semver = _ipympl_js_semver(env)
    if not semver or not semver.startswith("^"):
        return True
    try:
        want = [int(p) for p in semver[1:].split(".")]
        have = [int(p) for p in version.split("-")[0].split(".")]
    except ValueError:
        return True
    want += [0] * (3 - len(want))
    have += [0] * (3 - len(have))
    if have < want:
        return False
    # npm caret: the left-most non-zero part is fixed.
    fixed = next((i for i, part in enumerate(want) if part != 0), 2)
    return have[: fixed + 1] == want[: fixed + 1]


def check_kernel(env: Environment) -> list[Finding]:
    what = f"kernel {KERNEL_NAME!r}"
    fix_register = (f"start JupyterLab from this environment (`make lab`, or "
                    f"`{env.executable} -m jupyter lab`); or make this environment the "
                    f"{KERNEL_NAME!r} kernel: {env.executable} -m ipykernel install --user "
                    f"--name {KERNEL_NAME}")
    argv = env.kernel_argv(KERNEL_NAME)
    if not argv:
        return [Finding(what, "problem", "no such kernel spec (the lesson notebooks use it)",
                        fix_register)]
    python = argv[0]
    if python in _SERVER_PYTHON_NAMES:
        # jupyter_client runs such a kernel with the interpreter that runs JupyterLab.
        if env.version("jupyterlab") is None:
            return [Finding(what, "problem", f"runs {python!r}, i.e. the Python that runs "
                            "JupyterLab, and JupyterLab is not installed here", fix_register)]
        found = [Finding(what, "ok", f"{python!r}: the Python that runs JupyterLab")]
        on_path = env.which("jupyter-lab")
        here = os.path.dirname(os.path.abspath(env.executable))
        if on_path and os.path.dirname(os.path.abspath(on_path)) != here:
            found.append(Finding(
                "jupyter lab on PATH", "warning",
                f"`jupyter lab` on your PATH is {on_path}, from another environment: started "
                "that way, the kernel would not see lossbook",
                f"start it as `{env.executable} -m jupyter lab` (or `make lab`), or activate "
                "this environment first"))
        return found
    prefix = env.interpreter_prefix(python)
    if prefix is None:
        return [Finding(what, "problem", f"its interpreter {python} does not run", fix_register)]
    if os.path.normcase(os.path.abspath(prefix)) != os.path.normcase(os.path.abspath(env.prefix)):
        return [Finding(what, "problem",
                        f"runs {python} (environment {prefix}), not the environment lossbook "
                        f"is installed in ({env.prefix}): `import lossbook` would fail or "
                        "widget versions would not match", fix_register)]
    return [Finding(what, "ok", f"{python} (this environment)")]


def check_backend(env: Environment) -> list[Finding]:
    error = env.import_error("ipympl.backend_nbagg")
    if error is not None:
        return [Finding("matplotlib backend", "problem",
                        f"{IPYMPL_BACKEND} cannot be imported ({error})",
                        _pip(env, "--upgrade", "ipympl", "matplotlib"))]
    return [Finding("matplotlib backend", "ok", f"{IPYMPL_BACKEND} available")]


def check_progress(env: Environment) -> list[Finding]:
    folder = env.progress_dir()
    error = env.writable_error(folder)
    if error is not None:
        return [Finding("progress store", "problem", f"{folder} is not writable ({error})",
                        "make the folder writable, or point LOSSBOOK_PROGRESS_DIR at a "
                        "writable folder (e.g. `export LOSSBOOK_PROGRESS_DIR=~/lossbook-progress`)")]
    return [Finding("progress store", "ok", f"{folder} is writable")]


def check_workshop(env: Environment) -> list[Finding]:
    """Voilà is optional (only ``lossbook workshop`` needs it): a warning, never a problem."""
    version = env.version("voila")
    if version is None:
        return [Finding("voila (workshop mode)", "warning", "not installed: only "
                        "`lossbook workshop` needs it", _pip(env, '"voila>=0.5.8"'))]
    return [Finding("voila (workshop mode)", "ok", version)]


CHECKS = (check_packages, check_extensions, check_kernel, check_backend, check_progress,
          check_workshop)


def diagnose(env: Environment | None = None) -> list[Finding]:
    """Run every check; a check that crashes is reported as a problem, not raised."""
    env = env or Environment()
    findings = []
    for check in CHECKS:
        try:
            findings += check(env)
        except Exception as error:  # a broken environment must not hide the other checks
            findings.append(Finding(check.__name__.removeprefix("check_"), "problem",
                                    f"the check itself failed: {type(error).__name__}: {error}",
                                    "report this, with the output of `pip list`"))
    return findings


def report(findings: list[Finding]) -> str:
    """The findings as text: one line each, a ``fix:`` line under every problem."""
    labels = {"ok": "ok", "warning": "warning", "problem": "PROBLEM"}
    width = max((len(f.what) for f in findings), default=0)
    lines = []
    for f in findings:
        lines.append(f"{labels[f.level]:<8} {f.what:<{width}}  {f.detail}")
        if f.fix and f.level != "ok":
            lines.append(f"{'':<8} {'':<{width}}  fix: {f.fix}")
    problems = sum(not f.ok for f in findings)
    lines.append("")
    lines.append(f"{problems} problem{'s' if problems != 1 else ''} found: fix "
                 f"{'them' if problems > 1 else 'it'} in order, then run `lossbook doctor` again."
                 if problems else "Everything the explorers need is in place.")
    return "\n".join(lines)
