"""LMS exports decide which rows a gradebook import can match."""

import csv
import io

from grader import lms
from grader.results import SubmissionResult
from grader.roster import parse_roster

ROSTER = parse_roster("submission,student id,name,email\n"
                      "alice,S1,Alice,alice@uni.edu\ndora,S4,Dora,dora@uni.edu\n")
RESULTS = [SubmissionResult("alice", "/in/alice/hw.ipynb", "graded"),
           SubmissionResult("eve", "/in/eve/hw.ipynb", "graded")]


def table(fmt, roster):
    text = lms.export(fmt, RESULTS, roster, assignment="Conv", points_possible=17)
    return list(csv.reader(io.StringIO(text)))


def test_canvas_with_a_roster_writes_only_students_it_can_match():
    rows = table("canvas", ROSTER)
    assert [r[2] for r in rows[2:]] == ["S1", "S4"]  # eve has no SIS id: left out
    assert rows[2][5] == "0" and rows[3][5] == ""
    assert lms.unmatched(RESULTS, ROSTER) == ["eve"]


def test_canvas_without_a_roster_writes_every_submission_by_name():
    rows = table("canvas", None)
    assert [r[0] for r in rows[2:]] == ["alice", "eve"]


def test_moodle_and_plain_csv_with_a_roster():
    assert [r[0] for r in table("moodle", ROSTER)[1:]] == ["alice@uni.edu", "dora@uni.edu"]
    plain = {r[0]: r for r in table("csv", ROSTER)[1:]}
    assert set(plain) == {"alice", "eve", "dora"} and plain["dora"][7] == "missing"
