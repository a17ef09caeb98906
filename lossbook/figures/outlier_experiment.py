r"""Figure for lesson 07: how MSE, MAE and Huber line fits react to a growing share of outliers.

The training data come from :func:`lossbook.data.regression_1d` (``y = 2x + 1 + noise``,
seeded) with a chosen fraction of the points shifted up by a chosen size; the test data
are a second, clean sample of the same line. Each loss gets the line that minimises its
cost *exactly* (not a few steps of gradient descent, so the comparison is fair), from
:func:`lossbook.fitting.fit_line`; Huber's Newton iteration starts from the MAE line
(which does not depend on δ, so it is cached with the data).

Left panel: the data (outliers marked), the true line and the three fits. Right panel:
each fit's mean squared error on the clean test data (log scale), the number written on
each bar.

>>> plot = build(outlier_fraction=0.2, outlier_size=15.0)
>>> [ax.get_title() for ax in plot.figure.axes]
['Line fits with outliers in the data', 'Error on clean test data']
"""
from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from lossbook import data as datasets
from lossbook import fitting, losses
from lossbook.figures import style

__all__ = ["ALT_TEXT", "LOSSES", "Experiment", "OutlierExperimentFigure", "build",
           "experiment", "training_data", "test_data"]

#: The compared losses, in plotting order.
LOSSES: tuple[str, ...] = ("mse", "mae", "huber")
#: The truth every data set is drawn from.
SLOPE, INTERCEPT, NOISE = 2.0, 1.0, 1.0
N_TRAIN, N_TEST = 60, 200
TRAIN_SEED, TEST_SEED = 0, 1
X_RANGE = (-3.0, 3.0)
Y_LIMITS = (-8.0, 40.0)
ERROR_LIMITS = (0.5, 1000.0)

ALT_TEXT = (
    "Two panels. Left: 60 data points scattered around the line y = 2x + 1 (dotted), some "
    "of them outliers shifted upwards (marked with crosses), and three fitted lines: MSE "
    "(solid), MAE (dashed) and Huber (dash-dotted). As the fraction or size of the "
    "outliers grows, the MSE line is pulled up towards them while the MAE and Huber lines "
    "stay close to the bulk of the points. Right: a bar for each loss with its mean "
    "squared error on clean test data, on a logarithmic axis; the MSE bar grows with the "
    "outliers, the MAE and Huber bars stay near the noise level of 1."
)


def training_data(outlier_fraction: float, outlier_size: float):
    """The training set: :func:`lossbook.data.regression_1d` with seed 0."""
    return datasets.regression_1d(n=N_TRAIN, slope=SLOPE, intercept=INTERCEPT, noise=NOISE,
                                  outlier_fraction=outlier_fraction,
                                  outlier_size=outlier_size, x_range=X_RANGE,
                                  seed=TRAIN_SEED)


@functools.lru_cache(maxsize=1)
def test_data():
    """The clean test set: same line, no outliers, seed 1."""
    test = datasets.regression_1d(n=N_TEST, slope=SLOPE, intercept=INTERCEPT, noise=NOISE,
                                  x_range=X_RANGE, seed=TEST_SEED)
    for array in (test.X, test.y):
        array.flags.writeable = False      # cached: shared by every call
    return test


test_data.__test__ = False  # not a pytest test, despite the name


@dataclass(frozen=True)
class Experiment:
    """One run: the data, each loss's fitted line and its error on the clean test data."""

    outlier_fraction: float
    outlier_size: float
    delta: float
    x: np.ndarray
    y: np.ndarray
    is_outlier: np.ndarray
    lines: dict            # loss -> (slope, intercept)
    test_mse: dict         # loss -> mean squared error on the clean test data

    @property
    def winner(self) -> str:
        """The loss whose line has the lowest test error."""
        return min(LOSSES, key=lambda name: self.test_mse[name])


@functools.lru_cache(maxsize=256)
def _data_and_delta_free_fits(outlier_fraction: float, outlier_size: float):
    """Training data and the MSE and MAE lines, which do not depend on Huber's δ.

    Cached: moving the δ slider, or back to a setting seen before, costs no refit."""
    train = training_data(outlier_fraction, outlier_size)
    for array in (train.X, train.y, train.is_outlier):
        array.flags.writeable = False      # shared by every later call with these values
    return train, {name: fitting.fit_line(train.x, train.y, loss=name)
                   for name in ("mse", "mae")}


def experiment(outlier_fraction: float, outlier_size: float, delta: float = 1.0) -> Experiment:
    """Fit every loss of :data:`LOSSES` to the training data, score it on the test data."""
    train, fixed = _data_and_delta_free_fits(float(outlier_fraction), float(outlier_size))
    test = test_data()
    x, y = train.x, train.y
    lines = {**fixed, "huber": fitting.fit_line(x, y, loss="huber", delta=delta,
                                                start=fixed["mae"])}
    test_mse = {name: float(losses.mse(test.y, intercept + slope * test.x))
                for name, (slope, intercept) in lines.items()}
    return Experiment(outlier_fraction, outlier_size, delta, x, y, train.is_outlier,
                      lines, test_mse)


_NAMES = {"mse": "MSE", "mae": "MAE", "huber": "Huber"}
_HATCHES = {"mse": "", "mae": "//", "huber": ".."}


class OutlierExperimentFigure:
    """The built figure and the artists an update changes.

    Attributes
    ----------
    figure : matplotlib.figure.Figure
    data_ax, error_ax : Axes
    inliers, outliers : Line2D
        The training points, split by whether they were shifted.
    fits : dict of Line2D
        One fitted line per loss.
    bars : dict of Rectangle
        One bar per loss (height: test MSE).
    bar_labels : dict of Text
        The number above each bar.
    """

    def __init__(self, outlier_fraction, outlier_size, delta, dpi=style.EXPLORER_DPI):
        from lossbook.figures.text_cache import cached_text  # imports matplotlib

        self.figure, (self.data_ax, self.error_ax) = style.new_figure(
            figsize=(10.0, 5.4), dpi=dpi, ncols=2, width_ratios=(1.6, 1.0))
        ax = self.data_ax
        self._x_line = np.array(X_RANGE)
        with style.course_style():
            (self.inliers,) = ax.plot([], [], linestyle="none", marker="o", markersize=6,
                                      color=style.DATA_COLOR, alpha=0.8, label="data")
            (self.outliers,) = ax.plot([], [], linestyle="none", marker="X", markersize=9,
                                       color=style.HIGHLIGHT, label="outliers")
            ax.plot(self._x_line, INTERCEPT + SLOPE * self._x_line, color="black",
                    linestyle=":", linewidth=1.5, label="true line y = 2x + 1")
            self.fits = {name: ax.plot(self._x_line, self._x_line, **style.LOSS_STYLES[name]
                                       .line(label=f"{_NAMES[name]} fit"))[0]
                         for name in LOSSES}
            ax.set_xlim(X_RANGE[0] - 0.2, X_RANGE[1] + 0.2)
            ax.set_ylim(*Y_LIMITS)
            style.label_axes(ax, title="Line fits with outliers in the data",
                             xlabel="x", ylabel="y")
            # outside the axes: the blitted points and lines would be drawn over it
            handles, labels = ax.get_legend_handles_labels()
            self.figure.legend(handles, labels, loc="outside lower center", ncols=6,
                               fontsize=11)

            positions = np.arange(len(LOSSES))
            bars = self.error_ax.bar(
                positions, np.ones(len(LOSSES)),
                color=[style.LOSS_STYLES[name].color for name in LOSSES],
                hatch=[_HATCHES[name] for name in LOSSES], edgecolor="black")
            self.bars = dict(zip(LOSSES, bars))
            # cached layout: the labels are redrawn on every update (blitting)
            self.bar_labels = {name: cached_text(self.error_ax, p, 1.0, "", ha="center",
                                                 va="bottom", fontsize=12)
                               for p, name in zip(positions, LOSSES)}
            self.noise_line = self.error_ax.axhline(NOISE ** 2, color="black", linestyle=":",
                                                    linewidth=1.5, label="noise level σ² = 1")
            self.error_ax.grid(False, axis="x")
            self.error_ax.set_yscale("log")
            self.error_ax.set_ylim(*ERROR_LIMITS)
            self.error_ax.set_xticks(positions, [_NAMES[name] for name in LOSSES])
            style.label_axes(self.error_ax, title="Error on clean test data",
                             xlabel="loss used for fitting",
                             ylabel="test mean squared error")
            self.error_ax.legend(loc="upper right", fontsize=11)
        self.show(experiment(outlier_fraction, outlier_size, delta))

    def changing_artists(self) -> list:
        """Every artist :meth:`show` changes, in drawing order (for blitting); the noise
        line is listed so that it stays drawn on top of the bars."""
        return [self.inliers, self.outliers, *self.fits.values(), *self.bars.values(),
                self.noise_line, *self.bar_labels.values()]

    def show(self, run: Experiment) -> None:
        """Put one :class:`Experiment` on the artists in place."""
        self.inliers.set_data(run.x[~run.is_outlier], run.y[~run.is_outlier])
        self.outliers.set_data(run.x[run.is_outlier], run.y[run.is_outlier])
        for name in LOSSES:
            slope, intercept = run.lines[name]
            self.fits[name].set_ydata(intercept + slope * self._x_line)
            height = run.test_mse[name]
            self.bars[name].set_height(height)
            label = self.bar_labels[name]
            label.set_y(min(height * 1.1, ERROR_LIMITS[1] / 1.6))
            label.set_text(f"{height:.3g}")


def build(outlier_fraction: float = 0.1, outlier_size: float = 10.0,
          delta: float = 1.0, dpi: float = style.EXPLORER_DPI) -> OutlierExperimentFigure:
    """Build the outlier-experiment figure for one setting (see the module docstring).

    ``dpi``: ``style.EXPLORER_DPI`` for the explorer, ``style.STATIC_DPI`` for a static
    figure in a lesson.
    """
    return OutlierExperimentFigure(outlier_fraction, outlier_size, delta, dpi)
