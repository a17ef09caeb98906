"""Lesson 11, losses that shape embeddings: contrastive, triplet, InfoNCE, KL divergence."""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.exercises.model import Case, Exercise, Misconception

LESSON = "11_embeddings"


def _f(x):
    return np.asarray(x, dtype=float)


def _rows(case) -> int:
    return int(np.shape(case.args[0])[0])


# ---------------------------------------------------------------------------
# contrastive_loss
# ---------------------------------------------------------------------------
def _contrastive_cases():
    rng = np.random.default_rng(1101)
    cases = [
        Case("one matching pair", (np.array([0.5]), np.array([1.0]))),
        Case("one different pair inside the margin", (np.array([0.25]), np.array([0.0]))),
        Case("different pairs beyond the margin cost nothing",
             (np.array([1.5, 3.0, 0.4]), np.array([0.0, 0.0, 1.0]))),
        Case("distance exactly 0 and exactly the margin",
             (np.array([0.0, 1.0, 0.0, 1.0]), np.array([1.0, 0.0, 0.0, 1.0]))),
        Case("margin 2.5", (np.array([0.5, 1.0, 2.0, 3.0, 1.2]), np.array([0.0, 0.0, 0.0, 0.0, 1.0])),
             {"margin": 2.5}),
        Case("margin 0.3", (np.array([0.1, 0.2, 0.5, 0.05]), np.array([0.0, 1.0, 0.0, 0.0])),
             {"margin": 0.3}),
    ]
    for n in (7, 40):
        d = rng.uniform(0.0, 2.0, n)
        same = rng.integers(0, 2, n).astype(float)
        cases.append(Case(f"random, {n} pairs", (d, same), {"margin": 1.2}))
    return cases


def _contrastive_terms(d, s, margin=1.0, square=True, clip=True):
    d, s = _f(d), _f(s)
    push = np.maximum(0.0, margin - d) if clip else margin - d
    if square:
        return s * d**2 + (1 - s) * push**2
    return s * d + (1 - s) * push


CONTRASTIVE = Exercise(
    id="contrastive_loss",
    title="Contrastive loss of pairs",
    lesson=LESSON,
    params="distance, same, margin=1.0",
    docstring="""Mean contrastive loss of pairs:

    L_i = same_i * d_i**2 + (1 - same_i) * max(0, margin - d_i)**2

Parameters
----------
distance : numpy array of distances d_i >= 0 (Euclidean, not squared)
same : numpy array, same shape, 1 for a matching pair and 0 for a different pair
margin : float, how far apart different pairs must be

Returns
-------
float, the mean over the pairs""",
    reference=lambda d, s, margin=1.0: losses.contrastive(d, s, margin=margin),
    output="scalar",
    build_cases=_contrastive_cases,
    count=lambda case: np.size(case.args[0]),
    hints=(
        "Two kinds of pair, two terms: a matching pair pays its squared distance (pull); a "
        "different pair pays only while it is closer than the margin (push).",
        "L_i = s_i·d_i² + (1 − s_i)·max(0, m − d_i)², then the mean over the pairs; "
        "np.maximum(0, ...) is the max(0, ·) applied element by element.",
        "push = np.maximum(0, margin - distance); return float(np.mean(same * distance**2 + ____))",
    ),
    misconceptions=(
        Misconception("no clip", lambda d, s, margin=1.0: float(np.mean(_contrastive_terms(d, s, margin, clip=False))),
                      "different pairs beyond the margin are being charged: the push term is "
                      "max(0, m − d)², zero once d ≥ m (square after clipping, not before)",
                      reteach='The push term is max(0, m − d)²: different pairs beyond the margin cost nothing; clip before squaring.',
                      section='11_embeddings: Contrastive loss: pull pairs in, push others out to a margin',
                      explorer='embedding_forces'),
        Misconception("not squared", lambda d, s, margin=1.0: float(np.mean(_contrastive_terms(d, s, margin, square=False))),
                      "the terms are not squared: the loss is s·d² + (1 − s)·max(0, m − d)²",
                      reteach='Both terms are squared: s·d² + (1 − s)·max(0, m − d)².',
                      section='11_embeddings: Contrastive loss: pull pairs in, push others out to a margin'),
        Misconception("swapped", lambda d, s, margin=1.0: float(np.mean(_contrastive_terms(d, 1 - _f(s), margin))),
                      "matching and different pairs are swapped: same = 1 pays d² (pull), "
                      "same = 0 pays max(0, m − d)² (push)",
                      reteach="same = 1 pays d² (pull together), same = 0 pays the margin term (push apart): read the label's meaning aloud.",
                      section='11_embeddings: Contrastive loss: pull pairs in, push others out to a margin',
                      explorer='embedding_forces'),
        Misconception("sum", lambda d, s, margin=1.0: float(np.sum(_contrastive_terms(d, s, margin))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='11_embeddings: Contrastive loss: pull pairs in, push others out to a margin'),
    ),
    solution='''def contrastive_loss(distance, same, margin=1.0):
    d = np.asarray(distance, dtype=float)
    s = np.asarray(same, dtype=float)
    push = np.maximum(0.0, margin - d)
    return float(np.mean(s * d**2 + (1.0 - s) * push**2))
''',
    forbidden=(
        "lossbook.losses.contrastive",
    ),
)


# ---------------------------------------------------------------------------
# triplet_loss
# ---------------------------------------------------------------------------
def _triplet_cases():
    rng = np.random.default_rng(1102)
    cases = [
        Case("one triplet, positive at 5, negative at 1",
             (np.array([[0.0, 0.0]]), np.array([[3.0, 4.0]]), np.array([[0.0, 1.0]]))),
        Case("an easy triplet (loss 0) and a hard one",
             (np.array([[0.0, 0.0], [1.0, 1.0]]), np.array([[0.1, 0.0], [2.0, 3.0]]),
              np.array([[3.0, 0.0], [1.5, 1.0]]))),
        Case("a semi-hard triplet, margin 2",
             (np.array([[0.0, 0.0, 0.0]]), np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 2.0, 0.0]])),
             {"margin": 2.0}),
        Case("one-dimensional embeddings, margin 0.5",
             (np.array([[0.0], [1.0], [2.0]]), np.array([[0.5], [1.2], [0.0]]),
              np.array([[0.8], [3.0], [2.5]])), {"margin": 0.5}),
    ]
    for n, dim in ((6, 4), (30, 8)):
        a = rng.normal(size=(n, dim))
        cases.append(Case(f"random, {n} triplets in {dim}-D",
                          (a, a + rng.normal(scale=0.8, size=(n, dim)), rng.normal(size=(n, dim)))))
    a = rng.normal(size=(12, 3))
    cases.append(Case("random, 12 triplets, margin 0.2",
                      (a, a + rng.normal(scale=0.5, size=(12, 3)), a + rng.normal(scale=1.0, size=(12, 3))),
                      {"margin": 0.2}))
    return cases


def _triplet_terms(a, p, n, margin=1.0, squared=False, hinge=True):
    a, p, n = _f(a), _f(p), _f(n)
    d_pos = ((a - p) ** 2).sum(axis=1)
    d_neg = ((a - n) ** 2).sum(axis=1)
    if not squared:
        d_pos, d_neg = np.sqrt(d_pos), np.sqrt(d_neg)
    raw = d_pos - d_neg + margin
    return np.maximum(0.0, raw) if hinge else raw


TRIPLET = Exercise(
    id="triplet_loss",
    title="Triplet margin loss",
    lesson=LESSON,
    params="anchor, positive, negative, margin=1.0",
    docstring="""Mean triplet margin loss with Euclidean (not squared) distances:

    L_i = max(0, ||a_i - p_i|| - ||a_i - n_i|| + margin)

Parameters
----------
anchor, positive, negative : numpy arrays of shape (n, d), one embedding per row
margin : float

Returns
-------
float, the mean over the n triplets""",
    reference=lambda a, p, n, margin=1.0: losses.triplet_margin(a, p, n, margin=margin),
    output="scalar",
    build_cases=_triplet_cases,
    count=_rows,
    hints=(
        "Each row is one triplet: the anchor should be closer to its positive than to its "
        "negative, by at least the margin. The loss is how far it falls short, never below 0.",
        "d⁺_i = ‖a_i − p_i‖ and d⁻_i = ‖a_i − n_i‖ are row norms (np.linalg.norm with axis=1, "
        "or the square root of the row sums of squares); L_i = max(0, d⁺_i − d⁻_i + m); "
        "average over rows.",
        "d_pos = np.linalg.norm(anchor - positive, axis=1); d_neg = ____; "
        "return float(np.mean(np.maximum(0, ____)))",
    ),
    misconceptions=(
        Misconception("squared distances", lambda a, p, n, margin=1.0: float(np.mean(_triplet_terms(a, p, n, margin, squared=True))),
                      "these are squared distances: use the Euclidean distance ‖a − p‖ (the square root "
                      "of the sum of squares), as torch's TripletMarginLoss does",
                      reteach="Use the Euclidean distance ‖a − p‖ (square root of the sum of squares), as torch's TripletMarginLoss.",
                      section='11_embeddings: Triplet loss: closer to the positive than to the negative, by a margin'),
        Misconception("no hinge", lambda a, p, n, margin=1.0: float(np.mean(_triplet_terms(a, p, n, margin, hinge=False))),
                      "satisfied triplets count as negative losses: clip each term at 0 with max(0, ·)",
                      reteach='A satisfied triplet costs 0, never a reward: max(0, d(a, p) − d(a, n) + m).',
                      section='11_embeddings: Triplet loss: closer to the positive than to the negative, by a margin',
                      explorer='embedding_forces'),
        Misconception("swapped", lambda a, p, n, margin=1.0: float(np.mean(_triplet_terms(a, n, p, margin))),
                      "positive and negative are swapped: the loss is d(a, p) − d(a, n) + m, so a far "
                      "positive is what costs",
                      reteach='The loss is d(a, p) − d(a, n) + m: it charges a far positive and a near negative.',
                      section='11_embeddings: Triplet loss: closer to the positive than to the negative, by a margin',
                      explorer='embedding_forces'),
        Misconception("sum", lambda a, p, n, margin=1.0: float(np.sum(_triplet_terms(a, p, n, margin))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='11_embeddings: Triplet loss: closer to the positive than to the negative, by a margin'),
        Misconception("whole-array norm",
                      lambda a, p, n, margin=1.0: float(max(0.0, np.linalg.norm(_f(a) - _f(p)) - np.linalg.norm(_f(a) - _f(n)) + margin)),
                      "one norm over the whole array: take the distance of each row (axis=1), "
                      "then one loss per triplet",
                      reteach='One distance per triplet: norm of each row (axis=1), then one loss per row, then the mean.',
                      section='11_embeddings: Triplet loss: closer to the positive than to the negative, by a margin'),
    ),
    solution='''def triplet_loss(anchor, positive, negative, margin=1.0):
    a = np.asarray(anchor, dtype=float)
    d_pos = np.sqrt(((a - positive) ** 2).sum(axis=1))
    d_neg = np.sqrt(((a - negative) ** 2).sum(axis=1))
    return float(np.mean(np.maximum(0.0, d_pos - d_neg + margin)))
''',
    forbidden=(
        "lossbook.losses.triplet_margin",
        "torch.nn.functional.triplet_margin_loss",
        "torch.nn.functional.pairwise_distance",
    ),
)


# ---------------------------------------------------------------------------
# info_nce
# ---------------------------------------------------------------------------
def _info_nce_cases():
    rng = np.random.default_rng(1103)
    cases = [
        Case("two orthogonal pairs, temperature 1",
             (np.array([[1.0, 0.0], [0.0, 2.0]]), np.array([[3.0, 0.0], [0.0, 0.5]])),
             {"temperature": 1.0}),
        Case("rows of very different lengths",
             (np.array([[10.0, 0.0, 0.0], [0.0, 0.1, 0.0], [0.0, 0.0, 3.0]]),
              np.array([[1.0, 1.0, 0.0], [0.0, 5.0, 1.0], [0.2, 0.0, 1.0]]))),
        Case("all queries alike (collapsed)", (np.ones((4, 3)), np.array(
            [[1.0, 2.0, 0.5], [0.3, 1.0, 1.0], [2.0, 0.1, 1.0], [1.0, 1.0, 1.0]])), {"temperature": 0.5}),
        Case("one query and one key", (np.array([[0.6, 0.8]]), np.array([[-1.0, 2.0]]))),
        Case("large logits at temperature 0.01",
             (np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.2]]), np.array([[0.9, 0.1], [0.2, 1.0], [0.1, 1.0]])),
             {"temperature": 0.01}),
    ]
    for n, dim, tau in ((5, 4, 0.1), (16, 8, 0.2), (8, 3, 0.07)):
        q = rng.normal(scale=rng.uniform(0.5, 3.0, size=(n, 1)), size=(n, dim))
        k = q + rng.normal(scale=0.7, size=(n, dim))
        cases.append(Case(f"random, {n} pairs in {dim}-D, temperature {tau}", (q, k), {"temperature": tau}))
    return cases


def _lse(s, axis=1):
    m = s.max(axis=axis, keepdims=True)
    return (m + np.log(np.exp(s - m).sum(axis=axis, keepdims=True))).squeeze(axis)


def _info_nce_terms(q, k, temperature=0.1, normalise=True, use_temperature=True, transpose=False):
    q, k = _f(q), _f(k)
    if normalise:
        q = q / np.linalg.norm(q, axis=1, keepdims=True)
        k = k / np.linalg.norm(k, axis=1, keepdims=True)
    s = q @ k.T / (temperature if use_temperature else 1.0)
    if transpose:
        s = s.T
    return _lse(s) - np.diag(s)


INFO_NCE = Exercise(
    id="info_nce",
    title="InfoNCE: softmax cross-entropy over similarities",
    lesson=LESSON,
    params="queries, keys, temperature=0.1",
    docstring="""Mean InfoNCE loss (SimCLR / CLIP style):

    normalise every row of queries and keys to length 1,
    S = queries_hat @ keys_hat.T / temperature          (an n x n matrix)
    L_i = -log( exp(S_ii) / sum_j exp(S_ij) )           (the positive of query i is key i)

Must stay finite for temperatures as small as 0.01 (subtract each row's maximum).

Parameters
----------
queries, keys : numpy arrays of shape (n, d), no all-zero row
temperature : float > 0

Returns
-------
float, the mean over the n queries""",
    reference=lambda q, k, temperature=0.1: losses.info_nce(q, k, temperature=temperature),
    output="scalar",
    build_cases=_info_nce_cases,
    count=_rows,
    hints=(
        "Row i of the similarity matrix is a set of logits over 'which key is mine?', and the "
        "right answer is key i: this is softmax cross-entropy with the labels 0, 1, …, n−1.",
        "Divide each row by its length (np.linalg.norm(..., axis=1, keepdims=True)), form "
        "S = Q̂ K̂ᵀ / τ, then L_i = logsumexp(S_i) − S_ii with the row maximum subtracted "
        "inside the log-sum-exp; average over rows.",
        "S = qn @ kn.T / temperature; m = S.max(axis=1, keepdims=True); "
        "lse = m[:, 0] + np.log(np.exp(S - m).sum(axis=1)); return float(np.mean(lse - ____))",
    ),
    misconceptions=(
        Misconception("no normalisation", lambda q, k, temperature=0.1: float(np.mean(_info_nce_terms(q, k, temperature, normalise=False))),
                      "the rows are not normalised: InfoNCE uses cosine similarities, so divide each "
                      "query and key by its length before the dot products",
                      reteach='InfoNCE compares cosine similarities: divide each query and key by its length before the dot products.',
                      section='11_embeddings: InfoNCE: softmax cross-entropy over similarities'),
        Misconception("no temperature", lambda q, k, temperature=0.1: float(np.mean(_info_nce_terms(q, k, temperature, use_temperature=False))),
                      "the temperature is missing: divide the similarities by τ before the softmax",
                      reteach='Divide the similarities by τ before the softmax: τ sets how sharply the right key must win.',
                      section='11_embeddings: InfoNCE: softmax cross-entropy over similarities'),
        Misconception("columns", lambda q, k, temperature=0.1: float(np.mean(_info_nce_terms(q, k, temperature, transpose=True))),
                      "the softmax runs over the wrong axis: each query (row of S) chooses among "
                      "the keys, so log-sum-exp over axis=1",
                      reteach='Each query (row of S) chooses among the keys: log-sum-exp over axis=1.',
                      section='11_embeddings: InfoNCE: softmax cross-entropy over similarities'),
        Misconception("sum", lambda q, k, temperature=0.1: float(np.sum(_info_nce_terms(q, k, temperature))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='11_embeddings: InfoNCE: softmax cross-entropy over similarities'),
    ),
    solution='''def info_nce(queries, keys, temperature=0.1):
    q = np.asarray(queries, dtype=float)
    k = np.asarray(keys, dtype=float)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    k = k / np.linalg.norm(k, axis=1, keepdims=True)
    S = q @ k.T / temperature
    m = S.max(axis=1, keepdims=True)
    lse = m[:, 0] + np.log(np.exp(S - m).sum(axis=1))
    return float(np.mean(lse - np.diag(S)))
''',
    forbidden=(
        "lossbook.losses.info_nce",
        "torch.nn.functional.cross_entropy",
    ),
)


# ---------------------------------------------------------------------------
# kl_divergence
# ---------------------------------------------------------------------------
def _kl_cases():
    rng = np.random.default_rng(1104)
    cases = [
        Case("identical rows: KL is 0", (np.array([[0.2, 0.3, 0.5]]), np.array([[0.2, 0.3, 0.5]]))),
        Case("one row, two outcomes", (np.array([[0.9, 0.1]]), np.array([[0.5, 0.5]]))),
        Case("p has zeros (0·log 0 = 0)",
             (np.array([[1.0, 0.0, 0.0], [0.5, 0.0, 0.5]]), np.array([[0.6, 0.3, 0.1], [0.25, 0.5, 0.25]]))),
        Case("asymmetric: p and q swapped matter",
             (np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]]), np.array([[0.1, 0.2, 0.7], [0.3, 0.4, 0.3]]))),
    ]
    for n, c in ((5, 4), (20, 10)):
        cases.append(Case(f"random, {n} rows x {c} outcomes",
                          (rng.dirichlet(np.ones(c), size=n), rng.dirichlet(np.ones(c), size=n))))
    p = rng.dirichlet(np.ones(6), size=7)
    p[:, :2] = 0.0
    p /= p.sum(axis=1, keepdims=True)
    cases.append(Case("random, 7 rows with zeros in p", (p, rng.dirichlet(np.ones(6), size=7))))
    return cases


def _kl_rows(p, q):
    p, q = _f(p), _f(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / q), 0.0)
    return terms.sum(axis=1)


def _naive_kl_rows(p, q):
    p, q = _f(p), _f(q)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (p * np.log(p / q)).sum(axis=1)


KL = Exercise(
    id="kl_divergence",
    title="KL divergence of probability rows",
    lesson=LESSON,
    params="p, q",
    docstring="""Mean over rows of the Kullback-Leibler divergence KL(p_i || q_i):

    KL(p_i || q_i) = sum_k p_ik * log(p_ik / q_ik),   with 0 * log 0 = 0

Parameters
----------
p, q : numpy arrays of shape (n, K); each row is a probability distribution
       (entries in [0, 1] summing to 1); q has no zeros, p may have some

Returns
-------
float, the mean over the n rows""",
    reference=lambda p, q: losses.kl_divergence(p, q),
    output="scalar",
    build_cases=_kl_cases,
    count=_rows,
    hints=(
        "KL(p‖q) measures how much worse q does than p on samples from p: the average, under p, "
        "of log(p/q). Each row is its own distribution.",
        "Sum p_ik·log(p_ik/q_ik) along each row (axis=1), then average over rows. Where "
        "p_ik = 0 the term is 0 by convention, but numpy computes 0·log 0 = nan: use np.where.",
        "terms = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0) / q), 0.0); "
        "return float(np.mean(____))",
    ),
    misconceptions=(
        Misconception("0 log 0", lambda p, q: float(np.mean(_naive_kl_rows(p, q))),
                      "nan where p has a zero: 0·log 0 should count as 0 (np.where(p > 0, …, 0))",
                      reteach='By the limit, 0·log 0 = 0: guard the terms with np.where(p > 0, …, 0).',
                      section='11_embeddings: KL divergence for distillation'),
        Misconception("reversed", lambda p, q: float(np.mean(_kl_rows(q, p))),
                      "this is KL(q‖p): the divergence is not symmetric, weight the logs by p: "
                      "Σ p log(p/q)",
                      reteach='KL is not symmetric: KL(p‖q) = Σ p log(p/q), weighted by p; compare forward and reverse fits.',
                      section='11_embeddings: KL divergence for distillation'),
        Misconception("cross-entropy", lambda p, q: float(np.mean(-(np.where(_f(p) > 0, _f(p) * np.log(_f(q)), 0.0)).sum(axis=1))),
                      "this is the cross-entropy −Σ p log q: KL subtracts p's own entropy, "
                      "Σ p log p − Σ p log q",
                      reteach='KL = cross-entropy − entropy: Σ p log p − Σ p log q; the cross-entropy alone is not 0 when p = q.',
                      section='11_embeddings: KL divergence for distillation'),
        Misconception("sum", lambda p, q: float(np.sum(_kl_rows(p, q))),
                      "exactly n times too large: did you sum instead of averaging?",
                      reteach='Re-derive the cost as the average of the per-example losses (1/n Σ); show that a sum grows with the data set while a mean does not.',
                      section='11_embeddings: KL divergence for distillation'),
    ),
    solution='''def kl_divergence(p, q):
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    safe_p = np.where(p > 0, p, 1.0)
    terms = np.where(p > 0, p * np.log(safe_p / q), 0.0)
    return float(np.mean(terms.sum(axis=1)))
''',
    forbidden=(
        "lossbook.losses.kl_divergence",
        "scipy.special.rel_entr",
        "scipy.special.kl_div",
        "scipy.stats.entropy",
        "torch.nn.functional.kl_div",
    ),
)


EXERCISES = (CONTRASTIVE, TRIPLET, INFO_NCE, KL)
