"""Workshop mode: the explorers as an offline Voilà dashboard for a projector.

``lossbook workshop`` (``make workshop``) builds a folder of dashboard notebooks, one page
per lesson (its title and its explorer, no code) plus an index page, and serves it with
Voilà on 127.0.0.1 using an offline copy of Voilà's ``lab`` template:

- :mod:`lossbook.workshop.pages` writes the dashboard notebooks; figures are drawn at a
  larger resolution (``dpi``, default :data:`PROJECTOR_DPI`) so they fill a projected screen;
- :mod:`lossbook.workshop.template` writes the Voilà template ``lossbook-offline``: Voilà's
  own templates with every reference to a CDN removed (its ``lab`` template loads
  Font Awesome from cdn.jsdelivr.net, its file list Font Awesome 4 too; MathJax is switched
  to the bundled renderer), plus larger fonts for the room;
- :mod:`lossbook.workshop.server` assembles the ``voila`` command and runs it.

Nothing the pages need comes from the network (the browser tests record every request).
"""
from lossbook.workshop.pages import PROJECTOR_DPI, build_pages, lesson_pages

__all__ = ["PROJECTOR_DPI", "build_pages", "lesson_pages"]
