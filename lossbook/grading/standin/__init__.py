"""Files copied into the grading runtime folder that sandboxed kernels see.

- ``lossbook/__init__.py``: the stand-in ``lossbook`` package learners' notebooks import
  while being graded (``lossbook/canonical.py`` is copied next to it from the real package
  at grading time; nothing else of the real package is).
- ``boot.py``: the kernel's bootstrap (audit hooks, import guard, then ipykernel).

Nothing here is imported by the grader itself.
"""
