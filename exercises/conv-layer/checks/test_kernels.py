"""Exercise 2: hand-designed kernels, judged by what they do to images drawn for this run."""

import numpy as np
import pytest

from grader.feedback import accept, as_array, as_number, fail, render, value_of

MAX_KERNEL = 31


def kernel(answer, what: str) -> np.ndarray:
    W = as_array(value_of(answer), what, ndim=2)
    if W.size == 0:
        fail(f"`{what}` returned an empty kernel.", answer=W)
    if max(W.shape) > MAX_KERNEL:
        fail(f"`{what}` returned a {W.shape[0]}x{W.shape[1]} kernel; kernels up to "
             f"{MAX_KERNEL}x{MAX_KERNEL} are expected here.")
    return W


def grid(W: np.ndarray, rng: np.random.Generator):
    h, w = W.shape[0] + int(rng.integers(4, 8)), W.shape[1] + int(rng.integers(4, 8))
    return np.meshgrid(np.arange(w, dtype=float), np.arange(h, dtype=float))  # x, y


# --- 2.1 ------------------------------------------------------------------------------------

def edge_behaviour(W: np.ndarray, v, rng, reference) -> str | None:
    """None if W detects edges orthogonal to v (v1 along x = columns, v2 along y = rows)."""
    v1, v2 = v
    norm = float(np.hypot(v1, v2))
    x, y = grid(W, rng)
    l1 = float(np.abs(W).sum())
    c = float(rng.uniform(1, 5))
    if np.abs(reference.corr2d(np.full_like(x, c), W)).max() > 1e-5 * l1 * c:
        return "it responds to a constant image (an image without any edge)"
    slope = float(rng.uniform(0.5, 2.0))
    offset = float(rng.uniform(-3, 3))
    along = reference.corr2d(offset + slope * (v2 * x - v1 * y) / norm, W)
    across = reference.corr2d(offset + slope * (v1 * x + v2 * y) / norm, W)
    if np.abs(across).min() < 1e-3 * l1 * slope:
        return "it does not respond to an intensity ramp along v (a change across the edge)"
    if np.abs(along).max() > 1e-4 * np.abs(across).min():
        return ("it responds to an intensity ramp along the edge direction (v2, -v1), where "
                "nothing changes across the edge")
    return None


@pytest.mark.question("2.1")
def test_edge_kernel(answers, rng, reference):
    """edge_kernel(v) detects edges orthogonal to v, for several directions v"""
    calls = answers.calls("edge_kernel")
    kernels = [kernel(a, f"edge_kernel({render(a.args[0])})") for a in calls]
    plain = [edge_behaviour(W, a.args[0], rng, reference) for W, a in zip(kernels, calls)]
    if not any(plain):
        return
    swapped = [edge_behaviour(W, a.args[0][::-1], rng, reference) for W, a in zip(kernels, calls)]
    if not any(swapped):
        accept("Swapped axis convention: edge_kernel is right if v1 is read along the rows (y) "
               "and v2 along the columns (x), but the exercise puts v1 along the width (x, "
               "columns). Full credit; mind the convention.")
    k = next(i for i, p in enumerate(plain) if p)
    v = calls[k].args[0]
    ignores = len({W.tobytes() for W in kernels}) == 1 and len(kernels) > 1
    fail(f"edge_kernel(v={render(v)}) does not detect edges orthogonal to v: {plain[k]}.",
         inputs=v, answer=kernels[k],
         expected="zero response on constant images and on ramps along (v2, -v1); non-zero "
                  "response on ramps along v",
         hint=("Your kernel is the same for every v: it must depend on v. " if ignores else "")
         + "v1 is the component along the width (x, columns), v2 along the height (y, rows); "
           "combine a horizontal and a vertical difference with weights from v.",
         figures=edge_figures(kernels[k], v, reference))


# --- 2.2 ------------------------------------------------------------------------------------

SECOND_DERIVATIVES = {"d2/dx2": lambda a, c: 2 * a, "d2/dy2": lambda a, c: 2 * c,
                      "the Laplacian d2/dx2 + d2/dy2": lambda a, c: 2 * a + 2 * c}


@pytest.mark.question("2.2", weight=2)
def test_second_derivative_kernel(answers, rng, reference):
    """second_derivative_kernel() gives the exact second derivative of quadratic images"""
    answer = answers["second_derivative_kernel"]
    flat = answer.ok and np.ndim(answer.value) == 1 and np.size(answer.value) >= 3
    W = (as_array(value_of(answer), "second_derivative_kernel()")[None, :] if flat
         else kernel(answer, "second_derivative_kernel()"))
    matches = set(SECOND_DERIVATIVES)
    seen = []
    for _ in range(4):
        a, b, c, d, e, f = rng.integers(-3, 4, size=6).astype(float)
        a, c = a or 1.0, c or -2.0
        x, y = grid(W, rng)
        out = reference.corr2d(a * x**2 + b * x * y + c * y**2 + d * x + e * y + f, W)
        seen.append((f"{a:g}x² + {b:g}xy + {c:g}y² + {d:g}x + {e:g}y + {f:g}", a, c, out))
        for name in list(matches):
            if not exact(out, SECOND_DERIVATIVES[name](a, c)):
                matches.discard(name)
    if matches and flat:
        accept("Right, as a row of weights; return it as a 2-D tensor (e.g. shape (1, 3)) so "
               "that corr2d can use it.")
    if matches:
        return
    negated = any(all(exact(-out, fn(a, c)) for _, a, c, out in seen)
                  for fn in SECOND_DERIVATIVES.values())
    image, _, _, out = seen[0]
    fail("second_derivative_kernel() does not return the second derivative of a quadratic "
         f"image exactly: on the image {image} it gives values from "
         f"{out.min():.4g} to {out.max():.4g}.", answer=W,
         expected="a constant equal to d2/dx2 (2a), d2/dy2 (2c) or their sum, for q = "
                  "ax² + bxy + cy² + dx + ey + f",
         hint="The sign is reversed: the centre weight of a second difference is negative."
         if negated else "Use a finite-difference stencil whose weights reproduce the second "
                         "derivative of x² exactly (check the scale and the signs).")


def exact(out: np.ndarray, want: float) -> bool:
    return bool(np.allclose(out, want, rtol=1e-4, atol=1e-4 * max(1.0, abs(want))))


@pytest.mark.question("2.2")
def test_second_derivative_min_size(answers):
    """second_derivative_min_size is the minimum kernel size, 3"""
    value = value_of(answers["second_derivative_min_size"])
    if isinstance(value, (list, tuple)) or (isinstance(value, np.ndarray) and value.size > 1):
        dims = as_array(value, "second_derivative_min_size").ravel()
        if dims.size == 2 and sorted(dims.tolist()) in ([1.0, 3.0], [3.0, 3.0]):
            return
        fail(f"second_derivative_min_size is {render(value)}, which is not the minimum size.",
             answer=value, hint="How many samples does a second difference need?")
    size = as_number(value, "second_derivative_min_size")
    if size != 3:
        fail(f"second_derivative_min_size is {render(value)}, which is not the minimum size.",
             answer=value, hint="How many samples does a second difference need along one axis?")


# --- 2.3 ------------------------------------------------------------------------------------

@pytest.mark.question("2.3")
def test_blur_kernel(answers, rng, reference):
    """blur_kernel(size, sigma) is a normalised, non-negative kernel that reduces noise"""
    for a in answers.calls("blur_kernel"):
        size, sigma = a.args
        call = f"blur_kernel({size}, {sigma})"
        W = kernel(a, call)
        if W.shape != (size, size):
            fail(f"{call} has shape {W.shape}, expected ({size}, {size}).", inputs=a.args,
                 answer=W, hint="The kernel's shape must follow the `size` argument.",
                 figures=blur_figures(W, reference))
        if W.min() < -1e-7:
            fail(f"{call} has negative weights (smallest {W.min():.4g}): it sharpens or "
                 "differentiates instead of blurring.", inputs=a.args, answer=W,
                 hint="A blur averages: every weight is non-negative.",
                 figures=blur_figures(W, reference))
        total = float(W.sum())
        if abs(total - 1) > 1e-4:
            fail(f"The weights of {call} sum to {total:.6g}, so it changes the image's "
                 "brightness.", inputs=a.args, answer=W, expected="weights summing to 1",
                 hint="Normalise the kernel by dividing by the sum of its weights.",
                 figures=blur_figures(W, reference))
        noise = rng.normal(size=(64, 64))
        ratio = float(reference.corr2d(noise, W).var() / noise.var())
        if ratio > 0.9:
            fail(f"{call} hardly reduces noise (its output keeps {ratio:.0%} of the noise "
                 "variance): it does not blur.", inputs=a.args, answer=W,
                 hint="Spread the weight over several neighbouring pixels.",
                 figures=blur_figures(W, reference))


# --- 2.4 ------------------------------------------------------------------------------------

@pytest.mark.question("2.4")
def test_min_kernel_size(answers):
    """min_kernel_size(d) is the minimum kernel size for a derivative of order d"""
    for a in answers.calls("min_kernel_size"):
        d = a.args[0]
        value = value_of(a)
        if isinstance(value, (list, tuple)) and len(value) == 2:
            dims = sorted(as_array(value, f"min_kernel_size({d})").tolist())
            if dims == [1.0, d + 1.0]:
                continue
        elif as_number(value, f"min_kernel_size({d})") == d + 1:
            continue
        fail(f"min_kernel_size({d}) returned {render(value)}, which is not the minimum size "
             f"for a derivative of order {d}.", inputs=(d,), answer=value,
             hint="Count how many samples a finite difference of order d needs "
                  "(order 1 needs 2); your formula must hold for every d.")


# --- pictures for the report ----------------------------------------------------------------

def edge_figures(W: np.ndarray, v, reference) -> dict:
    """W on two ramps: one rising along v (W must respond), one rising along the edge
    direction (v2, -v1) (W must give 0); the two responses on one colour scale."""
    v1, v2 = v
    norm = float(np.hypot(v1, v2)) or 1.0
    x, y = np.meshgrid(np.arange(W.shape[1] + 6.0), np.arange(W.shape[0] + 6.0))
    across, along = (v1 * x + v2 * y) / norm, (v2 * x - v1 * y) / norm
    return {"image rising along v": across,
            "your kernel on it (must not be 0)": (reference.corr2d(across, W), "response"),
            "image rising along the edge (v2, −v1)": along,
            "your kernel on it (must be 0)": (reference.corr2d(along, W), "response")}


def blur_figures(W: np.ndarray, reference) -> dict:
    """W on a patch of noise (fixed, so every student sees the same one), on one colour
    scale: a blur fades the noise."""
    side = max(24, max(W.shape) + 12)
    noise = np.random.default_rng(0).normal(size=(side, side))
    return {"noise": (noise, "noise"),
            "the noise under your kernel": (reference.corr2d(noise, W), "noise")}
