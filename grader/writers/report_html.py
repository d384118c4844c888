"""report.html: one submission's report, a single file that makes no network request."""

from __future__ import annotations

from ..results import SubmissionResult
from .heatmap import pictures
from .html import environment
from .summary import summary_text


def render_student(result: SubmissionResult) -> str:
    return render(result, student=True)


def render(result: SubmissionResult, *, student: bool = False) -> str:
    return environment().get_template("report.html.j2").render(
        r=result, summary=summary_text(result), pictures=pictures, student=student,
        failing_cells=[c for c in result.cells if c.status != "ok"])
