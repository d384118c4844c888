"""grades.csv: one row per submission for the class."""

from __future__ import annotations

import csv
import io

from ..results import SubmissionResult
from .summary import question_columns


def render(results: list[SubmissionResult]) -> str:
    """submission, score, max_score, a column per question, status."""
    cols = question_columns(results)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["submission", "score", "max_score", *cols, "status"])
    for r in sorted(results, key=lambda r: r.submission):
        per_q = {q.id: f"{q.score:g}" for q in r.questions}
        writer.writerow([cell(r.submission), f"{r.score:g}", f"{r.max_score:g}",
                         *[per_q.get(c, "") for c in cols], cell(r.status)])
    return out.getvalue()


_FORMULA = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(text: str) -> str:
    """Text as a spreadsheet shows it, never as a formula it evaluates (OWASP's advice for
    CSV: a leading quote before =, +, -, @, tab or a line break). Numbers are written apart."""
    return "'" + text if text.startswith(_FORMULA) else text
