"""`grader check`: the student's self-check, gated by its exit status."""

from conftest import NOTEBOOKS, run_grader


def test_passing_notebook_exits_0():
    done = run_grader("check", str(NOTEBOOKS / "tiny-correct.ipynb"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All public checks pass" in done.stdout
    assert "answered; graded by your instructor" in done.stdout


def test_failing_notebook_exits_1_with_actionable_feedback():
    done = run_grader("check", str(NOTEBOOKS / "tiny-wrong.ipynb"), "--seed", "5")
    assert done.returncode == 1
    assert "FAIL 1" in done.stdout and "FAIL 2" in done.stdout
    assert "answer is 41, not the answer" in done.stdout
    assert "hint: Read the book again." in done.stdout
    assert "double(" in done.stdout and "expected" in done.stdout


def test_untouched_template_says_not_answered():
    done = run_grader("check", str(NOTEBOOKS / "tiny-not-answered.ipynb"))
    assert done.returncode == 1
    assert done.stdout.count("Not answered") >= 2
    assert "written answer (answer-1, 1 points): empty: it scores 0" in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_unreadable_notebook_exits_3():
    done = run_grader("check", str(NOTEBOOKS / "corrupt-truncated.ipynb"))
    assert done.returncode == 3
    assert "not valid JSON" in done.stdout


def test_usage_errors_exit_2():
    done = run_grader("check", str(NOTEBOOKS / "tiny-correct.ipynb"), "--pack", "nope")
    assert done.returncode == 2 and "unknown pack" in done.stderr
