"""Lesson 01 explorer: bars are lossbook's per-example losses, the cost bar its reduction."""
from __future__ import annotations

import numpy as np
import pytest

from lossbook import data, explorers, losses
from lossbook.explorers.base import fmt

LOSS_FUNCTIONS = {"squared error": losses.mse, "absolute error": losses.mae}


@pytest.fixture
def explorer():
    return explorers.loss_vs_cost()


def _expected(explorer):
    y_pred = np.array([explorer.controls[f"y_pred_{i}"].value for i in range(1, 6)])
    fn = LOSS_FUNCTIONS[explorer.controls["loss"].value]
    return y_pred, fn


def _assert_matches_lossbook(explorer):
    parts = explorer.parts
    y_pred, fn = _expected(explorer)
    reduction = explorer.controls["reduction"].value
    per_example = fn(explorer.y_true, y_pred, reduction="none")
    assert [bar.get_height() for bar in parts.loss_bars] == list(per_example)
    np.testing.assert_array_equal(parts.prediction_points.get_ydata(), y_pred)
    for segment, x, t, p in zip(parts.residual_lines.get_segments(), explorer.x,
                                explorer.y_true, y_pred):
        np.testing.assert_array_equal(segment, [[x, t], [x, p]])
    mean, total = fn(explorer.y_true, y_pred), fn(explorer.y_true, y_pred, reduction="sum")
    cost_bar = {"none": 0.0, "mean": mean, "sum": total}[reduction]
    assert parts.cost_bar.get_height() == cost_bar
    assert parts.mean_line.get_visible() == (reduction == "mean")
    assert list(parts.mean_line.get_ydata()) == [mean, mean]
    bottom, top = parts.ax_loss.get_ylim()
    assert bottom == 0 and top >= max(per_example.max(), cost_bar), "a bar is cut off"
    lines = explorer.readout_text.splitlines()
    assert lines[1] == "per-example losses: " + ", ".join(fmt(v) for v in per_example)
    assert lines[2] == f"mean (the cost) = {fmt(mean)}"
    assert lines[3] == f"sum = {fmt(total)}"
    if reduction == "none":
        assert lines[4] == "reduction='none' returns the 5 losses"
    else:
        assert lines[4] == f"reduction='{reduction}' returns {fmt(cost_bar)}"
    state = explorer.state()
    np.testing.assert_array_equal(state["result"], fn(explorer.y_true, y_pred,
                                                      reduction=reduction))


def test_contract(explorer, check_contract):
    check_contract(explorer)
    (legend,) = explorer.figure.legends    # below the panels, where no bar reaches it
    assert [t.get_text() for t in legend.get_texts()] == [
        "target y", "residual ŷ − y", "prediction ŷ", "mean = cost",
        "loss of each example", "mean of the losses (the cost)"]


@pytest.mark.parametrize("reduction, extra", [
    ("none", []), ("sum", ["sum of the losses"]),
    ("mean", ["mean = cost", "mean of the losses (the cost)"])])
def test_the_legend_lists_only_what_the_reduction_draws(explorer, reduction, extra):
    explorer.controls["reduction"].value = "sum" if reduction != "sum" else "none"
    explorer.controls["reduction"].value = reduction
    (legend,) = explorer.figure.legends
    texts = [t.get_text() for t in legend.get_texts()]
    assert sorted(texts) == sorted(["target y", "residual ŷ − y", "prediction ŷ", "loss of each example", *extra])
    assert "reduced value" not in texts


def test_targets_come_from_lossbook_data(explorer):
    points = data.regression_1d(n=5, slope=1.0, intercept=0.5, noise=0.8,
                                x_range=(-2.0, 2.0), seed=34)
    np.testing.assert_array_equal(explorer.y_true, points.y)
    np.testing.assert_array_equal(explorer.parts.ax_data.lines[0].get_ydata(), points.y)


@pytest.mark.parametrize("loss", list(LOSS_FUNCTIONS))
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_every_prediction_slider_across_its_range(explorer, sweep, in_place, loss, reduction):
    with in_place(explorer):
        explorer.controls["loss"].value = loss
        explorer.controls["reduction"].value = reduction
        _assert_matches_lossbook(explorer)
        for i in range(1, 6):
            for value in sweep(explorer.controls[f"y_pred_{i}"], 5):
                explorer.controls[f"y_pred_{i}"].value = value
                _assert_matches_lossbook(explorer)


def test_reduction_and_loss_relabel_the_figure(explorer):
    labels = lambda: [t.get_text() for t in explorer.parts.ax_loss.get_xticklabels()]
    explorer.controls["reduction"].value = "sum"
    assert labels()[-1] == "sum"
    explorer.controls["reduction"].value = "none"
    assert labels()[-1].startswith("none")
    explorer.controls["loss"].value = "absolute error"
    assert explorer.parts.ax_loss.get_ylabel() == "absolute error"


def test_pixels_change_when_a_prediction_moves(explorer, frame):
    before = frame(explorer)
    explorer.controls["y_pred_3"].value = explorer.controls["y_pred_3"].max
    after = frame(explorer)
    assert not np.array_equal(before, after)
    explorer.controls["reduction"].value = "sum"      # relabels: needs a full redraw
    assert not np.array_equal(frame(explorer), after)


def test_bad_n_is_a_clear_error():
    with pytest.raises(ValueError, match="n must be an integer from 1 to 5"):
        explorers.loss_vs_cost(n=9)


def _every_step(control):
    """Every value a slider can take, min to max, in its own steps."""
    count = int(round((control.max - control.min) / control.step))
    return [float(min(control.max, control.min + k * control.step)) for k in range(count + 1)]


def _assert_bars_inside(explorer):
    bottom, top = explorer.parts.ax_loss.get_ylim()
    heights = [bar.get_height() for bar in explorer.parts.loss_bars]
    heights.append(explorer.parts.cost_bar.get_height())
    assert bottom == 0 and 0 <= min(heights) and max(heights) <= top, \
        f"a bar is outside the axes: heights {heights}, y-range ({bottom}, {top})"


@pytest.mark.parametrize("loss", list(LOSS_FUNCTIONS))
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_full_sweeps_rescale_rarely_and_never_hide_a_bar(explorer, monkeypatch, loss,
                                                         reduction):
    explorer.controls["loss"].value = loss
    explorer.controls["reduction"].value = reduction
    redraws = []
    monkeypatch.setattr(explorer, "request_full_redraw", lambda: redraws.append(1))
    for i in range(1, 6):
        control = explorer.controls[f"y_pred_{i}"]
        start = control.value
        for values in (_every_step(control), _every_step(control)[::-1]):
            redraws.clear()
            for value in values:
                control.value = value
                _assert_bars_inside(explorer)
            assert len(redraws) <= 5, f"{len(redraws)} full redraws sweeping y_pred_{i}"
        control.value = start
    # the hysteresis must not leave the bars squashed: after a few small moves near the
    # targets they use more than 1/22 of the height
    control = explorer.controls["y_pred_5"]
    for value in (control.value + control.step, control.value) * 2:
        control.value = value
    heights = [bar.get_height() for bar in explorer.parts.loss_bars]
    heights.append(explorer.parts.cost_bar.get_height())
    assert max(heights + [1.0 / 22]) * 22 >= explorer.parts.ax_loss.get_ylim()[1]


def test_axis_top_keeps_margin_and_shrinks_only_when_much_smaller():
    from lossbook.figures.loss_vs_cost import loss_axis_top

    rng = np.random.default_rng(0)
    top = None
    for needed in rng.uniform(0, 60, 500) ** rng.uniform(0.2, 1.0, 500):
        new = loss_axis_top(top, needed, cap=60.0)
        assert needed <= new <= max(63.0, 1.0)
        if top is not None and new != top:
            assert 1.1 * needed > top or 20 * 1.1 * needed <= top
        top = new
