"""Stable text for hidden tests."""
import numpy as np
import pytest

from lossbook.canonical import canonical, show


@pytest.mark.parametrize("value, text", [
    (0.1 + 0.2, "0.3"),
    (-0.0, "0"),
    (np.float32(-0.0), "0"),
    (float("nan"), "nan"),
    (float("inf"), "inf"),
    (-np.inf, "-inf"),
    (1 / 3, "0.33333333"),
    (123456789.0, "1.2345679e+08"),
    (2.0, "2"),
    (np.int64(7), "7"),
    (7, "7"),
    (True, "True"),
    (np.bool_(False), "False"),
    (None, "None"),
    ("passed", "passed"),
    ((1, 2.5), "(1, 2.5)"),
    ((1,), "(1,)"),
    ([np.float64(1e-20), -3], "[1e-20, -3]"),
    ({"b": 1.0, "a": [2]}, "{a: [2], b: 1}"),
    (np.array(3.25), "3.25"),
    (np.array([1, 2]), "[1, 2]"),
    (np.array([[0.5, -0.0], [np.nan, np.inf]]), "[[0.5, 0], [nan, inf]]"),
    (np.zeros((2, 0)), "[[], []]"),
])
def test_canonical_values(value, text):
    assert canonical(value) == text


def test_canonical_is_shape_and_printoptions_independent():
    a = np.linspace(0, 1, 200) ** 3
    flat = canonical(a)
    assert canonical(a.reshape(20, 10)).replace("[", "").replace("]", "") == \
        flat.replace("[", "").replace("]", "")
    with np.printoptions(precision=2, threshold=5):
        assert canonical(a) == flat
    assert "\n" not in flat and "..." not in flat


def test_canonical_rounds_away_last_bit_noise():
    assert canonical(np.float64(0.1) * 3) == canonical(0.3)


@pytest.mark.parametrize("value", [object(), 1 + 2j, np.array([1 + 1j]), np.array(["a"]),
                                   {1, 2}])
def test_canonical_rejects_objects(value):
    with pytest.raises(TypeError, match="canonical: "):
        canonical(value)


def test_show_prints_one_line_each(capsys):
    show(1 / 3, np.array([2.0, -0.0]), (1, None))
    assert capsys.readouterr().out == "0.33333333\n[2, 0]\n(1, None)\n"
