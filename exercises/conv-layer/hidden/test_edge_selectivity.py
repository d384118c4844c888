"""Hidden check of 2.1: an edge detector for v responds to edges across v much more than to
edges at an angle to it. It compares with the reference kernel (a central-difference
directional derivative), so it is hidden.

At 7 angles between "across v" and "parallel to v", the kernel's response to a step edge
may exceed |cos(angle)| times its response to an edge across v by no more than the reference
kernel's own excess there plus SLACK. The axis convention is the first under which the public
check's basic properties hold for every v (standard, swapped, y-up); without one, this check
fails too, pointing at the public one.
"""

import importlib.util
import math
from functools import lru_cache
from pathlib import Path

import numpy as np
import pytest

from grader.feedback import fail, render, value_of
from grader.normalize import array

SLACK = 0.3
"""Forward differences (a right answer) reach about 0.28 on edges parallel to v; a derivative
plus half a Laplacian exceeds 0.4."""
ANGLES = [k * math.pi / 8 for k in range(1, 8)]
CONVENTIONS = {
    "standard": lambda v: (v[0], v[1]),
    "swapped": lambda v: (v[1], v[0]),
    "y-up": lambda v: (v[0], -v[1]),
}


def _public_checks():
    """The public check's basic properties (checks/test_kernels.py), to pick the convention."""
    path = Path(__file__).resolve().parents[1] / "checks" / "test_kernels.py"
    spec = importlib.util.spec_from_file_location("conv_layer_public_kernels", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@lru_cache(maxsize=512)
def _step(reference, size: int, normal: float, offset: float) -> np.ndarray:
    return reference.step_edge(size, normal, offset)


def step_response(reference, W: np.ndarray, normal: float) -> float:
    """RMS response of W to a step edge rising along `normal`, over two sub-pixel positions."""
    size = max(W.shape) + 16
    with np.errstate(all="ignore"):
        return sum(reference.rms(reference.corr2d(_step(reference, size, normal, offset), W))
                   for offset in (0.0, 0.5)) / 2


def selectivity_problem(W: np.ndarray, v, reference) -> str | None:
    phi = math.atan2(v[1], v[0])
    R = reference.edge_kernel(v)
    across, ref_across = step_response(reference, W, phi), step_response(reference, R, phi)
    if not math.isfinite(across) or across <= 0:
        return "it gives no usable response to an edge orthogonal to v"
    for turn in ANGLES:
        ratio = step_response(reference, W, phi + turn) / across
        ref_ratio = step_response(reference, R, phi + turn) / ref_across
        bound = abs(math.cos(turn)) + max(0.0, ref_ratio - abs(math.cos(turn))) + SLACK
        if not math.isfinite(ratio) or ratio > bound:
            where = ("an edge parallel to v" if abs(turn - math.pi / 2) < 1e-9 else
                     f"an edge at {math.degrees(turn):.1f} degrees to v")
            return (f"its response to {where} is {ratio:.0%} of its response to an edge "
                    f"orthogonal to v; a detector for v gives at most {bound:.0%} there")
    return None


@pytest.mark.question("2.1")
def test_edge_kernel_is_selective(answers, reference):
    """edge_kernel(v) responds to edges across v much more than to edges at an angle to v"""
    public = _public_checks()
    calls = answers.calls("edge_kernel")
    what = [f"edge_kernel({render(a.args[0])})" for a in calls]
    kernels = [array(value_of(a), w, ndim=2) for a, w in zip(calls, what, strict=True)]
    for turn in CONVENTIONS.values():
        if not any(public.edge_behaviour(W, turn(a.args[0]), reference, w)
                   for W, a, w in zip(kernels, calls, what, strict=True)):
            break
    else:
        fail("edge_kernel does not detect edges orthogonal to v (see the other check of "
             "2.1), so its selectivity cannot be judged.")
    for W, a in zip(kernels, calls, strict=True):
        problem = selectivity_problem(W, turn(a.args[0]), reference)
        if problem:
            fail(f"edge_kernel(v={render(a.args[0])}) is not selective enough: {problem}.",
                 inputs=a.args[0], answer=W,
                 hint="A detector for v should hardly respond to edges parallel to v: check "
                      "it on an edge that runs along v.")
