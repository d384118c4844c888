"""The result model: what grading one submission produced, as frozen plain data.

Every type a result is made of lives here, and this module imports no other grader module, so
anything that only reads results (reports, exports, the gradebook) loads none of the executor.
`to_dict` and `from_dict` are the one mapping to and from JSON, used by the gradebook and by
results.json; `SCHEMA` versions it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

SCHEMA = 2
"""Version of the dict layout written by `to_dict`. Bump it when a field is renamed or its
meaning changes, and teach `from_dict` to read the previous layout. 2 added
`CheckOutcome.figures` and `CheckOutcome.figure_notes`."""


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


@dataclass(frozen=True, slots=True)
class CheckResult:
    outcome: CheckOutcome
    points: float
    max_points: float


@dataclass(frozen=True, slots=True)
class WrittenResult:
    """A written answer: shown beside the model answer, worth points once an instructor
    awards them (`awarded` is None until then)."""

    question: str
    tag: str
    text: str | None
    model_answer: str
    max_points: float
    awarded: float | None = None
    comment: str = ""

    @property
    def graded(self) -> bool:
        return self.awarded is not None


@dataclass(frozen=True, slots=True)
class QuestionResult:
    id: str
    title: str
    checks: tuple[CheckResult, ...]
    written: tuple[WrittenResult, ...] = ()

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
        """Automatic points plus the points of written answers already graded."""
        return self.auto_max + sum(w.max_points for w in self.written if w.graded)

    @property
    def passed(self) -> bool:
        return all(c.outcome.passed for c in self.checks)


@dataclass(frozen=True, slots=True)
class SubmissionResult:
    submission: str
    path: str
    status: str
    """"graded", or "error" when the submission could not be graded at all (see `error`)."""
    error: str = ""
    pack: str = ""
    seed: int = 0
    sha256: str = ""
    questions: tuple[QuestionResult, ...] = ()
    cells: tuple[CellRun, ...] = ()
    events: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    """Faults of the pack or grader (a check that crashed), for the instructor."""
    sandbox: str = ""
    """The isolation the kernels ran under, e.g. "bwrap-root"; "none" without any."""
    execution_time: float = 0.0
    graded_at: str = ""
    grader_version: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    peak_memory: int | None = None

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
        return sum(w.max_points for q in self.questions for w in q.written if not w.graded)

    @property
    def all_checks_pass(self) -> bool:
        return self.status == "graded" and all(q.passed for q in self.questions)


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
    if version == 0:
        data = _from_v0(data)
    elif version not in (1, SCHEMA):  # 1 is 2 without figures; their defaults fill in
        raise ResultFormatError(
            f"a stored result has schema version {version!r}, newer than this grader's "
            f"{SCHEMA}: grade with the newer grader, or regrade with this one (--regrade)")
    try:
        return _build(data)
    except (KeyError, TypeError, ValueError) as exc:
        raise ResultFormatError(f"a stored result is malformed ({type(exc).__name__}: "
                                f"{exc}); regrade it (--regrade)") from None


def _from_v0(data: dict) -> dict:
    """Grader 0.1 stored written answers under `manual` and had no schema field."""
    out = dict(data)
    out["questions"] = [{**{k: v for k, v in q.items() if k != "manual"},
                         "written": q.get("manual", [])} for q in data.get("questions", [])]
    return out


def _build(d: dict) -> SubmissionResult:
    questions = tuple(
        QuestionResult(
            id=q["id"], title=q["title"],
            checks=tuple(CheckResult(_outcome(c["outcome"]), c["points"], c["max_points"])
                         for c in q["checks"]),
            written=tuple(WrittenResult(**w) for w in q["written"]))
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
