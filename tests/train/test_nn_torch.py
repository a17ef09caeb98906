"""lossbook.nn against PyTorch CPU: same weights, same losses, gradients and optimiser steps (float64).

CI installs torch (LOSSBOOK_EXTRA_PIP) and forbids skips; on a laptop without it these skip.
"""
import numpy as np
import pytest

torch = pytest.importorskip("torch", reason="PyTorch cross-checks: pip install torch (CPU build); CI installs it")

from lossbook import data, nn  # noqa: E402

TOL = dict(rtol=1e-6, atol=1e-10)
TORCH_ACTIVATIONS = {"relu": torch.relu, "tanh": torch.tanh, "sigmoid": torch.sigmoid}


def torch_params(net):
    return {k: torch.tensor(v, dtype=torch.float64, requires_grad=True) for k, v in net.params.items()}


def torch_scores(net, params, X):
    A = torch.tensor(np.asarray(X, dtype=np.float64))
    for l in range(1, net.n_layers + 1):
        A = A @ params[f"W{l}"] + params[f"b{l}"]
        if l < net.n_layers:
            A = TORCH_ACTIVATIONS[net.activation](A)
    return A


def torch_loss(name, S, y, pos_weight=None):
    y = torch.tensor(np.asarray(y))
    if name == "cross_entropy":
        return torch.nn.CrossEntropyLoss()(S, y)
    if name == "mse":
        P = torch.softmax(S, dim=1)
        Y = torch.nn.functional.one_hot(y, S.shape[1]).to(torch.float64)
        return ((P - Y) ** 2).sum(dim=1).mean()
    weight = None if pos_weight is None else torch.tensor([pos_weight], dtype=torch.float64)
    return torch.nn.BCEWithLogitsLoss(pos_weight=weight)(S, y.to(torch.float64).reshape(-1, 1))


@pytest.mark.parametrize("activation", sorted(nn.ACTIVATIONS))
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_forward_and_backward_equal_torch(activation, loss):
    rng = np.random.default_rng(7)
    X, y = rng.normal(size=(20, 8)), rng.integers(0, 4, 20)
    net = nn.MLP((8, 6, 5, 4), activation=activation, seed=3)
    value, grads = net.loss_and_grads(X, y, loss=loss)
    params = torch_params(net)
    S = torch_scores(net, params, X)
    np.testing.assert_allclose(net.scores(X), S.detach().numpy(), **TOL)
    expected = torch_loss(loss, S, y)
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-6, abs=1e-12)
    for name, p in params.items():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), **TOL, err_msg=name)


@pytest.mark.parametrize("pos_weight", [None, 9.0])
def test_binary_cross_entropy_equals_bce_with_logits(pos_weight):
    rng = np.random.default_rng(8)
    X, y = rng.normal(size=(30, 5)), rng.integers(0, 2, 30)
    net = nn.MLP((5, 7, 1), seed=4)
    value, grads = net.loss_and_grads(X, y, loss=nn.BinaryCrossEntropy(pos_weight=pos_weight))
    params = torch_params(net)
    expected = torch_loss("binary_cross_entropy", torch_scores(net, params, X), y, pos_weight)
    expected.backward()
    assert value == pytest.approx(expected.item(), rel=1e-6, abs=1e-12)
    for name, p in params.items():
        np.testing.assert_allclose(grads[name], p.grad.numpy(), **TOL, err_msg=name)


@pytest.mark.parametrize("make", [
    (lambda: nn.SGD(0.1), lambda ps: torch.optim.SGD(ps, lr=0.1)),
    (lambda: nn.SGD(0.05, momentum=0.9), lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9)),
    (lambda: nn.Adam(0.01), lambda ps: torch.optim.Adam(ps, lr=0.01)),
], ids=["sgd", "momentum", "adam"])
def test_training_steps_equal_torch_optimisers(make):
    """Twenty mini-batch steps on the digits from the same weights: the same weights after."""
    make_ours, make_torch = make
    ds = data.digits()
    X, y = ds.X_train[:200], ds.y_train[:200]
    net = nn.MLP((64, 16, 10), seed=0)
    params = torch_params(net)
    ours, theirs = make_ours(), make_torch(list(params.values()))
    for step in range(20):
        batch = slice(10 * step, 10 * step + 10)
        _, grads = net.loss_and_grads(X[batch], y[batch])
        ours.step(net.params, grads)
        theirs.zero_grad()
        torch_loss("cross_entropy", torch_scores(net, params, X[batch]), y[batch]).backward()
        theirs.step()
    for name, p in params.items():
        np.testing.assert_allclose(net.params[name], p.detach().numpy(), **TOL, err_msg=name)
