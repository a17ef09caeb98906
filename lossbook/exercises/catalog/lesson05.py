"""Lesson 05, hinge: the margin loss, its subgradient, and the multi-class SVM loss."""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.exercises import cases
from lossbook.exercises.model import Case, Exercise, GradientSpec, Misconception

LESSON = "05_hinge"


def _f(x):
    return np.asarray(x, dtype=float)


def _hinge_grad_bounds(case):
    """Any subgradient is right at a kink (margin exactly 1): anything between −y/n and 0."""
    y, s = _f(case.args[0]), _f(case.args[1])
    n = s.size
    margin = y * s
    outside = np.where(margin < 1, -y / n, 0.0)
    kink = np.isclose(margin, 1.0, rtol=0, atol=1e-12)
    low = np.where(kink, np.minimum(-y / n, 0.0), outside)
    high = np.where(kink, np.maximum(-y / n, 0.0), outside)
    return low, high


HINGE = Exercise(
    id="hinge",
    title="Hinge loss",
    lesson=LESSON,
    params="y, s",
    docstring="""Hinge cost: the mean over examples of max(0, 1 - y_i * s_i).

Parameters
----------
y : numpy array of labels in {-1, +1}
s : numpy array, same shape, scores (raw model outputs)

Returns
-------
float""",
    reference=lambda y, s: losses.hinge(y, s),
    output="scalar",
    build_cases=lambda: cases.signed_scores(501),
    hints=(
        "The idea: y·s is the margin, positive when the score has the right sign and ≥ 1 when it is right "
        "with room to spare; only examples with a margin below 1 cost anything.",
        "The formula: each example costs max(0, 1 − yᵢsᵢ), and the cost is the mean over the n examples.",
        "margins = y * s; return float(np.mean(np.maximum(0, ____)))",
    ),
    misconceptions=(
        Misconception("0/1 labels", lambda y, s: float(np.mean(np.maximum(0, 1 - (2 * _f(y) - 1) * _f(s)))),
                      "labels must be ±1 for hinge: y already is ±1, so don't convert it with 2y − 1 (that is for {0, 1} labels)",
                      reteach='Hinge uses labels ±1 so the margin is y·s; 2y − 1 only converts {0, 1} labels, which these are not.',
                      section='05_hinge: Intuition: the margin',
                      explorer='hinge_margin'),
        Misconception("no max", lambda y, s: float(np.mean(1 - _f(y) * _f(s))),
                      "missing max(0, ·): examples beyond the margin must cost 0, not a negative amount",
                      reteach='Plot 1 − y·s and max(0, 1 − y·s): beyond the margin the loss is 0, never a reward.',
                      section='05_hinge: Hinge, 0-1 and logistic loss as functions of the margin',
                      explorer='hinge_margin'),
        Misconception("margin 0", lambda y, s: float(np.mean(np.maximum(0, -_f(y) * _f(s)))),
                      "the margin is 1: max(0, 1 − y·s) (max(0, −y·s) is the perceptron loss)",
                      reteach="Contrast the perceptron loss max(0, −y·s) with hinge's max(0, 1 − y·s): the 1 is the margin.",
                      section='05_hinge: Hinge, 0-1 and logistic loss as functions of the margin',
                      explorer='hinge_margin'),
        Misconception("sum", lambda y, s: float(np.sum(np.maximum(0, 1 - _f(y) * _f(s)))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='05_hinge: Hinge, 0-1 and logistic loss as functions of the margin'),
    ),
    solution='''def hinge(y, s):
    margins = np.asarray(y, dtype=float) * s
    return float(np.mean(np.maximum(0, 1 - margins)))
''',
    forbidden=(
        "lossbook.losses.hinge",
        "sklearn.metrics.hinge_loss",
    ),
)


HINGE_GRAD = Exercise(
    id="hinge_grad",
    title="Subgradient of the hinge loss",
    lesson=LESSON,
    params="y, s",
    docstring="""A subgradient of the mean hinge loss with respect to the scores:

    d cost / d s_i = -y_i / n   if y_i * s_i < 1,   0 if y_i * s_i > 1.

At the kink (y_i * s_i == 1) any value between -y_i / n and 0 is accepted.

Parameters
----------
y : numpy array of labels in {-1, +1}
s : numpy array, same shape, scores

Returns
-------
numpy array, same shape as s""",
    reference=lambda y, s: losses.hinge_grad(y, s),
    output="array",
    bounds=_hinge_grad_bounds,
    build_cases=lambda: cases.signed_scores(502),
    gradient=GradientSpec(cost=lambda y, s: losses.hinge(y, s), wrt=1),
    hints=(
        "The idea: where the loss is 0 (margin beyond 1) its slope is 0; elsewhere the loss is 1 − y·s, a "
        "straight line in s whose slope you can read off.",
        "The formula: ∂cost/∂sᵢ = −yᵢ/n where yᵢsᵢ < 1 and 0 where yᵢsᵢ > 1 (the mean's 1/n stays); at the kink "
        "yᵢsᵢ = 1 either value is a valid subgradient.",
        "inside = y * s < 1; return np.where(inside, ____, 0.0) / np.size(s)",
    ),
    misconceptions=(
        Misconception("sign", lambda y, s: np.where(_f(y) * _f(s) < 1, _f(y), 0.0) / np.size(s),
                      "gradient has the wrong sign: d/ds (1 − y·s) = −y",
                      reteach="d/ds (1 − y·s) = −y inside the margin: a positive example's score must rise, so its gradient is negative.",
                      section='05_hinge: Derivation: the hinge subgradient'),
        Misconception("no n", lambda y, s: np.where(_f(y) * _f(s) < 1, -_f(y), 0.0),
                      "gradient not divided by n: the cost is a mean, so each example's gradient carries 1/n",
                      reteach='The cost is a mean, so each active example contributes −y/n.',
                      section='05_hinge: Derivation: the hinge subgradient'),
        Misconception("no indicator", lambda y, s: -_f(y) / np.size(s),
                      "the gradient is 0 for examples beyond the margin (y·s ≥ 1): the max(0, ·) is flat there",
                      reteach='Show the flat part of the hinge: beyond the margin (y·s ≥ 1) the gradient is 0; only margin violators pull.',
                      section='05_hinge: Derivation: the hinge subgradient',
                      explorer='hinge_margin'),
        Misconception("margin 0", lambda y, s: np.where(_f(y) * _f(s) < 0, -_f(y), 0.0) / np.size(s),
                      "the margin is 1: examples with 0 ≤ y·s < 1 still get a gradient",
                      reteach='Examples with 0 ≤ y·s < 1 are right but inside the margin: they still get −y/n. Move the band in the explorer.',
                      section='05_hinge: Derivation: the hinge subgradient',
                      explorer='hinge_margin'),
    ),
    solution='''def hinge_grad(y, s):
    y = np.asarray(y, dtype=float)
    return np.where(y * s < 1, -y, 0.0) / np.size(s)
''',
    forbidden=(
        "lossbook.losses.hinge_grad",
        "torch.autograd.grad",
        "torch.Tensor.backward",
    ),
)


def _wrong_class_margins(y, S):
    S = _f(S)
    rows = np.arange(len(y))
    margins = np.maximum(0, S - S[rows, y][:, None] + 1.0)
    margins[rows, y] = 0.0
    return margins


MULTICLASS_HINGE = Exercise(
    id="multiclass_hinge",
    title="Multi-class hinge loss (Weston–Watkins, the CS231n SVM loss)",
    lesson=LESSON,
    params="y, S",
    docstring="""Multi-class hinge cost: the mean over rows of sum_{j != y_i} max(0, S_ij - S_i,y_i + 1).

Parameters
----------
y : numpy array of class indices, shape (n,)
S : numpy array of scores, shape (n, K), for K classes indexed 0..K-1

Returns
-------
float""",
    reference=lambda y, S: losses.multiclass_hinge(y, S),
    output="scalar",
    build_cases=lambda: cases.class_scores(503),
    count=lambda case: len(case.args[0]),
    hints=(
        "The idea: every wrong class whose score comes within 1 of the correct class's score adds to the loss; "
        "the correct class itself adds nothing.",
        "The formula: ℓᵢ = Σ_{j≠yᵢ} max(0, S_ij − S_iyᵢ + 1), and the cost is the mean of ℓᵢ over the rows. "
        "S[rows, y] picks each row's correct score.",
        "rows = np.arange(len(y)); correct = S[rows, y][:, None]; M = np.maximum(0, ____); M[rows, y] = 0; "
        "return float(M.sum(axis=1).mean())",
    ),
    misconceptions=(
        Misconception("includes true class", lambda y, S: float(np.mean(np.maximum(0, _f(S) - _f(S)[np.arange(len(y)), y][:, None] + 1).sum(axis=1))),
                      "the sum skips the correct class (j ≠ yᵢ): including it adds 1 per example",
                      reteach='Write Σ_{j ≠ yᵢ}: including j = yᵢ adds max(0, 1) = 1 to every row.',
                      section='05_hinge: Multiclass hinge (Weston–Watkins)'),
        Misconception("divided by K", lambda y, S: float(np.mean(_wrong_class_margins(y, S).sum(axis=1)) / np.shape(S)[1]),
                      "divided by the number of classes: Weston–Watkins (CS231n) sums over wrong classes without dividing by K "
                      "(PyTorch's multi_margin_loss divides)",
                      reteach="Weston–Watkins sums over the wrong classes; PyTorch's multi_margin_loss divides by K (the crosswalk table says so).",
                      section='05_hinge: Multiclass hinge (Weston–Watkins)'),
        Misconception("max not sum", lambda y, S: float(np.mean(_wrong_class_margins(y, S).max(axis=1))),
                      "this is the Crammer–Singer loss (the worst wrong class only); Weston–Watkins sums over all wrong classes",
                      reteach='Contrast Weston–Watkins (sum over wrong classes) with Crammer–Singer (the worst one only).',
                      section='05_hinge: Multiclass hinge (Weston–Watkins)'),
        Misconception("sum", lambda y, S: float(np.sum(_wrong_class_margins(y, S))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='05_hinge: Multiclass hinge (Weston–Watkins)'),
    ),
    solution='''def multiclass_hinge(y, S):
    S = np.asarray(S, dtype=float)
    rows = np.arange(len(y))
    margins = np.maximum(0, S - S[rows, y][:, None] + 1)
    margins[rows, y] = 0
    return float(margins.sum(axis=1).mean())
''',
    forbidden=(
        "lossbook.losses.multiclass_hinge",
        "sklearn.metrics.hinge_loss",
        "torch.nn.functional.multi_margin_loss",
    ),
)



def _active(y, S, margin=1.0):
    """1 where a wrong class's term max(0, S_ij − S_iy + margin) is active (> 0), else 0."""
    S = _f(S)
    rows = np.arange(len(y))
    active = (S - S[rows, y][:, None] + margin > 0).astype(float)
    active[rows, y] = 0.0
    return active


def _multiclass_hinge_grad_variant(correct="count", no_n=False, margin=1.0, sign=1.0):
    def grad(y, S):
        y = np.asarray(y)
        active = _active(y, S, margin)
        rows = np.arange(len(y))
        if correct == "count":
            active[rows, y] = -active.sum(axis=1)
        elif correct == "minus one":
            active[rows, y] = -1.0
        n = 1 if no_n else len(y)
        return sign * active / n
    return grad


def _multiclass_hinge_grad_bounds(case):
    """At a kink (S_ij − S_iy + 1 exactly 0) the term's slope is anything in [0, 1] for class j
    (and minus that for the correct class): the box of those intervals, divided by n."""
    y, S = np.asarray(case.args[0]), _f(case.args[1])
    rows = np.arange(len(y))
    gap = S - S[rows, y][:, None] + 1.0
    gap[rows, y] = -np.inf
    active, kink = (gap > 0).astype(float), np.isclose(gap, 0.0, rtol=0, atol=1e-12).astype(float)
    n = len(y)
    low, high = active.copy(), active + kink
    low[rows, y] = -(active + kink).sum(axis=1)
    high[rows, y] = -active.sum(axis=1)
    return low / n, high / n


def _class_scores_with_kinks():
    """The multi-class hinge cases plus rows where a wrong class sits exactly 1 below the
    correct one (the kink), where any subgradient is accepted."""
    return [*cases.class_scores(504),
            Case("a wrong class exactly at the margin (kink)",
                 (np.array([0, 2]), np.array([[2.0, 1.0, -0.5], [0.5, 3.0, 1.5]])), {}, False)]


MULTICLASS_HINGE_GRAD = Exercise(
    id="multiclass_hinge_grad",
    title="Gradient of the multi-class hinge loss",
    lesson=LESSON,
    params="y, S",
    docstring="""Gradient of the mean multi-class hinge cost (Weston–Watkins) with respect to the scores S.

For row i with correct class y_i, a wrong class j is active when S_ij - S_i,y_i + 1 > 0; then

    dJ/dS_ij   = 1/n            for every active wrong class j,
    dJ/dS_i,y_i = -(number of active wrong classes in row i) / n,

and every other entry is 0. At a kink (S_ij - S_i,y_i + 1 == 0) any value in between is accepted.

Parameters
----------
y : numpy array of class indices 0..K-1, shape (n,)
S : numpy array of scores, shape (n, K)

Returns
-------
numpy array, shape (n, K)""",
    reference=lambda y, S: losses.multiclass_hinge_grad(y, S),
    output="array",
    bounds=_multiclass_hinge_grad_bounds,
    build_cases=_class_scores_with_kinks,
    count=lambda case: len(case.args[0]),
    gradient=GradientSpec(cost=lambda y, S: losses.multiclass_hinge(y, S), wrt=1),
    hints=(
        "The idea: each active term max(0, S_ij − S_iyᵢ + 1) is a straight line in two scores only: it rises "
        "with the wrong class's score S_ij and falls with the correct class's score S_iyᵢ.",
        "The formula: an active term adds +1/n to ∂J/∂S_ij and −1/n to ∂J/∂S_iyᵢ, so the correct class collects "
        "−(number of active wrong classes)/n; inactive terms add nothing.",
        "rows = np.arange(len(y)); active = (S - S[rows, y][:, None] + 1 > 0).astype(float); active[rows, y] = 0; "
        "G = active.copy(); G[rows, y] = ____; return G / len(y)",
    ),
    misconceptions=(
        Misconception("no correct-class column", _multiclass_hinge_grad_variant(correct="none"),
                      "the correct class's column is missing: each active term also lowers the loss as S_iyᵢ grows, "
                      "so ∂J/∂S_iyᵢ = −(number of active wrong classes)/n",
                      reteach='Differentiate one active term S_ij − S_iyᵢ + 1 with respect to both scores: +1 for j, −1 for yᵢ.',
                      section='05_hinge: Multiclass hinge (Weston–Watkins)'),
        Misconception("correct class -1", _multiclass_hinge_grad_variant(correct="minus one"),
                      "the correct class gets −1/n from every active wrong class, not −1/n once: "
                      "∂J/∂S_iyᵢ = −(number of active wrong classes)/n",
                      reteach="Count the active wrong classes: the correct class's column collects −1/n from each of them.",
                      section='05_hinge: Multiclass hinge (Weston–Watkins)'),
        Misconception("no n", _multiclass_hinge_grad_variant(no_n=True),
                      "gradient not divided by n: the cost is a mean over rows, so each row's gradient carries 1/n",
                      reteach='The cost is a mean over rows: every entry of the gradient carries 1/n.',
                      section='05_hinge: Multiclass hinge (Weston–Watkins)'),
        Misconception("margin 0", _multiclass_hinge_grad_variant(margin=0.0),
                      "the margin is 1: a wrong class is active when S_ij − S_iyᵢ + 1 > 0, even if it scores "
                      "below the correct class",
                      reteach='A wrong class is active when S_ij − S_iyᵢ + 1 > 0, i.e. within 1 of the correct score, even below it.',
                      section='05_hinge: Multiclass hinge (Weston–Watkins)'),
        Misconception("sign", _multiclass_hinge_grad_variant(sign=-1.0),
                      "gradient has the wrong sign: raising a wrong class's score raises the loss (+1/n), raising "
                      "the correct class's score lowers it",
                      reteach="Raising a wrong class's score raises the loss (+1/n); raising the correct class's lowers it; check one entry numerically.",
                      section='05_hinge: Multiclass hinge (Weston–Watkins)'),
    ),
    solution='''def multiclass_hinge_grad(y, S):
    S = np.asarray(S, dtype=float)
    rows = np.arange(len(y))
    active = (S - S[rows, y][:, None] + 1 > 0).astype(float)
    active[rows, y] = 0.0
    grad = active.copy()
    grad[rows, y] = -active.sum(axis=1)
    return grad / len(y)
''',
    forbidden=(
        "lossbook.losses.multiclass_hinge_grad",
        "torch.autograd.grad",
        "torch.Tensor.backward",
    ),
)

EXERCISES = (HINGE, HINGE_GRAD, MULTICLASS_HINGE, MULTICLASS_HINGE_GRAD)
