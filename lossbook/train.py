r"""A tiny, readable gradient-descent trainer for linear, logistic and softmax models.

Every model here is linear in its parameters: scores :math:`S = Xw + b` (one column of
weights per class for softmax, :math:`S = XW + b`). Training minimises the cost

.. math:: J(w, b) = \underbrace{\mathrm{loss}(y, Xw + b)}_{\text{data term (mean)}}
                    + \underbrace{R(w)}_{\text{penalty}}

by plain gradient descent. The chain rule gives the gradient from the loss's gradient
with respect to the scores, :math:`G = \partial\,\mathrm{loss} / \partial S` (what every
``lossbook.losses.<name>_grad`` returns):

.. math:: \nabla_w J = X^\top G + \nabla R(w), \qquad \nabla_b J = \textstyle\sum_i G_i

The bias is never penalised: the penalty is about the size of the weights (the slope),
not about where the line sits.

Two functions are the references of learner exercises and keep their exact signatures:
:func:`regularized_cost` (lesson 06) and :func:`gradient_descent_step` (lesson 07).
"""
from __future__ import annotations

import math
import numbers
import warnings
from dataclasses import dataclass, field

import numpy as np

from lossbook import _validation as v

__all__ = [
    "regularized_cost",
    "gradient_descent_step",
    "FitResult",
    "fit",
    "fit_linear",
    "fit_logistic",
    "fit_softmax",
    "MULTICLASS_LOSSES",
]

#: Losses on a matrix of scores, one column per class (their models have a weight matrix).
MULTICLASS_LOSSES = frozenset({"softmax_cross_entropy", "multiclass_hinge"})
PENALTIES = ("l1", "l2", "elastic_net")


# --- the two exercise references ----------------------------------------------------------


def regularized_cost(w, b, X, y, lam, penalty="l2") -> float:
    r"""MSE of a linear model plus a penalty on its weights (the bias is not penalised).

    .. math:: J(w, b) = \frac1n \sum_{i=1}^n (x_i^\top w + b - y_i)^2 + R(w), \qquad
              R(w) = \lambda \sum_j w_j^2 \;(\text{"l2"}) \quad\text{or}\quad
              \lambda \sum_j |w_j| \;(\text{"l1"})

    Parameters
    ----------
    w : array_like of shape (d,)
        Weights.
    b : float
        Bias (intercept); not penalised.
    X : array_like of shape (n, d)
        Features, one row per example.
    y : array_like of shape (n,)
        Targets.
    lam : float
        Penalty strength λ ≥ 0.
    penalty : {"l2", "l1"}, default "l2"
        Which penalty.

    Returns
    -------
    float
        The cost J.

    Examples
    --------
    >>> X = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    >>> y = np.array([1.0, 2.0, 3.0])
    >>> regularized_cost([1.0, 2.0], 0.0, X, y, lam=0.0)      # a perfect fit
    0.0
    >>> regularized_cost([1.0, 2.0], 0.0, X, y, lam=0.5)      # 0.5 * (1 + 4)
    2.5
    >>> # residuals (5, 1, 1): (25 + 1 + 1) / 3 = 9, plus 0.5 * (|1| + |-2|); b = 5 is not penalised
    >>> regularized_cost([1.0, -2.0], 5.0, X, y, lam=0.5, penalty="l1")
    10.5
    """
    from lossbook.losses import mse

    func = "regularized_cost"
    w, b, X, y = _check_linear_model(w, b, X, y, func)
    lam = v.check_scalar(lam, "lam", func, low=0.0, fix="λ is a penalty strength, e.g. lam=0.1")
    if penalty not in ("l1", "l2"):
        raise ValueError(f"{func}: penalty must be 'l1' or 'l2', got {penalty!r}; "
                         "'l2' is λΣw², 'l1' is λΣ|w|")
    return float(mse(y, X @ w + b) + _penalty_value(penalty, w, lam))


def gradient_descent_step(w, b, X, y, lr, lam=0.0):
    r"""One gradient-descent step for linear regression with MSE and an L2 penalty.

    The cost :math:`J = \frac1n\sum_i (x_i^\top w + b - y_i)^2 + \lambda \sum_j w_j^2` has
    the gradient (with residuals :math:`r = Xw + b - y`)

    .. math:: \nabla_w J = \frac2n X^\top r + 2\lambda w, \qquad
              \frac{\partial J}{\partial b} = \frac2n \sum_i r_i

    and the step moves against it: :math:`w \leftarrow w - \eta\nabla_w J`,
    :math:`b \leftarrow b - \eta\,\partial J/\partial b`. The bias is not penalised.

    Parameters
    ----------
    w : array_like of shape (d,)
        Current weights (not modified).
    b : float
        Current bias.
    X : array_like of shape (n, d)
        Features.
    y : array_like of shape (n,)
        Targets.
    lr : float
        Learning rate η > 0.
    lam : float, default 0.0
        L2 penalty strength λ ≥ 0.

    Returns
    -------
    new_w : ndarray of shape (d,)
        A new array; ``w`` itself is left unchanged.
    new_b : float

    Examples
    --------
    >>> X = np.array([[1.0], [2.0]])
    >>> y = np.array([2.0, 4.0])
    >>> w, b = gradient_descent_step(np.zeros(1), 0.0, X, y, lr=0.1)
    >>> w, b        # grad_w = (2/2)(1*-2 + 2*-4) = -10, grad_b = (2/2)(-2 - 4) = -6
    (array([1.]), 0.6000000000000001)
    """
    func = "gradient_descent_step"
    w, b, X, y = _check_linear_model(w, b, X, y, func)
    lr = v.check_scalar(lr, "lr", func, low=0.0, low_open=True,
                        fix="the learning rate must be positive, e.g. lr=0.01")
    lam = v.check_scalar(lam, "lam", func, low=0.0, fix="λ is a penalty strength, e.g. lam=0.1")
    n = X.shape[0]
    r = X @ w + b - y
    grad_w = (2.0 / n) * (X.T @ r) + 2.0 * lam * w
    grad_b = (2.0 / n) * r.sum()
    return w - lr * grad_w, float(b - lr * grad_b)


# --- general training ----------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class FitResult:
    """What :func:`fit` returns: the final model and the history of the descent.

    Attributes
    ----------
    w : ndarray of shape (d,) or (d, k)
        Final weights (one column per class for a multi-class loss).
    b : float or ndarray of shape (k,)
        Final bias.
    costs : ndarray of shape (n_steps + 1,)
        Cost (data term + penalty) before the first step and after every step.
    data_costs : ndarray of shape (n_steps + 1,)
        The data term alone (the loss, averaged over the examples).
    recorded_steps : ndarray of int
        The steps at which ``weights`` and ``biases`` were recorded (0 = the start;
        always includes the last step).
    weights : ndarray of shape (len(recorded_steps), *w.shape)
    biases : ndarray of shape (len(recorded_steps), *b.shape)
    diverged : bool
        True if the cost stopped being finite (the learning rate was too large);
        the history then ends at the last finite cost.
    loss, penalty, lam, lr, loss_kwargs :
        The settings used (``loss_kwargs`` e.g. ``{"delta": 1.0}`` for Huber).
    """

    w: np.ndarray
    b: float | np.ndarray
    costs: np.ndarray
    data_costs: np.ndarray
    recorded_steps: np.ndarray
    weights: np.ndarray
    biases: np.ndarray
    diverged: bool
    loss: str
    penalty: str | None
    lam: float
    lr: float
    loss_kwargs: dict = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        """How many steps were taken."""
        return len(self.costs) - 1

    def scores(self, X) -> np.ndarray:
        """Raw model outputs ``X @ w + b`` (predictions, logits or class scores)."""
        X = _check_X(X, "FitResult.scores", self.w.shape[0])
        return X @ self.w + self.b

    def predict(self, X) -> np.ndarray:
        """Predictions: values for regression, labels for classification.

        Binary classification losses on logits predict 0/1 labels (scores > 0), hinge
        losses ±1 labels, multi-class losses the class with the largest score.
        """
        s = self.scores(X)
        if self.loss in MULTICLASS_LOSSES:
            return s.argmax(axis=1)
        if self.loss in _ZERO_ONE_LABEL_LOSSES:
            return (s > 0).astype(np.int64)
        if self.loss in _SIGNED_LABEL_LOSSES:
            return np.where(s > 0, 1, -1)
        return s


_ZERO_ONE_LABEL_LOSSES = frozenset({"binary_cross_entropy_with_logits"})
_SIGNED_LABEL_LOSSES = frozenset({"hinge", "squared_hinge"})


def fit(X, y, *, loss="mse", penalty=None, lam=0.0, l1_ratio=0.5, proximal=False, lr=0.1,
        steps=200, w0=None, b0=None, n_classes=None, record_every=1, **loss_kwargs) -> FitResult:
    r"""Fit a linear model by gradient descent on any loss plus any penalty.

    Each step computes the scores :math:`S = Xw + b`, the cost
    :math:`J = \mathrm{loss}(y, S) + R(w)`, and the gradient through the chain rule,

    .. math:: G = \frac{\partial\,\mathrm{loss}}{\partial S}, \qquad
              w \leftarrow w - \eta\,(X^\top G + \nabla R(w)), \qquad
              b \leftarrow b - \eta \textstyle\sum_i G_i

    where ``loss`` and its gradient ``G`` come from :mod:`lossbook.losses` (``<name>`` and
    ``<name>_grad`` with ``reduction="mean"``), and R from :mod:`lossbook.regularization`.
    At kinks (MAE, hinge, L1 at 0) the step uses the subgradient those functions document.

    Parameters
    ----------
    X : array_like of shape (n, d)
        Features, one row per example.
    y : array_like of shape (n,)
        Targets: values (regression), labels {0, 1} (``binary_cross_entropy_with_logits``),
        labels {-1, +1} (``hinge``, ``squared_hinge``) or class indices (multi-class losses).
    loss : str, default "mse"
        Name of a loss in :mod:`lossbook.losses` that works on scores, e.g. "mse", "mae",
        "huber", "log_cosh", "quantile", "binary_cross_entropy_with_logits", "hinge",
        "squared_hinge", "softmax_cross_entropy", "multiclass_hinge".
    penalty : {None, "l1", "l2", "elastic_net"}, default None
        Penalty on the weights (never on the bias).
    lam : float, default 0.0
        Penalty strength λ ≥ 0.
    l1_ratio : float in [0, 1], default 0.5
        Mix of L1 in the elastic net (ignored for other penalties).
    proximal : bool, default False
        For "l1" and "elastic_net": take the L1 part by its proximal step (ISTA),
        :math:`w \leftarrow \mathrm{soft\_threshold}(w - \eta\nabla_{\text{smooth}}, \eta\lambda\rho)`,
        instead of the subgradient :math:`\lambda\,\mathrm{sign}(w)`. The proximal step sets
        small weights exactly to 0 (the sparsity L1 is known for); the subgradient step
        makes them oscillate around 0.
    lr : float, default 0.1
        Learning rate η > 0.
    steps : int, default 200
        Number of steps (0 only evaluates the starting point).
    w0, b0 : array_like, optional
        Starting weights and bias (default zeros).
    n_classes : int, optional
        Number of classes for a multi-class loss (default: ``max(y) + 1``).
    record_every : int, default 1
        Record the weights every this many steps (the last step is always recorded).
    **loss_kwargs
        Passed to the loss and its gradient, e.g. ``delta=`` for Huber, ``q=`` for quantile.

    Returns
    -------
    FitResult
        Final ``w``, ``b`` and the history (``costs``, ``weights``, …).

    Examples
    --------
    >>> from lossbook.data import regression_1d
    >>> data = regression_1d(n=50, slope=2.0, intercept=1.0, noise=0.1, seed=0)
    >>> result = fit(data.X, data.y, loss="mse", lr=0.1, steps=300)
    >>> np.round(result.w, 2), round(result.b, 2)
    (array([2.01]), 1.0)
    >>> bool(result.costs[-1] < result.costs[0])
    True
    """
    func = "fit"
    X = _check_X(X, func)
    n, d = X.shape
    loss_fn, loss_grad = _loss_functions(loss, func)
    _check_loss_kwargs(loss, loss_fn, loss_kwargs, func)
    multiclass = loss in MULTICLASS_LOSSES
    y = _check_targets(y, n, multiclass, func)
    if penalty is not None and penalty not in PENALTIES:
        raise ValueError(f"{func}: penalty must be None, 'l1', 'l2' or 'elastic_net', got {penalty!r}")
    lam = v.check_scalar(lam, "lam", func, low=0.0, fix="λ is a penalty strength, e.g. lam=0.1")
    l1_ratio = v.check_scalar(l1_ratio, "l1_ratio", func, low=0.0, high=1.0)
    lr = v.check_scalar(lr, "lr", func, low=0.0, low_open=True,
                        fix="the learning rate must be positive, e.g. lr=0.01")
    steps = _check_count(steps, "steps", func, minimum=0)
    record_every = _check_count(record_every, "record_every", func, minimum=1)

    if multiclass:
        k = _n_classes(y, n_classes, func)
        w_shape, b_shape = (d, k), (k,)
    else:
        w_shape, b_shape = (d,), ()
    w = _start(w0, w_shape, "w0", func)
    b = _start(b0, b_shape, "b0", func)
    if not isinstance(proximal, (bool, np.bool_)):
        raise TypeError(f"{func}: proximal must be True or False, got {proximal!r}")
    penalty_value, penalty_grad = _penalty_functions(penalty, lam, l1_ratio)
    # ISTA: the smooth part of the penalty by gradient, the L1 part by soft-thresholding.
    threshold = 0.0
    if proximal and penalty in ("l1", "elastic_net") and lam > 0:
        rho = 1.0 if penalty == "l1" else l1_ratio
        threshold = lr * lam * rho
        _, penalty_grad = _penalty_functions("l2", lam * (1.0 - rho), 0.0)

    costs, data_costs = [], []
    recorded_steps, weights, biases = [], [], []
    diverged = False
    with np.errstate(over="ignore", invalid="ignore"):
        for step in range(steps + 1):
            scores = X @ w + b
            # an overflowed score would make the loss raise; a non-finite sum catches it cheaply
            finite = math.isfinite(np.add.reduce(scores, axis=None))
            data_cost = loss_fn(y, scores, reduction="mean", **loss_kwargs) if finite else math.inf
            cost = data_cost + penalty_value(w)
            if not math.isfinite(cost):
                diverged = True
                break
            costs.append(cost)
            data_costs.append(data_cost)
            if step % record_every == 0 or step == steps:
                recorded_steps.append(step)
                weights.append(w)
                biases.append(b)
            if step == steps:
                break
            G = loss_grad(y, scores, reduction="mean", **loss_kwargs)
            w_previous, b_previous = w, b
            w = w - lr * (X.T @ G + penalty_grad(w))      # new arrays: the history keeps the old ones
            if threshold:
                w = _soft_threshold(w, threshold)
            b = b - lr * G.sum(axis=0)

    if diverged:
        if step == 0:
            raise ValueError(f"{func}: the cost at the starting point is not finite; "
                             "start from smaller w0 / b0 (or the default zeros)")
        warnings.warn(
            f"fit: gradient descent diverged at step {step} (the cost overflowed) with lr={lr}; "
            f"try a smaller learning rate, e.g. lr={lr / 10:g}", RuntimeWarning, stacklevel=2)
        if not recorded_steps or recorded_steps[-1] != step - 1:
            recorded_steps.append(step - 1)
            weights.append(w_previous)
            biases.append(b_previous)
        w, b = weights[-1], biases[-1]

    return FitResult(
        w=w, b=float(b) if b.ndim == 0 else b,
        costs=np.array(costs), data_costs=np.array(data_costs),
        recorded_steps=np.array(recorded_steps, dtype=np.int64),
        weights=np.array(weights), biases=np.array(biases),
        diverged=diverged, loss=loss, penalty=penalty, lam=lam, lr=lr, loss_kwargs=dict(loss_kwargs),
    )


def fit_linear(X, y, loss="mse", **kwargs) -> FitResult:
    """Linear regression (or any loss on one score per example) by gradient descent.

    The same as :func:`fit` with a regression loss by default; see there for the
    arguments.

    Examples
    --------
    >>> from lossbook.data import regression
    >>> data = regression(n=100, n_features=2, noise=0.0, seed=0)
    >>> np.round(fit_linear(data.X, data.y, lr=0.05, steps=500).w, 3)
    array([ 1., -2.])
    """
    return fit(X, y, loss=loss, **kwargs)


def fit_logistic(X, y, loss="binary_cross_entropy_with_logits", **kwargs) -> FitResult:
    r"""Logistic regression (labels {0, 1}) by gradient descent on the stable logit loss.

    The model's logits are :math:`z = Xw + b` and :math:`P(y=1 \mid x) = \sigma(z)`.
    Pass ``loss="hinge"`` with labels ±1 for a linear SVM instead. See :func:`fit`.

    Examples
    --------
    >>> from lossbook.data import two_class
    >>> data = two_class(n=100, separable=True, seed=0)
    >>> result = fit_logistic(data.X, data.y, lr=0.5, steps=200)
    >>> float((result.predict(data.X) == data.y).mean())
    1.0
    """
    return fit(X, y, loss=loss, **kwargs)


def fit_softmax(X, y, loss="softmax_cross_entropy", **kwargs) -> FitResult:
    r"""Softmax (multinomial logistic) regression by gradient descent.

    Scores :math:`S = XW + b` with one column per class, probabilities
    :math:`\mathrm{softmax}(S)` row by row; ``y`` holds class indices. See :func:`fit`.

    Examples
    --------
    >>> from lossbook.data import three_class_blobs
    >>> data = three_class_blobs(n=90, seed=0)
    >>> result = fit_softmax(data.X, data.y, lr=0.5, steps=200)
    >>> result.w.shape, result.b.shape
    ((2, 3), (3,))
    >>> bool((result.predict(data.X) == data.y).mean() > 0.9)
    True
    """
    return fit(X, y, loss=loss, **kwargs)


# --- helpers --------------------------------------------------------------------------------


def _loss_functions(loss, func):
    from lossbook import losses

    if not isinstance(loss, str):
        raise TypeError(f"{func}: loss must be the name of a loss in lossbook.losses, e.g. "
                        f"loss='mse', got {type(loss).__name__}")
    loss_fn = getattr(losses, loss, None)
    loss_grad = getattr(losses, f"{loss}_grad", None)
    if loss_fn is None or loss_grad is None or loss in _PROBABILITY_LOSSES:
        known = sorted(name[:-5] for name in dir(losses)
                       if name.endswith("_grad") and name[:-5] not in _PROBABILITY_LOSSES
                       and callable(getattr(losses, name[:-5], None)))
        fix = ""
        if loss in _PROBABILITY_LOSSES:
            fix = (" (it takes probabilities; a linear model outputs scores, so use "
                   f"{_PROBABILITY_LOSSES[loss]!r})")
        raise ValueError(f"{func}: loss {loss!r} cannot be trained here{fix}; choose one of "
                         + ", ".join(known))
    return loss_fn, loss_grad


def _check_loss_kwargs(loss, loss_fn, loss_kwargs, func):
    import inspect

    options = [name for name in inspect.signature(loss_fn).parameters
               if name not in ("y_true", "y_pred", "p", "z", "scores", "reduction")]
    for name in loss_kwargs:
        if name == "reduction":
            raise TypeError(f"{func}: reduction cannot be chosen here: gradient descent "
                            "minimises the cost, the mean loss over the examples")
        if name not in options:
            raise TypeError(f"{func}: {name}={loss_kwargs[name]!r} is not an option of {loss}; "
                            + (f"its options are {', '.join(options)}" if options
                               else f"{loss} has no options"))


# Losses on probabilities: a linear model's scores are not probabilities.
_PROBABILITY_LOSSES = {
    "binary_cross_entropy": "binary_cross_entropy_with_logits",
    "cross_entropy": "softmax_cross_entropy",
    "focal": "focal_with_logits",
    "focal_loss": "focal_with_logits",
}


def _penalty_functions(penalty, lam, l1_ratio):
    """(value(w), gradient(w)) of the penalty; zero for ``penalty=None``."""
    if penalty is None or lam == 0.0:
        return (lambda w: 0.0), (lambda w: 0.0)
    from lossbook import regularization as reg

    if penalty == "elastic_net":
        return (lambda w: reg.elastic_net(w, lam, l1_ratio=l1_ratio),
                lambda w: reg.elastic_net_grad(w, lam, l1_ratio=l1_ratio))
    value, grad = getattr(reg, penalty), getattr(reg, f"{penalty}_grad")
    return (lambda w: value(w, lam)), (lambda w: grad(w, lam))


def _soft_threshold(w, t):
    from lossbook.regularization import soft_threshold

    return soft_threshold(w, t)


def _penalty_value(penalty, w, lam):
    from lossbook import regularization as reg

    return getattr(reg, penalty)(w, lam)


def _check_X(X, func, n_features=None):
    X = v.as_float_array(X, "X", func)
    if X.ndim != 2:
        fix = "X.reshape(-1, 1) for one feature" if X.ndim == 1 else "one row per example"
        raise ValueError(f"{func}: X must be 2-D, shape (n_examples, n_features), got shape "
                         f"{X.shape}; use {fix}")
    if n_features is not None and X.shape[1] != n_features:
        raise ValueError(f"{func}: X must have {n_features} columns (one per weight), got shape "
                         f"{X.shape}; pass the same features the model was fitted on")
    return X


def _check_linear_model(w, b, X, y, func):
    X = _check_X(X, func)
    n, d = X.shape
    w = v.as_float_array(w, "w", func)
    if w.shape != (d,):
        raise ValueError(f"{func}: w must have one weight per column of X, shape ({d},), got "
                         f"shape {w.shape}" + ("; flatten it with w.ravel()" if w.size == d else ""))
    b = v.check_scalar(b, "b", func, fix="the bias is one number")
    if not math.isfinite(b):
        raise ValueError(f"{func}: b must be finite, got {b}")
    y = v.as_float_array(y, "y", func)
    if y.shape != (n,):
        raise ValueError(f"{func}: y must have one target per row of X, shape ({n},), got shape "
                         f"{y.shape}" + ("; flatten it with y.ravel()" if y.size == n else ""))
    return w, b, X, y


def _check_targets(y, n, multiclass, func):
    if multiclass:
        y = np.asarray(y)
        if y.dtype.kind in "f" and np.all(np.isfinite(y)) and np.all(y == np.round(y)):
            y = y.astype(np.int64)
        if y.dtype.kind not in "iu":
            raise TypeError(f"{func}: y must hold class indices 0..k-1 (integers) for a "
                            f"multi-class loss, got dtype {y.dtype}")
    else:
        y = v.as_float_array(y, "y", func)
    if y.shape != (n,):
        raise ValueError(f"{func}: y must have one target per row of X, shape ({n},), got shape "
                         f"{y.shape}" + ("; flatten it with y.ravel()" if y.size == n else ""))
    return y


def _n_classes(y, n_classes, func):
    if y.min() < 0:
        raise ValueError(f"{func}: y holds negative class indices {sorted(set(y[y < 0].tolist()))}; "
                         "number the classes 0..k-1")
    if n_classes is None:
        return int(y.max()) + 1
    n_classes = _check_count(n_classes, "n_classes", func, minimum=2)
    if y.max() >= n_classes:
        raise ValueError(f"{func}: y holds class index {int(y.max())} but n_classes={n_classes}; "
                         "pass a larger n_classes or number the classes 0..n_classes-1")
    return n_classes


def _check_count(value, name, func, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{func}: {name} must be a whole number, got {value!r}; pass e.g. {name}=100")
    if value < minimum:
        raise ValueError(f"{func}: {name} must be at least {minimum}, got {value}")
    return int(value)


def _start(value, shape, name, func):
    if value is None:
        return np.zeros(shape)
    arr = v.as_float_array(value, name, func)
    if arr.shape != shape:
        raise ValueError(f"{func}: {name} must have shape {shape}, got {arr.shape}")
    return arr.copy()
