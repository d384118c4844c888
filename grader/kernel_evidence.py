# Source executed inside the student's kernel before their cells, in free-form grading; never
# imported by the grader. grader/capture.py appends the call that creates
# `__grader_evidence__` with the caps of grader/limits.py, then calls it after every cell: it
# publishes, as display data, the variables that are new or changed since the last call (small
# tensors, arrays, numbers, strings, exceptions, short tuples of them), the results the cell
# displayed (IPython's Out), and the functions the notebook defined (name, parameters); each
# function is kept under a handle so that the grader can call it later even if the notebook
# rebinds its name. Nothing here is trusted: the student's code runs between the calls and may
# have replaced anything, so the grader validates every byte that comes back.


def __grader_evidence_factory(max_items, max_text, max_chars, max_names):
    import json as _json
    import math as _math
    import sys as _sys
    import types as _types

    from IPython import get_ipython
    from IPython.display import publish_display_data as _publish

    mime = "text/x-grader-answer"
    shell = get_ipython()
    namespace = shell.user_ns
    store = {}
    namespace["__grader_functions__"] = store
    seen = {}
    functions = {}
    out_seen = set(namespace.get("Out", {}) or ()) if isinstance(namespace.get("Out"), dict) \
        else set()
    skip = {"In", "Out", "exit", "quit", "get_ipython"}

    def number(x):
        x = float(x)
        if _math.isnan(x) or _math.isinf(x):
            return {"t": "float", "v": repr(x)}
        return x

    def array(x):
        torch = _sys.modules.get("torch")
        numpy = _sys.modules.get("numpy")
        if torch is not None and type(x) in (torch.Tensor, torch.nn.Parameter):
            if x.is_complex() or x.layout != torch.strided or x.numel() > max_items:
                return None
            x = x.detach().cpu()
            dtype = str(x.dtype).replace("torch.", "")
            if dtype in ("bfloat16", "float16"):
                x = x.float()
            shape = [int(n) for n in x.shape]
            flat = x.reshape(-1).tolist()
        elif numpy is not None and type(x) is numpy.ndarray:
            if x.dtype.kind not in "biuf" or x.size > max_items:
                return None
            dtype, shape, flat = str(x.dtype), [int(n) for n in x.shape], x.reshape(-1).tolist()
        else:
            return None
        data = [number(v) if isinstance(v, float) else v for v in flat]
        return {"t": "array", "dtype": dtype, "shape": shape, "data": data}

    def encode(x, depth=0):
        kind = type(x)
        if x is None or kind is bool:
            return x
        if kind is int:
            return x if abs(x) < 2**53 else None
        if kind is float:
            return number(x)
        if kind is str:
            return x[:max_text]
        if isinstance(x, BaseException):
            return {"t": "exception", "type": kind.__name__[:200],
                    "message": BaseException.__str__(x)[:max_text]}
        if kind in (tuple, list) and depth < 2 and 0 < len(x) <= 8:
            items = [encode(v, depth + 1) for v in x]
            if any(v is None and w is not None for v, w in zip(items, x)):
                return None
            return {"t": "tuple" if kind is tuple else "list", "v": items}
        return array(x)

    def function(name, fn, cell):
        code = fn.__code__
        handle = f"{cell}:{name}"
        store[handle] = fn
        params = list(code.co_varnames[:code.co_argcount])
        defaults = len(fn.__defaults__ or ())
        star = bool(code.co_flags & 0x04)
        return {"t": "tuple", "v": ["function", name, {"t": "tuple", "v": [
            handle, {"t": "list", "v": params[:20]}, defaults, star]}]}

    def capture(cell, request_id):
        entries, used, looked = [], 0, 0
        for name in list(namespace):
            if name.startswith("_") or name in skip:
                continue  # IPython's own history (_i12, _12) grows with every cell
            looked += 1
            if looked > max_names:
                break
            value = namespace.get(name)
            if type(value) is _types.FunctionType and value.__module__ == "__main__":
                if functions.get(name) is not value:
                    functions[name] = value
                    entries.append(function(name, value, cell))
                continue
            try:
                encoded = encode(value)
            except Exception:
                encoded = None
            if encoded is None:
                seen.pop(name, None)
                continue
            text = _json.dumps(encoded)
            digest = hash(text)
            if seen.get(name) == digest:
                continue
            seen[name] = digest
            if used + len(text) > max_chars:
                continue
            used += len(text)
            entries.append({"t": "tuple", "v": ["variable", name, encoded]})
        out = namespace.get("Out")
        if isinstance(out, dict):
            for key in sorted(k for k in out if type(k) is int and k not in out_seen):
                out_seen.add(key)
                try:
                    encoded = encode(out[key])
                except Exception:
                    encoded = None
                if encoded is None:
                    continue
                text = _json.dumps(encoded)
                if used + len(text) <= max_chars:
                    used += len(text)
                    entries.append({"t": "tuple", "v": ["result", "", encoded]})
        body = {"id": request_id, "status": "ok", "value": {"t": "list", "v": entries}}
        _publish({mime: _json.dumps(body)})

    return capture
