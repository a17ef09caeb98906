"""Embedding losses and KL divergence against PyTorch's CPU implementations (float64).

CI installs torch (LOSSBOOK_EXTRA_PIP); on a machine without it these tests skip.
"""
import numpy as np
import pytest

import lossbook.losses as L

from lazymodules import lazy
from mathhelpers import assert_close, rng

torch = lazy("torch")  # imported by the first test that uses it; those tests are slow (root conftest.py)
F = lazy("torch.nn.functional")

REDUCTIONS = ["mean", "sum", "none"]


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def _backward(out, reduction):
    (out.sum() if reduction == "none" else out).backward()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_triplet_margin_matches_torch_within_its_eps(reduction):
    g = rng(21)
    a, p, n = (g.normal(size=(40, 5)) for _ in range(3))
    ta, tp, tn = t(a, True), t(p, True), t(n, True)
    out = torch.nn.TripletMarginLoss(margin=0.8, p=2.0, reduction=reduction)(ta, tp, tn)
    # torch computes ‖a − p + ε‖ with ε = 1e-6 in every coordinate: each distance moves
    # by at most ε·√d ≈ 2.2e-6, so each loss by at most 2ε√d < 5e-6.
    tol = 2 * 1e-6 * np.sqrt(a.shape[1])
    ours = L.triplet_margin(a, p, n, margin=0.8, reduction=reduction)
    assert_close(ours, out.detach().numpy(), rtol=0,
                 atol=tol * (a.shape[0] if reduction == "sum" else 1))
    _backward(out, reduction)
    # the gradients are unit vectors evaluated ε away: relative error ≈ ε / distance
    for ours_g, theirs in zip(L.triplet_margin_grad(a, p, n, margin=0.8, reduction=reduction),
                              (ta.grad, tp.grad, tn.grad)):
        assert_close(ours_g, theirs.numpy(), rtol=0, atol=1e-4)


def test_triplet_margin_matches_torch_exactly_with_eps_zero():
    g = rng(22)
    a, p, n = (g.normal(size=(30, 4)) for _ in range(3))
    ta, tp, tn = t(a, True), t(p, True), t(n, True)
    out = F.triplet_margin_loss(ta, tp, tn, margin=1.0, eps=0.0)
    out.backward()
    assert_close(L.triplet_margin(a, p, n), out.item())
    for ours_g, theirs in zip(L.triplet_margin_grad(a, p, n), (ta.grad, tp.grad, tn.grad)):
        assert_close(ours_g, theirs.numpy(), rtol=1e-10, atol=1e-15)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_info_nce_matches_torch_cross_entropy_over_similarities(reduction):
    g = rng(23)
    q, k = g.normal(size=(12, 6)), g.normal(size=(15, 6))
    tq, tk = t(q, True), t(k, True)
    logits = F.normalize(tq, dim=1) @ F.normalize(tk, dim=1).T / 0.07
    out = F.cross_entropy(logits, torch.arange(12), reduction=reduction)
    _backward(out, reduction)
    assert_close(L.info_nce(q, k, temperature=0.07, reduction=reduction), out.detach().numpy())
    dq, dk = L.info_nce_grad(q, k, temperature=0.07, reduction=reduction)
    assert_close(dq, tq.grad.numpy(), rtol=1e-9, atol=1e-14)
    assert_close(dk, tk.grad.numpy(), rtol=1e-9, atol=1e-14)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_margin_ranking_matches_torch(reduction):
    g = rng(24)
    s1, s2 = g.normal(size=50), g.normal(size=50)
    y = g.choice([-1.0, 1.0], size=50)
    t1, t2 = t(s1, True), t(s2, True)
    out = F.margin_ranking_loss(t1, t2, t(y), margin=0.25, reduction=reduction)
    _backward(out, reduction)
    assert_close(L.margin_ranking(s1, s2, y, margin=0.25, reduction=reduction),
                 out.detach().numpy())
    d1, d2 = L.margin_ranking_grad(s1, s2, y, margin=0.25, reduction=reduction)
    assert_close(d1, t1.grad.numpy())
    assert_close(d2, t2.grad.numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_pairwise_logistic_matches_torch_softplus(reduction):
    g = rng(25)
    s1, s2 = g.normal(scale=5, size=50), g.normal(scale=5, size=50)
    y = g.choice([-1.0, 1.0], size=50)
    t1, t2 = t(s1, True), t(s2, True)
    per_pair = F.softplus(-t(y) * (t1 - t2))
    out = {"mean": per_pair.mean, "sum": per_pair.sum, "none": lambda: per_pair}[reduction]()
    _backward(out, reduction)
    assert_close(L.pairwise_logistic(s1, s2, y, reduction=reduction), out.detach().numpy())
    d1, d2 = L.pairwise_logistic_grad(s1, s2, y, reduction=reduction)
    assert_close(d1, t1.grad.numpy())
    assert_close(d2, t2.grad.numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_kl_divergence_matches_torch_kl_div(reduction):
    g = rng(26)
    p = g.dirichlet(np.ones(6), size=10)
    p[3, 1] = 0.0  # torch's kl_div also takes 0·log 0 = 0
    p[3] /= p[3].sum()
    q = g.dirichlet(np.ones(6), size=10)
    tq = t(q, True)
    torch_reduction = {"mean": "batchmean", "sum": "sum", "none": "none"}[reduction]
    out = F.kl_div(torch.log(tq), t(p), reduction=torch_reduction)
    if reduction == "none":
        out = out.sum(dim=1)  # torch gives one term per entry; rows are ours
    _backward(out, reduction)
    assert_close(L.kl_divergence(p, q, reduction=reduction), out.detach().numpy(), atol=1e-15)
    assert_close(L.kl_divergence_grad(p, q, reduction=reduction), tq.grad.numpy(), atol=1e-15)


def test_contrastive_matches_torch_autograd_of_the_formula():
    g = rng(27)
    a, b = g.normal(size=(30, 3)), g.normal(size=(30, 3))
    same = (g.uniform(size=30) < 0.5).astype(float)
    ta = t(a, True)
    d = F.pairwise_distance(ta, t(b), eps=0.0)
    out = (t(same) * d**2 + (1 - t(same)) * torch.clamp(1.5 - d, min=0) ** 2).mean()
    out.backward()
    dist = np.linalg.norm(a - b, axis=1)
    assert_close(L.contrastive(dist, same, margin=1.5), out.item())
    # chain rule: dL/da = dL/dd · (a − b)/d
    grad_a = L.contrastive_grad(dist, same, margin=1.5)[:, None] * (a - b) / dist[:, None]
    assert_close(grad_a, ta.grad.numpy(), rtol=1e-9, atol=1e-15)
