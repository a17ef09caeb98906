r"""Small neural networks in numpy, with every backward pass written out by hand.

A multi-layer perceptron (MLP) is a stack of dense layers. With ``A₀ = X`` (n examples,
one per row) and layers ``l = 1 … L``:

.. math::
    Z_l = A_{l-1} W_l + b_l, \qquad A_l = f(Z_l) \;(l < L), \qquad S = Z_L

``S`` holds the **scores** (logits), one row per example; there is no activation on the
last layer, because the loss turns scores into probabilities itself (softmax for
cross-entropy), which is both simpler and numerically stable. For one hidden ReLU layer
and softmax cross-entropy, the equations of lesson 09 are, line by line:

.. math::
    H = \mathrm{relu}(X W_1 + b_1), \quad S = H W_2 + b_2, \quad P = \mathrm{softmax}(S),
    \quad L = -\frac1n \sum_i \log P_{i, y_i}

    \frac{\partial L}{\partial S} = \frac{P - Y}{n}, \quad
    \frac{\partial L}{\partial W_2} = H^\top \frac{\partial L}{\partial S}, \quad
    \frac{\partial L}{\partial b_2} = \sum_i \Big(\frac{\partial L}{\partial S}\Big)_i, \quad
    \frac{\partial L}{\partial H} = \frac{\partial L}{\partial S} W_2^\top, \quad
    \frac{\partial L}{\partial Z_1} = \frac{\partial L}{\partial H} \odot [Z_1 > 0]

and so on down to :math:`\partial L/\partial W_1 = X^\top \partial L/\partial Z_1`
(Y is the one-hot matrix of the labels). :meth:`MLP.forward` and :meth:`MLP.backward`
are exactly these lines in a loop over the layers. No automatic differentiation: the
tests check every backward pass against :func:`lossbook.gradcheck.numeric_gradient` and
against PyTorch's autograd (to 1e-6 in float64).

API (stable: lessons 09–11 and their explorers build on it)
-----------------------------------------------------------
``MLP(sizes, *, activation="relu", seed=0, dtype="float64")``
    ``sizes = (n_inputs, hidden..., n_outputs)``; parameters in ``net.params``, a dict
    ``{"W1", "b1", "W2", "b2", …}`` (``W_l`` of shape (fan_in, fan_out), rows × columns as
    in ``X @ W``); ``forward(X) -> (S, cache)``, ``backward(dS, cache) -> grads`` (same
    keys), ``scores(X)``, ``loss_and_grads(X, y, loss=...) -> (loss, grads)``,
    ``predict(X)``, ``predict_proba(X, loss=...)``, ``copy()``.
Losses on the scores: ``"cross_entropy"`` (softmax, integer labels 0..K−1), ``"mse"``
    (squared error of the softmax probabilities against one-hot targets, summed over the
    K classes and averaged over examples: the Brier score), ``"binary_cross_entropy"``
    (one output, sigmoid, labels 0/1; optional ``pos_weight`` via
    ``BinaryCrossEntropy(pos_weight=...)``). Any object with ``value_and_grad(y, S)``,
    ``proba(S)`` and ``predict(S)`` works too (see :class:`CrossEntropy`).
``SGD(lr, *, momentum=0.0)``, ``Adam(lr=1e-3, *, betas=(0.9, 0.999), eps=1e-8)``
    ``step(params, grads)`` updates the parameters in place, with PyTorch's update rules
    (``torch.optim.SGD`` without dampening or Nesterov, ``torch.optim.Adam``).
``train(net, X, y, *, loss, optimizer, epochs, batch_size, seed, validation) -> History``
    Mini-batch training, reshuffled every epoch from ``seed``; ``History`` has one entry
    per epoch (epoch 0 = before training) of the losses and accuracies on the training
    and validation data, and the validation predictions.
``epochs_to_accuracy(history, target)``: the first epoch whose validation accuracy
    reaches ``target`` (None if none does).

Precision: float64 (default) or float32, chosen once per network; the data are cast to
it. Initialisation: He (``N(0, 2/fan_in)``) for ReLU, Glorot-style ``N(0, 1/fan_in)`` for
tanh and sigmoid, biases 0, drawn from ``numpy.random.default_rng(seed)``.
"""
from __future__ import annotations

import contextlib
import numbers
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "ACTIVATIONS", "LOSSES", "MLP", "CrossEntropy", "SquaredError", "BinaryCrossEntropy",
    "get_loss", "SGD", "Adam", "History", "train", "accuracy", "epochs_to_accuracy",
    "one_hot", "softmax",
]


# --- activations: f(z) and its derivative f'(z) -------------------------------------------


def _relu(z):
    return np.maximum(z, 0)


def _relu_derivative(z, a):
    return (z > 0).astype(z.dtype)           # 0 at z = 0 (PyTorch's convention)


def _tanh(z):
    return np.tanh(z)


def _tanh_derivative(z, a):
    return 1 - a * a                        # tanh' = 1 - tanh²


def _sigmoid(z):
    # exp only of non-positive numbers: no overflow for any z
    e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def _sigmoid_derivative(z, a):
    return a * (1 - a)                      # σ' = σ(1 − σ)


#: name -> (f, f') with f'(z, a) given the pre-activation z and a = f(z).
ACTIVATIONS = {
    "relu": (_relu, _relu_derivative),
    "tanh": (_tanh, _tanh_derivative),
    "sigmoid": (_sigmoid, _sigmoid_derivative),
}


# --- losses on the scores -----------------------------------------------------------------


def softmax(S):
    r"""Row-wise softmax, :math:`P_{ik} = e^{S_{ik} - m_i} / \sum_j e^{S_{ij} - m_i}` with the row maximum m."""
    E = np.exp(S - S.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def one_hot(y, n_classes: int, dtype=np.float64):
    """The (n, K) matrix Y with ``Y[i, y_i] = 1`` and zeros elsewhere."""
    Y = np.zeros((len(y), n_classes), dtype=dtype)
    Y[np.arange(len(y)), y] = 1
    return Y


class CrossEntropy:
    r"""Softmax cross-entropy on the scores, mean over examples (integer labels 0..K−1).

    .. math:: L = -\frac1n \sum_i \log \mathrm{softmax}(S_i)_{y_i}, \qquad
              \frac{\partial L}{\partial S} = \frac{P - Y}{n}

    Same as ``torch.nn.CrossEntropyLoss()`` (which also takes logits) and
    ``lossbook.losses.softmax_cross_entropy``.
    """

    name = "cross_entropy"

    def value_and_grad(self, y, S):
        n = S.shape[0]
        shifted = S - S.max(axis=1, keepdims=True)
        log_P = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
        rows = np.arange(n)
        loss = -log_P[rows, y].mean()
        dS = np.exp(log_P)                        # P
        dS[rows, y] -= 1                          # P − Y
        return float(loss), dS / n

    def proba(self, S):
        return softmax(S)

    def predict(self, S):
        return S.argmax(axis=1)


class SquaredError:
    r"""Squared error of the softmax probabilities against one-hot targets (Brier score).

    .. math:: L = \frac1n \sum_i \sum_k (P_{ik} - Y_{ik})^2, \qquad
              G = \frac{\partial L}{\partial P} = \frac{2 (P - Y)}{n}, \qquad
              \frac{\partial L}{\partial S_i} = P_i \odot \big(G_i - G_i \cdot P_i\big)

    (the last step is the softmax's Jacobian ``diag(P_i) − P_i P_iᵀ`` applied to G_i).
    Summed over the K classes, so it is K times ``lossbook.losses.mse(Y, P)``, which
    averages over every entry. With a saturated wrong prediction (P_i near a one-hot
    vector of the wrong class) the Jacobian is near 0 and so is the gradient: the
    reason this loss trains a classifier slowly (lesson 09).
    """

    name = "mse"

    def value_and_grad(self, y, S):
        n, k = S.shape
        P = softmax(S)
        R = P - one_hot(y, k, S.dtype)          # residuals r = ŷ − y
        loss = (R * R).sum() / n
        G = 2 * R / n
        dS = P * (G - (G * P).sum(axis=1, keepdims=True))
        return float(loss), dS

    def proba(self, S):
        return softmax(S)

    def predict(self, S):
        return S.argmax(axis=1)


class BinaryCrossEntropy:
    r"""Sigmoid cross-entropy on one score per example (labels 0/1), mean over examples.

    .. math:: L = -\frac1n \sum_i \big[w\, y_i \log \sigma(s_i) + (1 - y_i) \log(1 - \sigma(s_i))\big],
              \qquad \frac{\partial L}{\partial s_i} = \frac{(1 + (w - 1) y_i)\,\sigma(s_i) - w\,y_i}{n}

    with ``pos_weight`` w (1 by default), as ``torch.nn.BCEWithLogitsLoss(pos_weight=w)``. Scores of shape (n, 1) or (n,).
    """

    name = "binary_cross_entropy"

    def __init__(self, pos_weight: float | None = None):
        if pos_weight is not None:
            if isinstance(pos_weight, bool) or not isinstance(pos_weight, numbers.Real) \
                    or not np.isfinite(pos_weight) or pos_weight <= 0:
                raise ValueError(f"BinaryCrossEntropy: pos_weight must be a positive number, "
                                 f"got {pos_weight!r}; e.g. n_negative / n_positive")
        self.pos_weight = 1.0 if pos_weight is None else float(pos_weight)

    def value_and_grad(self, y, S):
        s = S.reshape(len(S))
        yf = y.astype(S.dtype)
        w = self.pos_weight
        log_p = -(np.maximum(-s, 0) + np.log1p(np.exp(-np.abs(s))))       # log σ(s), stable
        log_not_p = log_p - s                                              # log(1 − σ(s))
        loss = -(w * yf * log_p + (1 - yf) * log_not_p).mean()
        ds = ((1 + (w - 1) * yf) * _sigmoid(s) - w * yf) / len(s)
        return float(loss), ds.reshape(S.shape)

    def proba(self, S):
        return _sigmoid(S.reshape(len(S)))

    def predict(self, S):
        return (S.reshape(len(S)) > 0).astype(np.int64)


#: The losses known by name.
LOSSES = {"cross_entropy": CrossEntropy, "mse": SquaredError,
          "binary_cross_entropy": BinaryCrossEntropy}


def get_loss(loss):
    """A loss object from a name in :data:`LOSSES`, or ``loss`` itself if it has ``value_and_grad``."""
    if isinstance(loss, str):
        if loss not in LOSSES:
            raise ValueError(f"loss must be one of {sorted(LOSSES)} or an object with "
                             f"value_and_grad(y, S), got {loss!r}")
        return LOSSES[loss]()
    if all(hasattr(loss, attr) for attr in ("value_and_grad", "proba", "predict")):
        return loss
    raise TypeError(f"loss must be a name in {sorted(LOSSES)} or an object with value_and_grad(y, S), "
                    f"proba(S) and predict(S), got {type(loss).__name__}")


# --- the network ---------------------------------------------------------------------------


def _check_dtype(dtype) -> np.dtype:
    if dtype not in ("float64", "float32", np.float64, np.float32):
        raise ValueError(f"dtype must be 'float64' or 'float32', got {dtype!r}")
    return np.dtype(dtype)


class MLP:
    """A multi-layer perceptron: dense layers, one activation between them, scores out.

    Parameters
    ----------
    sizes : sequence of int
        ``(n_inputs, hidden_1, …, n_outputs)``, at least two numbers, each ≥ 1.
        ``(64, 10)`` is softmax regression; ``(64, 32, 10)`` has one hidden layer.
    activation : {"relu", "tanh", "sigmoid"}, default "relu"
        The activation after every layer but the last.
    seed : int, default 0
        Seed of the initial weights.
    dtype : {"float64", "float32"}, default "float64"

    Examples
    --------
    >>> net = MLP((4, 3, 2), seed=0)
    >>> sorted(net.params), net.params["W1"].shape, net.params["b2"].shape
    (['W1', 'W2', 'b1', 'b2'], (4, 3), (2,))
    >>> X, y = np.ones((5, 4)), np.array([0, 1, 1, 0, 1])
    >>> loss, grads = net.loss_and_grads(X, y)
    >>> grads["W1"].shape
    (4, 3)
    """

    def __init__(self, sizes, *, activation: str = "relu", seed: int = 0, dtype="float64"):
        try:
            sizes = tuple(sizes)
        except TypeError:
            raise TypeError(f"sizes must be a sequence of layer widths, e.g. (64, 32, 10), got {sizes!r}") from None
        if len(sizes) < 2 or not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) and s >= 1
                                     for s in sizes):
            raise ValueError(f"sizes must be at least two whole numbers ≥ 1 (inputs, …, outputs), got {sizes!r}; "
                             "e.g. (64, 32, 10)")
        if activation not in ACTIVATIONS:
            raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}")
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise TypeError(f"seed must be a non-negative whole number, got {seed!r}")
        self.sizes = tuple(int(s) for s in sizes)
        self.activation = activation
        self.dtype = _check_dtype(dtype)
        self.seed = int(seed)
        self._f, self._f_prime = ACTIVATIONS[activation]
        rng = np.random.default_rng(seed)
        gain = 2.0 if activation == "relu" else 1.0
        self.params: dict[str, np.ndarray] = {}
        for l, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:]), start=1):
            W = rng.standard_normal((fan_in, fan_out)) * np.sqrt(gain / fan_in)
            self.params[f"W{l}"] = W.astype(self.dtype)
            self.params[f"b{l}"] = np.zeros(fan_out, dtype=self.dtype)

    @property
    def n_layers(self) -> int:
        """L, the number of dense layers (weight matrices)."""
        return len(self.sizes) - 1

    def _as_input(self, X) -> np.ndarray:
        X = np.asarray(X, dtype=self.dtype)
        if X.ndim != 2 or X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have shape (n, {self.sizes[0]}) for this network, got {X.shape}")
        return X

    def forward(self, X):
        """Scores ``S`` (n, n_outputs) and the cache the backward pass needs.

        ``Z_l = A_{l-1} @ W_l + b_l``; ``A_l = f(Z_l)`` for every layer but the last.
        """
        A = self._as_input(X)
        cache = []
        for l in range(1, self.n_layers + 1):
            Z = A @ self.params[f"W{l}"] + self.params[f"b{l}"]
            cache.append((A, Z))                  # the layer's input and pre-activation
            A = self._f(Z) if l < self.n_layers else Z
        return A, cache

    def backward(self, dS, cache):
        """Gradients of the loss with respect to every parameter, from ``dS = ∂L/∂S``.

        Going down the layers: ``∂L/∂W_l = A_{l-1}ᵀ dZ_l``, ``∂L/∂b_l = Σ_i (dZ_l)_i``,
        ``∂L/∂A_{l-1} = dZ_l W_lᵀ``, then ``dZ_{l-1} = ∂L/∂A_{l-1} ⊙ f'(Z_{l-1})``.
        """
        grads = {}
        dZ = dS
        for l in range(self.n_layers, 0, -1):
            A_prev, _ = cache[l - 1]
            grads[f"W{l}"] = A_prev.T @ dZ
            grads[f"b{l}"] = dZ.sum(axis=0)
            if l > 1:
                dA_prev = dZ @ self.params[f"W{l}"].T
                Z_prev = cache[l - 2][1]
                dZ = dA_prev * self._f_prime(Z_prev, A_prev)
        return dict(sorted(grads.items()))

    def scores(self, X) -> np.ndarray:
        """The scores (logits) ``S``, without keeping a cache."""
        return self.forward(X)[0]

    def loss_and_grads(self, X, y, *, loss="cross_entropy"):
        """``(loss, grads)``: one forward and one backward pass on the examples ``(X, y)``."""
        loss = get_loss(loss)
        S, cache = self.forward(X)
        value, dS = loss.value_and_grad(_as_labels(y, len(S)), S)
        return value, self.backward(dS, cache)

    def predict(self, X, *, loss="cross_entropy") -> np.ndarray:
        """Predicted labels (the largest score; score > 0 for a binary loss)."""
        return get_loss(loss).predict(self.scores(X))

    def predict_proba(self, X, *, loss="cross_entropy") -> np.ndarray:
        """Predicted probabilities (softmax rows; σ(score) for a binary loss)."""
        return get_loss(loss).proba(self.scores(X))

    def copy(self) -> "MLP":
        """An independent copy (same weights, same settings)."""
        twin = object.__new__(MLP)
        twin.__dict__.update(self.__dict__)
        twin.params = {k: v.copy() for k, v in self.params.items()}
        return twin

    def __repr__(self) -> str:
        return f"MLP(sizes={self.sizes}, activation={self.activation!r}, dtype={self.dtype.name})"


def _as_labels(y, n: int) -> np.ndarray:
    y = np.asarray(y)
    if y.shape != (n,):
        raise ValueError(f"y must hold one label per example, shape ({n},), got shape {y.shape}")
    if y.dtype.kind not in "iub":
        if y.dtype.kind == "f" and np.all(y == np.round(y)):
            return y.astype(np.int64)
        raise TypeError(f"y must be integer class labels 0..K-1, got dtype {y.dtype}")
    return y.astype(np.int64, copy=False)


# --- optimisers ----------------------------------------------------------------------------


def _check_lr(lr, name):
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"{name}: lr must be a positive number, got {lr!r}; e.g. lr=0.1")
    return float(lr)


class SGD:
    r"""Stochastic gradient descent with (heavy-ball) momentum μ, in place.

    .. math:: v \leftarrow \mu v + g, \qquad \theta \leftarrow \theta - \eta\, v

    (``torch.optim.SGD(lr=η, momentum=μ)``; with μ = 0 it is θ ← θ − η g.)
    """

    def __init__(self, lr: float, *, momentum: float = 0.0):
        self.lr = _check_lr(lr, "SGD")
        if isinstance(momentum, bool) or not isinstance(momentum, numbers.Real) or not 0 <= momentum < 1:
            raise ValueError(f"SGD: momentum must be in [0, 1), got {momentum!r}; e.g. momentum=0.9")
        self.momentum = float(momentum)
        self.velocity: dict[str, np.ndarray] = {}

    def step(self, params, grads) -> None:
        for name, g in grads.items():
            if self.momentum:
                v = self.velocity.get(name)
                v = g.copy() if v is None else self.momentum * v + g
                self.velocity[name] = v
                g = v
            params[name] -= self.lr * g


class Adam:
    r"""Adam (Kingma & Ba), in place, with bias correction, as ``torch.optim.Adam``.

    .. math:: m \leftarrow \beta_1 m + (1-\beta_1) g, \quad
              v \leftarrow \beta_2 v + (1-\beta_2) g^2, \quad
              \theta \leftarrow \theta - \eta\, \frac{m / (1-\beta_1^t)}{\sqrt{v / (1-\beta_2^t)} + \epsilon}
    """

    def __init__(self, lr: float = 1e-3, *, betas=(0.9, 0.999), eps: float = 1e-8):
        self.lr = _check_lr(lr, "Adam")
        beta1, beta2 = betas
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"Adam: betas must be in [0, 1), got {betas!r}")
        self.beta1, self.beta2, self.eps = float(beta1), float(beta2), float(eps)
        self.m: dict[str, np.ndarray] = {}
        self.v: dict[str, np.ndarray] = {}
        self.t = 0

    def step(self, params, grads) -> None:
        self.t += 1
        correction1 = 1 - self.beta1 ** self.t
        correction2 = 1 - self.beta2 ** self.t
        for name, g in grads.items():
            m = self.beta1 * self.m.get(name, 0) + (1 - self.beta1) * g
            v = self.beta2 * self.v.get(name, 0) + (1 - self.beta2) * g * g
            self.m[name], self.v[name] = m, v
            params[name] -= self.lr * (m / correction1) / (np.sqrt(v / correction2) + self.eps)


# --- training ------------------------------------------------------------------------------


def accuracy(y_true, y_pred) -> float:
    """Fraction of labels predicted right."""
    return float(np.mean(np.asarray(y_true) == np.asarray(y_pred)))


@dataclass
class History:
    """What :func:`train` recorded, one entry per epoch (index 0: before training).

    ``val_*`` lists are empty without validation data. ``val_predictions[e]`` are the
    predicted labels of the validation examples after epoch e.
    """

    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    val_predictions: list = field(default_factory=list)

    def as_arrays(self) -> dict:
        """The curves as numpy arrays (predictions as an (epochs + 1, n_val) array)."""
        return {name: np.asarray(getattr(self, name)) for name in
                ("epoch", "train_loss", "train_accuracy", "val_loss", "val_accuracy", "val_predictions")}


def _evaluate(net, loss, X, y):
    S = net.scores(X)
    value, _ = loss.value_and_grad(y, S)
    predicted = loss.predict(S)
    return value, accuracy(y, predicted), predicted


def train(net: MLP, X, y, *, loss="cross_entropy", optimizer=None, epochs: int = 20,
          batch_size: int = 32, seed: int = 0, validation=None, on_epoch=None) -> History:
    """Train ``net`` in place with mini-batches; return the :class:`History`.

    Each epoch shuffles the training examples (``numpy.random.default_rng(seed)``, the
    same order for the same seed), cuts them into batches of ``batch_size`` (the last
    one smaller), and takes one optimiser step per batch on the batch's mean loss.
    After each epoch the loss and accuracy are measured on all training data and on
    ``validation = (X_val, y_val)``.

    Parameters
    ----------
    net : MLP
    X, y : arrays of shape (n, n_inputs) and (n,)
    loss : name in :data:`LOSSES` or a loss object, default "cross_entropy"
    optimizer : SGD or Adam, default ``SGD(0.1)``
    epochs : int, default 20
    batch_size : int, default 32
    seed : int, default 0
        Seed of the shuffling (the weights' seed is the network's).
    validation : (X_val, y_val), optional
    on_epoch : callable, optional
        Called as ``on_epoch(epoch, history)`` after each epoch (epoch 0 included).
    """
    loss = get_loss(loss)
    optimizer = SGD(0.1) if optimizer is None else optimizer
    for name, value, low in (("epochs", epochs, 0), ("batch_size", batch_size, 1), ("seed", seed, 0)):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < low:
            raise ValueError(f"train: {name} must be a whole number ≥ {low}, got {value!r}")
    X = net._as_input(X)
    y = _as_labels(y, len(X))
    if validation is not None:
        X_val, y_val = validation
        X_val = net._as_input(X_val)
        y_val = _as_labels(y_val, len(X_val))
    rng = np.random.default_rng(seed)
    history = History()

    def record(epoch):
        history.epoch.append(epoch)
        value, acc, _ = _evaluate(net, loss, X, y)
        history.train_loss.append(value)
        history.train_accuracy.append(acc)
        if validation is not None:
            value, acc, predicted = _evaluate(net, loss, X_val, y_val)
            history.val_loss.append(value)
            history.val_accuracy.append(acc)
            history.val_predictions.append(predicted)
        if on_epoch is not None:
            on_epoch(epoch, history)

    with one_blas_thread():
        record(0)
        n = len(X)
        for epoch in range(1, epochs + 1):
            order = rng.permutation(n)
            for start in range(0, n, batch_size):
                batch = order[start:start + batch_size]
                _, grads = net.loss_and_grads(X[batch], y[batch], loss=loss)
                optimizer.step(net.params, grads)
            record(epoch)
    return history


@contextlib.contextmanager
def one_blas_thread():
    """Limit BLAS to one thread (threadpoolctl) while training small networks.

    The matrices here are small (a thousand rows by 64 columns at most): splitting each
    product over several threads costs more in hand-offs than it saves, ten times more
    on a busy two-core machine. Without threadpoolctl nothing is limited.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a runtime dependency
        yield
        return
    with threadpool_limits(limits=1, user_api="blas"):
        yield


def epochs_to_accuracy(history: History, target: float):
    """The first epoch whose validation accuracy is at least ``target``, or None."""
    for epoch, acc in zip(history.epoch, history.val_accuracy):
        if acc >= target:
            return epoch
    return None
