"""Exercise 3: the error autograd raises when asked for the gradient of the section's Conv2D."""

import re

import pytest

from grader.feedback import fail, render, value_of
from grader.wire import RaisedError

_PREFIX = re.compile(r"^(?:[A-Za-z_][\w.]*(?:Error|Exception|Warning))\s*:\s*")
_REPR = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception))\((['\"])(.*)\2,?\)$", re.S)


def normalise(text: str) -> str:
    """Compare messages without case, spacing, quotes, a trailing period or an 'Error: '
    prefix; from a pasted traceback keep the final exception line(s)."""
    if "Traceback (most recent call last)" in text:
        lines = text.strip().splitlines()
        starts = [i for i, line in enumerate(lines) if _PREFIX.match(line.strip())]
        text = "\n".join(lines[starts[-1]:]) if starts else lines[-1]
    text = " ".join(text.split())
    match = _REPR.match(text)
    if match:
        text = match.group(3)
    text = _PREFIX.sub("", text)
    return text.strip().strip("'\"").rstrip(".").strip().lower()


@pytest.fixture(scope="module")
def expected_errors(reference):
    found = reference.autograd_errors()
    assert found, "the installed torch raised no error in the autograd scenarios"
    return found


@pytest.mark.question("3")
def test_autograd_error(answers, expected_errors):
    """autograd_error is the error autograd raises on the section's Conv2D"""
    value = value_of(answers["autograd_error"])
    if isinstance(value, RaisedError):
        given_type, text = value.type, value.message
    elif isinstance(value, str):
        given_type, text = "", value
    else:
        fail(f"autograd_error should be the error message (a str) or the exception object, "
             f"not {render(value)}.", answer=value)
    said = normalise(text)
    for _, etype, message in expected_errors:
        if given_type and given_type != etype:
            continue
        want = normalise(message)
        if said and (said == want or want in said):
            return
    fail("autograd_error is not the message autograd gives when it is asked for the gradient "
         "of the section's Conv2D.", answer=value,
         hint="Call .backward() on the output of a Conv2D layer applied to an image (or ask "
              "torch.autograd.grad for it) inside try/except, and store the exception or its "
              "message.")
