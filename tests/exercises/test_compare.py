"""Tolerances and form checks, as properties."""
from __future__ import annotations

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from lossbook.exercises import compare, get

GRAD = get("mse_grad")
CASE = GRAD.cases[0]
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, array_shapes(max_dims=2, max_side=6), elements=finite), st.floats(-0.4, 0.4))
def test_within_tolerance_matches_and_well_outside_does_not(expected, fraction):
    close = expected * (1 + fraction * GRAD.rtol)
    assert compare.form_problem(GRAD, close, expected) is None
    assert compare.matches(GRAD, CASE, close, expected)
    far = expected + np.where(expected >= 0, 1, -1) * (100 * GRAD.rtol * np.abs(expected) + 1e-3)
    assert not compare.matches(GRAD, CASE, far, expected)


@settings(max_examples=60, deadline=None)
@given(arrays(np.float64, array_shapes(min_dims=1, max_dims=2, max_side=6), elements=finite),
       array_shapes(min_dims=1, max_dims=3, max_side=6))
def test_any_other_shape_is_named(expected, shape):
    assume(shape != expected.shape)
    message = compare.array_problem(np.zeros(shape), expected)
    assert message is not None
    assert f"shape {shape}" in message and f"expected shape is {expected.shape}" in message


@settings(max_examples=40, deadline=None)
@given(arrays(np.float64, st.integers(1, 8), elements=finite), st.data())
def test_nan_and_inf_are_located(expected, data):
    index = data.draw(st.integers(0, expected.size - 1))
    bad = data.draw(st.sampled_from([np.nan, np.inf, -np.inf]))
    got = expected.copy()
    got[index] = bad
    message = compare.array_problem(got, expected)
    assert f"first at index {index}" in message and "where the answer is finite" in message


def test_scalars_of_every_numeric_type_are_accepted():
    for value in (2, 2.0, np.float32(2.0), np.float64(2.0), np.int64(2), np.array(2.0)):
        assert compare.scalar_problem(value, 2.0) is None
    for value, words in ((True, "bool"), ("2", "str"), (None, "None"), ([2.0], "list")):
        assert words in compare.scalar_problem(value, 2.0)
