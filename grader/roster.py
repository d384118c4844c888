"""The class roster: which student each submission belongs to.

A roster is a CSV file with a header row and one row per student: the submission's name or
its folder (`alice` matches the submissions `alice` and `alice/hw`), the student's id, display
name and email. Columns are found by their header (see COLUMNS); the file may be saved by a
spreadsheet (UTF-8, with or without a byte-order mark, commas or semicolons).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

COLUMNS = {
    "submission": ("submission", "folder", "name of folder", "login", "github", "username"),
    "student_id": ("student_id", "student id", "id", "sis user id", "idnumber", "id number"),
    "name": ("name", "display name", "display_name", "student", "full name"),
    "email": ("email", "e-mail", "mail", "email address"),
}
"""Each field and the headers it is read from (case and spaces do not matter)."""


class RosterError(ValueError):
    """The roster cannot be used; the message names the file, the line and the fix."""


@dataclass(frozen=True, slots=True)
class Student:
    key: str
    """The submission name or folder this student's work is found under."""
    student_id: str
    name: str = ""
    email: str = ""


@dataclass(frozen=True, slots=True)
class Roster:
    students: tuple[Student, ...] = ()

    def find(self, submission: str) -> Student | None:
        """The student a submission belongs to: by its full name, else by its folder."""
        by_key = {s.key: s for s in self.students}
        return by_key.get(submission) or by_key.get(submission.split("/", 1)[0])

    def missing(self, submissions: Iterable[str]) -> list[Student]:
        """Students without any submission."""
        found = {s.key for name in submissions if (s := self.find(name)) is not None}
        return [s for s in self.students if s.key not in found]

    def to_rows(self) -> list[list[str]]:
        return [[s.key, s.student_id, s.name, s.email] for s in self.students]

    @classmethod
    def from_rows(cls, rows: list[list[str]]) -> Roster:
        return cls(tuple(Student(*row) for row in rows))


def read_roster(path: Path) -> Roster:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise RosterError(f"cannot read the roster {path}: {exc}; save it as UTF-8 CSV") from None
    return parse_roster(text, str(path))


def parse_roster(text: str, where: str = "the roster") -> Roster:
    if not text.strip():
        raise RosterError(f"{where} is empty; it needs a header row and one row per student")
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text.splitlines()[0], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    rows = list(csv.reader(io.StringIO(text), dialect))
    header = [h.strip().lower() for h in rows[0]]
    index: dict[str, int] = {}
    for field, names in COLUMNS.items():
        hits = [i for i, h in enumerate(header) if h in names]
        if hits:
            index[field] = hits[0]
    missing = [f for f in ("submission", "student_id") if f not in index]
    if missing:
        raise RosterError(f"{where}: the header {rows[0]} has no " + " and no ".join(
            f"{f.replace('_', ' ')} column (name it one of: {', '.join(COLUMNS[f])})"
            for f in missing))
    students: list[Student] = []
    seen: dict[str, int] = {}
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(field: str, row: list[str] = row) -> str:
            i = index.get(field)
            return row[i].strip() if i is not None and i < len(row) else ""

        key, sid = cell("submission"), cell("student_id")
        if not key or not sid:
            raise RosterError(f"{where}, line {line}: the submission and the student id must "
                              "both be filled in")
        if key in seen:
            raise RosterError(f"{where}, lines {seen[key]} and {line}: the submission {key!r} "
                              "is listed twice")
        seen[key] = line
        students.append(Student(key, sid, cell("name"), cell("email")))
    return Roster(tuple(students))
