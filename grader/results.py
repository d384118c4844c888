"""Typed results of grading: per check, per free-text answer, per question, per submission."""

from __future__ import annotations

from dataclasses import dataclass, field

from .execute import CellRun
from .judge import CheckOutcome


@dataclass(frozen=True, slots=True)
class CheckResult:
    outcome: CheckOutcome
    points: float
    max_points: float


@dataclass(frozen=True, slots=True)
class ManualResult:
    """A free-text answer: shown beside the model answer, worth points once an instructor
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
    manual: tuple[ManualResult, ...] = ()

    @property
    def auto_score(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def auto_max(self) -> float:
        return sum(c.max_points for c in self.checks)

    @property
    def score(self) -> float:
        return self.auto_score + sum(m.awarded or 0.0 for m in self.manual)

    @property
    def max_score(self) -> float:
        """Automatic points plus the points of free-text answers already graded."""
        return self.auto_max + sum(m.max_points for m in self.manual if m.graded)

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
    execution_time: float = 0.0
    graded_at: str = ""
    grader_version: str = ""
    timings: dict[str, float] = field(default_factory=dict)
    peak_memory: int | None = None

    @property
    def score(self) -> float:
        return round(sum(q.score for q in self.questions), 4)

    @property
    def max_score(self) -> float:
        return round(sum(q.max_score for q in self.questions), 4)

    @property
    def pending_manual(self) -> float:
        return sum(m.max_points for q in self.questions for m in q.manual if not m.graded)

    @property
    def all_checks_pass(self) -> bool:
        return self.status == "graded" and all(q.passed for q in self.questions)
