"""The result model is a leaf with one versioned dict form; stored rows of older versions are
read, and rows no version can read are regraded with a message, never a traceback."""

from __future__ import annotations

import dataclasses
import json
import sqlite3
import subprocess
import sys

import pytest

from grader.gradebook import Gradebook
from grader.results import (
    SCHEMA,
    CellRun,
    CheckOutcome,
    CheckResult,
    Figure,
    QuestionResult,
    ResultFormatError,
    SubmissionResult,
    WrittenResult,
    from_dict,
    to_dict,
)

from conftest import NOTEBOOKS, load_results, run_grader

HEAVY = ("nbclient", "zmq", "pytest", "jupyter_client", "grader.execute", "grader.kernels",
         "torch")


def sample() -> SubmissionResult:
    check = CheckResult(CheckOutcome("1", "answer is right", False, 2.0, "no", "try",
                                     "(1,)", "3", "2",
                                     figures=(Figure("Your answer", ((1.0, -2.5),), "answer"),),
                                     figure_notes=("W is too large",)), 0.0, 1.0)
    written = WrittenResult("1", "answer-1", "because", "model", 1.0, 0.5, "ok")
    return SubmissionResult(
        submission="s", path="/x/s.ipynb", status="graded", pack="tiny", seed=7, sha256="ab",
        questions=(QuestionResult("1", "One", (check,), (written,)),),
        cells=(CellRun(0, "error", "E", "v", "tb", "out", True, 0.5),), events=("e",),
        problems=("p",), sandbox="bwrap-root", execution_time=1.5, graded_at="t",
        grader_version="9", timings={"read": 0.1}, peak_memory=123)


@pytest.mark.parametrize("module", ["grader.results", "grader.writers.report_html",
                                    "grader.writers", "grader.gradebook"])
def test_readers_load_none_of_the_executor(module):
    code = (f"import sys, {module}; heavy = {HEAVY!r}; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in heavy or m in heavy))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    assert done.stdout.strip() == "[]", f"import {module} loaded {done.stdout}"


def test_round_trip_through_json():
    r = sample()
    d = json.loads(json.dumps(to_dict(r)))
    assert d["schema"] == SCHEMA
    assert from_dict(d) == r


def without_figures(r: SubmissionResult) -> SubmissionResult:
    return dataclasses.replace(r, questions=tuple(
        dataclasses.replace(q, checks=tuple(
            dataclasses.replace(c, outcome=dataclasses.replace(c.outcome, figures=(),
                                                               figure_notes=()))
            for c in q.checks)) for q in r.questions))


def version_1(d: dict) -> dict:
    """A schema-2 dict as grader 0.2 (schema 1) stored it: no figures."""
    for q in d["questions"]:
        for c in q["checks"]:
            del c["outcome"]["figures"], c["outcome"]["figure_notes"]
    return {**d, "schema": 1}


def test_version_0_rows_are_read():
    d = version_1(json.loads(json.dumps(to_dict(sample()))))
    del d["schema"]
    for q in d["questions"]:
        q["manual"] = q.pop("written")
    assert from_dict(d) == without_figures(sample())


def test_version_1_rows_are_read_without_figures():
    d = version_1(json.loads(json.dumps(to_dict(sample()))))
    assert from_dict(d) == without_figures(sample())
    assert without_figures(sample()) != sample()


@pytest.mark.parametrize("bad", [[], {"schema": 99}, {"schema": 1, "questions": 3},
                                 {"schema": 1}, {"schema": SCHEMA}, "text"])
def test_unreadable_results_raise_a_clear_error(bad):
    with pytest.raises(ResultFormatError, match="regrade|newer|not a JSON object"):
        from_dict(bad)


def test_unreadable_rows_are_regraded_with_a_message(tmp_path):
    nb = str(NOTEBOOKS / "tiny-correct.ipynb")
    out = tmp_path / "out"
    first = run_grader("grade", nb, "--out", str(out), "--seed", "5")
    assert first.returncode == 0, first.stderr
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        db.execute("UPDATE results SET result = ?", (json.dumps({"schema": 99}),))
    with Gradebook(out / "gradebook.sqlite") as book:
        (shown,) = book.results()  # the overview shows it as an error, with what to do
    assert shown.status == "error" and "run the grade command again" in shown.error
    again = run_grader("grade", nb, "--out", str(out), "--seed", "5")
    assert again.returncode == 0, again.stderr
    assert "Traceback" not in again.stderr
    assert "cannot read; grading those submissions again" in again.stderr
    assert "Graded 1 submissions" in again.stdout
    assert load_results(out, "tiny-correct")["score"] == 3
