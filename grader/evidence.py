"""What a free-form notebook shows, as plain data: the values its cells produced, the functions
it defined, what its cells printed and raised, and what the submitted file had saved.

Everything re-execution produced is *verified*: the kernel reported it after the cell ran
(grader/kernel_evidence.py, read by grader/capture.py), or the cell printed it. Outputs saved
in the submitted file are *unverified*: anyone can edit a notebook's JSON, so they can make a
question worth a look by the instructor, never earn points. Builders here are pure functions of
decoded data; each validates what it is given and keeps within the caps of grader/limits.py.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from nbformat import NotebookNode

from .limits import EVIDENCE_PRINTED_CHARS, EVIDENCE_SAVED_CHARS, NAME_CHARS, TEXT_CHARS
from .printed import arrays_in
from .wire import RaisedError

ORIGINS = ("variable", "result", "printed", "error", "saved")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,199}")
_HANDLE = re.compile(r"(\d{1,6}):([A-Za-z_][A-Za-z0-9_]{0,199})")


@dataclass(frozen=True, slots=True)
class Item:
    """One value a notebook showed."""

    cell: int
    """The notebook's cell index (markdown cells count)."""
    origin: str
    """variable (assigned or changed by the cell), result (the cell's displayed value),
    printed (an array read from what the cell printed), error (an exception the cell raised),
    or saved (from the submitted file's outputs: unverified)."""
    name: str
    value: Any
    """numbers, strings, numpy arrays, RaisedError, tuples and lists of them."""

    @property
    def verified(self) -> bool:
        return self.origin != "saved"


@dataclass(frozen=True, slots=True)
class Function:
    """A function the notebook defined (or redefined) in `cell`, callable in the kernel under
    `handle` even after its name is rebound."""

    name: str
    handle: str
    cell: int
    params: tuple[str, ...]
    defaults: int
    star: bool
    source: str = ""

    def takes(self, n: int) -> bool:
        """Can it be called with n positional arguments?"""
        required = len(self.params) - self.defaults
        return required <= n and (self.star or n <= len(self.params))

    @property
    def call_name(self) -> str:
        """The name a probe request uses to call it (see kernel_probe's `resolve`)."""
        return f"<fn {self.handle}>"


@dataclass(frozen=True, slots=True)
class Output:
    """What one cell printed (stdout, stderr, displayed text), as text."""

    cell: int
    text: str
    verified: bool
    error: tuple[str, str] | None = None
    """(ename, evalue) of the error the cell ended with."""


@dataclass(slots=True)
class Evidence:
    """Everything seen of one free-form submission."""

    items: list[Item] = field(default_factory=list)
    functions: list[Function] = field(default_factory=list)
    outputs: list[Output] = field(default_factory=list)

    def arrays(self, *, verified: bool = True) -> list[tuple[Item, np.ndarray]]:
        """Every array shown (verified ones, or unverified ones), with its item."""
        out = []
        for item in self.items:
            if item.verified != verified:
                continue
            for value in _arrays_of(item.value):
                out.append((item, value))
        return out


def _arrays_of(value: Any) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value] if value.dtype.kind in "biuf" else []
    if isinstance(value, (tuple, list)):
        return [v for x in value for v in _arrays_of(x)]
    return []


# --- readers ---------------------------------------------------------------------------------

def read_capture(cell: int, value: Any) -> tuple[list[Item], list[Function]]:
    """The decoded reply of one capture (a list of (kind, name, data) tuples) as items and
    functions; malformed entries are dropped."""
    items: list[Item] = []
    functions: list[Function] = []
    if not isinstance(value, list):
        return items, functions
    for entry in value:
        if not (isinstance(entry, tuple) and len(entry) == 3 and isinstance(entry[0], str)
                and isinstance(entry[1], str)):
            continue
        kind, name, data = entry
        if kind == "variable" and _IDENT.fullmatch(name):
            items.append(Item(cell, "variable", name, data))
        elif kind == "result" and name == "":
            items.append(Item(cell, "result", "", data))
        elif kind == "function" and _IDENT.fullmatch(name):
            fn = _function(cell, name, data)
            if fn is not None:
                functions.append(fn)
    return items, functions


def _function(cell: int, name: str, data: Any) -> Function | None:
    if not (isinstance(data, tuple) and len(data) == 4):
        return None
    handle, params, defaults, star = data
    match = _HANDLE.fullmatch(handle) if isinstance(handle, str) else None
    if match is None or int(match.group(1)) != cell or match.group(2) != name:
        return None
    if not (isinstance(params, list) and all(isinstance(p, str) and _IDENT.fullmatch(p)
                                             for p in params)):
        return None
    if not isinstance(defaults, int) or isinstance(defaults, bool) or not isinstance(star, bool):
        return None
    return Function(name, handle, cell, tuple(params), max(0, min(defaults, len(params))), star)


def cell_output(cell: int, outputs: Any, *, verified: bool) -> tuple[Output, list[Item]]:
    """One cell's outputs (nbformat output dicts) as text, with the arrays printed in them and
    the error it ended with (for saved outputs, as unverified items)."""
    text, error, size = [], None, 0
    for out in outputs if isinstance(outputs, list) else []:
        if size > EVIDENCE_PRINTED_CHARS:
            break
        if not isinstance(out, dict):
            continue
        kind = out.get("output_type")
        if kind == "stream" and isinstance(out.get("text"), str):
            text.append(out["text"][:EVIDENCE_PRINTED_CHARS])
            size += len(text[-1])
        elif kind in ("execute_result", "display_data"):
            data = out.get("data")
            plain = data.get("text/plain") if isinstance(data, dict) else None
            if isinstance(plain, list):
                plain = "".join(x for x in plain if isinstance(x, str))
            if isinstance(plain, str):
                text.append(plain[:EVIDENCE_PRINTED_CHARS] + "\n")
                size += len(text[-1])
        elif kind == "error":
            error = (str(out.get("ename", ""))[:NAME_CHARS], str(out.get("evalue", ""))[:TEXT_CHARS])
    joined = "".join(text)[:EVIDENCE_PRINTED_CHARS]
    origin = "printed" if verified else "saved"
    items = [Item(cell, origin, "", a) for a in arrays_in(joined)]
    if error is not None and not verified:
        items.append(Item(cell, "saved", "", RaisedError(*error)))
    return Output(cell, joined, verified, error), items


def saved_outputs(nb: NotebookNode) -> tuple[list[Output], list[Item]]:
    """The outputs saved in the submitted file: unverified evidence."""
    outputs, items, room = [], [], EVIDENCE_SAVED_CHARS
    for i, cell in enumerate(nb.cells):
        if cell.get("cell_type") != "code" or not cell.get("outputs") or room <= 0:
            continue
        out, found = cell_output(i, cell.get("outputs"), verified=False)
        room -= len(out.text) + 200
        outputs.append(out)
        items += found
    return outputs, items


def with_sources(functions: list[Function], nb: NotebookNode) -> list[Function]:
    """`functions` with the source of each one's definition in its cell, where it parses."""
    out = []
    for fn in functions:
        source = ""
        if 0 <= fn.cell < len(nb.cells):
            source = definition_source(nb.cells[fn.cell].get("source", ""), fn.name)
        out.append(Function(fn.name, fn.handle, fn.cell, fn.params, fn.defaults, fn.star,
                            source))
    return out


def definition_source(cell_source: str, name: str) -> str:
    """The text of the last top-level `def name` or `name = lambda ...` in a cell, else ""."""
    try:
        tree = ast.parse(cell_source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    found = ""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            found = ast.get_source_segment(cell_source, node) or ""
        elif isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            found = ast.get_source_segment(cell_source, node) or ""
    return found
