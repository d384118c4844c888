"""Which arrays of a check's feedback a report can picture, kept as plain numbers.

A failed check's answer, expected value and their difference, its inputs and the figures the
check names become `Figure`s when they are small 2-D numeric arrays; larger or non-finite
ones, and those beyond the per-check count, are left out with a note saying so. Never
raises: whatever a check passes, the worst outcome is a note.

A check names figures as `{label: array}`; `{label: (array, "group")}` puts figures of one
group on one colour scale (as the answer and the expected value are), so that equal colours
mean equal values across them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .limits import FIGURE_SIDE, FIGURES_PER_CHECK
from .results import Figure

ANSWER = "Your answer"
EXPECTED = "Expected"
DIFFERENCE = "Difference (yours − expected)"


def as_matrix(value: Any) -> np.ndarray | None:
    """`value` as a 2-D float array, or None when it is not a non-empty numeric array of two
    dimensions. Leading axes of length 1 are dropped, as in a (1, 1, h, w) batch."""
    if not isinstance(value, (np.ndarray, list, tuple)):
        return None
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError):  # ragged nesting
        return None
    if arr.dtype.kind not in "biuf":
        return None
    while arr.ndim > 2 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim != 2 or arr.size == 0:
        return None
    return arr.astype(np.float64)


def grouped(value: Any) -> tuple[Any, str]:
    """A named figure's value and its scale group ("" for a scale of its own)."""
    if isinstance(value, tuple) and len(value) == 2 and isinstance(value[1], str):
        return value[0], f"check:{value[1]}"
    return value, ""


def input_items(inputs: Any) -> list[tuple[str, Any]]:
    """The inputs of a check as labelled values: a dict by key, a tuple of arguments by
    position, anything else as one input."""
    if isinstance(inputs, Mapping):
        return [(f"Input {key}", value) for key, value in inputs.items()]
    if isinstance(inputs, (tuple, list)) and as_matrix(inputs) is None:
        if len(inputs) == 1:
            return [("Input", inputs[0])]
        return [(f"Input {i + 1}", value) for i, value in enumerate(inputs)]
    return [("Input", inputs)]


def outcome_figures(*, inputs: Any = None, answer: Any = None, expected: Any = None,
                    named: Any = None) -> tuple[tuple[Figure, ...], tuple[str, ...]]:
    """The figures of one check, in the order a report shows them (answer, expected,
    difference, the check's own, inputs), and notes on arrays left out."""
    wanted: list[tuple[str, np.ndarray, str]] = []
    notes: list[str] = []
    mine, theirs = as_matrix(answer), as_matrix(expected)
    if mine is not None:
        wanted.append((ANSWER, mine, "answer"))
    if theirs is not None:
        wanted.append((EXPECTED, theirs, "answer"))
    if mine is not None and theirs is not None and mine.shape == theirs.shape:
        wanted.append((DIFFERENCE, mine - theirs, ""))
    if named is not None:
        if isinstance(named, Mapping):
            for label, value in named.items():
                value, group = grouped(value)
                matrix = as_matrix(value)
                if matrix is None:
                    notes.append(f"{label}: not a 2-D array of numbers, so not pictured.")
                else:
                    wanted.append((str(label), matrix, group))
        else:
            notes.append("The check's figures are not a dict of arrays, so not pictured.")
    wanted += [(label, matrix, "") for label, value in input_items(inputs)
               if (matrix := as_matrix(value)) is not None]
    figures, more = capped(wanted)
    return figures, tuple(notes) + more


def capped(wanted: list[tuple[str, np.ndarray, str]]) -> tuple[tuple[Figure, ...], tuple[str, ...]]:
    """At most FIGURES_PER_CHECK figures of at most FIGURE_SIDE x FIGURE_SIDE finite values;
    a note for each array left out."""
    figures: list[Figure] = []
    notes: list[str] = []
    dropped = 0
    for label, matrix, scale in wanted:
        rows, cols = matrix.shape
        if max(rows, cols) > FIGURE_SIDE:
            notes.append(f"{label} ({rows}×{cols}) is larger than {FIGURE_SIDE}×{FIGURE_SIDE}, "
                         "so not pictured.")
        elif not np.all(np.isfinite(matrix)):
            notes.append(f"{label} has NaN or infinite values, so not pictured.")
        elif len(figures) == FIGURES_PER_CHECK:
            dropped += 1
        else:
            figures.append(Figure(label, plain(matrix), scale))
    if dropped:
        notes.append(f"{dropped} more array{'s' if dropped > 1 else ''} not pictured (at most "
                     f"{FIGURES_PER_CHECK} per check).")
    return tuple(figures), tuple(notes)


def plain(matrix: np.ndarray) -> tuple[tuple[float, ...], ...]:
    """Rows of floats to 6 significant digits; rounding noise (below 1e-9 of the largest
    value) becomes 0, so a response that is zero up to rounding is pictured as zero."""
    tol = 1e-9 * max(1.0, float(np.abs(matrix).max()))
    clean = np.where(np.abs(matrix) < tol, 0.0, matrix)
    return tuple(tuple(float(f"{x:.6g}") + 0.0 for x in row) for row in clean.tolist())
