"""Cross-checks against PyTorch's CPU implementations and autograd (float64).

CI installs torch (LOSSBOOK_EXTRA_PIP); on a machine without it these tests skip.
"""
import numpy as np
import pytest

import lossbook.losses as L

from lazymodules import lazy
from mathhelpers import assert_close, class_problem, probabilities, regression_pair

torch = lazy("torch")  # imported by the first test that uses it; those tests are slow (root conftest.py)
F = lazy("torch.nn.functional")

REDUCTIONS = ["mean", "sum", "none"]


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def autograd(loss_fn, target, pred, reduction):
    """Gradient of torch's loss w.r.t. the prediction; for 'none' that of the sum."""
    x = t(pred, grad=True)
    out = loss_fn(x)
    (out.sum() if reduction == "none" else out).backward()
    return x.grad.numpy()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_regression_losses_and_grads(reduction):
    y, p = regression_pair(seed=11)
    cases = [
        (L.mse, L.mse_grad, {}, lambda x: F.mse_loss(x, t(y), reduction=reduction)),
        (L.mae, L.mae_grad, {}, lambda x: F.l1_loss(x, t(y), reduction=reduction)),
        (L.huber, L.huber_grad, {"delta": 0.8},
         lambda x: F.huber_loss(x, t(y), reduction=reduction, delta=0.8)),
        (L.log_cosh, L.log_cosh_grad, {},
         lambda x: _reduce(torch.log(torch.cosh(x - t(y))), reduction)),
        (L.quantile, L.quantile_grad, {"q": 0.8},
         lambda x: _reduce(torch.maximum(0.8 * (t(y) - x), (0.8 - 1) * (t(y) - x)), reduction)),
    ]
    for loss, grad, kw, ref in cases:
        assert_close(loss(y, p, reduction=reduction, **kw), ref(t(p)).detach().numpy())
        assert_close(grad(y, p, reduction=reduction, **kw), autograd(ref, y, p, reduction))


def _reduce(x, reduction):
    return {"mean": x.mean, "sum": x.sum, "none": lambda: x}[reduction]()


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_and_grads(reduction):
    y, p = probabilities(seed=12)
    ref = lambda x: F.binary_cross_entropy(x, t(y), reduction=reduction)  # noqa: E731
    assert_close(L.binary_cross_entropy(y, p, reduction=reduction), ref(t(p)).detach().numpy())
    assert_close(L.binary_cross_entropy_grad(y, p, reduction=reduction),
                 autograd(ref, y, p, reduction))
    z = np.random.default_rng(1).normal(scale=4, size=len(y))
    ref = lambda x: F.binary_cross_entropy_with_logits(x, t(y), reduction=reduction)  # noqa: E731
    assert_close(L.binary_cross_entropy_with_logits(y, z, reduction=reduction),
                 ref(t(z)).detach().numpy())
    assert_close(L.binary_cross_entropy_with_logits_grad(y, z, reduction=reduction),
                 autograd(ref, y, z, reduction))


def test_bce_with_logits_extreme_logits_match_torch():
    z = np.array([1e4, -1e4, 50.0, -50.0, 0.0])
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0])
    expected = F.binary_cross_entropy_with_logits(t(z), t(y), reduction="none").numpy()
    # atol: at z=-50, y=0 torch rounds the true loss log1p(e^-50) = 1.9e-22 to 0.
    assert_close(L.binary_cross_entropy_with_logits(y, z, reduction="none"), expected, atol=1e-21)
    assert L.binary_cross_entropy_with_logits([0.0], [-50.0]) == np.log1p(np.exp(-50.0))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_softmax_cross_entropy_and_grad(reduction, smoothing):
    y, z, p = class_problem(seed=13)
    targets = [torch.tensor(y), t(np.eye(z.shape[1])[y]),
               t(np.random.default_rng(2).dirichlet(np.ones(z.shape[1]), size=len(y)))]
    for target in targets:
        ref = lambda x: F.cross_entropy(x, target, reduction=reduction,  # noqa: E731
                                        label_smoothing=smoothing)
        ours_target = target.numpy()
        assert_close(L.softmax_cross_entropy(ours_target, z, label_smoothing=smoothing,
                                             reduction=reduction), ref(t(z)).detach().numpy())
        assert_close(L.softmax_cross_entropy_grad(ours_target, z, label_smoothing=smoothing,
                                                  reduction=reduction),
                     autograd(ref, ours_target, z, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_cross_entropy_on_probabilities_and_grad(reduction):
    y, _, p = class_problem(seed=14)
    ref = lambda x: F.nll_loss(torch.log(x), torch.tensor(y), reduction=reduction)  # noqa: E731
    assert_close(L.cross_entropy(y, p, reduction=reduction), ref(t(p)).detach().numpy())
    assert_close(L.cross_entropy_grad(y, p, reduction=reduction), autograd(ref, y, p, reduction))


def test_softmax_and_log_softmax_match_torch():
    _, z, _ = class_problem(seed=15)
    assert_close(L.softmax(z), torch.softmax(t(z), dim=-1).numpy())
    assert_close(L.log_softmax(z), torch.log_softmax(t(z), dim=-1).numpy())
    assert_close(L.sigmoid(z), torch.sigmoid(t(z)).numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [1.0, 0.3])
def test_multiclass_hinge_is_torch_multi_margin_times_c(reduction, margin):
    y, z, _ = class_problem(seed=16)
    c = z.shape[1]
    ref = lambda x: c * F.multi_margin_loss(x, torch.tensor(y), margin=margin,  # noqa: E731
                                            reduction=reduction)
    assert_close(L.multiclass_hinge(y, z, margin=margin, reduction=reduction),
                 ref(t(z)).detach().numpy())
    assert_close(L.multiclass_hinge_grad(y, z, margin=margin, reduction=reduction),
                 autograd(ref, y, z, reduction))


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_hinge_losses_vs_autograd(reduction):
    g = np.random.default_rng(17)
    y, s = np.where(g.uniform(size=30) < 0.5, -1.0, 1.0), g.normal(scale=1.5, size=30)
    hinge = lambda x: _reduce(torch.clamp(1 - t(y) * x, min=0), reduction)  # noqa: E731
    sq = lambda x: _reduce(torch.clamp(1 - t(y) * x, min=0) ** 2, reduction)  # noqa: E731
    assert_close(L.hinge(y, s, reduction=reduction), hinge(t(s)).detach().numpy())
    assert_close(L.hinge_grad(y, s, reduction=reduction), autograd(hinge, y, s, reduction))
    assert_close(L.squared_hinge(y, s, reduction=reduction), sq(t(s)).detach().numpy())
    assert_close(L.squared_hinge_grad(y, s, reduction=reduction), autograd(sq, y, s, reduction))


@pytest.mark.parametrize("gamma, alpha", [(2.0, None), (2.0, 0.25), (0.7, 0.6)])
def test_focal_loss_grad_vs_autograd(gamma, alpha):
    y, p = probabilities(seed=18)

    def ref(x):
        a_pos, a_neg = (1.0, 1.0) if alpha is None else (alpha, 1 - alpha)
        yt = t(y)
        return -(a_pos * yt * (1 - x) ** gamma * torch.log(x)
                 + a_neg * (1 - yt) * x ** gamma * torch.log1p(-x)).mean()

    assert_close(L.focal(y, p, gamma=gamma, alpha=alpha), ref(t(p)).item())
    assert_close(L.focal_grad(y, p, gamma=gamma, alpha=alpha), autograd(ref, y, p, "mean"))


@pytest.mark.parametrize("alpha", [-np.inf, -2.0, 0.0, 0.5, 1.0, 2.0, 4.0])
def test_barron_grad_vs_autograd(alpha):
    y, p = regression_pair(seed=19)
    c = 0.9

    def ref(x):
        z2 = ((x - t(y)) / c) ** 2
        if alpha == 2.0:
            rho = 0.5 * z2
        elif alpha == 0.0:
            rho = torch.log1p(0.5 * z2)
        elif alpha == -np.inf:
            # Not -expm1(...): torch differentiates expm1 as expm1(u) + 1, which loses
            # the tiny gradients of large residuals to cancellation.
            rho = 1 - torch.exp(-0.5 * z2)
        else:
            b = abs(alpha - 2)
            rho = b / alpha * ((z2 / b + 1) ** (alpha / 2) - 1)
        return rho.mean()

    assert_close(L.barron(y, p, alpha=alpha, c=c), ref(t(p)).item())
    assert_close(L.barron_grad(y, p, alpha=alpha, c=c), autograd(ref, y, p, "mean"))


def test_regularization_grads_vs_autograd():
    from lossbook import regularization as R
    w = np.array([0.7, -1.3, 2.0, -0.05])
    for f, g, ref in [
        (R.l1, R.l1_grad, lambda x: 0.3 * x.abs().sum()),
        (R.l2, R.l2_grad, lambda x: 0.3 * (x ** 2).sum()),
        (R.elastic_net, R.elastic_net_grad,
         lambda x: 0.3 * (0.5 * x.abs().sum() + 0.5 * (x ** 2).sum())),
    ]:
        x = t(w, grad=True)
        ref(x).backward()
        assert_close(f(w, 0.3), ref(t(w)).item())
        assert_close(g(w, 0.3), x.grad.numpy())
