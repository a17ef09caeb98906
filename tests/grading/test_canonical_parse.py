"""``lossbook.canonical.parse`` inverts ``canonical`` (round trip, hypothesis) and refuses hostile text."""
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lossbook.canonical import canonical, parse
from lossbook.exercises.diagnosis import parse_printed
from lossbook.grading.feedback import parse_canonical

numbers = st.one_of(st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True), st.booleans(),
                    st.none())
values = st.recursive(numbers, lambda inner: st.one_of(st.lists(inner, max_size=5),
                                                     st.tuples(inner), st.tuples(inner, inner)), max_leaves=20)
arrays = st.integers(1, 3).flatmap(lambda ndim: st.lists(st.integers(1, 4), min_size=ndim, max_size=ndim)).flatmap(
    lambda shape: st.lists(st.floats(allow_nan=True, allow_infinity=True, width=64), min_size=int(np.prod(shape)),
                           max_size=int(np.prod(shape))).map(lambda xs: np.array(xs, dtype=float).reshape(shape)))


@settings(max_examples=300, deadline=None)
@given(values)
def test_parse_inverts_canonical(value):
    text = canonical(value)
    assert canonical(parse(text)) == text


@settings(max_examples=200, deadline=None)
@given(arrays)
def test_parse_inverts_canonical_arrays(array):
    text = canonical(array)
    parsed = parse(text)
    assert canonical(parsed) == text
    back = np.array(parsed, dtype=float)
    assert back.shape == array.shape
    close = np.isclose(back, array, rtol=1e-7, atol=0, equal_nan=True)
    assert close.all()


@pytest.mark.parametrize("text", ["[" * 20000, "[" * 20000 + "0.5", "(" * 33 + "1" + ")" * 33, "[1,,2]", "[1 2]",
                                  "hello", "", "1 2", "[1]]", "{1: 2}", "0x10", "NaN", "Infinity", "[1,]"])
def test_hostile_or_foreign_text_is_refused(text):
    with pytest.raises(ValueError):
        parse(text)
    assert parse_canonical(text) is None
    with pytest.raises(ValueError):
        parse_printed(text)


def test_feedback_and_diagnosis_read_the_same_values():
    text = "([1, -inf], 0.5)"
    assert parse_printed(text) == ([1, -math.inf], 0.5)
    assert parse_canonical(text) == [[1, -math.inf], 0.5]
    assert math.isnan(parse_printed("nan"))
