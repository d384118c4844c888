"""index.html: the class overview, linking every submission's report."""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass

from ..results import SubmissionResult
from ..roster import Roster
from .html import environment
from .layout import report_href
from .summary import question_columns

TITLE = "Class overview"


@dataclass(frozen=True, slots=True)
class QuestionStats:
    id: str
    title: str
    max_points: float
    mean: float
    passed: int
    graded: int


def render(results: list[SubmissionResult], roster: Roster | None = None) -> str:
    graded = [r for r in results if r.status == "graded"]
    scores = [r.score for r in graded]
    stats = []
    for qid in question_columns(results):
        qs = [q for r in graded for q in r.questions if q.id == qid]
        if qs:
            stats.append(QuestionStats(qid, qs[0].title, qs[0].max_score,
                                       statistics.fmean(q.score for q in qs),
                                       sum(q.passed for q in qs), len(qs)))
    top = max((r.max_score for r in graded), default=0.0)
    return environment().get_template("index.html.j2").render(
        title=TITLE, results=sorted(results, key=lambda r: r.submission),
        links={r.submission: report_href(r.submission) for r in results},
        columns=question_columns(results), stats=stats,
        n_graded=len(graded), n_errors=len(results) - len(graded),
        mean=statistics.fmean(scores) if scores else None,
        median=statistics.median(scores) if scores else None,
        max_score=top, histogram=_histogram_svg(scores, top),
        unsandboxed=any(not r.sandboxed for r in results),
        pending=sum(w.state == "pending" for r in results for q in r.questions
                    for w in q.written),
        stale=sum(w.state == "stale" for r in results for q in r.questions for w in q.written),
        missing=roster.missing(r.submission for r in results) if roster else [])


def _histogram_svg(scores: list[float], top: float) -> str:
    """The score distribution as inline SVG (matplotlib, no fonts or images fetched)."""
    if not scores:
        return ""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(6, 2.2))
    ax = fig.add_subplot()
    bins = max(1, min(24, int(top) + 1)) if top else 10
    ax.hist(scores, bins=bins, range=(0, top or max(scores) or 1), color="#3a6ea5",
            edgecolor="white")
    ax.set_xlabel("score")
    ax.set_ylabel("submissions")
    ax.spines[["top", "right"]].set_visible(False)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    fig.tight_layout()
    buf = io.StringIO()
    # No date and fixed element ids: the same scores give the same page.
    with matplotlib.rc_context({"svg.hashsalt": "grader"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]
