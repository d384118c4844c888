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
        writer.writerow([r.submission, f"{r.score:g}", f"{r.max_score:g}",
                         *[per_q.get(c, "") for c in cols], r.status])
    return out.getvalue()
