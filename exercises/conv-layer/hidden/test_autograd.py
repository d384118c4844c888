"""Exercise 3: the error autograd raises when asked for the gradient of the section's Conv2D.

Rule: the answer, read with grader.normalize.message (text, the exception object, its args, a
(type, text) pair; case, spacing, quotes, an 'Error: ' prefix, the repr form and a pasted
traceback do not matter), must be the very message the installed torch gives in one of the
reference scenarios, and of the same exception type when the answer names one. Extra words
make another message: a sentence saying no error occurs, or several guesses, fail.
"""

import pytest

from grader.feedback import fail, value_of
from grader.normalize import message


@pytest.fixture(scope="module")
def expected_errors(reference):
    found = reference.autograd_errors()
    assert found, "the installed torch raised no error in the autograd scenarios"
    return found


@pytest.mark.question("3")
def test_autograd_error(answers, expected_errors):
    """autograd_error is the error autograd raises on the section's Conv2D"""
    value = value_of(answers["autograd_error"])
    said = message(value, "autograd_error")
    if any(said.same_as(etype, text) for _, etype, text in expected_errors):
        return
    fail("autograd_error is not the message autograd gives when it is asked for the gradient "
         "of the section's Conv2D.", answer=value,
         hint="Call .backward() on the output of a Conv2D layer applied to an image (or ask "
              "torch.autograd.grad for it) inside try/except, and store the exception or its "
              "message, exactly as Python reports it.")
