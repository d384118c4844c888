"""Exercise 4: cross-correlation written as a matrix multiplication.

Rules:
- kernel_matrix(K, shape) has shape (out_h * out_w, h * w) and maps X.reshape(-1) to
  corr2d(X, K).reshape(-1) for random non-integer images X (as many as it has columns, so
  only the right matrix passes), for kernels with non-integer weights (a matrix built in an
  integer tensor truncates them and fails); tolerance relative to the kernel's weights and the
  images' scale. Only the section's corr2d is used (the public reference).
- corr2d_matmul(X, K) equals corr2d(X, K), same shape, for non-integer X and K; tolerance
  relative to the expected result plus float32 rounding of the inputs' scale.
- corr2d_matmul computes its result through a matrix product. Where the grader provides the
  notebook's `source` (a fixture: the code cells, or a mapping function name -> source), the
  function's code is read: its returned value must come from a matrix product (`@`, matmul,
  mm, mv, dot, einsum, tensordot, linear...) taken once, not per output pixel, or from the
  student's kernel_matrix; and not from a ready-made cross-correlation (corr2d, conv2d,
  Conv2d, correlate, convolve). Without `source` only the values are checked.
"""

import ast

import numpy as np
import pytest

from grader.feedback import fail, optional_fixture, value_of
from grader.normalize import MAX_SOURCE_CHARS, array, code_cut, definitions, squeeze_leading


def close(actual: np.ndarray, expected: np.ndarray, tol: float) -> bool:
    return actual.shape == expected.shape and bool(np.abs(actual - expected).max(initial=0.0)
                                                   <= tol)


def maps_like_corr2d(W: np.ndarray, X: np.ndarray, K: np.ndarray, reference) -> bool:
    """W @ X.reshape(-1) equals corr2d(X, K).reshape(-1), within a tolerance set by K and X."""
    want = reference.corr2d(X, K).ravel()
    tol = 1e-6 * float(np.abs(K).max()) * float(np.abs(X).sum() + 1)
    with np.errstate(all="ignore"):
        got = W @ X.ravel()
    return bool(np.all(np.isfinite(got)) and np.abs(got - want).max(initial=0.0) <= tol)


@pytest.mark.question("4")
def test_kernel_matrix(answers, rng, reference):
    """kernel_matrix(K, shape) maps X.reshape(-1) to corr2d(X, K).reshape(-1)"""
    for a in answers.calls("kernel_matrix"):
        K, shape = a.args
        call = f"kernel_matrix(K, {shape})"
        W = array(value_of(a), call, ndim=2)
        out_h, out_w = shape[0] - K.shape[0] + 1, shape[1] - K.shape[1] + 1
        want_shape = (out_h * out_w, shape[0] * shape[1])
        if W.shape != want_shape:
            fail(f"{call} has shape {W.shape}; for a {shape[0]}x{shape[1]} image and a "
                 f"{K.shape[0]}x{K.shape[1]} kernel it should be {want_shape} "
                 "(output pixels x input pixels).", inputs=(K, shape), answer=W,
                 hint="Transpose your matrix?" if W.shape == want_shape[::-1] else
                 "One row per output pixel, one column per input pixel.")
        images = np.round(rng.uniform(-3, 3, size=(W.shape[1] + 2, *shape)), 2)
        wrong = [X for X in images if not maps_like_corr2d(W, X, K, reference)]
        if not wrong:
            continue
        X = wrong[0]
        truncated = all(maps_like_corr2d(W, Y, np.trunc(K), reference) for Y in images[:3])
        fail(f"{call} does not reproduce corr2d: W @ X.reshape(-1) differs from "
             "corr2d(X, K).reshape(-1).", inputs={"K": K, "shape": shape, "X": X},
             answer=W @ X.ravel(), expected=reference.corr2d(X, K).ravel(),
             figures={"your W": W},
             hint="Your matrix holds the kernel's weights rounded to whole numbers: create it "
                  "with a floating-point dtype (or K's dtype)." if truncated else
                  "Check one row at a time: output pixel (i, j) should see the kernel's weights "
                  "exactly where its window lies in the flattened image.")


@pytest.mark.question("4")
def test_corr2d_matmul(answers, reference, request):
    """corr2d_matmul(X, K) computes corr2d(X, K) through a matrix product"""
    for a in answers.calls("corr2d_matmul"):
        X, K = a.args
        call = (f"corr2d_matmul(X, K) for a {X.shape[0]}x{X.shape[1]} X and "
                f"{K.shape[0]}x{K.shape[1]} K")
        Y = squeeze_leading(array(value_of(a), call), 2)
        want = reference.corr2d(X, K)
        if Y.shape != want.shape:
            fail(f"{call} has shape {Y.shape}, but corr2d gives shape {want.shape}.",
                 inputs={"X": X, "K": K}, answer=Y, expected=want,
                 hint="Reshape the product back to (out_h, out_w)." if Y.size == want.size else "")
        tol = 1e-5 * float(np.abs(want).max()) + \
            1e-6 * float(np.abs(X).max()) * float(np.abs(K).sum())
        if not close(Y, want, tol):
            fail(f"{call} differs from corr2d(X, K).", inputs={"X": X, "K": K}, answer=Y,
                 expected=want)
    source = optional_fixture(request, "source")
    if source is not None:
        problem = matrix_product_problem(source)
        if problem:
            fail(f"corr2d_matmul {problem}.",
                 hint="The exercise asks for corr2d as one product of a matrix (your "
                      "kernel_matrix) with the flattened image.")


# --- reading the student's code -----------------------------------------------------------------

PRODUCTS = {"matmul", "mm", "mv", "bmm", "dot", "vdot", "inner", "einsum", "tensordot", "linear",
            "addmm", "addmv", "multi_dot", "chain_matmul", "baddbmm"}
"""Calls that multiply matrices (torch, numpy, torch.nn.functional), by their last name."""
CORRELATIONS = {"corr2d", "conv2d", "conv1d", "conv3d", "Conv2d", "Conv2D", "correlate",
                "correlate2d", "convolve", "convolve2d", "conv_transpose2d", "fftconvolve"}
"""Ready-made cross-correlations: computing corr2d with one of them is not the exercise."""
MATRIX_BUILDERS = {"kernel_matrix"}
LOOPS = (ast.For, ast.AsyncFor, ast.While, ast.ListComp, ast.SetComp, ast.DictComp,
         ast.GeneratorExp)


def matrix_product_problem(source, name: str = "corr2d_matmul") -> str | None:
    """None when `name`, as defined in `source` (see grader.normalize.code_cells), returns a
    value computed through a matrix product; otherwise what it does instead. Code that
    cannot be found or read is given the benefit of the doubt (the values were checked),
    unless the notebook's code is too long to be read whole (padding must not hide it)."""
    functions = definitions(source)
    if name not in functions:
        if code_cut(source):
            return (f"could not be read: the notebook's code is over {MAX_SOURCE_CHARS:,} "
                    "characters; remove the long literals so that its code can be checked")
        return None
    try:
        found = _Flow(functions).returned(name)
    except RecursionError:
        return None
    if "correlation" in found:
        return ("calls a ready-made cross-correlation (corr2d or a convolution) instead of "
                "multiplying by a matrix")
    if "product" in found or "matrix" in found:
        return None
    if "product in a loop" in found:
        return ("multiplies one patch at a time (a product per output pixel, in a loop), "
                "which is corr2d again, not one matrix product")
    return "does not compute its result with a matrix product"


class _Flow:
    """What a function's returned value is computed from: a set of tags among 'product',
    'product in a loop', 'matrix' (the student's kernel_matrix) and 'correlation', followed
    through local variables and through the notebook's other functions."""

    def __init__(self, functions: dict) -> None:
        self.functions = functions
        self.active: set[str] = set()
        self.done: dict[str, frozenset] = {}

    def returned(self, name: str) -> frozenset:
        if name in self.done:
            return self.done[name]
        if name in self.active:
            return frozenset()  # recursion: its result comes from elsewhere
        self.active.add(name)
        node = self.functions[name]
        values = [node.body] if isinstance(node, ast.Lambda) else \
            [n.value for n in ast.walk(node) if isinstance(n, ast.Return) and n.value]
        scope = _Scope(self, node)
        tags = frozenset().union(*(scope.tags(v) for v in values)) if values else frozenset()
        self.active.discard(name)
        self.done[name] = tags
        return tags


class _Scope:
    """Tags of expressions inside one function: a variable carries the tags of every value
    assigned to it (including `Y[i, j] = ...`), wherever the assignment is."""

    def __init__(self, flow: _Flow, node: ast.AST) -> None:
        self.flow = flow
        self.assigned: dict[str, list[ast.AST]] = {}
        self.in_loop: set[int] = set()
        for n in ast.walk(node):
            if isinstance(n, LOOPS):
                self.in_loop.update(id(m) for m in ast.walk(n) if m is not n)
            if isinstance(n, (ast.Assign, ast.AugAssign, ast.AnnAssign)) and n.value is not None:
                for target in n.targets if isinstance(n, ast.Assign) else [n.target]:
                    for t in ast.walk(target):
                        if isinstance(t, ast.Name):
                            self.assigned.setdefault(t.id, []).append(n.value)
            elif isinstance(n, ast.NamedExpr):
                self.assigned.setdefault(n.target.id, []).append(n.value)
        self.names: dict[str, frozenset] = {}
        self.pending: set[str] = set()

    def name(self, var: str) -> frozenset:
        if var in self.names:
            return self.names[var]
        if var in self.pending:
            return frozenset()
        self.pending.add(var)
        tags = frozenset().union(*(self.tags(v) for v in self.assigned.get(var, [])))
        self.pending.discard(var)
        self.names[var] = tags
        return tags

    def tags(self, expr: ast.AST) -> frozenset:
        out: set[str] = set()
        for n in ast.walk(expr):
            looped = id(n) in self.in_loop
            if isinstance(n, ast.BinOp) and isinstance(n.op, ast.MatMult):
                out.add("product in a loop" if looped else "product")
            elif isinstance(n, ast.Call):
                out |= self.call(_last_name(n.func), looped)
            elif isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load):
                out |= self.name(n.id)
        return frozenset(out)


    def call(self, called: str, looped: bool) -> set[str]:
        if called in PRODUCTS:
            return {"product in a loop" if looped else "product"}
        if called in MATRIX_BUILDERS:
            return {"matrix"}  # the student's matrix, however it is built
        if called in self.flow.functions:
            inner = self.flow.returned(called)
            if called in CORRELATIONS and not inner & {"product", "matrix"}:
                return {"correlation"}  # e.g. the section's corr2d, given in the notebook
            return {"product in a loop" if looped and t == "product" else t for t in inner}
        return {"correlation"} if called in CORRELATIONS else set()


def _last_name(func: ast.AST) -> str:
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""
