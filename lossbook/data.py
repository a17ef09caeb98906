"""Seeded synthetic data sets for the lessons, explorers and exercises.

Every function takes a ``seed`` and draws only from ``numpy.random.default_rng(seed)``;
the arrays are then built with ``+ - * /`` alone (no ``exp``, ``sin`` or matrix
products, whose last bits can differ between CPUs and BLAS libraries). The same seed
therefore gives bit-identical arrays on every machine with the same numpy version
(``tests/data/test_determinism.py`` pins checksums).

Data sets
---------
``regression_1d``          y = slope·x + intercept + noise, optional outliers.
``regression``             y = X·coef + intercept + noise with any number of features.
``polynomial_regression``  a noisy cubic, for the overfitting demo (lesson 06), with
                           ``polynomial_features`` to expand x into x, x², …, x^degree.
``two_class``              two classes in 2-D, linearly separable with a margin, or
                           overlapping; labels {0, 1} (``to_plus_minus_one`` for hinge).
``three_class_blobs``      three Gaussian blobs in 2-D; labels {0, 1, 2}.
``digits``                 real data: scikit-learn's bundled 8×8 handwritten digits, split
                           into train / validation / test and standardised (lessons 09–11).

``digits`` is the one function here that is not synthetic and the one that imports
something besides numpy: scikit-learn (lazily, inside the function; it ships the 1,797
images with the package, so nothing is downloaded).
"""
from __future__ import annotations

import functools
import numbers
from dataclasses import dataclass

import numpy as np

from lossbook._validation import check_count

__all__ = [
    "RegressionData",
    "ClassificationData",
    "regression_1d",
    "regression",
    "polynomial_regression",
    "polynomial_features",
    "two_class",
    "three_class_blobs",
    "DigitsData",
    "digits",
    "to_plus_minus_one",
    "to_zero_one",
]


@dataclass(frozen=True, eq=False)
class RegressionData:
    """A regression data set: features, targets and the truth that made them.

    Attributes
    ----------
    X : ndarray of shape (n, d)
        Features, one row per example.
    y : ndarray of shape (n,)
        Targets: ``X @ coef + intercept + noise``, plus ``outlier_size`` on outliers.
    is_outlier : ndarray of bool, shape (n,)
        True for the examples whose target was shifted.
    coef : ndarray of shape (d,)
        The true coefficients.
    intercept : float
        The true intercept.
    """

    X: np.ndarray
    y: np.ndarray
    is_outlier: np.ndarray
    coef: np.ndarray
    intercept: float

    @property
    def x(self) -> np.ndarray:
        """The single feature as a 1-D array (only for one-feature data)."""
        if self.X.shape[1] != 1:
            raise ValueError(
                f"`x` is only defined for one-feature data, this data set has "
                f"{self.X.shape[1]} features; use `X` (shape {self.X.shape}) instead"
            )
        return self.X[:, 0]

    @property
    def n_outliers(self) -> int:
        """How many examples are outliers."""
        return int(self.is_outlier.sum())


@dataclass(frozen=True, eq=False)
class ClassificationData:
    """A classification data set in 2-D.

    Attributes
    ----------
    X : ndarray of shape (n, 2)
        Points, one row per example.
    y : ndarray of int, shape (n,)
        Class labels 0, 1, …, ``n_classes - 1``.
    n_classes : int
        Number of classes.
    centers : ndarray of shape (n_classes, 2)
        Where each class is centred.
    """

    X: np.ndarray
    y: np.ndarray
    n_classes: int
    centers: np.ndarray


# --- argument checks --------------------------------------------------------------


def _check_real(name: str, value, *, minimum: float | None = None, maximum: float | None = None,
                hint: str = "") -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"`{name}` must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"`{name}` must be finite, got {value}")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be at least {minimum}, got {value}{hint}")
    if maximum is not None and value > maximum:
        raise ValueError(f"`{name}` must be at most {maximum}, got {value}{hint}")
    return value


def _check_seed(seed) -> int:
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
        raise TypeError(f"`seed` must be a non-negative whole number, got {seed!r}; "
                        "the same seed gives the same data on every machine")
    return int(seed)


def _check_range(name: str, value) -> tuple[float, float]:
    try:
        low, high = value
    except (TypeError, ValueError):
        raise TypeError(f"`{name}` must be a pair (low, high), got {value!r}") from None
    low = _check_real(f"{name}[0]", low)
    high = _check_real(f"{name}[1]", high)
    if not low < high:
        raise ValueError(f"`{name}` must have low < high, got {value!r}; swap or widen the ends")
    return low, high


# --- regression -------------------------------------------------------------------


def _add_outliers(rng, y, outlier_fraction, outlier_size):
    """Shift ``round(fraction * n)`` targets, chosen at random, by ``outlier_size``."""
    n = y.shape[0]
    is_outlier = np.zeros(n, dtype=bool)
    n_outliers = int(round(outlier_fraction * n))
    if n_outliers:
        is_outlier[rng.permutation(n)[:n_outliers]] = True
        y = y + outlier_size * is_outlier
    return y, is_outlier


def _linear_targets(X, coef, intercept):
    # Feature by feature rather than X @ coef: a BLAS dot product may sum in a
    # CPU-dependent order, elementwise + and * are the same everywhere.
    y = np.full(X.shape[0], intercept, dtype=float)
    for j in range(X.shape[1]):
        y = y + coef[j] * X[:, j]
    return y


def regression(n: int = 100, n_features: int = 2, *, coef=None, intercept: float = 0.0,
               noise: float = 0.5, outlier_fraction: float = 0.0, outlier_size: float = 10.0,
               x_range=(-3.0, 3.0), seed: int = 0) -> RegressionData:
    r"""Linear regression data with any number of features and optional outliers.

    .. math:: y_i = \sum_j \mathrm{coef}_j X_{ij} + \mathrm{intercept} + \varepsilon_i,
              \qquad \varepsilon_i \sim \mathcal N(0, \mathrm{noise}^2)

    then ``round(outlier_fraction * n)`` examples, chosen at random, get
    ``outlier_size`` added to their target (all the same way, so they pull a
    least-squares fit, which is what the robust-loss lessons show).

    Parameters
    ----------
    n : int, default 100
        Number of examples (at least 1).
    n_features : int, default 2
        Number of features d (at least 1).
    coef : array_like of shape (d,), optional
        True coefficients; by default ``1, -2, 3, -4, …`` truncated to d.
    intercept : float, default 0.0
        True intercept.
    noise : float, default 0.5
        Standard deviation of the Gaussian noise (0 for exact targets).
    outlier_fraction : float in [0, 1], default 0.0
        Fraction of examples turned into outliers.
    outlier_size : float, default 10.0
        What is added to an outlier's target (negative to push them down).
    x_range : (float, float), default (-3, 3)
        Features are uniform on this interval.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    RegressionData
        ``X`` (n, d), ``y`` (n,), ``is_outlier`` (n,), ``coef`` (d,), ``intercept``.

    Examples
    --------
    >>> data = regression(n=200, n_features=3, noise=0.0, seed=1)
    >>> data.X.shape, data.y.shape, data.coef
    ((200, 3), (200,), array([ 1., -2.,  3.]))
    >>> bool(np.allclose(data.X @ data.coef + data.intercept, data.y))
    True
    >>> regression(n=50, outlier_fraction=0.1, seed=1).n_outliers
    5
    """
    n = check_count(n, "n", minimum=1)
    n_features = check_count(n_features, "n_features", minimum=1)
    seed = _check_seed(seed)
    if coef is None:
        coef = np.array([(j + 1) * (-1) ** j for j in range(n_features)], dtype=float)
    else:
        if not _is_numeric(coef):
            raise TypeError(f"`coef` must be numbers, got {coef!r}")
        coef = np.asarray(coef, dtype=float)
        if coef.shape != (n_features,):
            raise ValueError(f"`coef` must have one value per feature, shape ({n_features},), "
                             f"got shape {np.shape(coef)}; pass n_features={np.size(coef)} or "
                             f"{n_features} coefficients")
        if not np.all(np.isfinite(coef)):
            raise ValueError(f"`coef` must be finite, got {coef}")
    intercept = _check_real("intercept", intercept)
    noise = _check_real("noise", noise, minimum=0.0, hint="; noise is a standard deviation")
    outlier_fraction = _check_real("outlier_fraction", outlier_fraction, minimum=0.0, maximum=1.0,
                                   hint="; e.g. 0.1 makes 10% of the points outliers")
    outlier_size = _check_real("outlier_size", outlier_size)
    low, high = _check_range("x_range", x_range)

    rng = np.random.default_rng(seed)
    X = low + (high - low) * rng.random((n, n_features))
    y = _linear_targets(X, coef, intercept) + noise * rng.standard_normal(n)
    y, is_outlier = _add_outliers(rng, y, outlier_fraction, outlier_size)
    return RegressionData(X=X, y=y, is_outlier=is_outlier, coef=coef.copy(), intercept=intercept)


def regression_1d(n: int = 50, *, slope: float = 2.0, intercept: float = 1.0,
                  noise: float = 1.0, outlier_fraction: float = 0.0, outlier_size: float = 10.0,
                  x_range=(-3.0, 3.0), seed: int = 0) -> RegressionData:
    r"""One-feature regression data for line fits: y = slope·x + intercept + noise.

    .. math:: y_i = \mathrm{slope}\,x_i + \mathrm{intercept} + \varepsilon_i,
              \qquad \varepsilon_i \sim \mathcal N(0, \mathrm{noise}^2)

    The points are sorted by x (convenient for plotting). ``round(outlier_fraction * n)``
    of them, chosen at random, get ``outlier_size`` added to y.

    Parameters
    ----------
    n : int, default 50
        Number of points.
    slope, intercept : float, default 2.0 and 1.0
        The true line.
    noise : float, default 1.0
        Standard deviation of the Gaussian noise.
    outlier_fraction : float in [0, 1], default 0.0
        Fraction of points turned into outliers.
    outlier_size : float, default 10.0
        What is added to an outlier's y.
    x_range : (float, float), default (-3, 3)
        x is uniform on this interval.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    RegressionData
        ``X`` of shape (n, 1) (``.x`` is the same as a 1-D array), ``y``,
        ``is_outlier``, ``coef == [slope]``, ``intercept``.

    Examples
    --------
    >>> data = regression_1d(n=20, outlier_fraction=0.1, seed=0)
    >>> data.x.shape, data.n_outliers
    ((20,), 2)
    >>> bool(np.all(np.diff(data.x) >= 0))
    True
    """
    n = check_count(n, "n", minimum=1)
    slope = _check_real("slope", slope)
    data = regression(n, 1, coef=[slope], intercept=intercept, noise=noise,
                      outlier_fraction=outlier_fraction, outlier_size=outlier_size,
                      x_range=x_range, seed=seed)
    order = np.argsort(data.X[:, 0], kind="stable")
    return RegressionData(X=data.X[order], y=data.y[order], is_outlier=data.is_outlier[order],
                          coef=data.coef, intercept=data.intercept)


_CUBIC = (0.5, 1.0, 0.0, -1.5)   # truth of polynomial_regression: 0.5 + x - 1.5 x³


def polynomial_regression(n: int = 15, *, noise: float = 0.2, seed: int = 0) -> RegressionData:
    r"""A few noisy samples of a cubic on [-1, 1], for the overfitting demo.

    .. math:: y_i = 0.5 + x_i - 1.5\,x_i^3 + \varepsilon_i,
              \qquad \varepsilon_i \sim \mathcal N(0, \mathrm{noise}^2)

    Fit ``polynomial_features(data.x, degree)`` with a high degree and few points to
    see overfitting; an L2 penalty tames it. Draw a test set with another seed.

    Parameters
    ----------
    n : int, default 15
        Number of points (sorted by x).
    noise : float, default 0.2
        Standard deviation of the noise.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    RegressionData
        ``X`` (n, 1), ``y``, ``coef`` = the cubic's coefficients of x, x², x³
        (``[1, 0, -1.5]``), ``intercept`` 0.5; no outliers.

    Examples
    --------
    >>> data = polynomial_regression(n=10, noise=0.0, seed=3)
    >>> truth = polynomial_features(data.x, 3) @ data.coef + data.intercept
    >>> bool(np.allclose(truth, data.y))
    True
    """
    n = check_count(n, "n", minimum=1)
    noise = _check_real("noise", noise, minimum=0.0, hint="; noise is a standard deviation")
    seed = _check_seed(seed)
    rng = np.random.default_rng(seed)
    x = np.sort(-1.0 + 2.0 * rng.random(n))
    # Horner's rule: + and * only, so the same bits everywhere.
    c0, c1, c2, c3 = _CUBIC
    y = c0 + x * (c1 + x * (c2 + x * c3)) + noise * rng.standard_normal(n)
    return RegressionData(X=x[:, None], y=y, is_outlier=np.zeros(n, dtype=bool),
                          coef=np.array(_CUBIC[1:]), intercept=_CUBIC[0])


def polynomial_features(x, degree: int) -> np.ndarray:
    r"""The columns x, x², …, x^degree (no constant column: the bias is separate).

    Parameters
    ----------
    x : array_like of shape (n,) or (n, 1)
        One feature.
    degree : int
        Highest power (at least 1).

    Returns
    -------
    ndarray of shape (n, degree)
        Column k-1 holds :math:`x^k`.

    Examples
    --------
    >>> polynomial_features([1.0, 2.0, -3.0], 3)
    array([[  1.,   1.,   1.],
           [  2.,   4.,   8.],
           [ -3.,   9., -27.]])
    """
    degree = check_count(degree, "degree", minimum=1)
    x = np.asarray(x, dtype=float) if _is_numeric(x) else None
    if x is None:
        raise TypeError("`x` must be numbers, e.g. a 1-D numpy array of floats")
    if x.ndim == 2 and x.shape[1] == 1:
        x = x[:, 0]
    if x.ndim != 1:
        raise ValueError(f"`x` must be one feature, shape (n,) or (n, 1), got shape {x.shape}")
    if not np.all(np.isfinite(x)):
        raise ValueError("`x` contains NaN or infinity; remove or replace those values")
    columns = [x]
    for _ in range(degree - 1):
        columns.append(columns[-1] * x)
    return np.stack(columns, axis=1)


def _is_numeric(value) -> bool:
    try:
        return np.asarray(value).dtype.kind in "biuf"
    except (TypeError, ValueError):
        return False


# --- classification ---------------------------------------------------------------

# The true boundary of two_class is the line through the origin with this unit normal.
_NORMAL = np.array([0.6, 0.8])
_ALONG = np.array([-0.8, 0.6])


def _balanced_labels(rng, n, n_classes):
    """``n`` labels, as equal counts per class as possible, in random order."""
    return rng.permutation(np.arange(n, dtype=np.int64) % n_classes)


def two_class(n: int = 100, *, separable: bool = True, separation: float = 1.0,
              seed: int = 0) -> ClassificationData:
    r"""Two classes of 2-D points, labels {0, 1}, either separable or overlapping.

    Each point is :math:`x = t\,\mathbf n + s\,\mathbf a` with the unit normal
    :math:`\mathbf n = (0.6, 0.8)`, :math:`\mathbf a = (-0.8, 0.6)` along the boundary,
    :math:`s \sim \mathcal N(0, 1.5^2)` and the signed distance t from the true boundary
    :math:`\mathbf n \cdot x = 0`:

    - ``separable=True``: :math:`t = \pm(\mathrm{separation}/2 + |z|)` — every point is
      at least ``separation / 2`` from the boundary, so a margin of that size exists.
    - ``separable=False``: :math:`t = \pm\mathrm{separation}/2 + z` — the classes overlap
      (more for a smaller ``separation``),

    with :math:`z \sim \mathcal N(0, 1)` and the sign + for class 1, − for class 0.
    Hinge losses want labels ±1: use :func:`to_plus_minus_one`.

    Parameters
    ----------
    n : int, default 100
        Number of points (at least 2); the classes get ``n // 2`` and ``n - n // 2``.
    separable : bool, default True
        Whether the two classes can be split by a straight line.
    separation : float, default 1.0
        Distance between the class centres along the normal (at least 0;
        for ``separable=True`` the width of the empty band around the boundary).
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    ClassificationData
        ``X`` (n, 2), ``y`` in {0, 1}, ``n_classes == 2``, ``centers`` (2, 2).

    Examples
    --------
    >>> data = two_class(n=40, separable=True, separation=2.0, seed=0)
    >>> data.X.shape, np.bincount(data.y).tolist()
    ((40, 2), [20, 20])
    >>> signed = data.X @ np.array([0.6, 0.8])
    >>> bool(np.all((signed > 0.99) == (data.y == 1)))
    True
    """
    n = check_count(n, "n", minimum=2)
    if not isinstance(separable, (bool, np.bool_)):
        raise TypeError(f"`separable` must be True or False, got {separable!r}")
    separation = _check_real("separation", separation, minimum=0.0,
                             hint="; it is a distance between the classes")
    seed = _check_seed(seed)
    rng = np.random.default_rng(seed)
    y = _balanced_labels(rng, n, 2)
    sign = 2.0 * y - 1.0
    z = rng.standard_normal(n)
    s = 1.5 * rng.standard_normal(n)
    t = sign * (separation / 2 + np.abs(z)) if separable else sign * separation / 2 + z
    X = t[:, None] * _NORMAL + s[:, None] * _ALONG
    centers = np.array([-separation / 2 * _NORMAL, separation / 2 * _NORMAL])
    return ClassificationData(X=X, y=y, n_classes=2, centers=centers)


def three_class_blobs(n: int = 150, *, spread: float = 1.0, distance: float = 3.0,
                      seed: int = 0) -> ClassificationData:
    r"""Three round Gaussian blobs in 2-D, labels {0, 1, 2}, for softmax and multiclass hinge.

    Class k is centred at ``distance`` × the k-th corner of an equilateral triangle
    around the origin, :math:`(0, 1), (-\tfrac{\sqrt3}{2}, -\tfrac12), (\tfrac{\sqrt3}{2}, -\tfrac12)`,
    and its points are centre + ``spread`` × standard normal noise.

    Parameters
    ----------
    n : int, default 150
        Number of points (at least 3), split as evenly as possible.
    spread : float, default 1.0
        Standard deviation of each blob (greater than 0).
    distance : float, default 3.0
        Distance of each centre from the origin (at least 0).
    seed : int, default 0
        Seed for ``numpy.random.default_rng``.

    Returns
    -------
    ClassificationData
        ``X`` (n, 2), ``y`` in {0, 1, 2}, ``n_classes == 3``, ``centers`` (3, 2).

    Examples
    --------
    >>> data = three_class_blobs(n=30, seed=0)
    >>> data.X.shape, np.bincount(data.y).tolist()
    ((30, 2), [10, 10, 10])
    """
    n = check_count(n, "n", minimum=3)
    spread = _check_real("spread", spread, minimum=0.0, hint="; it is a standard deviation")
    if spread == 0.0:
        raise ValueError("`spread` must be greater than 0, got 0.0; pass e.g. spread=1.0")
    distance = _check_real("distance", distance, minimum=0.0)
    seed = _check_seed(seed)
    half_root3 = np.sqrt(3.0) / 2   # sqrt is correctly rounded by IEEE 754: same bits everywhere
    corners = np.array([[0.0, 1.0], [-half_root3, -0.5], [half_root3, -0.5]])
    centers = distance * corners
    rng = np.random.default_rng(seed)
    y = _balanced_labels(rng, n, 3)
    X = centers[y] + spread * rng.standard_normal((n, 2))
    return ClassificationData(X=X, y=y, n_classes=3, centers=centers)


# --- real data: handwritten digits -----------------------------------------------

DIGIT_SHAPE = (8, 8)
_SPLITS = ("train", "validation", "test")


@dataclass(frozen=True, eq=False)
class DigitsData:
    r"""The 8×8 digits, split and standardised; from :func:`digits`.

    Pixels are standardised with the **training** statistics only,
    :math:`x' = (x - \mu_{\text{train}}) / \sigma_{\text{train}}` per pixel (a pixel that
    is constant in the training set has :math:`\sigma` set to 1, so it stays 0 instead of
    dividing by zero). :meth:`images` undoes this for display.

    Attributes
    ----------
    X_train, X_val, X_test : ndarray of shape (n_split, 64)
        Standardised pixels, one row per image (row-major 8×8).
    y_train, y_val, y_test : ndarray of int64, shape (n_split,)
        Labels 0..K−1: the digit (K = 10), or 1 for "is ``digit``" in a
        :meth:`one_vs_rest` view (K = 2).
    n_classes : int
        K: 10, or 2 in a one-vs-rest view.
    class_names : tuple of str
        A name per class, for legends and confusion matrices.
    pixel_mean, pixel_scale : ndarray of shape (64,)
        The training mean and standard deviation used to standardise (raw pixels are 0..16).
    digits_train, digits_val, digits_test : ndarray of int64
        The digit each image shows (0..9), also in a one-vs-rest view.
    seed : int
        The seed of the split.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    n_classes: int
    class_names: tuple
    pixel_mean: np.ndarray
    pixel_scale: np.ndarray
    digits_train: np.ndarray
    digits_val: np.ndarray
    digits_test: np.ndarray
    seed: int

    @property
    def n_features(self) -> int:
        """64: one feature per pixel."""
        return self.X_train.shape[1]

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """``(X, y)`` of the split ``"train"``, ``"validation"`` or ``"test"``."""
        if name not in _SPLITS:
            raise ValueError(f"`name` must be one of {', '.join(map(repr, _SPLITS))}, got {name!r}")
        suffix = {"train": "train", "validation": "val", "test": "test"}[name]
        return getattr(self, f"X_{suffix}"), getattr(self, f"y_{suffix}")

    def images(self, X) -> np.ndarray:
        """Standardised rows back to 8×8 images with the raw pixel values (0..16).

        Examples
        --------
        >>> ds = digits()
        >>> ds.images(ds.X_train[:2]).shape
        (2, 8, 8)
        """
        X = np.asarray(X, dtype=float)
        if X.ndim == 1:
            X = X[None, :]
        if X.ndim != 2 or X.shape[1] != self.pixel_mean.shape[0]:
            raise ValueError(f"`X` must be rows of {self.pixel_mean.shape[0]} standardised pixels, "
                             f"got shape {X.shape}; pass e.g. data.X_test[:5]")
        raw = X * self.pixel_scale + self.pixel_mean
        return raw.reshape((-1,) + DIGIT_SHAPE)

    def one_vs_rest(self, digit: int = 9) -> "DigitsData":
        """The binary view "is it a ``digit``?": labels 1 for that digit, 0 for the rest.

        Same images, same split and same standardisation; only the labels change, so
        about 10 % of each split is positive (the split is stratified by digit). This
        is the imbalanced problem of lesson 10.

        Examples
        --------
        >>> nines = digits().one_vs_rest(9)
        >>> nines.n_classes, nines.class_names
        (2, ('not 9', '9'))
        >>> round(float(nines.y_train.mean()), 3)
        0.1
        """
        digit = check_count(digit, "digit", minimum=0)
        if digit > 9:
            raise ValueError(f"`digit` must be one of 0..9, got {digit}")
        if self.n_classes != 10:
            raise ValueError("`one_vs_rest` needs the ten-class data; call it on digits(), "
                             "not on a one-vs-rest view")
        def binary(d):
            return (d == digit).astype(np.int64)
        return DigitsData(
            X_train=self.X_train, y_train=binary(self.digits_train),
            X_val=self.X_val, y_val=binary(self.digits_val),
            X_test=self.X_test, y_test=binary(self.digits_test),
            n_classes=2, class_names=(f"not {digit}", str(digit)),
            pixel_mean=self.pixel_mean, pixel_scale=self.pixel_scale,
            digits_train=self.digits_train, digits_val=self.digits_val,
            digits_test=self.digits_test, seed=self.seed)


@functools.lru_cache(maxsize=1)
def _load_sklearn_digits():
    """The 1,797 raw images (float64, 0..16) and their labels, from scikit-learn (read-only, cached)."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:  # pragma: no cover - scikit-learn is a runtime dependency
        raise ImportError("lossbook.data.digits needs scikit-learn (it ships the images); "
                          "install it with `pip install scikit-learn`") from None
    bunch = load_digits()
    pixels = np.array(bunch.data, dtype=np.float64)
    labels = np.array(bunch.target, dtype=np.int64)
    pixels.flags.writeable = labels.flags.writeable = False
    return pixels, labels


def _stratified_split(rng, labels, fractions):
    """Indices of each part, the same fraction of every class in every part."""
    parts = [[] for _ in fractions]
    for label in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == label))
        bounds = np.round(np.cumsum(fractions)[:-1] * members.size).astype(int)
        for part, chunk in zip(parts, np.split(members, bounds)):
            part.append(chunk)
    # sorted within each part: the order does not depend on the class loop
    return [np.sort(np.concatenate(part)) for part in parts]


def digits(*, validation_fraction: float = 0.2, test_fraction: float = 0.2, seed: int = 0,
           dtype="float64") -> DigitsData:
    r"""scikit-learn's 8×8 handwritten digits: a seeded train / validation / test split.

    1,797 grey-scale images of the digits 0–9 (about 180 of each), 64 pixels with values
    0..16, bundled with scikit-learn (nothing is downloaded). The split is stratified
    by digit: every split holds the same fraction of each digit. Pixels are
    standardised with the training split's per-pixel mean and standard deviation
    (constant pixels get a scale of 1), so no statistic of the validation or test images
    leaks into training.

    Use the validation split to choose things (learning rate, epochs, a temperature) and
    the test split once, at the end. ``digits().one_vs_rest(9)`` is the binary
    "is it a 9?" view (about 10 % positives).

    Parameters
    ----------
    validation_fraction, test_fraction : float, default 0.2 each
        Fractions of the images (of each digit) held out; the rest is for training.
        Each in (0, 1) with a sum below 1.
    seed : int, default 0
        Seed for ``numpy.random.default_rng``: the same seed gives the same split.
    dtype : {"float64", "float32"}, default "float64"
        Floating-point type of the pixel arrays.

    Returns
    -------
    DigitsData
        ``X_train`` / ``y_train``, ``X_val`` / ``y_val``, ``X_test`` / ``y_test``,
        ``n_classes`` (10), ``class_names``, the standardisation, :meth:`~DigitsData.images`
        and :meth:`~DigitsData.one_vs_rest`.

    Examples
    --------
    >>> ds = digits(seed=0)
    >>> ds.X_train.shape, ds.X_val.shape, ds.X_test.shape
    ((1078, 64), (360, 64), (359, 64))
    >>> ds.n_classes, np.bincount(ds.y_train).tolist()[:3]
    (10, [107, 109, 106])
    >>> bool(np.allclose(ds.X_train.mean(axis=0), 0.0))
    True
    """
    validation_fraction = _check_real("validation_fraction", validation_fraction,
                                      minimum=0.0, maximum=1.0)
    test_fraction = _check_real("test_fraction", test_fraction, minimum=0.0, maximum=1.0)
    if validation_fraction <= 0.0 or test_fraction <= 0.0 or validation_fraction + test_fraction >= 0.9:
        raise ValueError(
            f"`validation_fraction` and `test_fraction` must each be above 0 and leave at least "
            f"10% for training, got {validation_fraction} and {test_fraction}; "
            "e.g. validation_fraction=0.2, test_fraction=0.2")
    seed = _check_seed(seed)
    if dtype not in ("float64", "float32", np.float64, np.float32):
        raise ValueError(f"`dtype` must be 'float64' or 'float32', got {dtype!r}")
    dtype = np.dtype(dtype)

    pixels, labels = _load_sklearn_digits()
    rng = np.random.default_rng(seed)
    train, val, test = _stratified_split(
        rng, labels, (1.0 - validation_fraction - test_fraction, validation_fraction, test_fraction))
    mean = pixels[train].mean(axis=0)
    scale = pixels[train].std(axis=0)
    scale[scale == 0.0] = 1.0

    def standardise(index):
        return ((pixels[index] - mean) / scale).astype(dtype)

    names = tuple(str(k) for k in range(10))
    return DigitsData(
        X_train=standardise(train), y_train=labels[train],
        X_val=standardise(val), y_val=labels[val],
        X_test=standardise(test), y_test=labels[test],
        n_classes=10, class_names=names, pixel_mean=mean, pixel_scale=scale,
        digits_train=labels[train], digits_val=labels[val], digits_test=labels[test],
        seed=seed)


# --- label conventions ------------------------------------------------------------


def to_plus_minus_one(y) -> np.ndarray:
    """Labels {0, 1} → {-1, +1} (what hinge losses expect): ``2*y - 1``.

    Examples
    --------
    >>> to_plus_minus_one([0, 1, 1])
    array([-1,  1,  1])
    """
    y = _check_labels("y", y, {0, 1}, "labels 0 and 1 (use to_zero_one for ±1 labels)")
    return 2 * y - 1


def to_zero_one(y) -> np.ndarray:
    """Labels {-1, +1} → {0, 1}: ``(y + 1) // 2``.

    Examples
    --------
    >>> to_zero_one([-1, 1, 1])
    array([0, 1, 1])
    """
    y = _check_labels("y", y, {-1, 1}, "labels -1 and +1 (use to_plus_minus_one for 0/1 labels)")
    return (y + 1) // 2


def _check_labels(name, y, allowed, expected):
    array = np.asarray(y)
    if array.dtype.kind not in "biuf":
        raise TypeError(f"`{name}` must hold {expected}, got dtype {array.dtype}")
    found = set(np.unique(array).tolist())
    if not found <= allowed:
        raise ValueError(f"`{name}` must hold {expected}, found {sorted(found)}")
    return array.astype(np.int64)
