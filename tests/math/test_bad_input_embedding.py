"""Bad input to the embedding losses, KL and the calibration metrics: every argument
position gets a ValueError/TypeError naming the function, the argument and the fix."""
import numpy as np
import pytest

import lossbook.losses as L
from lossbook import metrics as M

TRIPLET = ([[0.0, 0.0]], [[0.6, 0.8]], [[3.0, 4.0]])
# (function, valid positional arrays, their argument names)
CASES = [
    (L.contrastive, ([0.5, 2.0], [1, 0]), ("distance", "same")),
    (L.contrastive_grad, ([0.5, 2.0], [1, 0]), ("distance", "same")),
    (L.triplet_margin, TRIPLET, ("anchor", "positive", "negative")),
    (L.triplet_margin_grad, TRIPLET, ("anchor", "positive", "negative")),
    (L.info_nce, ([[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.1], [0.2, 1.0]]), ("queries", "keys")),
    (L.info_nce_grad, ([[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.1], [0.2, 1.0]]), ("queries", "keys")),
    (L.margin_ranking, ([1.0, 0.0], [0.0, 1.0], [1, -1]), ("scores_1", "scores_2", "y")),
    (L.margin_ranking_grad, ([1.0, 0.0], [0.0, 1.0], [1, -1]), ("scores_1", "scores_2", "y")),
    (L.pairwise_logistic, ([1.0, 0.0], [0.0, 1.0], [1, -1]), ("scores_1", "scores_2", "y")),
    (L.pairwise_logistic_grad, ([1.0, 0.0], [0.0, 1.0], [1, -1]),
     ("scores_1", "scores_2", "y")),
    (L.kl_divergence, ([[0.5, 0.5]], [[0.9, 0.1]]), ("p", "q")),
    (L.kl_divergence_grad, ([[0.5, 0.5]], [[0.9, 0.1]]), ("p", "q")),
]
IDS = [c[0].__name__ for c in CASES]


def raises(exc, *fragments):
    """pytest.raises that also checks each fragment appears in the message."""
    class _Check:
        def __enter__(self):
            self.ctx = pytest.raises(exc)
            self.info = self.ctx.__enter__()
            return self.info

        def __exit__(self, *args):
            suppressed = self.ctx.__exit__(*args)
            message = str(self.info.value)
            for fragment in fragments:
                assert fragment in message, f"{fragment!r} not in {message!r}"
            return suppressed
    return _Check()


def _with(args, position, value):
    args = list(args)
    args[position] = value
    return args


@pytest.mark.parametrize("fn,args,names", CASES, ids=IDS)
def test_valid_call_and_unknown_reduction(fn, args, names):
    fn(*args, reduction="none")
    with raises(ValueError, f"{fn.__name__}: reduction must be one of", "got 'average'"):
        fn(*args, reduction="average")


@pytest.mark.parametrize("fn,args,names", CASES, ids=IDS)
def test_options_are_keyword_only(fn, args, names):
    with pytest.raises(TypeError, match="positional argument"):
        fn(*args, 1.0)


@pytest.mark.parametrize("fn,args,names", CASES, ids=IDS)
def test_nan_in_every_argument_is_named(fn, args, names):
    for position, name in enumerate(names):
        bad = np.array(args[position], dtype=float)
        bad.flat[0] = np.nan
        with raises(ValueError, f"{fn.__name__}: {name} "):
            fn(*_with(args, position, bad))


@pytest.mark.parametrize("fn,args,names", CASES, ids=IDS)
def test_strings_booleans_and_empty_are_named(fn, args, names):
    for position, name in enumerate(names):
        shaped = np.asarray(args[position])
        with raises(TypeError, f"{fn.__name__}: {name} must hold numbers"):
            fn(*_with(args, position, np.full(shaped.shape, "a")))
        with raises(TypeError, f"{fn.__name__}: {name}", "astype(float)"):
            fn(*_with(args, position, np.ones(shaped.shape, dtype=bool)))
        with raises(ValueError, f"{fn.__name__}: {name}"):
            fn(*_with(args, position, []))


# info_nce accepts more keys than queries (extra negatives): its shape errors are
# in test_specific_messages.
@pytest.mark.parametrize("fn,args,names", [c for c in CASES if "info_nce" not in IDS[CASES.index(c)]],
                         ids=[i for i in IDS if "info_nce" not in i])
def test_shape_mismatch_is_named(fn, args, names):
    longer = np.concatenate([np.asarray(args[-1], dtype=float)] * 3)
    with raises(ValueError, f"{fn.__name__}: "):
        fn(*_with(args, len(args) - 1, longer))


def test_specific_messages():
    with raises(ValueError, "contrastive: distance must be >= 0", "np.linalg.norm"):
        L.contrastive([-0.5, 1.0], [1, 0])
    with raises(ValueError, "contrastive: same must contain only 0 and 1", "(y + 1) / 2"):
        L.contrastive([0.5, 1.0], [1, -1])
    with raises(ValueError, "contrastive: margin must be >= 0"):
        L.contrastive([0.5], [1], margin=-1.0)
    with raises(TypeError, "triplet_margin: margin must be a single real number"):
        L.triplet_margin(*TRIPLET, margin="1")
    with raises(ValueError, "triplet_margin: anchor and negative must have the same shape"):
        L.triplet_margin([[0.0, 0.0]], [[1.0, 0.0]], [[1.0, 0.0, 0.0]])
    with raises(ValueError, "triplet_margin: anchor must have shape (n_examples, dim)"):
        L.triplet_margin(np.zeros((1, 2, 2)), np.zeros((1, 2, 2)), np.zeros((1, 2, 2)))
    with raises(ValueError, "info_nce: temperature must be > 0", "e.g. 0.1"):
        L.info_nce([[1.0, 0.0]], [[1.0, 0.0]], temperature=0.0)
    with raises(ValueError, "info_nce: every row of keys must be a non-zero vector",
                "index 1"):
        L.info_nce([[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0], [0.0, 0.0]])
    with raises(ValueError, "info_nce: keys must have at least one row per query"):
        L.info_nce([[1.0, 0.0], [0.0, 1.0]], [[1.0, 0.0]])
    with raises(ValueError, "info_nce: queries and keys must have the same dimension"):
        L.info_nce([[1.0, 0.0]], [[1.0, 0.0, 0.0]])
    with raises(ValueError, "info_nce: queries must have shape (n_examples, dim)"):
        L.info_nce([1.0, 0.0], [1.0, 0.0])
    with raises(ValueError, "margin_ranking: y must contain only -1 and +1", "2*y - 1"):
        L.margin_ranking([1.0, 0.0], [0.0, 1.0], [1, 0])
    with raises(ValueError, "kl_divergence: each row of q must sum to 1", "normalise"):
        L.kl_divergence([[0.5, 0.5]], [[0.5, 0.6]])
    with raises(ValueError, "kl_divergence: q must hold probabilities in [0, 1]", "softmax"):
        L.kl_divergence([[0.5, 0.5]], [[1.5, -0.5]])
    with raises(ValueError, "kl_divergence: p and q must have the same shape"):
        L.kl_divergence([[0.5, 0.5]], [[0.5, 0.25, 0.25]])


PROBA = [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]]


@pytest.mark.parametrize("fn", [M.expected_calibration_error, M.reliability_bins],
                         ids=lambda f: f.__name__)
def test_metrics_bad_input(fn):
    name = fn.__name__
    fn([0, 1, 1], PROBA, n_bins=3)
    with raises(ValueError, f"{name}: proba must have shape (n_examples, n_classes)",
                "np.column_stack([1 - p, p])"):
        fn([0, 1, 1], [0.9, 0.05, 0.05])
    with raises(ValueError, f"{name}: each row of proba must sum to 1"):
        fn([0, 1, 1], [[0.9, 0.2], [0.2, 0.8], [0.6, 0.4]])
    with raises(ValueError, f"{name}: y_true holds class indices outside 0..1"):
        fn([0, 1, 2], PROBA)
    with raises(ValueError, f"{name}: y_true must hold one integer label per row"):
        fn([0, 1], PROBA)
    with raises(ValueError, f"{name}: y_true as class indices must be whole numbers"):
        fn([0, 0.5, 1], PROBA)
    with raises(TypeError, f"{name}: n_bins must be a whole number", "n_bins=15"):
        fn([0, 1, 1], PROBA, n_bins=2.5)
    with raises(ValueError, f"{name}: n_bins must be >= 1"):
        fn([0, 1, 1], PROBA, n_bins=0)
    with raises(ValueError, f"{name}: proba must be finite"):
        fn([0, 1, 1], [[np.nan, 0.1], [0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(TypeError, match="positional argument"):
        fn([0, 1, 1], PROBA, 15)
