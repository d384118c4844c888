"""Points, as pure functions of the checks' outcomes and the pack's point values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from .packs import Pack
from .results import (
    CheckOutcome,
    CheckResult,
    QuestionResult,
    SubmissionResult,
    WrittenResult,
    answer_id,
)


@dataclass(frozen=True, slots=True)
class Award:
    """Points an instructor gave a written answer, for the text whose id is `answer_id`."""

    points: float
    comment: str
    answer_id: str


def split_points(points: float, outcomes: list[CheckOutcome]) -> list[CheckResult]:
    """A question's points shared among its checks by weight; a check earns its share only
    when it passes."""
    total = sum(max(o.weight, 0.0) for o in outcomes)
    results = []
    for o in outcomes:
        share = points * max(o.weight, 0.0) / total if total > 0 else 0.0
        results.append(CheckResult(o, round(share if o.passed else 0.0, 6), round(share, 6)))
    return results


def written_results(pack: Pack, texts: Mapping[str, str | None]) -> list[WrittenResult]:
    """One WrittenResult per written answer of the pack: "blank" (worth 0, nothing to grade)
    when the text is None, else "pending"."""
    return [WrittenResult(item.question, item.tag, texts.get(item.tag), item.model_answer,
                          item.points, **({"awarded": 0.0, "state": "blank"}
                                          if texts.get(item.tag) is None else {}))
            for item in pack.written]


def apply_awards(result: SubmissionResult, awards: Mapping[tuple[str, str], Award]
                 ) -> SubmissionResult:
    """`result` with the instructor's awards, by (question, tag). An award counts only for
    the text it was given to: if the answer changed since, it is stale."""
    if not awards:
        return result
    questions = []
    for q in result.questions:
        written = []
        for w in q.written:
            a = awards.get((w.question, w.tag))
            if a is None or w.state == "blank":
                written.append(w)
            elif a.answer_id == answer_id(w.text):
                written.append(replace(w, awarded=a.points, comment=a.comment, state="awarded"))
            else:
                written.append(replace(w, awarded=None, comment=a.comment, state="stale",
                                       stale_points=a.points))
        questions.append(replace(q, written=tuple(written)))
    return replace(result, questions=tuple(questions))


def score_questions(pack: Pack, outcomes: Iterable[CheckOutcome],
                    written: Iterable[WrittenResult] = ()) -> tuple[QuestionResult, ...]:
    """Every question of the pack, in pack order. A question none of whose checks ran scores
    zero with a check saying so: points are never given by default."""
    by_question: dict[str, list[CheckOutcome]] = {q.id: [] for q in pack.questions}
    for o in outcomes:
        if o.question in by_question:
            by_question[o.question].append(o)
    written_by_q: dict[str, list[WrittenResult]] = {}
    for w in written:
        written_by_q.setdefault(w.question, []).append(w)
    results = []
    for q in pack.questions:
        checks = by_question[q.id] or [CheckOutcome(
            q.id, "checks ran", False, feedback="No check of this question could run; it "
            "cannot be graded automatically.", check_error=True)]
        results.append(QuestionResult(q.id, q.title, tuple(split_points(q.points, checks)),
                                      tuple(written_by_q.get(q.id, ())),
                                      template_outcome(checks)))
    return tuple(results)


def template_outcome(checks: Iterable[CheckOutcome]) -> str:
    """A template-graded question's outcome: right when every check that ran passed, absent
    when none had an answer to judge (not answered), wrong otherwise; "" when none ran here
    (hidden checks withheld from a student's copy)."""
    ran = [c for c in checks if not c.withheld]
    if not ran:
        return ""
    if all(c.passed for c in ran):
        return "right"
    if all(c.not_answered for c in ran if not c.passed) and not any(c.passed for c in ran):
        return "absent"
    return "wrong"
