"""Points, as pure functions of the checks' outcomes and the pack's point values."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from .packs import Pack
from .results import CheckOutcome, CheckResult, QuestionResult, WrittenResult


def split_points(points: float, outcomes: list[CheckOutcome]) -> list[CheckResult]:
    """A question's points shared among its checks by weight; a check earns its share only
    when it passes."""
    total = sum(max(o.weight, 0.0) for o in outcomes)
    results = []
    for o in outcomes:
        share = points * max(o.weight, 0.0) / total if total > 0 else 0.0
        results.append(CheckResult(o, round(share if o.passed else 0.0, 6), round(share, 6)))
    return results


def written_results(pack: Pack, texts: Mapping[str, str | None],
                    awards: Mapping[tuple[str, str], tuple[float, str]] | None = None
                    ) -> list[WrittenResult]:
    """One WrittenResult per written answer of the pack; `awards` maps (question, tag) to the
    instructor's (points, comment)."""
    awards = awards or {}
    out = []
    for item in pack.written:
        awarded, comment = awards.get((item.question, item.tag), (None, ""))
        out.append(WrittenResult(item.question, item.tag, texts.get(item.tag), item.model_answer,
                                 item.points, awarded, comment))
    return out


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
                                      tuple(written_by_q.get(q.id, ()))))
    return tuple(results)
