"""What a pack's checks use to judge answers and to explain a failure to the student.

A check fails by raising `Feedback` (through `fail`) with a message the student can act on,
and optionally the input used, what came back and what was expected, shown side by side in
the report. Plain `assert` works too; anything else raised by a check is reported as a fault
of the check, not of the student.

Read answers with `grader.normalize` (arrays, numbers, sizes, messages, source), so that every
check accepts the same containers. Tolerances should be relative to a scale the answer cannot
shrink or inflate (the reference's result on the same input, or the input's own scale), and
values computed from an answer go through `finite` before they are compared.
"""

from __future__ import annotations

from typing import Any, NoReturn

import numpy as np

from .wire import Answer, Call, RaisedError, Unsupported


class Feedback(Exception):
    def __init__(self, message: str, *, answer: Any = None, expected: Any = None,
                 inputs: Any = None, hint: str = "", not_answered: bool = False,
                 figures: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.answer = answer
        self.expected = expected
        self.inputs = inputs
        self.hint = hint
        self.not_answered = not_answered
        self.figures = figures  # label -> 2-D array, pictured beside answer and expected


class Accepted(Exception):
    """Raised by `accept`: the check passes, and the student is told `note`."""

    def __init__(self, note: str, *, figures: dict[str, Any] | None = None) -> None:
        super().__init__(note)
        self.note = note
        self.figures = figures


def fail(message: str, **details: Any) -> NoReturn:
    raise Feedback(message, **details)


def accept(note: str, *, figures: dict[str, Any] | None = None) -> NoReturn:
    """Pass the check with a note for the student (e.g. right under another convention)."""
    raise Accepted(note, figures=figures)


def call_text(answer: Answer) -> str:
    req = answer.request
    if isinstance(req, Call):
        return f"{req.name}({', '.join(render(a, inline=True) for a in req.args)})"
    return req.name


def value_of(answer: Answer) -> Any:
    """The answer's value, or a Feedback saying why there is none."""
    name = answer.request.name
    what = call_text(answer)
    inputs = answer.request.args if isinstance(answer.request, Call) else None
    status = answer.status
    if status == "missing":
        raise Feedback(f"Not answered: `{name}` is not defined once your notebook has run.",
                       hint=f"Define `{name}` and check that the cell defining it runs without "
                            "an error.", not_answered=True)
    if status == "raised":
        if answer.value == "NotImplementedError":
            raise Feedback(f"Not answered: `{name}` still raises NotImplementedError.",
                           hint="Replace the `raise NotImplementedError` line with your code.",
                           not_answered=True)
        tail = answer.traceback.strip().splitlines()[-4:]
        raise Feedback(f"`{what}` raised {answer.value}: {answer.message}", inputs=inputs,
                       answer="\n".join(tail) or None,
                       hint="Run your function on this input in your notebook to see the error.")
    if status == "not_callable":
        raise Feedback(f"`{name}` should be a function, but it is a {answer.message}.")
    if status == "timeout":
        raise Feedback(f"`{what}` did not finish within the time limit.", inputs=inputs,
                       hint="Look for an endless loop, or work that grows too fast with the input.")
    if status == "kernel_died":
        raise Feedback(f"`{what}` crashed the Python kernel.", inputs=inputs)
    if status != "ok":
        raise Feedback(f"`{what}` could not be evaluated: {answer.message or status}.",
                       inputs=inputs)
    value = answer.value
    if value is None:
        raise Feedback(f"Not answered: `{name}` is still None." if not inputs else
                       f"`{what}` returned None.", inputs=inputs,
                       hint=f"Make `{name}` return its result." if inputs else "",
                       not_answered=not inputs)
    if value is Ellipsis or (isinstance(value, Unsupported) and value.type == "ellipsis"):
        raise Feedback(f"Not answered: `{name}` is still `...`.", not_answered=True)
    if isinstance(value, Unsupported):
        raise Feedback(f"`{what}` gave a {value.type}, which is not a number, string, list or "
                       "tensor.", inputs=inputs)
    return value


def as_array(value: Any, what: str, *, ndim: int | None = None) -> np.ndarray:
    """A tensor, numpy array or nested list of numbers as a float64 array, or a Feedback.
    Same as `grader.normalize.array`, where the accepted containers are documented."""
    from .normalize import array  # imported here: normalize builds on this module
    return array(value, what, ndim=ndim)


def as_number(value: Any, what: str) -> float:
    """One number, or a Feedback. Same as `grader.normalize.number`."""
    from .normalize import number
    return number(value, what)


def finite(values: Any, message: str, **details: Any) -> np.ndarray:
    """`values`, computed while judging (e.g. corr2d of the student's kernel), as an array
    when every one is finite; otherwise the check fails with `message`. A NaN or an infinity
    makes every comparison false, so without this an overflowing answer could pass."""
    with np.errstate(all="ignore"):
        arr = np.asarray(values, dtype=np.float64)
    if arr.size and not np.all(np.isfinite(arr)):
        fail(message, **details)
    return arr


def optional_fixture(request: Any, name: str) -> Any:
    """The value of fixture `name` when the grader provides it, else None (for checks that
    use a capability, such as the notebook's `source`, only where it exists)."""
    import pytest

    try:
        return request.getfixturevalue(name)
    except pytest.FixtureLookupError:
        return None


def describe(value: Any) -> str:
    if value is None:
        return "None"
    if isinstance(value, np.ndarray):
        return f"an array of shape {tuple(value.shape)}"
    if isinstance(value, RaisedError):
        return f"an exception ({value.type})"
    if isinstance(value, Unsupported):
        return f"a {value.type}"
    if isinstance(value, (list, tuple)):
        return f"a {type(value).__name__} of {len(value)} items"
    return f"a {type(value).__name__} ({render(value, inline=True)})"


def render(value: Any, *, inline: bool = False, limit: int = 1200) -> str:
    """A short, readable rendering of a value for feedback and reports."""
    if isinstance(value, np.ndarray):
        arr = value
        if arr.dtype.kind == "f" and arr.size and np.all(np.isfinite(arr)) and \
                np.all(arr == np.round(arr)) and np.abs(arr).max() < 1e9:
            arr = arr.astype(np.int64)
        if inline:
            text = np.array2string(arr, precision=4, suppress_small=True, separator=", ",
                                   max_line_width=10**6, threshold=12).replace("\n", "")
        else:
            text = np.array2string(arr, precision=4, suppress_small=True, separator=", ",
                                   threshold=200, max_line_width=100)
        text = f"tensor {text}" if arr.ndim else text
        shape = f" (shape {tuple(arr.shape)})" if arr.ndim > 1 or arr.size > 12 else ""
        text += shape
    elif isinstance(value, tuple):
        text = "(" + ", ".join(render(v, inline=True) for v in value) + ("," if len(value) == 1 else "") + ")"
    elif isinstance(value, list):
        text = "[" + ", ".join(render(v, inline=True) for v in value) + "]"
    elif isinstance(value, dict):
        text = ", ".join(f"{k} = {render(v, inline=inline)}" for k, v in value.items())
    elif isinstance(value, float):
        text = f"{value:.6g}"
    else:
        text = str(value) if isinstance(value, (RaisedError, Unsupported)) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."
