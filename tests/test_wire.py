"""The plain-data boundary: whatever the kernel sends, the grader gets data or a clean error."""

import json

import numpy as np
import pytest

from grader.wire import (
    BadReply,
    Call,
    RaisedError,
    Unsupported,
    Value,
    decode_reply,
    encode_request,
)

REQ = Value("x")


def reply(value, rid=7, status="ok"):
    return json.dumps({"id": rid, "status": status, "value": value})


def test_arrays_numbers_and_specials_decode():
    text = reply({"t": "list", "v": [
        1, 2.5, {"t": "float", "v": "nan"}, "s", None, True,
        {"t": "array", "dtype": "float32", "shape": [2, 2], "data": [1, 2, 3, {"t": "float", "v": "-inf"}]},
        {"t": "array", "dtype": "int64", "shape": [0], "data": []},
        {"t": "exception", "type": "RuntimeError", "message": "boom"},
        {"t": "unsupported", "type": "module"}]})
    value = decode_reply(text, REQ, 7).value
    assert value[0] == 1 and value[1] == 2.5 and np.isnan(value[2])
    assert value[6].shape == (2, 2) and value[6].dtype == np.float64 and value[6][1, 1] == -np.inf
    assert value[7].shape == (0,)
    assert value[8] == RaisedError("RuntimeError", "boom")
    assert value[9] == Unsupported("module")


@pytest.mark.parametrize("text", [
    "not json", "[1, 2]", json.dumps({"id": 8, "status": "ok", "value": 1}),
    reply({"t": "array", "dtype": "float64", "shape": [3], "data": [1, 2]}),
    reply({"t": "array", "dtype": "float64", "shape": [1], "data": ["__import__('os')"]}),
    reply({"t": "array", "dtype": "float64", "shape": [-1], "data": []}),
    reply({"t": "pickle", "v": "gASVAAAAAAAAAAB9lC4="}),
    reply([1, 2, 3]),
    reply({"t": "float", "v": "1e400"}),
    json.dumps({"id": 7, "status": "owned"}),
    "[" * 100_000 + "]" * 100_000,
    reply(json.loads("[" * 10 + "]" * 10)),
])
def test_malformed_replies_are_rejected(text):
    with pytest.raises(BadReply):
        decode_reply(text, REQ, 7)


def test_deeply_nested_value_is_rejected():
    value = 1
    for _ in range(200):
        value = {"t": "list", "v": [value]}
    with pytest.raises(BadReply):
        decode_reply(reply(value), REQ, 7)


def test_oversized_reply_is_rejected_before_parsing():
    with pytest.raises(BadReply):
        decode_reply("x" * (64 * 1024 * 1024 + 1), REQ, 7)


def test_status_errors_carry_messages_not_values():
    ans = decode_reply(json.dumps({"id": 7, "status": "raised", "type": "ValueError",
                                   "message": "m", "traceback": "tb"}), Call("f", (1,)), 7)
    assert ans.status == "raised" and ans.value == "ValueError" and ans.traceback == "tb"
    assert ans.args == (1,)


def test_requests_encode_arrays_as_tagged_data():
    body = json.loads(encode_request(Call("f", (np.eye(2, dtype=np.float32), (3, 4), 1.5)), 9))
    assert body == {"id": 9, "name": "f", "kind": "call", "args": [
        {"t": "tensor", "dtype": "float32", "shape": [2, 2], "data": [1.0, 0.0, 0.0, 1.0]},
        {"t": "tuple", "v": [3, 4]}, 1.5]}
    with pytest.raises(TypeError):
        encode_request(Call("f", (object(),)), 1)
