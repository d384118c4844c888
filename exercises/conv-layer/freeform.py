"""How the conv-layer pack finds answers in free-form notebooks (grader/freeform.py).

Vocabulary first: the exercises as the current English edition numbers them, the older and
Chinese editions' numbering, and keywords in English and Chinese.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import numpy as np

from grader.feedback import Feedback
from grader.freeform import Finding, View, renamed, short
from grader.normalize import message
from grader.prose import Vocabulary
from grader.wire import Answer, Call, RaisedError, Value

VOCABULARY = Vocabulary(
    groups={"1": ("1.1", "1.2", "1.3"), "2": ("2.1", "2.2", "2.3", "2.4"), "3": ("3",),
            "4": ("4",)},
    numberings={
        "current": {"1": "1", "1.1": "1.1", "1.2": "1.2", "1.3": "1.3", "2": "2",
                    "2.1": "2.1", "2.2": "2.2", "2.3": "2.3", "2.4": "2.4", "3": "3", "4": "4"},
        "old": {"1": "1", "1.1": "1.1", "1.2": "1.2", "1.3": "1.3", "2": "3", "3": "4",
                "4": "2", "4.1": "2.2", "4.2": "2.2", "4.3": "2.4"},
    },
    subs={"current": {"1": ("1.1", "1.2", "1.3"), "2": ("2.1", "2.2", "2.3", "2.4")},
          "old": {"1": ("1.1", "1.2", "1.3"), "4": ("2.2", "2.2", "2.4")}},
    topics={
        "1": r"diagonal|对角",
        "1.1": r"appl\w*\s+(?:the\s+)?(?:kernel\s+)?K\b|卷积核\s*K\s*应用于",
        "1.2": r"transpos\w*\s+(?:the\s+)?(?:image\s+|input\s+)?X\b|\bX\s*\.\s*T\b|\bX\.t\(\)"
               r"|转置\s*X|X\s*转置",
        "1.3": r"transpos\w*\s+(?:the\s+)?(?:kernel\s+)?K\b|\bK\s*\.\s*T\b|\bK\.t\(\)"
               r"|转置\s*K|K\s*转置",
        "2": r"design\w*(?:\s+\w+)?\s+kernels?|kernel design|手工|hand-?(?:made|designed)"
             r"|^\W*kernels\W*$",
        "2.1": r"direction|方向|orthogonal to v|edges? detector for",
        "2.2": r"second[- ](?:order[- ])?derivative|二阶导|laplac|integral|积分",
        "2.3": r"\bblur|模糊|smooth|平滑|gaussian|高斯",
        "2.4": r"(?:order|degree)[- ](?:of\s+)?d\b|derivative of (?:order|degree)|\bd[- ]?th\b"
               r"|d\s*阶|d\s*次",
        "3": r"autograd|auto-?diff|自动求导|自动微分|梯度|gradient|backward|求导",
        "4": r"matri(?:x|ces) multiplication|matrix product|matmul|矩阵乘|unfold|im2col",
    },
    prompts=(
        # the current English edition
        "Construct an image X with diagonal edges.",
        "What happens if you apply the kernel K in this section to it?",
        "What happens if you transpose X?", "What happens if you transpose K?",
        "Design some kernels manually.",
        "Given a directional vector v = (v1, v2), derive an edge-detection kernel that detects "
        "edges orthogonal to v, i.e., edges in the direction (v2, -v1).",
        "Derive a finite difference operator for the second derivative. What is the minimum "
        "size of the convolutional kernel associated with it? Which structures in images "
        "respond most strongly to it?",
        "How would you design a blur kernel? Why might you want to use such a kernel?",
        "What is the minimum size of a kernel to obtain a derivative of order d?",
        "When you try to automatically find the gradient for the Conv2D class we created, "
        "what kind of error message do you see?",
        "How do you represent a cross-correlation operation as a matrix multiplication by "
        "changing the input and kernel tensors?",
        # the older English edition
        "What is the form of a kernel for the second derivative? What is the kernel for an "
        "integral? What is the minimum size of a kernel to obtain a derivative of degree d?",
        # the Chinese edition (d2l-zh)
        "构建一个具有对角线边缘的图像X。",
        "如果将本节中举例的卷积核K应用于X，会发生什么情况？",
        "如果转置X会发生什么？", "如果转置K会发生什么？",
        "在我们创建的Conv2D自动求导时，有什么错误消息？",
        "如何通过改变输入张量和卷积核张量，将互相关运算表示为矩阵乘法？",
        "手工设计一些卷积核。",
        "二阶导数的核的形式是什么？", "积分的核的形式是什么？",
        "得到d次导数的最小核的大小是多少？",
    ),
)


# --- what to call ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Kind:
    """A function of the template, as a notebook's own function may answer it."""

    arity: int
    question: str
    hint: str
    """Names that suggest it (a regular expression, case-insensitive)."""
    forms: tuple[str, ...] = ("as given",)
    """The ways of passing the template's inputs that a student's function may expect (see
    FORMS), tried in this order."""


FORMS = {
    "as given": lambda args: args,
    "v as a tensor": lambda args: (np.asarray(args[0], dtype=np.float64),),
    "v1, v2": lambda args: tuple(args[0]),
    "size only": lambda args: args[:1],
    "swapped": lambda args: (args[1], args[0]),
}
"""How a form passes the template's arguments (a function of v may take v1 and v2 apart, or
v as a tensor; a blur may take only its size, or sigma first; a matrix product the kernel
first)."""

KINDS = {
    "edge_kernel": Kind(1, "2.1", r"edge|detect|direction|dir\b|orient|sobel|grad|边缘|"
                                  r"bianyuan|jiance", ("as given", "v as a tensor", "v1, v2")),
    "min_kernel_size": Kind(1, "2.4", r"size|order|min|最小|尺寸|zuixiao|daxiao|chicun"),
    "second_derivative_kernel": Kind(0, "2.2", r"second|deriv|lap|d2|二阶|erjie|daoshu"),
    "blur_kernel": Kind(2, "2.3", r"blur|gauss|smooth|box|mean|avg|average|模糊|平滑|高斯|"
                                  r"mohu|gaosi|pinghua", ("as given", "size only", "swapped")),
    "kernel_matrix": Kind(2, "4", r"matrix|mat\b|^w$|_w\b|^w_|make_w|unroll|toeplitz|"
                                  r"trans_kernel|kernel_to|conv_mat|weight|circulant|"
                                  r"juzhen(?!_?chengfa)"),
    "corr2d_matmul": Kind(2, "4", r"matmul|mm\b|_mm|mm_|by_mat|mat_|_mat|unfold|im2col|gemm|"
                                  r"chengfa", ("as given", "swapped")),
}
"""Names in the hints include the pinyin students use (erjie: second order, mohu: blur)."""
SECTION_FUNCTIONS = {"corr2d", "conv2d", "corr2d_multi_in", "corr2d_multi_in_out", "comp_conv2d",
                     "pool2d", "try_gpu"}
"""The section's (and book's) own functions: never an exercise's answer by themselves."""
MAX_FUNCTIONS = 40
BROKEN_CODE = {"NameError", "SyntaxError", "IndentationError", "TabError", "ImportError",
               "ModuleNotFoundError", "UnboundLocalError", "TypeError", "AttributeError"}
"""Errors of code that does not run (rather than of an answer that is wrong)."""


def _template_calls(requests) -> dict[str, list[Call]]:
    out: dict[str, list[Call]] = {k: [] for k in KINDS}
    for r in requests:
        if isinstance(r, Call) and r.name in out:
            out[r.name].append(r)
    return out


def _hinted(fn, kind: Kind) -> bool:
    return bool(re.search(kind.hint, fn.name, re.I))


def _about(view: View, fn, kind: Kind, form: str) -> bool:
    """Could `fn` be the notebook's answer of this kind? Where it is defined says so, else its
    name (the section's own functions never are); another form than the template's only where
    both say so."""
    if fn.name in SECTION_FUNCTIONS:
        return False
    label = view.label(fn.cell, fn.name)
    placed = view.within(fn.cell, kind.question, fn.name) or (
        label in view.groups and label == view.group_of(kind.question))
    if form != "as given":
        return placed or _hinted(fn, kind)
    if view.label(fn.cell, fn.name) is not None:
        return placed or _hinted(fn, kind)
    return _hinted(fn, kind) or (not view.marked and kind.arity != 2)


def plan(view: View, requests) -> list[Call]:
    """Each function of the notebook that may answer one of the template's functions, called
    with that function's inputs (drawn for this run, as in template mode)."""
    calls = _template_calls(requests)
    out = []
    for fn in view.functions()[-MAX_FUNCTIONS:]:
        for name, kind in KINDS.items():
            for form in kind.forms:
                adapted = [FORMS[form](c.args) for c in calls[name]]
                if adapted and fn.takes(len(adapted[0])) and _about(view, fn, kind, form):
                    out += [Call(fn.call_name, args, key=f"{fn.handle}|{form}|{c.key}")
                            for c, args in zip(calls[name], adapted)]
    return out


# --- finding answers ------------------------------------------------------------------------------

NOT_ASKED = {"old": ("2.1", "2.3")}
"""Questions a numbering's edition does not have: in a notebook numbered so, what looks like
evidence for them (prose, a broken function) is not an answer to them."""


def find(view: View, replies: dict, requests, reference) -> dict[str, Finding]:
    found = _find(view, replies, requests, reference)
    for q in NOT_ASKED.get(view.regions.scheme, ()):
        if found[q].state == "review":
            found[q] = Finding(q, "absent")
    return found


def _find(view: View, replies: dict, requests, reference) -> dict[str, Finding]:
    calls = _template_calls(requests)
    found: dict[str, Finding] = {}
    found.update(_diagonal(view, reference))
    found["2.1"] = _by_function(view, replies, calls, ["edge_kernel"], "2.1")
    found["2.2"] = _second_derivative(view, replies, calls)
    found["2.3"] = _blur(view, replies, calls)
    found["2.4"] = _by_function(view, replies, calls, ["min_kernel_size"], "2.4")
    found["3"] = _autograd(view, reference)
    found["4"] = _matmul(view, replies, calls, reference)
    return found


def _squeezed(value) -> np.ndarray | None:
    """A numeric array with leading axes of length 1 dropped down to 2-D, or None."""
    if not isinstance(value, np.ndarray) or value.dtype.kind not in "biuf":
        return None
    a = value.astype(np.float64)
    while a.ndim > 2 and a.shape[0] == 1:
        a = a[0]
    if a.ndim != 2 or not np.all(np.isfinite(a)):
        return None
    return a


def _arrays(view: View, *, verified: bool = True) -> list[tuple[object, np.ndarray]]:
    out = []
    for item, value in view.evidence.arrays(verified=verified):
        a = _squeezed(value)
        if a is not None:
            out.append((item, a))
    return out


def _close(actual: np.ndarray, expected: np.ndarray, printed: bool) -> bool:
    if actual.shape != expected.shape:
        return False
    scale = float(np.abs(expected).max(initial=0.0))
    tol = 1e-4 * scale + 1e-6 + (5e-5 * max(scale, 1.0) if printed else 0.0)
    return bool(np.abs(actual - expected).max(initial=0.0) <= tol)


def _review(view: View, question: str, cells_of_exercise: bool = False) -> list[str]:
    """Evidence a person must judge: prose, saved outputs re-execution does not reproduce,
    cells that fail as broken code."""
    group = view.group_of(question)

    def here(cell: int) -> bool:
        return view.in_exercise(cell, group) if cells_of_exercise else \
            view.within(cell, question)

    out = []
    prose = view.prose(question)
    if prose:
        out.append(f"prose: “{short(prose, 300)}”")
    rerun = {o.cell: o for o in view.outputs()}
    for saved in view.outputs(verified=False):
        if not here(saved.cell):
            continue
        again = rerun.get(saved.cell)
        same = again is not None and " ".join(again.text.split()) == " ".join(saved.text.split())
        if saved.error and (again is None or again.error != saved.error):
            out.append(f"cell {saved.cell + 1} has a saved error that re-running does not "
                       f"give (unverified): {saved.error[0]}: {short(saved.error[1], 120)}")
        elif saved.text.strip() and not same:
            out.append(f"cell {saved.cell + 1} has a saved output that re-running does not "
                       f"give (unverified): {short(saved.text, 160)}")
    for o in view.outputs():
        if here(o.cell) and o.error and o.error[0] in BROKEN_CODE:
            out.append(f"cell {o.cell + 1} does not run: {o.error[0]}: {short(o.error[1], 120)}")
    for cell, name, error in view.stopped_before(question):
        out.append(f"`{name}` in cell {cell + 1} never ran: the cell stopped at a {error} "
                   "before it")
    return out


def _no_answer(view: View, question: str, extra: list[str] = (), *,
               exercise: bool = False) -> Finding:
    shown = list(extra) + _review(view, question, exercise)
    return Finding(question, "review" if shown else "absent", evidence=tuple(shown))


# --- 1.1-1.3: the diagonal image and its responses --------------------------------------------

SUBS = ("1.1", "1.2", "1.3")
RESPONSE_KEYS = {"1.1": "Y_diag", "1.2": "Y_diag_Xt", "1.3": "Y_diag_Kt"}
_RESPONSE_CALL = re.compile(r"corr|conv|correlat|xcorr", re.I)


@dataclass(frozen=True)
class Shown:
    """A 2-D array the notebook showed, and the sub-question its code computes, if it says."""

    item: object
    array: np.ndarray
    hint: str | None = None


def _shown(view: View, region: bool) -> list[Shown]:
    """The 2-D arrays verified in exercise 1 (anywhere when the notebook marks no exercise 1),
    each with the sub-question its code says it computes (corr2d(X.T, K): 1.2)."""
    out, printed_at = [], {}
    per_item: dict[int, int] = {}
    hints: dict[int, tuple] = {}
    for item, value in view.evidence.arrays():
        if region and not view.in_exercise(item.cell, "1", item.name):
            continue
        a = _squeezed(value)
        k = per_item.get(id(item), 0)
        per_item[id(item)] = k + 1
        if a is None:
            continue
        if item.cell not in hints:
            hints[item.cell] = _code_hints(view.source(item.cell))
        printed, last, names = hints[item.cell]
        if item.origin == "printed":
            n = printed_at.get(item.cell, 0)
            printed_at[item.cell] = n + 1
            hint = ("printed", n)
        elif item.origin == "result":
            hint = ("last", k)
        else:
            hint = ("name", item.name)
        out.append((item, a, hint))
    count = {c: n for c, n in printed_at.items()}
    shown = []
    for item, a, (where, key) in out:
        printed, last, names = hints[item.cell]
        if where == "printed":
            hint = printed[key] if len(printed) == count[item.cell] else None
        elif where == "last":
            hint = last[key] if key < len(last) else None
        else:
            hint = names.get(key)
        shown.append(Shown(item, a, hint))
    return shown


def _code_hints(source: str) -> tuple[list, list, dict]:
    """What a cell's code says about the responses it shows: the sub-question of each array it
    prints (in order), of each its last expression displays, and of each name it assigns."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return [], [], {}
    printed, last, names = [], [], {}
    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            sub = _sub_of(stmt.value)
            for t in stmt.targets:
                if isinstance(t, ast.Name) and sub:
                    names[t.id] = sub
        elif isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call) and \
                _call_name(stmt.value.func) == "print":
            printed += [_sub_of(a) for a in stmt.value.args
                        if not (isinstance(a, ast.Constant) and isinstance(a.value, str))]
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        value = tree.body[-1].value
        if not (isinstance(value, ast.Call) and _call_name(value.func) == "print"):
            last = [_sub_of(e) for e in value.elts] if isinstance(value, ast.Tuple) else \
                [_sub_of(value)]
    return printed, last, names


def _call_name(func) -> str:
    return func.attr if isinstance(func, ast.Attribute) else \
        func.id if isinstance(func, ast.Name) else ""


def _sub_of(expr) -> str | None:
    """1.1, 1.2 or 1.3 for an expression computing a response (which operand is transposed)."""
    for n in ast.walk(expr):
        if isinstance(n, ast.Call) and len(n.args) >= 2 and \
                _RESPONSE_CALL.search(_call_name(n.func)):
            return "1.3" if _transposed(n.args[1]) else "1.2" if _transposed(n.args[0]) \
                else "1.1"
    return None


def _transposed(node) -> bool:
    for n in ast.walk(node):
        if isinstance(n, ast.Attribute) and n.attr in ("T", "mT"):
            return True
        if isinstance(n, ast.Call) and _call_name(n.func) in ("t", "transpose", "permute",
                                                              "swapaxes"):
            return True
    return False


def _diagonal(view: View, reference) -> dict[str, Finding]:
    K = reference.K
    region = any(view.in_exercise(c, "1") for c in view.regions.labels) or any(
        view.group_of(q) == "1" for q in view.regions.prose)
    shown = _shown(view, region)
    images = [s for s in shown if 3 <= min(s.array.shape) and max(s.array.shape) <= 128]
    kernels = [K] + _student_kernels(view, K)
    best = _best_image(view, images, shown, kernels, reference, any_image=region)
    # a diagonal image here whose shown responses are all wrong is answered here, wrongly
    attempted = best is not None and best[0][0] == 0 and best[0][1] and any(
        _attempt(view, q, best[1], shown, set()) is not None for q in SUBS)
    if region and (best is None or best[0][0] == 0) and not attempted:
        # exercise 1's code may sit after a cell listing every exercise (so labelled
        # otherwise): a diagonal image with its responses anywhere still answers it
        everywhere = _shown(view, False)
        wide = _best_image(view, [s for s in everywhere if 3 <= min(s.array.shape) and
                                  max(s.array.shape) <= 128], everywhere, kernels, reference,
                           any_image=False)
        if wide is not None and wide[0][0] > 0:
            best, shown = wide, everywhere
    out: dict[str, Finding] = {}
    if best is None or (best[0][0] == 0 and not attempted):
        extra = [f"an image in cell {best[1].item.cell + 1} ({_shape(best[1].array)}), but "
                 "no response of it under K"] if best is not None else []
        for q in SUBS:
            out[q] = _no_answer(view, q, extra if q == "1.1" else [], exercise=True)
        return out
    _, image_shown, matched = best
    X = image_shown.array
    image = Answer(Value("X_diag"), "ok", value=X)
    where = f"the image in cell {image_shown.item.cell + 1} ({_shape(X)}"
    where += f", `{image_shown.item.name}`)" if image_shown.item.name else ")"
    used = {id(m[0]) for m in matched.values()}
    for q in SUBS:
        if q not in matched:
            attempt = _attempt(view, q, image_shown, shown, used)
            if attempt is not None:
                matched[q] = attempt
        if q in matched:
            s, how = matched[q]
            key = RESPONSE_KEYS[q]
            out[q] = Finding(q, "judge", {"X_diag": image, key: Answer(Value(key), "ok",
                                                                        value=s.array)},
                             evidence=(where, f"{how} in cell {s.item.cell + 1}"))
        else:
            out[q] = _no_answer(view, q, exercise=True)
    return out


def _best_image(view: View, images: list[Shown], shown: list[Shown], kernels, reference, *,
                any_image: bool):
    """(score, image, its responses) of the image with most responses found (a diagonal one
    first among equals); only diagonal images unless `any_image`."""
    best = None
    for s in images:
        diagonal = reference.diagonal_edge_problem(s.array) is None
        if not any_image and not diagonal:
            continue  # outside a marked exercise only a diagonal image is taken as an answer
        matched = _responses(view, s, shown, kernels, reference)
        # among images with responses the latest wins (a redefined X); without, the earliest
        # (a response of a diagonal image is a diagonal line image itself)
        score = (len(matched), diagonal, s.item.cell if matched else -s.item.cell)
        if best is None or score > best[0]:
            best = (score, s, matched)
    return best


def _attempt(view: View, q: str, image: Shown, shown: list[Shown], used: set[int]):
    """An array shown as the answer to `q` (under its own heading or number, or computed as
    its code says), after the image, that is no response of it: the student's wrong answer."""
    X = image.array
    h, w = X.shape
    shape = {"1.1": (h, w - 1), "1.2": (w, h - 1), "1.3": (h - 1, w)}[q]
    for s in shown:
        if id(s) in used or s is image or s.item.cell < image.item.cell:
            continue
        label = view.label(s.item.cell, s.item.name)
        said = label if label in SUBS else s.hint
        # unsaid (a helper of its own name), in exercise 1: the next array of q's shape
        if said != q and (said is not None or s.array.shape != shape) or min(s.array.shape) < 2:
            continue
        if any(s.array.shape == b.shape and np.allclose(s.array, b) for b in (X, X.T)):
            continue
        used.add(id(s))
        return s, "an array shown as the answer"
    return None


def _shape(a: np.ndarray) -> str:
    return "x".join(str(n) for n in a.shape)


def _student_kernels(view: View, K: np.ndarray) -> list[np.ndarray]:
    """1x2 kernels the notebook holds other than the section's (a reversed K makes every
    response wrong, so responses under it are the student's answers too)."""
    out = []
    for item, a in _arrays(view):
        if item.origin == "variable" and a.shape == K.shape and not np.allclose(a, K) and \
                np.ptp(a) > 0 and not any(np.array_equal(a, b) for b in out):
            out.append(a)
    return out[:4]


def _responses(view: View, image: Shown, shown: list[Shown], kernels, reference) -> dict:
    """Sub-question -> (shown array, how) for responses of the image found among `shown`:
    under the section's K first, then under the student's own 1x2 kernels. Each array answers
    one sub-question: first one the notebook says answers it (its heading, number or code),
    then one shown for the exercise as a whole, then one said to answer another sub-question
    whose own answer is elsewhere (a cell printing several)."""
    X = image.array
    expected = []
    for k, Kc in enumerate(kernels):
        label = "K" if k == 0 else f"the notebook's kernel {Kc.tolist()}"
        for q, im, kernel, how in (("1.1", X, Kc, f"corr2d(X, {label})"),
                                   ("1.2", X.T, Kc, f"corr2d(X.T, {label})"),
                                   ("1.3", X, Kc.T, f"corr2d(X, {label}.T)")):
            try:
                expected.append((q, reference.corr2d(im, kernel), how))
            except ValueError:
                continue
    out: dict = {}
    used: set[int] = set()
    for rank in (0, 1, 2):
        for q, E, how in expected:
            if q in out:
                continue
            for s in shown:
                if id(s) in used or s is image or \
                        not _close(s.array, E, s.item.origin == "printed"):
                    continue
                label = view.label(s.item.cell, s.item.name)
                said = {label} if label in SUBS else {s.hint} & set(SUBS)
                level = 0 if q in said else 2 if said else 1
                if level != rank or (level == 2 and not said <= set(out)):
                    continue
                used.add(id(s))
                out[q] = (s, how)
                break
    return out


# --- functions (2.1, 2.4, 4) ------------------------------------------------------------------

def _replies(replies: dict, fn, calls: list[Call], form: str = "as given") -> list[Answer]:
    """fn's replies to the template's calls (passed in `form`), as answers to those calls."""
    out = []
    for c in calls:
        r = replies.get(f"{fn.handle}|{form}|{c.key}")
        if r is None:
            return []
        out.append(Answer(c, r.status, r.value, r.message, r.traceback))
    return out


def _fits(name: str, answers: list[Answer]) -> bool:
    """Do the replies look like answers of this kind (right type and size)?"""
    ok = [a for a in answers if a.ok]
    if not ok:
        return False
    for a in ok:
        v = a.value
        if isinstance(v, (list, tuple)) and name != "min_kernel_size":
            try:  # nested lists of numbers read as an array, as the checks read them
                v = np.asarray(v, dtype=np.float64)
            except (ValueError, TypeError):
                return False
        arr = np.asarray(v, dtype=object) if not isinstance(v, np.ndarray) else v
        if name == "min_kernel_size":
            if isinstance(v, (bool, str)) or v is None or \
                    (isinstance(v, np.ndarray) and v.size > 2) or \
                    (isinstance(v, (list, tuple)) and len(v) > 2):
                return False
        elif name in ("edge_kernel", "blur_kernel", "second_derivative_kernel"):
            if not isinstance(v, np.ndarray) or v.size < 2 or arr.dtype.kind not in "biuf":
                return False
            if name != "second_derivative_kernel" and v.ndim < 2:
                return False  # a kernel is 2-D (a function of d given v as a tensor is not)
            if name == "blur_kernel" and int(a.args[0]) not in v.shape:
                return False  # not of the size asked for: another reading of the arguments
        elif name == "kernel_matrix":
            K, (h, w) = a.args
            oh, ow = h - K.shape[0] + 1, w - K.shape[1] + 1
            if not isinstance(v, np.ndarray) or v.size != oh * ow * h * w:
                return False
        elif name == "corr2d_matmul":
            X, K = a.args
            size = (X.shape[0] - K.shape[0] + 1) * (X.shape[1] - K.shape[1] + 1)
            if not isinstance(v, np.ndarray) or v.size != size:
                return False
    return True


def _candidates(view: View, replies: dict, calls: dict, name: str):
    """(function, its answers, fits, place, hinted, form) for every function called as `name`
    (in the first form it fits), best first."""
    kind = KINDS[name]
    found = []
    for fn in view.functions():
        tried = [(form, _replies(replies, fn, calls[name], form)) for form in kind.forms]
        tried = [(form, answers) for form, answers in tried if answers]
        if not tried:
            continue
        form, answers = next(((f, a) for f, a in tried if _fits(name, a)), tried[0])
        label = view.label(fn.cell, fn.name)
        if label is not None and label not in view.groups and label != kind.question \
                and not _hinted(fn, kind):
            continue  # defined for another question (2.1's helper is no answer to 2.4)
        place = 2 if label == kind.question else \
            1 if view.in_exercise(fn.cell, view.group_of(kind.question), fn.name) else 0
        found.append((fn, answers, _fits(name, answers), place, _hinted(fn, kind), form))
    found.sort(key=lambda f: (f[2], f[3], f[4], f[0].cell), reverse=True)
    return found


def _taken(view: View, replies: dict, calls: dict, name: str, others: list[str]):
    """The best function of kind `name` that is not a better fit of another kind: (function,
    answers, form) or None."""
    for fn, answers, fits, place, hinted, form in _candidates(view, replies, calls, name):
        if not fits:
            return None
        better = False
        for other in others:
            for ofn, _, ofits, oplace, ohinted, _ in _candidates(view, replies, calls, other):
                if ofn.handle == fn.handle and ofits and (oplace, ohinted) > (place, hinted):
                    better = True
        if not better:
            return fn, answers, form
    return None


def _broken(view: View, replies: dict, calls: dict, names: list[str], question: str
            ) -> list[str]:
    """Functions about `question` that raised on every input of its kinds: code that does not
    run, for the instructor."""
    out = []
    for fn in view.functions():
        if not view.within(fn.cell, question, fn.name) and not any(
                _hinted(fn, KINDS[n]) for n in names):
            continue
        tried = [a for n in names for form in KINDS[n].forms
                 for a in _replies(replies, fn, calls[n], form)]
        anything = [a for k, a in replies.items() if k.startswith(f"{fn.handle}|")]
        if tried and all(a.status in ("raised", "timeout", "kernel_died") for a in anything):
            first = tried[0]
            out.append(f"`{fn.name}` (cell {fn.cell + 1}) does not run: it raised "
                       f"{first.value or first.status}: {short(first.message, 120)}")
    return out


def _function_finding(question: str, name: str, fn, answers: list[Answer],
                      form: str = "as given") -> Finding:
    params = ", ".join(fn.params)
    passed = "" if form == "as given" else f" ({form})"
    shown = (f"`{fn.name}({params})` defined in cell {fn.cell + 1}, called with the grader's "
             f"inputs as `{name}`{passed}",)
    source = renamed(fn.source, fn.name, name) if fn.source and fn.name != name else ""
    return Finding(question, "judge", {a.request.key: a for a in answers}, shown,
                   (source,) if source else ())


def _by_function(view: View, replies: dict, calls: dict, names: list[str], question: str
                 ) -> Finding:
    others = [n for n in KINDS if n not in names]
    for name in names:
        taken = _taken(view, replies, calls, name, others)
        if taken:
            return _function_finding(question, name, *taken)
    return _no_answer(view, question, _broken(view, replies, calls, names, question))


# --- 2.2 and 2.3: kernels in variables too ----------------------------------------------------

def _kernel_variables(view: View, question: str, hint: str) -> list[tuple[object, np.ndarray]]:
    """Small kernels the notebook assigned where `question` is answered (or named so)."""
    out = []
    for item, value in view.evidence.arrays():
        if item.origin != "variable":
            continue
        a = np.asarray(value, dtype=np.float64)
        while a.ndim > 2 and a.shape[0] == 1:
            a = a[0]
        if a.ndim not in (1, 2) or a.size < 2 or max(a.shape) > 7 or not np.all(np.isfinite(a)):
            continue
        label = view.label(item.cell, item.name)
        named = bool(re.search(hint, item.name, re.I))
        if label == question or (named and (label is None or view.group_of(label) ==
                                            view.group_of(question))):
            out.append((item, a, label == question, named))
    out.sort(key=lambda t: (t[2] and t[3], t[2], t[3], t[0].cell))
    return [(item, a) for item, a, _, _ in out]


def _second_derivative(view: View, replies: dict, calls: dict) -> Finding:
    fn = _taken(view, replies, calls, "second_derivative_kernel", [])
    base = None
    if fn:
        base = _function_finding("2.2", "second_derivative_kernel", *fn)
    else:
        kernels = [(i, a) for i, a in _kernel_variables(view, "2.2", KINDS[
            "second_derivative_kernel"].hint + r"|k2|stencil") if a.size <= 9 or a.ndim == 2]
        if kernels:
            item, W = kernels[-1]
            req = next(c for c in calls["second_derivative_kernel"]) if \
                calls["second_derivative_kernel"] else Call("second_derivative_kernel")
            base = Finding("2.2", "judge", {req.key: Answer(req, "ok", value=W)},
                           (f"`{item.name}` = {W.tolist()} (cell {item.cell + 1})",))
    if base is None:
        return _no_answer(view, "2.2", _broken(view, replies, calls,
                                               ["second_derivative_kernel"], "2.2"))
    size = _min_size(view)
    if size is None:
        prose = view.prose("2.2")
        return Finding("2.2", "judge", base.answers, base.evidence + (
            (f"minimum size in prose: “{short(prose, 200)}”",) if prose else ()),
            base.source, complete=False)
    item, value = size
    answers = {**base.answers, "second_derivative_min_size": Answer(
        Value("second_derivative_min_size"), "ok", value=value)}
    return Finding("2.2", "judge", answers, base.evidence + (
        f"`{item.name}` = {value} (cell {item.cell + 1})",), base.source)


def _min_size(view: View):
    for item in reversed(view.items()):
        if item.origin != "variable" or not re.search(r"size|min|最小", item.name, re.I):
            continue
        label = view.label(item.cell, item.name)
        if label != "2.2" and not re.search(r"second|deriv|d2", item.name, re.I):
            continue
        if isinstance(item.value, (int, float, tuple, list)) and not isinstance(item.value,
                                                                                bool):
            return item, item.value
    return None


def _blur(view: View, replies: dict, calls: dict) -> Finding:
    found = _by_function(view, replies, calls, ["blur_kernel"], "2.3")
    if found.state == "judge" or found.evidence and "does not run" in " ".join(found.evidence):
        return found
    kernels = [(i, a) for i, a in _kernel_variables(view, "2.3", KINDS["blur_kernel"].hint)
               if a.ndim == 2]
    if not kernels:
        return found
    item, W = kernels[-1]
    answers = {c.key: Answer(Call("blur_kernel", (W.shape[0], c.args[1]), key=c.key), "ok",
                             value=W) for c in calls["blur_kernel"]}
    return Finding("2.3", "judge", answers, (
        f"a fixed kernel `{item.name}` ({_shape(W)}, cell {item.cell + 1}), judged as the "
        "blur for its own size",))


# --- 3: the autograd error --------------------------------------------------------------------

def _autograd(view: View, reference) -> Finding:
    """The message of an error a cell raised, printed or kept, in exercise 3 or in a cell
    asking autograd for a gradient; the first one that is the expected message, else (in
    exercise 3 when the notebook marks it) the first error as the student's answer."""
    inner = {c for c in view.regions.labels if view.in_exercise(c, "3")}
    outer = {i for i, src in enumerate(view.sources) if i not in inner
             and re.search(r"\.backward\(|autograd\.grad\(", src)}
    found = {True: _messages(view, inner), False: _messages(view, outer)}
    expected = list(reference.autograd_errors()) if hasattr(reference, "autograd_errors") \
        else []
    for value, where in found[True][0] + found[False][0]:
        for variant in _variants(value):
            if _matches(variant, expected):
                return Finding("3", "judge", {"autograd_error": Answer(
                    Value("autograd_error"), "ok", value=variant)},
                    (f"{where}: {short(str(variant), 200)}",))
    candidates, broken = found[bool(inner)]
    if candidates and not broken:
        value, where = candidates[0]
        return Finding("3", "judge", {"autograd_error": Answer(
            Value("autograd_error"), "ok", value=_variants(value)[-1])},
            (f"{where}: {short(str(value), 200)}",))
    return _no_answer(view, "3", broken)


def _messages(view: View, cells: set[int]) -> tuple[list, list[str]]:
    """(candidate messages with where they are, cells that fail as broken code) in `cells`:
    errors raised, exceptions kept, lines printed by a cell that catches or names an error."""
    candidates: list[tuple[object, str]] = []
    broken = []
    for o in view.outputs():
        if o.cell in cells and o.error:
            if o.error[0] in BROKEN_CODE:
                broken.append(f"cell {o.cell + 1} does not run: {o.error[0]}: "
                              f"{short(o.error[1], 120)}")
            else:
                candidates.append((RaisedError(*o.error), f"the error cell {o.cell + 1} "
                                   "raises"))
    for item in view.items():
        if item.cell in cells and item.origin != "error":
            for exc in _exceptions(item.value):
                candidates.append((exc, f"the exception in `{item.name or 'a result'}` "
                                   f"(cell {item.cell + 1})"))
    for o in view.outputs():
        if o.cell not in cells:
            continue
        source = view.source(o.cell)
        catches = "except" in source
        lines = [line.strip() for line in o.text.splitlines()[:50]
                 if line.strip() and (catches or re.search(r"error|exception", line, re.I))]
        typed = list(dict.fromkeys(line for line in lines if line in source))
        if not catches and not re.search(r"\.backward\(|autograd\.grad\(", source) and \
                len(typed) > 1:
            # Several messages typed in a cell that runs nothing that could raise: guesses,
            # judged together (a list of guesses is not an answer), never one at a time.
            candidates.append((typed, f"printed by cell {o.cell + 1}"))
            lines = [line for line in lines if line not in typed]
        candidates += [(line, f"printed by cell {o.cell + 1}") for line in lines]
    return candidates, broken


def _exceptions(value) -> list[RaisedError]:
    if isinstance(value, RaisedError):
        return [value]
    if isinstance(value, (list, tuple)):
        return [e for v in value for e in _exceptions(v)]
    return []


def _variants(value) -> list:
    """A message as given, and without a label before it ("Error: ...", "报错信息: ...",
    "RuntimeError grad can ...", "Ex3 RuntimeError('grad can ...')")."""
    if isinstance(value, (RaisedError, list)):
        return [value]
    out = [value]
    text = value
    for _ in range(3):
        match = re.match(r"^[^:：]{1,40}[:：]\s*(.+)$", text)
        if not match:
            break
        text = match.group(1).strip()
        out.append(text)
    match = re.match(r"^([A-Za-z_][\w.]*(?:Error|Exception))\s+(.+)$", value)
    if match:
        out.append(match.group(2))
    match = re.search(r"([A-Za-z_][\w.]*(?:Error|Exception))\((['\"])(.+)\2,?\)\W*$", value)
    if match:  # the repr of an exception: RuntimeError('...')
        out.append(RaisedError(match.group(1), match.group(3)))
    return out


def _matches(value, expected) -> bool:
    try:
        said = message(value, "autograd_error")
    except Feedback:
        return False
    return any(said.same_as(etype, text) for _, etype, text in expected)


# --- 4: matrix multiplication ----------------------------------------------------------------

def _matmul(view: View, replies: dict, calls: dict, reference) -> Finding:
    answers, shown, source = {}, [], []
    for name in ("kernel_matrix", "corr2d_matmul"):
        taken = _taken(view, replies, calls, name, [n for n in KINDS if n != name])
        if taken:
            f = _function_finding("4", name, *taken)
            answers.update(f.answers)
            shown += f.evidence
            source += f.source
    if answers:
        return Finding("4", "judge", answers, tuple(shown), tuple(source))
    broken = _broken(view, replies, calls, ["kernel_matrix", "corr2d_matmul"], "4")
    if not broken:
        inline = _inline_matmul(view, reference)
        if inline is not None:
            return inline
    return _no_answer(view, "4", broken)


def _inline_matmul(view: View, reference) -> Finding | None:
    """A product computed in a cell (not a function) of exercise 4 whose result is corr2d of
    the notebook's own image and kernel at that point."""
    for item, Y in _arrays(view):
        source = view.source(item.cell)
        if not view.in_exercise(item.cell, "4") or not re.search(
                r"@|\bmatmul\(|\.mm\(|\.mv\(|einsum\(", source):
            continue
        before = [(i, a) for i, a in _arrays(view) if i.origin == "variable"
                  and i.cell <= item.cell and i is not item]
        for xi, X in before:
            for ki, Kc in before:
                if Kc.shape[0] > X.shape[0] or Kc.shape[1] > X.shape[1] or Kc.size > 25 \
                        or ki is xi:
                    continue
                E = reference.corr2d(X, Kc)
                if E.shape == Y.shape and _close(Y, E, item.origin == "printed"):
                    answers = {"corr2d_matmul#inline": Answer(
                        Call("corr2d_matmul", (X, Kc), key="corr2d_matmul#inline"), "ok",
                        value=Y)}
                    return Finding("4", "judge", answers, (
                        f"a matrix product in cell {item.cell + 1} giving corr2d of "
                        f"`{xi.name}` and `{ki.name}` (computed inline, no function)",))
    return None
