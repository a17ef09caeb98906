"""What lesson 06's regularization-paths explorer *says* about its diamond must be true of
what it shows (issue #12): at the default λ the lasso solution is on an edge, not a corner;
the corner (w₂ exactly 0) comes at a larger λ; ridge never reaches an axis. And the
diamond is drawn with an opaque, antialiased edge (it looked stair-stepped before)."""
from __future__ import annotations

import importlib

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
mcolors = pytest.importorskip("matplotlib.colors")

from lossbook.figures import regularization_paths as paths_figure  # noqa: E402

# importlib: `from lossbook.explorers import regularization_paths` is the factory function.
paths_module = importlib.import_module("lossbook.explorers.regularization_paths")


@pytest.fixture
def explorer():
    return paths_module.regularization_paths()


def test_default_lambda_is_not_at_the_corner_and_the_text_does_not_say_it_is(explorer):
    s = explorer.state()
    assert np.all(s["plane_l1"] != 0.0), "at the default λ both lasso weights are non-zero"
    for text in (explorer.instructions, paths_figure.__doc__, paths_figure.ALT_TEXT):
        assert "is met at a corner" not in text and "sits on a corner" not in text


def test_raising_lambda_reaches_the_corner_and_ridge_never_an_axis(explorer):
    reached = None
    for log10_lam in np.arange(explorer.controls["log10_lam"].value, 2.0001, 0.05):
        explorer.controls["log10_lam"].value = float(round(log10_lam, 2))
        s = explorer.state()
        assert np.all(s["plane_l2"] != 0.0)
        if reached is None and s["plane_l1"][1] == 0.0:
            reached = log10_lam
            assert s["plane_l1"][0] > 0.0                    # the corner on the w₁ axis
    assert reached is not None and reached > explorer._initial


def test_diamond_edge_is_opaque_and_antialiased(explorer):
    diamond = explorer._plot.diamond
    assert diamond.get_antialiased()
    assert mcolors.to_rgba(diamond.get_edgecolor())[3] == 1.0
    assert mcolors.to_rgba(diamond.get_facecolor())[3] < 0.5
