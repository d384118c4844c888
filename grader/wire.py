"""What crosses between the grader and the student's kernel: requests out, plain data back.

Requests name a variable to read or a function to call with inputs the grader chose. Replies
are JSON text; `decode_reply` turns them into numbers, strings, lists, dicts and numpy arrays,
and rejects anything else. Nothing from the kernel is ever unpickled or evaluated.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from .limits import EXCEPTION_CHARS, NAME_CHARS, REPLY_CHARS, TEXT_CHARS, TRACEBACK_CHARS

MIME = "text/x-grader-answer"
_MAX_DEPTH = 24


@dataclass(frozen=True, slots=True)
class Value:
    """Read the variable `name` from the student's namespace."""

    name: str
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", self.name)


@dataclass(frozen=True, slots=True)
class Call:
    """Call the student's function `name` with `args` (numbers, strings, tuples, lists, numpy
    arrays; arrays arrive in the kernel as torch tensors of the same dtype)."""

    name: str
    args: tuple = ()
    key: str = ""

    def __post_init__(self) -> None:
        if not self.key:
            object.__setattr__(self, "key", f"{self.name}{_short(self.args)}")


Request = Value | Call


@dataclass(frozen=True, slots=True)
class RaisedError:
    """An exception object the student stored as an answer (not one raised while probing)."""

    type: str
    message: str

    def __str__(self) -> str:
        return f"{self.type}: {self.message}" if self.message else self.type


@dataclass(frozen=True, slots=True)
class Unsupported:
    """A value of a kind that cannot cross as data (a module, a generator, a huge array...)."""

    type: str


@dataclass(frozen=True, slots=True)
class Answer:
    """What the kernel gave for one request."""

    request: Request
    status: str
    """ok | missing | not_callable | raised | unreadable | no_reply | kernel_died | timeout |
    not_run (the notebook could not be executed far enough to ask)."""
    value: Any = None
    message: str = ""
    traceback: str = ""

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def args(self) -> tuple:
        """The inputs of a call (empty for a value)."""
        return self.request.args if isinstance(self.request, Call) else ()


def factory_cell(source: str, factory: str, args: tuple, target: str) -> str:
    """A cell that defines `factory` (from the kernel-side `source`) and binds
    `target = factory(*args)` in the student's namespace. The factory is executed in globals of
    its own, so a student's global named like a builtin (`type = "gaussian"`, `list = [...]`)
    is not what the probe's code calls."""
    return ("import builtins as __grader_builtins__\n"
            "__grader_globals__ = {'__builtins__': __grader_builtins__, '__name__': 'grader'}\n"
            f"__grader_builtins__.exec({source!r}, __grader_globals__)\n"
            f"{target} = __grader_globals__[{factory!r}]({', '.join(map(repr, args))})\n"
            "del __grader_builtins__, __grader_globals__\n")


def encode_requests(requests: list[tuple[Request, int]]) -> str:
    """JSON for the kernel's probe: a list of (request, id)."""
    return "[" + ", ".join(encode_request(r, rid) for r, rid in requests) + "]"


def encode_request(request: Request, request_id: int) -> str:
    body: dict[str, Any] = {"id": request_id, "name": request.name}
    if isinstance(request, Value):
        body["kind"] = "value"
    else:
        body["kind"] = "call"
        body["args"] = [_encode_arg(a) for a in request.args]
    return json.dumps(body)


def _encode_arg(x: Any) -> Any:
    if isinstance(x, np.ndarray):
        if x.dtype.kind == "f":
            dtype = "float32" if x.dtype == np.float32 else "float64"
        elif x.dtype.kind in "iu":
            dtype = "int64"
        elif x.dtype.kind == "b":
            dtype = "bool"
        else:
            raise TypeError(f"cannot send an array of {x.dtype} to the kernel")
        return {"t": "tensor", "dtype": dtype, "shape": list(x.shape), "data": x.ravel().tolist()}
    if isinstance(x, tuple):
        return {"t": "tuple", "v": [_encode_arg(v) for v in x]}
    if isinstance(x, list):
        return {"t": "list", "v": [_encode_arg(v) for v in x]}
    if isinstance(x, (np.integer, np.floating)):
        return x.item()
    if x is None or isinstance(x, (bool, int, float, str)):
        return x
    raise TypeError(f"cannot send {type(x).__name__} to the kernel")


class BadReply(ValueError):
    """The kernel's reply is not well-formed data."""


def decode_reply(text: Any, request: Request, request_id: int) -> Answer:
    """Validate one reply and turn it into an Answer; malformed replies raise BadReply."""
    if not isinstance(text, str):
        raise BadReply("reply is not text")
    if len(text) > REPLY_CHARS:
        raise BadReply(f"reply of {len(text)} characters is too large")
    try:
        body = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise BadReply(f"reply is not JSON ({type(exc).__name__})") from None
    if not isinstance(body, dict) or body.get("id") != request_id:
        raise BadReply("reply does not answer this request")
    status = body.get("status")
    if status == "ok":
        try:
            value = decode_value(body.get("value"))
        except RecursionError:
            raise BadReply("reply is nested too deeply") from None
        return Answer(request, "ok", value=value)
    if status in ("missing", "not_callable", "raised", "unreadable"):
        return Answer(request, status, message=_text(body.get("message"))[:TEXT_CHARS],
                      traceback=(_text(body.get("traceback"))[-TRACEBACK_CHARS:]
                                 if status == "raised" else ""),
                      value=_text(body.get("type"))[:NAME_CHARS] if status == "raised" else None)
    raise BadReply(f"unknown reply status {status!r}")


def decode_value(x: Any, depth: int = 0) -> Any:
    """Plain JSON from the kernel -> Python values and numpy arrays; raises BadReply."""
    if depth > _MAX_DEPTH:
        raise BadReply("value is nested too deeply")
    if x is None or isinstance(x, (bool, int, str)):
        return x
    if isinstance(x, float):
        return x
    if isinstance(x, list):
        raise BadReply("untagged list")
    if not isinstance(x, dict):
        raise BadReply(f"unexpected {type(x).__name__}")
    tag = x.get("t")
    if tag == "float":
        return _special_float(x.get("v"))
    if tag in ("list", "tuple"):
        items = x.get("v")
        if not isinstance(items, list):
            raise BadReply("malformed sequence")
        out = [decode_value(v, depth + 1) for v in items]
        return tuple(out) if tag == "tuple" else out
    if tag == "dict":
        items = x.get("v")
        if not isinstance(items, dict):
            raise BadReply("malformed dict")
        return {str(k): decode_value(v, depth + 1) for k, v in items.items()}
    if tag == "array":
        return _decode_array(x)
    if tag == "exception":
        return RaisedError(_text(x.get("type"))[:NAME_CHARS] or "Exception",
                           _text(x.get("message"))[:EXCEPTION_CHARS])
    if tag == "unsupported":
        return Unsupported(_text(x.get("type")) or "object")
    raise BadReply(f"unknown value tag {tag!r}")


def _decode_array(x: dict) -> np.ndarray:
    shape, data, dtype = x.get("shape"), x.get("data"), x.get("dtype")
    if (not isinstance(shape, list) or not all(isinstance(n, int) and n >= 0 for n in shape)
            or not isinstance(data, list) or not isinstance(dtype, str) or len(shape) > 32):
        raise BadReply("malformed array")
    if math.prod(shape) != len(data):
        raise BadReply("array data does not match its shape")
    values = [(_special_float(v.get("v")) if isinstance(v, dict) else v) for v in data]
    if not all(isinstance(v, (bool, int, float)) for v in values):
        raise BadReply("array holds something other than numbers")
    kind = "bool" if dtype == "bool" else ("int64" if "int" in dtype else "float64")
    try:
        return np.array(values, dtype=kind).reshape(shape)
    except (OverflowError, ValueError):
        raise BadReply("array values do not fit their dtype") from None


def _special_float(v: Any) -> float:
    if v in ("nan", "inf", "-inf"):
        return float(v)
    raise BadReply("malformed float")


def _text(v: Any) -> str:
    return v if isinstance(v, str) else ""


def _short(args: tuple) -> str:
    text = repr(tuple(a.shape if isinstance(a, np.ndarray) else a for a in args))
    return text if len(text) <= 60 else text[:57] + "..."
