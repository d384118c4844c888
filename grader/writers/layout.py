"""Where a run's files go in the output folder: the run's own files at the top, and each
submission's in a folder of its own under `submissions/`, so no submission name can clash with
a file of the run (`gradebook.sqlite`, `index.html`, ...)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

SUBMISSIONS = "submissions"
_SAFE = "-_.@+"


def folder_name(name: str) -> str:
    """A submission name as one folder name: reversible (percent-encoded), so two names never
    share a folder; never hidden, never `.` or `..`."""
    encoded = quote(name, safe=_SAFE)
    return "%2E" + encoded[1:] if encoded.startswith(".") else encoded


def submission_dir(out: Path, name: str) -> Path:
    """The folder of one submission's files."""
    return out / SUBMISSIONS / folder_name(name)


def report_href(name: str) -> str:
    """A submission's report, relative to the output folder (for links from the overview)."""
    return f"{SUBMISSIONS}/{quote(folder_name(name), safe=_SAFE)}/report.html"
