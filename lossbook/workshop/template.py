"""An offline Voilà template for workshop mode, made from the installed Voilà's own.

Voilà 0.5's ``lab`` template links Font Awesome 5 from cdn.jsdelivr.net, and its
``page.html`` (the file list) Font Awesome 4.5; MathJax would come from cdnjs unless its
URL is set to ``"null"`` (then the front end uses the MathJax bundled with JupyterLab,
see :data:`VOILA_OFFLINE_ARGS`). Nothing the dashboards use needs those icon fonts (the
explorers' sliders and ipympl canvases draw no icons, their toolbars are hidden), so the
template ``lossbook-offline`` is the ``lab`` template with every ``<link>``/``<script>``
to another host removed, plus larger fonts for a projector. It is written at run time
from the installed Voilà, so it follows Voilà's version; if a new Voilà adds a network
reference this module does not recognise, :func:`write_template` refuses with a clear error.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["TEMPLATE_NAME", "VOILA_OFFLINE_ARGS", "PROJECTOR_CSS", "write_template",
           "strip_network", "external_references"]

TEMPLATE_NAME = "lossbook-offline"
#: Extra ``voila`` arguments that keep MathJax local (deprecated options, still honoured
#: by Voilà 0.5; "null" makes the front end use JupyterLab's bundled MathJax 3).
VOILA_OFFLINE_ARGS = ("--Voila.mathjax_url=null", "--Voila.mathjax_config=null")

#: Readable from the back of a room: larger text for widgets, readouts and Markdown.
PROJECTOR_CSS = """
<style>
  body { --jp-content-font-size1: 18px; --jp-ui-font-size1: 16px; --jp-widgets-font-size: 16px; }
  .jp-RenderedMarkdown h1 { font-size: 2.2em; }
  .jp-RenderedMarkdown p, .jp-RenderedMarkdown td { font-size: 18px; }
  .lossbook-explorer .widget-label, .lossbook-explorer .widget-readout { font-size: 16px; }
  .lossbook-readout div[role="status"] { font-size: 18px !important; }
  #rendered_cells { padding-left: 16px; padding-right: 16px; }
</style>
"""

_EXTERNAL_TAG = re.compile(
    r"""<(link|script)\b[^>]*\b(?:href|src)\s*=\s*["']?(?:https?:)?//[^>]*>(?:\s*</script>)?""",
    re.IGNORECASE)
_EXTERNAL_REF = re.compile(r"""\b(?:href|src)\s*=\s*["']?(?:https?:)?//""", re.IGNORECASE)


def strip_network(text: str) -> str:
    """Remove ``<link>`` and ``<script>`` tags that point to another host.

    >>> strip_network('<a/><link rel="stylesheet" href="https://cdn.x/y.css" type="text/css" /><b/>')
    '<a/><b/>'
    >>> strip_network('<script src="//cdn.x/y.js"></script>ok')
    'ok'
    """
    return _EXTERNAL_TAG.sub("", text)


def external_references(text: str) -> list[str]:
    """Lines of ``text`` that still reference another host in an ``href``/``src``."""
    return [line.strip() for line in text.splitlines() if _EXTERNAL_REF.search(line)]


def _voila_templates() -> Path:
    """The folder holding Voilà's installed templates (``.../share/jupyter/voila/templates``)."""
    from jupyter_core.paths import jupyter_path

    for folder in jupyter_path("voila", "templates"):
        if Path(folder, "lab", "index.html.j2").is_file():
            return Path(folder)
    raise FileNotFoundError(
        "Voilà's templates were not found (no voila/templates/lab/index.html.j2 in "
        f"{', '.join(jupyter_path('voila', 'templates'))}): install Voilà in this environment "
        "with `pip install voila` (or `pip install -e .[workshop]`)")


def write_template(share_dir: str | Path) -> Path:
    """Write the ``lossbook-offline`` template under ``share_dir/voila/templates``.

    Put ``share_dir`` first on ``JUPYTER_PATH`` and pass ``--template=lossbook-offline``
    to ``voila``. Returns the template's folder.
    """
    source = _voila_templates()
    target = Path(share_dir) / "voila" / "templates" / TEMPLATE_NAME
    target.mkdir(parents=True, exist_ok=True)
    (target / "conf.json").write_text(json.dumps({"base_template": "lab"}), encoding="utf-8")

    index = strip_network((source / "lab" / "index.html.j2").read_text(encoding="utf-8"))
    marker = "{%- endblock notebook_css -%}"
    if marker not in index:
        raise RuntimeError(f"unexpected Voilà template {source / 'lab' / 'index.html.j2'}: "
                           f"no `{marker}`; workshop mode supports Voilà 0.5")
    index = index.replace(marker, PROJECTOR_CSS + marker, 1)
    # nbconvert's lab template would import mermaid.js from cdnjs: no diagrams here.
    index += "\n{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n"
    # Voilà's tree page and error pages extend page.html, which links Font Awesome 4.5.
    page = strip_network((source / "base" / "page.html").read_text(encoding="utf-8"))
    for name, text in (("index.html.j2", index), ("page.html", page)):
        left = external_references(text)
        if left:
            raise RuntimeError(f"Voilà's {name} still references the network after removing "
                               f"CDN links ({left[0]!r}); workshop mode cannot promise to "
                               "work offline with this Voilà version")
        (target / name).write_text(text, encoding="utf-8")
    return target
