"""Same seed → same bits: checksums of the data sets pinned for fixed seeds.

If one of these fails on a new machine or numpy version, the data the lessons describe
(numbers quoted in prose, stored notebook outputs) would silently change there. The
generator (PCG64) and every operation used by ``lossbook.data`` are specified to the
bit, so a failure means a regression in ``lossbook.data`` or a numpy stream change.
"""
import hashlib

import numpy as np
import pytest

from lossbook import data


def checksum(*arrays) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        # explicit little-endian float64: the checksum does not depend on the host
        digest.update(np.ascontiguousarray(array, dtype="<f8").tobytes())
    return digest.hexdigest()[:16]


CASES = {
    # name: (factory, checksum of X, y (and is_outlier), X[0, 0], y[-1])
    "regression_1d": (lambda: data.regression_1d(n=50, outlier_fraction=0.1, seed=0),
                      "75ac124304273b5d", -2.9835689989791114, 6.304991207655313),
    "regression": (lambda: data.regression(n=100, n_features=3, outlier_fraction=0.05, seed=7),
                   "80079df75f1f5093", 0.750572799628002, 6.747488864167437),
    "polynomial_regression": (lambda: data.polynomial_regression(n=15, seed=2),
                              "2443a543e479e439", -0.8897067453338636, 0.45517363793238813),
    "two_class_separable": (lambda: data.two_class(n=100, separable=True, seed=0),
                            "6ecca5d7ea0240bb", -2.7230915085211436, 1.0),
    "two_class_overlapping": (lambda: data.two_class(n=100, separable=False, seed=1),
                              "12ac64ebc53243cc", 0.5217864352652138, 1.0),
    "three_class_blobs": (lambda: data.three_class_blobs(n=150, seed=0),
                          "0322d007e86cb3f2", 1.256856497276647, 2.0),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_pinned_checksums(name):
    factory, expected, first_x, last_y = CASES[name]
    ds = factory()
    arrays = [ds.X, ds.y] + ([ds.is_outlier] if hasattr(ds, "is_outlier") else [])
    # the readable values first, so a failure shows numbers and not only hashes
    assert float(ds.X[0, 0]) == first_x
    assert float(ds.y[-1]) == last_y
    assert checksum(*arrays) == expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_same_seed_same_arrays(name):
    factory = CASES[name][0]
    a, b = factory(), factory()
    np.testing.assert_array_equal(a.X, b.X)
    np.testing.assert_array_equal(a.y, b.y)


@pytest.mark.parametrize("factory", [
    lambda seed: data.regression_1d(seed=seed), lambda seed: data.regression(seed=seed),
    lambda seed: data.polynomial_regression(seed=seed), lambda seed: data.two_class(seed=seed),
    lambda seed: data.three_class_blobs(seed=seed),
])
def test_different_seed_different_arrays(factory):
    assert not np.array_equal(factory(0).X, factory(1).X)


def test_dtypes_do_not_depend_on_platform_defaults():
    assert data.two_class(n=10).y.dtype == np.int64
    assert data.three_class_blobs(n=9).y.dtype == np.int64
    assert data.regression_1d(n=5).X.dtype == np.float64
