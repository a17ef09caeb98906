r"""Exact minimisers of the course's regression costs: one home for every solver.

Each function fits a linear model :math:`\hat y = Xw + b` (a line :math:`\hat y = wx + b`
for one feature) by minimising a cost written in the course's conventions: a **mean over
the n examples**, residuals :math:`r = \hat y - y`, no ½ unless stated, and the bias
:math:`b` never penalised. Options are keyword-only, after the arrays.

- :func:`least_squares` — :math:`\frac1n\sum_i r_i^2`, by ``numpy.linalg.lstsq`` on
  centred data;
- :func:`ridge` — :math:`\frac1n\sum_i r_i^2 + \lambda\lVert w\rVert_2^2`, in closed form
  :math:`(G + \lambda I)^{-1} q`;
- :func:`lasso` — :math:`\frac1n\sum_i r_i^2 + \lambda\lVert w\rVert_1`, by coordinate
  descent made exact on the support;
- :func:`huber_regression` — :math:`\frac1n\sum_i L_\delta(r_i)`, by Newton's method with
  a line search;
- :func:`mae_line` — :math:`\frac1n\sum_i |r_i|` for one feature, exactly (the best line
  through a data point);
- :func:`fit_line` — the three line fits, chosen by the name of the loss.

:math:`L_\delta` is :func:`lossbook.losses.huber` (½r² inside ±δ, δ(|r| − ½δ) outside).
The gradient-descent trainer :mod:`lossbook.train` minimises the same costs step by
step; these are the answers it approaches. Figures and explorers call these functions
and only draw.

With centred data (:math:`X_c = X - \bar x`, :math:`y_c = y - \bar y`) the best bias is
:math:`b = \bar y - \bar x^\top w` whatever the penalty, and the squared part of the cost
becomes the quadratic :math:`w^\top G w - 2 w^\top q + c` with :math:`G = X_c^\top X_c/n`,
:math:`q = X_c^\top y_c/n`: :class:`LeastSquaresProblem` holds it, and solves whole
ridge and lasso paths (many λ at once) on it.

>>> x = np.array([0.0, 1.0, 2.0, 3.0]); y = np.array([1.0, 3.0, 5.0, 20.0])
>>> fit_line(x, y, loss="mae")                 # through the three points on y = 2x + 1
(2.0, 1.0)
"""
from __future__ import annotations

import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from lossbook import _validation as v
from lossbook.losses import huber, huber_grad

__all__ = ["LINE_LOSSES", "LeastSquaresProblem", "least_squares", "ridge", "lasso",
           "huber_regression", "mae_line", "fit_line"]

#: The losses :func:`fit_line` fits exactly.
LINE_LOSSES: tuple[str, ...] = ("mse", "mae", "huber")

#: Pairs of (pivot, point) handled at once by :func:`mae_line` (bounds its memory).
_MAE_BLOCK = 1 << 20


# --- input checks (shapes of a regression problem) ------------------------------------


def _check_Xy(X, y, func: str) -> tuple[np.ndarray, np.ndarray]:
    X = v.as_float_array(X, "X", func)
    if X.ndim != 2:
        fix = "X.reshape(-1, 1) for one feature" if X.ndim == 1 else "one row per example"
        raise ValueError(f"{func}: X must be 2-D, shape (n_examples, n_features), got shape "
                         f"{X.shape}; use {fix}")
    y = v.as_float_array(y, "y", func)
    n = X.shape[0]
    if y.shape != (n,):
        raise ValueError(f"{func}: y must have one target per row of X, shape ({n},), got "
                         f"shape {y.shape}" + ("; flatten it with y.ravel()" if y.size == n
                                               else ""))
    if X.shape[1] == 0:
        raise ValueError(f"{func}: X has no columns (shape {X.shape}); pass at least one "
                         "feature")
    return X.astype(np.float64, copy=False), y.astype(np.float64, copy=False)


def _check_line(x, y, func: str) -> tuple[np.ndarray, np.ndarray]:
    x = v.as_float_array(x, "x", func)
    y = v.as_float_array(y, "y", func)
    if x.ndim != 1 or x.shape != y.shape:
        raise ValueError(f"{func}: x and y must be 1-D arrays of the same length (one point "
                         f"each), got shapes {x.shape} and {y.shape}; for several features "
                         "use least_squares / huber_regression with a 2-D X")
    if x.min() == x.max():
        raise ValueError(f"{func}: x must hold at least two different values, got only "
                         f"x = {float(x[0]):g}; a line through points that all share one x "
                         "is not defined")
    return x.astype(np.float64, copy=False), y.astype(np.float64, copy=False)


def _check_flag(value, name: str, func: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{func}: {name} must be True or False, got {value!r}")
    return bool(value)


def _check_lams(lams, func: str, *, positive: bool) -> np.ndarray:
    if isinstance(lams, (bool, np.bool_)) or not (
            isinstance(lams, numbers.Real) or isinstance(lams, (list, tuple, np.ndarray))):
        raise TypeError(f"{func}: lam must be a number (or a 1-D array of numbers for a "
                        f"path), got {type(lams).__name__} {lams!r}; pass e.g. lam=0.1")
    arr = v.as_float_array(lams, "lam", func)
    if arr.ndim > 1:
        raise ValueError(f"{func}: lam must be one number or a 1-D array of them, got shape "
                         f"{arr.shape}; flatten it with lam.ravel()")
    arr = np.atleast_1d(arr).astype(np.float64, copy=False)
    bad = arr <= 0 if positive else arr < 0
    if bad.any():
        rule, fix = ((" > 0", "use least_squares for lam = 0") if positive
                     else (" >= 0", "λ is a penalty strength, e.g. lam=0.1"))
        every = "every " if arr.size > 1 else ""
        raise ValueError(f"{func}: {every}lam must be{rule}, got {v._preview(arr[bad])}; "
                         f"{fix}")
    return arr


# --- the centred least-squares quadratic, and the penalised paths on it ----------------


@dataclass(frozen=True, eq=False)
class LeastSquaresProblem:
    r"""The mean squared error of a linear model as a quadratic in the weights.

    .. math:: \frac1n\lVert Xw + b(w) - y\rVert^2 = w^\top G w - 2 w^\top q + c,
              \qquad G = \tfrac1n X_c^\top X_c,\; q = \tfrac1n X_c^\top y_c,\;
              c = \tfrac1n y_c^\top y_c

    with the best bias :math:`b(w) = \bar y - \bar x^\top w` and centred
    :math:`X_c = X - \bar x`, :math:`y_c = y - \bar y`. Without an intercept nothing is
    centred and :math:`b = 0`.

    Build it with :meth:`from_data`; :meth:`ridge` and :meth:`lasso` solve for many λ at
    once (rows of the result), which is what a regularization path needs.

    Attributes
    ----------
    X, y : ndarray
        The data, as given (float64).
    G, q, const : ndarray, ndarray, float
        The quadratic above.
    x_mean, y_mean : ndarray, float
        What was subtracted (zeros without an intercept).
    """

    X: np.ndarray
    y: np.ndarray
    G: np.ndarray
    q: np.ndarray
    const: float
    x_mean: np.ndarray
    y_mean: float

    @classmethod
    def from_data(cls, X, y, *, fit_intercept: bool = True,
                  _func: str = "LeastSquaresProblem.from_data") -> "LeastSquaresProblem":
        """The problem of features ``X`` (shape ``(n, d)``) and targets ``y`` (``(n,)``).

        >>> p = LeastSquaresProblem.from_data([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
        >>> p.G, p.q, p.bias([2.0])
        (array([[0.66666667]]), array([1.33333333]), 1.0)
        """
        func = _func
        X, y = _check_Xy(X, y, func)
        fit_intercept = _check_flag(fit_intercept, "fit_intercept", func)
        n = X.shape[0]
        if fit_intercept:
            x_mean, y_mean = X.mean(axis=0), float(y.mean())
        else:
            x_mean, y_mean = np.zeros(X.shape[1]), 0.0
        Xc, yc = X - x_mean, y - y_mean
        return cls(X, y, Xc.T @ Xc / n, Xc.T @ yc / n, float(yc @ yc / n), x_mean, y_mean)

    def cost(self, w) -> np.ndarray:
        """Mean squared error at weights ``w`` (the last axis) with the best bias."""
        w = np.asarray(w, dtype=float)
        return (np.einsum("...i,ij,...j->...", w, self.G, w)
                - 2.0 * w @ self.q + self.const)

    def bias(self, w):
        """The best (unpenalised) bias for weights ``w``: ȳ − x̄ᵀw (0 without intercept).

        A float for one weight vector, an array for rows of them."""
        b = self.y_mean - np.asarray(w, dtype=float) @ self.x_mean
        return float(b) if np.ndim(b) == 0 else b

    def ridge(self, lam) -> np.ndarray:
        r"""Ridge weights :math:`(G + \lambda I)^{-1} q` for every λ in ``lam``.

        Returns an array of shape ``(len(lam), d)`` (one row for a single λ).
        """
        func = "ridge"
        lams = _check_lams(lam, func, positive=False)
        d = self.q.size
        systems = self.G[None, :, :] + lams[:, None, None] * np.eye(d)
        try:
            return np.linalg.solve(systems, np.broadcast_to(self.q, (lams.size, d))
                                   [..., None])[..., 0]
        except np.linalg.LinAlgError:
            raise ValueError(f"{func}: with lam = 0 the features are linearly dependent "
                             "(G is singular), so the weights are not unique; use lam > 0, "
                             "or least_squares for the minimum-norm solution") from None

    def lasso(self, lam, *, start=None, tol: float = 1e-9,
              max_sweeps: int = 10_000) -> np.ndarray:
        r"""Lasso weights for every λ in ``lam`` (shape ``(len(lam), d)``).

        Coordinate descent on :math:`w^\top G w - 2w^\top q + \lambda\lVert w\rVert_1`:
        each coordinate in turn becomes :math:`w_j = S(q_j - \sum_{k\ne j} G_{jk} w_k,\;
        \lambda/2) / G_{jj}` with :math:`S` the soft threshold
        (:func:`lossbook.regularization.soft_threshold`, where the exact zeros come from).
        All λ are solved together, using :math:`S(z, t) = t\,S(z/t, 1)`. Once no weight
        moves by more than ``tol``, each solution is made exact: on its support ``A``
        (signs ``s``) the optimality conditions are the linear equations
        :math:`G_{AA} w_A = q_A - \tfrac\lambda2 s_A`; their solution is kept when it passes
        the full optimality check (same signs, :math:`|q_j - G_{jA}w_A| \le \lambda/2` off
        the support), otherwise coordinate descent continues to ``tol / 1e4``.

        Parameters
        ----------
        lam : float or array_like of shape (k,)
            Penalty strengths λ > 0.
        start : array_like of shape (k, d), optional
            Where the descent starts (zeros if not given): the solution for a nearby λ
            makes it converge in a few sweeps.
        tol : float, default 1e-9
            Largest change of a weight in a sweep at which the descent stops.
        max_sweeps : int, default 10000
            At most this many sweeps over the coordinates.
        """
        func = "lasso"
        lams = _check_lams(lam, func, positive=True)
        tol = v.check_scalar(tol, "tol", func, low=0.0, low_open=True,
                             fix="e.g. tol=1e-9")
        max_sweeps = v.check_count(max_sweeps, "max_sweeps", func, minimum=1, example=100)
        G, q = self.G, self.q
        if np.any(np.diag(G) <= 0):
            j = int(np.argmax(np.diag(G) <= 0))
            what = ("a feature is constant (zero variance after centring)"
                    if np.any(self.x_mean) or self.y_mean else "a feature is all zeros")
            raise ValueError(f"{func}: {what}: column {j} of X; drop it, it cannot explain "
                             "anything")
        shape = (lams.size, q.size)
        if start is None:
            W = np.zeros(shape)
        else:
            W = v.as_float_array(start, "start", func)
            if W.size != lams.size * q.size:
                raise ValueError(f"{func}: start must have shape {shape} (one row of weights "
                                 f"per lam), got shape {W.shape}")
            W = W.reshape(shape)
        half = lams / 2.0
        W = _coordinate_descent(G, q, half, W, tol, max_sweeps)
        exact = [_solve_on_support(G, q, h, w) for h, w in zip(half, W)]
        if all(w is not None for w in exact):
            return np.array(exact)
        return _coordinate_descent(G, q, half, W, tol * 1e-4, max_sweeps)


def _coordinate_descent(G, q, half, W, tol, max_sweeps):
    from lossbook.regularization import soft_threshold

    W = np.array(W, dtype=float)
    for _ in range(max_sweeps):
        biggest = 0.0
        for j in range(q.size):
            rho = q[j] - W @ G[j] + G[j, j] * W[:, j]
            new = half * soft_threshold(rho / half, 1.0) / G[j, j]
            biggest = max(biggest, float(np.max(np.abs(new - W[:, j]))))
            W[:, j] = new
        if biggest <= tol:
            break
    return W


def _solve_on_support(G, q, half, w):
    """The exact lasso solution with ``w``'s support and signs, or None if not optimal."""
    active = w != 0
    exact = np.zeros_like(w)
    signs = np.sign(w[active])
    if active.any():
        try:
            exact[active] = np.linalg.solve(G[np.ix_(active, active)],
                                            q[active] - half * signs)
        except np.linalg.LinAlgError:      # dependent features on the support
            return None
        if np.any(np.sign(exact[active]) != signs):
            return None
    slack = np.abs(q[~active] - G[~active] @ exact)
    return exact if np.all(slack <= half * (1.0 + 1e-12)) else None


# --- the solvers -------------------------------------------------------------------------


def least_squares(X, y, *, fit_intercept: bool = True) -> tuple[np.ndarray, float]:
    r"""Weights and bias minimising the mean squared error (ordinary least squares).

    .. math:: \min_{w,b}\; \frac1n\sum_{i=1}^n (x_i^\top w + b - y_i)^2

    Solved by ``numpy.linalg.lstsq`` on centred data; when the columns of ``X`` are
    linearly dependent the minimiser is not unique and the one with the smallest
    :math:`\lVert w\rVert_2` is returned (as scikit-learn's ``LinearRegression`` does).

    Parameters
    ----------
    X : array_like of shape (n, d)
        Features, one row per example.
    y : array_like of shape (n,)
        Targets.
    fit_intercept : bool, default True
        Fit the bias ``b``; with False, ``b = 0``.

    Returns
    -------
    w : ndarray of shape (d,)
    b : float

    Examples
    --------
    >>> w, b = least_squares([[0.0], [1.0], [2.0]], [1.0, 3.0, 5.0])
    >>> np.round(w, 12), round(b, 12)
    (array([2.]), 1.0)
    """
    func = "least_squares"
    X, y = _check_Xy(X, y, func)
    return _least_squares(X, y, _check_flag(fit_intercept, "fit_intercept", func))


def _least_squares(X, y, fit_intercept):
    if not fit_intercept:
        return np.linalg.lstsq(X, y, rcond=None)[0], 0.0
    x_mean, y_mean = X.mean(axis=0), y.mean()
    Xc, yc = X - x_mean, y - y_mean
    if X.shape[1] == 1:            # a line: the normal equation is one division
        dx = Xc[:, 0]
        spread = dx @ dx
        w = np.array([dx @ yc / spread if spread > 0 else 0.0])
    else:
        w = np.linalg.lstsq(Xc, yc, rcond=None)[0]
    return w, float(y_mean - x_mean @ w)


def ridge(X, y, *, lam, fit_intercept: bool = True) -> tuple[np.ndarray, float]:
    r"""Weights and bias minimising the mean squared error plus an L2 penalty.

    .. math:: \min_{w,b}\; \frac1n\sum_{i=1}^n (x_i^\top w + b - y_i)^2
              + \lambda\lVert w\rVert_2^2

    (the cost of :func:`lossbook.train.regularized_cost` with ``penalty="l2"``; the bias
    is not penalised). Setting the gradient to zero gives the closed form
    :math:`w = (G + \lambda I)^{-1} q`, :math:`b = \bar y - \bar x^\top w` (see
    :class:`LeastSquaresProblem`). scikit-learn's ``Ridge(alpha)`` sums instead of
    averaging: it gives the same solution for ``alpha = n * lam``.

    Parameters
    ----------
    X : array_like of shape (n, d)
        Features.
    y : array_like of shape (n,)
        Targets.
    lam : float
        Penalty strength λ ≥ 0 (keyword-only). λ = 0 is least squares, and needs
        linearly independent features.
    fit_intercept : bool, default True
        Fit an unpenalised bias; with False, ``b = 0`` (to penalise a bias, add a column
        of ones to ``X`` and fit without intercept).

    Returns
    -------
    w : ndarray of shape (d,)
    b : float

    Examples
    --------
    >>> w, b = ridge([[-1.0], [1.0]], [-1.0, 1.0], lam=1.0)   # w = q / (G + λ) = 1/2
    >>> w, b
    (array([0.5]), 0.0)
    """
    func = "ridge"
    v.check_scalar(lam, "lam", func, low=0.0, fix="λ is a penalty strength, e.g. lam=0.1")
    problem = LeastSquaresProblem.from_data(X, y, fit_intercept=fit_intercept, _func=func)
    w = problem.ridge(lam)[0]
    return w, float(problem.bias(w))


def lasso(X, y, *, lam, fit_intercept: bool = True, tol: float = 1e-9,
          max_sweeps: int = 10_000) -> tuple[np.ndarray, float]:
    r"""Weights and bias minimising the mean squared error plus an L1 penalty.

    .. math:: \min_{w,b}\; \frac1n\sum_{i=1}^n (x_i^\top w + b - y_i)^2
              + \lambda\lVert w\rVert_1

    (the cost of :func:`lossbook.train.regularized_cost` with ``penalty="l1"``; the bias
    is not penalised). Solved by coordinate descent and made exact on the support (see
    :meth:`LeastSquaresProblem.lasso`), so weights the penalty removes are exactly 0.
    scikit-learn's ``Lasso(alpha)`` minimises :math:`\frac1{2n}\sum_i r_i^2 +
    \alpha\lVert w\rVert_1`: it gives the same solution for ``alpha = lam / 2``.

    Parameters
    ----------
    X : array_like of shape (n, d)
        Features (no constant column).
    y : array_like of shape (n,)
        Targets.
    lam : float
        Penalty strength λ > 0 (keyword-only); for λ = 0 use :func:`least_squares`.
    fit_intercept : bool, default True
        Fit an unpenalised bias; with False, ``b = 0``.
    tol, max_sweeps
        Stopping rule of the coordinate descent.

    Returns
    -------
    w : ndarray of shape (d,)
    b : float

    Examples
    --------
    >>> X = [[-1.0, 0.5], [1.0, -0.5], [0.0, 0.0]]
    >>> w, b = lasso(X, [-1.0, 1.0, 0.0], lam=0.5)
    >>> np.round(w, 12) + 0.0, round(b, 12) + 0.0
    (array([0.625, 0.   ]), 0.0)
    """
    func = "lasso"
    v.check_scalar(lam, "lam", func, low=0.0, low_open=True,
                   fix="use least_squares for lam = 0")
    problem = LeastSquaresProblem.from_data(X, y, fit_intercept=fit_intercept, _func=func)
    w = problem.lasso(lam, tol=tol, max_sweeps=max_sweeps)[0]
    return w, float(problem.bias(w))


def huber_regression(X, y, *, delta: float = 1.0, fit_intercept: bool = True, start=None,
                     max_iter: int = 200, _line: bool = False) -> tuple[np.ndarray, float]:
    r"""Weights and bias minimising the mean Huber loss of the residuals.

    .. math:: \min_{w,b}\; \frac1n\sum_{i=1}^n L_\delta(x_i^\top w + b - y_i), \qquad
              L_\delta(r) = \begin{cases} \tfrac12 r^2 & |r| \le \delta \\
              \delta(|r| - \tfrac12\delta) & |r| > \delta \end{cases}

    (:func:`lossbook.losses.huber`). The cost is convex and piecewise quadratic, so
    Newton's method finds the minimiser exactly once it knows which residuals lie inside
    ±δ: its Hessian is :math:`\frac1n A_{\text{in}}^\top A_{\text{in}}` over those rows of
    the design :math:`A = [X, 1]`, its gradient :math:`A^\top g` with
    :math:`g` from :func:`lossbook.losses.huber_grad`. Each step is shortened (halved)
    until the cost goes down. Where the inside rows cannot fix every parameter (a
    singular Hessian), or the Newton step does not descend, the step of iteratively
    reweighted least squares is taken instead (weights :math:`\min(1, \delta/|r_i|)`: a
    quadratic upper bound of the cost, so it always descends). It stops when the
    gradient is zero to rounding (each component below ``1e-13`` times the sum of the
    sizes of its terms), or when steps no longer change the cost; it warns
    (``RuntimeWarning``) if ``max_iter`` steps were not enough. When δ is much smaller
    than most residuals the start matters: from a start with fewer than ``d + 1``
    residuals inside ±δ the iteration is IRLS, which converges slowly (for one feature,
    :func:`fit_line` starts from the exact MAE line, which avoids this).

    scikit-learn's ``HuberRegressor(epsilon, alpha=0)`` also fits a scale σ; at its
    solution it minimises this cost with ``delta = epsilon * scale_``.

    Parameters
    ----------
    X : array_like of shape (n, d)
        Features, with linearly independent columns (and no constant column when
        ``fit_intercept``).
    y : array_like of shape (n,)
        Targets.
    delta : float, default 1.0
        Huber's threshold δ > 0 (keyword-only).
    fit_intercept : bool, default True
        Fit the bias ``b``; with False, ``b = 0``.
    start : (w, b), optional
        Where Newton's method starts (default: the least-squares fit). A good start
        saves iterations, e.g. the MAE line, or the fit for a nearby δ.
    max_iter : int, default 200
        At most this many steps.

    Returns
    -------
    w : ndarray of shape (d,)
    b : float

    Examples
    --------
    >>> x = [[0.0], [1.0], [2.0], [3.0]]
    >>> w, b = huber_regression(x, [1.0, 3.0, 5.0, 7.0], delta=1.0)   # on a line: exact
    >>> np.round(w, 12), round(b, 12)
    (array([2.]), 1.0)
    """
    func = "huber_regression"
    X, y = _check_Xy(X, y, func)
    delta = v.check_scalar(delta, "delta", func, low=0.0, low_open=True,
                           fix="δ is the residual size where the loss turns linear, e.g. "
                               "delta=1.0")
    fit_intercept = _check_flag(fit_intercept, "fit_intercept", func)
    max_iter = v.check_count(max_iter, "max_iter", func, minimum=1, example=100)
    # with an intercept, work on centred features (b_c = b + x̄ᵀw): the same residuals,
    # a far better conditioned Hessian when the features sit far from 0
    x_mean = X.mean(axis=0) if fit_intercept else np.zeros(X.shape[1])
    A = np.column_stack([X - x_mean, np.ones(X.shape[0])]) if fit_intercept else X
    if not _line and np.linalg.matrix_rank(A) < A.shape[1]:
        raise ValueError(f"{func}: the columns of X{' and the intercept' if fit_intercept else ''}"
                         " are linearly dependent (e.g. a repeated or constant feature), so "
                         "the minimiser is not unique; drop the redundant columns")
    if start is None:
        w0, b0 = _least_squares(X, y, fit_intercept)
        theta = np.append(w0, b0) if fit_intercept else w0
    else:
        theta = _check_start(start, X.shape[1], fit_intercept, func)
    if fit_intercept:
        theta[-1] += x_mean @ theta[:-1]
    theta = _huber_newton(A, y, delta, theta, max_iter)
    if fit_intercept:
        return theta[:-1], float(theta[-1] - x_mean @ theta[:-1])
    return theta, 0.0


def _check_start(start, d, fit_intercept, func):
    try:
        w0, b0 = start
    except (TypeError, ValueError):
        raise TypeError(f"{func}: start must be a pair (w, b) like the result, got "
                        f"{start!r}") from None
    w0 = v.as_float_array(w0, "start[0] (w)", func).ravel()
    if w0.size != d:
        raise ValueError(f"{func}: start[0] (w) must hold {d} weights (one per column of "
                         f"X), got {w0.size}")
    b0 = v.check_scalar(b0, "start[1] (b)", func, fix="the bias is one number")
    return np.append(w0, b0) if fit_intercept else w0.astype(float)


def _huber_newton(A, y, delta, theta, max_iter):
    n, p = A.shape
    abs_A = np.abs(A)

    def cost(t):
        return huber(y, A @ t, delta=delta)

    theta = np.array(theta, dtype=float)
    current, stalls = cost(theta), 0
    for _ in range(max_iter):
        pred = A @ theta
        g = huber_grad(y, pred, delta=delta)
        grad = A.T @ g
        # zero up to the rounding of its own sum: relative to the size of its terms
        if np.all(np.abs(grad) <= 1e-13 * (abs_A.T @ np.abs(g))):
            break
        size = np.abs(pred - y)
        inside = size <= delta
        irls = np.where(inside, 1.0, delta / np.maximum(size, delta))
        tries = [irls]
        if inside.sum() >= p:
            newton = A[inside].T @ A[inside] / n
            eig = np.linalg.eigvalsh(newton)
            if eig[0] > 1e-12 * eig[-1]:       # the inside rows fix every parameter
                tries = [newton, irls]
        for hessian in tries:
            if hessian is irls:
                hessian = (A * irls[:, None]).T @ A / n
            step = np.linalg.solve(hessian, grad)
            t = 1.0
            while t > 1e-10:
                trial = cost(theta - t * step)
                if trial <= current:
                    break
                t *= 0.5
            if t > 1e-10:
                break
        else:
            break                  # no descent left: at the minimum to rounding
        stalls = stalls + 1 if trial == current else 0
        theta, current = theta - t * step, trial
        if stalls >= 2:            # the gradient is rounding noise: nothing left to gain
            break
    return theta


def mae_line(x, y) -> tuple[float, float]:
    r"""The line :math:`\hat y = wx + b` minimising the mean absolute error, exactly.

    .. math:: \min_{w,b}\; \frac1n\sum_{i=1}^n |w x_i + b - y_i|

    The cost is convex and piecewise linear in (w, b), so a minimiser lies at a vertex:
    a line through two data points. Among the lines through a given point
    :math:`(x_k, y_k)` the cost is :math:`\frac1n\sum_i |x_i - x_k|\,|w - s_i|` with
    slopes :math:`s_i = (y_i - y_k)/(x_i - x_k)`: a weighted median of the
    :math:`s_i` is best. Trying every point as the pivot therefore finds the exact
    minimiser in :math:`O(n^2 \log n)` time (the first one found on ties; MAE minimisers
    need not be unique). Pivots are processed in blocks, so memory stays bounded.

    Parameters
    ----------
    x, y : array_like of shape (n,)
        The points; ``x`` must hold at least two different values.

    Returns
    -------
    slope, intercept : float

    Examples
    --------
    >>> mae_line([0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 3.0, 40.0])
    (1.0, 0.0)
    """
    x, y = _check_line(x, y, "mae_line")
    n = x.size
    best = (np.inf, 0.0, 0.0)
    block = max(1, _MAE_BLOCK // n)
    for lo in range(0, n, block):
        k = np.arange(lo, min(n, lo + block))
        dx = x[None, :] - x[k, None]
        with np.errstate(divide="ignore", invalid="ignore"):
            slopes = np.where(dx != 0, (y[None, :] - y[k, None]) / dx, np.inf)
        weights = np.abs(dx)
        order = np.argsort(slopes, axis=1, kind="stable")
        slopes = np.take_along_axis(slopes, order, axis=1)
        cumulative = np.cumsum(np.take_along_axis(weights, order, axis=1), axis=1)
        median = np.argmax(cumulative >= 0.5 * cumulative[:, -1:], axis=1)
        w = slopes[np.arange(k.size), median]
        b = y[k] - w * x[k]
        costs = np.abs(w[:, None] * x[None, :] + b[:, None] - y[None, :]).mean(axis=1)
        j = int(np.argmin(costs))
        if costs[j] < best[0]:
            best = (costs[j], float(w[j]), float(b[j]))
    return best[1], best[2]


def fit_line(x, y, *, loss: str = "mse", delta: float = 1.0, start=None) -> tuple[float, float]:
    r"""The line :math:`\hat y = wx + b` minimising the mean of ``loss`` over the points.

    Parameters
    ----------
    x, y : array_like of shape (n,)
        The points; ``x`` must hold at least two different values.
    loss : {"mse", "mae", "huber"}, default "mse"
        Which cost: :func:`least_squares`, :func:`mae_line` or :func:`huber_regression`
        on one feature.
    delta : float, default 1.0
        Huber's δ (used by ``"huber"`` only).
    start : (slope, intercept), optional
        ``"huber"`` only: where Newton's method starts; default the MAE line, computed
        here (pass it if already known). It passes through two points, so Newton's
        Hessian is regular from the first step, however small δ is.

    Returns
    -------
    slope, intercept : float

    Examples
    --------
    >>> x, y = [0.0, 1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 2.0, 3.0, 40.0]   # one outlier
    >>> {loss: [round(v, 6) for v in fit_line(x, y, loss=loss)] for loss in LINE_LOSSES}
    {'mse': [8.2, -7.2], 'mae': [1.0, 0.0], 'huber': [1.5, -0.5]}
    """
    func = "fit_line"
    if not isinstance(loss, str) or loss not in LINE_LOSSES:
        raise ValueError(f"{func}: loss must be one of {LINE_LOSSES}, got {loss!r}; the "
                         "other losses are fitted by gradient descent, lossbook.train.fit")
    x, y = _check_line(x, y, func)
    if loss == "mae":
        return mae_line(x, y)
    X = x[:, None]
    if loss == "mse":
        w, b = _least_squares(X, y, True)
    else:
        if start is None:          # a vertex: two residuals are 0, so inside ±δ
            start = mae_line(x, y)
        start = _check_start(start, 1, True, func)
        w, b = huber_regression(X, y, delta=delta, start=(start[:1], start[1]), _line=True)
    return float(w[0]), float(b)
