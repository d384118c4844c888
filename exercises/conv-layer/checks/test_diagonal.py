"""Exercise 1: an image with a diagonal edge under K, under K with X transposed, and under K.T.

Rules:
- 1.1: X_diag holds a diagonal edge (reference.diagonal_edge_problem: a step or a line along
  either diagonal, sharp or soft, clean or mildly noisy, any size) and Y_diag is
  corr2d(X_diag, K).
- 1.2 and 1.3 are judged on the student's own X_diag. Follow-through: when X_diag has edges but
  none is diagonal (1.1 fails), Y_diag_Xt and Y_diag_Kt still earn their points if they are
  the right responses of that image, since the student can still observe what transposing
  does. An image without any edge (constant) shows nothing: no credit for 1.2 and 1.3.
- Images and responses may keep leading batch/channel axes, e.g. (1, 1, h, w) from F.conv2d.
- A response must equal the expected one within a tolerance relative to the expected
  response's own scale (plus the float32 rounding of the image's values), so a scaled-down
  image does not let zeros or a negated response pass.
"""

import numpy as np
import pytest

from grader.feedback import fail, finite, value_of
from grader.normalize import array


def image(answers) -> np.ndarray:
    return array(value_of(answers["X_diag"]), "X_diag", ndim=2)


def tolerance(expected: np.ndarray, X: np.ndarray, K: np.ndarray) -> float:
    """Relative to the expected response, plus float32 rounding of the image's values."""
    return 1e-4 * float(np.abs(expected).max(initial=0.0)) + \
        1e-6 * float(np.abs(X).max(initial=0.0)) * float(np.abs(K).sum())


def expected_response(reference, X: np.ndarray, K: np.ndarray, how: str) -> np.ndarray:
    try:
        expected = reference.corr2d(X, K)
    except ValueError:
        expected = None
    if expected is None or 0 in expected.shape:
        fail(f"X_diag (shape {X.shape}) is too small to apply {how}.", answer=X,
             hint="Use an image larger than the kernel in both directions.")
    return finite(expected, f"X_diag's values are too large: {how} overflows to infinity.",
                  answer=X, hint="Use moderate pixel values, e.g. 0 and 1.")


def response(answers, reference, name: str, X: np.ndarray, K: np.ndarray, how: str) -> None:
    """`name` must be the reference cross-correlation `how` of the image X."""
    expected = expected_response(reference, X, K, how)
    actual = array(value_of(answers[name]), name, ndim=2)
    if actual.shape != expected.shape:
        hint = ("Did you transpose the wrong operand?" if actual.shape == expected.shape[::-1]
                else "Apply the kernel to the whole image, as corr2d does.")
        fail(f"`{name}` has shape {actual.shape}, but {how} has shape {expected.shape}.",
             inputs=X, answer=actual, expected=expected, hint=hint)
    error = float(np.abs(actual - expected).max(initial=0.0))
    if error <= tolerance(expected, X, K):
        return
    if not actual.any():
        fail(f"`{name}` is all zeros, but {how} responds where X_diag changes along the "
             "kernel.", inputs=X, answer=actual, expected=expected,
             hint=f"Compute {how} on the final X_diag instead of typing the result.")
    flipped = float(np.abs(actual + expected).max(initial=0.0)) <= tolerance(expected, X, K)
    fail(f"`{name}` is not {how} for your X_diag.", inputs=X, answer=actual, expected=expected,
         hint="It has the opposite sign: keep the kernel and the image as they are." if flipped
         else f"Compute it with corr2d on your final X_diag, exactly as {how}.")


def premise(X: np.ndarray, name: str) -> None:
    """1.2 and 1.3 ask what happens to an edge: without any edge there is nothing to see."""
    if np.ptp(X) == 0:
        fail(f"X_diag has no edge at all (every pixel is {X.flat[0]:g}), so `{name}` shows "
             "nothing about edges.", answer=X,
             hint="Build X_diag with a diagonal edge first (exercise 1.1).")


@pytest.mark.question("1.1", weight=2)
def test_x_diag_has_a_diagonal_edge(answers, reference):
    """X_diag contains a diagonal edge"""
    X = image(answers)
    problem = reference.diagonal_edge_problem(X)
    if problem:
        fail(f"X_diag has no diagonal edge: {problem}.", answer=X,
             figures=None if min(X.shape) < 2 else {
                 "its vertical edges: X_diag under K": reference.corr2d(X, reference.K),
                 "its horizontal edges: X_diag under K.T": reference.corr2d(X, reference.K.T)},
             hint="Build an image whose edge runs at 45 degrees across it, from one region "
                  "to another (or a line).")


@pytest.mark.question("1.1")
def test_y_diag(answers, reference):
    """Y_diag is corr2d(X_diag, K)"""
    response(answers, reference, "Y_diag", image(answers), reference.K, "corr2d(X_diag, K)")


@pytest.mark.question("1.2")
def test_y_diag_xt(answers, reference):
    """Y_diag_Xt is corr2d(X_diag.T, K)"""
    X = image(answers)
    premise(X, "Y_diag_Xt")
    response(answers, reference, "Y_diag_Xt", X.T, reference.K, "corr2d(X_diag.T, K)")


@pytest.mark.question("1.3")
def test_y_diag_kt(answers, reference):
    """Y_diag_Kt is corr2d(X_diag, K.T)"""
    X = image(answers)
    premise(X, "Y_diag_Kt")
    response(answers, reference, "Y_diag_Kt", X, reference.K.T, "corr2d(X_diag, K.T)")
