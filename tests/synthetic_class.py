"""A class of results built directly (no notebook executed), with known mistakes: for the
overview's tests and `benchmarks/pages.py`.

Of `n` submissions every 25th could not be graded (half with a JSON error at varying
positions, half not a notebook); the graded ones are numbered g = 0, 1, ... and fail by range
of g, with values in their messages that vary from student to student, so that each range is
one kind of mistake. `EXPECTED` lists, per question, the group sizes for n = 300.
"""

from __future__ import annotations

import numpy as np

from grader.figures import outcome_figures
from grader.results import (
    CheckOutcome,
    CheckResult,
    QuestionResult,
    SubmissionResult,
    WrittenResult,
    error_result,
)

QUESTIONS = {"1.1": "An image with a diagonal edge under K = [[1, -1]]",
             "1.2": "The transposed image under K", "2.1": "An edge detector for the direction v",
             "2.2": "A second-derivative kernel and its minimum size", "2.3": "A blur kernel",
             "2.4": "Minimum kernel size for a derivative of order d",
             "4": "Cross-correlation as a matrix multiplication"}
CHECKS = {"1.1": "X_diag contains a diagonal edge", "1.2": "Y_diag_Xt is corr2d(X_diag.T, K)",
          "2.1": "edge_kernel(v) detects edges orthogonal to v, for several directions v",
          "2.2": "second_derivative_kernel() gives the exact second derivative",
          "2.3": "blur_kernel(size, sigma) is a normalised, non-negative kernel",
          "2.4": "min_kernel_size(d) is the minimum kernel size for a derivative of order d",
          "4": "kernel_matrix(K, shape) maps X.reshape(-1) to corr2d(X, K).reshape(-1)"}
WRITTEN = ("1.1", "1.2", "2.2", "2.3")
EXPECTED = {"1.1": [40], "1.2": [45], "2.1": [60, 20], "2.2": [12, 9, 6, 3, 1],
            "2.3": [96, 30, 10], "2.4": [72], "4": [8]}
"""Group sizes per question for n = 300 (288 graded), in the order the overview lists them
(mistakes by count, then answers that are missing)."""
ERRORS = [6, 6]
K = np.array([[1.0, -1.0]])


def corr(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    h, w = W.shape
    out = np.zeros((X.shape[0] - h + 1, X.shape[1] - w + 1))
    for a in range(h):
        for b in range(w):
            out += W[a, b] * X[a:a + out.shape[0], b:b + out.shape[1]]
    return out


def failure(qid: str, g: int, rng: np.random.Generator) -> dict | None:
    """What graded submission g gets wrong in question qid, as fail(...) would say it."""
    size, sigma = int(rng.choice([3, 5, 7])), round(float(rng.uniform(0.5, 3)), 3)
    v = (round(float(rng.uniform(0.5, 3)), 4), round(float(rng.uniform(-3, 3)), 4))
    X = np.tril(np.ones((6, 8)), k=int(rng.integers(-2, 3)))
    if qid == "1.1" and 200 <= g < 240:
        X = np.ones((6, 8))
        X[:, int(rng.integers(2, 6)):] = 0
        return dict(message="X_diag has no diagonal edge: its only edges are vertical (it "
                    "changes only from column to column).", answer=X)
    if qid == "1.2" and g < 45:
        mine = corr(X, K)
        return dict(message="`Y_diag_Xt` is not corr2d(X_diag.T, K) for your X_diag.",
                    inputs=X.T, answer=mine, expected=corr(X.T, K))
    if qid == "2.1" and 50 <= g < 110:
        return dict(message=f"edge_kernel(v={v}) does not detect edges orthogonal to v: it "
                    "responds to a constant image (an image without any edge).",
                    answer=np.abs(rng.integers(-2, 3, (3, 3))).astype(float))
    if qid == "2.1" and 110 <= g < 130:
        return dict(message=f"edge_kernel(v={v}) does not detect edges orthogonal to v: it "
                    "responds to an intensity ramp along the edge direction (v2, -v1).",
                    answer=K)
    if qid == "2.2" and g < 31:
        k = 0 if g < 12 else 1 if g < 21 else 2 if g < 27 else 3 if g < 30 else 4
        return dict(message=[
            f"second_derivative_kernel() does not return the second derivative of a quadratic "
            f"image exactly: it gives values from {-g} to {g + 1}.",
            "`second_derivative_kernel` should be a 2-D tensor, but it has shape (3,).",
            f"second_derivative_min_size is {g % 5 + 4}, which is not the minimum size.",
            f"`second_derivative_kernel()` raised NameError: name 'lap{g}' is not defined",
            "second_derivative_kernel() gave a str, which is not a tensor."][k])
    if qid == "2.3" and g < 96:
        W = np.ones((size, size))
        return dict(message=f"The weights of blur_kernel({size}, {sigma}) sum to {size * size}, "
                    "so it changes the image's brightness.", inputs=(size, sigma), answer=W,
                    expected="weights summing to 1")
    if qid == "2.3" and g < 126:
        W = rng.normal(size=(size, size))
        return dict(message=f"blur_kernel({size}, {sigma}) has negative weights (smallest "
                    f"{W.min():.4g}): it sharpens or differentiates instead of blurring.",
                    inputs=(size, sigma), answer=W)
    if qid == "2.3" and g < 136:
        return dict(message="Not answered: `blur_kernel` still raises NotImplementedError.",
                    not_answered=True)
    if qid == "2.4" and g % 4 == 0:
        d = int(rng.integers(1, 80))
        return dict(message=f"min_kernel_size({d}) returned {2 * d + 1}, which is not the "
                    f"minimum size for a derivative of order {d}.", inputs=(d,),
                    answer=2 * d + 1)
    if qid == "4" and g >= 280:
        return dict(message="The grader could not judge this answer (the check itself "
                    "failed). Your instructor has been flagged.", check_error=True)
    return None


def outcome(qid: str, g: int, rng: np.random.Generator) -> CheckOutcome:
    wrong = failure(qid, g, rng)
    if wrong is None:
        return CheckOutcome(qid, CHECKS[qid], True)
    figures, notes = outcome_figures(inputs=wrong.get("inputs"), answer=wrong.get("answer"),
                                     expected=wrong.get("expected"))
    return CheckOutcome(qid, CHECKS[qid], False, feedback=wrong["message"],
                        not_answered=wrong.get("not_answered", False),
                        check_error=wrong.get("check_error", False),
                        figures=figures, figure_notes=notes)


def submission(name: str, g: int, seed: int) -> SubmissionResult:
    rng = np.random.default_rng([seed, g])
    questions = []
    for qid, title in QUESTIONS.items():
        o = outcome(qid, g, rng)
        written = tuple(WrittenResult(qid, f"answer-{qid}", f"Because {g}.", "The model answer.",
                                      1.0, 1.0 if g % 2 else None) for _ in (1,)
                        if qid in WRITTEN)
        questions.append(QuestionResult(qid, title, (CheckResult(o, float(o.passed), 1.0),),
                                        written))
    return SubmissionResult(submission=name, path=f"/class/{name}.ipynb", status="graded",
                            pack="conv-layer", seed=seed, questions=tuple(questions),
                            sandbox="bwrap-root", graded_at="2026-01-01T00:00:00+00:00",
                            grader_version="test")


def make_class(n: int = 300, seed: int = 1) -> list[SubmissionResult]:
    out = []
    g = 0
    for i in range(n):
        name = f"student-{i + 1:03d}"
        if i % 25 == 0:
            reason = (f"the file is not valid JSON, so it is not a Jupyter notebook (Expecting "
                      f"',' delimiter: line {i + 1} column {i % 7 + 1} (char {i * 13}))"
                      if i % 50 == 0 else "the notebook has no list of cells")
            out.append(error_result(name, f"/class/{name}.ipynb", reason, sandbox="bwrap-root"))
        else:
            out.append(submission(name, g, seed))
            g += 1
    return out
