"""grades.csv: one row per submission for the class."""

from __future__ import annotations

import csv
import io

from ..results import SubmissionResult
from ..roster import Roster
from .summary import points_possible, question_columns


def render(results: list[SubmissionResult], roster: Roster | None = None) -> str:
    """submission, student_id, score, max_score, a column per question, pending (points of
    written answers awaiting the instructor), status, path; then one "missing" row per roster
    student without a submission."""
    cols = question_columns(results)
    total = points_possible(results)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "student_id", "score", "max_score", *cols, "pending",
                     "status", "path"])
    for r in sorted(results, key=lambda r: r.submission):
        per_q = {q.id: f"{q.score:g}" for q in r.questions}
        student = roster.find(r.submission) if roster else None
        writer.writerow([cell(r.submission), cell(student.student_id if student else ""),
                         f"{r.score:g}", f"{r.max_score if r.questions else total:g}",
                         *[per_q.get(c, "") for c in cols],
                         f"{r.pending_written:g}", cell(_status(r)), cell(r.path)])
    for s in roster.missing(r.submission for r in results) if roster else ():
        writer.writerow([cell(s.key), cell(s.student_id), "", "", *[""] * len(cols), "",
                         "missing", ""])
    return out.getvalue()


def _status(r: SubmissionResult) -> str:
    stale = sum(w.state == "stale" for q in r.questions for w in q.written)
    if r.status == "graded" and stale:
        return f"graded; {stale} stale: answer changed since it was graded"
    return r.status


_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(text: str) -> str:
    """Text as a spreadsheet shows it, never as a formula it evaluates (OWASP's advice for
    CSV: a leading quote before =, +, -, @, tab or a line break). Numbers are written apart."""
    return "'" + text if text.startswith(_FORMULA) else text
