"""0-d inputs: the in-place fast paths of ``lossbook.losses._compute`` must accept them.

(A regression: ``sigmoid(0.5)`` raised "return arrays must be of ArrayType", which broke
lesson 04's explorer, whose readout asks for one probability at a time.)
"""
import numpy as np
import pytest
import scipy.special

from lossbook import losses
from lossbook.losses import _compute


@pytest.mark.parametrize("z", [0.5, -3.0, 0.0, 40.0, -800.0, np.float32(2.0), np.array(1.5)])
def test_sigmoid_and_softplus_of_one_number_equal_scipy(z):
    assert float(losses.sigmoid(z)) == pytest.approx(float(scipy.special.expit(float(z))), rel=1e-6 if isinstance(z, np.float32) else 1e-12, abs=1e-300)
    assert float(_compute.softplus(np.asarray(z, dtype=float))) == pytest.approx(
        float(np.logaddexp(0.0, float(z))), rel=1e-12)
    both = _compute.softplus_and_sigmoid(np.asarray(z, dtype=float))
    assert np.ndim(both[0]) == 0 and np.ndim(both[1]) == 0


def test_scalar_losses_equal_their_one_element_versions():
    for loss in (losses.binary_cross_entropy_with_logits, losses.focal_with_logits):
        assert float(loss(1.0, 0.3)) == pytest.approx(float(loss(np.array([1.0]), np.array([0.3]))), rel=1e-15)
