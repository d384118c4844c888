"""Free-form grading: a notebook that does not follow the pack's template is graded from what
it shows instead of from names.

    mode      `choose_mode`: template when the notebook names a pack in its metadata or defines
              most of the template's names; free-form when the pack has finders (freeform.py)
    evidence  captured while the notebook runs (grader/capture.py), plus its saved outputs
              (unverified) and the questions its parts answer (grader/prose.py), as a `View`
    plan      the pack's `plan(view, requests)`: which of the notebook's functions to call, with
              the template's own probe inputs
    find      the pack's `find(view, replies, requests, reference)`: per question a `Finding`,
              the answers as the template would have them, or why there are none
    judge     the pack's own checks, on those answers (grader/judge.py)
    outcome   per question right (a check verified it), wrong (a check ran on the student's
              answer and failed), review (evidence only a person can judge: prose, unverified
              outputs, code that does not run) or absent; `questions` turns them into scores

Wrong and absent earn nothing; review is a written answer pending with the instructor, shown
with its evidence beside the model answer.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

import numpy as np
from nbformat import NotebookNode

from .evidence import Evidence, Function, Item, Output, saved_outputs, with_sources
from .packs import Pack, load_module
from .prose import Regions, map_notebook
from .results import CheckOutcome, CheckResult, QuestionResult, WrittenResult
from .score import split_points
from .wire import Answer, Request

MODES = ("auto", "template", "freeform")
OUTCOMES = ("right", "wrong", "review", "absent")


# --- mode ----------------------------------------------------------------------------------------

def choose_mode(requested: str, pack: Pack, nb: NotebookNode, names_pack: bool) -> str:
    """"template" or "freeform" for this notebook. Auto: template when the notebook's metadata
    names a pack (it came from the template) or it defines at least half of the names the
    template asks for; free-form otherwise, when the pack can grade free-form notebooks."""
    if requested == "template" or pack.freeform_path is None:
        return "template"
    if requested == "freeform":
        return "freeform"
    if names_pack:
        return "template"
    wanted = template_names(pack)
    found = wanted & defined_names(nb)
    return "template" if wanted and 2 * len(found) >= len(wanted) else "freeform"


def template_names(pack: Pack) -> set[str]:
    return {r.name for r in pack.requests(np.random.default_rng(0))}


def defined_names(nb: NotebookNode) -> set[str]:
    """Names assigned or defined at the top level of the notebook's code cells."""
    names: set[str] = set()
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(cell.get("source", ""))
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


# --- what the pack's finders see -----------------------------------------------------------------

@dataclass(slots=True)
class View:
    """One free-form notebook as the pack's finders see it."""

    evidence: Evidence
    regions: Regions
    groups: dict[str, tuple[str, ...]]
    sources: tuple[str, ...] = ()
    """Every cell's source (markdown too), by cell index."""

    def label(self, cell: int, name: str = "") -> str | None:
        return self.regions.label(cell, name)

    def group_of(self, label: str | None) -> str | None:
        if label is None:
            return None
        for group, questions in self.groups.items():
            if label == group or label in questions:
                return group
        return label

    def within(self, cell: int, question: str, name: str = "") -> bool:
        """Is `cell` (or `name` in it) about `question`, or about its whole exercise?"""
        label = self.label(cell, name)
        return label is not None and (label == question or label == self.group_of(question)
                                      and label in self.groups)

    def in_exercise(self, cell: int, group: str, name: str = "") -> bool:
        return self.group_of(self.label(cell, name)) == group

    @property
    def marked(self) -> bool:
        """Does the notebook mark its exercises (headings, numbers) at all?"""
        return self.regions.any

    def functions(self) -> list[Function]:
        """The last definition of each function name."""
        latest: dict[str, Function] = {}
        for fn in self.evidence.functions:
            latest[fn.name] = fn
        return list(latest.values())

    def items(self, *, verified: bool = True) -> list[Item]:
        return [i for i in self.evidence.items if i.verified == verified]

    def outputs(self, *, verified: bool = True) -> list[Output]:
        return [o for o in self.evidence.outputs if o.verified == verified]

    def stopped_before(self, question: str) -> list[tuple[int, str, str]]:
        """(cell, name, error) for each name a comment places under `question` (or its exercise)
        in a cell that ended with an error before the name was ever defined."""
        raised = {o.cell: o.error[0] for o in self.evidence.outputs if o.verified and o.error}
        seen = {(f.cell, f.name) for f in self.evidence.functions} | \
            {(i.cell, i.name) for i in self.evidence.items if i.verified}
        return [(cell, name, raised[cell]) for (cell, name) in self.regions.names
                if cell in raised and (cell, name) not in seen
                and self.within(cell, question, name)]

    def prose(self, question: str) -> str:
        return self.regions.text(question)

    def source(self, cell: int) -> str:
        return self.sources[cell] if 0 <= cell < len(self.sources) else ""


@dataclass(frozen=True, slots=True)
class Finding:
    """What the finders made of one question."""

    question: str
    state: str
    """judge (answers found: the checks decide), review, or absent."""
    answers: dict[str, Answer] = field(default_factory=dict)
    """The answers as the template's requests would have them (by request key)."""
    evidence: tuple[str, ...] = ()
    """What was found, in words, for the report."""
    source: tuple[str, ...] = ()
    """Code the checks should read besides the notebook's (e.g. a function renamed to the
    template's name)."""
    complete: bool = True
    """The answers found are the whole answer: checks left without an answer (an alternative
    the student did not take) do not count. False: their part waits for the instructor."""


def build_view(nb: NotebookNode, submitted: NotebookNode, evidence: Evidence | None,
               finders: ModuleType) -> View:
    """The view of a run notebook: its evidence with the submitted file's saved outputs
    (unverified) and the sources of its functions."""
    ev = evidence or Evidence()
    saved, items = saved_outputs(submitted)
    full = Evidence(items=ev.items + items, functions=with_sources(ev.functions, nb),
                    outputs=ev.outputs + saved)
    return View(full, map_notebook(nb, finders.VOCABULARY), finders.VOCABULARY.groups,
                tuple(str(c.get("source", "")) for c in nb.cells))


def load_finders(pack: Pack) -> ModuleType:
    if pack.freeform_path is None:
        raise ValueError(f"pack {pack.name} has no free-form finders")
    return load_module(pack.freeform_path, pack.module_name("freeform"))


def plan_requests(finders: ModuleType, view: View, requests: list[Request]) -> list[Request]:
    """The calls to make of the notebook's functions (the pack decides which)."""
    return list(finders.plan(view, requests))


def find_answers(finders: ModuleType, view: View, replies: dict[str, Answer],
                 requests: list[Request], reference: Any) -> dict[str, Finding]:
    return dict(finders.find(view, replies, requests, reference))


def answers_for_checks(requests: list[Request], findings: dict[str, Finding]
                       ) -> dict[str, Answer]:
    """Every template request answered: by a finding, or as missing (a check then says
    "not answered", which counts as not having run)."""
    found: dict[str, Answer] = {}
    for f in findings.values():
        if f.state == "judge":
            found.update(f.answers)
    covered = {a.request.name for a in found.values()}
    out = {r.key: Answer(r, "missing") for r in requests if r.name not in covered}
    out.update(found)
    return out


# --- outcomes and points -------------------------------------------------------------------------

_BROKEN = ("raised", "timeout", "kernel_died", "not_run", "no_reply", "unreadable")


def outcome(finding: Finding | None, checks: list[CheckOutcome]) -> str:
    """right, wrong, review or absent for one question."""
    if finding is None or finding.state == "absent":
        return "absent"
    if finding.state == "review":
        return "review"
    ran = [c for c in checks if not c.not_answered and not c.withheld]
    if not ran:
        return "review"
    if any(c.check_error for c in ran):
        return "review"
    return "right" if all(c.passed for c in ran) else "wrong"


def questions(pack: Pack, outcomes: list[CheckOutcome], findings: dict[str, Finding],
              written: list[WrittenResult], models: dict[str, str]
              ) -> tuple[QuestionResult, ...]:
    """Every question of the pack, scored from its outcome: right earns its checks' points (a
    part not found as code, e.g. a size given only in prose, waits for the instructor); wrong
    and absent earn nothing; review is pending with the instructor for the whole question."""
    by_q: dict[str, list[CheckOutcome]] = {q.id: [] for q in pack.questions}
    for o in outcomes:
        if o.question in by_q:
            by_q[o.question].append(o)
    results = []
    for q in pack.questions:
        finding = findings.get(q.id)
        verdict = outcome(finding, by_q[q.id])
        own = tuple(w for w in written if w.question == q.id)
        shown = finding.evidence if finding else ()
        if verdict == "absent":
            checks = (CheckResult(CheckOutcome(
                q.id, "answer found in the notebook", False, feedback="Not found: nothing in "
                "the notebook answers this question.", not_answered=True), 0.0, q.points),)
            results.append(QuestionResult(q.id, q.title, checks, own, verdict, shown))
            continue
        if verdict == "review":
            item = _review_item(q.id, q.points, shown, models)
            results.append(QuestionResult(q.id, q.title, (), own + (item,), verdict, shown))
            continue
        ran = [c for c in by_q[q.id] if not c.not_answered]
        if verdict == "wrong":
            split = [CheckResult(c.outcome, 0.0, c.max_points) for c in split_points(q.points, ran)]
            results.append(QuestionResult(q.id, q.title, tuple(split), own, verdict, shown))
            continue
        if finding is not None and finding.complete:
            results.append(QuestionResult(q.id, q.title, tuple(split_points(q.points, ran)), own,
                                          verdict, shown))
            continue
        split = split_points(q.points, by_q[q.id])
        unverified = [c for c in split if c.outcome.not_answered]
        kept = tuple(c for c in split if not c.outcome.not_answered)
        extra = (_review_item(q.id, sum(c.max_points for c in unverified), shown, models,
                              part=", ".join(c.outcome.name for c in unverified)),) \
            if unverified else ()
        results.append(QuestionResult(q.id, q.title, kept, own + extra, verdict, shown))
    return tuple(results)


def _review_item(qid: str, points: float, shown: tuple[str, ...], models: dict[str, str],
                 part: str = "") -> WrittenResult:
    head = (f"Verified in part; not found as code that could be checked: {part}." if part
            else "Found in the notebook, but nothing a check can verify:")
    text = "\n".join([head, *(f"- {s}" for s in shown)]) if shown else head
    return WrittenResult(qid, f"review-{qid}", text, models.get(f"review-{qid}", ""),
                         round(points, 6))


def extra_source(findings: dict[str, Finding]) -> tuple[str, ...]:
    return tuple(s for f in findings.values() if f.state == "judge" for s in f.source)


def renamed(source: str, old: str, new: str) -> str:
    """A function's definition (`def old` or `old = lambda`) under the name `new`, for checks
    that read the template's function by name; "" when it does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ""
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == old:
            node.name = new
            return ast.unparse(node)
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Lambda):
            return f"{new} = {ast.unparse(node.value)}"
    return ""


def short(text: str, n: int = 160) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= n else text[: n - 1] + "…"
