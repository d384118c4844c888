"""Where a run's files go in the output folder."""

from __future__ import annotations

from pathlib import Path


def submission_dir(out: Path, name: str) -> Path:
    """The folder of one submission's files."""
    return out / name


def report_href(name: str) -> str:
    """A submission's report, relative to the output folder (for links from the overview)."""
    return f"{name}/report.html"
