"""index.html: the class overview. It leads with what needs the instructor (submissions that
could not be graded, written answers to grade), then per question the pass rate and the
commonest mistakes with links to the reports, then every submission in a table that sorts and
filters in the page (a small inline script, allowed by its hash in the page's
Content-Security-Policy, so it works from a file:// URL and nothing else can run)."""

from __future__ import annotations

import base64
import hashlib
import io
import statistics
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup

from ..results import SubmissionResult, WrittenResult
from ..roster import Roster
from .html import environment
from .layout import report_href
from .mistakes import Group, Link, error_groups, question_mistakes
from .summary import question_columns

TITLE = "Class overview"
TOP_MISTAKES = 3
"""Kinds of mistake shown per question; the others are one click away."""
INLINE_LINKS = 8
"""Up to this many submissions are linked inline; more are folded away."""


@dataclass(frozen=True, slots=True)
class WrittenState:
    key: str
    title: str
    applies: Callable[[WrittenResult], bool]


WRITTEN_STATES: tuple[WrittenState, ...] = (
    WrittenState("pending", "to grade", lambda w: w.state == "pending"),
    WrittenState("stale", "stale: answer changed since it was graded",
                 lambda w: w.state == "stale"),
)
"""States of written answers the overview counts per question (a column and a list each)."""


@dataclass(frozen=True, slots=True)
class QuestionStats:
    id: str
    title: str
    max_points: float
    mean: float
    passed: int
    graded: int
    mistakes: tuple[Group, ...]
    written: dict[str, tuple[Link, ...]]
    """Per written state's key, the submissions whose answer to this question is in it."""

    @property
    def failed(self) -> int:
        return self.graded - self.passed

    @property
    def pass_rate(self) -> float:
        return self.passed / self.graded if self.graded else 0.0


@dataclass(frozen=True, slots=True)
class Row:
    """One submission in the table, with the values its script sorts and filters by."""

    result: SubmissionResult
    href: str
    cells: tuple[tuple[str, float | None, bool], ...]
    """Per question column: (question id, score or None when absent, passed)."""
    tags: str
    """Space-separated statuses the status filter matches: graded, perfect, failing,
    pending, error."""

    @property
    def failed(self) -> str:
        return " ".join(qid for qid, score, ok in self.cells if score is not None and not ok)


def render(results: list[SubmissionResult], roster: Roster | None = None) -> str:
    graded = [r for r in results if r.status == "graded"]
    scores = [r.score for r in graded]
    columns = question_columns(results)
    stats = [s for qid in columns if (s := question_stats(graded, qid)) is not None]
    top = max((r.max_score for r in graded), default=0.0)
    ordered = sorted(results, key=lambda r: r.submission)
    script = _script()
    return environment().get_template("index.html.j2").render(
        title=TITLE, rows=[row(r, columns) for r in ordered],
        columns=columns, stats=stats, written_states=WRITTEN_STATES,
        titles={s.id: s.title for s in stats},
        n_graded=len(graded), n_errors=len(results) - len(graded),
        errors=error_groups(results, report_href),
        n_written={st.key: sum(len(s.written[st.key]) for s in stats) for st in WRITTEN_STATES},
        n_kinds=sum(len(s.mistakes) for s in stats),
        mean=statistics.fmean(scores) if scores else None,
        median=statistics.median(scores) if scores else None,
        max_score=top, histogram=_histogram_svg(scores, top),
        unsandboxed=any(not r.sandboxed for r in results),
        top_mistakes=TOP_MISTAKES, inline_links=INLINE_LINKS,
        missing=roster.missing(r.submission for r in results) if roster else [],
        script=Markup(script), script_hash=script_hash(script))


def question_stats(graded: list[SubmissionResult], qid: str) -> QuestionStats | None:
    qs = [(r, q) for r in graded for q in r.questions if q.id == qid]
    if not qs:
        return None
    written = {st.key: tuple(Link(r.submission, f"{report_href(r.submission)}#q-{qid}")
                             for r, q in qs if any(st.applies(w) for w in q.written))
               for st in WRITTEN_STATES}
    return QuestionStats(qid, qs[0][1].title, max(q.auto_max + sum(w.max_points for w in q.written)
                                                   for _, q in qs),
                         statistics.fmean(q.score for _, q in qs),
                         sum(q.passed for _, q in qs), len(qs),
                         tuple(question_mistakes((r for r, _ in qs), qid, report_href)), written)


def row(r: SubmissionResult, columns: list[str]) -> Row:
    per_q = {q.id: q for q in r.questions}
    graded = r.status == "graded"
    cells = tuple((c, per_q[c].score if c in per_q and graded else None,
                   c in per_q and per_q[c].passed) for c in columns)
    tags = ["graded"] if graded else ["error"]
    if graded:
        tags.append("perfect" if r.all_checks_pass else "failing")
        if r.pending_written:
            tags.append("pending")
    return Row(r, report_href(r.submission), cells, " ".join(tags))


def script_hash(script: str) -> str:
    """The hash that allows exactly this inline script (the page's CSP quotes it)."""
    digest = hashlib.sha256(script.encode("utf-8")).digest()
    return f"sha256-{base64.b64encode(digest).decode('ascii')}"


@lru_cache(maxsize=1)
def _script() -> str:
    env = environment()
    return env.loader.get_source(env, "index.js")[0]


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
