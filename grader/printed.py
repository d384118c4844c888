"""Arrays read back from printed text: `tensor([[1., -1.], ...])`, `array([...])`, numpy's bare
`[[0. 1.]\\n [1. 0.]]` and plain lists of numbers, as a cell printed them (or as a submitted
file saved them).

A small parser of nested brackets of numbers: nothing is evaluated, text is cut to a bound, and
anything else (an abbreviated `...` tensor, ragged lists, words) is skipped. Pure functions.
"""

from __future__ import annotations

import re

import numpy as np

from .limits import EVIDENCE_ITEMS, EVIDENCE_PRINTED_ARRAYS, EVIDENCE_PRINTED_CHARS

_NUMBER = re.compile(r"[-+]?(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|nan|inf)")
_MAX_DEPTH = 4


def arrays_in(text: str, *, limit: int = EVIDENCE_PRINTED_ARRAYS) -> list[np.ndarray]:
    """The numeric arrays printed in `text`, in order (at most `limit`), as float64."""
    if not isinstance(text, str):
        return []
    text = text[:EVIDENCE_PRINTED_CHARS]
    found: list[np.ndarray] = []
    i = 0
    while i < len(text) and len(found) < limit:
        start = text.find("[", i)
        if start < 0:
            break
        end = _closing(text, start)
        if end < 0:
            break
        value = _parse(text[start:end + 1])
        if value is not None:
            found.append(value)
        i = end + 1
    return found


def _closing(text: str, start: int) -> int:
    """Index of the bracket closing the one at `start`, or -1."""
    depth = 0
    for k in range(start, len(text)):
        c = text[k]
        if c == "[":
            depth += 1
            if depth > _MAX_DEPTH:
                return -1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return k
    return -1


def _parse(chunk: str) -> np.ndarray | None:
    """A nested list of numbers (commas optional, as numpy prints) as an array, else None."""
    tokens = re.findall(r"\[|\]|,|[^\s\[\],]+", chunk)
    pos = 0

    def value():
        nonlocal pos
        if pos >= len(tokens):
            raise ValueError
        tok = tokens[pos]
        if tok == "[":
            pos += 1
            items = []
            while pos < len(tokens) and tokens[pos] != "]":
                if tokens[pos] == ",":
                    pos += 1
                    continue
                items.append(value())
            if pos >= len(tokens):
                raise ValueError
            pos += 1
            return items
        if not _NUMBER.fullmatch(tok):
            raise ValueError
        pos += 1
        return float(tok)

    try:
        nested = value()
        if pos != len(tokens):
            return None
        arr = np.array(nested, dtype=np.float64)
    except (ValueError, TypeError, OverflowError, RecursionError):
        return None
    if arr.dtype != np.float64 or arr.size == 0 or arr.size > EVIDENCE_ITEMS:
        return None
    return arr
