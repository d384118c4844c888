"""The class's scores in the gradebook import formats of learning management systems.

- canvas: Canvas's gradebook CSV. Header `Student, ID, SIS User ID, SIS Login ID, Section,
  <assignment>`, then a `Points Possible` row. Students are matched by SIS User ID (the roster's
  student id), then SIS Login ID (its email); an assignment title Canvas does not know creates
  a new assignment with those points. With a roster, submissions it does not name are left
  out (a row without ids matches nobody); without one, every submission is written by name.
- moodle: Moodle's grade import CSV: an identifier column (`email`, else `idnumber`) to map to
  the user field of that name, the grade column and a feedback column. Moodle refuses the whole
  file if one identifier is unknown, so only students on the roster are written.
- csv: every column we have, for anything else.

Scores are the points earned, out of the pack's total (automatic and written); written
answers not yet graded count 0 and are said in the feedback. A student without a submission
gets no score (an empty cell: "no grade" in both systems), not a zero.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from .results import SubmissionResult
from .roster import Roster, Student
from .writers.grades_csv import cell

FORMATS = ("canvas", "moodle", "csv")


class ExportError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Line:
    """One student (or one submission without a roster entry) in an export."""

    key: str
    student: Student | None
    result: SubmissionResult | None


def lines(results: list[SubmissionResult], roster: Roster | None) -> list[Line]:
    """Submissions with their students, then roster students without a submission."""
    out = [Line(r.submission, roster.find(r.submission) if roster else None, r)
           for r in sorted(results, key=lambda r: r.submission)]
    if roster:
        out += [Line(s.key, s, None) for s in roster.missing(r.submission for r in results)]
    return out


def export(fmt: str, results: list[SubmissionResult], roster: Roster | None, *,
           assignment: str, points_possible: float) -> str:
    if fmt not in FORMATS:
        raise ExportError(f"unknown format {fmt!r}; one of {', '.join(FORMATS)}")
    rows = lines(results, roster)
    return {"canvas": _canvas, "moodle": _moodle, "csv": _plain}[fmt](
        rows, assignment, points_possible)


def _score(line: Line) -> str:
    r = line.result
    return "" if r is None or r.status != "graded" else f"{r.score:g}"


def _feedback(line: Line, points_possible: float) -> str:
    r = line.result
    if r is None:
        return "No submission."
    if r.status != "graded":
        return f"Not graded: {r.error}"
    text = f"{r.score:g}/{points_possible:g}"
    if r.pending_written:
        text += f"; {r.pending_written:g} points of written answers not graded yet"
    return text


def _write(rows: list[list[str]]) -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue()


def _canvas(lines_: list[Line], assignment: str, points: float) -> str:
    rows = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", cell(assignment)],
            ["Points Possible", "", "", "", "", f"{points:g}"]]
    if any(ln.student is not None for ln in lines_):
        # With a roster Canvas matches by id; a row without one would match nobody.
        lines_ = [ln for ln in lines_ if ln.student is not None]
    for ln in lines_:
        s = ln.student
        rows.append([cell(s.name or s.key if s else ln.key), "",
                     cell(s.student_id if s else ""), cell(s.email if s else ""), "",
                     _score(ln)])
    return _write(rows)


def _moodle(lines_: list[Line], assignment: str, points: float) -> str:
    on_roster = [ln for ln in lines_ if ln.student is not None]
    if not on_roster:
        raise ExportError("Moodle matches students by email or id number: pass --roster with "
                          "the students' emails or ids")
    by_email = all(ln.student.email for ln in on_roster)  # type: ignore[union-attr]
    ident = "email" if by_email else "idnumber"
    rows = [[ident, cell(assignment), cell(f"{assignment} feedback")]]
    for ln in on_roster:
        s = ln.student
        assert s is not None
        rows.append([cell(s.email if by_email else s.student_id), _score(ln),
                     cell(_feedback(ln, points))])
    return _write(rows)


def _plain(lines_: list[Line], assignment: str, points: float) -> str:
    rows = [["submission", "student_id", "name", "email", "score", "points_possible",
             "pending_written", "status", "path"]]
    for ln in lines_:
        s, r = ln.student, ln.result
        rows.append([cell(ln.key), cell(s.student_id if s else ""), cell(s.name if s else ""),
                     cell(s.email if s else ""), _score(ln), f"{points:g}",
                     f"{r.pending_written:g}" if r else "",
                     cell(r.status if r else "missing"), cell(r.path if r else "")])
    return _write(rows)


def unmatched(results: list[SubmissionResult], roster: Roster | None) -> list[str]:
    """Submissions the roster does not name (graded, but not exported to Canvas or Moodle)."""
    if roster is None:
        return []
    return [r.submission for r in results if roster.find(r.submission) is None]
