"""Lesson 08, beyond: the quantile (pinball) loss and a stable log-cosh."""
from __future__ import annotations

import numpy as np

from lossbook import losses
from lossbook.exercises import cases
from lossbook.exercises.model import Exercise, Misconception

LESSON = "08_beyond"


def _r(y, p):
    """y − ŷ: positive for an under-prediction."""
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
        "Under-predicting (y > y_pred) and over-predicting cost different amounts per unit: q and 1 - q.",
        "With r = y - y_pred, the loss is q·r when r ≥ 0 and (q - 1)·r when r < 0; np.maximum of the two picks the right one.",
        "r = y_true - y_pred; return float(np.mean(np.maximum(q * r, (q - 1) * r)))",
    ),
    misconceptions=(
        Misconception("swapped", lambda y, p, q: float(np.mean(_pinball(y, p, 1 - q))),
                      "q and 1 − q are swapped: under-predictions (y > ŷ) cost q per unit, over-predictions 1 − q"),
        Misconception("ignores q", lambda y, p, q: float(np.mean(_pinball(y, p, 0.5))),
                      "your function ignores q: with q = 0.5 it is half the MAE, other quantiles weigh the two sides differently"),
        Misconception("sum", lambda y, p, q: float(np.sum(_pinball(y, p, q))),
                      "exactly n times too large: did you sum instead of averaging?"),
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
        "np.log(np.cosh(r)) is right on paper but cosh(800) is inf in floating point.",
        "cosh r = (e^|r| / 2)(1 + e^(-2|r|)); take the log of that product term by term, and use np.log1p for the small part.",
        "a = np.abs(y_pred - y_true); return float(np.mean(a + np.log1p(np.exp(-2 * a)) - np.log(2)))",
    ),
    misconceptions=(
        Misconception("naive", lambda y, p: float(np.mean(np.log(np.cosh(_r(y, p))))),
                      "cosh overflowed at a large residual (e.g. 800): use |r| + log(1 + e^(−2|r|)) − log 2"),
        Misconception("no log", lambda y, p: float(np.mean(np.cosh(_r(y, p)))),
                      "missing the log: the loss is log(cosh r), not cosh r"),
        Misconception("sum", lambda y, p: float(np.sum(_log_cosh_stable(y, p))),
                      "exactly n times too large: did you sum instead of averaging?"),
        Misconception("no log 2", lambda y, p: float(np.mean(np.abs(_r(y, p)) + np.log1p(np.exp(-2 * np.abs(_r(y, p)))))),
                      "missing the − log 2: log cosh r = |r| + log(1 + e^(−2|r|)) − log 2 (it is 0 at r = 0)"),
    ),
    solution='''def log_cosh(y_true, y_pred):
    a = np.abs(np.asarray(y_pred, dtype=float) - y_true)
    return float(np.mean(a + np.log1p(np.exp(-2 * a)) - np.log(2)))
''',
    forbidden=(
        "lossbook.losses.log_cosh",
    ),
)

EXERCISES = (QUANTILE, LOG_COSH)
