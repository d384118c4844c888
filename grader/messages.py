"""Clean the IOPub messages a student's kernel sends before nbclient sees them.

The kernel can send anything the Jupyter protocol can carry, malformed or huge. `sanitize`
returns a message nbclient can process safely, with every text cut to a limit, or None to drop
it. It is a pure function so that it can be tested on hostile messages directly.
"""

from __future__ import annotations

import json
from typing import Any

from .limits import MESSAGE_TRACEBACK_LINES, NAME_CHARS, TEXT_CHARS

# update_display_data is dropped, and display ids with it: an update rewrites every output that
# shares the id, so one message could multiply what is stored past any per-output cap.
_OUTPUT_TYPES = {"display_data", "execute_result"}
_KEEP = {"status", "stream", "error", "clear_output", "execute_input"} | _OUTPUT_TYPES


def sanitize(msg: Any, *, text_limit: int, allowed: dict[str, int] | None = None) -> dict | None:
    """A safe copy of `msg`, or None to drop it.

    `text_limit` caps each text; `allowed`, when given, lists the only display mimetypes kept
    (with their own size limits) and drops everything else, as in the grader's probe cells.
    """
    if not isinstance(msg, dict):
        return None
    kind, content = msg.get("msg_type"), msg.get("content")
    header, parent = msg.get("header"), msg.get("parent_header")
    if kind not in _KEEP or not isinstance(content, dict) or not isinstance(header, dict) \
            or not isinstance(parent, dict):
        return None
    clean: dict[str, Any]
    if kind == "status":
        state = content.get("execution_state")
        if not isinstance(state, str):
            return None
        clean = {"execution_state": state}
    elif kind == "execute_input":
        clean = {"execution_count": _count(content.get("execution_count")), "code": ""}
    elif kind == "clear_output":
        clean = {"wait": bool(content.get("wait", False))}
    elif kind == "stream":
        text = content.get("text")
        if allowed is not None or not isinstance(text, str):
            return None
        name = content.get("name") if content.get("name") in ("stdout", "stderr") else "stdout"
        clean = {"name": name, "text": text[:text_limit]}
    elif kind == "error":
        trace = content.get("traceback")
        lines = ([str(x)[:TEXT_CHARS] for x in trace[-MESSAGE_TRACEBACK_LINES:]]
                 if isinstance(trace, list) else [])
        clean = {"ename": str(content.get("ename", ""))[:NAME_CHARS],
                 "evalue": str(content.get("evalue", ""))[:TEXT_CHARS], "traceback": lines}
    else:
        data = _data(content.get("data"), text_limit, allowed)
        if data is None:
            return None
        clean = {"data": data, "metadata": {}}
        if kind == "execute_result":
            clean["execution_count"] = _count(content.get("execution_count"))
    return {"msg_type": kind, "header": {**header, "msg_type": kind}, "parent_header": parent,
            "metadata": {}, "content": clean}


def _data(data: Any, limit: int, allowed: dict[str, int] | None) -> dict | None:
    if not isinstance(data, dict):
        return None
    out = {}
    for mime, value in data.items():
        if not isinstance(mime, str):
            continue
        if allowed is not None:
            if mime in allowed and isinstance(value, str) and len(value) <= allowed[mime]:
                out[mime] = value
            continue
        if isinstance(value, str):
            out[mime] = value[:limit]
        elif isinstance(value, (dict, list)) and mime.endswith("json"):
            try:
                if len(json.dumps(value)) <= limit:
                    out[mime] = value
            except (TypeError, ValueError, RecursionError):
                continue
    return out or None


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
