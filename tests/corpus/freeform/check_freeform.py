"""Execute the free-form corpus and re-derive its right/wrong verdicts (a check on the corpus,
not a grader).

    .venv/bin/python tests/corpus/freeform/check_freeform.py [-v] [NAME ...]

For each notebook built by make_freeform.py it
1. runs the notebook top to bottom with nbclient in a fresh kernel of this Python (errors do not
   stop the run), with shell and pip magic lines (`!pip ...`, `%pip ...`) replaced by `pass`,
   as grading is meant to treat them;
2. compares the cells that raised, and their exception names, with
   metadata["grader_test"]["expected_errors"];
3. evaluates each cell's probe (make_freeform.code(probe=...)) in a cell inserted right after
   it, and judges what comes back with the pack's reference solution and check helpers; every
   question whose expected verdict is right or wrong must have a probe that agrees with it, and
   no probe may exist for a question expected review or absent.

The kernel needs the course's packages: d2l (installed with --no-deps), torchvision matching
torch, pandas, scipy, matplotlib (see README.md). Exit status 0 when everything agrees.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import sys
import tempfile
from pathlib import Path

import numpy as np
from nbclient import NotebookClient
from nbformat.v4 import new_code_cell

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


make = _load("make_freeform", HERE / "make_freeform.py")
ref = _load("conv_layer_solution", ROOT / "reference" / "conv-layer" / "solution.py")
kernels = _load("conv_layer_test_kernels", ROOT / "exercises" / "conv-layer" / "checks"
                / "test_kernels.py")
sys.path.insert(0, str(ROOT))
from grader.feedback import Feedback  # noqa: E402
from grader.normalize import message as read_message  # noqa: E402

MAGIC = re.compile(r"^(\s*)(!|%pip\b|%conda\b|%%bash\b|%%sh\b)")

HELPERS = r'''
import json as __json

def __probe(q, **kw):
    import numpy as np
    import torch

    def conv(v):
        if isinstance(v, torch.Tensor):
            return v.detach().to(torch.float64).tolist()
        if isinstance(v, np.ndarray):
            return v.astype(float).tolist()
        if isinstance(v, (list, tuple)):
            return [conv(x) for x in v]
        if v is None or isinstance(v, (bool, int, float, str)):
            return v
        return repr(v)

    print("__PROBE__" + __json.dumps({"q": q, "data": {k: conv(v) for k, v in kw.items()}}))


def __calls(kind, fn):
    import torch
    g = torch.Generator().manual_seed(0)
    out = []
    if kind == "edge":
        for v in [(0.9, 0.3), (-0.4, 1.2), (-1.1, -0.5), (0.6, -1.7)]:
            out.append([list(v), fn(v)])
    elif kind == "blur":
        for size, sigma in [(3, 1.0), (5, 0.8), (7, 2.0)]:
            out.append([[size, sigma], fn(size, sigma)])
    elif kind == "size":
        for d in [1, 2, 3, 7, 20]:
            out.append([d, fn(d)])
    else:
        for h, w, kh, kw in [(5, 7, 2, 3), (6, 6, 1, 2), (4, 8, 3, 1), (7, 5, 2, 2)]:
            X = torch.randint(-4, 5, (h, w), generator=g).float()
            K = torch.randint(-3, 4, (kh, kw), generator=g).float()
            if kind == "matmul":
                out.append([X, K, fn(X, K)])
            else:
                out.append([K, [h, w], fn(K, (h, w))])
    return out
'''


# --- judging ---------------------------------------------------------------------------------

def arr(x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    return a


def same(actual, expected) -> bool:
    a, e = arr(actual), arr(expected)
    return a.shape == e.shape and bool(np.allclose(a, e, rtol=1e-4, atol=1e-5))


def judge(q: str, data: dict) -> list[tuple[str, bool, str]]:
    """(question, passed, what) for every item a probe reported."""
    rng = np.random.default_rng(0)
    found = []
    if "X" in data:
        X = arr(data["X"])
        problem = ref.diagonal_edge_problem(X)
        K = ref.K
        for key, qq, expected in (("Y_K", "1.1", lambda: ref.corr2d(X, K)),
                                  ("Y_XT", "1.2", lambda: ref.corr2d(X.T, K)),
                                  ("Y_KT", "1.3", lambda: ref.corr2d(X, K.T))):
            if key in data:
                found.append((qq, same(data[key], expected()), key))
        if q == "1.1" or "Y_K" in data:
            found.append(("1.1", problem is None, f"diagonal: {problem or 'yes'}"))
    if "edge" in data:
        calls = [(tuple(v), arr(W)) for v, W in data["edge"]]
        plain = [kernels.edge_behaviour(W, v, ref, "edge") for v, W in calls]
        swapped = [kernels.edge_behaviour(W, v[::-1], ref, "edge") for v, W in calls]
        ok = not any(plain) or not any(swapped)
        found.append(("2.1", ok, next((p for p in plain if p), "edge kernel fine")))
    if "second" in data:
        W = arr(data["second"])
        W = W[None, :] if W.ndim == 1 else W
        ok = False
        for fn in kernels.SECOND_DERIVATIVES.values():
            good = True
            for _ in range(4):
                a, b, c, d, e, f = rng.integers(-3, 4, size=6).astype(float)
                a, c = a or 1.0, c or -2.0
                x, y = kernels.grid(W, rng)
                q = a * x**2 + b * x * y + c * y**2 + d * x + e * y + f
                good &= kernels.exact(ref.corr2d(q, W), fn(a, c), q)
            ok |= bool(good)
        found.append(("2.2", ok, "second-derivative kernel"))
    if "min_size" in data:
        found.append(("2.2", data["min_size"] == 3, f"min size {data['min_size']}"))
    for key in ("blur", "blur_fixed"):
        if key in data:
            items = data[key] if key == "blur" else [[None, data[key]]]
            ok = True
            for args, W in items:
                W = arr(W)
                if args is not None and W.shape != (args[0], args[0]):
                    ok = False
                noise = rng.normal(size=(64, 64))
                ok &= bool(W.min() >= -1e-7 and abs(W.sum() - 1) <= 1e-4
                           and ref.corr2d(noise, W).var() / noise.var() <= 0.9)
            found.append(("2.3", ok, key))
    if "size" in data:
        ok = all(np.array_equal(np.sort(np.ravel(s)), [1, d + 1]) if np.size(s) == 2
                 else float(s) == d + 1 for d, s in data["size"])
        found.append(("2.4", ok, f"sizes {[s for _, s in data['size']]}"))
    if "matmul" in data:
        ok = all(same(Y, ref.corr2d(arr(X), arr(K))) for X, K, Y in data["matmul"])
        found.append(("4", ok, "matmul function"))
    if "kmatrix" in data:
        ok = all(same(W, ref.kernel_matrix(arr(K), tuple(shape)))
                 for K, shape, W in data["kmatrix"])
        found.append(("4", ok, "kernel matrix function"))
    if "inline_matmul" in data:
        X, K, Y = data["inline_matmul"]
        found.append(("4", same(Y, ref.corr2d(arr(X), arr(K))), "inline matmul"))
    if "message" in data:
        ok = False
        for line in [data["message"] or ""] + (data["message"] or "").splitlines():
            for part in [line] + [line.split(sep, 1)[1] for sep in (":", "：", " ")
                                  if sep in line]:
                try:
                    said = read_message(part.strip(), "message")
                except Feedback:
                    continue
                ok |= any(said.same_as(t, m) for _, t, m in ref.autograd_errors())
        found.append(("3", ok, f"message {data['message']!r:.90}"))
    return found


# --- running ---------------------------------------------------------------------------------

def text_of(outputs) -> str:
    parts = []
    for o in outputs:
        if o.output_type == "stream":
            parts.append(o.text)
        elif o.output_type == "execute_result":
            parts.append(o.data.get("text/plain", ""))
    return "".join(parts)


def run(entry: dict) -> tuple[list[str], dict]:
    """Problems found (empty when the notebook behaves as recorded), and a summary."""
    nb, probes = make.build(entry)
    expected = nb.metadata["grader_test"]["freeform_expected"]
    want_errors = {(e["cell"], e["ename"]) for e in nb.metadata["grader_test"]["expected_errors"]}
    run_nb = copy.deepcopy(nb)
    for cell in run_nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.source = "\n".join(MAGIC.sub(r"\1pass  # skipped: ", line) if MAGIC.match(line)
                                    else line for line in cell.source.splitlines())
    # insert the helper cell first and one probe cell after each probed cell
    position = {}
    cells = [new_code_cell(HELPERS)]
    probe_at = dict(probes)
    probe_cells = {}
    for i, cell in enumerate(run_nb.cells):
        position[i] = len(cells)
        cells.append(cell)
        code = probe_at.get(i)
        if code and not code.startswith("@"):
            probe_cells[i] = len(cells)
            cells.append(new_code_cell(code))
    run_nb.cells = cells
    with tempfile.TemporaryDirectory() as tmp:
        NotebookClient(run_nb, timeout=120, allow_errors=True, kernel_name="python3",
                       resources={"metadata": {"path": tmp}}).execute()
    problems = []
    got_errors = set()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for o in run_nb.cells[position[i]].outputs:
            if o.output_type == "error":
                got_errors.add((i, o.ename))
    for i, ename in sorted(got_errors - want_errors):
        problems.append(f"cell {i} raised {ename} (not intended): "
                        + next(o.evalue for o in run_nb.cells[position[i]].outputs
                               if o.output_type == "error")[:200])
    for i, ename in sorted(want_errors - got_errors):
        problems.append(f"cell {i} was meant to raise {ename} but did not")
    judged: dict[str, list[tuple[bool, str]]] = {}
    for i, code in probes:
        if code.startswith("@"):
            kind, q = code[1:].split()
            outputs = run_nb.cells[position[i]].outputs
            if kind == "error":
                message = next((f"{o.ename}: {o.evalue}" for o in outputs
                                if o.output_type == "error"), "")
            else:
                message = text_of(outputs)
            records = [{"q": q, "data": {"message": message}}]
        else:
            pcell = run_nb.cells[probe_cells[i]]
            for o in pcell.outputs:
                if o.output_type == "error":
                    problems.append(f"probe after cell {i} failed: {o.ename}: {o.evalue[:200]}")
            records = [json.loads(line[len("__PROBE__"):])
                       for line in text_of(pcell.outputs).splitlines()
                       if line.startswith("__PROBE__")]
        for rec in records:
            for q, ok, what in judge(rec["q"], rec["data"]):
                judged.setdefault(q, []).append((ok, what))
    summary = {}
    for q in make.QUESTIONS:
        want = expected[q]
        if q in judged:
            got = "right" if all(ok for ok, _ in judged[q]) else "wrong"
            summary[q] = got
            if want in ("review", "absent"):
                problems.append(f"{q}: a probe judged it ({got}) but the verdict is {want}")
            elif got != want:
                detail = "; ".join(w for ok, w in judged[q] if not ok) or "all checks passed"
                problems.append(f"{q}: expected {want}, the reference says {got} ({detail})")
        elif want in ("right", "wrong") and probes:
            problems.append(f"{q}: expected {want} but no probe checks it")
    details = {q: [w for ok, w in items if not ok] for q, items in judged.items()}
    return problems, {"errors": sorted(got_errors), "judged": summary, "why": details}


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    argv = [a for a in argv if a != "-v"]
    entries = [e for e in make.NOTEBOOKS if not argv or e["name"] in argv]
    failed = 0
    for entry in entries:
        problems, summary = run(entry)
        errors = ", ".join(f"{i}:{e}" for i, e in summary["errors"]) or "none"
        status = "ok  " if not problems else "FAIL"
        print(f"{status} {entry['name']}: error cells {errors}; judged "
              + " ".join(f"{q}={v}" for q, v in summary["judged"].items()))
        for p in problems:
            print(f"      {p}")
        if verbose:
            for q, why in summary["why"].items():
                if why:
                    print(f"      {q} wrong: {'; '.join(why)}")
        failed += bool(problems)
    print(f"{len(entries) - failed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
