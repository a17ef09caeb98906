"""Barron explorer (lesson 08): every plotted curve and readout number is lossbook math."""
import importlib

import numpy as np
import pytest

pytest.importorskip("ipywidgets")
pytest.importorskip("matplotlib")

from lossbook import losses  # noqa: E402
from lossbook.explorers.base import fmt  # noqa: E402
from lossbook.figures import barron as barron_figure  # noqa: E402

# importlib, not `from lossbook.explorers import barron`: that name is the factory function.
barron_module = importlib.import_module("lossbook.explorers.barron")

ALPHAS = [-10.0, -6.3, -2.0, -1.0, -0.5, 0.0, 0.3, 1.0, 1.5, 1.9, 2.0]
CS = [0.25, 0.5, 1.0, 2.35, 3.0]


@pytest.fixture(scope="module")
def explorer():
    return barron_module.barron()


def expected_curves(r, alpha, c):
    zeros = np.zeros_like(r)
    rho = losses.barron(zeros, r, alpha=alpha, c=c, reduction="none")
    # the weight from a central difference of the loss itself, not from barron_grad
    h = 1e-6
    psi = (losses.barron(zeros, r + h, alpha=alpha, c=c, reduction="none")
           - losses.barron(zeros, r - h, alpha=alpha, c=c, reduction="none")) / (2 * h)
    return rho, c * c * psi / r


@pytest.mark.parametrize("c", CS)
@pytest.mark.parametrize("alpha", ALPHAS)
def test_curves_and_readout_follow_the_controls(explorer, alpha, c):
    figure, axes = explorer.figure, list(explorer.figure.axes)
    with explorer.hold():
        explorer.controls["alpha"].value = alpha
        explorer.controls["c"].value = c
    plot = explorer._plot
    r = plot.current_loss.get_xdata()
    assert not np.any(r == 0)
    rho, weight = expected_curves(r, alpha, c)
    np.testing.assert_allclose(plot.current_loss.get_ydata(), rho, rtol=1e-12)
    np.testing.assert_allclose(plot.current_weight.get_ydata(), weight, rtol=1e-5, atol=1e-8)
    for (ref_alpha, _), loss_line, weight_line in zip(
            barron_figure.REFERENCE_ALPHAS, plot.reference_loss, plot.reference_weight):
        ref_rho, ref_weight = expected_curves(r, ref_alpha, c)
        np.testing.assert_allclose(loss_line.get_ydata(), ref_rho, rtol=1e-12)
        np.testing.assert_allclose(weight_line.get_ydata(), ref_weight, rtol=1e-5, atol=1e-8)

    probes = np.array(barron_figure.PROBE_RESIDUALS)
    probe_rho, probe_weight = expected_curves(probes, alpha, c)
    np.testing.assert_array_equal(plot.probes.get_xdata(), probes)
    np.testing.assert_allclose(plot.probes.get_ydata(), probe_rho, rtol=1e-12)

    state = explorer.state()
    assert state["alpha"] == alpha and state["c"] == c
    lines = explorer.readout_text.splitlines()
    assert lines[0].startswith(f"α = {fmt(alpha)}")
    assert lines[1] == f"c = {fmt(c)}"
    for line, p, rho_p, w_p in zip(lines[2:], probes, probe_rho, state["probe_weight"]):
        assert line == f"r = {fmt(p)}: loss ρ = {fmt(rho_p)}, weight = {fmt(w_p)}"
    np.testing.assert_allclose(state["probe_weight"], probe_weight, rtol=1e-5, atol=1e-8)
    assert explorer.figure is figure and list(explorer.figure.axes) == axes


def test_named_shapes_are_named(explorer):
    explorer.controls["c"].value = 1.0
    for alpha, name in [(2.0, "L2"), (1.0, "pseudo-Huber"), (0.0, "Cauchy"),
                        (-2.0, "Geman–McClure")]:
        explorer.controls["alpha"].value = alpha
        assert name in explorer.readout_text.splitlines()[0]
    explorer.controls["alpha"].value = -3.0
    assert explorer.readout_text.splitlines()[0] == "α = -3"


def test_l2_weights_every_residual_equally_and_robust_shapes_less(explorer):
    explorer.controls["c"].value = 1.0
    explorer.controls["alpha"].value = 2.0
    np.testing.assert_allclose(explorer._plot.current_weight.get_ydata(), 1.0, rtol=1e-12)
    explorer.controls["alpha"].value = -2.0
    w = explorer._plot.current_weight.get_ydata()
    r = explorer._plot.current_weight.get_xdata()
    assert np.all(w <= 1.0) and np.all(np.diff(w[r > 0]) < 0)


def test_figure_is_labelled_and_controls_keyboard_operable(explorer):
    for ax in explorer.figure.axes:
        assert ax.get_title() and ax.get_xlabel() and ax.get_ylabel()
    assert explorer.figure.legends
    for control in explorer.controls.values():
        assert control.continuous_update and control.description
    assert "lossbook-explorer" in explorer.widget._dom_classes
    assert "lossbook-readout" in explorer.readout._dom_classes
    assert barron_figure.ALT_TEXT


def test_factory_rejects_values_outside_the_sliders():
    with pytest.raises(ValueError, match="alpha must be between -10 and 2"):
        barron_module.barron(alpha=3.0)
    with pytest.raises(ValueError, match="c must be between"):
        barron_module.barron(c=0.0)


def test_contract_and_updates_in_place(explorer, check_contract, in_place, sweep, frame):
    check_contract(explorer)
    before = frame(explorer)
    with in_place(explorer):
        for name, control in explorer.controls.items():
            for value in sweep(control):
                control.value = value
    explorer.controls["alpha"].value = -4.0
    explorer.controls["c"].value = 2.0
    assert not np.array_equal(frame(explorer), before)


def test_static_figure_for_lessons():
    from lossbook.figures import style

    plot = barron_figure.build(alpha=0.0, c=2.0, dpi=style.STATIC_DPI)
    assert plot.figure.dpi == style.STATIC_DPI
    rho, _ = barron_figure.curves(plot.r, 0.0, 2.0)
    np.testing.assert_array_equal(plot.current_loss.get_ydata(), rho)
