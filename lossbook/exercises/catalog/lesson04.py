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
        "For a label 1 the loss is −log p, for a label 0 it is −log(1 − p); one formula covers both because y is 0 or 1.",
        "BCE = −(1/n) Σ_i [y_i log p_i + (1 − y_i) log(1 − p_i)]. log(0) is −inf, so first clip p into [eps, 1 − eps] with np.clip (eps = 1e-12, say).",
        "p = np.clip(p, 1e-12, 1 - 1e-12)    # keeps log away from 0\n"
        "per_example = ____                  # -[y log p + (1 - y) log(1 - p)]\n"
        "return float(np.mean(per_example))",
    ),
    misconceptions=(
        Misconception("no clip", lambda y, p: float(np.mean(_naive_bce_terms(y, p))),
                      "log(0): clip probabilities or work with logits (p is exactly 0 or 1 in some examples)",
                      reteach='Show log(0) = −inf for a confident wrong p, then clip p to [ε, 1 − ε] (or work from logits).',
                      section='04_cross_entropy: Where naive code breaks',
                      explorer='cross_entropy'),
        Misconception("swapped", lambda y, p: float(np.mean(_naive_bce_terms(y, 1 - np.clip(_f(p), 1e-12, 1 - 1e-12)))),
                      "labels and probabilities are paired the wrong way round: p is the probability of class 1, so y = 1 goes with log p",
                      reteach='Re-derive from the Bernoulli likelihood p^y (1 − p)^(1 − y): y = 1 goes with log p.',
                      section='04_cross_entropy: Binary cross-entropy from the Bernoulli likelihood'),
        Misconception("no minus", lambda y, p: -float(np.mean(_naive_bce_terms(y, np.clip(_f(p), 1e-12, 1 - 1e-12)))),
                      "the loss came out negative: cross-entropy is −[y log p + (1 − y) log(1 − p)], note the minus",
                      reteach='Cross-entropy is a negative log-likelihood: logs of probabilities are ≤ 0, so the minus makes the loss ≥ 0.',
                      section='04_cross_entropy: Binary cross-entropy from the Bernoulli likelihood'),
        Misconception("sum", lambda y, p: float(np.sum(_naive_bce_terms(y, np.clip(_f(p), 1e-12, 1 - 1e-12)))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='04_cross_entropy: Binary cross-entropy from the Bernoulli likelihood'),
        Misconception("y and p swapped", lambda y, p: float(np.mean(_naive_bce_terms(np.clip(_f(p), 1e-12, 1 - 1e-12), y))),
                      "y_true and p are swapped in the formula: log(y) is −inf for a label 0 (and log(1 − y) for a label 1); "
                      "the logs are of the probabilities, weighted by the labels: −[y log p + (1 − y) log(1 − p)]",
                      reteach='Name the roles: y weights the terms, p goes inside the logs; taking log of labels gives log 0 for a label 0.',
                      section='04_cross_entropy: Binary cross-entropy from the Bernoulli likelihood'),
        Misconception("y and p swapped, y clipped",
                      lambda y, p: float(np.mean(_naive_bce_terms(_f(p), np.clip(_f(y), 1e-12, 1 - 1e-12)))),
                      "y_true and p are swapped in the formula (you clipped the labels and took their logs): the logs "
                      "are of the clipped probabilities, weighted by the labels: −[y log p + (1 − y) log(1 − p)]",
                      reteach='Clipping hid the swap: the logs must be of the predicted probabilities, weighted by the labels.',
                      section='04_cross_entropy: Binary cross-entropy from the Bernoulli likelihood'),
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
        "Forming p = σ(z) first and then log(1 − p) fails long before z = 1000: for a label 0, 1 − σ(z) rounds to exactly 0 from z ≈ 37 in float64. Work with z directly.",
        "−[y log σ(z) + (1 − y) log(1 − σ(z))] = log(1 + e^z) − y·z, and log(1 + e^z) = max(z, 0) + log(1 + e^(−|z|)), where e^(−|z|) ≤ 1 can never overflow (np.log1p keeps it accurate).",
        "softplus = np.maximum(z, 0) + np.log1p(np.exp(-np.abs(z)))   # log(1 + e^z), stably\n"
        "return float(np.mean(____))                                  # the loss of each example",
    ),
    misconceptions=(
        Misconception("via probabilities", lambda y, z: float(np.mean(_naive_bce_terms(y, _sigmoid_naive(z)))),
                      "log(0): clip probabilities or work with logits: σ(±1000) rounds to exactly 0 or 1, so use "
                      "max(z, 0) − z·y + log(1 + e^(−|z|)) instead of forming p",
                      reteach='Show σ(±1000) rounding to 0 or 1 in float64, then derive the stable form max(z, 0) − z·y + log(1 + e^(−|z|)).',
                      section='04_cross_entropy: Where naive code breaks',
                      explorer='cross_entropy'),
        Misconception("exp overflow", lambda y, z: float(np.mean(np.log1p(np.exp(_f(z))) - _f(z) * _f(y))),
                      "exp overflowed: e^z is inf for z = 1000; use max(z, 0) + log(1 + e^(−|z|)) for log(1 + e^z)",
                      reteach='Evaluate e^1000 (inf) live, then rewrite log(1 + e^z) as max(z, 0) + log(1 + e^(−|z|)).',
                      section='04_cross_entropy: Where naive code breaks',
                      explorer='cross_entropy'),
        Misconception("y=1 formula", lambda y, z: float(np.mean(np.maximum(-_f(z), 0) + np.log1p(np.exp(-np.abs(_f(z)))))),
                      "this is the loss for label 1 on every example: the −z·y term must use each example's label",
                      reteach="Write the per-example loss with each example's label in the −z·y term; a formula for y = 1 only ignores half the data.",
                      section='04_cross_entropy: Logits'),
        Misconception("sum", lambda y, z: float(np.sum(_stable_bce_logits(y, z))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='04_cross_entropy: Logits'),
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
        "Chain rule through p = σ(z): dℓ/dz = dℓ/dp · dp/dz with dσ/dz = σ(z)(1 − σ(z)); most of it cancels.",
        "dℓ/dz_i = σ(z_i) − y_i, and the mean adds 1/n. Compute σ without overflow: 1/(1 + e^(−z)) for z ≥ 0 and e^z/(1 + e^z) for z < 0, that is with t = e^(−|z|) ≤ 1 on both sides.",
        "t = np.exp(-np.abs(z))                          # at most 1: never overflows\n"
        "sigma = np.where(z >= 0, 1 / (1 + t), t / (1 + t))\n"
        "return ____ / z.size",
    ),
    misconceptions=(
        Misconception("sign", lambda y, z: (_f(y) - _sigmoid(z)) / np.size(z),
                      "gradient has the wrong sign: it is σ(z) − y, not y − σ(z)",
                      reteach='The gradient with respect to the logit is σ(z) − y (prediction minus target, like r = ŷ − y); check with a finite difference.',
                      section='04_cross_entropy: The gradient: $p - y$'),
        Misconception("no n", lambda y, z: _sigmoid(z) - _f(y),
                      "gradient not divided by n: the cost is a mean, so each example's gradient carries 1/n",
                      reteach='The cost averages over n examples, so the gradient is (σ(z) − y)/n.',
                      section='04_cross_entropy: The gradient: $p - y$'),
        Misconception("w.r.t. p", lambda y, z: (_sigmoid(z) - _f(y)) / (_sigmoid(z) * (1 - _sigmoid(z))) / np.size(z),
                      "this is the gradient with respect to p = σ(z); with respect to the logits the σ(1 − σ) cancels, leaving σ(z) − y",
                      reteach="Do the chain rule through p = σ(z) on the board: the σ(1 − σ) cancels the log's 1/(p(1 − p)).",
                      section='04_cross_entropy: The gradient: $p - y$'),
        Misconception("extra sigma'", lambda y, z: (_sigmoid(z) - _f(y)) * _sigmoid(z) * (1 - _sigmoid(z)) / np.size(z),
                      "an extra factor σ(z)(1 − σ(z)): the chain rule's σ' cancels against the log's 1/(p(1 − p))",
                      reteach='Show the cancellation step by step: dL/dp · dp/dz = (p − y)/(p(1 − p)) · p(1 − p) = p − y.',
                      section='04_cross_entropy: The gradient: $p - y$'),
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
z : numpy array, one vector of logits (K,) or rows of logits (n, K), K classes; logits may be +-1000

Returns
-------
numpy array, same shape as z; each row sums to 1""",
    reference=lambda z: losses.softmax(z),
    output="array",
    build_cases=lambda: cases.logit_vectors(404),
    count=lambda case: 1,
    hints=(
        "Exponentiate, then divide by the sum so that each row adds up to 1; for 2-D input each ROW is its own distribution.",
        "softmax(z)_k = e^(z_k − m) / Σ_j e^(z_j − m) with m = max_j z_j: subtracting the row's maximum changes nothing and keeps every exponent ≤ 0. axis=-1 with keepdims=True works for 1-D and 2-D alike.",
        "shifted = z - z.max(axis=-1, keepdims=True)    # every entry <= 0\n"
        "exps = np.exp(shifted)\n"
        "return ____                                    # each row divided by its own sum",
    ),
    misconceptions=(
        Misconception("no max", _naive_softmax, "exp overflowed: subtract the max first (softmax(z) = softmax(z − max z))",
                      reteach='Show e^1000 overflowing, then that softmax(z − max z) = softmax(z): subtracting the max is free and safe.',
                      section='04_cross_entropy: Where naive code breaks',
                      explorer='cross_entropy'),
        Misconception("columns", lambda z: _stable_softmax(z, axis=0),
                      "right for 1-D input but not for 2-D: normalise each row (axis=-1), not each column",
                      reteach="Each row is one example's distribution: normalise with axis=-1 and check that every row sums to 1.",
                      section='04_cross_entropy: Categorical cross-entropy with the softmax'),
        Misconception("global", lambda z: np.exp(_f(z) - np.max(z)) / np.exp(_f(z) - np.max(z)).sum(),
                      "right for 1-D input but not for 2-D: each row is its own distribution; sum with axis=-1, keepdims=True",
                      reteach='Show that summing the whole array mixes examples; each row needs its own sum (axis=-1, keepdims=True).',
                      section='04_cross_entropy: Categorical cross-entropy with the softmax'),
        Misconception("no exp", lambda z: _f(z) / _f(z).sum(axis=-1, keepdims=True),
                      "forgot the exponential: softmax is e^(z_k) / Σ_j e^(z_j)",
                      reteach='Softmax exponentiates first so every score becomes a positive weight; dividing raw logits fails for negative ones.',
                      section='04_cross_entropy: Categorical cross-entropy with the softmax',
                      explorer='cross_entropy'),
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
y : numpy array of class indices in 0..K-1, shape (n,)
Z : numpy array of logits, shape (n, K), K classes

Returns
-------
float""",
    reference=lambda y, Z: losses.softmax_cross_entropy(y, Z),
    output="scalar",
    build_cases=lambda: cases.class_indices(405),
    count=_rows,
    hints=(
        "Each row's loss is minus the log of the probability the softmax gives its own class y_i. Compute the log-probabilities directly rather than taking the log of a softmax that may round to 0.",
        "log softmax(z)_k = z_k − m − log Σ_j e^(z_j − m), m the row's maximum. Pick row i, column y_i with log_p[np.arange(n), y], average over the n rows, and negate.",
        "shifted = Z - Z.max(axis=1, keepdims=True)\n"
        "log_p = shifted - ____      # minus each row's log Σ_j e^shifted_j\n"
        "chosen = log_p[np.arange(len(y)), y]     # each row's log-probability of its own class\n"
        "return ____",
    ),
    misconceptions=(
        Misconception("naive", lambda y, Z: float(-np.mean(np.log(_naive_softmax(Z))[np.arange(len(y)), y])),
                      "exp overflowed: subtract the max first (use log-sum-exp for log-softmax)",
                      reteach='Build log-softmax with log-sum-exp (z − max z − log Σ e^(z − max z)) instead of log(softmax(z)).',
                      section='04_cross_entropy: Where naive code breaks',
                      explorer='cross_entropy'),
        Misconception("sum", lambda y, Z: float(-np.sum(_log_softmax(Z)[np.arange(len(y)), y])),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='04_cross_entropy: Categorical cross-entropy with the softmax'),
        Misconception("mean over classes", lambda y, Z: float(-np.mean(_onehot(y, Z) * _log_softmax(Z))),
                      "divided by the number of classes too: sum over classes (only the true class counts), average over rows",
                      reteach="Only the true class's −log p counts per row; average over rows (n), never over classes (K).",
                      section='04_cross_entropy: Categorical cross-entropy with the softmax'),
        Misconception("no minus", lambda y, Z: float(np.mean(_log_softmax(Z)[np.arange(len(y)), y])),
                      "the loss came out negative: cross-entropy is −log p of the true class, note the minus",
                      reteach='It is a negative log-likelihood: −log p of the true class, ≥ 0, 0 only for a certain right answer.',
                      section='04_cross_entropy: Categorical cross-entropy with the softmax'),
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
y : numpy array of class indices in 0..K-1, shape (n,)
Z : numpy array of logits, shape (n, K), K classes

Returns
-------
numpy array, shape (n, K)""",
    reference=lambda y, Z: losses.softmax_cross_entropy_grad(y, Z),
    output="array",
    build_cases=lambda: cases.class_indices(406),
    count=_rows,
    gradient=GradientSpec(cost=lambda y, Z: losses.softmax_cross_entropy(y, Z), wrt=1),
    hints=(
        "One entry per logit: differentiate −log softmax(z)[y] with respect to every z_k, the true class's and the others.",
        "∂ℓ/∂z_k = p_k − [k = y]: the softmax probabilities minus the one-hot label. The mean over the n rows adds 1/n (n = len(y), not Z.size: the K classes are summed, not averaged).",
        "exps = np.exp(Z - Z.max(axis=1, keepdims=True))\n"
        "P = exps / exps.sum(axis=1, keepdims=True)   # softmax, row by row\n"
        "P[np.arange(len(y)), y] -= ____\n"
        "return P / ____",
    ),
    misconceptions=(
        Misconception("sign", lambda y, Z: (_onehot(y, Z) - _stable_softmax(Z)) / len(y),
                      "gradient has the wrong sign: it is softmax(Z) − Y, not Y − softmax(Z)",
                      reteach='The gradient is prediction minus target, softmax(Z) − Y; a finite difference on one logit fixes the sign.',
                      section='04_cross_entropy: The gradient: $p - y$'),
        Misconception("no n", lambda y, Z: _stable_softmax(Z) - _onehot(y, Z),
                      "gradient not divided by n: the cost is a mean over rows, so each row's gradient carries 1/n",
                      reteach='The cost is a mean over rows, so the gradient is (softmax(Z) − Y)/n.',
                      section='04_cross_entropy: The gradient: $p - y$'),
        Misconception("no one-hot", lambda y, Z: _stable_softmax(Z) / len(y),
                      "subtract the one-hot labels: the gradient is softmax(Z) − Y",
                      reteach="Build the one-hot Y from the integer labels and subtract it: the true class's gradient is p − 1.",
                      section='04_cross_entropy: The gradient: $p - y$'),
        Misconception("naive", lambda y, Z: (_naive_softmax(Z) - _onehot(y, Z)) / len(y),
                      "exp overflowed: subtract the max first",
                      reteach='Reuse the stable softmax (subtract the row max) inside the gradient too.',
                      section='04_cross_entropy: Where naive code breaks'),
        Misconception("Z.size", lambda y, Z: (_stable_softmax(Z) - _onehot(y, Z)) / np.size(Z),
                      "divided by Z.size = n·K: the cost averages over the n rows but sums over the K classes, "
                      "so divide by n = len(y) only",
                      reteach='The cost averages over n rows and sums over K classes: divide by n = len(y), not Z.size = n·K.',
                      section='04_cross_entropy: The gradient: $p - y$'),
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
