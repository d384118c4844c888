"""report.html: one submission's report, a single file that makes no network request."""

from __future__ import annotations

from ..results import SubmissionResult
from .heatmap import pictures
from .html import environment
from .summary import summary_text


def render(result: SubmissionResult) -> str:
    return environment().get_template("report.html.j2").render(
        r=result, summary=summary_text(result), pictures=pictures,
        failing_cells=[c for c in result.cells if c.status != "ok"])
