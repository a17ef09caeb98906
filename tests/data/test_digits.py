"""lossbook.data.digits: the split, the standardisation and the one-vs-rest view."""
import hashlib
import subprocess
import sys

import numpy as np
import pytest
from sklearn.datasets import load_digits

from lossbook import data


@pytest.fixture(scope="module")
def ds():
    return data.digits()


@pytest.fixture(scope="module")
def raw():
    bunch = load_digits()
    return bunch.data, bunch.target


def _row_index(raw_pixels):
    """Map each raw image's bytes to its row (the 1,797 images have some exact duplicates)."""
    index = {}
    for i, row in enumerate(raw_pixels):
        index.setdefault(row.tobytes(), []).append(i)
    return index


def test_split_sizes_cover_every_image_once(ds, raw):
    pixels, labels = raw
    sizes = [ds.X_train.shape[0], ds.X_val.shape[0], ds.X_test.shape[0]]
    assert sum(sizes) == len(labels) == 1797
    assert sizes == [1078, 360, 359]
    # undo the standardisation and find every image among scikit-learn's, each used once
    index = _row_index(pixels)
    used = []
    for X, digit in ((ds.X_train, ds.digits_train), (ds.X_val, ds.digits_val), (ds.X_test, ds.digits_test)):
        restored = ds.images(X).reshape(len(X), 64)
        assert np.max(np.abs(restored - np.round(restored))) < 1e-9
        restored = np.round(restored) + 0.0      # + 0.0 turns -0.0 into 0.0
        for row, d in zip(restored, digit):
            candidates = [i for i in index[row.tobytes()] if i not in used]
            assert candidates, "an image appears in two splits or is not one of scikit-learn's"
            assert labels[candidates[0]] == d
            used.append(candidates[0])
    assert sorted(used) == list(range(1797))


def test_stratified_by_digit(ds, raw):
    _, labels = raw
    overall = np.bincount(labels) / len(labels)
    for y in (ds.y_train, ds.y_val, ds.y_test):
        np.testing.assert_allclose(np.bincount(y, minlength=10) / len(y), overall, atol=0.01)


def test_standardised_with_training_statistics_only(ds, raw):
    pixels, _ = raw
    np.testing.assert_allclose(ds.X_train.mean(axis=0), 0.0, atol=1e-12)
    std = ds.X_train.std(axis=0)
    constant = ds.pixel_scale == 1.0
    np.testing.assert_allclose(std[~constant], 1.0, rtol=1e-12)
    assert constant.sum() >= 1                      # the corner pixels are 0 in every training image
    np.testing.assert_array_equal(ds.X_train[:, constant], 0.0)
    # validation and test use the training mean and scale, not their own
    assert not np.allclose(ds.X_val.mean(axis=0), 0.0, atol=1e-3)
    assert ds.images(ds.X_test).min() >= -1e-9 and ds.images(ds.X_test).max() <= 16 + 1e-9


def test_labels_and_names(ds):
    assert ds.n_classes == 10 and ds.class_names == tuple("0123456789")
    assert ds.n_features == 64
    for y in (ds.y_train, ds.y_val, ds.y_test):
        assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    np.testing.assert_array_equal(ds.y_train, ds.digits_train)
    X, y = ds.split("validation")
    assert X is ds.X_val and y is ds.y_val


def test_same_seed_same_bits_other_seed_other_split():
    a, b, c = data.digits(seed=3), data.digits(seed=3), data.digits(seed=4)
    np.testing.assert_array_equal(a.X_train, b.X_train)
    np.testing.assert_array_equal(a.y_test, b.y_test)
    assert a.X_train.shape == c.X_train.shape and not np.array_equal(a.X_train, c.X_train)


def test_pinned_split_and_labels():
    """The lessons quote numbers from this split: it must not move between machines."""
    ds = data.digits(seed=0)
    digest = hashlib.sha256()
    for y in (ds.y_train, ds.y_val, ds.y_test):
        digest.update(np.ascontiguousarray(y, dtype="<i8").tobytes())
    assert digest.hexdigest()[:16] == PINNED_LABELS
    assert float(ds.X_train[0, 10]) == pytest.approx(PINNED_X_TRAIN_0_10, rel=1e-12)


PINNED_LABELS = "2be3b48327752eb1"
PINNED_X_TRAIN_0_10 = 0.510289612513399


def test_float32():
    ds = data.digits(dtype="float32")
    assert ds.X_train.dtype == ds.X_val.dtype == ds.X_test.dtype == np.float32
    np.testing.assert_allclose(ds.X_train, data.digits().X_train, atol=1e-5)


def test_one_vs_rest_is_it_a_nine(ds):
    nines = ds.one_vs_rest(9)
    assert nines.n_classes == 2 and nines.class_names == ("not 9", "9")
    for y, d in ((nines.y_train, ds.digits_train), (nines.y_val, ds.digits_val), (nines.y_test, ds.digits_test)):
        np.testing.assert_array_equal(y, (d == 9).astype(np.int64))
        assert 0.09 <= y.mean() <= 0.11
    assert nines.X_train is ds.X_train                 # same images, no copy
    assert ds.one_vs_rest(0).class_names == ("not 0", "0")


@pytest.mark.parametrize("kwargs, error, match", [
    ({"seed": -1}, TypeError, "seed"),
    ({"seed": 1.5}, TypeError, "seed"),
    ({"validation_fraction": 0.0}, ValueError, "validation_fraction"),
    ({"test_fraction": 0.5, "validation_fraction": 0.45}, ValueError, "at least 10% for training"),
    ({"test_fraction": "0.2"}, TypeError, "test_fraction"),
    ({"dtype": "int64"}, ValueError, "dtype"),
])
def test_bad_arguments_name_the_argument(kwargs, error, match):
    with pytest.raises(error, match=match):
        data.digits(**kwargs)


def test_bad_view_and_images_arguments(ds):
    with pytest.raises(ValueError, match="digit"):
        ds.one_vs_rest(10)
    with pytest.raises(TypeError, match="digit"):
        ds.one_vs_rest(9.0)
    with pytest.raises(ValueError, match="ten-class"):
        ds.one_vs_rest(9).one_vs_rest(3)
    with pytest.raises(ValueError, match="rows of 64"):
        ds.images(np.zeros((2, 63)))
    with pytest.raises(ValueError, match="'train'"):
        ds.split("val")


def test_the_cached_raw_images_cannot_be_changed_through_the_result(ds):
    ds.X_train[0, 0] += 0.0          # the returned arrays are the caller's own
    fresh = data.digits()
    fresh.y_train[0] = 99
    assert data.digits().y_train[0] != 99


def test_importing_lossbook_data_does_not_import_sklearn():
    code = "import sys, lossbook.data; print('sklearn' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
