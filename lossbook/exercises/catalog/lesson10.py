"""Lesson 10, imbalance and calibration: weighted BCE, focal loss on logits, ECE."""
from __future__ import annotations

import numpy as np

from lossbook import losses, metrics
from lossbook.exercises.model import Case, Exercise, Misconception

LESSON = "10_imbalance_calibration"


def _f(x):
    return np.asarray(x, dtype=float)


def _softplus(x):
    x = _f(x)
    return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))


def _binary_logit_cases(seed, extra_kwargs):
    """Labels 0/1 (mostly 0: imbalanced), logits including ±800; ``extra_kwargs`` per case."""
    rng = np.random.default_rng(seed)
    base = [
        ("one positive, z = 0", np.array([1.0]), np.array([0.0])),
        ("one negative, z = 2", np.array([0.0]), np.array([2.0])),
        ("confident right and wrong, z = ±800",
         np.array([1.0, 0.0, 1.0, 0.0]), np.array([800.0, -800.0, -800.0, 800.0])),
        ("ordinary logits", np.array([1.0, 0.0, 0.0, 1.0, 0.0]), np.array([1.5, -0.3, 2.0, -1.0, 0.1])),
    ]
    for n in (8, 60):
        y = (rng.uniform(size=n) < 0.15).astype(float)
        y[0] = 1.0
        base.append((f"random, {n} examples, about 15% positives", y, rng.normal(0.0, 3.0, n)))
    base.append(("all negatives", np.zeros(6), rng.normal(0.0, 2.0, 6)))
    cases = []
    for k, (name, y, z) in enumerate(base):
        cases.append(Case(name, (y, z), extra_kwargs[k % len(extra_kwargs)]))
    return cases


# ---------------------------------------------------------------------------
# weighted_bce_with_logits
# ---------------------------------------------------------------------------
def _weighted_terms(y, z, pos_weight, on_negatives=False):
    y, z = _f(y), _f(z)
    pos, neg = _softplus(-z), _softplus(z)          # −log σ(z), −log(1 − σ(z))
    if on_negatives:
        return y * pos + pos_weight * (1 - y) * neg
    return pos_weight * y * pos + (1 - y) * neg


def _naive_weighted(y, z, pos_weight=1.0):
    y, z = _f(y), _f(z)
    with np.errstate(all="ignore"):
        p = 1.0 / (1.0 + np.exp(-z))
        return float(np.mean(-(pos_weight * y * np.log(p) + (1 - y) * np.log(1 - p))))


WEIGHTED_BCE = Exercise(
    id="weighted_bce_with_logits",
    title="Binary cross-entropy on logits with a weight on the positives",
    lesson=LESSON,
    params="y_true, logits, pos_weight=1.0",
    docstring="""Mean weighted binary cross-entropy on logits (torch's BCEWithLogitsLoss(pos_weight=w)):

    L_i = w * y_i * softplus(-z_i) + (1 - y_i) * softplus(z_i),   mean over the n examples,

with softplus(x) = log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)) (stable for any x).

Parameters
----------
y_true : numpy array of labels in {0, 1}
logits : numpy array, same shape (may be as large as +-1000)
pos_weight : float > 0, the weight w of the positive examples

Returns
-------
float (divided by n, not by the sum of the weights)""",
    reference=lambda y, z, pos_weight=1.0: losses.binary_cross_entropy_with_logits(y, z, pos_weight=pos_weight),
    output="scalar",
    build_cases=lambda: _binary_logit_cases(1001, [{"pos_weight": 9.0}, {"pos_weight": 3.0}, {}, {"pos_weight": 0.5}]),
    count=lambda case: np.size(case.args[0]),
    hints=(
        "A positive example's loss is −log σ(z), a negative's −log(1 − σ(z)); the weight w "
        "multiplies the positives' term only, to make up for how few of them there are.",
        "−log σ(z) = softplus(−z) and −log(1 − σ(z)) = softplus(z), with softplus(x) = "
        "max(x, 0) + log(1 + e^(−|x|)); L = mean of w·y·softplus(−z) + (1 − y)·softplus(z).",
        "sp = lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))); "
        "return float(np.mean(pos_weight * y_true * sp(-logits) + ____))",
    ),
    misconceptions=(
        Misconception("weight on negatives",
                      lambda y, z, pos_weight=1.0: float(np.mean(_weighted_terms(y, z, pos_weight, on_negatives=True))),
                      "the weight multiplies the negatives: pos_weight belongs to the positive "
                      "examples' term w·y·softplus(−z)",
                      reteach="pos_weight multiplies the positive examples' term w·y·softplus(−z), not the negatives'.",
                      section='10_imbalance_calibration: A weight on the positives',
                      explorer='calibration'),
        Misconception("weighted mean",
                      lambda y, z, pos_weight=1.0: float(np.sum(_weighted_terms(y, z, pos_weight))
                                                         / np.sum(pos_weight * _f(y) + (1 - _f(y)))),
                      "divided by the sum of the weights: torch's BCEWithLogitsLoss(pos_weight) "
                      "divides by the number of examples n",
                      reteach="torch's BCEWithLogitsLoss(pos_weight) divides by n, not by the sum of the weights.",
                      section='10_imbalance_calibration: A weight on the positives'),
        Misconception("via probabilities", _naive_weighted,
                      "log(0): σ(±800) rounds to exactly 0 or 1; use softplus(−z) = −log σ(z) "
                      "instead of forming p",
                      reteach='σ(±800) is exactly 0 or 1 in float64: write −log σ(z) as softplus(−z) from the logits.',
                      section='10_imbalance_calibration: A weight on the positives'),
        Misconception("sum", lambda y, z, pos_weight=1.0: float(np.sum(_weighted_terms(y, z, pos_weight))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='10_imbalance_calibration: A weight on the positives'),
    ),
    solution='''def weighted_bce_with_logits(y_true, logits, pos_weight=1.0):
    y = np.asarray(y_true, dtype=float)
    z = np.asarray(logits, dtype=float)
    def softplus(x):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
    return float(np.mean(pos_weight * y * softplus(-z) + (1.0 - y) * softplus(z)))
''',
    forbidden=(
        "lossbook.losses.binary_cross_entropy_with_logits",
        "torch.nn.functional.binary_cross_entropy_with_logits",
    ),
)


# ---------------------------------------------------------------------------
# focal_loss_with_logits
# ---------------------------------------------------------------------------
def _focal_terms(y, z, gamma=2.0, alpha=0.25, alpha_swapped=False, p_not_pt=False):
    y, z = _f(y), _f(z)
    s = np.where(y == 1, z, -z)                         # p_t = σ(s)
    log_pt = -_softplus(-s)
    one_minus_pt = np.exp(-_softplus(s))                 # 1 − σ(s) = σ(−s)
    if p_not_pt:
        one_minus_pt = np.exp(-_softplus(z))             # 1 − p for every example
    if alpha is None:
        a_t = 1.0
    else:
        a_pos = 1 - alpha if alpha_swapped else alpha
        a_t = np.where(y == 1, a_pos, 1 - a_pos)
    return -a_t * one_minus_pt ** gamma * log_pt


FOCAL = Exercise(
    id="focal_loss_with_logits",
    title="Focal loss on logits",
    lesson=LESSON,
    params="y_true, logits, gamma=2.0, alpha=0.25",
    docstring="""Mean binary focal loss on logits (torchvision's sigmoid_focal_loss convention):

    p = sigmoid(z);  p_t = p if y = 1 else 1 - p;  alpha_t = alpha if y = 1 else 1 - alpha
    L_i = -alpha_t * (1 - p_t)**gamma * log(p_t),   mean over the n examples;
    alpha=None means no class weighting (alpha_t = 1).

Must stay finite for logits of +-800: log(p_t) = -softplus(-s) with s = z for y = 1 and
s = -z for y = 0, and 1 - p_t = sigmoid(-s).

Parameters
----------
y_true : numpy array of labels in {0, 1}
logits : numpy array, same shape
gamma : float >= 0 (0 gives alpha-weighted cross-entropy)
alpha : float in [0, 1], or None

Returns
-------
float""",
    reference=lambda y, z, gamma=2.0, alpha=0.25: losses.focal_with_logits(y, z, gamma=gamma, alpha=alpha),
    output="scalar",
    build_cases=lambda: _binary_logit_cases(1002, [{"gamma": 2.0, "alpha": 0.25}, {"gamma": 0.0, "alpha": 0.75},
                                                   {"gamma": 5.0, "alpha": None}, {"gamma": 1.0, "alpha": 0.25}]),
    count=lambda case: np.size(case.args[0]),
    hints=(
        "Focal loss is cross-entropy times (1 − p_t)^γ: examples the model already gets right "
        "(p_t near 1) are turned down, and α_t weighs positives against negatives.",
        "With s = z for positives and −z for negatives: p_t = σ(s), log p_t = −softplus(−s), "
        "1 − p_t = σ(−s) = exp(−softplus(s)); L_i = −α_t (1 − p_t)^γ log p_t.",
        "s = np.where(y_true == 1, logits, -logits); log_pt = -sp(-s); one_minus_pt = np.exp(-sp(s)); "
        "a_t = ____; return float(np.mean(-a_t * one_minus_pt ** gamma * log_pt))",
    ),
    misconceptions=(
        Misconception("alpha swapped", lambda y, z, gamma=2.0, alpha=0.25: float(np.mean(
            _focal_terms(y, z, gamma, alpha, alpha_swapped=True))),
                      "α and 1 − α are swapped: in torchvision's convention α weighs the positives "
                      "(y = 1) and 1 − α the negatives",
                      reteach="torchvision's convention: α weights the positives (y = 1) and 1 − α the negatives.",
                      section='10_imbalance_calibration: Focal loss from logits'),
        Misconception("1 - p, not 1 - p_t", lambda y, z, gamma=2.0, alpha=0.25: float(np.mean(
            _focal_terms(y, z, gamma, alpha, p_not_pt=True))),
                      "the focusing factor uses 1 − p for every example: it must be (1 − p_t)^γ, "
                      "with p_t = 1 − p for negatives",
                      reteach='Define p_t (p for positives, 1 − p for negatives) first; the focusing factor is (1 − p_t)^γ for both.',
                      section='10_imbalance_calibration: Focal loss from logits'),
        Misconception("alpha ignored", lambda y, z, gamma=2.0, alpha=0.25: float(np.mean(
            _focal_terms(y, z, gamma, None))),
                      "α is ignored: weigh positives by α and negatives by 1 − α (α=None means no weighting)",
                      reteach='α weights the two classes (α for y = 1, 1 − α for y = 0); α = None means no weighting.',
                      section='10_imbalance_calibration: Focal loss from logits'),
        Misconception("sum", lambda y, z, gamma=2.0, alpha=0.25: float(np.sum(_focal_terms(y, z, gamma, alpha))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='10_imbalance_calibration: Focal loss from logits'),
    ),
    solution='''def focal_loss_with_logits(y_true, logits, gamma=2.0, alpha=0.25):
    y = np.asarray(y_true, dtype=float)
    z = np.asarray(logits, dtype=float)
    def softplus(x):
        return np.maximum(x, 0.0) + np.log1p(np.exp(-np.abs(x)))
    s = np.where(y == 1, z, -z)
    log_pt = -softplus(-s)
    one_minus_pt = np.exp(-softplus(s))
    a_t = 1.0 if alpha is None else np.where(y == 1, alpha, 1.0 - alpha)
    return float(np.mean(-a_t * one_minus_pt ** gamma * log_pt))
''',
    forbidden=(
        "lossbook.losses.focal_with_logits",
        "torchvision.ops.sigmoid_focal_loss",
    ),
)


# ---------------------------------------------------------------------------
# expected_calibration_error
# ---------------------------------------------------------------------------
def _ece_cases():
    rng = np.random.default_rng(1003)
    cases = [
        Case("three examples, one bin", (np.array([0, 1, 1]), np.array([[0.9, 0.1], [0.8, 0.2], [0.4, 0.6]])),
             {"n_bins": 1}),
        Case("confidences exactly on bin edges 0.5 and 0.75",
             (np.array([0, 0, 0, 0, 1]),
              np.array([[0.5, 0.5], [0.5, 0.5], [0.25, 0.75], [0.75, 0.25], [0.6, 0.4]])), {"n_bins": 4}),
        Case("a perfect, confident classifier", (np.array([2, 0, 1]), np.eye(3)[[2, 0, 1]]), {"n_bins": 10}),
        Case("always confidently wrong", (np.array([0, 1, 2, 0]), np.eye(3)[[1, 2, 0, 2]]), {}),
    ]
    for n, k, n_bins in ((40, 3, 5), (300, 10, 15), (120, 4, 8)):
        z = rng.normal(scale=2.5, size=(n, k))
        P = np.exp(z - z.max(axis=1, keepdims=True))
        P /= P.sum(axis=1, keepdims=True)
        y = np.where(rng.uniform(size=n) < 0.7, P.argmax(axis=1), rng.integers(0, k, n))
        cases.append(Case(f"random, {n} examples, {k} classes, {n_bins} bins", (y, P), {"n_bins": n_bins}))
    return cases


def _bins_stats(y, P, n_bins, left_closed=False):
    P, y = _f(P), np.asarray(y)
    conf = P.max(axis=1)
    right = (P.argmax(axis=1) == y).astype(float)
    if left_closed:
        which = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    else:
        which = np.searchsorted(np.linspace(0, 1, n_bins + 1)[1:-1], conf, side="left")
    stats = []
    for b in range(n_bins):
        inside = which == b
        if inside.any():
            stats.append((inside.sum(), right[inside].mean(), conf[inside].mean()))
    return stats, len(y)


def _ece_variant(kind):
    def fn(y, P, n_bins=15):
        stats, n = _bins_stats(y, P, n_bins, left_closed=(kind == "left"))
        if kind == "unweighted":
            return float(np.mean([abs(a - c) for _, a, c in stats]))
        if kind == "signed":
            return float(abs(sum(k * (a - c) for k, a, c in stats)) / n)
        if kind == "max":
            return float(max(abs(a - c) for _, a, c in stats))
        return float(sum(k * abs(a - c) for k, a, c in stats) / n)
    return fn


ECE = Exercise(
    id="expected_calibration_error",
    title="Expected calibration error",
    lesson=LESSON,
    params="y_true, proba, n_bins=15",
    docstring="""Expected calibration error of the top-class confidence:

    conf_i = max_k proba[i, k];  right_i = (argmax_k proba[i, k] == y_i)
    bins: n_bins equal-width bins (lo, hi] of [0, 1], the first one also holding 0
    ECE = sum over non-empty bins b of (n_b / n) * |mean(right in b) - mean(conf in b)|

Parameters
----------
y_true : numpy array of integer labels 0..K-1, shape (n,)
proba : numpy array of shape (n, K), rows of predicted probabilities
n_bins : int

Returns
-------
float""",
    reference=lambda y, P, n_bins=15: metrics.expected_calibration_error(y, P, n_bins=n_bins),
    output="scalar",
    build_cases=_ece_cases,
    count=lambda case: len(case.args[0]),
    hints=(
        "Sort the examples into bins by how confident the model is (its largest probability); "
        "in each bin compare how often it is right with how confident it says it is.",
        "Bin index: np.searchsorted(edges[1:-1], conf, side='left') with edges = "
        "np.linspace(0, 1, n_bins + 1) gives bins (lo, hi]; then weight each bin's "
        "|accuracy − mean confidence| by its share of the examples, n_b / n.",
        "which = np.searchsorted(edges[1:-1], conf, side='left'); for each bin b with "
        "examples: total += inside.sum() / n * abs(____); return float(total)",
    ),
    misconceptions=(
        Misconception("unweighted", _ece_variant("unweighted"),
                      "the bins are averaged with equal weight: weight each bin's gap by its share "
                      "of the examples, n_b / n",
                      reteach="Weight each bin's gap by its share of the examples n_b/n: a bin of 3 examples must not count like one of 300.",
                      section='10_imbalance_calibration: Calibration: is "90% sure" right 90% of the time?',
                      explorer='calibration'),
        Misconception("left-closed bins", _ece_variant("left"),
                      "confidences on a bin edge land in the bin above: the bins are (lo, hi] (as "
                      "scikit-learn's calibration_curve), use np.searchsorted(..., side='left')",
                      reteach="The bins are (lo, hi]: a confidence exactly on an edge belongs to the lower bin (np.searchsorted side='left').",
                      section='10_imbalance_calibration: Calibration: is "90% sure" right 90% of the time?'),
        Misconception("signed gaps", _ece_variant("signed"),
                      "over- and under-confident bins cancel out: take |accuracy − confidence| in "
                      "each bin before adding",
                      reteach='Take |accuracy − confidence| per bin: over- and under-confidence must both add to the error.',
                      section='10_imbalance_calibration: Calibration: is "90% sure" right 90% of the time?',
                      explorer='calibration'),
        Misconception("max", _ece_variant("max"),
                      "this is the maximum calibration error (the worst bin): ECE is the weighted "
                      "average over bins",
                      reteach='ECE is the weighted average of the bin gaps; the worst bin alone is the MCE.',
                      section='10_imbalance_calibration: Calibration: is "90% sure" right 90% of the time?'),
    ),
    solution='''def expected_calibration_error(y_true, proba, n_bins=15):
    proba = np.asarray(proba, dtype=float)
    y = np.asarray(y_true)
    conf = proba.max(axis=1)
    right = (proba.argmax(axis=1) == y).astype(float)
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    which = np.searchsorted(edges[1:-1], conf, side="left")
    total = 0.0
    for b in range(n_bins):
        inside = which == b
        if inside.any():
            total += inside.sum() / len(y) * abs(right[inside].mean() - conf[inside].mean())
    return float(total)
''',
    forbidden=(
        "lossbook.metrics.expected_calibration_error",
        "lossbook.metrics.reliability_bins",
        "sklearn.calibration.calibration_curve",
    ),
)


EXERCISES = (WEIGHTED_BCE, FOCAL, ECE)
