"""Lesson 04, cross-entropy: binary on probabilities and on logits, softmax, categorical."""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.exercises import cases
from lossbook.exercises.model import Exercise, GradientSpec, Misconception

LESSON = "04_cross_entropy"
#: The learner may clip probabilities with any epsilon in this range.
EPS_RANGE = (1e-15, 1e-7)


def _f(x):
    return np.asarray(x, dtype=float)


def _bce_bounds(case):
    values = [losses.binary_cross_entropy(*case.args, eps=eps) for eps in EPS_RANGE]
    return min(values), max(values)


def _naive_bce_terms(y, p):
    y, p = _f(y), _f(p)
    return -(y * np.log(p) + (1 - y) * np.log(1 - p))


BINARY_CROSS_ENTROPY = Exercise(
    id="binary_cross_entropy",
    title="Binary cross-entropy on probabilities",
    lesson=LESSON,
    params="y_true, p",
    docstring="""Binary cross-entropy: the mean over examples of -[y log p + (1 - y) log(1 - p)].

Must stay finite when p is exactly 0 or 1: clip p to [eps, 1 - eps] first
(any eps between 1e-15 and 1e-7 is accepted).

Parameters
----------
y_true : numpy array of labels in {0, 1}
p : numpy array, same shape, predicted probability of class 1

Returns
-------
float""",
    reference=lambda y, p: losses.binary_cross_entropy(y, p, eps=1e-12),
    output="scalar",
    bounds=_bce_bounds,
    build_cases=lambda: cases.binary_probabilities(401),
    hints=(
        "For a label 1 the loss is -log p; for a label 0 it is -log(1 - p). One formula covers both because y is 0 or 1.",
        "log(0) is -inf: clip p into [eps, 1 - eps] (np.clip, eps = 1e-12) before taking logs, then average.",
        "p = np.clip(p, 1e-12, 1 - 1e-12); return float(np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))))",
    ),
    misconceptions=(
        Misconception("no clip", lambda y, p: float(np.mean(_naive_bce_terms(y, p))),
                      "log(0): clip probabilities or work with logits (p is exactly 0 or 1 in some examples)"),
        Misconception("swapped", lambda y, p: float(np.mean(_naive_bce_terms(y, 1 - np.clip(_f(p), 1e-12, 1 - 1e-12)))),
                      "labels and probabilities are paired the wrong way round: p is the probability of class 1, so y = 1 goes with log p"),
        Misconception("no minus", lambda y, p: -float(np.mean(_naive_bce_terms(y, np.clip(_f(p), 1e-12, 1 - 1e-12)))),
                      "the loss came out negative: cross-entropy is −[y log p + (1 − y) log(1 − p)], note the minus"),
        Misconception("sum", lambda y, p: float(np.sum(_naive_bce_terms(y, np.clip(_f(p), 1e-12, 1 - 1e-12)))),
                      "exactly n times too large: did you sum instead of averaging?"),
    ),
    solution='''def binary_cross_entropy(y_true, p):
    eps = 1e-12
    p = np.clip(np.asarray(p, dtype=float), eps, 1 - eps)
    return float(np.mean(-(y_true * np.log(p) + (1 - y_true) * np.log(1 - p))))
''',
    forbidden=(
        "lossbook.losses.binary_cross_entropy",
        "sklearn.metrics.log_loss",
        "torch.nn.functional.binary_cross_entropy",
    ),
)


def _stable_bce_logits(y, z):
    y, z = _f(y), _f(z)
    return np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))


def _sigmoid_naive(z):
    return 1 / (1 + np.exp(-_f(z)))


BCE_WITH_LOGITS = Exercise(
    id="binary_cross_entropy_with_logits",
    title="Binary cross-entropy on logits, computed stably",
    lesson=LESSON,
    params="y_true, z",
    docstring="""Binary cross-entropy from logits z (p = sigmoid(z)), stable for any z:

    L = max(z, 0) - z * y + log(1 + exp(-|z|)),   averaged over examples.

Parameters
----------
y_true : numpy array of labels in {0, 1}
z : numpy array, same shape, logits (raw scores; may be as large as +-1000)

Returns
-------
float""",
    reference=lambda y, z: losses.binary_cross_entropy_with_logits(y, z),
    output="scalar",
    build_cases=lambda: cases.binary_logits(402),
    hints=(
        "Computing p = sigmoid(z) and then log p fails for z = ±1000: p rounds to exactly 0 or 1.",
        "Rewrite -[y log σ(z) + (1-y) log(1-σ(z))] as log(1 + e^z) - y z, then make log(1 + e^z) safe: it equals max(z, 0) + log(1 + e^(-|z|)).",
        "return float(np.mean(np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))))",
    ),
    misconceptions=(
        Misconception("via probabilities", lambda y, z: float(np.mean(_naive_bce_terms(y, _sigmoid_naive(z)))),
                      "log(0): clip probabilities or work with logits: σ(±1000) rounds to exactly 0 or 1, so use "
                      "max(z, 0) − z·y + log(1 + e^(−|z|)) instead of forming p"),
        Misconception("exp overflow", lambda y, z: float(np.mean(np.log1p(np.exp(_f(z))) - _f(z) * _f(y))),
                      "exp overflowed: e^z is inf for z = 1000; use max(z, 0) + log(1 + e^(−|z|)) for log(1 + e^z)"),
        Misconception("y=1 formula", lambda y, z: float(np.mean(np.maximum(-_f(z), 0) + np.log1p(np.exp(-np.abs(_f(z)))))),
                      "this is the loss for label 1 on every example: the −z·y term must use each example's label"),
        Misconception("sum", lambda y, z: float(np.sum(_stable_bce_logits(y, z))),
                      "exactly n times too large: did you sum instead of averaging?"),
    ),
    solution='''def binary_cross_entropy_with_logits(y_true, z):
    z = np.asarray(z, dtype=float)
    per_example = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
    return float(np.mean(per_example))
''',
    forbidden=(
        "lossbook.losses.binary_cross_entropy_with_logits",
        "torch.nn.functional.binary_cross_entropy_with_logits",
    ),
)


def _sigmoid(z):
    return losses.sigmoid(z)


BCE_WITH_LOGITS_GRAD = Exercise(
    id="bce_with_logits_grad",
    title="Gradient of binary cross-entropy with respect to the logits",
    lesson=LESSON,
    params="y_true, z",
    docstring="""Gradient of the mean binary cross-entropy with respect to the logits:

    d cost / d z_i = (sigmoid(z_i) - y_i) / n.

Parameters
----------
y_true : numpy array of labels in {0, 1}
z : numpy array, same shape, logits (may be as large as +-1000)

Returns
-------
numpy array, same shape as z""",
    reference=lambda y, z: losses.bce_with_logits_grad(y, z),
    output="array",
    build_cases=lambda: cases.binary_logits(403),
    gradient=GradientSpec(cost=lambda y, z: losses.binary_cross_entropy_with_logits(y, z), wrt=1),
    hints=(
        "Chain rule: dL/dz = dL/dp · dp/dz, and dσ/dz = σ(z)(1 - σ(z)). Most of it cancels.",
        "What is left is σ(z) - y per example; the mean adds 1/n. Compute σ without overflow for z = ±1000.",
        "p = np.where(z >= 0, 1 / (1 + np.exp(-np.abs(z))), np.exp(-np.abs(z)) / (1 + np.exp(-np.abs(z)))); return (p - y_true) / z.size",
    ),
    misconceptions=(
        Misconception("sign", lambda y, z: (_f(y) - _sigmoid(z)) / np.size(z),
                      "gradient has the wrong sign: it is σ(z) − y, not y − σ(z)"),
        Misconception("no n", lambda y, z: _sigmoid(z) - _f(y),
                      "gradient not divided by n: the cost is a mean, so each example's gradient carries 1/n"),
        Misconception("w.r.t. p", lambda y, z: (_sigmoid(z) - _f(y)) / (_sigmoid(z) * (1 - _sigmoid(z))) / np.size(z),
                      "this is the gradient with respect to p = σ(z); with respect to the logits the σ(1 − σ) cancels, leaving σ(z) − y"),
        Misconception("extra sigma'", lambda y, z: (_sigmoid(z) - _f(y)) * _sigmoid(z) * (1 - _sigmoid(z)) / np.size(z),
                      "an extra factor σ(z)(1 − σ(z)): the chain rule's σ' cancels against the log's 1/(p(1 − p))"),
    ),
    solution='''def bce_with_logits_grad(y_true, z):
    z = np.asarray(z, dtype=float)
    e = np.exp(-np.abs(z))
    p = np.where(z >= 0, 1 / (1 + e), e / (1 + e))
    return (p - y_true) / z.size
''',
    forbidden=(
        "lossbook.losses.bce_with_logits_grad",
        "torch.autograd.grad",
        "torch.Tensor.backward",
    ),
)


def _naive_softmax(z, axis=-1):
    e = np.exp(_f(z))
    return e / e.sum(axis=axis, keepdims=True)


def _stable_softmax(z, axis=-1):
    z = _f(z)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


SOFTMAX = Exercise(
    id="softmax",
    title="Softmax, computed stably",
    lesson=LESSON,
    params="z",
    docstring="""Softmax of logits: softmax(z)_k = exp(z_k - m) / sum_j exp(z_j - m), with m = max_j z_j.

Parameters
----------
z : numpy array, one vector of logits (C,) or rows of logits (n, C); logits may be +-1000

Returns
-------
numpy array, same shape as z; each row sums to 1""",
    reference=lambda z: losses.softmax(z),
    output="array",
    build_cases=lambda: cases.logit_vectors(404),
    count=lambda case: 1,
    hints=(
        "Exponentiate, then divide by the sum so that each row adds up to 1; for 2-D input, each ROW is its own distribution.",
        "np.exp(1000) is inf. Subtracting the row's maximum first changes nothing mathematically and keeps every exponent ≤ 0. "
        "Use axis=-1 with keepdims=True so it works for 1-D and 2-D alike.",
        "e = np.exp(z - z.max(axis=-1, keepdims=True)); return e / e.sum(axis=-1, keepdims=True)",
    ),
    misconceptions=(
        Misconception("no max", _naive_softmax, "exp overflowed: subtract the max first (softmax(z) = softmax(z − max z))"),
        Misconception("columns", lambda z: _stable_softmax(z, axis=0),
                      "right for 1-D input but not for 2-D: normalise each row (axis=-1), not each column"),
        Misconception("global", lambda z: np.exp(_f(z) - np.max(z)) / np.exp(_f(z) - np.max(z)).sum(),
                      "right for 1-D input but not for 2-D: each row is its own distribution; sum with axis=-1, keepdims=True"),
        Misconception("no exp", lambda z: _f(z) / _f(z).sum(axis=-1, keepdims=True),
                      "forgot the exponential: softmax is e^(z_k) / Σ_j e^(z_j)"),
    ),
    solution='''def softmax(z):
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)
''',
    forbidden=(
        "lossbook.losses.softmax",
        "scipy.special.softmax",
        "torch.softmax",
        "torch.nn.functional.softmax",
    ),
)


def _log_softmax(Z):
    Z = _f(Z)
    shifted = Z - Z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _onehot(y, Z):
    Y = np.zeros(np.shape(Z))
    Y[np.arange(len(y)), np.asarray(y)] = 1.0
    return Y


def _rows(case):
    return len(case.args[0])


SOFTMAX_CROSS_ENTROPY = Exercise(
    id="softmax_cross_entropy",
    title="Softmax cross-entropy on logits",
    lesson=LESSON,
    params="y, Z",
    docstring="""Categorical cross-entropy from logits: the mean over rows of -log softmax(Z_i)[y_i].

Use log-softmax, log softmax(z)_k = z_k - m - log sum_j exp(z_j - m), so logits of +-1000 work.

Parameters
----------
y : numpy array of class indices, shape (n,)
Z : numpy array of logits, shape (n, C)

Returns
-------
float""",
    reference=lambda y, Z: losses.softmax_cross_entropy(y, Z),
    output="scalar",
    build_cases=lambda: cases.class_indices(405),
    count=_rows,
    hints=(
        "Each row's loss is minus the log of the probability the softmax gives its own class y_i.",
        "Compute log-softmax directly (log-sum-exp with the row max subtracted) and pick row i, column y_i with "
        "Z[np.arange(n), y]-style indexing; then average over rows.",
        "m = Z.max(axis=1, keepdims=True); logp = Z - m - np.log(np.exp(Z - m).sum(axis=1, keepdims=True)); "
        "return float(-np.mean(logp[np.arange(len(y)), y]))",
    ),
    misconceptions=(
        Misconception("naive", lambda y, Z: float(-np.mean(np.log(_naive_softmax(Z))[np.arange(len(y)), y])),
                      "exp overflowed: subtract the max first (use log-sum-exp for log-softmax)"),
        Misconception("sum", lambda y, Z: float(-np.sum(_log_softmax(Z)[np.arange(len(y)), y])),
                      "exactly n times too large: did you sum instead of averaging?"),
        Misconception("mean over classes", lambda y, Z: float(-np.mean(_onehot(y, Z) * _log_softmax(Z))),
                      "divided by the number of classes too: sum over classes (only the true class counts), average over rows"),
        Misconception("no minus", lambda y, Z: float(np.mean(_log_softmax(Z)[np.arange(len(y)), y])),
                      "the loss came out negative: cross-entropy is −log p of the true class, note the minus"),
    ),
    solution='''def softmax_cross_entropy(y, Z):
    Z = np.asarray(Z, dtype=float)
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-np.mean(log_p[np.arange(len(y)), y]))
''',
    forbidden=(
        "lossbook.losses.softmax_cross_entropy",
        "sklearn.metrics.log_loss",
        "torch.nn.functional.cross_entropy",
    ),
)


SOFTMAX_CROSS_ENTROPY_GRAD = Exercise(
    id="softmax_cross_entropy_grad",
    title="Gradient of softmax cross-entropy with respect to the logits",
    lesson=LESSON,
    params="y, Z",
    docstring="""Gradient of the mean softmax cross-entropy with respect to the logits:

    d cost / d Z = (softmax(Z) - Y) / n,   Y the one-hot labels, n the number of rows.

Parameters
----------
y : numpy array of class indices, shape (n,)
Z : numpy array of logits, shape (n, C)

Returns
-------
numpy array, shape (n, C)""",
    reference=lambda y, Z: losses.softmax_cross_entropy_grad(y, Z),
    output="array",
    build_cases=lambda: cases.class_indices(406),
    count=_rows,
    gradient=GradientSpec(cost=lambda y, Z: losses.softmax_cross_entropy(y, Z), wrt=1),
    hints=(
        "The result has one entry per logit. Differentiate -log softmax(z)[y] with respect to each z_k.",
        "It comes out as p_k - [k == y]: the softmax probabilities minus the one-hot label, divided by n rows.",
        "e = np.exp(Z - Z.max(axis=1, keepdims=True)); P = e / e.sum(axis=1, keepdims=True); "
        "P[np.arange(len(y)), y] -= 1; return P / len(y)",
    ),
    misconceptions=(
        Misconception("sign", lambda y, Z: (_onehot(y, Z) - _stable_softmax(Z)) / len(y),
                      "gradient has the wrong sign: it is softmax(Z) − Y, not Y − softmax(Z)"),
        Misconception("no n", lambda y, Z: _stable_softmax(Z) - _onehot(y, Z),
                      "gradient not divided by n: the cost is a mean over rows, so each row's gradient carries 1/n"),
        Misconception("no one-hot", lambda y, Z: _stable_softmax(Z) / len(y),
                      "subtract the one-hot labels: the gradient is softmax(Z) − Y"),
        Misconception("naive", lambda y, Z: (_naive_softmax(Z) - _onehot(y, Z)) / len(y),
                      "exp overflowed: subtract the max first"),
    ),
    solution='''def softmax_cross_entropy_grad(y, Z):
    Z = np.asarray(Z, dtype=float)
    e = np.exp(Z - Z.max(axis=1, keepdims=True))
    P = e / e.sum(axis=1, keepdims=True)
    P[np.arange(len(y)), y] -= 1
    return P / len(y)
''',
    forbidden=(
        "lossbook.losses.softmax_cross_entropy_grad",
        "torch.autograd.grad",
        "torch.Tensor.backward",
    ),
)

EXERCISES = (BINARY_CROSS_ENTROPY, BCE_WITH_LOGITS, BCE_WITH_LOGITS_GRAD, SOFTMAX, SOFTMAX_CROSS_ENTROPY,
             SOFTMAX_CROSS_ENTROPY_GRAD)
