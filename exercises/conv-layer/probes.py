"""What the conv-layer pack asks of the student's kernel, with inputs drawn for this run."""

from __future__ import annotations

import math

import numpy as np

from grader.wire import Call, Request, Value

VALUES = ("X_diag", "Y_diag", "Y_diag_Xt", "Y_diag_Kt", "second_derivative_min_size",
          "autograd_error")


def directions(rng: np.random.Generator, n: int = 4) -> list[tuple[float, float]]:
    """One direction per quadrant, kept 10 to 35 degrees off the axes and the diagonals so
    that a kernel ignoring v, or reading (v1, v2) the other way round, cannot pass by luck."""
    out = []
    for k in range(n):
        angle = math.radians(rng.uniform(10, 35) + 90 * (k % 4))
        length = rng.uniform(0.5, 3.0)
        out.append((round(length * math.cos(angle), 4), round(length * math.sin(angle), 4)))
    return out


def fractional(rng: np.random.Generator, shape: tuple[int, int], bound: float) -> np.ndarray:
    """float32 values in (-bound, bound) with two decimals, none of them whole: a matrix or a
    result built in an integer tensor cannot match them."""
    values = np.round(rng.uniform(-bound, bound, size=shape), 2)
    values[values == np.round(values)] += 0.25
    return values.astype(np.float32)


def small_kernel(rng: np.random.Generator, kh: int, kw: int) -> np.ndarray:
    return fractional(rng, (kh, kw), 3)


def requests(rng: np.random.Generator) -> list[Request]:
    reqs: list[Request] = [Value(name) for name in VALUES]
    for i, v in enumerate(directions(rng)):
        reqs.append(Call("edge_kernel", (v,), key=f"edge_kernel#{i}"))
    reqs.append(Call("second_derivative_kernel", (), key="second_derivative_kernel"))
    sizes = rng.choice([3, 5, 7, 9, 11], size=3, replace=False)
    for i, size in enumerate(sizes):
        sigma = round(float(rng.uniform(0.5, 3.0)), 3)
        reqs.append(Call("blur_kernel", (int(size), sigma), key=f"blur_kernel#{i}"))
    orders = [1, 2, 3] + [int(d) for d in rng.choice(np.arange(4, 80), size=3, replace=False)]
    for d in orders:
        reqs.append(Call("min_kernel_size", (d,), key=f"min_kernel_size#{d}"))
    for i in range(3):
        h, w = int(rng.integers(3, 8)), int(rng.integers(3, 9))
        kh, kw = int(rng.integers(1, min(3, h) + 1)), int(rng.integers(1, min(3, w) + 1))
        if i == 0:  # always one kernel that is neither square nor a row
            kh, kw = 2, 3
        reqs.append(Call("kernel_matrix", (small_kernel(rng, kh, kw), (h, w)),
                         key=f"kernel_matrix#{i}"))
    for i in range(3):
        h, w = int(rng.integers(3, 9)), int(rng.integers(3, 9))
        kh, kw = int(rng.integers(1, min(3, h) + 1)), int(rng.integers(1, min(3, w) + 1))
        if i == 0:  # always one output that is not square, so (out_w, out_h) cannot pass
            kh, kw = 2, 3
            h = int(rng.integers(3, 9))
            w = h + 1 + int(rng.integers(1, 3))
        reqs.append(Call("corr2d_matmul", (fractional(rng, (h, w), 4), small_kernel(rng, kh, kw)),
                         key=f"corr2d_matmul#{i}"))
    return reqs
