"""Exercise 4: cross-correlation written as a matrix multiplication."""

import numpy as np
import pytest

from grader.feedback import as_array, fail, value_of


def close(actual: np.ndarray, expected: np.ndarray) -> bool:
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    return actual.shape == expected.shape and bool(
        np.allclose(actual, expected, rtol=1e-4, atol=1e-5 * scale))


@pytest.mark.question("4")
def test_kernel_matrix(answers, rng, reference):
    """kernel_matrix(K, shape) maps X.reshape(-1) to corr2d(X, K).reshape(-1)"""
    for a in answers.calls("kernel_matrix"):
        K, shape = a.args
        call = f"kernel_matrix(K, {shape})"
        W = as_array(value_of(a), call, ndim=2)
        want = reference.kernel_matrix(K, shape)
        if W.shape != want.shape:
            fail(f"{call} has shape {W.shape}; for a {shape[0]}x{shape[1]} image and a "
                 f"{K.shape[0]}x{K.shape[1]} kernel it should be {want.shape} "
                 "(output pixels x input pixels).", inputs=(K, shape), answer=W,
                 hint="Transpose your matrix?" if W.shape == want.shape[::-1] else
                 "One row per output pixel, one column per input pixel.",
                 figures={"expected W": want})
        if close(W, want):
            continue
        X = rng.integers(-3, 4, size=shape).astype(float)
        fail(f"{call} does not reproduce corr2d: W @ X.reshape(-1) differs from "
             "corr2d(X, K).reshape(-1).", inputs={"K": K, "shape": shape, "X": X},
             answer=W @ X.ravel(),
             expected=reference.corr2d(X, K).ravel(),
             hint="Row i*out_w + j of W holds the kernel weights at the columns of the input "
                  "pixels under the kernel for output pixel (i, j).",
             figures={"your W": (W, "W"), "expected W": (want, "W"),
                      "your W − expected W": W - want})


@pytest.mark.question("4")
def test_corr2d_matmul(answers, reference):
    """corr2d_matmul(X, K) equals corr2d(X, K)"""
    for a in answers.calls("corr2d_matmul"):
        X, K = a.args
        call = f"corr2d_matmul(X, K) for a {X.shape[0]}x{X.shape[1]} X and {K.shape[0]}x{K.shape[1]} K"
        Y = as_array(value_of(a), call)
        want = reference.corr2d(X, K)
        if Y.shape != want.shape:
            fail(f"{call} has shape {Y.shape}, but corr2d gives shape {want.shape}.",
                 inputs={"X": X, "K": K}, answer=Y, expected=want,
                 hint="Reshape the product back to (out_h, out_w)." if Y.size == want.size else "")
        if not close(Y, want):
            fail(f"{call} differs from corr2d(X, K).", inputs={"X": X, "K": K}, answer=Y,
                 expected=want)
