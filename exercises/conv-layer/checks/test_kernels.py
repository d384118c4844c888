"""Exercise 2: hand-designed kernels, judged by what they do to images drawn for this run.

Rules:
- Kernels are read with grader.normalize.array (leading axes of length 1 dropped, finite).
  Anything computed from a kernel goes through feedback.finite: a kernel whose responses
  overflow fails with its own message instead of slipping through comparisons with NaN.
- No tolerance scales with the student's own kernel. Checks compare the kernel's responses
  with each other (ratios, so any non-zero scale of a right kernel passes) after requiring a
  response that is not practically zero for an image of unit contrast, or compare with values
  fixed by the image (2.2, 2.3). They use only the public reference (public.py).
- 2.1: for each direction v, the kernel gives no response to a constant image, none to a ramp
  changing only across v, and a clear one to a step edge orthogonal to v (the hidden check
  hidden/test_edge_selectivity.py adds: a weak one to step edges parallel to v). One axis
  convention must
  fit every v: v1 along x (columns) and v2 along y (rows, counted downwards), or, with full
  credit and a note, the swapped reading or the y-up reading (rows counted upwards).
- 2.2: the kernel gives the exact second derivative (d2/dx2, d2/dy2 or the Laplacian) of
  quadratic images (its minimum size is a hidden check, hidden/test_sizes.py).
- 2.3: shape (size, size); non-negative; sums to 1; centred within half a pixel along each
  axis and no more spread out than a box of that size (local); keeps at most 95% of the amplitude of the highest frequencies
  (a checkerboard, alternating rows or columns: low-pass) and 90% of white noise's variance.
- 2.4: a hidden check (hidden/test_sizes.py).
"""

import math

import numpy as np
import pytest

from grader.feedback import accept, fail, finite, render, value_of
from grader.normalize import array, squeeze_leading

MAX_KERNEL = 31


def kernel(answer, what: str) -> np.ndarray:
    W = array(value_of(answer), what, ndim=2)
    if W.size == 0:
        fail(f"`{what}` returned an empty kernel.", answer=W)
    if max(W.shape) > MAX_KERNEL:
        fail(f"`{what}` returned a {W.shape[0]}x{W.shape[1]} kernel; kernels up to "
             f"{MAX_KERNEL}x{MAX_KERNEL} are expected here.")
    return W


def responses(reference, X: np.ndarray, W: np.ndarray, what: str) -> np.ndarray:
    """corr2d(X, W), failing the check if it overflows."""
    return finite(reference.corr2d(X, W),
                  f"Applying {what} to a test image gives infinite or NaN values: its weights "
                  f"are too large (largest magnitude {np.abs(W).max():.3g}).", answer=W,
                  hint="Use weights of a moderate size (a detector can be rescaled freely).")


# --- 2.1 ------------------------------------------------------------------------------------

CONVENTIONS = {
    "standard": lambda v: (v[0], v[1]),
    "swapped": lambda v: (v[1], v[0]),
    "y-up": lambda v: (v[0], -v[1]),
}
NOTES = {
    "swapped": "Swapped axis convention: edge_kernel is right if v1 is read along the rows (y) "
               "and v2 along the columns (x), but the exercise puts v1 along the width (x, "
               "columns). Full credit; mind the convention.",
    "y-up": "Y-up axis convention: edge_kernel is right if v2 counts rows upwards, but the "
            "exercise counts rows (y) downwards, as tensor indices do. Full credit; mind the "
            "convention.",
}


def edge_behaviour(W: np.ndarray, v, reference, what: str) -> str | None:
    """None if W behaves as a detector of edges orthogonal to v = (x, y) in image axes (y down
    the rows): a clear response to a step edge orthogonal to v, none to a constant image,
    none to a ramp along the edge direction. (How selective it is between directions is a
    hidden check.)"""
    phi = math.atan2(v[1], v[0])
    size = max(W.shape) + 16

    def on(image: np.ndarray) -> np.ndarray:
        return responses(reference, image, W, what)

    across = reference.rms(on(reference.step_edge(size, phi, 0.0)))
    if across <= 1e-9 * math.hypot(*v):
        return "it gives practically no response to an edge orthogonal to v"
    flat = on(np.full((size, size), 3.0))
    if np.abs(flat).max() > 1e-4 * 3.0 * np.abs(on(reference.step_edge(size, phi, 0.0))).max():
        return "it responds to a constant image (an image without any edge)"
    slope = on(reference.ramp(size, phi, 1.0, 2.0))
    level = on(reference.ramp(size, phi + math.pi / 2, 1.0, 2.0))
    if np.abs(level).max() > 1e-2 * np.abs(slope).mean():
        return ("it responds to an intensity ramp along the edge direction (v2, -v1), where "
                "nothing changes across the edge")
    return None


@pytest.mark.question("2.1")
def test_edge_kernel(answers, reference):
    """edge_kernel(v) detects edges orthogonal to v, for several directions v"""
    calls = answers.calls("edge_kernel")
    kernels = [kernel(a, f"edge_kernel({render(a.args[0])})") for a in calls]
    what = [f"edge_kernel({render(a.args[0])})" for a in calls]

    def problems(convention: str) -> list[str | None]:
        turn = CONVENTIONS[convention]
        return [edge_behaviour(W, turn(a.args[0]), reference, w)
                for W, a, w in zip(kernels, calls, what)]

    plain = problems("standard")
    if not any(plain):
        return
    for convention in ("swapped", "y-up"):
        if not any(problems(convention)):
            accept(NOTES[convention])
    k = next(i for i, p in enumerate(plain) if p)
    v = calls[k].args[0]
    ignores = len({W.tobytes() for W in kernels}) == 1 and len(kernels) > 1
    fail(f"edge_kernel(v={render(v)}) does not detect edges orthogonal to v: {plain[k]}.",
         inputs=v, answer=kernels[k], figures=edge_figures(kernels[k], v, reference),
         expected="no response to constant images or to images that do not change along v; "
                  "a clear response to edges orthogonal to v, a weak one to edges parallel "
                  "to v",
         hint=("Your kernel is the same for every v: it must depend on v. " if ignores else "")
         + "v1 is the component along the width (x, columns), v2 along the height (y, rows, "
           "counted downwards). Try your kernel on an image that changes only along v and on "
           "one that changes only across v.")


# --- 2.2 ------------------------------------------------------------------------------------

SECOND_DERIVATIVES = {"d2/dx2": lambda a, c: 2 * a, "d2/dy2": lambda a, c: 2 * c,
                      "the Laplacian d2/dx2 + d2/dy2": lambda a, c: 2 * a + 2 * c}


def quadratic_coefficients(rng) -> tuple[float, ...]:
    """a, b, c, d, e, f with a, c and a + c non-zero, so that each second derivative of
    ax² + bxy + cy² + dx + ey + f is a non-zero constant (a zero kernel never matches)."""
    while True:
        a, b, c, d, e, f = (float(x) for x in rng.integers(-3, 4, size=6))
        if a and c and a + c:
            return a, b, c, d, e, f


def grid(W: np.ndarray, rng: np.random.Generator):
    h, w = W.shape[0] + int(rng.integers(4, 8)), W.shape[1] + int(rng.integers(4, 8))
    return np.meshgrid(np.arange(w, dtype=float), np.arange(h, dtype=float))  # x, y


def exact(out: np.ndarray, want: float, image: np.ndarray) -> bool:
    """out is the constant `want`, within a tolerance relative to `want` and to the image's
    own scale (float32 rounding of the kernel's weights)."""
    tol = 1e-4 * abs(want) + 1e-5 * float(np.abs(image).max())
    return bool(np.abs(out - want).max() <= tol)


@pytest.mark.question("2.2", weight=2)
def test_second_derivative_kernel(answers, rng, reference):
    """second_derivative_kernel() gives the exact second derivative of quadratic images"""
    what = "second_derivative_kernel()"
    answer = answers["second_derivative_kernel"]
    W = squeeze_leading(array(value_of(answer), what), 2)
    flat = W.ndim == 1 and W.size >= 3
    W = kernel(answer, what) if not flat else W[None, :]
    matches = set(SECOND_DERIVATIVES)
    seen = []
    for _ in range(4):
        a, b, c, d, e, f = quadratic_coefficients(rng)
        x, y = grid(W, rng)
        q = a * x**2 + b * x * y + c * y**2 + d * x + e * y + f
        out = responses(reference, q, W, what)
        seen.append((f"{a:g}x² + {b:g}xy + {c:g}y² + {d:g}x + {e:g}y + {f:g}", a, c, q, out))
        for name in list(matches):
            if not exact(out, SECOND_DERIVATIVES[name](a, c), q):
                matches.discard(name)
    if matches and flat:
        accept("Right, as a row of weights; return it as a 2-D tensor (e.g. shape (1, 3)) so "
               "that corr2d can use it.")
    if matches:
        return
    negated = any(all(exact(-out, fn(a, c), q) for _, a, c, q, out in seen)
                  for fn in SECOND_DERIVATIVES.values())
    image, _, _, _, out = seen[0]
    fail(f"{what} does not return the second derivative of a quadratic image exactly: on the "
         f"image {image} it gives values from {out.min():.4g} to {out.max():.4g}.", answer=W,
         expected="a constant equal to d2/dx2 (2a), d2/dy2 (2c) or their sum, for q = "
                  "ax² + bxy + cy² + dx + ey + f",
         hint="The sign is reversed: compare the sign of your centre weight with a second "
              "difference's." if negated else
              "Use a finite-difference stencil whose weights reproduce the second derivative "
              "of x² exactly (check the scale and the signs).")


# --- 2.3 ------------------------------------------------------------------------------------

def high_frequencies(n: int) -> dict[str, np.ndarray]:
    i, j = np.indices((n, n))
    return {"a checkerboard": (-1.0) ** (i + j), "alternating columns": (-1.0) ** j,
            "alternating rows": (-1.0) ** i}


def spread(W: np.ndarray) -> tuple[float, float]:
    """(how far W's centre of mass lies from the kernel's centre along the rows or the
    columns, W's mean squared distance from the kernel's centre), for non-negative weights
    summing to 1."""
    i, j = np.indices(W.shape, dtype=float)
    ci, cj = (W.shape[0] - 1) / 2, (W.shape[1] - 1) / 2
    shift = max(abs(float((W * (i - ci)).sum())), abs(float((W * (j - cj)).sum())))
    return shift, float((W * ((i - ci) ** 2 + (j - cj) ** 2)).sum())


@pytest.mark.question("2.3")
def test_blur_kernel(answers, rng, reference):
    """blur_kernel(size, sigma) is a normalised, non-negative, local low-pass kernel"""
    for a in answers.calls("blur_kernel"):
        n, sigma = a.args
        call = f"blur_kernel({n}, {sigma})"
        W = kernel(a, call)
        if W.shape != (n, n):
            fail(f"{call} has shape {W.shape}, expected ({n}, {n}).", inputs=a.args,
                 answer=W, hint="The kernel's shape must follow the `size` argument.")
        if W.min() < -1e-7 * np.abs(W).max():
            fail(f"{call} has negative weights (smallest {W.min():.4g}): it sharpens or "
                 "differentiates instead of blurring.", inputs=a.args, answer=W,
                 figures=blur_figures(W, reference),
                 hint="A blur averages: every weight is non-negative.")
        total = float(W.sum())
        if abs(total - 1) > 1e-4:
            fail(f"The weights of {call} sum to {total:.6g}, so it changes the image's "
                 "brightness.", inputs=a.args, answer=W, expected="weights summing to 1",
                 figures=blur_figures(W, reference),
                 hint="Normalise the kernel by dividing by the sum of its weights.")
        shift, second = spread(W)
        _, box = spread(np.full((n, n), 1.0 / n**2))
        if shift > 0.5 + 1e-9 or second > box * (1 + 1e-6):  # half a pixel off is a blur
            fail(f"{call} is not local: its weight sits " +
                 (f"{shift:.2g} pixels away from the centre" if shift > 0.5 + 1e-9 else
                  "farther from the centre than in a box filter of the same size") +
                 ", so it moves or smears details instead of averaging each pixel with its "
                 "neighbours.", inputs=a.args, answer=W, figures=blur_figures(W, reference),
                 hint="Put the largest weights at the centre and let them fall off (or stay "
                      "equal) towards the border.")
        for name, pattern in high_frequencies(n + 8).items():
            kept = float(np.abs(responses(reference, pattern, W, call)).max())
            if kept > 0.95:
                fail(f"{call} does not smooth {name} (it keeps {kept:.0%} of its amplitude): "
                     "a blur must attenuate the finest details.", inputs=a.args, answer=W,
                     figures=blur_figures(W, reference),
                     hint="Spread the weight over neighbouring pixels, not only over pixels "
                          "of one parity.")
        noise = rng.normal(size=(64, 64))
        ratio = float(responses(reference, noise, W, call).var() / noise.var())
        if ratio > 0.9:
            fail(f"{call} hardly reduces noise (its output keeps {ratio:.0%} of the noise "
                 "variance): it does not blur.", inputs=a.args, answer=W,
                 figures=blur_figures(W, reference),
                 hint="Spread the weight over several neighbouring pixels.")


# --- pictures for the report ----------------------------------------------------------------

def edge_figures(W: np.ndarray, v, reference) -> dict:
    """The kernel's response to a step edge across v (it must respond) and to one along v
    (it must hardly respond), on one colour scale."""
    v1, v2 = v
    size = max(W.shape) + 10
    y, x = np.mgrid[0:size, 0:size].astype(float) - (size - 1) / 2
    across = (v1 * x + v2 * y > 0).astype(float)
    along = (v2 * x - v1 * y > 0).astype(float)
    with np.errstate(all="ignore"):
        return {"edge across v": across,
                "your kernel on it (must respond)": (reference.corr2d(across, W), "response"),
                "edge along v": along,
                "your kernel on it (must hardly respond)": (reference.corr2d(along, W),
                                                            "response")}


def blur_figures(W: np.ndarray, reference) -> dict:
    """Noise and the same noise under the kernel, on one colour scale."""
    side = max(24, max(W.shape) + 12)
    noise = np.random.default_rng(0).normal(size=(side, side))  # fixed: the run's rng untouched
    with np.errstate(all="ignore"):
        return {"noise": (noise, "noise"),
                "the noise under your kernel": (reference.corr2d(noise, W), "noise")}
