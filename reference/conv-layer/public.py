"""The public part of the conv-layer pack's reference: the section's own code (K, corr2d),
the probe images the checks build (step edges, ramps) and the diagonal-edge detector. Public
checks may use only this; `grader dist` gives it to students. The answers are in solution.py.

Runs in the grader's process only. Array functions work in float64 numpy.
"""

from __future__ import annotations

import math

import numpy as np

K = np.array([[1.0, -1.0]])


def corr2d(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    """2-D cross-correlation, 'valid' region, as in the section. Raises ValueError when K is
    larger than X. Overflow gives inf or NaN (no warning): callers check."""
    X, K = np.asarray(X, dtype=np.float64), np.asarray(K, dtype=np.float64)
    if K.shape[0] > X.shape[0] or K.shape[1] > X.shape[1]:
        raise ValueError(f"kernel {K.shape} is larger than the image {X.shape}")
    windows = np.lib.stride_tricks.sliding_window_view(X, K.shape)
    with np.errstate(all="ignore"):
        return np.tensordot(windows, K, axes=([2, 3], [0, 1]))


def rms(values: np.ndarray) -> float:
    """Root mean square, computed so that huge values do not overflow."""
    peak = float(np.abs(values).max(initial=0.0))
    return 0.0 if peak == 0 else peak * math.sqrt(float(((values / peak) ** 2).mean()))


def step_edge(size: int, normal: float, offset: float = 0.0, softness: float = 0.7) -> np.ndarray:
    """A size x size image of one straight step edge: 0 on one side, 1 on the other, with a
    Gaussian-blurred profile of `softness` pixels (a real edge, not a ramp). `normal` is the
    angle (radians) of the direction in which it rises, x along the columns and y down the
    rows; `offset` moves the edge off the centre along it."""
    i, j = np.indices((size, size), dtype=np.float64)
    c = (size - 1) / 2
    distance = (j - c) * math.cos(normal) + (i - c) * math.sin(normal) + offset
    return 0.5 * (1 + np.vectorize(math.erf)(distance / (math.sqrt(2) * softness)))


def ramp(size: int, direction: float, slope: float = 1.0, offset: float = 0.0) -> np.ndarray:
    """A size x size linear ramp rising by `slope` per pixel in the direction `direction`."""
    i, j = np.indices((size, size), dtype=np.float64)
    return offset + slope * (j * math.cos(direction) + i * math.sin(direction))


# --- diagonal edges -------------------------------------------------------------------------

def diagonal_edge_problem(X: np.ndarray) -> str | None:
    """None when X holds a diagonal edge (along the main or the anti-diagonal: a step or a
    line, sharp or soft, clean or mildly noisy, of any size), otherwise what is wrong with it.

    A 45-degree edge is left unchanged by a step along its diagonal and changed by a step
    across it. Three readings look for that; one is enough:
    - the whole image: X is (nearly) a function of j - i, or of i + j, that changes sharply
      (not a ramp) between diagonals at least two pixels long (not a lone corner pixel);
    - its parts: the gradients of 2x2 cells point across a diagonal in unbroken runs along it,
      one diagonal line carries a quarter of the image's edges, and straight runs (diagonal or
      axis-aligned) carry three quarters of them: a diagonal edge in a larger drawing, not
      scattered noise or a curve;
    - coarser copies: means of 2x2 and 3x3 blocks (most block offsets must agree), for edges
      drawn with 2- or 3-pixel steps, and a 3x3 median for a noisy image.
    Values are rescaled to [0, 1] first, so the image's scale and offset do not matter.
    """
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2:
        return f"it should be a 2-D image, but has shape {X.shape}"
    if min(X.shape) < 3:
        return (f"it is only {X.shape[0]}x{X.shape[1]}; make it at least 3x3 so an edge can "
                "run diagonally")
    if not np.all(np.isfinite(X)):
        return "it contains NaN or infinite values"
    peak = np.abs(X).max()
    X = _unit(X / peak if peak > 0 else X)  # divided first: the span of ±1e308 overflows
    if X is None:
        return "it is constant, so it has no edge at all"
    if _diagonal_family(X, coarse=False):
        return None
    for c in (1, 2):  # a border spoilt by a blur with zero padding
        inner = _unit(X[c:-c, c:-c])
        if inner is not None and min(inner.shape) >= 4 and _whole_image_family(inner):
            return None
    if min(X.shape) >= 8 and np.unique(X).size > X.size / 4:  # many grey levels: noise
        smooth = _unit(_median3(X))
        if smooth is not None and _diagonal_family(smooth, coarse=False):
            return None
    for f in (2, 3):
        found = [_diagonal_family(Y, coarse=True) for Y in _block_means(X, f)]
        if found and any(2 * found.count(fam) >= len(found) for fam in ("main", "anti")):
            return None
    return _why_not_diagonal(X)


def _unit(X: np.ndarray) -> np.ndarray | None:
    """X rescaled to [0, 1], or None when it is constant."""
    span = X.max() - X.min() if X.size else 0.0
    return (X - X.min()) / span if span > 0 else None


def _diagonal_family(X: np.ndarray, *, coarse: bool) -> str | None:
    """'main' or 'anti' when X, read whole or by parts, has a diagonal edge; else None.
    Coarse copies are small and blurred, so they are read more strictly."""
    tiny = coarse and min(X.shape) < 5
    found = _whole_image_family(X, 0.02 if tiny else 0.05)
    if found:
        return found
    if coarse and min(X.shape) < 4:
        return None
    parts = _edge_parts(X, run=3 if coarse else 2)
    if parts and parts["line"] >= 0.25 and parts["diagonal"] + parts["axis"] >= 0.75 \
            and parts["edge_cells"] <= 0.7:
        return parts["family"]
    return None


def _whole_image_family(X: np.ndarray, tolerance: float = 0.05) -> str | None:
    """'main' when X is (within `tolerance`, in energy) a function of j - i that changes
    sharply somewhere, 'anti' for i + j; None otherwise."""
    along_main = X[1:, 1:] - X[:-1, :-1]
    along_anti = X[1:, :-1] - X[:-1, 1:]
    bend_main = X[:-2, 2:] - 2 * X[1:-1, 1:-1] + X[2:, :-2]  # second difference across
    bend_anti = X[:-2, :-2] - 2 * X[1:-1, 1:-1] + X[2:, 2:]
    m, a = float((along_main ** 2).sum()), float((along_anti ** 2).sum())
    i, j = np.indices(X.shape)
    if a > 0 and m <= tolerance * a and (bend_main ** 2).sum() >= 0.05 * a \
            and _changes_between_long_diagonals(X, j - i):
        return "main"
    if m > 0 and a <= tolerance * m and (bend_anti ** 2).sum() >= 0.05 * m \
            and _changes_between_long_diagonals(X, i + j):
        return "anti"
    return None


def _changes_between_long_diagonals(X: np.ndarray, line: np.ndarray) -> bool:
    """Most of the change of X's profile across the diagonals `line` happens between two
    diagonals of at least two pixels (a lone pixel in a corner is not a diagonal edge)."""
    line = (line - line.min()).ravel()
    count = np.bincount(line)
    profile = np.bincount(line, weights=X.ravel()) / count
    change = np.abs(np.diff(profile))
    change[change < 1e-9] = 0.0  # rounding, not change
    long = np.minimum(count[:-1], count[1:]) >= 2
    return change.sum() > 0 and change[long].sum() >= 0.5 * change.sum()


_DIRECTIONS = {"main": ((1, 1), -np.pi / 4), "anti": ((1, -1), np.pi / 4),
               "vertical": ((1, 0), 0.0), "horizontal": ((0, 1), np.pi / 2)}
"""Each kind of edge: the step along it, in (rows, columns), and the angle of the gradient
across it (x along the columns, y down the rows)."""
_ANGLE_TOLERANCE = np.radians(15)


def _cell_gradients(X: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Gradient (along x, along y) of each 2x2 cell: as precise at 45 degrees as along the
    axes."""
    gx = (X[:-1, 1:] - X[:-1, :-1] + X[1:, 1:] - X[1:, :-1]) / 2
    gy = (X[1:, :-1] - X[:-1, :-1] + X[1:, 1:] - X[:-1, 1:]) / 2
    return gx, gy


def _edge_parts(X: np.ndarray, run: int) -> dict | None:
    """How much of X's edges (cells with a gradient at least half the largest) lie in
    straight runs of `run` cells: diagonal, axis-aligned, and on the best diagonal line."""
    gx, gy = _cell_gradients(X)
    strength = np.abs(gx) + np.abs(gy)  # per cell, a diagonal step counts like a straight one
    if strength.max() <= 1e-12:
        return None
    edge = strength >= (0.5 - 1e-9) * strength.max()  # rounding must not split ties
    angle = np.arctan2(gy, gx)
    kept = {}
    for kind, (step, across) in _DIRECTIONS.items():
        off = np.abs((angle - across + np.pi / 2) % np.pi - np.pi / 2)
        kept[kind] = _staircases(edge & (off <= _ANGLE_TOLERANCE), gx, gy, step, run)
    total = strength[edge].sum()
    diagonal = kept["main"] | kept["anti"]
    axis = (kept["vertical"] | kept["horizontal"]) & ~diagonal
    i, j = np.indices(strength.shape)
    line, family = 0.0, None
    for kind, index in (("main", j - i), ("anti", i + j)):
        if kept[kind].any():
            per_line = np.bincount((index - index.min())[kept[kind]],
                                   weights=strength[kept[kind]]).max()
            if per_line > line:
                line, family = per_line, kind
    return {"diagonal": strength[diagonal].sum() / total, "axis": strength[axis].sum() / total,
            "line": line / total, "family": family, "edge_cells": float(edge.mean()),
            "any_diagonal": bool((kept["main"] | kept["anti"]).any())}


def _staircases(mask: np.ndarray, gx: np.ndarray, gy: np.ndarray, step: tuple[int, int],
                length: int) -> np.ndarray:
    """Cells of `mask` in runs of at least `length` cells along `step` whose gradients keep
    their sign (the same region on each side all along)."""
    di, dj = step
    same_side = gx * _shifted(gx, di, dj) + gy * _shifted(gy, di, dj) > 0
    linked = mask & _shifted(mask, di, dj) & same_side
    starts = mask.copy()
    for k in range(length - 1):
        starts &= _shifted(linked, k * di, k * dj)
    out = np.zeros_like(mask)
    for k in range(length):
        out |= _shifted(starts, -k * di, -k * dj)
    return out


def _shifted(a: np.ndarray, di: int, dj: int) -> np.ndarray:
    """b with b[i, j] = a[i + di, j + dj], and zero (False) where that falls outside a."""
    out = np.zeros_like(a)
    h, w = a.shape
    if abs(di) >= h or abs(dj) >= w:
        return out
    out[max(0, -di):h - max(0, di), max(0, -dj):w - max(0, dj)] = \
        a[max(0, di):h + min(0, di), max(0, dj):w + min(0, dj)]
    return out


def _block_means(X: np.ndarray, f: int):
    """X averaged over f x f blocks, for every offset of the block grid that leaves 3x3."""
    for oi in range(f):
        for oj in range(f):
            Y = X[oi:, oj:]
            h, w = Y.shape[0] // f, Y.shape[1] // f
            if min(h, w) >= 3:
                yield Y[:h * f, :w * f].reshape(h, f, w, f).mean(axis=(1, 3))


def _median3(X: np.ndarray) -> np.ndarray:
    windows = np.lib.stride_tricks.sliding_window_view(np.pad(X, 1, mode="edge"), (3, 3))
    return np.median(windows, axis=(2, 3))


def _why_not_diagonal(X: np.ndarray) -> str:
    if not np.any(X[1:, :] != X[:-1, :]):
        return "its only edges are vertical (it changes only from column to column)"
    if not np.any(X[:, 1:] != X[:, :-1]):
        return "its only edges are horizontal (it changes only from row to row)"
    if _is_ramp(X):
        return "it changes evenly everywhere (a ramp), so it has no edge, only a gradient"
    parts = _edge_parts(X, run=2)
    if not parts or not parts["any_diagonal"]:
        return "none of its edges runs along a diagonal (at 45 degrees)"
    return ("its diagonal edges are too short, or lost among other changes (noise, curves), to "
            "make a diagonal edge")


def _is_ramp(X: np.ndarray) -> bool:
    """X changes by the same amount between every pair of neighbours (a linear gradient)."""
    dx, dy = X[:, 1:] - X[:, :-1], X[1:, :] - X[:-1, :]
    return bool(np.ptp(dx) <= 1e-6 and np.ptp(dy) <= 1e-6)
