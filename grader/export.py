"""Machine-readable outputs: Gradescope's results.json and the class's grades.csv."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from .results import CheckResult, ManualResult, QuestionResult, SubmissionResult


def _check_output(c: CheckResult) -> str:
    o = c.outcome
    if o.passed:
        return o.feedback or "Passed."
    lines = [o.feedback]
    for label, value in (("Input", o.inputs), ("Your answer", o.answer),
                         ("Expected", o.expected)):
        if value:
            lines.append(f"{label}: {value}")
    if o.hint:
        lines.append(f"Hint: {o.hint}")
    return "\n".join(lines)


def _manual_output(m: ManualResult) -> str:
    if m.text is None:
        head = "Not answered: this free-text answer is empty."
    elif m.graded:
        head = f"Graded by the instructor: {m.awarded:g}/{m.max_points:g}."
    else:
        head = f"Free-text answer awaiting manual grading (worth {m.max_points:g} points)."
    parts = [head]
    if m.comment:
        parts.append(f"Instructor's comment: {m.comment}")
    if m.text:
        parts.append(f"Your answer:\n{m.text}")
    return "\n\n".join(parts)


def _tests(q: QuestionResult) -> list[dict]:
    tests = []
    for c in q.checks:
        tests.append({
            "name": f"{q.id} {q.title}: {c.outcome.name}",
            "number": q.id,
            "score": c.points,
            "max_score": c.max_points,
            "status": "passed" if c.outcome.passed else "failed",
            "output": _check_output(c),
            "visibility": "visible",
            "tags": ["auto"] + (["not-answered"] if c.outcome.not_answered else [])
                    + (["check-error"] if c.outcome.check_error else []),
        })
    for m in q.manual:
        tests.append({
            "name": f"{q.id} {q.title}: written answer ({m.tag})",
            "number": q.id,
            "score": m.awarded or 0.0,
            "max_score": m.max_points if m.graded else 0.0,
            "status": "passed" if m.graded and (m.awarded or 0) >= m.max_points else "failed",
            "output": _manual_output(m),
            "visibility": "visible",
            "tags": ["manual"] + ([] if m.graded else ["pending"]),
        })
    return tests


def summary_text(r: SubmissionResult) -> str:
    if r.status != "graded":
        return f"This submission could not be graded: {r.error}"
    lines = [f"Score {r.score:g}/{r.max_score:g} (pack {r.pack})."]
    if r.pending_manual:
        lines.append(f"{r.pending_manual:g} more points of written answers await the instructor.")
    bad = [c for c in r.cells if c.status not in ("ok",)]
    for c in bad:
        lines.append(f"Cell {c.index + 1}: {c.status}" + (f" ({c.ename}: {c.evalue})" if c.ename else ""))
    lines += list(r.events)
    if r.sandbox == "none":
        lines.append("Graded WITHOUT the sandbox (--no-sandbox): student code ran unisolated.")
    return "\n".join(lines)


def results_json(r: SubmissionResult) -> dict:
    """Gradescope's results format, plus the grader's own fields."""
    return {
        "score": r.score,
        "max_score": r.max_score,
        "execution_time": r.execution_time,
        "output": summary_text(r),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [t for q in r.questions for t in _tests(q)],
        "submission": r.submission,
        "path": r.path,
        "status": r.status,
        "error": r.error,
        "pack": r.pack,
        "seed": r.seed,
        "sha256": r.sha256,
        "sandbox": r.sandbox,
        "sandboxed": r.sandbox not in ("", "none"),
        "grader_version": r.grader_version,
        "graded_at": r.graded_at,
        "pending_manual_points": r.pending_manual,
        "cells": [{"index": c.index, "status": c.status, "ename": c.ename, "evalue": c.evalue,
                   "traceback": c.traceback, "output": c.output,
                   "output_truncated": c.output_truncated, "seconds": c.seconds}
                  for c in r.cells],
        "events": list(r.events),
        "problems": list(r.problems),
        "timings": r.timings,
        "peak_memory_bytes": r.peak_memory,
    }


def question_columns(results: Iterable[SubmissionResult]) -> list[str]:
    cols: list[str] = []
    for r in results:
        for q in r.questions:
            if q.id not in cols:
                cols.append(q.id)
    return cols


def grades_csv(results: list[SubmissionResult]) -> str:
    """One row per submission: submission, score, max_score, a column per question, status."""
    cols = question_columns(results)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "score", "max_score", *cols, "status"])
    for r in sorted(results, key=lambda r: r.submission):
        per_q = {q.id: f"{q.score:g}" for q in r.questions}
        writer.writerow([r.submission, f"{r.score:g}", f"{r.max_score:g}",
                         *[per_q.get(c, "") for c in cols], r.status])
    return out.getvalue()
