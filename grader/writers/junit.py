"""JUnit XML for CI test reporters (GitHub Actions reporters, GitLab, Jenkins): one test suite
per submission, one test case per check (classname = the question), written with junitparser.

A failed check is a <failure> carrying its feedback; a hidden check (graded only by the
instructor) and a written answer awaiting the instructor are <skipped>; a check that crashed
is an <error>; a submission that could not be graded is one <error> case.
"""

from __future__ import annotations

import io
import re

from junitparser import Error, Failure, JUnitXml, Skipped, TestCase, TestSuite

from ..results import CheckResult, SubmissionResult

_ILLEGAL = re.compile("[^\x09\x0a\x0d\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def clean(text: str | None) -> str:
    """Text XML 1.0 can hold: terminal colours and control characters removed."""
    return _ILLEGAL.sub("", _ANSI.sub("", text or ""))


def render(results: list[SubmissionResult], *, student: bool = False) -> str:
    """The run as JUnit XML; with `student`, hidden checks say only that they exist."""
    xml = JUnitXml(clean("grader"))
    for r in sorted(results, key=lambda r: r.submission):
        xml.add_testsuite(_suite(r, student))
    xml.update_statistics()
    out = io.BytesIO()
    xml.write(out)
    return out.getvalue().decode("utf-8")


def _suite(r: SubmissionResult, student: bool) -> TestSuite:
    suite = TestSuite(clean(f"{r.pack or 'notebook'}: {r.submission}"))
    suite.time = r.execution_time
    if r.status != "graded":
        case = TestCase(clean("the notebook could be graded"), clean(r.submission), 0.0)
        case.result = [_text(Error(clean(r.error)[:500], "NotGraded"), r.error)]
        suite.add_testcase(case)
    for q in r.questions:
        for c in q.checks:
            suite.add_testcase(_check_case(q.id, c, student))
        for w in q.written:
            case = TestCase(clean(f"written answer ({w.tag})"), clean(f"question {q.id}"), 0.0)
            if not w.graded:
                case.result = [Skipped(clean(f"{w.state}: graded by the instructor "
                                             f"({w.max_points:g} points)"))]
            elif (w.awarded or 0) < w.max_points:
                case.result = [_text(Failure(clean(f"{w.awarded:g}/{w.max_points:g}"),
                                             "Written"), w.comment)]
            suite.add_testcase(case)
    suite.update_statistics()
    return suite


def _check_case(qid: str, c: CheckResult, student: bool) -> TestCase:
    o = c.outcome
    case = TestCase(clean(o.name), clean(f"question {qid}"), 0.0)
    if o.hidden and (student or o.withheld):
        case.result = [Skipped(clean(f"hidden check, graded by the instructor "
                                     f"({c.max_points:g} points)"))]
    elif o.check_error:
        case.result = [_text(Error(clean(o.feedback)[:500], "CheckError"), o.answer)]
    elif not o.passed:
        detail = "\n".join(f"{label}: {value}" for label, value in (
            ("input", o.inputs), ("your answer", o.answer), ("expected", o.expected),
            ("hint", o.hint)) if value)
        case.result = [_text(Failure(clean(o.feedback)[:500], "WrongAnswer"), detail)]
    return case


def _text(result, text: str | None):
    result.text = clean(text)
    return result
