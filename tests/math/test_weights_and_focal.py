"""Class weights (``pos_weight``, ``weight``) and the focal loss on logits (issue 11).

Checked against PyTorch CPU (``BCEWithLogitsLoss(pos_weight=...)``,
``cross_entropy(weight=...)``, and torchvision's ``sigmoid_focal_loss`` written out in
torch ops, since torchvision is not installed), against the written formulas, against
mpmath at extreme logits, and by hypothesis properties.
"""
import os

import mpmath
import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lossbook.losses as L
from lossbook.gradcheck import numeric_gradient, relative_error

from lazymodules import lazy
from mathhelpers import assert_close, class_problem, rng

torch = lazy("torch")  # imported by the first test that uses it; those tests are slow (root conftest.py)
F = lazy("torch.nn.functional")

REDUCTIONS = ["mean", "sum", "none"]
SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    derandomize=bool(os.environ.get("CI")))


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def torch_value_and_grad(loss_of_x, x, reduction):
    """torch's loss at ``x`` and its gradient w.r.t. ``x`` (of the sum for 'none')."""
    xt = t(x, grad=True)
    out = loss_of_x(xt)
    (out.sum() if reduction == "none" else out).backward()
    return out.detach().numpy(), xt.grad.numpy()


def binary_problem(shape=(40,), seed=0, scale=4.0):
    g = rng(seed)
    return g.integers(0, 2, size=shape).astype(float), g.normal(scale=scale, size=shape)


# --- binary_cross_entropy_with_logits(pos_weight=...) vs BCEWithLogitsLoss ----------------

@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("pos_weight", [None, 1.0, 3.5, 0.0])
def test_bce_pos_weight_scalar_matches_torch(reduction, pos_weight):
    y, z = binary_problem(seed=1)
    torch_pw = None if pos_weight is None else torch.tensor(pos_weight, dtype=torch.float64)
    ref = torch.nn.BCEWithLogitsLoss(pos_weight=torch_pw, reduction=reduction)
    value, grad = torch_value_and_grad(lambda x: ref(x, t(y)), z, reduction)
    kw = dict(pos_weight=pos_weight, reduction=reduction)
    assert_close(L.binary_cross_entropy_with_logits(y, z, **kw), value)
    assert_close(L.binary_cross_entropy_with_logits_grad(y, z, **kw), grad)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_pos_weight_per_column_matches_torch(reduction):
    # Multi-label targets (n, C) with one weight per column, broadcast as in torch.
    y, z = binary_problem(shape=(30, 4), seed=2)
    pw = np.array([0.5, 1.0, 2.0, 9.0])
    ref = torch.nn.BCEWithLogitsLoss(pos_weight=t(pw), reduction=reduction)
    value, grad = torch_value_and_grad(lambda x: ref(x, t(y)), z, reduction)
    assert_close(L.binary_cross_entropy_with_logits(y, z, pos_weight=pw, reduction=reduction),
                 value)
    assert_close(L.binary_cross_entropy_with_logits_grad(y, z, pos_weight=pw,
                                                         reduction=reduction), grad)


def test_bce_pos_weight_soft_targets_and_extreme_logits_match_torch():
    z = np.array([1e4, -1e4, 50.0, -50.0, 0.0, 3.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 0.3, 0.8])
    ref = torch.nn.BCEWithLogitsLoss(pos_weight=t(2.5), reduction="none")
    value, grad = torch_value_and_grad(lambda x: ref(x, t(y)), z, "none")
    # atol: torch rounds log1p(e^-50) = 1.9e-22 to 0.
    assert_close(L.binary_cross_entropy_with_logits(y, z, pos_weight=2.5, reduction="none"),
                 value, atol=1e-20)
    assert_close(L.binary_cross_entropy_with_logits_grad(y, z, pos_weight=2.5, reduction="none"),
                 grad, atol=1e-20)


def test_bce_pos_weight_large_array_uses_the_same_formula():
    # Over 32768 elements the formula is evaluated block by block; an array pos_weight is
    # cut into the same blocks.
    y, z = binary_problem(shape=(20_000, 3), seed=3)
    pw = np.array([1.0, 4.0, 0.25])
    small = [L.binary_cross_entropy_with_logits(y[i:i + 500], z[i:i + 500], pos_weight=pw,
                                                reduction="sum") for i in range(0, 20_000, 500)]
    assert L.binary_cross_entropy_with_logits(y, z, pos_weight=pw, reduction="sum") == \
        pytest.approx(sum(small), rel=1e-12)
    ref = torch.nn.BCEWithLogitsLoss(pos_weight=t(pw), reduction="mean")
    value, grad = torch_value_and_grad(lambda x: ref(x, t(y)), z, "mean")
    assert_close(L.binary_cross_entropy_with_logits(y, z, pos_weight=pw), value)
    assert_close(L.binary_cross_entropy_with_logits_grad(y, z, pos_weight=pw), grad)


# --- softmax_cross_entropy(weight=...) vs torch's cross_entropy(weight=...) ---------------

def _targets(y, c):
    """The same labels as indices, one-hot rows, and some probability rows."""
    return {"indices": y, "one-hot": np.eye(c)[y],
            "probabilities": rng(5).dirichlet(np.ones(c), size=len(y))}


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.15])
@pytest.mark.parametrize("kind", ["indices", "one-hot", "probabilities"])
def test_softmax_cross_entropy_class_weights_match_torch(reduction, smoothing, kind):
    y, z, _ = class_problem(n=25, c=4, seed=6)
    weight = np.array([0.2, 1.0, 3.0, 0.7])
    target = _targets(y, 4)[kind]
    torch_target = torch.tensor(target) if kind == "indices" else t(target)

    def ref(x):
        return F.cross_entropy(x, torch_target, weight=t(weight), reduction=reduction,
                               label_smoothing=smoothing)

    value, grad = torch_value_and_grad(ref, z, reduction)
    kw = dict(weight=weight, label_smoothing=smoothing, reduction=reduction)
    assert_close(L.softmax_cross_entropy(target, z, **kw), value)
    assert_close(L.softmax_cross_entropy_grad(target, z, **kw), grad)


def test_softmax_cross_entropy_weighted_mean_convention():
    y, z, _ = class_problem(n=12, c=3, seed=7)
    w = np.array([2.0, 0.5, 1.0])
    per_row = L.softmax_cross_entropy(y, z, weight=w, reduction="none")
    # Each row's loss is its class's weight times the unweighted loss ...
    assert_close(per_row, w[y] * L.softmax_cross_entropy(y, z, reduction="none"))
    # ... "mean" divides by the examples' total weight (indices) ...
    assert L.softmax_cross_entropy(y, z, weight=w) == pytest.approx(per_row.sum() / w[y].sum())
    # ... so a constant weight changes nothing; "sum" scales with it.
    assert L.softmax_cross_entropy(y, z, weight=np.full(3, 7.0)) == \
        pytest.approx(L.softmax_cross_entropy(y, z))
    assert L.softmax_cross_entropy(y, z, weight=np.full(3, 7.0), reduction="sum") == \
        pytest.approx(7 * L.softmax_cross_entropy(y, z, reduction="sum"))
    # With target rows, "mean" divides by the number of rows (torch's convention).
    rows = np.eye(3)[y]
    assert L.softmax_cross_entropy(rows, z, weight=w) == pytest.approx(per_row.sum() / len(y))


def test_softmax_cross_entropy_weights_large_array_blocks():
    y, z, _ = class_problem(n=9000, c=10, seed=8)
    w = rng(9).uniform(0.1, 3.0, size=10)
    ref = lambda x: F.cross_entropy(x, torch.tensor(y), weight=t(w))  # noqa: E731
    value, grad = torch_value_and_grad(ref, z, "mean")
    assert_close(L.softmax_cross_entropy(y, z, weight=w), value)
    assert_close(L.softmax_cross_entropy_grad(y, z, weight=w), grad)


# --- focal_with_logits: torchvision's sigmoid_focal_loss -------------------------------

def torchvision_sigmoid_focal_loss(inputs, targets, alpha=0.25, gamma=2.0):
    """torchvision.ops.sigmoid_focal_loss (reduction="none"), line for line in torch ops."""
    p = torch.sigmoid(inputs)
    ce_loss = F.binary_cross_entropy_with_logits(inputs, targets, reduction="none")
    p_t = p * targets + (1 - p) * (1 - targets)
    loss = ce_loss * ((1 - p_t) ** gamma)
    if alpha >= 0:
        alpha_t = alpha * targets + (1 - alpha) * (1 - targets)
        loss = alpha_t * loss
    return loss


def written_formula(y, z, gamma, alpha):
    """-alpha_t (1 - p_t)^gamma log(p_t), straight from the definition (numpy)."""
    p = 1 / (1 + np.exp(-z))
    p_t = np.where(y == 1, p, 1 - p)
    a_t = 1.0 if alpha is None else np.where(y == 1, alpha, 1 - alpha)
    return -a_t * (1 - p_t) ** gamma * np.log(p_t)


FOCAL_PARAMS = [(2.0, None), (2.0, 0.25), (0.0, None), (0.5, 0.75), (3.0, 1.0), (1.3, 0.0)]


@pytest.mark.parametrize("gamma, alpha", FOCAL_PARAMS)
def test_focal_with_logits_matches_the_written_formula(gamma, alpha):
    y, z = binary_problem(shape=(50,), seed=10, scale=3.0)
    assert_close(L.focal_with_logits(y, z, gamma=gamma, alpha=alpha, reduction="none"),
                 written_formula(y, z, gamma, alpha), rtol=1e-9)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("gamma, alpha", FOCAL_PARAMS)
def test_focal_with_logits_and_grad_match_torchvision_in_torch(reduction, gamma, alpha):
    # Moderate logits: there 1 - p_t, which torchvision forms by subtraction, is accurate.
    y, z = binary_problem(shape=(60,), seed=11, scale=3.0)

    def ref(x):
        loss = torchvision_sigmoid_focal_loss(x, t(y), alpha=-1 if alpha is None else alpha,
                                              gamma=gamma)
        return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()

    value, grad = torch_value_and_grad(ref, z, reduction)
    kw = dict(gamma=gamma, alpha=alpha, reduction=reduction)
    assert_close(L.focal_with_logits(y, z, **kw), value, rtol=1e-9)
    assert_close(L.focal_with_logits_grad(y, z, **kw), grad, rtol=1e-8, atol=1e-15)


def _mp_focal(y, z, gamma, alpha):
    """Value and derivative of the definition in 50-digit arithmetic (mpmath)."""
    mpmath.mp.dps = 50
    a_t = 1 if alpha is None else (alpha if y == 1 else 1 - alpha)

    def fl(v):
        p_t = 1 / (1 + mpmath.exp(-v if y == 1 else v))  # sigma(z) or 1 - sigma(z), exactly
        return -a_t * (1 - p_t) ** gamma * mpmath.log(p_t)

    z = mpmath.mpf(z)
    return float(fl(z)), float(mpmath.diff(fl, z))


@pytest.mark.parametrize("gamma, alpha", [(2.0, None), (0.5, 0.25), (0.0, None)])
def test_focal_with_logits_exact_at_extreme_logits(gamma, alpha):
    # Where sigma(z) rounds to 0 or 1 in float64, the stable form keeps full precision.
    z = np.array([-700.0, -60.0, -35.0, -12.0, 12.0, 35.0, 60.0, 700.0] * 2)
    y = np.repeat([1.0, 0.0], 8)
    value = L.focal_with_logits(y, z, gamma=gamma, alpha=alpha, reduction="none")
    grad = L.focal_with_logits_grad(y, z, gamma=gamma, alpha=alpha, reduction="none")
    exact = np.array([_mp_focal(a, b, gamma, alpha) for a, b in zip(y, z)])
    assert_close(value, exact[:, 0], rtol=1e-12, atol=1e-300)
    assert_close(grad, exact[:, 1], rtol=1e-10, atol=1e-300)


def test_focal_with_logits_special_cases():
    y, z = binary_problem(seed=12)
    # gamma = 0, no alpha: binary cross-entropy on logits, value and gradient.
    assert_close(L.focal_with_logits(y, z, gamma=0.0), L.binary_cross_entropy_with_logits(y, z))
    assert_close(L.focal_with_logits_grad(y, z, gamma=0.0),
                 L.binary_cross_entropy_with_logits_grad(y, z))
    # Same values as the probability version at p = sigmoid(z), away from its clipping.
    p = L.sigmoid(z)
    for gamma, alpha in FOCAL_PARAMS:
        kw = dict(gamma=gamma, alpha=alpha, reduction="none")
        assert_close(L.focal_with_logits(y, z, **kw), L.focal(y, p, **kw), rtol=1e-9)
        # chain rule: d/dz = d/dp * p (1 - p)
        assert_close(L.focal_with_logits_grad(y, z, **kw),
                     L.focal_grad(y, p, **kw) * p * (1 - p), rtol=1e-8, atol=1e-15)


# --- properties ----------------------------------------------------------------------

moderate = st.floats(-6.0, 6.0, allow_nan=False, allow_subnormal=False)
labels = st.sampled_from([0.0, 1.0])


@st.composite
def logit_case(draw, max_n=6):
    n = draw(st.integers(1, max_n))
    y = draw(arrays(np.float64, n, elements=labels))
    z = draw(arrays(np.float64, n, elements=moderate))
    return y, z


def assert_gradient_matches(f, analytic, x):
    numeric = numeric_gradient(f, x)
    slack = 1e-9 * (1.0 + abs(f(x)))
    err = relative_error(analytic, numeric, elementwise=True)
    assert ((err < 1e-6) | (np.abs(analytic - numeric) < slack)).all(), (analytic, numeric)


@SETTINGS
@given(logit_case(), st.floats(0.0, 20.0), st.sampled_from(["mean", "sum"]))
def test_bce_pos_weight_gradient_agrees_with_gradcheck(case, pos_weight, reduction):
    y, z = case
    kw = dict(pos_weight=pos_weight, reduction=reduction)
    assert_gradient_matches(lambda v: L.binary_cross_entropy_with_logits(y, v, **kw),
                            L.binary_cross_entropy_with_logits_grad(y, z, **kw), z)


@SETTINGS
@given(logit_case(), st.floats(0.0, 5.0), st.one_of(st.none(), st.floats(0.0, 1.0)),
       st.sampled_from(["mean", "sum"]))
def test_focal_with_logits_gradient_agrees_with_gradcheck(case, gamma, alpha, reduction):
    y, z = case
    kw = dict(gamma=gamma, alpha=alpha, reduction=reduction)
    assert_gradient_matches(lambda v: L.focal_with_logits(y, v, **kw),
                            L.focal_with_logits_grad(y, z, **kw), z)


@st.composite
def weighted_class_case(draw):
    n, c = draw(st.integers(1, 6)), draw(st.integers(2, 5))
    y = draw(arrays(np.int64, n, elements=st.integers(0, c - 1)))
    z = draw(arrays(np.float64, (n, c), elements=moderate))
    w = draw(arrays(np.float64, c, elements=st.floats(0.05, 10.0)))
    return y, z, w


@SETTINGS
@given(weighted_class_case(), st.floats(0.0, 1.0), st.booleans(),
       st.sampled_from(["mean", "sum"]))
def test_weighted_softmax_cross_entropy_gradient_agrees_with_gradcheck(case, smoothing,
                                                                       one_hot, reduction):
    y, z, w = case
    target = np.eye(z.shape[1])[y] if one_hot else y
    kw = dict(weight=w, label_smoothing=smoothing, reduction=reduction)
    assert_gradient_matches(lambda v: L.softmax_cross_entropy(target, v, **kw),
                            L.softmax_cross_entropy_grad(target, z, **kw), z)


@SETTINGS
@given(logit_case(max_n=10), st.floats(0.0, 8.0), st.one_of(st.none(), st.floats(0.0, 1.0)))
# Found by hypothesis: alpha_t written as a_neg + (a_pos - a_neg)·y lost 1e-10 of a tiny alpha.
@example((np.array([1.0]), np.array([0.0])), 0.0, 1e-6)
def test_focal_is_below_cross_entropy_and_reductions_agree(case, gamma, alpha):
    y, z = case
    focal = L.focal_with_logits(y, z, gamma=gamma, alpha=alpha, reduction="none")
    bce = L.binary_cross_entropy_with_logits(y, z, reduction="none")
    a_t = 1.0 if alpha is None else np.where(y == 1, alpha, 1 - alpha)
    # (1 - p_t)^gamma <= 1: the focal factor only ever shrinks the weighted loss.
    assert (focal >= 0).all() and (focal <= a_t * bce * (1 + 1e-12)).all()
    assert L.focal_with_logits(y, z, gamma=gamma, alpha=alpha, reduction="sum") == \
        pytest.approx(focal.sum(), rel=1e-12, abs=1e-300)
    assert L.focal_with_logits(y, z, gamma=gamma, alpha=alpha) == \
        pytest.approx(focal.mean(), rel=1e-12, abs=1e-300)


@SETTINGS
@given(logit_case(max_n=10), st.floats(0.0, 20.0))
def test_pos_weight_scales_only_the_positives(case, pos_weight):
    y, z = case
    plain = L.binary_cross_entropy_with_logits(y, z, reduction="none")
    weighted = L.binary_cross_entropy_with_logits(y, z, pos_weight=pos_weight, reduction="none")
    expected = np.where(y == 1, pos_weight * plain, plain)
    np.testing.assert_allclose(weighted, expected, rtol=1e-12, atol=1e-300)
    assert_close(L.binary_cross_entropy_with_logits(y, z, pos_weight=1.0),
                 L.binary_cross_entropy_with_logits(y, z))


# --- bad input -----------------------------------------------------------------------

def test_bad_pos_weight_named_with_a_fix():
    y, z = [1.0, 0.0], [0.3, -0.2]
    f = L.binary_cross_entropy_with_logits
    with pytest.raises(ValueError, match="pos_weight must be >= 0, got -2.*n_negative"):
        f(y, z, pos_weight=-2.0)
    with pytest.raises(ValueError, match=r"pos_weight must be one number or broadcast to "
                                         r"y_true's shape \(2,\), got shape \(3,\)"):
        f(y, z, pos_weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="binary_cross_entropy_with_logits_grad: pos_weight "
                                         "must be finite"):
        L.binary_cross_entropy_with_logits_grad(y, z, pos_weight=np.nan)
    with pytest.raises(TypeError, match="pos_weight must hold numbers"):
        f(y, z, pos_weight="balanced")


def test_bad_class_weight_named_with_a_fix():
    y, z = [0, 1], [[0.7, 0.3], [0.4, 0.6]]
    f = L.softmax_cross_entropy
    with pytest.raises(ValueError, match=r"weight must hold one weight per class, shape \(2,\)"
                                         r" \(z has 2 columns\), got shape \(3,\)"):
        f(y, z, weight=[1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="weight must be >= 0 for every class, got -1"):
        L.softmax_cross_entropy_grad(y, z, weight=[1.0, -1.0])
    with pytest.raises(ValueError, match="weight must be finite"):
        f(y, z, weight=[1.0, np.inf])
    with pytest.raises(ValueError, match="every example's class has weight 0.*reduction='sum'"):
        f([1, 1], z, weight=[1.0, 0.0])
    assert f([1, 1], z, weight=[1.0, 0.0], reduction="sum") == 0.0


def test_bad_focal_input_named_with_a_fix():
    f = L.focal_with_logits
    with pytest.raises(ValueError, match="focal_with_logits: y_true must contain only 0 and 1.*"
                                         r"y = \(y \+ 1\) / 2"):
        f([1.0, -1.0], [0.3, 0.2])
    with pytest.raises(ValueError, match="gamma must be >= 0"):
        f([1.0, 0.0], [0.3, 0.2], gamma=-1.0)
    with pytest.raises(ValueError, match=r"focal_with_logits_grad: alpha must be in \[0, 1\]"):
        L.focal_with_logits_grad([1.0, 0.0], [0.3, 0.2], alpha=1.5)
    with pytest.raises(ValueError, match="z must be finite"):
        f([1.0, 0.0], [np.inf, 0.2])
