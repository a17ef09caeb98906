"""Penalties added to a cost to prefer simpler models, and their (sub)gradients.

A penalty is a function of the weights ``w`` only: pass the weights, **not the bias**.
The bias only shifts the prediction, so shrinking it towards 0 would just bias the
model without making it any simpler; the usual convention (and scikit-learn's) is to
leave it unpenalised. The regularized cost is ``cost(w, b) + penalty(w)``.

Penalties return one number (a sum over all weights); they have no ``reduction``.
"""
from __future__ import annotations

import numpy as np

from lossbook._validation import as_float_array, check_scalar

__all__ = ["l1", "l1_grad", "l2", "l2_grad", "elastic_net", "elastic_net_grad",
           "soft_threshold"]


def _weights(w, func):
    return as_float_array(w, "w", func)


def _lam(lam, func):
    return check_scalar(lam, "lam", func, low=0.0,
                        fix="lam is the penalty strength λ ≥ 0; lam=0 switches the penalty off")


def _ratio(l1_ratio, func):
    return check_scalar(l1_ratio, "l1_ratio", func, low=0.0, high=1.0,
                        fix="l1_ratio is the share of the L1 part: 1 = pure L1 (lasso), "
                            "0 = pure L2 (ridge)")


def l1(w, lam):
    r"""L1 (lasso) penalty.

    .. math:: \Omega(w) = \lambda \sum_j |w_j|

    Parameters
    ----------
    w : array_like
        Weights (without the bias).
    lam : float
        Strength ``λ ≥ 0``.

    Returns
    -------
    float

    Examples
    --------
    >>> l1([1.0, -2.0, 0.5], lam=0.1)
    0.35000000000000003
    """
    w = _weights(w, "l1")
    lam = _lam(lam, "l1")
    return float(lam * np.abs(w).sum())


def l1_grad(w, lam):
    r"""Subgradient of :func:`l1`.

    .. math:: \frac{\partial \Omega}{\partial w_j} = \lambda \operatorname{sign}(w_j)

    At ``w_j = 0`` the subgradient 0 is chosen (any value in ``[−λ, λ]`` is valid);
    gradient descent with it oscillates around 0 rather than landing on it, which is
    why lasso solvers use :func:`soft_threshold` instead.

    Parameters
    ----------
    w, lam
        As for :func:`l1`.

    Returns
    -------
    ndarray
        Same shape as ``w``.

    Examples
    --------
    >>> l1_grad([1.0, -2.0, 0.0], lam=0.1)
    array([ 0.1, -0.1,  0. ])
    """
    w = _weights(w, "l1_grad")
    lam = _lam(lam, "l1_grad")
    return lam * np.sign(w)


def l2(w, lam):
    r"""L2 (ridge, weight-decay) penalty.

    .. math:: \Omega(w) = \lambda \sum_j w_j^2

    Note: no factor ½, so the gradient is ``2λw`` (some texts and libraries write
    ``½λ‖w‖²`` to get gradient ``λw``; scikit-learn's ``Ridge`` uses ``α‖w‖²`` like
    here).

    Parameters
    ----------
    w : array_like
        Weights (without the bias).
    lam : float
        Strength ``λ ≥ 0``.

    Returns
    -------
    float

    Examples
    --------
    >>> l2([1.0, -2.0, 0.5], lam=0.1)
    0.525
    """
    w = _weights(w, "l2")
    lam = _lam(lam, "l2")
    return float(lam * (w * w).sum())


def l2_grad(w, lam):
    r"""Gradient of :func:`l2`.

    .. math:: \frac{\partial \Omega}{\partial w_j} = 2 \lambda w_j

    Parameters
    ----------
    w, lam
        As for :func:`l2`.

    Returns
    -------
    ndarray
        Same shape as ``w``.

    Examples
    --------
    >>> l2_grad([1.0, -2.0, 0.5], lam=0.1)
    array([ 0.2, -0.4,  0.1])
    """
    w = _weights(w, "l2_grad")
    lam = _lam(lam, "l2_grad")
    return 2.0 * lam * w


def elastic_net(w, lam, l1_ratio=0.5):
    r"""Elastic-net penalty: a mix of L1 and L2.

    .. math:: \Omega(w) = \lambda \Bigl[\rho \sum_j |w_j| + (1 - \rho) \sum_j w_j^2\Bigr],
              \qquad \rho = \texttt{l1\_ratio}

    so ``elastic_net(w, lam, r) == l1(w, lam*r) + l2(w, lam*(1-r))``. (scikit-learn's
    ``ElasticNet`` halves the squared part: ``α[ρ‖w‖₁ + ½(1−ρ)‖w‖²]``.)

    Parameters
    ----------
    w : array_like
        Weights (without the bias).
    lam : float
        Strength ``λ ≥ 0``.
    l1_ratio : float, default 0.5
        ``ρ`` in [0, 1]: 1 is pure L1, 0 pure L2.

    Returns
    -------
    float

    Examples
    --------
    >>> elastic_net([1.0, -2.0], lam=1.0, l1_ratio=0.5)
    4.0
    """
    w = _weights(w, "elastic_net")
    lam = _lam(lam, "elastic_net")
    rho = _ratio(l1_ratio, "elastic_net")
    return float(lam * (rho * np.abs(w).sum() + (1.0 - rho) * (w * w).sum()))


def elastic_net_grad(w, lam, l1_ratio=0.5):
    r"""Subgradient of :func:`elastic_net`.

    .. math:: \frac{\partial \Omega}{\partial w_j}
              = \lambda \bigl[\rho \operatorname{sign}(w_j) + 2 (1 - \rho) w_j\bigr]

    with subgradient 0 for the L1 part at ``w_j = 0``.

    Parameters
    ----------
    w, lam, l1_ratio
        As for :func:`elastic_net`.

    Returns
    -------
    ndarray
        Same shape as ``w``.

    Examples
    --------
    >>> elastic_net_grad([1.0, -2.0, 0.0], lam=1.0, l1_ratio=0.5)
    array([ 1.5, -2.5,  0. ])
    """
    w = _weights(w, "elastic_net_grad")
    lam = _lam(lam, "elastic_net_grad")
    rho = _ratio(l1_ratio, "elastic_net_grad")
    return lam * (rho * np.sign(w) + 2.0 * (1.0 - rho) * w)


def soft_threshold(w, t):
    r"""Soft-thresholding, the proximal step of the L1 penalty.

    .. math:: \operatorname{prox}_{t|\cdot|}(w)_j = \operatorname{sign}(w_j)\max(|w_j| - t, 0)

    It solves ``argmin_u ½‖u − w‖² + t‖u‖₁``: weights smaller than ``t`` in size become
    exactly 0, the others move ``t`` towards 0. Proximal gradient descent (ISTA) for
    a cost plus ``λ‖w‖₁`` takes a gradient step on the cost with step size ``η`` and
    then applies ``soft_threshold(w, η·λ)``.

    Parameters
    ----------
    w : array_like
        Weights.
    t : float
        Threshold ``t ≥ 0``.

    Returns
    -------
    ndarray

    Examples
    --------
    >>> soft_threshold([3.0, -0.5, 0.2, -2.0], 1.0)
    array([ 2., -0.,  0., -1.])
    """
    w = _weights(w, "soft_threshold")
    t = check_scalar(t, "t", "soft_threshold", low=0.0,
                     fix="t is the threshold (step size × λ), a number ≥ 0")
    return np.sign(w) * np.maximum(np.abs(w) - t, 0.0)
