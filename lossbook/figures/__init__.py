"""Figure builders: one module per lesson, each building a static matplotlib Figure.

Layer 4 (see docs/architecture.md): may import the math and data layers and matplotlib,
never ipywidgets. Figures are built with :class:`matplotlib.figure.Figure` directly (no
pyplot state) in the course style of :mod:`lossbook.figures.style`.

Each builder module offers

- ``build(...)`` → a small object holding ``.figure``, its axes and the artists that
  change, plus ``.show(...)`` which puts a new state on those artists *in place*
  (``set_data``, ``set_offsets``, ``set_height``); the explorers call it on every update,
  lessons call it once for a static figure;
- ``ALT_TEXT``: a description of the figure to paste into the Markdown beside it.

Importing this package does not import matplotlib; the builder modules do.
"""
