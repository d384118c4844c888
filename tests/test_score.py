"""Scoring is a pure function of outcomes and points."""

from pathlib import Path

from grader.packs import load_pack
from grader.results import CheckOutcome
from grader.score import score_questions, split_points, written_results

TINY = load_pack(Path(__file__).parent / "packs" / "tiny")


def test_points_are_shared_by_weight_and_earned_only_when_passed():
    res = split_points(3.0, [CheckOutcome("q", "a", True, 2.0), CheckOutcome("q", "b", False, 1.0)])
    assert [(r.points, r.max_points) for r in res] == [(2.0, 2.0), (0.0, 1.0)]


def test_question_without_checks_scores_zero():
    qs = score_questions(TINY, [CheckOutcome("1", "a", True)])
    by = {q.id: q for q in qs}
    assert by["1"].score == 1 and by["2"].score == 0 and by["2"].max_score == 2
    assert by["2"].checks[0].outcome.check_error


def test_unknown_question_ids_are_ignored():
    qs = score_questions(TINY, [CheckOutcome("9", "x", True)])
    assert sum(q.score for q in qs) == 0


def test_written_points_count_once_awarded():
    pending = written_results(TINY, {"answer-1": "42"})
    q = score_questions(TINY, [CheckOutcome("1", "a", True)], pending)[0]
    assert (q.score, q.max_score) == (1, 1)
    awarded = written_results(TINY, {"answer-1": "42"}, {("1", "answer-1"): (0.5, "ok")})
    q = score_questions(TINY, [CheckOutcome("1", "a", True)], awarded)[0]
    assert (q.score, q.max_score) == (1.5, 2)
    assert q.written[0].comment == "ok"
