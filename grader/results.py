"""The result model: what grading one submission produced, as frozen plain data.

Every type a result is made of lives here, and this module imports no other grader module, so
anything that only reads results (reports, exports, the gradebook) loads none of the executor.
`to_dict` and `from_dict` are the one mapping to and from JSON, used by the gradebook and by
results.json; `SCHEMA` versions it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

SCHEMA = 3
"""Version of the dict layout written by `to_dict`. Bump it when a field is renamed or its
meaning changes, and teach `from_dict` to read the previous layout. 2 added
`CheckOutcome.figures` and `CheckOutcome.figure_notes`; 3 added `QuestionResult.outcome` and
`.evidence` and `SubmissionResult.mode` (free-form grading)."""

OUTCOMES = ("right", "wrong", "review", "absent")
"""A question's outcome: verified right by a check, wrong (a check ran on the answer and
failed), review (evidence a person must judge), absent (nothing answers it)."""


class ResultFormatError(ValueError):
    """A stored result that this version cannot read; the message says what to do."""


@dataclass(frozen=True, slots=True)
class CellRun:
    """What happened to one code cell in the run that counts."""

    index: int
    status: str
    """ok | error | timeout (interrupted, kernel lived) | hung (ignored the interrupt) |
    died (killed the kernel) | excluded (left out after killing or hanging an earlier kernel) |
    not_run (notebook time limit reached)."""
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    output: str = ""
    output_truncated: bool = False
    seconds: float = 0.0


@dataclass(frozen=True, slots=True)
class Figure:
    """A small 2-D array a report pictures as a heatmap, kept as plain numbers."""

    label: str
    values: tuple[tuple[float, ...], ...]
    """Rows of the array (finite floats, rounded to 6 significant digits)."""
    scale: str = ""
    """Figures of one check with the same non-empty `scale` share one colour scale (the
    answer and the expected value, or a group the check named), so equal colours mean equal
    values."""

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.values), len(self.values[0]) if self.values else 0


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """One check's verdict on one submission."""

    question: str
    name: str
    passed: bool
    weight: float = 1.0
    feedback: str = ""
    hint: str = ""
    inputs: str | None = None
    answer: str | None = None
    expected: str | None = None
    not_answered: bool = False
    check_error: bool = False
    """True when the check itself crashed: the student gets no point and the instructor a flag."""
    figures: tuple[Figure, ...] = ()
    """Arrays of a failed (or accepted) check to picture: the answer, the expected value, their
    difference, the inputs and any the check named."""
    figure_notes: tuple[str, ...] = ()
    """Why some arrays are not pictured (too large, not finite, too many)."""
    hidden: bool = False
    """A hidden check: run only when the instructor grades; students see that it exists and
    its points, never its details."""
    withheld: bool = False
    """A hidden check this run did not have (a student's copy of the pack): it earns nothing
    here and is neither passed nor failed."""


@dataclass(frozen=True, slots=True)
class CheckResult:
    outcome: CheckOutcome
    points: float
    max_points: float


WRITTEN_STATES = ("blank", "pending", "awarded", "stale")


@dataclass(frozen=True, slots=True)
class WrittenResult:
    """A written answer: shown beside the model answer, worth points once an instructor
    awards them. `state` is "blank" (empty or untouched: 0 points, nothing to grade),
    "pending" (awaiting the instructor), "awarded", or "stale" (an award was given to an
    earlier text of this answer: it no longer counts, `stale_points` keeps it for reference)."""

    question: str
    tag: str
    text: str | None
    model_answer: str
    max_points: float
    awarded: float | None = None
    """The points that count: the award, 0 for a blank answer, None while none counts."""
    comment: str = ""
    state: str = "pending"
    stale_points: float | None = None

    @property
    def graded(self) -> bool:
        return self.state in ("awarded", "blank")


def answer_id(text: str | None) -> str:
    """A written answer's identity: a hash of its text, blind to spacing and line breaks."""
    normal = " ".join((text or "").split())
    return hashlib.sha256(normal.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class QuestionResult:
    id: str
    title: str
    checks: tuple[CheckResult, ...]
    written: tuple[WrittenResult, ...] = ()
    outcome: str = ""
    """One of OUTCOMES ("" in results stored before schema 3)."""
    evidence: tuple[str, ...] = ()
    """Free-form grading: what was found in the notebook for this question, in words."""

    @property
    def auto_score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def auto_max(self) -> float:
        return sum(c.max_points for c in self.checks)

    @property
    def score(self) -> float:
        return self.auto_score + sum(w.awarded or 0.0 for w in self.written)

    @property
    def max_score(self) -> float:
        """Every point of the question, automatic and written, graded yet or not."""
        return self.auto_max + sum(w.max_points for w in self.written)

    @property
    def passed(self) -> bool:
        """Every check that ran passed (withheld hidden checks do not count)."""
        return all(c.outcome.passed or c.outcome.withheld for c in self.checks)


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    submission: str
    path: str
    status: str
    """"graded", or "error" when the submission could not be graded at all (see `error`)."""
    error: str = ""
    pack: str = ""
    seed: int = 0
    """The seed of this submission's inputs: derived from the run's seed and the file's
    content, so a changed file gets fresh inputs and a regrade of the same file the same."""
    sha256: str = ""
    questions: tuple[QuestionResult, ...] = ()
    cells: tuple[CellRun, ...] = ()
    events: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    """Faults of the pack or grader (a check that crashed), for the instructor."""
    sandbox: str = ""
    """The isolation the kernels ran under, e.g. "bwrap-root"; "none" without any."""
    cgroups: str = ""
    """How all of a kernel's processes were bounded together: "v1" or "v2" cgroups, or "none"
    (each process by its own rlimits only)."""
    execution_time: float = 0.0
    graded_at: str = ""
    grader_version: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    peak_memory: int | None = None
    run_seed: int = 0
    """The run's seed (`--seed`), from which `seed` is derived."""
    mode: str = ""
    """How the notebook was graded: "template" (answers by the template's names) or
    "freeform" (answers found from evidence)."""

    @property
    def sandboxed(self) -> bool:
        return self.sandbox != "none"

    @property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 4)

    @property
    def max_score(self) -> float:
        return round(sum(q.max_score for q in self.questions), 4)

    @property
    def pending_written(self) -> float:
        """Points of written answers that still await the instructor (pending or stale)."""
        return sum(w.max_points for q in self.questions for w in q.written if not w.graded)

    @property
    def all_checks_pass(self) -> bool:
        return self.status == "graded" and all(q.passed for q in self.questions)


def bounded(result: SubmissionResult, max_bytes: int) -> SubmissionResult:
    """`result`, or a copy cut down to at most `max_bytes` of JSON: first without the cells'
    output and tracebacks, then with at most 100 cells and short feedback details."""
    if _size(result) <= max_bytes:
        return result
    note = f"Parts of this result were cut to keep it under {max_bytes // 2**20} MiB."
    cells = tuple(dataclasses.replace(c, output="", traceback="") for c in result.cells)
    cut = dataclasses.replace(result, cells=cells, events=(*result.events[:50], note),
                              problems=tuple(p[:2000] for p in result.problems[:50]))
    if _size(cut) <= max_bytes:
        return cut
    questions = tuple(dataclasses.replace(q, checks=tuple(
        dataclasses.replace(c, outcome=_short(c.outcome)) for c in q.checks[:50]),
        written=tuple(dataclasses.replace(w, text=(w.text or "")[:2000] or w.text)
                      for w in q.written)) for q in cut.questions)
    return dataclasses.replace(cut, cells=cut.cells[:100], questions=questions,
                               events=cut.events[:20] + (note,))


def _short(o: CheckOutcome) -> CheckOutcome:
    def cut(text: str | None, n: int) -> str | None:
        return None if text is None else text[:n]
    return dataclasses.replace(o, feedback=o.feedback[:500], hint=o.hint[:300],
                               inputs=cut(o.inputs, 200), answer=cut(o.answer, 200),
                               expected=cut(o.expected, 200))


def _size(result: SubmissionResult) -> int:
    return len(json.dumps(to_dict(result)))


def error_result(submission: str, path: str, error: str, **fields: Any) -> SubmissionResult:
    """A submission that could not be graded, with `error` saying why and what to do."""
    return SubmissionResult(submission=submission, path=path, status="error", error=error,
                            **fields)


def to_dict(result: SubmissionResult) -> dict[str, Any]:
    """The result as JSON-ready data, with its schema version."""
    return {"schema": SCHEMA, **dataclasses.asdict(result)}


def from_dict(data: Any) -> SubmissionResult:
    """The inverse of `to_dict`, also for results stored by earlier versions; raises
    ResultFormatError for anything it cannot read."""
    if not isinstance(data, dict):
        raise ResultFormatError("a stored result is not a JSON object")
    version = data.get("schema", 0)
    upgrades = {0: (_from_v0, _from_v1, _from_v2), 1: (_from_v1, _from_v2), 2: (_from_v2,),
                SCHEMA: ()}
    if version not in upgrades:
        raise ResultFormatError(
            f"a stored result has schema version {version!r}, newer than this grader's "
            f"{SCHEMA}: grade with the newer grader, or regrade with this one (--regrade)")
    try:
        for upgrade in upgrades[version]:
            data = upgrade(data)
        return _build(data)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise ResultFormatError(f"a stored result is malformed ({type(exc).__name__}: "
                                f"{exc}); regrade it (--regrade)") from None


def _from_v0(data: dict) -> dict:
    """Grader 0.1 stored written answers under `manual` and had no schema field."""
    out = dict(data)
    out["questions"] = [{**{k: v for k, v in q.items() if k != "manual"},
                         "written": q.get("manual", [])} for q in data.get("questions", [])]
    return out


def _from_v1(data: dict) -> dict:
    """Grader 0.2.0 had no state for written answers: blank when there was no text."""
    out = dict(data)
    out["questions"] = [{**q, "written": [
        {**w, "state": "blank", "awarded": 0.0} if w.get("text") is None else
        {**w, "state": "pending"} for w in q.get("written", [])]}
        for q in data.get("questions", [])]
    return out


def _from_v2(data: dict) -> dict:
    """Before 3 every result was graded by the template's names, without outcomes."""
    return {**data, "mode": data.get("mode", "template"),
            "questions": [{**q, "outcome": q.get("outcome", ""),
                           "evidence": q.get("evidence", [])}
                          for q in data.get("questions", [])]}


def _build(d: dict) -> SubmissionResult:
    questions = tuple(
        QuestionResult(
            id=q["id"], title=q["title"],
            checks=tuple(CheckResult(_outcome(c["outcome"]), c["points"], c["max_points"])
                         for c in q["checks"]),
            written=tuple(WrittenResult(**w) for w in q["written"]),
            outcome=q["outcome"], evidence=tuple(str(e) for e in q["evidence"]))
        for q in d["questions"])
    nested = ("schema", "questions", "cells", "events", "problems")
    fields = {k: v for k, v in d.items() if k not in nested}
    return SubmissionResult(**fields, questions=questions,
                            cells=tuple(CellRun(**c) for c in d["cells"]),
                            events=tuple(d["events"]), problems=tuple(d["problems"]))


def _outcome(d: dict) -> CheckOutcome:
    figures = tuple(Figure(f["label"], tuple(tuple(float(x) for x in row) for row in f["values"]),
                           f.get("scale", "")) for f in d.get("figures", ()))
    return CheckOutcome(**{**d, "figures": figures,
                           "figure_notes": tuple(d.get("figure_notes", ()))})
