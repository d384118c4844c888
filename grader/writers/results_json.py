"""results.json: one submission's result in Gradescope's format, with the grader's own fields
(as `grader.results.to_dict` gives them) under `extra_data`, where Gradescope keeps them.

Each test carries its question's outcome (right, wrong, review, absent) in its own
`extra_data`, and `extra_data.outcomes` maps every question to it. A hidden check is a test
visible to students only once grades are published; a hidden check a
student's copy of the pack does not have (withheld), and a written answer awaiting the
instructor, have no status: they are neither passed nor failed."""

from __future__ import annotations

import json

from ..results import CheckResult, QuestionResult, SubmissionResult, WrittenResult, to_dict
from .summary import summary_text


def _check_output(c: CheckResult) -> str:
    o = c.outcome
    if o.passed:
        return o.feedback or "Passed."
    lines = [o.feedback]
    for label, value in (("Input", o.inputs), ("Your answer", o.answer),
                         ("Expected", o.expected)):
        if value:
            lines.append(f"{label}: {value}")
    if o.hint:
        lines.append(f"Hint: {o.hint}")
    return "\n".join(lines)


def _written_output(m: WrittenResult) -> str:
    if m.state == "blank":
        head = "Not answered: this written answer is empty (0 points)."
    elif m.state == "stale":
        head = (f"Stale: the answer changed since it was graded ({m.stale_points:g}/"
                f"{m.max_points:g} then); it awaits the instructor again.")
    elif m.graded:
        head = f"Graded by the instructor: {m.awarded:g}/{m.max_points:g}."
    else:
        head = f"Written answer awaiting the instructor (worth {m.max_points:g} points)."
    parts = [head]
    if m.comment:
        parts.append(f"Instructor's comment: {m.comment}")
    if m.text:
        parts.append(f"Your answer:\n{m.text}")
    return "\n\n".join(parts)


def _tests(q: QuestionResult) -> list[dict]:
    tests = []
    for c in q.checks:
        o = c.outcome
        test = {
            "name": f"{q.id} {q.title}: {o.name}",
            "number": q.id,
            "score": c.points,
            "max_score": c.max_points,
            "output": "A hidden check: graded by the instructor." if o.withheld
                      else _check_output(c),
            "visibility": "after_published" if o.hidden else "visible",
            "tags": ["auto"] + (["hidden"] if o.hidden else [])
                    + (["withheld"] if o.withheld else [])
                    + (["not-answered"] if o.not_answered else [])
                    + (["check-error"] if o.check_error else []),
        }
        if not o.withheld:
            test["status"] = "passed" if o.passed else "failed"
        if q.outcome:
            test["extra_data"] = {"outcome": q.outcome}
        tests.append(test)
    for m in q.written:
        test = {
            "name": f"{q.id} {q.title}: written answer ({m.tag})"
                    + ("" if m.graded else ", awaiting the instructor"),
            "number": q.id,
            "score": m.awarded or 0.0,
            "max_score": m.max_points,
            "output": _written_output(m),
            "visibility": "visible",
            "tags": ["manual", m.state],
        }
        if m.graded:  # an answer not graded yet is neither passed nor failed
            test["status"] = "passed" if (m.awarded or 0) >= m.max_points else "failed"
        if q.outcome:
            test["extra_data"] = {"outcome": q.outcome}
        tests.append(test)
    return tests


def render(r: SubmissionResult) -> str:
    return json.dumps(results_json(r), indent=2)


def results_json(r: SubmissionResult) -> dict:
    """Gradescope's results format, plus the grader's own fields."""
    own = to_dict(r)
    return {
        "score": r.score,
        "max_score": r.max_score,
        "execution_time": r.execution_time,
        "output": summary_text(r),
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": [t for q in r.questions for t in _tests(q)],
        "extra_data": {
            **{k: own[k] for k in ("submission", "path", "status", "error", "pack", "mode",
                                   "seed", "run_seed", "sha256", "sandbox", "cgroups")},
            "outcomes": {q.id: q.outcome for q in r.questions if q.outcome},
            "evidence": {q.id: list(q.evidence) for q in r.questions if q.evidence},
            "sandboxed": r.sandboxed and bool(r.sandbox),
            **{k: own[k] for k in ("grader_version", "graded_at")},
            "pending_written_points": r.pending_written,
            **{k: own[k] for k in ("cells", "events", "problems", "timings")},
            "peak_memory_bytes": r.peak_memory,
            "schema": own["schema"],
        },
    }


