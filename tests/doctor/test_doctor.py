"""``lossbook doctor``: a healthy environment passes; each injected failure is named with a fix.

Failures are injected by replacing one probe of :class:`lossbook.doctor.Environment` (the
probes are the only places the doctor looks at the machine), starting from a healthy
fake whose answers are those of a working installation.
"""
from __future__ import annotations

import sys

import pytest

from lossbook import cli, doctor

HEALTHY_VERSIONS = {"jupyterlab": "4.2.5", "ipywidgets": "8.1.5", "jupyterlab_widgets": "3.0.13",
                    "ipympl": "0.9.4", "anywidget": "0.9.18", "ipykernel": "6.29.5", "matplotlib": "3.9.2",
                    "lossbook": "0.1.0", "voila": "0.5.8"}
EXTENSION_VERSIONS = {"@jupyter-widgets/jupyterlab-manager": "5.0.13", "jupyter-matplotlib": "0.11.4",
                      "anywidget": "0.9.18"}
ENV_EXT = "/env/share/jupyter/labextensions"


class Healthy(doctor.Environment):
    executable = "/env/bin/python"
    prefix = "/env"

    def version(self, distribution):
        return HEALTHY_VERSIONS.get(distribution)

    def requirements(self, distribution):
        return {"lossbook": ["numpy>=1.24", "ipywidgets>=8.1", "ipympl>=0.9.3", "anywidget>=0.9", "jupyterlab>=4.0",
                             "matplotlib>=3.7", "ipykernel>=6.25", 'voila>=0.5.8; extra == "workshop"'],
                "ipywidgets": ["comm>=0.1.3", "jupyterlab_widgets~=3.0.12",
                               'pytest>=3.6.0; extra == "test"']}.get(distribution, [])

    def bundled_extension_version(self, distribution, extension):
        return EXTENSION_VERSIONS[extension]

    def labextension_paths(self):
        return ["/home/me/.local/share/jupyter/labextensions", ENV_EXT]

    def installed_extensions(self, name):
        return [(ENV_EXT, EXTENSION_VERSIONS[name])]

    def disabled_extensions(self):
        return {}

    def kernel_argv(self, name=doctor.KERNEL_NAME):
        return ["/env/bin/python", "-m", "ipykernel_launcher", "-f", "{connection_file}"]

    def interpreter_prefix(self, python):
        return "/env" if python.startswith("/env/") else "/elsewhere"

    def which(self, command):
        return f"/env/bin/{command}"

    def import_error(self, module):
        return None if module in ("ipympl.backend_nbagg", "ipympl._version") else "ImportError: no"

    def progress_dir(self):
        return self._progress

    def __init__(self, progress):
        self._progress = progress


@pytest.fixture
def healthy(tmp_path, monkeypatch):
    # ipympl._version is imported for real by the JavaScript-range check; pin its answer.
    monkeypatch.setattr(doctor, "_ipympl_js_semver", lambda env: "^0.11")
    return Healthy(tmp_path / "progress")


def problems(findings):
    return {f.what: f for f in findings if not f.ok}


def test_healthy_environment_has_no_problem(healthy):
    findings = doctor.diagnose(healthy)
    assert problems(findings) == {}
    assert all(f.level == "ok" for f in findings), doctor.report(findings)
    whats = [f.what for f in findings]
    for name in doctor.PACKAGES:
        assert name in whats
    assert "Everything the explorers need is in place." in doctor.report(findings)


def test_real_environment_is_healthy():
    """The environment running the tests is the one the browser tests rely on."""
    findings = doctor.diagnose()
    assert problems(findings) == {}, doctor.report(findings)


def test_command_exit_status_healthy_and_broken(monkeypatch, healthy, capsys):
    monkeypatch.setattr(doctor, "Environment", lambda: healthy)
    assert cli.main(["doctor"]) == 0
    assert "Everything" in capsys.readouterr().out
    monkeypatch.setattr(Healthy, "import_error", lambda self, module: "ImportError: broken")
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert "PROBLEM" in out and "fix:" in out and "1 problem found" in out


def test_missing_package_names_pip_fix(healthy, monkeypatch):
    monkeypatch.setattr(Healthy, "version",
                        lambda self, d: None if d == "ipympl" else HEALTHY_VERSIONS.get(d))
    found = problems(doctor.diagnose(healthy))
    assert "not installed" in found["ipympl"].detail
    assert found["ipympl"].fix.startswith("/env/bin/python -m pip install")
    assert "ipympl>=0.9.3" in found["ipympl"].fix


def test_too_old_jupyterlab(healthy, monkeypatch):
    versions = {**HEALTHY_VERSIONS, "jupyterlab": "3.6.7"}
    monkeypatch.setattr(Healthy, "version", lambda self, d: versions.get(d))
    found = problems(doctor.diagnose(healthy))
    assert set(found) == {"jupyterlab"}
    assert "3.6.7 installed, lossbook needs >=4.0" in found["jupyterlab"].detail
    assert "--upgrade" in found["jupyterlab"].fix


def test_jupyterlab_widgets_not_matching_ipywidgets(healthy, monkeypatch):
    versions = {**HEALTHY_VERSIONS, "jupyterlab_widgets": "1.1.1"}
    monkeypatch.setattr(Healthy, "version", lambda self, d: versions.get(d))
    found = problems(doctor.diagnose(healthy))
    assert "ipywidgets ↔ jupyterlab_widgets" in found
    assert "~=3.0.12" in found["ipywidgets ↔ jupyterlab_widgets"].detail


def test_missing_lab_extension(healthy, monkeypatch):
    monkeypatch.setattr(Healthy, "installed_extensions",
                        lambda self, n: [] if n == "jupyter-matplotlib" else [(ENV_EXT, EXTENSION_VERSIONS[n])])
    found = problems(doctor.diagnose(healthy))
    assert set(found) == {"lab extension jupyter-matplotlib"}
    finding = found["lab extension jupyter-matplotlib"]
    assert "not found" in finding.detail and ENV_EXT in finding.detail
    assert "--force-reinstall" in finding.fix and "ipympl" in finding.fix


def test_stale_copy_shadowing_the_installed_extension(healthy, monkeypatch):
    user = "/home/me/.local/share/jupyter/labextensions"
    monkeypatch.setattr(Healthy, "installed_extensions", lambda self, n: (
        [(user, "3.0.1"), (ENV_EXT, "5.0.13")] if n.startswith("@jupyter-widgets")
        else [(ENV_EXT, "0.11.4")]))
    found = problems(doctor.diagnose(healthy))
    finding = found["lab extension @jupyter-widgets/jupyterlab-manager"]
    assert "loads version 3.0.1 from " + user in finding.detail
    assert "5.0.13" in finding.detail
    assert finding.fix.startswith(f"remove the stale copy {user}/@jupyter-widgets/jupyterlab-manager")


def test_ipympl_javascript_range(healthy, monkeypatch):
    monkeypatch.setattr(doctor, "_ipympl_js_semver", lambda env: "^0.12")
    found = problems(doctor.diagnose(healthy))
    assert set(found) == {"lab extension jupyter-matplotlib"}
    assert "^0.12" in found["lab extension jupyter-matplotlib"].detail


@pytest.mark.parametrize("version, semver, ok", [
    ("0.12.0", "^0.12", True), ("0.12.7", "^0.12", True), ("0.13.0", "^0.12", False),
    ("0.11.9", "^0.12", False), ("1.4.0", "^1.2", True), ("2.0.0", "^1.2", False),
    ("1.1.9", "^1.2", False), ("0.0.3", "^0.0.3", True), ("0.0.4", "^0.0.3", False),
])
def test_caret_range(version, semver, ok, monkeypatch, healthy):
    monkeypatch.setattr(doctor, "_ipympl_js_semver", lambda env: semver)
    assert doctor._ipympl_js_ok(healthy, version) is ok


def test_disabled_extension(healthy, monkeypatch):
    monkeypatch.setattr(Healthy, "disabled_extensions",
                        lambda self: {"jupyter-matplotlib": "/etc/jupyter/labconfig/page_config.json"})
    found = problems(doctor.diagnose(healthy))
    finding = found["lab extension jupyter-matplotlib"]
    assert "disabled in /etc/jupyter/labconfig/page_config.json" == finding.detail
    assert finding.fix == "jupyter labextension enable jupyter-matplotlib"


def test_kernel_from_another_environment(healthy, monkeypatch):
    monkeypatch.setattr(Healthy, "kernel_argv", lambda self, name: ["/usr/bin/python3", "-m", "ipykernel_launcher"])
    finding = problems(doctor.diagnose(healthy))["kernel 'python3'"]
    assert "/elsewhere" in finding.detail and "/env" in finding.detail
    assert "ipykernel install --user --name python3" in finding.fix


def test_kernel_missing_or_not_running(healthy, monkeypatch):
    monkeypatch.setattr(Healthy, "kernel_argv", lambda self, name: None)
    assert "no such kernel spec" in problems(doctor.diagnose(healthy))["kernel 'python3'"].detail
    monkeypatch.setattr(Healthy, "kernel_argv", lambda self, name: ["/gone/python", "-m", "ipykernel"])
    monkeypatch.setattr(Healthy, "interpreter_prefix", lambda self, python: None)
    assert "does not run" in problems(doctor.diagnose(healthy))["kernel 'python3'"].detail


def test_kernel_named_python_means_the_server_python(healthy, monkeypatch):
    monkeypatch.setattr(Healthy, "kernel_argv", lambda self, name: ["python", "-m", "ipykernel_launcher"])
    findings = doctor.diagnose(healthy)
    assert problems(findings) == {}
    monkeypatch.setattr(Healthy, "which", lambda self, command: "/usr/local/bin/jupyter-lab")
    warnings = [f for f in doctor.diagnose(healthy) if f.level == "warning"]
    assert len(warnings) == 1 and "/usr/local/bin/jupyter-lab" in warnings[0].detail
    assert "/env/bin/python -m jupyter lab" in warnings[0].fix


def test_backend_not_importable(healthy, monkeypatch):
    monkeypatch.setattr(Healthy, "import_error",
                        lambda self, m: "ModuleNotFoundError: No module named 'ipympl'"
                        if m == "ipympl.backend_nbagg" else None)
    finding = problems(doctor.diagnose(healthy))["matplotlib backend"]
    assert doctor.IPYMPL_BACKEND in finding.detail and "No module named" in finding.detail


def test_progress_store_not_writable(healthy, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    healthy._progress = blocker / "progress"  # a folder inside a file: cannot be created
    finding = problems(doctor.diagnose(healthy))["progress store"]
    assert str(blocker / "progress") in finding.detail
    assert "LOSSBOOK_PROGRESS_DIR" in finding.fix


def test_progress_store_probe_uses_lossbook_location(monkeypatch, tmp_path):
    monkeypatch.setenv("LOSSBOOK_PROGRESS_DIR", str(tmp_path / "p"))
    assert doctor.Environment().progress_dir() == tmp_path / "p"
    assert doctor.Environment().writable_error(tmp_path / "p") is None


def test_a_crashing_check_is_reported_and_the_others_still_run(healthy, monkeypatch):
    def boom(self, name):
        raise RuntimeError("kernel spec folder unreadable")
    monkeypatch.setattr(Healthy, "kernel_argv", boom)
    findings = doctor.diagnose(healthy)
    assert problems(findings)["kernel"].detail.endswith("RuntimeError: kernel spec folder unreadable")
    assert [f.what for f in findings][-2:] == ["progress store", "voila (workshop mode)"]


def test_report_lists_fix_under_each_problem():
    text = doctor.report([doctor.Finding("a", "ok", "fine"),
                          doctor.Finding("b", "problem", "broken", "do x"),
                          doctor.Finding("c", "problem", "broken too", "do y")])
    lines = text.splitlines()
    assert lines[1].startswith("PROBLEM") and lines[2].strip() == "fix: do x"
    assert lines[4].strip() == "fix: do y"
    assert lines[-1].startswith("2 problems found")


def test_real_probes_read_this_environment():
    env = doctor.Environment()
    assert env.version("ipywidgets") is not None
    assert env.version("surely-not-installed-lossbook-x") is None
    copies = env.installed_extensions("jupyter-matplotlib")
    assert copies and copies[0][1] == env.bundled_extension_version("ipympl", "jupyter-matplotlib")
    assert env.interpreter_prefix(sys.executable) == sys.prefix


def test_missing_voila_is_only_a_warning(healthy, monkeypatch, capsys):
    monkeypatch.setattr(Healthy, "version",
                        lambda self, d: None if d == "voila" else HEALTHY_VERSIONS.get(d))
    findings = doctor.diagnose(healthy)
    assert problems(findings) == {}
    (warning,) = [f for f in findings if f.level == "warning"]
    assert warning.what == "voila (workshop mode)" and "voila>=0.5.8" in warning.fix
    monkeypatch.setattr(doctor, "Environment", lambda: healthy)
    assert cli.main(["doctor"]) == 0
    assert "fix: /env/bin/python -m pip install" in capsys.readouterr().out


def test_a_real_stale_copy_on_jupyter_path_is_found(tmp_path, monkeypatch, capsys):
    """No fake probes: an old jupyter-matplotlib earlier on JUPYTER_PATH shadows ipympl's."""
    stale = tmp_path / "share" / "labextensions" / "jupyter-matplotlib"
    stale.mkdir(parents=True)
    (stale / "package.json").write_text('{"name": "jupyter-matplotlib", "version": "0.7.4"}')
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "share"))
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert f"loads version 0.7.4 from {tmp_path / 'share' / 'labextensions'}" in out
    assert f"remove the stale copy {stale}" in out


def test_a_real_disabled_extension_is_found(tmp_path, monkeypatch, capsys):
    labconfig = tmp_path / "config" / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text(
        '{"disabledExtensions": {"@jupyter-widgets/jupyterlab-manager": true}}')
    monkeypatch.setenv("JUPYTER_CONFIG_DIR", str(tmp_path / "config"))
    assert cli.main(["doctor"]) == 1
    out = capsys.readouterr().out
    assert f"disabled in {labconfig / 'page_config.json'}" in out
    assert "fix: jupyter labextension enable @jupyter-widgets/jupyterlab-manager" in out


def test_missing_explorer_canvas_extension_is_named(healthy, monkeypatch):
    """The explorers draw on an anywidget canvas: without its front end they stay empty."""
    monkeypatch.setattr(Healthy, "installed_extensions",
                        lambda self, n: [] if n == "anywidget" else [(ENV_EXT, EXTENSION_VERSIONS[n])])
    found = problems(doctor.diagnose(healthy))
    assert set(found) == {"lab extension anywidget"}
    assert "anywidget" in found["lab extension anywidget"].fix
