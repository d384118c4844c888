"""HTML reports: one page per submission and the class overview, each a single file that
makes no network request when opened. Jinja2 escapes everything the student wrote."""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass

from jinja2 import Environment, PackageLoader, select_autoescape

from .export import question_columns, summary_text
from .results import SubmissionResult


def _environment() -> Environment:
    env = Environment(loader=PackageLoader("grader", "templates"),
                      autoescape=select_autoescape(default=True, default_for_string=True),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["pts"] = lambda x: f"{round(x, 2):g}"
    return env


def render_report(result: SubmissionResult) -> str:
    return _environment().get_template("report.html.j2").render(
        r=result, summary=summary_text(result),
        failing_cells=[c for c in result.cells if c.status != "ok"])


@dataclass(frozen=True, slots=True)
class QuestionStats:
    id: str
    title: str
    max_points: float
    mean: float
    passed: int
    graded: int


def render_index(results: list[SubmissionResult], links: dict[str, str], title: str) -> str:
    """`links` maps a submission name to the relative address of its report."""
    graded = [r for r in results if r.status == "graded"]
    scores = [r.score for r in graded]
    stats = []
    for qid in question_columns(results):
        qs = [q for r in graded for q in r.questions if q.id == qid]
        if qs:
            stats.append(QuestionStats(qid, qs[0].title, qs[0].max_score,
                                       statistics.fmean(q.score for q in qs),
                                       sum(q.passed for q in qs), len(qs)))
    return _environment().get_template("index.html.j2").render(
        title=title, results=sorted(results, key=lambda r: r.submission), links=links,
        columns=question_columns(results), stats=stats,
        n_graded=len(graded), n_errors=len(results) - len(graded),
        mean=statistics.fmean(scores) if scores else None,
        median=statistics.median(scores) if scores else None,
        max_score=max((r.max_score for r in graded), default=0.0),
        histogram=_histogram_svg(scores, max((r.max_score for r in graded), default=0.0)),
        unsandboxed=any(r.sandbox == "none" for r in results))


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
    fig.savefig(buf, format="svg")
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]
