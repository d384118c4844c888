"""The gradebook: an SQLite file in the output folder holding every result the moment it is
known, the run's seed, and the instructor's awards for written answers.

A result is stored under the submission's name with the content hash of its file and the
fingerprint of what graded it (pack files, seed, limits, grader version); a later run reuses it
only when both still match. Each write is its own transaction, so an interrupted run loses at
most the submissions that were being graded.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import sqlite3
from pathlib import Path

from .results import (
    ResultFormatError,
    SubmissionResult,
    answer_id,
    error_result,
    from_dict,
    to_dict,
)
from .roster import Roster
from .score import Award, apply_awards

FILENAME = "gradebook.sqlite"
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS results (
    name TEXT PRIMARY KEY,
    path TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL NOT NULL,
    max_score REAL NOT NULL,
    result TEXT NOT NULL,
    stored_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS awards (
    name TEXT NOT NULL,
    question TEXT NOT NULL,
    tag TEXT NOT NULL,
    points REAL NOT NULL,
    comment TEXT NOT NULL,
    awarded_at TEXT NOT NULL,
    answer_id TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (name, question, tag)
);
"""


class GradebookError(ValueError):
    pass


class Gradebook:
    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise GradebookError(f"{path} is not a usable gradebook ({exc}); move it away to "
                                 "start a new one") from None

    def _migrate(self) -> None:
        """Awards stored by grader 0.2.0 have no answer id: give each the id of the text it
        was given to (the text stored with the result)."""
        columns = [r[1] for r in self._db.execute("PRAGMA table_info(awards)")]
        if "answer_id" in columns:
            return
        self._db.execute("ALTER TABLE awards ADD COLUMN answer_id TEXT NOT NULL DEFAULT ''")
        for name, question, tag in self._db.execute(
                "SELECT name, question, tag FROM awards").fetchall():
            row = self._db.execute("SELECT result FROM results WHERE name = ?", (name,)).fetchone()
            try:
                result = from_dict(json.loads(row[0])) if row else None
            except (ValueError, ResultFormatError):
                result = None
            texts = [w.text for q in (result.questions if result else ()) for w in q.written
                     if (w.question, w.tag) == (question, tag)]
            if texts:
                self._db.execute("UPDATE awards SET answer_id = ? WHERE name = ? AND question = ? "
                                 "AND tag = ?", (answer_id(texts[0]), name, question, tag))

    @classmethod
    def open_existing(cls, out: Path) -> Gradebook:
        path = out / FILENAME
        if not path.exists():
            raise GradebookError(f"no gradebook in {out}: grade the class into it first "
                                 f"(grader grade ... --out {out})")
        return cls(path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> Gradebook:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- run settings -----------------------------------------------------------------------

    def get(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set(self, key: str, value: str) -> None:
        self._db.execute("INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO "
                         "UPDATE SET value = excluded.value", (key, value))

    # --- results ------------------------------------------------------------------------------

    def store(self, result: SubmissionResult, fingerprint: str, sha256: str) -> None:
        """Store `result` for the file whose content hash is `sha256` (the hash the next run
        compares, also for a file that could not be read)."""
        self._db.execute(
            "INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE "
            "SET path=excluded.path, sha256=excluded.sha256, fingerprint=excluded.fingerprint, "
            "status=excluded.status, score=excluded.score, max_score=excluded.max_score, "
            "result=excluded.result, stored_at=excluded.stored_at",
            (result.submission, result.path, sha256, fingerprint, result.status,
             result.score, result.max_score, json.dumps(to_dict(result)), _now()))

    def state(self, name: str, sha256: str, fingerprint: str) -> str:
        """"current" when the stored result still holds for this file, graded this way;
        else "missing", "changed" or "unreadable" (stored in a format this version cannot
        read)."""
        row = self._db.execute("SELECT sha256, fingerprint, result FROM results WHERE name = ?",
                               (name,)).fetchone()
        if row is None:
            return "missing"
        if not _readable(row[2]):
            return "unreadable"
        return "current" if row[:2] == (sha256, fingerprint) else "changed"

    def relocate(self, name: str, path: str) -> bool:
        """Record that the stored result's file is now at `path` (renamed, not changed).
        Returns whether it moved."""
        row = self._db.execute("SELECT path, result FROM results WHERE name = ?",
                               (name,)).fetchone()
        if row is None or row[0] == path:
            return False
        data = json.loads(row[1])
        data["path"] = path
        self._db.execute("UPDATE results SET path = ?, result = ? WHERE name = ?",
                         (path, json.dumps(data), name))
        return True

    def result(self, name: str) -> SubmissionResult | None:
        row = self._db.execute("SELECT name, path, result FROM results WHERE name = ?",
                               (name,)).fetchone()
        return self._load(*row) if row else None

    def results(self) -> list[SubmissionResult]:
        rows = self._db.execute("SELECT name, path, result FROM results ORDER BY name")
        return [self._load(*row) for row in rows.fetchall()]

    def _load(self, name: str, path: str, text: str) -> SubmissionResult:
        """A stored result; one this version cannot read becomes an error result that says
        so (the next run of the same command grades that submission again)."""
        try:
            return self.with_awards(from_dict(json.loads(text)))
        except (ValueError, ResultFormatError) as exc:  # JSONDecodeError is a ValueError
            return error_result(name, path, f"its stored result cannot be read ({exc}); run "
                                            "the grade command again to regrade it")

    def names(self) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT name FROM results ORDER BY name")]

    # --- written answers ------------------------------------------------------------------------

    def award(self, name: str, question: str, tag: str, points: float, comment: str,
              answer_id: str) -> None:
        """Award `points` to the written answer whose text has the id `answer_id` (see
        grader.results.answer_id): if the student rewrites it, the award goes stale."""
        self._db.execute(
            "INSERT INTO awards (name, question, tag, points, comment, awarded_at, answer_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(name, question, tag) DO UPDATE SET "
            "points=excluded.points, comment=excluded.comment, awarded_at=excluded.awarded_at, "
            "answer_id=excluded.answer_id",
            (name, question, tag, points, comment, _now(), answer_id))

    def awards(self, name: str) -> dict[tuple[str, str], Award]:
        rows = self._db.execute("SELECT question, tag, points, comment, answer_id FROM awards "
                                "WHERE name = ?", (name,)).fetchall()
        return {(q, t): Award(p, c, a) for q, t, p, c, a in rows}

    def with_awards(self, result: SubmissionResult) -> SubmissionResult:
        return apply_awards(result, self.awards(result.submission))

    @contextlib.contextmanager
    def transaction(self):
        """Everything written inside happens, or nothing does."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- the roster ---------------------------------------------------------------------------

    def roster(self) -> Roster | None:
        stored = self.get("roster")
        return Roster.from_rows(json.loads(stored)) if stored else None

    def set_roster(self, roster: Roster) -> None:
        self.set("roster", json.dumps(roster.to_rows()))


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _readable(text: str) -> bool:
    try:
        from_dict(json.loads(text))
        return True
    except (ValueError, ResultFormatError):
        return False
