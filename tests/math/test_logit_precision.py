"""Relative precision of the logit losses for confident predictions, against SciPy's
``log_expit`` (which keeps it). A confident right answer (y = 1, z = 200) costs e^{-200},
not 0: the stable form must not cancel two large terms (a regression seen once)."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from scipy import special

from lossbook import losses


def _reference(y, z):
    return -(y * special.log_expit(z) + (1 - y) * special.log_expit(-z))


@settings(max_examples=200, deadline=None)
@given(z=st.floats(-700, 700), y=st.sampled_from([0.0, 1.0]), w=st.sampled_from([None, 0.5, 3.0]))
def test_bce_with_logits_keeps_relative_precision(z, y, w):
    got = losses.binary_cross_entropy_with_logits(np.array([y]), np.array([z]), pos_weight=w, reduction="none")[0]
    want = _reference(y, z) * (w if (w is not None and y == 1.0) else 1.0)
    assert got == pytest.approx(want, rel=1e-12, abs=0)


@pytest.mark.parametrize("z", [37.0, 200.0, 700.0])
def test_confident_right_answers_cost_e_to_minus_z(z):
    both = losses.binary_cross_entropy_with_logits(np.array([1.0, 0.0]), np.array([z, -z]), reduction="none")
    np.testing.assert_allclose(both, [np.exp(-z), np.exp(-z)], rtol=1e-12)
