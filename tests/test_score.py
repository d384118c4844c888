"""Scoring is a pure function of outcomes and points."""

from dataclasses import replace
from pathlib import Path

from grader.packs import load_pack
from grader.results import CheckOutcome, SubmissionResult, answer_id
from grader.score import Award, apply_awards, score_questions, split_points, written_results

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


def test_written_points_count_once_awarded_and_always_in_the_maximum():
    pending = written_results(TINY, {"answer-1": "42"})
    q = score_questions(TINY, [CheckOutcome("1", "a", True)], pending)[0]
    assert (q.score, q.max_score, q.written[0].state) == (1, 2, "pending")
    blank = score_questions(TINY, [CheckOutcome("1", "a", True)],
                            written_results(TINY, {"answer-1": None}))[0]
    assert (blank.score, blank.max_score, blank.written[0].state) == (1, 2, "blank")
    result = SubmissionResult("s", "p", "graded", questions=(q,))
    award = {("1", "answer-1"): Award(0.5, "ok", answer_id("42"))}
    awarded = apply_awards(result, award).questions[0]
    assert (awarded.score, awarded.max_score) == (1.5, 2)
    assert awarded.written[0].comment == "ok" and awarded.written[0].state == "awarded"
    rewritten = replace(result, questions=(replace(q, written=(
        replace(q.written[0], text="forty-two"),)),))
    stale = apply_awards(rewritten, award).questions[0]
    assert (stale.score, stale.written[0].state, stale.written[0].stale_points) == (1, "stale", 0.5)
    spaced = replace(result, questions=(replace(q, written=(
        replace(q.written[0], text="  42 \n"),)),))
    assert apply_awards(spaced, award).questions[0].written[0].state == "awarded"
