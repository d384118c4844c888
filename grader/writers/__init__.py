"""What a run writes, declared as lists: per submission (into its own folder) and per run
(into the output folder). A new format is one module with a `render` function and one entry
here."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..results import SubmissionResult
from ..roster import Roster
from . import grades_csv, index_html, report_html, results_json
from .layout import submission_dir


@dataclass(frozen=True, slots=True)
class SubmissionWriter:
    filename: str
    render: Callable[[SubmissionResult], str]


@dataclass(frozen=True, slots=True)
class RunWriter:
    filename: str
    render: Callable[[list[SubmissionResult], Roster | None], str]


SUBMISSION_WRITERS: tuple[SubmissionWriter, ...] = (
    SubmissionWriter("results.json", results_json.render),
    SubmissionWriter("report.html", report_html.render),
)
STUDENT_REPORT = SubmissionWriter("student-report.html", report_html.render_student)
"""The report to hand back (`grade --student-reports`): no model answers, no hidden checks'
details, no seed."""
RUN_WRITERS: tuple[RunWriter, ...] = (
    RunWriter("grades.csv", grades_csv.render),
    RunWriter("index.html", index_html.render),
)


def write_submission(out: Path, result: SubmissionResult,
                     writers: Sequence[SubmissionWriter] = SUBMISSION_WRITERS) -> None:
    folder = submission_dir(out, result.submission)
    for w in writers:
        atomic_write(folder / w.filename, w.render(result))


def write_run(out: Path, results: list[SubmissionResult], roster: Roster | None = None,
              writers: Sequence[RunWriter] = RUN_WRITERS) -> None:
    for w in writers:
        atomic_write(out / w.filename, w.render(results, roster))


def write_junit(path: Path, results: list[SubmissionResult], *, student: bool = False) -> None:
    """`results` as JUnit XML (see grader/writers/junit.py)."""
    from . import junit  # junitparser is loaded only when asked for

    atomic_write(path, junit.render(results, student=student))


def atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # as open() would make it (mkstemp makes it 0600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _umask() -> int:
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            return next(int(line.split()[1], 8) for line in fh if line.startswith("Umask:"))
    except (OSError, StopIteration, ValueError):
        return 0o022
