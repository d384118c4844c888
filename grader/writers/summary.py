"""Plain-text views of results shared by several writers."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from ..results import SubmissionResult


def summary_text(r: SubmissionResult) -> str:
    """A few lines on the whole submission: score, cells that failed, events."""
    if r.status != "graded":
        return f"This submission could not be graded: {r.error}"
    lines = [f"Score {r.score:g}/{r.max_score:g} (pack {r.pack})."]
    if r.pending_written:
        lines.append(f"{r.pending_written:g} more points of written answers await the instructor.")
    for c in r.cells:
        if c.status != "ok":
            lines.append(f"Cell {c.index + 1}: {c.status}"
                         + (f" ({c.ename}: {c.evalue})" if c.ename else ""))
    lines += list(r.events)
    if not r.sandboxed:
        lines.append("Graded WITHOUT the sandbox (--no-sandbox): student code ran unisolated.")
    return "\n".join(lines)


def points_possible(results: Iterable[SubmissionResult]) -> float:
    """The class's total: the commonest maximum among results that know their pack (a file
    that could not even be read does not know it)."""
    totals = Counter(r.max_score for r in results if r.questions)
    return totals.most_common(1)[0][0] if totals else 0.0


def question_columns(results: Iterable[SubmissionResult]) -> list[str]:
    """Question ids in the order they first appear."""
    cols: list[str] = []
    for r in results:
        for q in r.questions:
            if q.id not in cols:
                cols.append(q.id)
    return cols
