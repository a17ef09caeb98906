r"""Training with losses that shape embeddings (lesson 11), numpy only.

Three things the lesson and its explorer need, each small:

- **Forces on points** (:func:`point_forces`, :func:`descent_path`): a few 2-D points in
  pairs (two "views" of the same thing); the loss (contrastive, triplet or InfoNCE) and
  its gradient with respect to every point, from :mod:`lossbook.losses`. Minus the
  gradient is the force that pulls a point towards its partner and pushes it from the rest.
- **A 2-D embedding of the digits** (:func:`train_embedding`): a
  :class:`lossbook.nn.MLP` maps each 64-pixel image to a point in the plane, trained
  with the triplet loss or with InfoNCE through the network's own backward pass
  (``dS`` = the loss's gradient with respect to the embeddings).
- **Forward vs reverse KL** (:func:`fit_gaussian_kl`): the best single Gaussian for a
  bimodal target under each direction of the divergence, by a grid search.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

import numpy as np

from lossbook import losses
from lossbook._validation import check_scalar, check_vector_rows
from lossbook.losses import embedding as embedding_losses

__all__ = [
    "LOSSES", "toy_pairs", "point_forces", "descent_path",
    "sample_triplets", "sample_class_pairs", "EmbeddingHistory", "train_embedding",
    "nearest_neighbour_accuracy", "bimodal_target", "gaussian_on_grid", "fit_gaussian_kl",
]

#: The losses :func:`point_forces` knows, by name.
LOSSES = ("contrastive", "triplet", "info_nce")


# ---------------------------------------------------------------------------
# Forces on a few 2-D points
# ---------------------------------------------------------------------------
def toy_pairs(n_pairs: int = 5, *, seed: int = 3) -> np.ndarray:
    """``2·n_pairs`` points in the plane, seeded; points ``2k`` and ``2k+1`` form pair ``k``.

    >>> toy_pairs(2).shape
    (4, 2)
    """
    rng = np.random.default_rng(seed)
    return rng.uniform(-2.0, 2.0, size=(2 * n_pairs, 2))


def _partner(n: int) -> np.ndarray:
    """Index of each point's partner: 0↔1, 2↔3, …"""
    return np.arange(n) ^ 1


def point_forces(X, loss: str, *, margin: float = 1.0, temperature: float = 0.5):
    r"""The loss of paired points and its gradient with respect to every point.

    Points ``2k`` and ``2k+1`` are a positive pair; every other point is a negative.

    - ``"contrastive"``: every pair of points ``(i, j)``, ``i < j``, with
      ``same = 1`` for partners: mean of :func:`lossbook.losses.contrastive`.
    - ``"triplet"``: every point as anchor, its partner as positive, every other point as
      negative: mean of :func:`lossbook.losses.triplet_margin` over these triplets.
    - ``"info_nce"``: queries = the points, keys = their partners (row ``i`` of the
      keys is the partner of point ``i``): :func:`lossbook.losses.info_nce`.

    Returns
    -------
    (float, ndarray)
        The loss and its gradient, shaped like ``X``.
    """
    X, margin, temperature = _check_points(X, loss, margin, temperature, "point_forces")
    return _forces(X, loss, margin, temperature)


def _check_points(X, loss, margin, temperature, func):
    """Validate the arguments of :func:`point_forces` once (the descent loop does not)."""
    if loss not in LOSSES:
        raise ValueError(f"{func}: loss must be one of {LOSSES}, got {loss!r}")
    X = check_vector_rows(X, "X", func, matrix=True).astype(float, copy=False)
    if X.shape[0] < 2 or X.shape[0] % 2:
        raise ValueError(f"{func}: X must hold an even number (≥ 2) of points, pairs "
                         f"(2k, 2k+1), got {X.shape[0]} rows; drop or add a point")
    margin = check_scalar(margin, "margin", func, low=0.0,
                          fix="margin is how far apart different pairs must be, e.g. 1.0")
    temperature = check_scalar(temperature, "temperature", func, low=0.0, low_open=True,
                               fix="temperature scales the similarities, e.g. 0.5")
    if loss == "info_nce" and not (np.linalg.norm(X, axis=1) > 0.0).all():
        row = int(np.flatnonzero(~(np.linalg.norm(X, axis=1) > 0.0))[0])
        raise ValueError(f"{func}: with InfoNCE every point must be a non-zero vector (only "
                         f"directions count), got an all-zero row at index {row}; move it")
    return X, margin, temperature


def _forces(X: np.ndarray, loss: str, margin: float, temperature: float):
    """:func:`point_forces` on checked arguments: the losses' unchecked ``*_terms``
    functions, the same arithmetic as the public ones (a descent path calls this 61 times)."""
    n = X.shape[0]
    partner = _partner(n)
    grad = np.zeros_like(X)
    if loss == "contrastive":
        i, j, same = _pair_indices(n)
        diff = X[i] - X[j]
        d = np.linalg.norm(diff, axis=1)
        terms, g = embedding_losses.contrastive_terms(d, same, margin)
        g = g * (1.0 / d.size)
        unit = np.divide(diff, d[:, None], out=np.zeros_like(diff), where=d[:, None] > 0)
        np.add.at(grad, i, g[:, None] * unit)
        np.add.at(grad, j, -g[:, None] * unit)
        return float(terms.sum()) / terms.size, grad
    if loss == "triplet":
        a, p, k = _triplet_indices(n)
        terms, (ga, gp, gn) = embedding_losses.triplet_terms(X[a], X[p], X[k], margin,
                                                            scale=1.0 / a.size)
        np.add.at(grad, a, ga)
        np.add.at(grad, p, gp)
        np.add.at(grad, k, gn)
        return float(terms.sum()) / terms.size, grad
    norms = np.linalg.norm(X, axis=1)
    if not (norms > 0.0).all():
        raise ValueError("point_forces: a point reached the origin during the descent; "
                         "InfoNCE needs non-zero vectors: use a smaller lr")
    terms, (dq, dk) = embedding_losses.info_nce_terms(X, X[partner], norms, norms[partner],
                                                      temperature, scale=1.0 / n)
    grad += dq
    np.add.at(grad, partner, dk)
    return float(terms.sum()) / terms.size, grad


def _read_only(*arrays):
    for array in arrays:
        array.flags.writeable = False      # cached: shared by every later call
    return arrays


@functools.lru_cache(maxsize=8)
def _pair_indices(n: int):
    """Every pair ``(i, j)``, ``i < j``, of ``n`` paired points and ``same`` (1 for partners)."""
    i, j = np.triu_indices(n, k=1)
    return _read_only(i, j, (_partner(n)[i] == j).astype(float))


@functools.lru_cache(maxsize=8)
def _triplet_indices(n: int):
    """(anchor, positive, negative) indices of every triplet among ``n`` paired points."""
    partner = _partner(n)
    anchor = np.repeat(np.arange(n), n)
    negative = np.tile(np.arange(n), n)
    keep = (negative != anchor) & (negative != partner[anchor])
    a, k = anchor[keep], negative[keep]
    return _read_only(a, partner[a], k)


def descent_path(X, loss: str, *, steps: int, lr: float = 0.5, margin: float = 1.0,
                 temperature: float = 0.5):
    """Positions and loss along ``steps`` steps of gradient descent on :func:`point_forces`.

    Each point moves by ``−lr·n·∂L/∂x`` (``n`` = number of points, so that the step of
    one point does not shrink as points are added). InfoNCE sees only directions, so for
    it the points start on the unit circle and are put back on it after every step
    (projected gradient descent), and the step is ``lr·τ`` (its gradient grows like 1/τ).

    The arguments are checked once; the steps call the losses' unchecked kernels.

    Returns
    -------
    positions : ndarray, shape (steps + 1, n, 2)
    loss : ndarray, shape (steps + 1,)
    """
    X, margin, temperature = _check_points(X, loss, margin, temperature, "descent_path")
    X = np.array(X, dtype=float)
    on_circle = loss == "info_nce"
    if on_circle:
        X /= np.linalg.norm(X, axis=1, keepdims=True)
        lr = lr * temperature
    positions, values = [X.copy()], []
    for _ in range(int(steps)):
        value, grad = _forces(X, loss, margin, temperature)
        values.append(value)
        X -= lr * X.shape[0] * grad
        if on_circle:
            X /= np.linalg.norm(X, axis=1, keepdims=True)
        positions.append(X.copy())
    values.append(_forces(X, loss, margin, temperature)[0])
    return np.array(positions), np.array(values)


# ---------------------------------------------------------------------------
# A 2-D embedding of the digits
# ---------------------------------------------------------------------------
def sample_triplets(y, rng, n: int):
    """``n`` random (anchor, positive, negative) index triples: positive of the anchor's
    class (not the anchor itself), negative of another class."""
    y = np.asarray(y)
    by_class = {c: np.flatnonzero(y == c) for c in np.unique(y)}
    anchor = rng.integers(0, y.size, size=n)
    positive = np.empty(n, dtype=np.int64)
    negative = np.empty(n, dtype=np.int64)
    for t, a in enumerate(anchor):
        same = by_class[y[a]]
        positive[t] = same[(np.searchsorted(same, a) + rng.integers(1, same.size)) % same.size]
        while True:
            k = rng.integers(0, y.size)
            if y[k] != y[a]:
                negative[t] = k
                break
    return anchor, positive, negative


def sample_class_pairs(y, rng):
    """One (query, key) pair of distinct examples per class, classes in random order:
    key ``i`` is the only key of the query's class (no false negatives in InfoNCE)."""
    y = np.asarray(y)
    classes = rng.permutation(np.unique(y))
    pairs = [rng.choice(np.flatnonzero(y == c), size=2, replace=False) for c in classes]
    pairs = np.array(pairs)
    return pairs[:, 0], pairs[:, 1]


@dataclass
class EmbeddingHistory:
    """Per epoch (epoch 0 = before training): the mean training loss of the epoch's
    batches (the loss at initialisation for epoch 0) and the validation 1-NN accuracy."""

    loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)


def nearest_neighbour_accuracy(train_embedding, y_train, embedding, y) -> float:
    """Fraction of ``embedding``'s rows whose nearest training row (Euclidean) has the same label."""
    E, T = np.asarray(embedding, dtype=float), np.asarray(train_embedding, dtype=float)
    d2 = (E**2).sum(1)[:, None] - 2 * E @ T.T + (T**2).sum(1)[None, :]
    return float(np.mean(np.asarray(y_train)[d2.argmin(axis=1)] == np.asarray(y)))


def _triplet_batch(net, X, y, rng, batch, margin):
    a, p, k = sample_triplets(y, rng, batch)
    S, cache = net.forward(np.concatenate([X[a], X[p], X[k]]))
    ea, ep, en = np.split(S, 3)
    value = losses.triplet_margin(ea, ep, en, margin=margin)
    dS = np.concatenate(losses.triplet_margin_grad(ea, ep, en, margin=margin))
    return value, net.backward(dS, cache)


def _info_nce_batch(net, X, y, rng, temperature):
    q, k = sample_class_pairs(y, rng)
    S, cache = net.forward(np.concatenate([X[q], X[k]]))
    eq, ek = np.split(S, 2)
    value = losses.info_nce(eq, ek, temperature=temperature)
    dS = np.concatenate(losses.info_nce_grad(eq, ek, temperature=temperature))
    return value, net.backward(dS, cache)


def train_embedding(X, y, *, loss: str = "triplet", epochs: int = 30, steps_per_epoch: int = 20,
                    batch: int = 64, hidden: int = 32, lr: float = 0.01, margin: float = 1.0,
                    temperature: float = 0.1, seed: int = 0, validation=None):
    """Train an MLP ``(n_features, hidden, 2)`` to embed ``X`` in the plane.

    ``loss="triplet"``: each step draws ``batch`` random triplets (anchor, a positive of
    its class, a negative of another class) and takes an Adam step on the mean triplet
    loss. ``loss="info_nce"``: each step draws one (query, key) pair of distinct images per
    class, the key being the query's positive (supervised: a same-class image plays the
    part of the second "view"), and takes an Adam step on InfoNCE.

    Returns ``(net, history)``: the trained :class:`lossbook.nn.MLP` and an
    :class:`EmbeddingHistory` (validation accuracy when ``validation=(X_val, y_val)``).
    """
    from lossbook.nn import MLP, Adam

    if loss not in ("triplet", "info_nce"):
        raise ValueError(f"train_embedding: loss must be 'triplet' or 'info_nce', got {loss!r}")
    X, y = np.asarray(X, dtype=float), np.asarray(y)
    rng = np.random.default_rng(seed)
    net = MLP((X.shape[1], hidden, 2), activation="tanh", seed=seed)
    optimizer = Adam(lr)
    history = EmbeddingHistory()

    def step():
        if loss == "triplet":
            return _triplet_batch(net, X, y, rng, batch, margin)
        return _info_nce_batch(net, X, y, rng, temperature)

    def record(epoch_losses):
        history.loss.append(float(np.mean(epoch_losses)))
        if validation is not None:
            Xv, yv = validation
            history.val_accuracy.append(nearest_neighbour_accuracy(
                _embed(net, X, loss), y, _embed(net, Xv, loss), yv))

    record([step()[0] for _ in range(steps_per_epoch)])  # epoch 0: no update
    for _ in range(epochs):
        values = []
        for _ in range(steps_per_epoch):
            value, grads = step()
            optimizer.step(net.params, grads)
            values.append(value)
        record(values)
    return net, history


def _embed(net, X, loss):
    E = net.scores(X)
    if loss == "info_nce":  # InfoNCE only sees directions: compare points on the circle
        E = E / np.linalg.norm(E, axis=1, keepdims=True)
    return E


# ---------------------------------------------------------------------------
# Forward vs reverse KL on a bimodal target
# ---------------------------------------------------------------------------
def gaussian_on_grid(x, mean: float, std: float) -> np.ndarray:
    """A normal density evaluated on the grid ``x`` and normalised to sum to 1 there."""
    x = np.asarray(x, dtype=float)
    w = np.exp(-0.5 * ((x - mean) / std) ** 2)
    return w / w.sum()


def bimodal_target(x, *, means=(-2.0, 2.0), std: float = 0.6, weights=(0.5, 0.5)) -> np.ndarray:
    """A mixture of two normal densities on the grid ``x``, normalised to sum to 1."""
    p = sum(w * gaussian_on_grid(x, m, std) for w, m in zip(weights, means))
    return p / p.sum()


def fit_gaussian_kl(x, p, direction: str, *, means=None, stds=None):
    """The Gaussian ``q`` (on the grid ``x``) closest to ``p`` in KL, by a grid search.

    ``direction="forward"`` minimises KL(p‖q) (mode-covering: ``q`` must put mass
    wherever ``p`` has some); ``"reverse"`` minimises KL(q‖p) (mode-seeking: ``q`` is
    punished for mass where ``p`` has little). Returns ``(mean, std, kl)``.
    """
    if direction not in ("forward", "reverse"):
        raise ValueError(f"fit_gaussian_kl: direction must be 'forward' or 'reverse', got {direction!r}")
    x = np.asarray(x, dtype=float)
    means = np.linspace(x.min() / 2, x.max() / 2, 121) if means is None else means
    stds = np.linspace(0.2, 4.0, 77) if stds is None else stds
    M, S = np.meshgrid(means, stds, indexing="ij")
    M, S = M.ravel(), S.ravel()
    Q = np.exp(-0.5 * ((x[None, :] - M[:, None]) / S[:, None]) ** 2)
    Q /= Q.sum(axis=1, keepdims=True)
    P = np.broadcast_to(p, Q.shape)
    with np.errstate(under="ignore"):
        kl = (losses.kl_divergence(P, Q, reduction="none") if direction == "forward"
              else losses.kl_divergence(Q, P, reduction="none"))
    best = int(np.argmin(kl))
    return float(M[best]), float(S[best]), float(kl[best])
