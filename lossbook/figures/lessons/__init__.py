"""Static figure builders for the lesson notebooks, one module per lesson.

Each builder is a function returning a :class:`matplotlib.figure.Figure` built without
pyplot (see :mod:`lossbook.figures.style`); every number it plots comes from the
``lossbook`` math, so the figure shows exactly what the lesson's formulas compute.
"""
