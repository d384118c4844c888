"""`grader audit PACK`: attack a pack's own checks with wrong answers made from its model
solution, and report every wrong answer that still earns points.

The model solution runs once in a sandboxed kernel, with the pack's probes plus extra calls
(each function called with one argument taken from another call, as a function that ignores
that argument would answer). Its answers are then mutated one kind at a time, for one answer
at a time, and judged by the pack's checks (public and hidden) in this process:

- every answer: zeros, ones, a constant, negated, scaled by 1e-6 and by 1e6, transposed, NaN,
  inf, cast to integers, wrong shape, random of the right shape (for text: empty, another
  message, cut in half, shuffled);
- every function, besides: hard-coding the answer to its first probe input, and ignoring each
  argument.

A mutant must lose points on a question that depends on the answer (the questions that lose
points when the answer is missing), unless pack.toml declares it acceptable, with a reason:

    [[acceptable]]
    answer = "edge_kernel"
    mutant = "scaled-1e-6"
    reason = "an edge detector may be scaled freely"

The model solution must earn every automatic point and the untouched template none.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .execute import execute_submission
from .judge import run_checks
from .kernels import Backend
from .limits import Limits
from .notebook import read_submission
from .packs import Pack
from .score import score_questions
from .wire import Answer, Call, RaisedError, Request

CONSTANT = 7.25


@dataclass(frozen=True, slots=True)
class Verdict:
    answer: str
    mutant: str
    questions: tuple[str, ...]
    """The questions that depend on the answer."""
    lost: tuple[str, ...]
    """Those of them on which the mutant lost points."""
    acceptable: str = ""
    """The pack's reason, when it declares this mutant acceptable."""

    @property
    def survived(self) -> bool:
        return not self.lost

    @property
    def problem(self) -> bool:
        return self.survived and not self.acceptable


@dataclass(slots=True)
class Report:
    pack: str
    model_points: dict[str, tuple[float, float]] = field(default_factory=dict)
    template_points: float = 0.0
    verdicts: list[Verdict] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems and not any(v.problem for v in self.verdicts)


# --- mutations of one value ---------------------------------------------------------------

def _numeric(value: Any) -> np.ndarray | None:
    if isinstance(value, bool) or isinstance(value, (str, RaisedError)):
        return None
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return arr if arr.size and np.all(np.isfinite(arr)) else None


def _like(original: Any, arr: np.ndarray) -> Any:
    """`arr` in the container the original came in (a number stays a number)."""
    if isinstance(original, (int, float, np.number)) and arr.ndim == 0:
        return float(arr)
    if isinstance(original, tuple):
        return tuple(arr.tolist())
    if isinstance(original, list):
        return arr.tolist()
    return arr


NUMERIC: dict[str, Callable[[np.ndarray, np.random.Generator], np.ndarray]] = {
    "zeros": lambda a, r: np.zeros_like(a),
    "ones": lambda a, r: np.ones_like(a),
    "constant": lambda a, r: np.full_like(a, CONSTANT),
    "negated": lambda a, r: -a,
    "scaled-1e-6": lambda a, r: a * 1e-6,
    "scaled-1e6": lambda a, r: a * 1e6,
    "transposed": lambda a, r: a.T,
    "nan": lambda a, r: np.where(np.arange(a.size).reshape(a.shape) == 0, np.nan, a),
    "inf": lambda a, r: np.where(np.arange(a.size).reshape(a.shape) == 0, np.inf, a),
    "int-cast": lambda a, r: np.trunc(a),
    "wrong-shape": lambda a, r: (np.append(a, a.flat[0]) if a.ndim < 2 else
                                 np.vstack([a, a[:1]])),
    "random": lambda a, r: r.normal(size=a.shape) * (np.abs(a).max() or 1.0),
}

TEXT: dict[str, Callable[[str, np.random.Generator], str]] = {
    "empty": lambda s, r: "",
    "constant": lambda s, r: "an error occurred",
    "halved": lambda s, r: s[: len(s) // 2],
    "shuffled": lambda s, r: " ".join(r.permutation(s.split()).tolist()),
    "no-error": lambda s, r: "No error: the gradient is computed without any problem.",
}


def mutations(value: Any, rng: np.random.Generator) -> dict[str, Any]:
    """Every mutant of one answer's value that differs from it."""
    out: dict[str, Any] = {}
    if isinstance(value, (str, RaisedError)):
        text = value if isinstance(value, str) else value.message
        for kind, fn in TEXT.items():
            new = fn(text, rng)
            if new != text:
                out[kind] = new if isinstance(value, str) else RaisedError(value.type, new)
        return out
    arr = _numeric(value)
    if arr is None:
        return out
    for kind, fn in NUMERIC.items():
        with np.errstate(all="ignore"):
            new = fn(arr, rng)
        if new.shape == arr.shape and np.array_equal(new, arr, equal_nan=True):
            continue  # the same answer: nothing to detect
        out[kind] = _like(value, new)
    return out


# --- the audit ------------------------------------------------------------------------------

def ignore_requests(requests: list[Request]) -> list[Call]:
    """For each call, the same call with one argument taken from another call of the same
    function: what a function ignoring that argument would answer."""
    extra = []
    by_name: dict[str, list[Call]] = {}
    for r in requests:
        if isinstance(r, Call):
            by_name.setdefault(r.name, []).append(r)
    for name, calls in by_name.items():
        if len(calls) < 2:
            continue
        for i in range(len(calls[0].args)):
            for j, call in enumerate(calls):
                other = calls[(j + 1) % len(calls)]
                if len(other.args) <= i or _same(other.args[i], call.args[i]):
                    continue
                args = (*call.args[:i], other.args[i], *call.args[i + 1:])
                extra.append(Call(name, args, key=f"{call.key}~ignores{i}"))
    return extra


def _same(a: Any, b: Any) -> bool:
    try:
        return bool(np.array_equal(np.asarray(a, dtype=object), np.asarray(b, dtype=object)))
    except (TypeError, ValueError):
        return a == b


def points(pack: Pack, answers: dict[str, Answer], seed: int, source: tuple[str, ...],
           questions: set[str] | None = None) -> dict[str, float]:
    outcomes, _ = run_checks(pack, answers, seed, source, questions=questions)
    return {q.id: q.auto_score for q in score_questions(pack, outcomes)
            if questions is None or q.id in questions}


def execute(pack: Pack, notebook, requests: list[Request], backend: Backend,
            limits: Limits) -> tuple[dict[str, Answer], tuple[str, ...]]:
    sub = read_submission(notebook)
    execution = asyncio.run(execute_submission(sub.nb, requests, backend=backend,
                                               limits=limits, prelude=pack.prelude))
    if execution.infrastructure_error:
        raise RuntimeError(f"the kernel did not start: {execution.infrastructure_error}")
    return execution.answers, tuple(c.source for c in sub.nb.cells if c.cell_type == "code")


def run(pack: Pack, backend: Backend, limits: Limits, seed: int,
        progress: Callable[[str], None] = lambda line: None) -> Report:
    report = Report(pack.name)
    if pack.model is None or not pack.model.exists():
        report.problems.append(f"pack {pack.name} has no model solution (model = \"...\" in "
                               "pack.toml, or reference/model_solution.ipynb)")
        return report
    requests = pack.requests(np.random.default_rng(seed))
    extra = ignore_requests(requests)
    progress(f"running the model solution {pack.model}")
    answers, source = execute(pack, pack.model, requests + extra, backend, limits)
    base = {r.key: answers[r.key] for r in requests}
    full = {q.id: q.points for q in pack.questions}
    model = points(pack, base, seed, source)
    report.model_points = {q: (model.get(q, 0.0), full[q]) for q in full}
    short = [q for q in full if model.get(q, 0.0) < full[q] - 1e-9]
    if short:
        report.problems.append("the model solution does not earn every point: "
                               + ", ".join(f"{q} ({model.get(q, 0):g}/{full[q]:g})"
                                           for q in short))
    if pack.template is not None:
        progress(f"running the template {pack.template}")
        blank, blank_source = execute(pack, pack.template, requests, backend, limits)
        report.template_points = sum(points(pack, blank, seed, blank_source).values())
        if report.template_points > 1e-9:
            report.problems.append(f"the untouched template earns {report.template_points:g} "
                                   "points")
    rng = np.random.default_rng(seed)
    names = list(dict.fromkeys(r.name for r in requests))
    for name in names:
        keys = [r.key for r in requests if r.name == name]
        missing = {k: (Answer(v.request, "missing") if k in keys else v)
                   for k, v in base.items()}
        deps = {q for q, p in points(pack, missing, seed, source).items()
                if p < model.get(q, 0.0) - 1e-9}
        if not deps:
            report.problems.append(f"no question depends on {name}: the checks never read it")
            continue
        progress(f"{name}: {len(deps)} question(s)")
        for kind, mutated in _mutants(name, keys, base, answers, rng).items():
            got = points(pack, mutated, seed, source, deps)
            lost = tuple(sorted(q for q in deps if got[q] < model[q] - 1e-9))
            report.verdicts.append(Verdict(name, kind, tuple(sorted(deps)), lost,
                                           pack.acceptable.get((name, kind), "")))
    return report


def _mutants(name: str, keys: list[str], base: dict[str, Answer], answers: dict[str, Answer],
             rng: np.random.Generator) -> dict[str, dict[str, Answer]]:
    """Mutant answer sets for one value or function, by kind."""
    ok = [base[k] for k in keys if base[k].ok]
    out: dict[str, dict[str, Answer]] = {}
    if not ok:
        return out
    per_key = {a.request.key: mutations(a.value, rng) for a in ok}
    kinds = sorted({kind for m in per_key.values() for kind in m})
    for kind in kinds:
        mutated = dict(base)
        for key, m in per_key.items():
            if kind in m:
                mutated[key] = Answer(base[key].request, "ok", value=m[kind])
        out[kind] = mutated
    calls = [a for a in ok if isinstance(a.request, Call)]
    if len(calls) > 1:
        first = calls[0].value
        out["hardcoded-first"] = {**base, **{a.request.key: Answer(a.request, "ok", value=first)
                                             for a in calls}}
        arity = len(calls[0].request.args)
        for i in range(arity):
            swapped = {}
            for a in calls:
                other = answers.get(f"{a.request.key}~ignores{i}")
                if other is not None and other.ok:
                    swapped[a.request.key] = Answer(a.request, "ok", value=other.value)
            if swapped:
                out[f"ignores-argument-{i + 1}"] = {**base, **swapped}
    return out


def table(report: Report) -> str:
    """The report as a table: question, answer, mutant, verdict, expected."""
    lines = [f"Audit of pack {report.pack}", ""]
    model = ", ".join(f"{q} {got:g}/{full:g}" for q, (got, full) in report.model_points.items())
    lines += [f"model solution: {model}", f"untouched template: {report.template_points:g} "
              "points", ""]
    rows = [("questions", "answer", "mutant", "verdict", "expected")]
    for v in report.verdicts:
        verdict = "killed" if not v.survived else "SURVIVED"
        expected = "acceptable: " + v.acceptable if v.acceptable else "killed"
        rows.append((",".join(v.questions), v.answer, v.mutant, verdict, expected))
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    for r in rows:
        lines.append("  ".join(r[i].ljust(widths[i]) for i in range(4)) + "  " + r[4])
    survivors = [v for v in report.verdicts if v.problem]
    lines += ["", f"{len(report.verdicts)} mutants: "
              f"{sum(not v.survived for v in report.verdicts)} killed, "
              f"{sum(v.survived and bool(v.acceptable) for v in report.verdicts)} survived as "
              f"declared acceptable, {len(survivors)} survived undeclared."]
    lines += [f"problem: {p}" for p in report.problems]
    lines += [f"SURVIVED: {v.answer} {v.mutant} earns full points on "
              f"{', '.join(v.questions)}" for v in survivors]
    return "\n".join(lines)
