"""lossbook.data: the data sets have the properties their docstrings promise."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from sklearn.linear_model import LinearRegression
from sklearn.svm import LinearSVC

from lossbook import data


# --- regression -----------------------------------------------------------------------

@settings(max_examples=40, deadline=None)
@given(n=st.integers(1, 300), fraction=st.floats(0.0, 1.0), seed=st.integers(0, 2**32))
def test_outlier_count_and_shift(n, fraction, seed):
    clean = data.regression(n=n, n_features=2, outlier_fraction=0.0, seed=seed)
    dirty = data.regression(n=n, n_features=2, outlier_fraction=fraction, outlier_size=-7.5, seed=seed)
    assert dirty.n_outliers == int(round(fraction * n))
    # same features and noise; only the outliers' targets moved, by exactly outlier_size
    np.testing.assert_array_equal(clean.X, dirty.X)
    np.testing.assert_allclose(dirty.y - clean.y, -7.5 * dirty.is_outlier, atol=1e-12)


def test_noise_free_regression_is_recovered_by_least_squares():
    ds = data.regression(n=60, n_features=4, coef=[0.5, -1.0, 2.0, 3.0], intercept=-2.0, noise=0.0, seed=3)
    model = LinearRegression().fit(ds.X, ds.y)
    np.testing.assert_allclose(model.coef_, [0.5, -1.0, 2.0, 3.0], atol=1e-10)
    assert model.intercept_ == pytest.approx(-2.0, abs=1e-10)


def test_noise_level_and_x_range():
    ds = data.regression_1d(n=20000, slope=-1.0, intercept=4.0, noise=0.7, x_range=(2, 5), seed=5)
    assert ds.x.min() >= 2 and ds.x.max() < 5
    residuals = ds.y - (-1.0 * ds.x + 4.0)
    assert residuals.std() == pytest.approx(0.7, rel=0.03)
    assert residuals.mean() == pytest.approx(0.0, abs=0.03)


def test_regression_1d_is_sorted_and_keeps_outlier_flags_with_points():
    ds = data.regression_1d(n=40, noise=0.0, outlier_fraction=0.25, outlier_size=5.0, seed=2)
    assert np.all(np.diff(ds.x) >= 0)
    residuals = ds.y - (2.0 * ds.x + 1.0)
    np.testing.assert_allclose(residuals, 5.0 * ds.is_outlier, atol=1e-12)
    assert ds.coef.tolist() == [2.0] and ds.intercept == 1.0


def test_default_coefficients_alternate():
    assert data.regression(n=3, n_features=4).coef.tolist() == [1.0, -2.0, 3.0, -4.0]


def test_x_only_for_one_feature():
    with pytest.raises(ValueError, match="only defined for one-feature data.*use `X`"):
        data.regression(n=5, n_features=2).x


def test_polynomial_regression_and_features():
    ds = data.polynomial_regression(n=200, noise=0.0, seed=1)
    assert ds.x.min() >= -1 and ds.x.max() <= 1 and np.all(np.diff(ds.x) >= 0)
    np.testing.assert_allclose(ds.y, np.polyval([-1.5, 0.0, 1.0, 0.5], ds.x), atol=1e-12)
    features = data.polynomial_features(ds.X, 9)          # (n, 1) is accepted too
    np.testing.assert_allclose(features, np.vander(ds.x, 10, increasing=True)[:, 1:], rtol=1e-12, atol=1e-15)


# --- classification -------------------------------------------------------------------

@settings(max_examples=25, deadline=None)
@given(n=st.integers(2, 200), separation=st.floats(0.0, 5.0), seed=st.integers(0, 2**32))
def test_separable_two_class_has_the_promised_margin(n, separation, seed):
    ds = data.two_class(n=n, separable=True, separation=separation, seed=seed)
    signed = ds.X @ np.array([0.6, 0.8])
    sign = np.where(ds.y == 1, 1.0, -1.0)
    assert np.all(sign * signed >= separation / 2 - 1e-12)
    assert sorted(np.bincount(ds.y, minlength=2).tolist()) == sorted([n // 2, n - n // 2])


def test_separable_vs_overlapping_by_an_independent_linear_classifier():
    separable = data.two_class(n=200, separable=True, separation=1.0, seed=4)
    overlapping = data.two_class(n=200, separable=False, separation=1.0, seed=4)
    svm = LinearSVC(C=1e4, max_iter=200_000)
    assert svm.fit(separable.X, separable.y).score(separable.X, separable.y) == 1.0
    # with unit noise and centres 1 apart, about 30% of the points sit on the wrong side
    assert svm.fit(overlapping.X, overlapping.y).score(overlapping.X, overlapping.y) < 0.8


def test_three_class_blobs_are_around_their_centres():
    ds = data.three_class_blobs(n=3000, spread=0.5, distance=4.0, seed=2)
    assert ds.n_classes == 3 and np.bincount(ds.y).tolist() == [1000, 1000, 1000]
    for k in range(3):
        np.testing.assert_allclose(ds.X[ds.y == k].mean(axis=0), ds.centers[k], atol=0.05)
        np.testing.assert_allclose(ds.X[ds.y == k].std(axis=0), [0.5, 0.5], rtol=0.06)
    np.testing.assert_allclose(np.linalg.norm(ds.centers, axis=1), [4.0] * 3)


def test_label_conversions_round_trip():
    y = data.two_class(n=11, seed=0).y
    assert set(data.to_plus_minus_one(y).tolist()) == {-1, 1}
    np.testing.assert_array_equal(data.to_zero_one(data.to_plus_minus_one(y)), y)
    np.testing.assert_array_equal(data.to_plus_minus_one([0.0, 1.0]), [-1, 1])


# --- bad input ------------------------------------------------------------------------

@pytest.mark.parametrize("call, error, message", [
    (lambda: data.regression_1d(n=0), ValueError, r"`n` must be at least 1, got 0"),
    (lambda: data.regression_1d(n=2.5), TypeError, r"`n` must be a whole number, got 2.5"),
    (lambda: data.regression_1d(n=True), TypeError, r"`n` must be a whole number"),
    (lambda: data.regression_1d(noise=-1), ValueError, r"`noise` must be at least 0.0, got -1.0; noise is a standard deviation"),
    (lambda: data.regression_1d(outlier_fraction=1.5), ValueError, r"`outlier_fraction` must be at most 1.0, got 1.5; e.g. 0.1"),
    (lambda: data.regression_1d(slope=float("nan")), ValueError, r"`slope` must be finite"),
    (lambda: data.regression_1d(slope="2"), TypeError, r"`slope` must be a number, got '2'"),
    (lambda: data.regression_1d(x_range=(3, 1)), ValueError, r"`x_range` must have low < high"),
    (lambda: data.regression_1d(x_range=5), TypeError, r"`x_range` must be a pair"),
    (lambda: data.regression_1d(seed=-1), TypeError, r"`seed` must be a non-negative whole number"),
    (lambda: data.regression_1d(seed=1.0), TypeError, r"`seed` must be a non-negative whole number"),
    (lambda: data.regression(n_features=2, coef=[1, 2, 3]), ValueError, r"`coef` must have one value per feature, shape \(2,\), got shape \(3,\)"),
    (lambda: data.regression(n_features=1, coef=["a"]), TypeError, r"`coef` must be numbers"),
    (lambda: data.regression(n_features=1, coef=[np.inf]), ValueError, r"`coef` must be finite"),
    (lambda: data.two_class(n=1), ValueError, r"`n` must be at least 2"),
    (lambda: data.two_class(separable="yes"), TypeError, r"`separable` must be True or False"),
    (lambda: data.two_class(separation=-1), ValueError, r"`separation` must be at least 0.0"),
    (lambda: data.three_class_blobs(spread=0), ValueError, r"`spread` must be greater than 0"),
    (lambda: data.three_class_blobs(n=2), ValueError, r"`n` must be at least 3"),
    (lambda: data.polynomial_features([[1, 2], [3, 4]], 2), ValueError, r"`x` must be one feature, shape \(n,\) or \(n, 1\), got shape \(2, 2\)"),
    (lambda: data.polynomial_features([1, np.nan], 2), ValueError, r"`x` contains NaN"),
    (lambda: data.polynomial_features(["a"], 2), TypeError, r"`x` must be numbers"),
    (lambda: data.polynomial_features([1.0], 0), ValueError, r"`degree` must be at least 1"),
    (lambda: data.to_plus_minus_one([0, 2]), ValueError, r"`y` must hold labels 0 and 1 .*found \[0, 2\]"),
    (lambda: data.to_plus_minus_one([-1, 1]), ValueError, r"use to_zero_one for ±1 labels"),
    (lambda: data.to_zero_one([0, 1]), ValueError, r"use to_plus_minus_one for 0/1 labels"),
    (lambda: data.to_zero_one(["a"]), TypeError, r"`y` must hold labels -1 and \+1"),
])
def test_bad_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()
