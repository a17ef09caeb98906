"""Every kind of bad input gets a ValueError/TypeError naming the argument and the fix."""
import numpy as np
import pytest

import lossbook.losses as L
from lossbook import regularization as R

ELEMENTWISE = [L.mse, L.mae, L.huber, L.log_cosh, L.quantile, L.mse_grad, L.mae_grad,
               L.huber_grad, L.log_cosh_grad, L.quantile_grad]
# The embedding losses and divergences take other arguments than (y_true, y_pred):
# their bad-input tests are in test_bad_input_embedding.py.
_OWN_TESTS = ("lossbook.losses.embedding", "lossbook.losses.divergence")
ALL_LOSSES = [getattr(L, name) for name in L.__all__
              if callable(getattr(L, name)) and name not in {"sigmoid", "softmax", "log_softmax"}
              and getattr(L, name).__module__ not in _OWN_TESTS]


def _valid_inputs(fn):
    """Valid (y_true, prediction, kwargs) for any loss or gradient."""
    name = fn.__name__
    if name.startswith(("cross_entropy", "softmax_cross_entropy", "multiclass_hinge")):
        return [0, 1], [[0.7, 0.3], [0.4, 0.6]], {}
    if "hinge" in name:
        return [1.0, -1.0], [0.3, 0.2], {}
    if name.startswith(("binary_cross_entropy", "bce", "focal")):
        return [1.0, 0.0], [0.3, 0.2], {}
    if name.startswith("barron"):
        return [1.0, 0.0], [0.3, 0.2], {"alpha": 1.0}
    return [1.0, 0.0], [0.3, 0.2], {}


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


@pytest.mark.parametrize("fn", ALL_LOSSES, ids=lambda f: f.__name__)
def test_unknown_reduction_everywhere(fn):
    y, p, kw = _valid_inputs(fn)
    fn(y, p, reduction="none", **kw)  # the valid call works
    with raises(ValueError, f"{fn.__name__}: reduction must be one of 'mean', 'sum', 'none'",
                "got 'average'", "use 'mean' for the cost"):
        fn(y, p, reduction="average", **kw)


@pytest.mark.parametrize("fn", ALL_LOSSES, ids=lambda f: f.__name__)
def test_nan_and_inf_predictions_everywhere(fn):
    y, p, kw = _valid_inputs(fn)
    bad = np.array(p, dtype=float)
    bad.flat[1] = np.nan
    with raises(ValueError, f"{fn.__name__}: ", "must be finite, got 1 NaN", "impute"):
        fn(y, bad, **kw)
    bad.flat[1] = np.inf
    with raises(ValueError, "must be finite, got 1 inf (first at index"):
        fn(y, bad, **kw)


@pytest.mark.parametrize("fn", ALL_LOSSES, ids=lambda f: f.__name__)
def test_non_numeric_predictions_everywhere(fn):
    y, p, kw = _valid_inputs(fn)
    with raises(TypeError, f"{fn.__name__}: ", "must hold numbers, got dtype <U", "convert to floats"):
        fn(y, np.array(p, dtype=str), **kw)
    with raises(TypeError, "must hold numbers, got booleans", "astype(float)"):
        fn(y, np.ones(np.shape(p), dtype=bool), **kw)
    with raises(TypeError, "got dtype object", "convert to floats"):
        fn(y, np.array(p, dtype=object), **kw)


@pytest.mark.parametrize("fn", ALL_LOSSES, ids=lambda f: f.__name__)
def test_empty_predictions_everywhere(fn):
    y, p, kw = _valid_inputs(fn)
    with pytest.raises(ValueError, match=rf"{fn.__name__}: .* is empty .*pass at least one example"):
        fn(np.zeros((0,)), np.zeros((0,) + np.shape(p)[1:]), **kw)


@pytest.mark.parametrize("fn", ELEMENTWISE, ids=lambda f: f.__name__)
def test_shape_mismatch(fn):
    with raises(ValueError, f"{fn.__name__}: y_true and y_pred must have the same shape",
                "y_true.shape=(2,) and y_pred.shape=(3,)", "pass one prediction per target"):
        fn([1.0, 2.0], [1.0, 2.0, 3.0])
    with raises(ValueError, "reshape one of them, e.g. y_pred.reshape(y_true.shape)"):
        fn(np.zeros(6), np.zeros((2, 3)))


def test_lists_of_unequal_rows():
    with raises(TypeError, "mse: y_true must be an array of numbers", "equal-length rows"):
        L.mse([[1, 2], [3]], [1, 2])


def test_complex_input():
    with raises(TypeError, "mse: y_pred must hold real numbers, got complex", "y_pred.real"):
        L.mse([1.0], [1 + 1j])


def test_nan_in_targets_named():
    with raises(ValueError, "mae: y_true must be finite, got 1 NaN (first at index 0)"):
        L.mae([np.nan, 1.0], [0.0, 1.0])


def test_huge_finite_values_are_not_mistaken_for_inf():
    # The finite check sums first; an overflowing sum must fall back to the exact test.
    assert L.mae([1e308, 1e308], [1e308, 1e308]) == 0.0


@pytest.mark.parametrize("delta", [-1.0, 0.0])
def test_huber_delta_must_be_positive(delta):
    with raises(ValueError, "huber: delta must be > 0", "pass a positive number, e.g. delta=1.0"):
        L.huber([1.0], [2.0], delta=delta)
    with raises(ValueError, "huber_grad: delta must be > 0"):
        L.huber_grad([1.0], [2.0], delta=delta)


def test_scalar_parameters_type_and_nan():
    with raises(TypeError, "huber: delta must be a single real number, got str '1'", "delta=1.0"):
        L.huber([1.0], [2.0], delta="1")
    with raises(TypeError, "huber: delta must be a single real number, got list"):
        L.huber([1.0], [2.0], delta=[1.0])
    with raises(ValueError, "huber: delta must be a finite number, got nan"):
        L.huber([1.0], [2.0], delta=float("nan"))


@pytest.mark.parametrize("q", [0.0, 1.0, -0.5, 1.5])
def test_quantile_q_in_open_interval(q):
    with raises(ValueError, "quantile: q must be in (0, 1)", "e.g. q=0.5 for the median"):
        L.quantile([1.0], [2.0], q=q)
    with raises(ValueError, "quantile_grad: q must be in (0, 1)"):
        L.quantile_grad([1.0], [2.0], q=q)


def test_probabilities_outside_unit_interval():
    with raises(ValueError, "binary_cross_entropy: p must hold probabilities in [0, 1]",
                "got values {-0.2, 1.5}", "use binary_cross_entropy_with_logits"):
        L.binary_cross_entropy([0.0, 1.0, 1.0], [-0.2, 1.5, 0.5])
    with raises(ValueError, "binary_cross_entropy_grad: p must hold probabilities"):
        L.binary_cross_entropy_grad([0.0], [3.0])
    with raises(ValueError, "cross_entropy: p must hold probabilities in [0, 1]",
                "use softmax_cross_entropy"):
        L.cross_entropy([0], [[2.0, -1.0]])
    with raises(ValueError, "focal: p must hold probabilities in [0, 1]", "sigmoid(z)"):
        L.focal([1.0], [1.2])


def test_binary_targets_outside_unit_interval():
    with raises(ValueError, "binary_cross_entropy: y_true must hold probabilities in [0, 1]",
                "got values {2}", "0/1 labels"):
        L.binary_cross_entropy([0.0, 2.0], [0.5, 0.5])
    with raises(ValueError, "binary_cross_entropy_with_logits: y_true must hold probabilities",
                "got values {-1}"):
        L.binary_cross_entropy_with_logits([-1.0, 1.0], [0.5, 0.5])


def test_rows_not_summing_to_one():
    with raises(ValueError, "cross_entropy: each row of p must sum to 1", "got row sums {1.1}",
                "p / p.sum(axis=-1, keepdims=True)"):
        L.cross_entropy([0, 1], [[0.5, 0.6], [0.5, 0.5]])
    with raises(ValueError, "cross_entropy_grad: each row of y_true must sum to 1",
                "got row sums {0.5}"):
        L.cross_entropy_grad([[0.5, 0.0]], [[0.5, 0.5]])
    with raises(ValueError, "softmax_cross_entropy: each row of y_true must sum to 1"):
        L.softmax_cross_entropy([[1.0, 1.0]], [[0.5, 0.5]])


@pytest.mark.parametrize("fn", [L.cross_entropy, L.cross_entropy_grad, L.softmax_cross_entropy,
                                L.softmax_cross_entropy_grad, L.multiclass_hinge,
                                L.multiclass_hinge_grad], ids=lambda f: f.__name__)
def test_class_index_out_of_range_or_not_integer(fn):
    p = [[0.5, 0.5], [0.5, 0.5]]
    with raises(ValueError, f"{fn.__name__}: y_true holds class indices outside 0..1",
                "the predictions have 2 columns", "got {2}", "subtract 1 from 1-based labels"):
        fn([1, 2], p)
    with raises(ValueError, "outside 0..1", "got {-1}"):
        fn([0, -1], p)
    with raises(ValueError, "y_true as class indices must be whole numbers", "got values {0.5}"):
        fn([0.5, 1.0], p)
    with raises(TypeError, "y_true as class indices must be integers, got dtype <U1"):
        fn(np.array(["a", "b"]), p)
    with raises(ValueError, "one", "per row"):
        fn([0, 1, 1], p)


def test_cross_entropy_target_shape():
    with raises(ValueError, "cross_entropy: y_true must be class indices of shape (1,) or "
                "one-hot/probability rows of shape (1, 2), got y_true.shape=(1, 3)"):
        L.cross_entropy([[1.0, 0.0, 0.0]], [[0.5, 0.5]])
    with raises(ValueError, "softmax_cross_entropy: z must have shape (n_examples, n_classes)"):
        L.softmax_cross_entropy([[0]], np.zeros((1, 2, 2)))


def test_multiclass_hinge_rejects_one_hot_with_fix():
    with raises(ValueError, "multiclass_hinge: y_true must be class indices",
                "pass y_true.argmax(axis=-1)"):
        L.multiclass_hinge([[1, 0]], [[0.5, 0.5]])


def test_signed_labels_for_hinge():
    for fn in (L.hinge, L.hinge_grad, L.squared_hinge, L.squared_hinge_grad):
        with raises(ValueError, f"{fn.__name__}: y_true must contain only -1 and +1, got values "
                    "{0, 1}; convert 0/1 labels with y = 2*y - 1"):
            fn([0, 1, 1], [0.5, -0.2, 1.0])
    with raises(ValueError, "got values {1, 2}", "map the negative class to -1"):
        L.hinge([2, 1], [0.5, 0.5])


def test_binary_labels_for_focal():
    with raises(ValueError, "focal: y_true must contain only 0 and 1, got values {-1, 1}",
                "y = (y + 1) / 2"):
        L.focal([-1, 1], [0.5, 0.5])


def test_parameter_ranges():
    cases = [
        (lambda: L.focal([1], [0.5], gamma=-1), "focal: gamma must be >= 0"),
        (lambda: L.focal([1], [0.5], alpha=1.5), "focal: alpha must be in [0, 1]"),
        (lambda: L.barron([0], [1], alpha=np.inf), "barron: alpha must be finite or -inf"),
        (lambda: L.barron([0], [1], alpha=1.0, c=0), "barron: c must be > 0"),
        (lambda: L.softmax_cross_entropy([0], [[0.0, 1.0]], label_smoothing=1.5),
         "softmax_cross_entropy: label_smoothing must be in [0, 1]"),
        (lambda: L.multiclass_hinge([0], [[0.0, 1.0]], margin=-1),
         "multiclass_hinge: margin must be >= 0"),
        (lambda: L.binary_cross_entropy([1], [0.5], eps=0.5), "binary_cross_entropy: eps must be in [0, 0.5)"),
        (lambda: R.l1([1.0], lam=-0.1), "l1: lam must be >= 0, got -0.1"),
        (lambda: R.l2_grad([1.0], lam=-1), "l2_grad: lam must be >= 0"),
        (lambda: R.elastic_net([1.0], 1.0, l1_ratio=1.2), "elastic_net: l1_ratio must be in [0, 1]"),
        (lambda: R.soft_threshold([1.0], -1), "soft_threshold: t must be >= 0"),
    ]
    for call, fragment in cases:
        with raises(ValueError, fragment, "; "):
            call()


def test_regularization_bad_weights():
    with raises(ValueError, "l2: w must be finite, got 1 NaN"):
        R.l2([1.0, np.nan], 0.1)
    with raises(TypeError, "l1: w must hold numbers, got dtype <U"):
        R.l1(["a"], 0.1)
    with raises(ValueError, "l1_grad: w is empty"):
        R.l1_grad([], 0.1)


def test_link_functions_validate_too():
    with raises(ValueError, "softmax: z must be finite, got 1 NaN"):
        L.softmax([0.0, np.nan])
    with raises(TypeError, "sigmoid: z must hold numbers"):
        L.sigmoid(["x"])
