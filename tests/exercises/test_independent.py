"""The stored solutions (what learners are told is right) agree with independent
implementations — scikit-learn, SciPy, PyTorch autograd — on every case of their exercise.

Cases where the peers follow a different convention are skipped with the reason named:
p exactly 0 or 1 (PyTorch clamps log at −100, we clip p), kinks of the hinge (any
subgradient is right), sklearn's hinge_loss needing both labels present.
"""
from __future__ import annotations

import math

import numpy as np
import pytest

from lossbook.exercises import get

from lazymodules import lazy

torch = lazy("torch")  # imported by the first test that uses it; those tests are slow (root conftest.py)
F = lazy("torch.nn.functional")
sklearn_metrics = pytest.importorskip("sklearn.metrics")
scipy_special = pytest.importorskip("scipy.special")


def _solution(exercise_id):
    ex = get(exercise_id)
    namespace = {"np": np}
    exec(ex.solution, namespace)  # noqa: S102 - the catalog's own code
    return ex, namespace[ex.name]


def _t(x, grad=False):
    return torch.tensor(np.asarray(x, dtype=float), dtype=torch.float64, requires_grad=grad)


def _autograd(loss_fn, *args, wrt):
    tensors = [_t(a, grad=(i == wrt)) for i, a in enumerate(args)]
    loss_fn(*tensors).backward()
    return tensors[wrt].grad.numpy()


def _close(a, b, rtol=1e-9, atol=1e-12):
    np.testing.assert_allclose(np.asarray(a, dtype=float), np.asarray(b, dtype=float), rtol=rtol, atol=atol)


def _cases(exercise_id):
    ex, fn = _solution(exercise_id)
    return [(c, fn(*c.args, **c.kwargs)) for c in ex.cases]


def test_regression_costs_against_sklearn_and_torch():
    for case, got in _cases("squared_errors"):
        _close(got, F.mse_loss(_t(case.args[1]), _t(case.args[0]), reduction="none").numpy())
    for case, got in _cases("mse"):
        y, p = (np.asarray(a, dtype=float) for a in case.args)
        _close(got, sklearn_metrics.mean_squared_error(y.reshape(y.shape[0], -1), p.reshape(p.shape[0], -1)))
    for case, got in _cases("mae"):
        y, p = (np.asarray(a, dtype=float) for a in case.args)
        _close(got, sklearn_metrics.mean_absolute_error(y.reshape(y.shape[0], -1), p.reshape(p.shape[0], -1)))
    for case, got in _cases("cost"):
        _close(got, math.fsum(case.args[0]) / len(case.args[0]))
    for case, got in _cases("quantile"):
        y, p, q = case.args
        _close(got, sklearn_metrics.mean_pinball_loss(y, p, alpha=q))


def test_gradients_against_torch_autograd():
    for case, got in _cases("mse_grad"):
        _close(got, _autograd(lambda y, p: F.mse_loss(p, y), *case.args, wrt=1))
    for case, got in _cases("huber_grad"):
        delta = case.kwargs.get("delta", 1.0)
        _close(got, _autograd(lambda y, p: F.huber_loss(p, y, delta=delta), *case.args, wrt=1))
    for case, got in _cases("bce_with_logits_grad"):
        _close(got, _autograd(lambda y, z: F.binary_cross_entropy_with_logits(z, y), *case.args, wrt=1))
    for case, got in _cases("softmax_cross_entropy_grad"):
        y, Z = case.args
        Zt = _t(Z, grad=True)
        F.cross_entropy(Zt, torch.tensor(np.asarray(y), dtype=torch.long)).backward()
        _close(got, Zt.grad.numpy())
    for case, got in _cases("hinge_grad"):
        y, s = (np.asarray(a, dtype=float) for a in case.args)
        if np.any(np.isclose(y * s, 1.0)):
            continue  # a kink: any subgradient is right
        _close(got, _autograd(lambda y, s: torch.clamp(1 - y * s, min=0).mean(), y, s, wrt=1))


def test_huber_and_logits_against_torch():
    for case, got in _cases("huber"):
        y, p = case.args
        _close(got, F.huber_loss(_t(p), _t(y), delta=case.kwargs.get("delta", 1.0)).item())
    for case, got in _cases("binary_cross_entropy_with_logits"):
        y, z = case.args
        _close(got, F.binary_cross_entropy_with_logits(_t(z), _t(y)).item())
    for case, got in _cases("binary_cross_entropy"):
        y, p = case.args
        if np.any((np.asarray(p) == 0) | (np.asarray(p) == 1)):
            continue  # PyTorch clamps log at -100 where we clip p: a convention, checked by bounds
        _close(got, sklearn_metrics.log_loss(y, p, labels=[0, 1]))
        _close(got, F.binary_cross_entropy(_t(p), _t(y)).item())


def test_softmax_family_against_scipy_and_torch():
    for case, got in _cases("softmax"):
        _close(got, scipy_special.softmax(case.args[0], axis=-1))
    for case, got in _cases("softmax_cross_entropy"):
        y, Z = case.args
        _close(got, F.cross_entropy(_t(Z), torch.tensor(np.asarray(y), dtype=torch.long)).item())


def test_margin_losses_against_sklearn_and_torch():
    checked = 0
    for case, got in _cases("hinge"):
        y, s = case.args
        if len(set(np.asarray(y).tolist())) == 2:
            _close(got, sklearn_metrics.hinge_loss(y, s))
            checked += 1
    assert checked >= 5
    for case, got in _cases("multiclass_hinge"):
        y, S = case.args
        n_classes = np.shape(S)[1]
        # PyTorch's multi_margin_loss divides by the number of classes; Weston-Watkins does not.
        _close(got, F.multi_margin_loss(_t(S), torch.tensor(np.asarray(y), dtype=torch.long)).item() * n_classes)


def test_log_cosh_against_torch_including_large_residuals():
    for case, got in _cases("log_cosh"):
        y, p = case.args
        r = _t(p) - _t(y)
        # log cosh r = logaddexp(r, -r) - log 2: torch's logaddexp is stable at 800.
        _close(got, (torch.logaddexp(r, -r) - math.log(2.0)).mean().item())


def test_penalties_cost_and_step_against_independent_forms():
    for case, got in _cases("l1_penalty"):
        w, lam = case.args
        _close(got, lam * np.linalg.norm(np.ravel(w), ord=1))
    for case, got in _cases("l2_penalty"):
        w, lam = case.args
        _close(got, lam * np.linalg.norm(np.ravel(w)) ** 2)
    for case, got in _cases("regularized_cost"):
        w, b, X, y, lam = case.args
        norm = 1 if case.kwargs.get("penalty") == "l1" else 2
        penalty = lam * np.linalg.norm(w, ord=norm) ** norm
        _close(got, sklearn_metrics.mean_squared_error(y, X @ w + b) + penalty)
    for case, got in _cases("gradient_descent_step"):
        w, b, X, y, lr, *rest = case.args
        lam = rest[0] if rest else 0.0
        wt, bt = _t(w, grad=True), _t(b, grad=True)
        cost = F.mse_loss(_t(X) @ wt + bt, _t(y)) + lam * (wt ** 2).sum()
        cost.backward()
        _close(got[0], (wt - lr * wt.grad).detach().numpy())
        _close(got[1], (bt - lr * bt.grad).item())
