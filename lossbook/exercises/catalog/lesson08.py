"""Lesson 08, beyond: the quantile (pinball) loss, a stable log-cosh, and label smoothing from logits."""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.exercises import cases
from lossbook.exercises.model import Case, Exercise, Misconception

LESSON = "08_beyond"


def _r(y, p):
    """y − ŷ, the pinball loss's natural variable (the course's residual ŷ − y with its sign flipped):
    positive for an under-prediction."""
    return np.asarray(y, dtype=float) - np.asarray(p, dtype=float)


def _pinball(y, p, q):
    r = _r(y, p)
    return np.maximum(q * r, (q - 1) * r)


QUANTILE = Exercise(
    id="quantile",
    title="Quantile (pinball) loss",
    lesson=LESSON,
    params="y_true, y_pred, q",
    docstring="""Quantile (pinball) cost: the mean over examples of

    L = q * max(y - y_pred, 0) + (1 - q) * max(y_pred - y, 0)

(under-predictions cost q per unit, over-predictions 1 - q).

Parameters
----------
y_true, y_pred : numpy arrays of the same shape
q : float in (0, 1), the quantile

Returns
-------
float""",
    reference=lambda y, p, q: losses.quantile(y, p, q=q),
    output="scalar",
    build_cases=lambda: cases.quantiles(801),
    hints=(
        "The idea: under-predicting (y > ŷ) and over-predicting cost different amounts per unit: q and 1 − q. "
        "With q = 0.9, being too low is nine times as expensive as being too high.",
        "The formula: the pinball loss reads best in u = y − ŷ (the course's residual r = ŷ − y with its sign "
        "flipped): ρ_q(u) = q·u for u ≥ 0 and (q − 1)·u for u < 0, i.e. max(q·u, (q − 1)·u); then the mean.",
        "u = np.asarray(y_true, dtype=float) - y_pred; return float(np.mean(np.maximum(____, ____)))",
    ),
    misconceptions=(
        Misconception("swapped", lambda y, p, q: float(np.mean(_pinball(y, p, 1 - q))),
                      "q and 1 − q are swapped: under-predictions (y > ŷ) cost q per unit, over-predictions 1 − q",
                      reteach='Under-predictions (y > ŷ) cost q per unit: with q = 0.9 under-predicting is 9× as costly, which pushes ŷ up to the 90th percentile.',
                      section='08_beyond: 1. Quantile (pinball) loss'),
        Misconception("ignores q", lambda y, p, q: float(np.mean(_pinball(y, p, 0.5))),
                      "your function ignores q: with q = 0.5 it is half the MAE, other quantiles weigh the two sides differently",
                      reteach='q tilts the V: show q = 0.1, 0.5, 0.9 on the same residuals; q = 0.5 is half the MAE.',
                      section='08_beyond: 1. Quantile (pinball) loss'),
        Misconception("sum", lambda y, p, q: float(np.sum(_pinball(y, p, q))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='08_beyond: 1. Quantile (pinball) loss'),
    ),
    solution='''def quantile(y_true, y_pred, q):
    r = np.asarray(y_true, dtype=float) - y_pred
    return float(np.mean(np.maximum(q * r, (q - 1) * r)))
''',
    forbidden=(
        "lossbook.losses.quantile",
        "sklearn.metrics.mean_pinball_loss",
    ),
)


def _log_cosh_stable(y, p):
    a = np.abs(_r(y, p))
    return a + np.log1p(np.exp(-2 * a)) - np.log(2.0)


LOG_COSH = Exercise(
    id="log_cosh",
    title="Log-cosh loss, stable for large residuals",
    lesson=LESSON,
    params="y_true, y_pred",
    docstring="""Log-cosh cost: the mean over examples of log(cosh(y_pred - y_true)).

cosh overflows for |r| > 710; use log(cosh r) = |r| + log(1 + exp(-2|r|)) - log(2).

Parameters
----------
y_true, y_pred : numpy arrays of the same shape

Returns
-------
float""",
    reference=lambda y, p: losses.log_cosh(y, p),
    output="scalar",
    build_cases=lambda: cases.log_cosh(802),
    hints=(
        "The idea: np.log(np.cosh(r)) is right on paper, but cosh(800) is inf in floating point: take the huge "
        "factor out of cosh before the log.",
        "The formula: cosh r = (e^|r| / 2)(1 + e^(−2|r|)), so log cosh r = |r| + log(1 + e^(−2|r|)) − log 2; "
        "np.log1p keeps the small term accurate.",
        "a = np.abs(np.asarray(y_pred, dtype=float) - y_true); return float(np.mean(a + ____ - np.log(2)))",
    ),
    misconceptions=(
        Misconception("naive", lambda y, p: float(np.mean(np.log(np.cosh(_r(y, p))))),
                      "cosh overflowed at a large residual (e.g. 800): use |r| + log(1 + e^(−2|r|)) − log 2",
                      reteach='cosh(800) overflows; use the stable form |r| + log(1 + e^(−2|r|)) − log 2.',
                      section='08_beyond: 2. Log-cosh'),
        Misconception("no log", lambda y, p: float(np.mean(np.cosh(_r(y, p)))),
                      "missing the log: the loss is log(cosh r), not cosh r",
                      reteach='The loss is log(cosh r): quadratic near 0, linear far away; cosh alone grows exponentially.',
                      section='08_beyond: 2. Log-cosh'),
        Misconception("sum", lambda y, p: float(np.sum(_log_cosh_stable(y, p))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='08_beyond: 2. Log-cosh'),
        Misconception("no log 2", lambda y, p: float(np.mean(np.abs(_r(y, p)) + np.log1p(np.exp(-2 * np.abs(_r(y, p)))))),
                      "missing the − log 2: log cosh r = |r| + log(1 + e^(−2|r|)) − log 2 (it is 0 at r = 0)",
                      reteach='Check r = 0: log cosh 0 = 0, so the stable form needs its − log 2.',
                      section='08_beyond: 2. Log-cosh'),
    ),
    solution='''def log_cosh(y_true, y_pred):
    a = np.abs(np.asarray(y_pred, dtype=float) - y_true)
    return float(np.mean(a + np.log1p(np.exp(-2 * a)) - np.log(2)))
''',
    forbidden=(
        "lossbook.losses.log_cosh",
    ),
)



def _f(x):
    return np.asarray(x, dtype=float)


def _log_softmax(Z):
    Z = _f(Z)
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))


def _smoothed_ce_variant(off_share="K", ignore_smoothing=False, naive=False, correct_only=False):
    def loss(y, Z, smoothing):
        Z = _f(Z)
        n, K = Z.shape
        rows = np.arange(n)
        eps = 0.0 if ignore_smoothing else smoothing
        if naive:
            with np.errstate(all="ignore"):
                log_p = np.log(np.exp(Z) / np.sum(np.exp(Z), axis=1, keepdims=True))
        else:
            log_p = _log_softmax(Z)
        if off_share == "K-1":
            with np.errstate(all="ignore"):
                target = np.full((n, K), eps / (K - 1))
            target[rows, y] = 1.0 - eps
        else:
            target = np.full((n, K), eps / K)
            target[rows, y] = 1.0 - eps + eps / K
        if correct_only:
            return float(np.mean(-target[rows, y] * log_p[rows, y]))
        with np.errstate(all="ignore"):
            return float(np.mean(-np.sum(target * log_p, axis=1)))
    return loss


def _smoothing_cases():
    """``(y, Z, smoothing)``: class indices, logit rows and a smoothing strength; ties, one class,
    logits of ±1000, smoothing 0 and 1."""
    rng = np.random.default_rng(803)
    out = [
        Case("one row", (np.array([2]), np.array([[1.0, 2.0, 3.0]]), 0.1)),
        Case("ties", (np.array([0, 1]), np.zeros((2, 3)), 0.2)),
        Case("one class", (np.array([0, 0, 0]), np.array([[1.0], [-2.0], [5.0]]), 0.1)),
        Case("large logits (1000)", (np.array([0, 1]), np.array([[1000.0, -1000.0, 0.0], [1000.0, 999.0, 998.0]]), 0.1)),
        Case("smoothing 0 is plain cross-entropy", (np.array([1, 0, 2]), np.array([[0.5, 2.0, -1.0], [3.0, 0.0, 1.0],
                                                                                  [0.2, 0.1, 0.4]]), 0.0)),
        Case("smoothing 1: uniform targets", (np.array([0, 3]), np.array([[2.0, 0.0, -1.0, 1.0], [0.0, 0.5, 1.5, -2.0]]), 1.0)),
    ]
    for n, k, smoothing in ((4, 3, 0.1), (6, 5, 0.3), (9, 4, 0.05)):
        out.append(Case(f"random, {n} rows x {k} classes, smoothing {smoothing}",
                        (rng.integers(0, k, n), rng.normal(0.0, 2.0, (n, k)), smoothing)))
    return out


LABEL_SMOOTHING_CROSS_ENTROPY = Exercise(
    id="label_smoothing_cross_entropy",
    title="Cross-entropy with label smoothing, from logits",
    lesson=LESSON,
    params="y, Z, smoothing",
    docstring="""Softmax cross-entropy against smoothed targets, from logits, averaged over rows.

For K classes (indexed 0..K-1) the smoothed target of row i is

    t_ij = (1 - smoothing) * [j == y_i] + smoothing / K

(the correct class gets 1 - smoothing + smoothing/K, every other class smoothing/K: PyTorch's convention),
and the loss of row i is -sum_j t_ij * log softmax(Z_i)_j. Compute log softmax stably (logits can be 1000).

Parameters
----------
y : numpy array of class indices 0..K-1, shape (n,)
Z : numpy array of logits, shape (n, K)
smoothing : float in [0, 1]

Returns
-------
float""",
    reference=lambda y, Z, smoothing: losses.softmax_cross_entropy(y, Z, label_smoothing=smoothing),
    output="scalar",
    build_cases=_smoothing_cases,
    count=lambda case: len(case.args[0]),
    hints=(
        "The idea: replace the one-hot target by a softened one, (1 − smoothing) of it plus smoothing spread evenly "
        "over all K classes, and take the cross-entropy against it: every class's log-probability now counts.",
        "The formula: log softmax(Z)_j = Z_j − max(Z) − log Σ_k e^(Z_k − max(Z)); t = (1 − smoothing)·onehot + "
        "smoothing/K; loss_i = −Σ_j t_ij log softmax(Z_i)_j, then the mean over rows.",
        "n, K = Z.shape; S = Z - Z.max(axis=1, keepdims=True); log_p = S - np.log(np.exp(S).sum(axis=1, keepdims=True)); "
        "t = np.full((n, K), smoothing / K); t[np.arange(n), y] += ____; return float(np.mean(-(t * log_p).sum(axis=1)))",
    ),
    misconceptions=(
        Misconception("K-1 convention", _smoothed_ce_variant(off_share="K-1"),
                      "you spread the smoothing over the K − 1 wrong classes (ε/(K − 1) each, 1 − ε on the correct one); "
                      "this course and PyTorch spread it over all K: ε/K each, 1 − ε + ε/K on the correct class",
                      reteach='This course (and PyTorch) spreads ε over all K classes: targets (1 − ε)·onehot + ε/K.',
                      section='08_beyond: 4. Label smoothing'),
        Misconception("smoothing ignored", _smoothed_ce_variant(ignore_smoothing=True),
                      "your function ignores smoothing: it is plain cross-entropy; the targets must be "
                      "(1 − smoothing)·onehot + smoothing/K",
                      reteach='Build the smoothed targets first, (1 − ε)·onehot + ε/K, then take the cross-entropy against them.',
                      section='08_beyond: 4. Label smoothing'),
        Misconception("correct class only", _smoothed_ce_variant(correct_only=True),
                      "only the correct class's term is there: the smoothed target puts smoothing/K on every class, so "
                      "each row's loss is −Σⱼ tᵢⱼ log pᵢⱼ over all K classes",
                      reteach='With soft targets every class has weight ε/K: the loss is −Σⱼ tᵢⱼ log pᵢⱼ over all classes.',
                      section='08_beyond: 4. Label smoothing'),
        Misconception("naive softmax", _smoothed_ce_variant(naive=True),
                      "exp overflowed at a logit of 1000: compute log softmax as Z − max(Z) − log Σ exp(Z − max(Z))",
                      reteach='Reuse the stable log-softmax (Z − max Z − log Σ e^(Z − max Z)).',
                      section='04_cross_entropy: Where naive code breaks'),
        Misconception("sum", lambda y, Z, smoothing: float(np.sum(_smoothed_ce_variant()(y, Z, smoothing)) * len(y)),
                      "exactly n times too large: did you sum over rows instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='08_beyond: 4. Label smoothing'),
    ),
    solution='''def label_smoothing_cross_entropy(y, Z, smoothing):
    Z = np.asarray(Z, dtype=float)
    n, K = Z.shape
    shifted = Z - Z.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    targets = np.full((n, K), smoothing / K)
    targets[np.arange(n), y] += 1.0 - smoothing
    return float(np.mean(-(targets * log_p).sum(axis=1)))
''',
    forbidden=(
        "lossbook.losses.softmax_cross_entropy",
        "torch.nn.functional.cross_entropy",
    ),
)

EXERCISES = (QUANTILE, LOG_COSH, LABEL_SMOOTHING_CROSS_ENTROPY)
