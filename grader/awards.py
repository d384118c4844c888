"""Grading written answers for a whole class through a spreadsheet: export one row per
(submission, written answer), let the instructor fill in points and comments, import it back.

Each row carries the answer's id (a hash of its text): an answer rewritten since the export is
refused as stale on import, so points never land on text the instructor did not read.
"""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass

from .gradebook import Gradebook
from .results import SubmissionResult, answer_id
from .roster import Roster
from .writers.grades_csv import cell

HEADER = ["submission", "student_id", "student", "question", "tag", "state", "points_possible",
          "points", "comment", "answer", "model_answer", "answer_id"]
"""The columns of the awards file; `points` and `comment` are the ones to fill in."""


class AwardsFileError(ValueError):
    """The file is not an awards file this command wrote; the message says what is wrong."""


@dataclass(frozen=True, slots=True)
class Award:
    submission: str
    question: str
    tag: str
    points: float
    comment: str
    answer_id: str


@dataclass(frozen=True, slots=True)
class ImportReport:
    applied: list[Award]
    skipped: list[str]
    """One line per refused row: its line number and why."""
    left: int
    """Rows whose points were left empty (still to grade)."""


def export_rows(results: list[SubmissionResult], roster: Roster | None = None) -> str:
    """The awards file: UTF-8 with a byte-order mark (spreadsheets then read it as UTF-8),
    every text cell quoted as needed (commas and line breaks inside answers survive)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(HEADER)
    for r in sorted(results, key=lambda r: r.submission):
        student = roster.find(r.submission) if roster else None
        for q in r.questions:
            for w in q.written:
                points = "" if w.awarded is None else f"{w.awarded:g}"
                writer.writerow([cell(r.submission), cell(student.student_id if student else ""),
                                 cell(student.name if student else ""), cell(w.question),
                                 cell(w.tag), w.state, f"{w.max_points:g}", points,
                                 cell(w.comment), cell(w.text or ""), cell(w.model_answer),
                                 answer_id(w.text)])
    return out.getvalue()


def plan_import(text: str, results: list[SubmissionResult]) -> ImportReport:
    """Which rows of an edited awards file can be applied, and why the others cannot. Pure:
    nothing is stored here."""
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    if not rows or [h.strip() for h in rows[0]] != HEADER:
        raise AwardsFileError("the first row is not the header `grader awards export` writes "
                              f"({','.join(HEADER)}); export the file again and edit that")
    by_name = {r.submission: r for r in results}
    applied, skipped, left = [], [], 0
    seen: set[tuple[str, str]] = set()
    for line, row in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in row):
            continue
        if len(row) != len(HEADER):
            skipped.append(f"line {line}: {len(row)} cells instead of {len(HEADER)}")
            continue
        f = dict(zip(HEADER, (_plain(c) for c in row), strict=True))
        if not f["points"].strip():
            left += 1
            continue
        result = by_name.get(f["submission"])
        items = [w for q in result.questions for w in q.written
                 if (w.question, w.tag) == (f["question"], f["tag"])] if result else []
        if not items:
            skipped.append(f"line {line}: no written answer {f['tag']!r} of question "
                           f"{f['question']!r} for submission {f['submission']!r}")
            continue
        w = items[0]
        if answer_id(w.text) != f["answer_id"].strip():
            skipped.append(f"line {line}: {f['submission']} {f['tag']}: stale, the answer "
                           "changed since the file was exported; export again")
            continue
        if w.state == "blank":
            skipped.append(f"line {line}: {f['submission']} {f['tag']}: the answer is blank "
                           "(it scores 0 by itself)")
            continue
        points = _number(f["points"])
        if points is None or not 0 <= points <= w.max_points:
            skipped.append(f"line {line}: {f['submission']} {f['tag']}: points "
                           f"{f['points']!r} are not a number from 0 to {w.max_points:g}")
            continue
        if (f["submission"], f["tag"]) in seen:
            skipped.append(f"line {line}: {f['submission']} {f['tag']} is in the file twice")
            continue
        seen.add((f["submission"], f["tag"]))
        applied.append(Award(f["submission"], w.question, w.tag, points, f["comment"],
                             f["answer_id"].strip()))
    return ImportReport(applied, skipped, left)


def apply(book: Gradebook, awards: list[Award]) -> None:
    """Store `awards`, all or none."""
    with book.transaction():
        for a in awards:
            book.award(a.submission, a.question, a.tag, a.points, a.comment, a.answer_id)


def _number(text: str) -> float | None:
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _plain(text: str) -> str:
    """A cell as exported, without the quote that kept a spreadsheet from evaluating it."""
    return text[1:] if text.startswith("'") and text[1:2] in ("=", "+", "-", "@", "\t", "\r",
                                                               "\n") else text
