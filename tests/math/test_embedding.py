"""Embedding losses and KL divergence: the written formula, gradients, properties.

Each loss is compared with a plain loop over the formula as written in its docstring,
its gradient with central differences (lossbook.gradcheck), and hypothesis checks the
properties the lessons state (pull/push directions, invariances, KL ≥ 0).
The PyTorch cross-checks are in test_torch_embedding.py.
"""
import math
import os

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import lossbook.losses as L
from lossbook.gradcheck import numeric_gradient, relative_error

from mathhelpers import assert_close, rng

SETTINGS = settings(max_examples=40, deadline=None, database=None,
                    derandomize=bool(os.environ.get("CI")))
REDUCTIONS = ["mean", "sum", "none"]
moderate = st.floats(-3.0, 3.0, allow_nan=False, allow_subnormal=False)


def _reduce(per_example, reduction):
    per_example = np.asarray(per_example, dtype=float)
    return {"none": per_example, "sum": per_example.sum(),
            "mean": per_example.mean()}[reduction]


def assert_gradient_matches(f, analytic, x, tol=1e-6):
    numeric = numeric_gradient(f, x)
    slack = 1e-9 * (1.0 + abs(f(x)))
    err = relative_error(analytic, numeric, elementwise=True)
    assert ((err < tol) | (np.abs(analytic - numeric) < slack)).all(), (analytic, numeric)


# ---------------------------------------------------------------------------
# The written formulas, as loops
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_contrastive_matches_written_formula(reduction):
    g = rng(1)
    d = g.uniform(0, 2, size=30)
    s = g.integers(0, 2, size=30).astype(float)
    m = 1.3
    expected = [si * di**2 + (1 - si) * max(0.0, m - di) ** 2 for di, si in zip(d, s)]
    assert_close(L.contrastive(d, s, margin=m, reduction=reduction), _reduce(expected, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_matches_written_formula(reduction):
    g = rng(2)
    a, p, n = (g.normal(size=(25, 3)) for _ in range(3))
    expected = [max(0.0, math.dist(ai, pi) - math.dist(ai, ni) + 0.7)
                for ai, pi, ni in zip(a, p, n)]
    assert_close(L.triplet_margin(a, p, n, margin=0.7, reduction=reduction),
                 _reduce(expected, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_info_nce_matches_written_formula(reduction):
    g = rng(3)
    q, k = g.normal(size=(6, 4)), g.normal(size=(9, 4))  # 3 extra negatives
    tau = 0.3
    expected = []
    for i, qi in enumerate(q):
        sims = [np.dot(qi, kj) / (np.linalg.norm(qi) * np.linalg.norm(kj)) / tau for kj in k]
        expected.append(-math.log(math.exp(sims[i]) / sum(math.exp(s) for s in sims)))
    assert_close(L.info_nce(q, k, temperature=tau, reduction=reduction),
                 _reduce(expected, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ranking_losses_match_written_formulas(reduction):
    g = rng(4)
    s1, s2 = g.normal(size=20), g.normal(size=20)
    y = g.choice([-1.0, 1.0], size=20)
    hinge = [max(0.0, -yi * (a - b) + 0.2) for a, b, yi in zip(s1, s2, y)]
    logistic = [math.log(1 + math.exp(-yi * (a - b))) for a, b, yi in zip(s1, s2, y)]
    assert_close(L.margin_ranking(s1, s2, y, margin=0.2, reduction=reduction),
                 _reduce(hinge, reduction))
    assert_close(L.pairwise_logistic(s1, s2, y, reduction=reduction),
                 _reduce(logistic, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_matches_written_formula_and_scipy(reduction):
    from scipy.special import rel_entr
    from scipy.stats import entropy
    g = rng(5)
    p = g.dirichlet(np.ones(5), size=8)
    p[0, 2] = 0.0  # 0·log 0 = 0
    p[0] /= p[0].sum()
    q = g.dirichlet(np.ones(5), size=8)
    expected = [sum(pk * math.log(pk / qk) for pk, qk in zip(pi, qi) if pk > 0)
                for pi, qi in zip(p, q)]
    assert_close(L.kl_divergence(p, q, reduction=reduction), _reduce(expected, reduction))
    assert_close(L.kl_divergence(p, q, reduction="none"), entropy(p, q, axis=1))
    assert_close(L.kl_divergence(p, q, reduction="none"), rel_entr(p, q).sum(axis=1))


def test_kl_edge_cases():
    assert L.kl_divergence([0.5, 0.5], [0.5, 0.5]) == 0.0
    # q rules out an outcome p produces: infinite, without a warning
    with np.errstate(all="raise"):
        assert L.kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
        assert L.kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
        assert_close(L.kl_divergence_grad([1.0, 0.0], [1.0, 0.0], reduction="sum"), [-1.0, 0.0])
    assert L.kl_divergence([1.0, 0.0], [0.5, 0.5], reduction="none").shape == ()


def test_single_examples_and_float32():
    d = L.triplet_margin([0.0, 0.0], [3.0, 4.0], [0.0, 1.0], reduction="none")
    assert d.shape == (1,) and d[0] == pytest.approx(5.0)
    assert L.contrastive(0.5, 1) == 0.25
    q32 = rng(6).normal(size=(4, 3)).astype(np.float32)
    assert np.isfinite(L.info_nce(q32, q32))
    ga, gp, gn = L.triplet_margin_grad([0.0, 0.0], [3.0, 4.0], [0.0, 1.0])
    assert ga.shape == gp.shape == gn.shape == (2,)


def test_contrastive_margin_boundary_and_zero_distance_gradient():
    # beyond the margin a different pair costs nothing and gets no gradient
    assert L.contrastive([1.0, 1.5], [0, 0], margin=1.0) == 0.0
    assert_close(L.contrastive_grad([1.0, 1.5], [0, 0], margin=1.0), [0.0, 0.0])
    # identical anchor and positive: the subgradient 0 (no NaN)
    ga, gp, gn = L.triplet_margin_grad([[1.0, 1.0]], [[1.0, 1.0]], [[1.2, 1.0]])
    assert np.isfinite(ga).all() and gp.tolist() == [[0.0, 0.0]]
    assert_close(gn, [[-1.0, 0.0]])


def test_info_nce_is_log_n_when_all_keys_alike():
    q = np.ones((5, 3))
    assert L.info_nce(q, q, temperature=0.1) == pytest.approx(math.log(5))


# ---------------------------------------------------------------------------
# Gradients against central differences
# ---------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_contrastive_grad(reduction):
    g = rng(7)
    d = g.uniform(0.05, 2.0, size=12)
    d = d[np.abs(d - 1.0) > 1e-2]
    s = (g.uniform(size=d.size) < 0.5).astype(float)
    f = lambda x: float(np.sum(L.contrastive(x, s, reduction=reduction)))  # noqa: E731
    assert_gradient_matches(f, L.contrastive_grad(d, s, reduction=reduction), d)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_grad(reduction):
    g = rng(8)
    a, p, n = (g.normal(size=(10, 3)) for _ in range(3))
    kw = dict(margin=0.5, reduction=reduction)
    losses = np.linalg.norm(a - p, axis=1) - np.linalg.norm(a - n, axis=1) + 0.5
    assert (np.abs(losses) > 1e-3).all() and (losses > 0).any() and (losses < 0).any()
    grads = L.triplet_margin_grad(a, p, n, **kw)
    for which, x in enumerate((a, p, n)):
        def f(v, which=which):
            args = [a, p, n]
            args[which] = v
            return float(np.sum(L.triplet_margin(*args, **kw)))
        assert_gradient_matches(f, grads[which], x)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_info_nce_grad(reduction):
    g = rng(9)
    q, k = g.normal(size=(5, 3)), g.normal(size=(7, 3))
    kw = dict(temperature=0.2, reduction=reduction)
    dq, dk = L.info_nce_grad(q, k, **kw)
    assert_gradient_matches(lambda x: float(np.sum(L.info_nce(x, k, **kw))), dq, q)
    assert_gradient_matches(lambda x: float(np.sum(L.info_nce(q, x, **kw))), dk, k)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ranking_grads(reduction):
    g = rng(10)
    s1, s2 = g.normal(size=15), g.normal(size=15)
    y = g.choice([-1.0, 1.0], size=15)
    assume_away = np.abs(-y * (s1 - s2) + 0.3) > 1e-3
    s1, s2, y = s1[assume_away], s2[assume_away], y[assume_away]
    for loss, grad, kw in [(L.margin_ranking, L.margin_ranking_grad, {"margin": 0.3}),
                           (L.pairwise_logistic, L.pairwise_logistic_grad, {})]:
        d1, d2 = grad(s1, s2, y, reduction=reduction, **kw)
        assert_gradient_matches(lambda x: float(np.sum(loss(x, s2, y, reduction=reduction, **kw))),
                                d1, s1)
        assert_gradient_matches(lambda x: float(np.sum(loss(s1, x, y, reduction=reduction, **kw))),
                                d2, s2)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_grad(reduction):
    g = rng(11)
    # entries away from 0, where central differences with h = 1e-5 are accurate
    p, q = g.dirichlet(5 * np.ones(4), size=6), g.dirichlet(5 * np.ones(4), size=6)
    f = lambda x: float(np.sum(L.kl_divergence(p, x, reduction=reduction)))  # noqa: E731
    # q as free variables: the numeric gradient perturbs entries without renormalising,
    # so evaluate the formula directly (kl_divergence rightly refuses rows not summing to 1).
    def formula(x):
        total = (p * (np.log(p) - np.log(x))).sum(axis=1)
        return float(total.mean() if reduction == "mean" else total.sum())
    assert f(q) == pytest.approx(formula(q))
    assert_gradient_matches(formula, L.kl_divergence_grad(p, q, reduction=reduction), q)


def test_kl_grad_through_softmax_is_distillation_gradient():
    g = rng(12)
    p, z = g.dirichlet(np.ones(4), size=3), g.normal(size=(3, 4))
    q = L.softmax(z)
    dq = L.kl_divergence_grad(p, q, reduction="sum")
    # chain rule through softmax: dz = q * (dq - Σ_k q_k dq_k)
    dz = q * (dq - (q * dq).sum(axis=1, keepdims=True))
    assert_close(dz, q - p, rtol=1e-9)


# ---------------------------------------------------------------------------
# Properties
# ---------------------------------------------------------------------------
@st.composite
def triplets(draw):
    n, dim = draw(st.integers(1, 5)), draw(st.integers(1, 4))
    return tuple(draw(arrays(np.float64, (n, dim), elements=moderate)) for _ in range(3))


@SETTINGS
@given(triplets(), st.floats(0.0, 2.0))
def test_triplet_step_pulls_positive_and_pushes_negative(trip, margin):
    a, p, n = trip
    d_pos, d_neg = np.linalg.norm(a - p, axis=1), np.linalg.norm(a - n, axis=1)
    assume((d_pos > 1e-3).all() and (d_neg > 1e-3).all())
    ga, gp, gn = L.triplet_margin_grad(a, p, n, margin=margin, reduction="sum")
    step = 1e-4
    new_pos = np.linalg.norm(a - (p - step * gp), axis=1)
    new_neg = np.linalg.norm(a - (n - step * gn), axis=1)
    active = d_pos - d_neg + margin > 0
    assert (new_pos[active] < d_pos[active]).all()
    assert (new_neg[active] > d_neg[active]).all()
    assert (gp[~active] == 0).all() and (gn[~active] == 0).all()
    # translating every point together changes nothing
    shift = np.linspace(-1, 1, a.shape[1])
    assert_close(L.triplet_margin(a + shift, p + shift, n + shift, margin=margin, reduction="none"),
                 L.triplet_margin(a, p, n, margin=margin, reduction="none"), rtol=1e-6, atol=1e-9)


@SETTINGS
@given(st.integers(1, 5), st.integers(2, 4), st.floats(0.05, 2.0), st.data())
def test_info_nce_scale_invariant_and_gradients_perpendicular(n, dim, tau, data):
    q = data.draw(arrays(np.float64, (n, dim), elements=moderate))
    k = data.draw(arrays(np.float64, (n + 1, dim), elements=moderate))
    assume((np.linalg.norm(q, axis=1) > 0.1).all() and (np.linalg.norm(k, axis=1) > 0.1).all())
    scales = np.linspace(0.5, 3.0, n)[:, None]
    base = L.info_nce(q, k, temperature=tau, reduction="none")
    assert_close(L.info_nce(q * scales, k, temperature=tau, reduction="none"), base, rtol=1e-9)
    assert (base >= -1e-12).all()
    dq, dk = L.info_nce_grad(q, k, temperature=tau)
    assert np.abs((dq * q).sum(axis=1)).max() < 1e-9 * (1 + np.abs(dq).max() * np.abs(q).max())
    assert np.abs((dk * k).sum(axis=1)).max() < 1e-9 * (1 + np.abs(dk).max() * np.abs(k).max())


@SETTINGS
@given(st.integers(1, 4), st.integers(2, 5), st.data())
def test_kl_nonnegative_zero_iff_equal_and_asymmetric(n, c, data):
    w = st.floats(0.01, 1.0)
    p = data.draw(arrays(np.float64, (n, c), elements=w))
    q = data.draw(arrays(np.float64, (n, c), elements=w))
    p /= p.sum(axis=1, keepdims=True)
    q /= q.sum(axis=1, keepdims=True)
    kl = L.kl_divergence(p, q, reduction="none")
    assert (kl >= -1e-12).all()
    assert_close(L.kl_divergence(p, p, reduction="none"), np.zeros(n), atol=1e-15)
    # forward KL = cross-entropy(p, q) − entropy(p)
    assert_close(kl, L.cross_entropy(p, q, reduction="none")
                 - L.cross_entropy(p, p, reduction="none"), rtol=1e-7, atol=1e-12)


@SETTINGS
@given(st.integers(1, 6), st.floats(0.0, 2.0), st.data())
def test_contrastive_and_ranking_properties(n, margin, data):
    d = data.draw(arrays(np.float64, n, elements=st.floats(0.0, 3.0)))
    same = data.draw(arrays(np.float64, n, elements=st.sampled_from([0.0, 1.0])))
    losses = L.contrastive(d, same, margin=margin, reduction="none")
    assert (losses >= 0).all()
    assert (losses[(same == 0) & (d >= margin)] == 0).all()
    # the logistic ranking loss is a smooth upper bound of the 0/1 ranking error · log 2
    s1 = data.draw(arrays(np.float64, n, elements=moderate))
    s2 = data.draw(arrays(np.float64, n, elements=moderate))
    y = data.draw(arrays(np.float64, n, elements=st.sampled_from([-1.0, 1.0])))
    wrong = y * (s1 - s2) <= 0
    assert (L.pairwise_logistic(s1, s2, y, reduction="none")[wrong] >= math.log(2) - 1e-12).all()
    assert (L.margin_ranking(s1, s2, y, margin=margin, reduction="none")[wrong] >= margin).all()


def test_pairwise_logistic_stable_for_huge_scores():
    out = L.pairwise_logistic([1e4, -1e4], [0.0, 0.0], [1, 1], reduction="none")
    assert_close(out, [0.0, 1e4])
    d1, d2 = L.pairwise_logistic_grad([1e4, -1e4], [0.0, 0.0], [1, 1], reduction="none")
    assert_close(d1, [0.0, -1.0], atol=1e-300) and np.isfinite(d2).all()
