"""Reference for the conv-layer pack: what the checks compare student answers against.

Runs in the grader's process only (the student's kernel cannot see this folder). Array
functions work in float64 numpy; the autograd scenarios run on the installed torch.
"""

from __future__ import annotations

import hashlib
import json
import os
from functools import lru_cache
from pathlib import Path

import numpy as np

K = np.array([[1.0, -1.0]])


def corr2d(X: np.ndarray, K: np.ndarray) -> np.ndarray:
    """2-D cross-correlation, 'valid' region, as in the section."""
    X, K = np.asarray(X, dtype=np.float64), np.asarray(K, dtype=np.float64)
    h, w = K.shape
    out = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for a in range(h):
        for b in range(w):
            out += K[a, b] * X[a:a + out.shape[0], b:b + out.shape[1]]
    return out


def kernel_matrix(K: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """W with W @ X.ravel() == corr2d(X, K).ravel() for every X of `shape`."""
    K = np.asarray(K, dtype=np.float64)
    h, w = shape
    kh, kw = K.shape
    oh, ow = h - kh + 1, w - kw + 1
    W = np.zeros((oh * ow, h * w))
    for i in range(oh):
        for j in range(ow):
            for a in range(kh):
                W[i * ow + j, (i + a) * w + j:(i + a) * w + j + kw] = K[a]
    return W


def min_kernel_size(d: int) -> int:
    """A finite difference of order d needs d + 1 samples."""
    return d + 1


SECOND_DERIVATIVE = {"d2/dx2": np.array([[1.0, -2.0, 1.0]]),
                     "d2/dy2": np.array([[1.0], [-2.0], [1.0]]),
                     "laplacian": np.array([[0.0, 1.0, 0.0], [1.0, -4.0, 1.0], [0.0, 1.0, 0.0]])}


def gaussian_blur(size: int, sigma: float) -> np.ndarray:
    r = np.arange(size) - (size - 1) / 2
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / (2 * sigma**2))
    return g / g.sum()


def edge_kernel(v: tuple[float, float]) -> np.ndarray:
    """Directional derivative along v (v1 along columns, v2 along rows), from central
    differences: responds to intensity change along v, not across it."""
    v1, v2 = v
    dx = np.array([[0.0, 0.0, 0.0], [-0.5, 0.0, 0.5], [0.0, 0.0, 0.0]])
    return v1 * dx + v2 * dx.T


# --- diagonal edges -------------------------------------------------------------------------

def diagonal_edge_problem(X: np.ndarray) -> str | None:
    """None when X holds a diagonal edge (main or anti-diagonal, step or line), otherwise
    what is wrong with it.

    Edges are the pixel boundaries where X jumps (horizontal differences dx, vertical dy). A
    45-degree edge is a staircase that alternates between a dx and a dy boundary while moving
    one pixel along the diagonal, with the same region on each side all along (consistent
    signs). Such staircases of at least four steps must carry a third of the image's edges;
    scattered noise, axis-aligned edges and smooth ramps do not.
    """
    if X.ndim != 2:
        return f"it should be a 2-D image, but has shape {X.shape}"
    if min(X.shape) < 3:
        return f"it is only {X.shape[0]}x{X.shape[1]}; make it at least 3x3 so an edge can run diagonally"
    dx = X[:, :-1] - X[:, 1:]
    dy = X[:-1, :] - X[1:, :]
    scale = max(np.abs(dx).max(), np.abs(dy).max())
    if scale == 0:
        return "it is constant, so it has no edge at all"
    ex, ey = np.abs(dx) > 0.25 * scale, np.abs(dy) > 0.25 * scale
    if not ey.any():
        return "its only edges are vertical (it changes only from column to column)"
    if not ex.any():
        return "its only edges are horizontal (it changes only from row to row)"
    total = int(ex.sum() + ey.sum())
    if total > 0.6 * (dx.size + dy.size):
        return "it changes almost everywhere (noise or a ramp) instead of along an edge"
    diagonal = [np.zeros_like(ex), np.zeros_like(ey)]
    for slope in (1, -1):
        for chain in _staircases(dx, dy, ex, ey, slope):
            if len(chain) >= 4:
                for kind, i, j in chain:
                    diagonal[kind][i, j] = True
    found = int(diagonal[0].sum() + diagonal[1].sum())
    if found < 4 or 3 * found < total:
        return "none of its edges runs along a diagonal (at 45 degrees)"
    # Designed images are made of long edges; noise has diagonal bits among scattered ones.
    explained = int((diagonal[0] | _straight_runs(ex, 0)).sum()
                    + (diagonal[1] | _straight_runs(ey, 1)).sum())
    if explained < 0.9 * total:
        return "its edges are scattered (it looks like noise) rather than one diagonal edge"
    return None


def _straight_runs(mask: np.ndarray, axis: int, length: int = 3) -> np.ndarray:
    """Elements of `mask` in runs of at least `length` along `axis` (axis-aligned edges)."""
    out = np.zeros_like(mask)
    m, o = (mask, out) if axis == 0 else (mask.T, out.T)
    for j in range(m.shape[1]):
        i = 0
        while i < m.shape[0]:
            k = i
            while k < m.shape[0] and m[k, j]:
                k += 1
            if k - i >= length:
                o[i:k, j] = True
            i = max(k, i + 1)
    return out


def _staircases(dx, dy, ex, ey, slope):
    """Maximal chains dx -> dy -> dx ... stepping along a diagonal of the given slope. Two
    neighbours link when both are edges with the same region on each side: across a
    main-diagonal step dx and dy have opposite signs, across an anti-diagonal one equal signs."""
    maps, masks = (dx, dy), (ex, ey)

    def successor(kind, i, j):
        if kind == 0:
            return (1, i, j + 1) if slope == 1 else (1, i, j)
        return (0, i + 1, j) if slope == 1 else (0, i + 1, j - 1)

    def predecessor(kind, i, j):
        if kind == 1:
            return (0, i, j - 1) if slope == 1 else (0, i, j)
        return (1, i - 1, j) if slope == 1 else (1, i - 1, j + 1)

    def edge(node):
        kind, i, j = node
        m = masks[kind]
        return 0 <= i < m.shape[0] and 0 <= j < m.shape[1] and bool(m[i, j])

    def linked(a, b):
        if not (edge(a) and edge(b)):
            return False
        sa, sb = np.sign(maps[a[0]][a[1], a[2]]), np.sign(maps[b[0]][b[1], b[2]])
        return sa == -sb if slope == 1 else sa == sb

    nodes = [(k, i, j) for k in (0, 1) for i, j in zip(*np.nonzero(masks[k]))]
    for node in nodes:
        if linked(predecessor(*node), node):
            continue  # not the head of its chain
        chain = [node]
        while linked(chain[-1], successor(*chain[-1])):
            chain.append(successor(*chain[-1]))
        yield chain


# --- autograd ---------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def autograd_errors() -> tuple[tuple[str, str, str], ...]:
    """(scenario, exception type, message) for each way asking autograd for the gradient of
    the section's Conv2D fails on the installed torch.

    The scenarios run once per installed torch (identified by its version and the time its
    files were installed); the outcome is cached, so grader workers need not import torch."""
    import importlib.util

    spec = importlib.util.find_spec("torch")
    origin = Path(spec.origin) if spec and spec.origin else None
    key = f"{origin}|{origin.stat().st_mtime_ns}" if origin and origin.exists() else ""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "grader" / \
        f"conv-layer-autograd-{hashlib.sha256(key.encode()).hexdigest()[:16]}.json"
    try:
        return tuple(tuple(x) for x in json.loads(cache.read_text()))
    except (OSError, ValueError):
        pass
    found = _run_autograd_scenarios()
    if key:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            tmp = cache.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(found))
            os.replace(tmp, cache)
        except OSError:
            pass  # no cache: the next process runs the scenarios again
    return found


def _run_autograd_scenarios() -> tuple[tuple[str, str, str], ...]:
    import torch
    from torch import nn

    def corr2d_torch(X, K):
        h, w = K.shape
        Y = torch.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
        for i in range(Y.shape[0]):
            for j in range(Y.shape[1]):
                Y[i, j] = (X[i:i + h, j:j + w] * K).sum()
        return Y

    class Conv2D(nn.Module):
        def __init__(self, kernel_size):
            super().__init__()
            self.weight = nn.Parameter(torch.rand(kernel_size))
            self.bias = nn.Parameter(torch.zeros(1))

        def forward(self, x):
            return corr2d_torch(x, self.weight) + self.bias

    X = torch.ones((6, 8))
    X[:, 2:6] = 0
    scenarios = {
        "Y.backward() on the Conv2D output": lambda conv: conv(X).backward(),
        "torch.autograd.grad(Y, conv.weight)": lambda conv: torch.autograd.grad(conv(X), conv.weight),
    }
    found = []
    for name, run in scenarios.items():
        try:
            run(Conv2D(kernel_size=(1, 2)))
        except Exception as exc:  # each scenario is expected to fail; record how
            found.append((name, type(exc).__name__, str(exc)))
    return tuple(found)
