"""lossbook.nn: every backward pass against a numeric gradient; training does what it says."""
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st

from lossbook import data, losses, nn
from lossbook.gradcheck import numeric_gradient, relative_error

ACTIVATIONS = sorted(nn.ACTIVATIONS)


def problem(sizes, n=7, seed=0, binary=False):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, sizes[0]))
    y = rng.integers(0, 2 if binary else sizes[-1], n)
    return X, y


def numeric_grads(net, X, y, loss):
    """Central differences of the loss with respect to every parameter."""
    grads = {}
    for name, value in net.params.items():
        def f(v, name=name):
            trial = net.copy()
            trial.params[name] = v
            return trial.loss_and_grads(X, y, loss=loss)[0]
        grads[name] = numeric_gradient(f, value)
    return grads


@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("sizes", [(5, 3), (5, 4, 3), (4, 6, 5, 3)])
@pytest.mark.parametrize("loss", ["cross_entropy", "mse"])
def test_backward_matches_numeric_gradient(activation, sizes, loss):
    net = nn.MLP(sizes, activation=activation, seed=1)
    X, y = problem(sizes, seed=2)
    _, grads = net.loss_and_grads(X, y, loss=loss)
    expected = numeric_grads(net, X, y, loss)
    assert sorted(grads) == sorted(net.params)
    for name in net.params:
        assert grads[name].shape == net.params[name].shape
        assert relative_error(grads[name], expected[name]) < 1e-6, name


@pytest.mark.parametrize("pos_weight", [None, 4.0])
def test_binary_cross_entropy_backward(pos_weight):
    net = nn.MLP((5, 4, 1), activation="tanh", seed=3)
    X, y = problem((5, 4, 2), n=9, seed=4, binary=True)
    loss = nn.BinaryCrossEntropy(pos_weight=pos_weight)
    _, grads = net.loss_and_grads(X, y, loss=loss)
    expected = numeric_grads(net, X, y, loss)
    for name in net.params:
        assert relative_error(grads[name], expected[name]) < 1e-6, name


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 12), k=st.integers(2, 6))
def test_score_losses_agree_with_lossbook_losses(seed, n, k):
    rng = np.random.default_rng(seed)
    S = rng.normal(scale=3.0, size=(n, k))
    y = rng.integers(0, k, n)
    value, dS = nn.CrossEntropy().value_and_grad(y, S)
    assert value == pytest.approx(losses.softmax_cross_entropy(y, S), rel=1e-12)
    np.testing.assert_allclose(dS, losses.softmax_cross_entropy_grad(y, S), rtol=1e-10, atol=1e-14)
    value, _ = nn.SquaredError().value_and_grad(y, S)
    Y = nn.one_hot(y, k)
    assert value == pytest.approx(k * losses.mse(Y, losses.softmax(S)), rel=1e-12)
    s = S[:, :1]
    yb = y % 2
    value, ds = nn.BinaryCrossEntropy().value_and_grad(yb, s)
    assert value == pytest.approx(losses.binary_cross_entropy_with_logits(yb.astype(float), s[:, 0]), rel=1e-12)
    np.testing.assert_allclose(ds[:, 0], losses.binary_cross_entropy_with_logits_grad(yb.astype(float), s[:, 0]),
                               rtol=1e-10, atol=1e-14)


def test_the_saturated_softmax_squared_error_has_a_vanishing_gradient():
    """The lesson's argument: confidently wrong, squared error barely moves, CE moves by ≈ 1/n."""
    S = np.array([[-10.0, 10.0]])             # the network says class 1 with p ≈ 1 - 2e-9
    y = np.array([0])
    _, ce = nn.CrossEntropy().value_and_grad(y, S)
    _, se = nn.SquaredError().value_and_grad(y, S)
    assert np.abs(ce).max() == pytest.approx(1.0, rel=1e-6)
    assert np.abs(se).max() < 1e-7


def test_relu_derivative_at_zero_is_zero_like_torch():
    net = nn.MLP((1, 1, 2), seed=0)
    net.params["W1"][:] = 1.0
    X = np.zeros((1, 1))                      # pre-activation exactly 0
    _, grads = net.loss_and_grads(X, np.array([0]))
    assert grads["W1"][0, 0] == 0.0 and grads["b1"][0] == 0.0


def test_initialisation_seeded_and_scaled():
    a, b, c = nn.MLP((64, 200, 10), seed=5), nn.MLP((64, 200, 10), seed=5), nn.MLP((64, 200, 10), seed=6)
    np.testing.assert_array_equal(a.params["W1"], b.params["W1"])
    assert not np.array_equal(a.params["W1"], c.params["W1"])
    assert a.params["W1"].std() == pytest.approx(np.sqrt(2 / 64), rel=0.05)     # He for ReLU
    assert nn.MLP((64, 200, 10), activation="tanh").params["W1"].std() == pytest.approx(np.sqrt(1 / 64), rel=0.05)
    assert np.all(a.params["b1"] == 0)


@pytest.fixture(scope="module")
def digits():
    return data.digits()


def test_training_on_digits_learns_and_is_deterministic(digits):
    runs = []
    for _ in range(2):
        net = nn.MLP((64, 32, 10), seed=0)
        history = nn.train(net, digits.X_train, digits.y_train, optimizer=nn.SGD(0.1, momentum=0.5),
                           epochs=8, batch_size=32, validation=(digits.X_val, digits.y_val))
        runs.append((net, history))
    (net, history), (twin, twin_history) = runs
    assert history.epoch == list(range(9))
    assert history.val_accuracy[0] < 0.3 < 0.93 < history.val_accuracy[-1]
    assert history.train_loss[-1] < history.train_loss[0] / 5
    assert history.train_loss == twin_history.train_loss
    np.testing.assert_array_equal(net.params["W2"], twin.params["W2"])
    # the recorded numbers are the network's
    assert history.val_accuracy[-1] == nn.accuracy(digits.y_val, net.predict(digits.X_val))
    np.testing.assert_array_equal(history.val_predictions[-1], net.predict(digits.X_val))
    assert history.train_loss[-1] == pytest.approx(
        losses.softmax_cross_entropy(digits.y_train, net.scores(digits.X_train)), rel=1e-12)


def test_adam_trains_too_and_float32_stays_float32(digits):
    net = nn.MLP((64, 16, 10), seed=2, dtype="float32")
    history = nn.train(net, digits.X_train, digits.y_train, optimizer=nn.Adam(0.01), epochs=5,
                       batch_size=64, validation=(digits.X_val, digits.y_val))
    assert all(p.dtype == np.float32 for p in net.params.values())
    assert net.scores(digits.X_val).dtype == np.float32
    assert history.val_accuracy[-1] > 0.9
    # float32 and float64 runs agree closely from the same start
    net64 = nn.MLP((64, 16, 10), seed=2)
    nn.train(net64, digits.X_train, digits.y_train, optimizer=nn.Adam(0.01), epochs=1, batch_size=64)
    net32 = nn.MLP((64, 16, 10), seed=2, dtype="float32")
    nn.train(net32, digits.X_train, digits.y_train, optimizer=nn.Adam(0.01), epochs=1, batch_size=64)
    np.testing.assert_allclose(net32.params["W1"], net64.params["W1"], atol=1e-4)


def test_sgd_momentum_and_adam_update_rules():
    params = {"w": np.array([1.0, -2.0])}
    g = {"w": np.array([0.5, 1.0])}
    sgd = nn.SGD(0.1, momentum=0.9)
    sgd.step(params, g)                       # v = g
    sgd.step(params, g)                       # v = 0.9 g + g
    np.testing.assert_allclose(params["w"], [1.0, -2.0] - 0.1 * (1 + 1.9) * g["w"])
    params = {"w": np.array([1.0, -2.0])}
    adam = nn.Adam(0.01)
    adam.step(params, g)                      # the first Adam step moves each weight by ≈ lr
    np.testing.assert_allclose(params["w"], [1.0 - 0.01, -2.0 - 0.01], rtol=1e-6)


def test_epochs_to_accuracy():
    history = nn.History(epoch=[0, 1, 2, 3], val_accuracy=[0.1, 0.5, 0.92, 0.95])
    assert nn.epochs_to_accuracy(history, 0.9) == 2
    assert nn.epochs_to_accuracy(history, 0.99) is None


def test_copy_is_independent():
    net = nn.MLP((3, 2, 2), seed=0)
    twin = net.copy()
    twin.params["W1"] += 1.0
    assert not np.array_equal(net.params["W1"], twin.params["W1"])
    assert repr(net) == "MLP(sizes=(3, 2, 2), activation='relu', dtype=float64)"


@pytest.mark.parametrize("build, error, match", [
    (lambda: nn.MLP((64,)), ValueError, "at least two"),
    (lambda: nn.MLP((64, 0, 10)), ValueError, "at least two whole numbers"),
    (lambda: nn.MLP(64), TypeError, "sequence of layer widths"),
    (lambda: nn.MLP((4, 2), activation="gelu"), ValueError, "activation"),
    (lambda: nn.MLP((4, 2), dtype="float16"), ValueError, "dtype"),
    (lambda: nn.MLP((4, 2), seed=-1), TypeError, "seed"),
    (lambda: nn.MLP((4, 2)).scores(np.ones((3, 5))), ValueError, r"shape \(n, 4\)"),
    (lambda: nn.MLP((4, 2)).loss_and_grads(np.ones((3, 4)), [0, 1]), ValueError, "one label per example"),
    (lambda: nn.MLP((4, 2)).loss_and_grads(np.ones((1, 4)), ["a"]), TypeError, "integer class labels"),
    (lambda: nn.MLP((4, 2)).loss_and_grads(np.ones((1, 4)), [0], loss="hinge"), ValueError, "loss must be one of"),
    (lambda: nn.SGD(0.0), ValueError, "lr must be a positive"),
    (lambda: nn.SGD(0.1, momentum=1.0), ValueError, "momentum"),
    (lambda: nn.Adam(0.1, betas=(0.9, 1.0)), ValueError, "betas"),
    (lambda: nn.BinaryCrossEntropy(pos_weight=-1), ValueError, "pos_weight"),
    (lambda: nn.train(nn.MLP((4, 2)), np.ones((3, 4)), [0, 1, 0], batch_size=0), ValueError, "batch_size"),
])
def test_bad_input_names_the_argument(build, error, match):
    with pytest.raises(error, match=match):
        build()


def test_import_lossbook_nn_loads_numpy_only():
    """Layer 2 (docs/architecture.md): no plotting, widgets, SciPy, scikit-learn or torch."""
    import json
    import subprocess
    import sys
    heavy = ["matplotlib", "ipywidgets", "scipy", "sklearn", "torch", "IPython"]
    code = f"import sys, json, lossbook; lossbook.nn.MLP; print(json.dumps([m for m in {heavy!r} if m in sys.modules]))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == []
