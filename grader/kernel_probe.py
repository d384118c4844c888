# Source executed inside the student's kernel after their cells have run; never imported by
# the grader. It turns the values the pack asks for into JSON text and publishes it as display
# data (grader/extract.py appends the call that creates `__grader_probe__` with the caps of
# grader/limits.py). Nothing here is trusted: the student's code ran first and may have replaced any of it,
# so the grader validates every byte that comes back.


def __grader_probe_factory(max_items, max_text):
    import json as _json
    import math as _math
    import traceback as _tb

    from IPython import get_ipython
    from IPython.display import publish_display_data as _publish

    mime = "text/x-grader-answer"

    def number(x):
        x = float(x)
        if _math.isnan(x) or _math.isinf(x):
            return {"t": "float", "v": repr(x)}
        return x

    def encode(x, depth=0):
        if depth > 20:
            return {"t": "unsupported", "type": "nested too deeply"}
        if x is None or isinstance(x, (bool, str)):
            return x if not isinstance(x, str) or len(x) <= max_text else x[:max_text]
        if isinstance(x, int):
            return x if abs(x) < 2**53 else {"t": "unsupported", "type": "int too large"}
        if isinstance(x, float):
            return number(x)
        if isinstance(x, BaseException):
            return {"t": "exception", "type": type(x).__name__[:200], "message": str(x)[:max_text]}
        kind = type(x).__module__.split(".")[0]
        if kind in ("torch", "numpy") and hasattr(x, "shape") and hasattr(x, "dtype"):
            if kind == "torch":
                x = x.detach().cpu()
                if getattr(x, "is_complex", lambda: False)():
                    return {"t": "unsupported", "type": "complex tensor"}
                if x.layout != __import__("torch").strided:
                    x = x.to_dense()
                dtype = str(x.dtype).replace("torch.", "")
                if dtype in ("bfloat16", "float16"):
                    x = x.float()
                flat = x.reshape(-1)
            else:
                dtype = str(x.dtype)
                if x.dtype.kind not in "biuf":
                    return {"t": "unsupported", "type": f"numpy array of {dtype}"}
                flat = x.reshape(-1)
            size = 1
            for n in x.shape:
                size *= int(n)
            if size > max_items:
                return {"t": "unsupported", "type": f"array with {size} elements (too large)"}
            data = [number(v) if isinstance(v, float) else v for v in flat.tolist()]
            return {"t": "array", "dtype": dtype, "shape": [int(n) for n in x.shape], "data": data}
        if isinstance(x, (list, tuple)):
            if len(x) > max_items:
                return {"t": "unsupported", "type": "list too long"}
            return {"t": "tuple" if isinstance(x, tuple) else "list",
                    "v": [encode(v, depth + 1) for v in x]}
        if isinstance(x, dict) and all(isinstance(k, str) for k in x) and len(x) < 10_000:
            return {"t": "dict", "v": {k: encode(v, depth + 1) for k, v in x.items()}}
        return {"t": "unsupported", "type": type(x).__name__}

    def decode(x):
        if isinstance(x, dict):
            if x.get("t") == "tensor":
                import torch
                return torch.tensor(x["data"], dtype=getattr(torch, x["dtype"])).reshape(x["shape"])
            if x.get("t") == "tuple":
                return tuple(decode(v) for v in x["v"])
            if x.get("t") == "list":
                return [decode(v) for v in x["v"]]
        return x

    def safe_encode(value):
        try:
            return {"status": "ok", "value": encode(value)}
        except Exception as exc:
            return {"status": "unreadable", "message": f"{type(exc).__name__}: {exc}"[:2000]}

    def reply(request_id, body):
        _publish({mime: _json.dumps({"id": request_id, **body})})

    def answer(requests_json):
        # One reply per request, published as soon as it is ready. An interrupt or a
        # SystemExit is not caught: it ends the cell, and the grader sees which went unanswered.
        for request in _json.loads(requests_json):
            handle(request)

    def handle(request):
        rid = request["id"]
        namespace = get_ipython().user_ns
        name = request["name"]
        if name.startswith("<fn ") and name.endswith(">"):
            # A function free-form capture kept (grader/kernel_evidence.py), by its handle.
            kept = namespace.get("__grader_functions__")
            kept = kept if type(kept) is dict else {}
            if name[4:-1] not in kept:
                return reply(rid, {"status": "missing"})
            target = kept[name[4:-1]]
        elif name not in namespace:
            return reply(rid, {"status": "missing"})
        else:
            target = namespace[name]
        if request["kind"] == "value":
            return reply(rid, safe_encode(target))
        if not callable(target):
            return reply(rid, {"status": "not_callable", "message": type(target).__name__})
        args = [decode(a) for a in request["args"]]
        try:
            result = target(*args)
        except Exception as exc:  # the student's function failed: report it as data
            trace = _tb.format_exception(type(exc), exc, exc.__traceback__)
            return reply(rid, {"status": "raised", "type": type(exc).__name__[:200],
                               "message": str(exc)[:max_text],
                               "traceback": "".join(trace[-6:])[-4000:]})
        return reply(rid, safe_encode(result))

    return answer

