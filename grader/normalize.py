"""One way to read student answers, shared by every check of every pack.

Students hand in the same answer in many containers: a tensor or a list, a number or a
one-element tensor, a message or the exception that carries it. A check should not decide on
its own which containers are fine (two checks would decide differently); it reads the answer
with one of these functions, which accept every container listed here and otherwise fail
through `grader.feedback.fail` with a message saying what was expected.

Arrays, `array(value, what, ndim=...)`
    A tensor, numpy array or nested list of numbers, as float64. Leading axes of length 1 are
    dropped down to the dimension the check asks for, so an image or a response kept with
    batch and channel axes, shape (1, 1, h, w), reads as (h, w); nothing else is reshaped (a
    flattened result stays flat and fails). NaN or infinite values fail.

Numbers, `number(value, what)`
    An int or float, or any container holding exactly one number: 3, 3.0, [3], (3,),
    tensor(3), tensor([[3]]). Booleans and text are not numbers.

Sizes, `size(value, what)` and `is_size(dims, n)`
    A kernel size is a number n or a shape (h, w), in any container: 3, [3], (1, 3), [3, 1],
    torch.Size([3, 3]), tensor([1, 3]); extra leading 1s, as in a conv weight's shape
    (1, 1, 1, 3), are dropped. `size` returns the numbers as a tuple, (n,) or (h, w).
    `is_size(dims, n)` is the one rule for "a kernel n samples wide": n, (1, n), (n, 1) and
    (n, n) all count, since the smallest such kernel may be written as a row, a column or a
    square.

Messages, `message(value, what)`
    Text, an exception object, the exception's args (a tuple holding the text), or a
    (type name, text) pair. Returns a `Message` whose `text` is canonical: case, spacing,
    quotes, a trailing period, an 'Error: ' prefix, the repr form RuntimeError('...') and a
    pasted traceback (only its last exception counts) are ignored. Compare messages with
    `Message.same_as`: the texts must be equal, so extra words (a sentence around the message,
    several guesses) make a different message. Several messages in a list fail: a guess per
    item is not an answer.

Source, `code_cells(source)` and `definitions(source)`
    A notebook's code as one text, a list of cell texts, or a mapping function name ->
    source. `definitions` parses each cell on its own (a cell that does not parse is
    skipped) and returns the last top-level definition of each function (`def` or
    `name = lambda ...`), as the notebook would have it after running top to bottom.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .feedback import describe, fail, render
from .wire import RaisedError

__all__ = ["Message", "array", "code_cells", "code_cut", "definitions", "is_size", "message",
           "number", "size", "squeeze_leading"]

MAX_SOURCE_CHARS = 500_000


# --- arrays and numbers ------------------------------------------------------------------------

def squeeze_leading(arr: np.ndarray, ndim: int) -> np.ndarray:
    """Drop leading axes of length 1 while `arr` has more than `ndim` dimensions."""
    while arr.ndim > ndim and arr.shape[0] == 1:
        arr = arr[0]
    return arr


def array(value: Any, what: str, *, ndim: int | None = None) -> np.ndarray:
    """`value` as a finite float64 array (of `ndim` dimensions once leading 1s are dropped)."""
    if isinstance(value, (RaisedError, str, dict, bool)) or value is None:
        fail(f"`{what}` should be a tensor of numbers, but it is {describe(value)}.",
             answer=value)
    try:
        arr = np.array(value, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        fail(f"`{what}` should be a tensor of numbers, but it is {describe(value)} that is not "
             "a rectangular array of numbers.", answer=value)
    if ndim is not None:
        arr = squeeze_leading(arr, ndim)
        if arr.ndim != ndim:
            fail(f"`{what}` should be a {ndim}-D tensor, but it has shape {tuple(arr.shape)}.",
                 answer=arr, hint="Check for a flattened result or a missing dimension.")
    if arr.size and not np.all(np.isfinite(arr)):
        fail(f"`{what}` contains NaN or infinite values.", answer=arr,
             hint="Look for a division by zero or values too large for floating point.")
    return arr


def number(value: Any, what: str) -> float:
    """`value` as one finite float: a number, or any container holding exactly one number."""
    if isinstance(value, (bool, str, RaisedError, dict)) or value is None:
        fail(f"`{what}` should be a number, but it is {describe(value)}.", answer=value)
    try:
        arr = np.array(value, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        fail(f"`{what}` should be a number, but it is {describe(value)}.", answer=value)
    if arr.size != 1:
        fail(f"`{what}` should be a single number, but it holds {arr.size} values "
             f"(shape {tuple(arr.shape)}).", answer=value)
    out = float(arr.reshape(()))
    if not np.isfinite(out):
        fail(f"`{what}` is {out}, not a finite number.", answer=value)
    return out


# --- sizes -------------------------------------------------------------------------------------

def size(value: Any, what: str) -> tuple[float, ...]:
    """A kernel size as (n,) or (h, w); see the module's docstring for the containers."""
    if isinstance(value, (bool, str, RaisedError, dict)) or value is None:
        fail(f"`{what}` should be a size (a number, or a (height, width) pair), but it is "
             f"{describe(value)}.", answer=value)
    try:
        dims = np.array(value, dtype=np.float64).ravel().tolist()
    except (ValueError, TypeError, OverflowError):
        fail(f"`{what}` should be a size (a number, or a (height, width) pair), but it is "
             f"{describe(value)}.", answer=value)
    while len(dims) > 2 and dims[0] == 1:
        dims = dims[1:]
    if len(dims) not in (1, 2):
        fail(f"`{what}` is {render(value)}: a size is one number or a (height, width) pair.",
             answer=value)
    if not all(np.isfinite(d) for d in dims):
        fail(f"`{what}` is {render(value)}, which is not a finite size.", answer=value)
    return tuple(dims)


def is_size(dims: tuple[float, ...], n: float) -> bool:
    """True when `dims` (from `size`) says "n samples wide": n, (1, n), (n, 1) or (n, n)."""
    if len(dims) == 1:
        return dims[0] == n
    return sorted(dims) == sorted([1.0, float(n)]) or dims == (n, n)


# --- messages ----------------------------------------------------------------------------------

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
_TYPE = r"[A-Za-z_][\w.]*(?:Error|Exception|Warning|Interrupt|Exit)|Error|Exception"
_PREFIX = re.compile(rf"^(?P<type>{_TYPE})\s*:\s*", re.I)
_REPR = re.compile(rf"^(?P<type>{_TYPE})?\((?P<q>['\"])(?P<text>.*)(?P=q),?\)$", re.S | re.I)
_TYPE_ONLY = re.compile(rf"^(?:{_TYPE})$", re.I)


@dataclass(frozen=True, slots=True)
class Message:
    """An error message as the student gave it: its exception type when known, and its
    canonical text (see `canonical_text`)."""

    type: str
    text: str

    def same_as(self, type_: str, text: str) -> bool:
        """Same message as `text` (raw), of exception type `type_` unless none was given."""
        return bool(self.text) and self.text == canonical_text(text)[1] and \
            (not self.type or self.type.rsplit(".", 1)[-1].lower() == type_.lower())


def message(value: Any, what: str) -> Message:
    """Read an error message from text, an exception, its args or a (type, text) pair."""
    if isinstance(value, RaisedError):
        found, text = canonical_text(value.message)
        return Message(_specific(value.type) or found, text)
    if isinstance(value, str):
        return Message(*canonical_text(value))
    if isinstance(value, (list, tuple)):
        items = list(value)
        if len(items) == 1:
            return message(items[0], what)
        if len(items) == 2 and all(isinstance(v, str) for v in items) and \
                _TYPE_ONLY.match(items[0].strip()):
            found, text = canonical_text(items[1])
            return Message(_specific(items[0].strip()) or found, text)
        if items and all(isinstance(v, (str, RaisedError)) for v in items):
            fail(f"`{what}` holds {len(items)} messages; give the one message you got.",
                 answer=value, hint="Store the exception you caught, or its message (str(e)).")
    fail(f"`{what}` should be an error message (a str) or the exception object, not "
         f"{describe(value)}.", answer=value,
         hint="Store the exception you caught, or its message (str(e)).")


def canonical_text(text: str) -> tuple[str, str]:
    """(exception type named in the text or "", the text without case, spacing, quotes, a
    trailing period, an 'Error: ' prefix, a repr wrapper or the rest of a traceback)."""
    text = _ANSI.sub("", text)
    if "Traceback (most recent call last)" in text:
        lines = [line.strip() for line in text.strip().splitlines()]
        starts = [i for i, line in enumerate(lines) if _PREFIX.match(line)]
        text = "\n".join(lines[starts[-1]:]) if starts else (lines[-1] if lines else "")
    text = " ".join(text.split())
    found = ""
    match = _REPR.match(text)
    if match:
        found, text = match.group("type") or "", match.group("text")
    match = _PREFIX.match(text)
    if match:
        found, text = found or match.group("type"), text[match.end():]
    text = text.strip().strip("'\"").strip().rstrip(".").strip()
    return _specific(found), " ".join(text.split()).lower()


def _specific(type_name: str) -> str:
    """A type name that says which exception it was ('Error' alone does not)."""
    return "" if type_name.lower() in ("error", "exception") else type_name


# --- source ------------------------------------------------------------------------------------

def code_cells(source: Any) -> list[str]:
    """The code of a notebook as a list of texts: one text, a list of cells, or a mapping
    function name -> source. Anything else gives an empty list."""
    out, total = [], 0
    for cell in _texts(source):
        total += len(cell)
        if total > MAX_SOURCE_CHARS:
            break
        out.append(cell)
    return out


def code_cut(source: Any) -> bool:
    """Whether `code_cells` left cells out (the code is over MAX_SOURCE_CHARS): a function not
    found in it may then be there all the same."""
    return sum(len(c) for c in _texts(source)) > MAX_SOURCE_CHARS


def _texts(source: Any) -> list[str]:
    if isinstance(source, str):
        return [source]
    if isinstance(source, Mapping):
        return [v for v in source.values() if isinstance(v, str)]
    if isinstance(source, (list, tuple)):
        return [v for v in source if isinstance(v, str)]
    return []


def definitions(source: Any) -> dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda]:
    """The last top-level definition of each function in `source` (see `code_cells`)."""
    found: dict[str, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda] = {}
    for cell in code_cells(source):
        try:
            tree = ast.parse(cell)
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue  # a cell that does not parse defines nothing we can read
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                found[node.name] = node
            elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value
    return found
