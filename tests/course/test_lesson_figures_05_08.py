"""The static figures of lessons 05–08: labelled, colour-blind-safe, plotting exactly the math.

Expected values are recomputed here from the formulas (numpy, SciPy, scikit-learn), not
read back from the builders' own helpers.
"""
import matplotlib.colors as mcolors
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from matplotlib.figure import Figure
from scipy import special
from sklearn.metrics import hinge_loss, mean_pinball_loss

from lossbook.figures import style
from lossbook.figures.lessons import (
    lesson05_hinge, lesson06_regularization, lesson07_choosing_a_loss, lesson08_beyond,
)

ALLOWED_COLOURS = {mcolors.to_hex(c) for c in
                   (*style.OKABE_ITO.values(), style.DATA_COLOR, style.GRID_COLOR)}


def assert_course_figure(fig):
    assert isinstance(fig, Figure)
    assert fig.canvas.manager is None, "built through pyplot: it would be registered globally"
    assert fig.axes, "figure has no axes"
    for ax in fig.axes:
        assert ax.get_title().strip(), "axes without a title"
        assert ax.get_xlabel().strip(), "axes without an x label"
        assert ax.get_ylabel().strip(), "axes without a y label"
        for line in ax.get_lines():
            assert mcolors.to_hex(line.get_color()) in ALLOWED_COLOURS, line.get_label()
    assert any(ax.get_legend() is not None for ax in fig.axes), "figure without a legend"


def line(ax, label):
    found = [ln for ln in ax.get_lines() if ln.get_label() == label]
    assert len(found) == 1, f"expected one line {label!r}, got {[ln.get_label() for ln in ax.get_lines()]}"
    return found[0]


# --- lesson 05 -------------------------------------------------------------------------


def test_margin_losses_match_their_formulas():
    m = np.linspace(-4, 4, 81)
    curves = lesson05_hinge.margin_losses(m)
    np.testing.assert_array_equal(curves["zero_one"], (m <= 0).astype(float))
    np.testing.assert_allclose(curves["hinge"], np.maximum(0, 1 - m), atol=1e-15)
    np.testing.assert_allclose(curves["squared_hinge"], np.maximum(0, 1 - m) ** 2, atol=1e-15)
    np.testing.assert_allclose(curves["logistic"], np.logaddexp(0, -m) / np.log(2), rtol=1e-12)
    # scikit-learn's hinge_loss is the mean hinge of the decision values
    y = np.where(np.arange(m.size) % 2, 1, -1)
    ours = lesson05_hinge.margin_losses(y * m)["hinge"].mean()
    assert ours == pytest.approx(hinge_loss(y, m), rel=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=20))
def test_surrogates_bound_the_zero_one_loss(margins):
    curves = lesson05_hinge.margin_losses(margins)
    assert np.all(curves["hinge"] >= curves["zero_one"])
    assert np.all(curves["logistic"] >= curves["zero_one"] - 1e-12)
    assert np.all(curves["squared_hinge"] >= 0)


def test_margin_losses_figure_plots_the_four_losses():
    fig = lesson05_hinge.margin_losses_figure()
    assert_course_figure(fig)
    ax = fig.axes[0]
    hinge = line(ax, style.LOSS_STYLES["hinge"].label)
    m, values = hinge.get_data()
    np.testing.assert_allclose(values, np.maximum(0, 1 - np.asarray(m)), atol=1e-15)
    logistic = line(ax, "logistic (in bits)")
    np.testing.assert_allclose(logistic.get_ydata(), np.logaddexp(0, -np.asarray(m)) / np.log(2), rtol=1e-12)
    for name in ("zero_one", "squared_hinge"):
        line(ax, style.LOSS_STYLES[name].label)


@pytest.mark.parametrize("m_range", [(-3.0, 3.0), (-2.0, 2.0), (-3.0, 4.0)])
def test_margin_losses_figure_keeps_its_annotation_inside_the_axes(m_range):
    """The "hinge is 0 from m = 1 on" label used to run off the right edge."""
    fig = lesson05_hinge.margin_losses_figure(m_range=m_range)
    ax = fig.axes[0]
    (label,) = [t for t in ax.texts if "from m = 1" in t.get_text()]
    fig.draw_without_rendering()                      # apply the layout first
    renderer = fig._get_renderer()
    box, axes_box = label.get_window_extent(renderer), ax.get_window_extent(renderer)
    box = label.get_bbox_patch().get_window_extent(renderer) if label.get_bbox_patch() else box
    assert axes_box.x0 <= box.x0 and box.x1 <= axes_box.x1, (box, axes_box)
    assert axes_box.y0 <= box.y0 and box.y1 <= axes_box.y1, (box, axes_box)


def _svm_case():
    X = np.array([[2.0, 0.0], [3.0, 1.0], [-2.0, 0.0], [-3.0, -1.0], [1.0, 2.5]])
    y = np.array([1, 1, -1, -1, 1])
    return X, y, np.array([0.5, 0.0]), 0.0          # margins 1, 1.5, 1, 1.5, 0.5


def test_svm_figure_draws_boundary_margins_and_support_vectors():
    X, y, w, b = _svm_case()
    fig = lesson05_hinge.svm_figure(X, y, w, b)
    assert_course_figure(fig)
    ax = fig.axes[0]
    sv = line(ax, "support vectors (3)")             # margins 1, 1 and 0.5
    np.testing.assert_allclose(sorted(sv.get_xdata()), [-2.0, 1.0, 2.0])
    for label, level in (("boundary f(x) = 0", 0.0), ("margin f(x) = ±1", 1.0)):
        xs, ys = line(ax, label).get_data()
        np.testing.assert_allclose(w[0] * np.asarray(xs) + w[1] * np.asarray(ys) + b, level, atol=1e-12)


@pytest.mark.parametrize("X, w, match", [
    (np.zeros((4, 3)), np.array([1.0, 0.0]), "X must have shape"),
    (np.zeros((4, 2)), np.array([0.0, 0.0]), "w must be two numbers"),
])
def test_svm_figure_rejects_bad_input(X, w, match):
    with pytest.raises(ValueError, match=match):
        lesson05_hinge.svm_figure(X, np.array([1, -1, 1, -1]), w, 0.0)


# --- lesson 06 -------------------------------------------------------------------------


def test_polynomial_fits_figure_plots_the_given_curves():
    x = np.linspace(-1, 1, 9)
    grid = np.linspace(-1, 1, 50)
    fits = {"degree 1": 0.5 * grid, "degree 3": grid ** 3}
    fig = lesson06_regularization.polynomial_fits_figure(x, x ** 2, grid, fits, truth=grid ** 2)
    assert_course_figure(fig)
    ax = fig.axes[0]
    np.testing.assert_array_equal(line(ax, "degree 3").get_ydata(), grid ** 3)
    np.testing.assert_array_equal(line(ax, "training points").get_ydata(), x ** 2)
    np.testing.assert_array_equal(line(ax, "truth").get_ydata(), grid ** 2)


@pytest.mark.parametrize("fits, match", [({}, "at least one curve"), ({"bad": np.zeros(3)}, "shape of")])
def test_polynomial_fits_figure_rejects_bad_fits(fits, match):
    with pytest.raises(ValueError, match=match):
        lesson06_regularization.polynomial_fits_figure([0.0], [0.0], np.zeros(5), fits)


def test_train_test_figure_uses_log_error_axis():
    fig = lesson06_regularization.train_test_figure([1e-3, 1e-2, 1e-1], [0.1, 0.2, 0.3], [1.0, 0.5, 0.7],
                                                    xlabel="λ", title="t", log_x=True)
    assert_course_figure(fig)
    ax = fig.axes[0]
    assert ax.get_yscale() == "log" and ax.get_xscale() == "log"
    np.testing.assert_array_equal(line(ax, "test error").get_ydata(), [1.0, 0.5, 0.7])


@pytest.mark.parametrize("t", [0.0, 0.5, 2.0])
def test_shrinkage_figure_plots_both_proximal_steps(t):
    fig = lesson06_regularization.shrinkage_figure(t=t)
    assert_course_figure(fig)
    ax = fig.axes[0]
    z, l1 = line(ax, "L1: soft-threshold").get_data()
    z = np.asarray(z)
    np.testing.assert_allclose(l1, np.sign(z) * np.clip(np.abs(z) - t, 0, None), atol=1e-15)
    np.testing.assert_allclose(line(ax, "L2: u = z / (1 + 2t)").get_ydata(), z / (1 + 2 * t))


def test_shrinkage_figure_l1_is_the_proximal_minimiser():
    """Independent check of the plotted L1 curve: brute-force argmin of ½(u−z)² + t|u|."""
    t = 0.8
    z, l1 = line(lesson06_regularization.shrinkage_figure(t=t).axes[0], "L1: soft-threshold").get_data()
    u = np.linspace(-4, 4, 80001)
    for zk, uk in list(zip(z, l1))[::50]:
        assert uk == pytest.approx(u[np.argmin(0.5 * (u - zk) ** 2 + t * np.abs(u))], abs=2e-4)


def test_shrinkage_figure_rejects_negative_threshold():
    with pytest.raises(ValueError, match="t must be >= 0"):
        lesson06_regularization.shrinkage_figure(t=-1.0)


# --- lesson 07 -------------------------------------------------------------------------


def test_outlier_figure_plots_one_line_per_loss():
    fractions = [0.0, 0.1, 0.2]
    errors = {"mse": [0.1, 1.0, 2.0], "huber": [0.1, 0.2, 0.3]}
    fig = lesson07_choosing_a_loss.outlier_figure(fractions, errors)
    assert_course_figure(fig)
    ax = fig.axes[0]
    mse_line = line(ax, style.LOSS_STYLES["mse"].label)
    np.testing.assert_allclose(mse_line.get_xdata(), [0.0, 10.0, 20.0])
    np.testing.assert_array_equal(mse_line.get_ydata(), errors["mse"])
    assert mse_line.get_color() == style.LOSS_STYLES["mse"].color


@pytest.mark.parametrize("errors, match", [
    ({}, "at least one loss"),
    ({"nonsense": [1.0, 2.0]}, "unknown loss"),
    ({"mse": [1.0]}, "one value per fraction"),
])
def test_outlier_figure_rejects_bad_input(errors, match):
    with pytest.raises(ValueError, match=match):
        lesson07_choosing_a_loss.outlier_figure([0.0, 0.1], errors)


# --- lesson 08 -------------------------------------------------------------------------


@pytest.mark.parametrize("q", [0.1, 0.5, 0.9])
def test_pinball_figure_matches_scikit_learn(q):
    fig = lesson08_beyond.pinball_figure(qs=(q,))
    assert_course_figure(fig)
    r, loss = line(fig.axes[0], f"q = {q:g}").get_data()
    for rk, lk in list(zip(r, loss))[::37]:
        assert lk == pytest.approx(mean_pinball_loss([rk], [0.0], alpha=q), abs=1e-12)


def test_log_cosh_figure_plots_log_cosh_and_its_regimes():
    fig = lesson08_beyond.log_cosh_figure()
    assert_course_figure(fig)
    ax = fig.axes[0]
    r, values = line(ax, style.LOSS_STYLES["log_cosh"].label).get_data()
    np.testing.assert_allclose(values, np.log(np.cosh(np.asarray(r))), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(line(ax, "½ r²").get_ydata(), 0.5 * np.asarray(r) ** 2)


@pytest.mark.parametrize("gamma", [0.0, 1.0, 2.0, 5.0])
def test_focal_figure_plots_the_focal_loss(gamma):
    fig = lesson08_beyond.focal_figure(gammas=(gamma,))
    assert_course_figure(fig)
    label = f"γ = {gamma:g}" + (" (cross-entropy)" if gamma == 0 else "")
    p_t, values = line(fig.axes[0], label).get_data()
    p_t = np.asarray(p_t)
    expected = -((1 - p_t) ** gamma) * special.xlogy(1, np.clip(p_t, 1e-12, 1 - 1e-12))
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("builder, kwargs", [
    (lesson08_beyond.pinball_figure, {"qs": ()}),
    (lesson08_beyond.focal_figure, {"gammas": ()}),
])
def test_lesson08_builders_reject_empty_parameter_lists(builder, kwargs):
    with pytest.raises(ValueError, match="at least one"):
        builder(**kwargs)
