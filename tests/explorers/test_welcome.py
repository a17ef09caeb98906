"""Lesson 00 explorer: every prediction shows lossbook's squared and absolute error."""
from __future__ import annotations

import numpy as np
import pytest

from lossbook import explorers, losses
from lossbook.explorers.base import fmt
from lossbook.figures import welcome as welcome_figure


def test_contract(check_contract):
    check_contract(explorers.welcome())


def test_sweeping_the_prediction_shows_lossbook_math(sweep, in_place, frame):
    explorer = explorers.welcome(target=2.0)
    parts = explorer.parts
    previous = frame(explorer)
    with in_place(explorer):
        for y_pred in sweep(explorer.controls["y_pred"], 9):
            explorer.controls["y_pred"].value = y_pred
            squared = losses.mse([2.0], [y_pred])
            absolute = losses.mae([2.0], [y_pred])
            assert parts.squared_point.get_data() == ([y_pred], [squared])
            assert parts.absolute_point.get_data() == ([y_pred], [absolute])
            assert list(parts.prediction_line.get_xdata()) == [y_pred, y_pred]
            assert explorer.readout_text.splitlines() == [
                "target y = 2", f"prediction ŷ = {fmt(y_pred)}",
                f"residual ŷ − y = {fmt(y_pred - 2.0)}",
                f"squared error = {fmt(squared)}", f"absolute error = {fmt(absolute)}"]
            pixels = frame(explorer)
            assert not np.array_equal(pixels, previous), "the plot did not change"
            previous = pixels


def test_curves_are_lossbook_losses():
    parts = welcome_figure.build(target=-1.0, pred_range=(-3.0, 1.0))
    grid = parts.squared_curve.get_xdata()
    target = np.full_like(grid, -1.0)
    np.testing.assert_array_equal(parts.squared_curve.get_ydata(),
                                  losses.mse(target, grid, reduction="none"))
    np.testing.assert_array_equal(parts.absolute_curve.get_ydata(),
                                  losses.mae(target, grid, reduction="none"))
    assert parts.ax.get_title() and parts.ax.get_xlabel() and parts.ax.get_ylabel()
    assert parts.ax.get_legend() is not None
    assert "squared error" in welcome_figure.ALT_TEXT


def test_start_outside_the_slider_range_is_a_clear_error():
    with pytest.raises(ValueError, match=r"y_pred=10.0 is outside .*\[-2, 6\]"):
        explorers.welcome(target=2.0, y_pred=10.0)
