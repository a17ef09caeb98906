r"""When the metric is not the loss (lesson 10): imbalance, thresholds, calibration.

Numpy only, on top of :mod:`lossbook.nn` and :mod:`lossbook.losses`:

- loss objects for :func:`lossbook.nn.train` that the lesson compares:
  :class:`FocalWithLogits` (binary, one score), :class:`SmoothedCrossEntropy` (label
  smoothing) and :class:`ProbabilityMAE` (a loss robust to flipped labels);
- :func:`binary_counts`: the confusion matrix, precision, recall and F1 at a threshold;
- :func:`fit_temperature`: temperature scaling (Guo et al., 2017), fitted on held-out
  data by a one-dimensional search on ``log T``;
- :func:`train_digits`: the lesson's networks on :func:`lossbook.data.digits`, seeded.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from lossbook import losses

__all__ = ["FocalWithLogits", "SmoothedCrossEntropy", "ProbabilityMAE", "BinaryCounts",
           "binary_counts", "best_f1_threshold", "temperature_nll", "fit_temperature",
           "flip_labels", "train_digits"]


# ---------------------------------------------------------------------------
# Loss objects for lossbook.nn.train
# ---------------------------------------------------------------------------
class FocalWithLogits:
    """Binary focal loss on one score per example (:func:`lossbook.losses.focal_with_logits`)."""

    name = "focal_with_logits"

    def __init__(self, gamma: float = 2.0, alpha: float | None = None):
        self.gamma, self.alpha = gamma, alpha

    def value_and_grad(self, y, S):
        z = S.reshape(len(S))
        yf = y.astype(float)
        kw = dict(gamma=self.gamma, alpha=self.alpha)
        value = losses.focal_with_logits(yf, z, **kw)
        return float(value), losses.focal_with_logits_grad(yf, z, **kw).reshape(S.shape)

    def proba(self, S):
        return losses.sigmoid(S.reshape(len(S)))

    def predict(self, S):
        return (S.reshape(len(S)) > 0).astype(np.int64)


class SmoothedCrossEntropy:
    """Softmax cross-entropy with label smoothing ε (:func:`lossbook.losses.softmax_cross_entropy`)."""

    name = "smoothed_cross_entropy"

    def __init__(self, label_smoothing: float = 0.1):
        self.label_smoothing = label_smoothing

    def value_and_grad(self, y, S):
        kw = dict(label_smoothing=self.label_smoothing)
        return (float(losses.softmax_cross_entropy(y, S, **kw)),
                losses.softmax_cross_entropy_grad(y, S, **kw))

    def proba(self, S):
        return losses.softmax(S)

    def predict(self, S):
        return S.argmax(axis=1)


class ProbabilityMAE:
    r"""Mean absolute error between the softmax and the one-hot label, summed over classes.

    .. math:: L_i = \sum_k |P_{ik} - Y_{ik}| = 2\,(1 - P_{i, y_i}), \qquad
              \frac{\partial L_i}{\partial S_{ij}} = -2\,P_{i,y_i}\,([j = y_i] - P_{ij})

    Bounded (at most 2 per example), so one flipped label can cost at most a constant:
    the reason it is robust to label noise (Ghosh, Kumar & Sastry, 2017), and also why it
    learns slowly.
    """

    name = "mae"

    def value_and_grad(self, y, S):
        n = S.shape[0]
        P = losses.softmax(S)
        p_true = P[np.arange(n), y]
        Y = np.zeros_like(P)
        Y[np.arange(n), y] = 1.0
        dS = -2.0 * p_true[:, None] * (Y - P) / n
        return float(np.mean(2.0 * (1.0 - p_true))), dS

    def proba(self, S):
        return losses.softmax(S)

    def predict(self, S):
        return S.argmax(axis=1)


# ---------------------------------------------------------------------------
# Thresholds
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class BinaryCounts:
    """Confusion counts and the metrics made of them, at one threshold."""

    tp: int
    fp: int
    fn: int
    tn: int

    @property
    def precision(self) -> float:
        """TP / (TP + FP); 1.0 when nothing is predicted positive (no false alarm)."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        """TP / (TP + FN): the share of positives found."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        """Harmonic mean of precision and recall (0 when either is 0)."""
        total = 2 * self.tp + self.fp + self.fn
        return 2 * self.tp / total if total else 0.0

    @property
    def accuracy(self) -> float:
        return (self.tp + self.tn) / (self.tp + self.fp + self.fn + self.tn)

    @property
    def matrix(self) -> np.ndarray:
        """``[[TN, FP], [FN, TP]]``: rows true 0/1, columns predicted 0/1 (scikit-learn's layout)."""
        return np.array([[self.tn, self.fp], [self.fn, self.tp]])


def binary_counts(y_true, proba, threshold: float = 0.5) -> BinaryCounts:
    """Predict 1 where ``proba >= threshold``; count against the 0/1 labels ``y_true``."""
    y = np.asarray(y_true).astype(bool)
    predicted = np.asarray(proba, dtype=float) >= threshold
    return BinaryCounts(tp=int(np.sum(predicted & y)), fp=int(np.sum(predicted & ~y)),
                        fn=int(np.sum(~predicted & y)), tn=int(np.sum(~predicted & ~y)))


def best_f1_threshold(y_true, proba) -> float:
    """The threshold (one of the predicted probabilities) with the highest F1 on these data."""
    candidates = np.unique(np.asarray(proba, dtype=float))
    scores = [binary_counts(y_true, proba, t).f1 for t in candidates]
    return float(candidates[int(np.argmax(scores))])


# ---------------------------------------------------------------------------
# Temperature scaling
# ---------------------------------------------------------------------------
def temperature_nll(logits, y, temperature: float) -> float:
    """Mean cross-entropy of ``softmax(logits / T)`` (or of ``σ(z / T)`` for 1-D logits)."""
    z = np.asarray(logits, dtype=float) / temperature
    if z.ndim == 1:
        return float(losses.binary_cross_entropy_with_logits(np.asarray(y, dtype=float), z))
    return float(losses.softmax_cross_entropy(y, z))


def fit_temperature(logits, y, *, bounds=(0.05, 20.0), tol: float = 1e-6) -> float:
    r"""The temperature ``T`` minimising the cross-entropy of ``softmax(z / T)`` on ``(logits, y)``.

    Golden-section search on ``log T`` within ``bounds`` (the cross-entropy is a smooth
    function of ``T`` with one minimum for a classifier better than chance). Fit it on
    **validation** data: on the training data an overfitted network looks calibrated.
    Dividing every logit by the same ``T > 0`` keeps each row's largest logit the
    largest, so the predicted classes (and the accuracy) do not change.
    """
    lo, hi = np.log(bounds[0]), np.log(bounds[1])
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    fa, fb = temperature_nll(logits, y, np.exp(a)), temperature_nll(logits, y, np.exp(b))
    while hi - lo > tol:
        if fa < fb:
            hi, b, fb = b, a, fa
            a = hi - ratio * (hi - lo)
            fa = temperature_nll(logits, y, np.exp(a))
        else:
            lo, a, fa = a, b, fb
            b = lo + ratio * (hi - lo)
            fb = temperature_nll(logits, y, np.exp(b))
    return float(np.exp((lo + hi) / 2.0))


# ---------------------------------------------------------------------------
# Label noise and the lesson's networks
# ---------------------------------------------------------------------------
def flip_labels(y, fraction: float, *, n_classes: int, seed: int = 0) -> np.ndarray:
    """A copy of ``y`` with ``fraction`` of the labels replaced by a different class,
    chosen uniformly (symmetric label noise)."""
    y = np.array(y, copy=True)
    rng = np.random.default_rng(seed)
    flip = rng.permutation(y.size)[: int(round(fraction * y.size))]
    y[flip] = (y[flip] + rng.integers(1, n_classes, size=flip.size)) % n_classes
    return y


def train_digits(X, y, *, loss="cross_entropy", hidden: int = 64, epochs: int = 60,
                 lr: float = 0.003, batch_size: int = 32, seed: int = 0, n_outputs=None):
    """Train the lesson-09 network (one hidden ReLU layer; none for ``hidden=None``, a
    linear model) with Adam; return it.

    ``n_outputs`` defaults to the number of classes (1 for a binary loss object such as
    ``lossbook.nn.BinaryCrossEntropy`` or :class:`FocalWithLogits`).
    """
    from lossbook import nn

    loss_object = nn.get_loss(loss)
    if n_outputs is None:
        binary = isinstance(loss_object, (nn.BinaryCrossEntropy, FocalWithLogits))
        n_outputs = 1 if binary else int(np.max(y)) + 1
    sizes = (X.shape[1], n_outputs) if hidden is None else (X.shape[1], hidden, n_outputs)
    net = nn.MLP(sizes, seed=seed)
    nn.train(net, X, y, loss=loss_object, optimizer=nn.Adam(lr), epochs=epochs,
             batch_size=batch_size, seed=seed)
    return net
