"""Workshop mode without a browser: the pages, the offline template, the voila command.

The browser test (tests/browser/test_workshop.py) serves these through the real command.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import nbformat
import pytest

from lossbook import cli, explorers
from lossbook.workshop import PROJECTOR_DPI, build_pages, lesson_pages, pages, server, template

ROOT = Path(__file__).resolve().parents[2]
LESSONS = [lesson for _module, lesson in explorers.FACTORIES.values()]


def code_of(nb) -> str:
    return "\n".join(c.source for c in nb.cells if c.cell_type == "code")


def test_one_page_per_lesson_plus_index(tmp_path):
    written = build_pages(tmp_path, course_root=ROOT)
    assert [p.name for p in written] == ["index.ipynb", *[f"{lesson}.ipynb" for lesson in LESSONS]]
    for path in written:
        nbformat.validate(nbformat.read(path, as_version=4))
    index = nbformat.read(tmp_path / "index.ipynb", as_version=4)
    assert code_of(index) == ""  # the index runs nothing
    links = [line for line in index.cells[0].source.splitlines() if line.startswith("| [")]
    assert [line.split("](")[1].split(")")[0] for line in links] == [f"{x}.ipynb" for x in LESSONS]


@pytest.mark.parametrize("factory, lesson", [(f, l) for f, (_m, l) in explorers.FACTORIES.items()])
def test_lesson_page_shows_its_explorer_at_projector_dpi(tmp_path, factory, lesson):
    build_pages(tmp_path, dpi=123, course_root=ROOT)
    nb = nbformat.read(tmp_path / f"{lesson}.ipynb", as_version=4)
    kinds = [c.cell_type for c in nb.cells]
    assert kinds == ["code", "markdown", "code"]
    assert "style.EXPLORER_DPI = 123.0" in nb.cells[0].source  # before any explorer is built
    assert nb.cells[2].source.rstrip().endswith(f"explorers.{factory}()")
    assert "(index.ipynb)" in nb.cells[1].source


def test_titles_come_from_the_lesson_notebooks(tmp_path):
    notebooks = tmp_path / "notebooks"
    notebooks.mkdir()
    for lesson, heading in (("02_mse", "# 02 · Mean squared error (MSE)"),
                            ("05_hinge", "# Lesson 05 — Hinge loss: margins")):
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(heading + "\n\ntext")])
        nbformat.write(nb, notebooks / f"{lesson}.ipynb")
    titles = {p.lesson: p.title for p in lesson_pages(tmp_path)}
    assert titles["02_mse"] == "02 · Mean squared error (MSE)"
    assert titles["05_hinge"] == "05 · Hinge loss: margins"
    assert titles["01_loss_vs_cost"] == "01 · Loss vs cost"  # no notebook: from the id


def test_real_lesson_titles_are_read():
    for page in lesson_pages(ROOT):
        assert page.title[:2] == page.lesson[:2] and len(page.title) > 5, page
        assert page.summary, page


@pytest.mark.parametrize("dpi", [0, -3, 1000, "110", True, float("nan")])
def test_bad_dpi_is_refused_with_the_fix(tmp_path, dpi):
    with pytest.raises(ValueError, match="dpi must be a number between 20 and 400"):
        build_pages(tmp_path, dpi=dpi)
    assert not (tmp_path / "index.ipynb").exists()


def test_the_dpi_knob_enlarges_every_explorer():
    """Run each page's set-up cell, then build every explorer: all draw at the new dpi."""
    setup = pages._setup_cell(PROJECTOR_DPI).source
    script = setup + "\n" + textwrap.dedent("""
        from lossbook import explorers
        for name in explorers.FACTORIES:
            print(name, getattr(explorers, name)().figure.dpi)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=600, env={**os.environ, "MPLBACKEND": "agg"})
    assert done.returncode == 0, done.stderr[-3000:]
    found = dict(line.split() for line in done.stdout.split("\n") if line.strip())
    assert set(found) == set(explorers.FACTORIES)
    assert {name: float(dpi) for name, dpi in found.items()} == {
        name: float(PROJECTOR_DPI) for name in explorers.FACTORIES}


# ------------------------------------------------------------------------- template
def test_offline_template_has_no_network_reference(tmp_path):
    folder = template.write_template(tmp_path / "share")
    assert folder == tmp_path / "share" / "voila" / "templates" / template.TEMPLATE_NAME
    assert json.loads((folder / "conf.json").read_text()) == {"base_template": "lab"}
    for name in ("index.html.j2", "page.html"):
        text = (folder / name).read_text()
        assert template.external_references(text) == []
        assert "cdn.jsdelivr" not in text and "cdnjs" not in text
    index = (folder / "index.html.j2").read_text()
    assert ".lossbook-readout" in index  # the projector style is in
    assert "html_head_js_mermaidjs" in index


def test_the_installed_voila_templates_do_reference_cdns():
    """What the offline template removes is really there (else this module is moot)."""
    source = template._voila_templates()
    lab = (source / "lab" / "index.html.j2").read_text()
    assert template.external_references(lab), "Voilà's lab template no longer links a CDN"
    assert template.external_references(template.strip_network(lab)) == []


def test_unknown_network_reference_is_refused(tmp_path, monkeypatch):
    fake = tmp_path / "voila-templates"
    (fake / "lab").mkdir(parents=True)
    (fake / "base").mkdir()
    (fake / "lab" / "index.html.j2").write_text(
        "{%- block notebook_css -%}x{%- endblock notebook_css -%}\n"
        '<img alt="logo" src="https://example.org/logo.png">\n')
    (fake / "base" / "page.html").write_text("<html></html>")
    monkeypatch.setattr(template, "_voila_templates", lambda: fake)
    with pytest.raises(RuntimeError, match="still references the network.*example.org"):
        template.write_template(tmp_path / "share")


def test_strip_network_keeps_local_links():
    text = ('<link rel="stylesheet" href="{{ base_url }}voila/static/a.css">'
            '<script src="//cdn.example/x.js"></script>'
            "<link href='http://cdn.example/y.css' rel='stylesheet'/>")
    assert template.strip_network(text) == '<link rel="stylesheet" href="{{ base_url }}voila/static/a.css">'


# --------------------------------------------------------------------------- server
def test_voila_command_is_local_offline_and_codeless(tmp_path):
    command = server.voila_command(tmp_path, 9999)
    assert command[:3] == [sys.executable, "-m", "voila"]
    assert str(tmp_path) in command
    for arg in ("--port=9999", "--no-browser", "--Voila.ip=127.0.0.1", "--Voila.port_retries=0",
                f"--template={template.TEMPLATE_NAME}", "--strip_sources=True",
                *template.VOILA_OFFLINE_ARGS):
        assert arg in command
    assert server.index_url(9999) == "http://127.0.0.1:9999/voila/render/index.ipynb"


def test_voila_environment_puts_the_template_first(tmp_path):
    env = server.voila_environment(tmp_path, {"JUPYTER_PATH": "/a" + os.pathsep + "/b", "X": "1"})
    assert env["JUPYTER_PATH"].split(os.pathsep) == [str(tmp_path), "/a", "/b"]
    assert env["X"] == "1"
    assert server.voila_environment(tmp_path, {})["JUPYTER_PATH"] == str(tmp_path)


def test_command_refuses_bad_port(capsys):
    assert cli.main(["workshop", "--port", "0", "--no-browser"]) == 2
    assert "--port must be between 1 and 65535" in capsys.readouterr().err


def test_command_without_voila_says_how_to_install(monkeypatch, capsys):
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "voila" else real(name, *a))
    assert cli.main(["workshop", "--no-browser"]) == 2
    assert "pip install -e .[workshop]" in capsys.readouterr().err


def test_command_reports_bad_dpi(capsys):
    assert cli.main(["workshop", "--no-browser", "--dpi", "5"]) == 2
    assert "dpi must be a number between 20 and 400" in capsys.readouterr().err


def test_port_in_use_fails_clearly(tmp_path):
    """Voilà must not silently move to another port (the printed address would be wrong)."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        process = subprocess.Popen(
            [sys.executable, "-m", "lossbook", "workshop", "--no-browser", f"--port={port}",
             f"--out={tmp_path / 'pages'}"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True, cwd=ROOT, start_new_session=True,
            env={**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config")})
        try:
            _out, err = process.communicate(timeout=300)
        finally:
            if process.poll() is None:  # it kept serving somewhere: stop it and Voilà
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    assert process.returncode != 0
    assert f"if port {port} is in use, choose another with --port" in err
    assert (tmp_path / "pages" / "index.ipynb").exists()  # --out keeps the pages
