"""Hidden checks of exercise 2: the minimum kernel sizes (2.2 and 2.4). Their answers are
numbers, so a public check would give them away.

Sizes are read with grader.normalize.size: a number n, or (1, n), (n, 1), (n, n) in any
container, all accepted alike (is_size).
"""

import pytest

from grader.feedback import fail, render, value_of
from grader.normalize import is_size, size


@pytest.mark.question("2.2")
def test_second_derivative_min_size(answers):
    """second_derivative_min_size is the smallest size of a second-derivative kernel"""
    value = value_of(answers["second_derivative_min_size"])
    if not is_size(size(value, "second_derivative_min_size"), 3):
        fail(f"second_derivative_min_size is {render(value)}, which is not the minimum size.",
             answer=value, hint="How many samples does a second difference need along one "
                                "axis?")


@pytest.mark.question("2.4")
def test_min_kernel_size(answers):
    """min_kernel_size(d) is the minimum kernel size for a derivative of order d"""
    for a in answers.calls("min_kernel_size"):
        d = a.args[0]
        value = value_of(a)
        if not is_size(size(value, f"min_kernel_size({d})"), d + 1):
            fail(f"min_kernel_size({d}) returned {render(value)}, which is not the minimum size "
                 f"for a derivative of order {d}.", inputs=(d,), answer=value,
                 hint="Count how many samples a finite difference of order d needs; your "
                      "formula must hold for every d.")
