"""The math tests share small input builders in ``mathhelpers.py`` next to this file.

pytest runs with ``--import-mode=importlib``, which does not put test folders on
``sys.path``; this folder is added so the test modules can ``import mathhelpers``.
"""
import os
import sys

sys.path.insert(0, os.path.dirname(__file__))
