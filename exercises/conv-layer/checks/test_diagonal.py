"""Exercise 1: an image with a diagonal edge under K, under K with X transposed, and under K.T."""

import numpy as np
import pytest

from grader.feedback import as_array, fail, value_of

MAX_SIDE = 256


def image(answers) -> np.ndarray:
    X = as_array(value_of(answers["X_diag"]), "X_diag", ndim=2)
    if max(X.shape) > MAX_SIDE:
        fail(f"X_diag is {X.shape[0]}x{X.shape[1]}; use a small image (at most "
             f"{MAX_SIDE}x{MAX_SIDE}) so that its edges can be seen.")
    return X


def same(actual: np.ndarray, expected: np.ndarray) -> bool:
    scale = max(1.0, float(np.abs(expected).max(initial=0.0)))
    return actual.shape == expected.shape and np.allclose(actual, expected, rtol=1e-4,
                                                          atol=1e-5 * scale)


def response(answers, reference, name: str, transpose: bool, K: np.ndarray, how: str) -> None:
    """`name` must be the reference cross-correlation of the student's own image."""
    given = value_of(answers[name])
    X = image(answers).T if transpose else image(answers)
    try:
        expected = reference.corr2d(X, K)
    except ValueError:
        expected = None
    if expected is None or 0 in expected.shape:
        fail(f"X_diag (shape {X.shape}) is too small to apply {how}.", answer=X,
             hint="Use an image larger than the kernel in both directions.")
    actual = as_array(given, name)
    while actual.ndim > 2 and actual.shape[0] == 1:  # e.g. (1, 1, h, w) from F.conv2d
        actual = actual[0]
    if actual.ndim != 2:
        fail(f"`{name}` should be a 2-D tensor, but it has shape {tuple(actual.shape)}.",
             answer=actual)
    if not same(actual, expected):
        hint = "It should be exactly " + how + "."
        if actual.shape != expected.shape:
            hint += f" Its shape should be {expected.shape}, not {actual.shape}."
        fail(f"`{name}` is not {how} for your X_diag.", inputs=X, answer=actual,
             expected=expected, hint=hint)


@pytest.mark.question("1.1", weight=2)
def test_x_diag_has_a_diagonal_edge(answers, reference):
    """X_diag contains a diagonal edge"""
    X = image(answers)
    problem = reference.diagonal_edge_problem(X)
    if problem:
        fail(f"X_diag has no diagonal edge: {problem}.", answer=X,
             hint="Build an image whose edge runs at 45 degrees, e.g. one side of a diagonal "
                  "filled with ones and the other with zeros, or a diagonal line.",
             figures=None if min(X.shape) < 2 else {
                 "its vertical edges: X_diag under K": reference.corr2d(X, reference.K),
                 "its horizontal edges: X_diag under K.T": reference.corr2d(X, reference.K.T)})


@pytest.mark.question("1.1")
def test_y_diag(answers, reference):
    """Y_diag is corr2d(X_diag, K)"""
    response(answers, reference, "Y_diag", False, reference.K, "corr2d(X_diag, K)")


@pytest.mark.question("1.2")
def test_y_diag_xt(answers, reference):
    """Y_diag_Xt is corr2d(X_diag.T, K)"""
    response(answers, reference, "Y_diag_Xt", True, reference.K, "corr2d(X_diag.T, K)")


@pytest.mark.question("1.3")
def test_y_diag_kt(answers, reference):
    """Y_diag_Kt is corr2d(X_diag, K.T)"""
    response(answers, reference, "Y_diag_Kt", False, reference.K.T, "corr2d(X_diag, K.T)")
