"""Stable text for numbers and arrays, for outputs that tests compare.

Hidden tests and checked notebook cells print values; the text must not depend on
numpy's print options, on the array's shape (numpy wraps and aligns columns), on the
last bits of a float, or on the platform. :func:`canonical` gives:

- floats with 8 significant digits (``'%.8g'``), ``-0`` as ``0``, and ``nan``,
  ``inf``, ``-inf`` spelled out;
- integers as integers, booleans as ``True``/``False``, ``None`` as ``None``,
  strings as they are;
- arrays and lists as nested ``[a, b, ...]`` lists, tuples as ``(a, b)``, dicts as
  ``{key: value}`` in sorted key order;
- anything else (objects, complex numbers) is a ``TypeError``: an object's repr
  (with its memory address) is not stable text.

:func:`parse` is its inverse for numbers, booleans, ``None`` and lists/tuples of them
(what hidden tests print): the grader's feedback and the exercise engine's diagnosis read
printed outputs back with it.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

__all__ = ["canonical", "parse", "show"]

#: Deeper nesting than any loss output: refused without recursion (printed text is untrusted).
MAX_DEPTH = 32
_WORDS = {"nan": float("nan"), "inf": float("inf"), "-inf": float("-inf"), "True": True, "False": False,
          "None": None}


def _float(v: float) -> str:
    if math.isnan(v):
        return "nan"
    if math.isinf(v):
        return "inf" if v > 0 else "-inf"
    text = "%.8g" % v
    return "0" if text == "-0" else text


def _array(a: np.ndarray) -> str:
    if a.ndim == 0:
        return canonical(a.item())
    return "[" + ", ".join(_array(sub) if a.ndim > 1 else canonical(sub.item())
                           for sub in a) + "]"


def canonical(value) -> str:
    """Stable, shape-independent text for a number, array or container of them.

    Parameters
    ----------
    value : float, int, bool, None, str, ndarray, list, tuple or dict

    Returns
    -------
    str

    Raises
    ------
    TypeError
        For any other type (including complex numbers).

    Examples
    --------
    >>> canonical(0.1 + 0.2)
    '0.3'
    >>> canonical(np.array([[1.0, -0.0], [np.nan, 1e-20]]))
    '[[1, 0], [nan, 1e-20]]'
    >>> canonical((3, np.float32(0.5), [True, None]))
    '(3, 0.5, [True, None])'
    """
    if value is None:
        return "None"
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (numbers.Integral, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return _float(float(value))
    if isinstance(value, str):
        return value
    if isinstance(value, np.ndarray):
        if value.dtype.kind not in "biuf":
            raise TypeError(
                f"canonical: arrays must hold numbers or booleans, got dtype {value.dtype}; "
                "convert with np.asarray(value, dtype=float)"
            )
        return _array(value)
    if isinstance(value, list):
        return "[" + ", ".join(canonical(v) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(canonical(v) for v in value)
        return "(" + inner + ("," if len(value) == 1 else "") + ")"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda kv: str(kv[0]))
        return "{" + ", ".join(f"{canonical(k)}: {canonical(v)}" for k, v in items) + "}"
    raise TypeError(
        f"canonical: cannot give stable text for {type(value).__name__}; pass numbers, "
        "arrays, or lists/tuples/dicts of them (e.g. the value of an attribute, "
        "not the object)"
    )


def parse(text: str):
    """The value :func:`canonical` printed as ``text``; raises ``ValueError`` for anything else.

    Numbers (``int`` when written without a point or exponent, else ``float``; ``nan``,
    ``inf``, ``-inf``), ``True``/``False``/``None``, and ``[...]`` lists and ``(...)``
    tuples of them, nested at most :data:`MAX_DEPTH` deep. Strings and dicts are not
    parsed (their text is ambiguous). Iterative: hostile text (20,000 ``[``) is refused,
    never a ``RecursionError``.

    Examples
    --------
    >>> parse("[1.5, -2, nan]")
    [1.5, -2, nan]
    >>> parse("(0.5, [1, 2])"), parse("(3,)"), parse("-inf")
    ((0.5, [1, 2]), (3,), -inf)
    >>> parse("[" * 20000)
    Traceback (most recent call last):
    ...
    ValueError: nested deeper than 32 levels
    """
    if not isinstance(text, str):
        raise ValueError(f"parse needs text, got {type(text).__name__}")
    source = text.strip()
    if not source or len(source) > 2_000_000:
        raise ValueError("empty or too long to be a printed value")
    stack: list[tuple[str, list]] = []
    result, done = None, False
    position, length = 0, len(source)
    expect_value = True
    while position < length:
        char = source[position]
        if char in " \n\t":
            position += 1
            continue
        if done:
            raise ValueError(f"text after the value at {position}: {source[position:position + 20]!r}")
        if char in "[(":
            if not expect_value:
                raise ValueError(f"missing comma before {char!r} at {position}")
            if len(stack) >= MAX_DEPTH:
                raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
            stack.append(("]" if char == "[" else ")", []))
            position += 1
            continue
        if char in "])":
            if not stack or stack[-1][0] != char:
                raise ValueError(f"unbalanced {char!r} at {position}")
            closer, items = stack.pop()
            trailing_comma = source[:position].rstrip().endswith(",")
            if expect_value and items and not (closer == ")" and trailing_comma and len(items) == 1):
                raise ValueError(f"a value is missing before {char!r} at {position}")
            value = items if closer == "]" else tuple(items)
            position += 1
        elif char == ",":
            if expect_value or not stack:
                raise ValueError(f"unexpected ',' at {position}")
            expect_value = True
            position += 1
            continue
        else:
            if not expect_value:
                raise ValueError(f"missing comma at {position}")
            end = position
            while end < length and source[end] not in ",[]() \n\t":
                end += 1
            value = _atom(source[position:end])
            position = end
        if stack:
            stack[-1][1].append(value)
            expect_value = False
        else:
            result, done = value, True
    if stack or not done:
        raise ValueError("unbalanced brackets: the text ends inside a list or tuple")
    return result


def _atom(token: str):
    if token in _WORDS:
        return _WORDS[token]
    try:
        if token.lstrip("-").isdigit():
            return int(token)
        value = float(token)
    except ValueError:
        raise ValueError(f"not a printed number: {token[:40]!r}") from None
    if token.lower().lstrip("+-") in ("nan", "inf", "infinity"):
        raise ValueError(f"not canonical: {token!r}")
    return value


def show(*values) -> None:
    """Print the canonical form of each value on its own line.

    Examples
    --------
    >>> show(1 / 3, np.array([2.0, -0.0]))
    0.33333333
    [2, 0]
    """
    for value in values:
        print(canonical(value))
