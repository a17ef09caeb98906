"""Learner-controlled text made safe for a terminal and for a spreadsheet.

Learner ids, lesson ids, file paths and reasons can all come from a submission (a folder
name, a notebook's metadata, an exception message). Before they reach a terminal, every
control character is removed (:func:`printable`: ANSI escape sequences, ``\\r``, other C0
and C1 characters, which could rewrite or hide what the instructor sees). Before they
reach a CSV cell, control characters go the same way and a leading ``=``, ``+``, ``-``,
``@``, tab or carriage return is neutralised with a ``'`` (:func:`spreadsheet_cell`), so
no spreadsheet program reads the cell as a formula.

Examples
--------
>>> printable("ok\\x1b[2J\\x1b]0;pwned\\x07 done\\r\\x9b")
'ok done'
>>> spreadsheet_cell("=HYPERLINK(\\"x\\")"), spreadsheet_cell("-2+3"), spreadsheet_cell("ana")
('\\'=HYPERLINK("x")', "'-2+3", 'ana')
>>> spreadsheet_cell("\\t=1")
"'=1"
"""
from __future__ import annotations

import re

#: ANSI/ECMA-48 sequences: CSI (``ESC [`` or the 8-bit ``\\x9b``) ... final byte; OSC
#: (``ESC ]`` or ``\\x9d``) ... BEL/ST; other two-character ``ESC x`` sequences.
_ESCAPES = re.compile(r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]?"
                      r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"
                      r"|\x1b[@-Z\\-_]?")
#: Every C0 and C1 control character but newline and tab (and DEL).
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
#: Unicode "format" characters that reorder or hide text (bidirectional overrides).
_BIDI = re.compile("[\u202a-\u202e\u2066-\u2069\u200e\u200f]")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def printable(text, *, keep_newlines: bool = True) -> str:
    """``text`` without terminal escapes and control characters (``\\n`` and tab kept)."""
    text = _ESCAPES.sub("", str(text))
    text = _BIDI.sub("", _CONTROLS.sub("", text))
    if not keep_newlines:
        text = text.replace("\n", " ").replace("\t", " ")
    return text


def spreadsheet_cell(text) -> str:
    """One CSV cell: one line, no control characters, never read as a formula."""
    text = str(text)
    stripped = text.lstrip("\t\r")
    escape = text[:1] in _FORMULA_START
    text = printable(stripped, keep_newlines=False)
    return "'" + text if escape or text[:1] in _FORMULA_START else text
