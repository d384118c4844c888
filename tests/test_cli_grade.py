"""End to end: `grader grade` on real notebooks executed by a real sandboxed kernel."""

import csv
import json

import jsonschema
import nbformat
import pytest

from grader.pipeline import derive_seed

from conftest import (
    NOTEBOOKS,
    ROOT,
    load_results,
    report_href,
    run_grader,
    submission_dir,
    verdicts,
)

SCHEMA = json.loads((ROOT / "grader" / "schema" / "results.schema.json").read_text())
TINY = sorted(p.stem for p in NOTEBOOKS.glob("tiny-*.ipynb"))
BROKEN = ["corrupt-truncated", "not-a-notebook", "empty-file", "binary-junk"]


def test_batch_exit_status_reports_unreadable_files(tiny_run):
    out, done = tiny_run
    assert done.returncode == 1, done.stderr
    for name in BROKEN:
        assert f"{name}: NOT GRADED" in done.stderr


@pytest.mark.parametrize("name", TINY)
def test_verdicts_match_expectations(tiny_run, name):
    out, _ = tiny_run
    expected = nbformat.read(NOTEBOOKS / f"{name}.ipynb", 4).metadata["grader_test"]["expected"]
    results = load_results(out, name)
    assert results["status"] == "graded"
    assert verdicts(results) == expected, results["output"]


@pytest.mark.parametrize("name", TINY + BROKEN)
def test_results_follow_the_schema(tiny_run, name):
    out, _ = tiny_run
    jsonschema.validate(json.loads((submission_dir(out, name) / "results.json").read_text()),
                        SCHEMA)
    results = load_results(out, name)
    assert (submission_dir(out, name) / "report.html").stat().st_size > 500
    assert results["run_seed"] == 1234
    assert results["seed"] == derive_seed(1234, results["sha256"]) or not results["sha256"]
    assert results["sandboxed"] is True


@pytest.mark.parametrize("name", BROKEN)
def test_unreadable_file_is_an_error_for_that_file_only(tiny_run, name):
    out, _ = tiny_run
    results = load_results(out, name)
    assert results["status"] == "error"
    assert results["score"] == 0
    assert "notebook" in results["error"].lower() or "empty" in results["error"]
    assert "Traceback" not in results["error"]
    # nothing was judged, so no question is reported as answered wrongly
    assert not results["outcomes"]
    assert all("outcome" not in t.get("extra_data", {}) for t in results["tests"])


def test_a_submission_not_graded_has_no_question_judged_wrong(tmp_path):
    out = tmp_path / "out"
    done = run_grader("grade", str(NOTEBOOKS / "corrupt-truncated.ipynb"), "--pack", "tiny",
                      "--out", str(out))
    results = load_results(out, "corrupt-truncated")
    assert done.returncode == 1 and results["status"] == "error"
    assert results["max_score"] == 4 and results["score"] == 0
    assert not results["outcomes"]
    assert results["tests"] and all("outcome" not in t.get("extra_data", {})
                                    for t in results["tests"])


def test_grades_csv_has_a_row_per_submission(tiny_run):
    out, _ = tiny_run
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert sorted(r["submission"] for r in rows) == sorted(TINY + BROKEN)
    header = list(rows[0].keys())
    assert header[:4] == ["submission", "student_id", "score", "max_score"]
    assert header[-3:] == ["pending", "status", "path"]
    by_name = {r["submission"]: r for r in rows}
    assert by_name["tiny-correct"]["score"] == "3" and by_name["tiny-correct"]["status"] == "graded"
    assert by_name["tiny-correct"]["max_score"] == by_name["corrupt-truncated"]["max_score"] == "4"
    assert by_name["tiny-wrong"]["score"] == "0"
    assert by_name["corrupt-truncated"]["status"] == "error"


def test_index_links_every_report(tiny_run):
    out, _ = tiny_run
    html = (out / "index.html").read_text()
    for name in TINY + BROKEN:
        assert f'href="{report_href(name)}"' in html


def test_partial_credit_and_manual_tags(tiny_run):
    out, _ = tiny_run
    r = load_results(out, "tiny-error-defines")
    assert r["score"] == 1
    manual = [t for t in r["tests"] if "manual" in t["tags"]]
    assert len(manual) == 1 and manual[0]["number"] == "1" and manual[0]["score"] == 0
    untouched = load_results(out, "tiny-not-answered")
    outputs = [t["output"] for t in untouched["tests"]]
    assert all("Not answered" in o for o in outputs), outputs


def test_cell_failures_are_recorded(tiny_run):
    out, _ = tiny_run
    cells = {c["index"]: c for c in load_results(out, "tiny-error-cell")["cells"]}
    assert cells[1]["status"] == "error" and cells[1]["ename"] == "ValueError"
    assert "oops" in cells[1]["traceback"]
    timeout = load_results(out, "tiny-timeout")
    assert [c["status"] for c in timeout["cells"]] == ["ok", "timeout", "ok"]
    death = load_results(out, "tiny-kernel-death")
    assert [c["status"] for c in death["cells"]] == ["ok", "excluded", "ok"]
    assert any("killed the kernel" in e for e in death["events"])
    hung = load_results(out, "tiny-ignores-interrupt")
    assert [c["status"] for c in hung["cells"]] == ["ok", "excluded", "ok"]


def test_huge_output_is_truncated(tiny_run):
    out, _ = tiny_run
    r = load_results(out, "tiny-huge-output")
    assert r["cells"][0]["output_truncated"] is True
    assert len(r["cells"][0]["output"]) <= 4000
    assert (submission_dir(out, "tiny-huge-output") / "results.json").stat().st_size < 100_000


def test_same_seed_repeats_the_run(tmp_path):
    nb = str(NOTEBOOKS / "tiny-wrong.ipynb")
    first = run_grader("grade", nb, "--out", str(tmp_path / "a"), "--seed", "99")
    second = run_grader("grade", nb, "--out", str(tmp_path / "b"), "--seed", "99")
    assert first.returncode == second.returncode == 0
    a, b = (load_results(tmp_path / d, "tiny-wrong") for d in "ab")
    assert a["tests"] == b["tests"] and a["seed"] == b["seed"] and a["run_seed"] == 99
    other = run_grader("grade", nb, "--out", str(tmp_path / "c"), "--seed", "100")
    assert other.returncode == 0
    # the inputs of double() are drawn from the seed, so the feedback differs
    assert load_results(tmp_path / "c", "tiny-wrong")["tests"] != a["tests"]


def test_student_folders_name_the_submissions(tmp_path):
    for who in ("alice", "bob"):
        (tmp_path / "in" / who).mkdir(parents=True)
        (tmp_path / "in" / who / "hw.ipynb").write_bytes((NOTEBOOKS / "tiny-correct.ipynb").read_bytes())
    done = run_grader("grade", str(tmp_path / "in"), "--out", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert load_results(tmp_path / "out", "alice")["path"].endswith("alice/hw.ipynb")
    assert load_results(tmp_path / "out", "bob")["path"].endswith("bob/hw.ipynb")


@pytest.mark.parametrize("args", [
    ["grade", "--out", "x"],                                   # no path
    ["grade", "tests/notebooks/tiny-correct.ipynb"],            # no --out
    ["grade", "does-not-exist.ipynb", "--out", "x"],
    ["grade", "tests/notebooks/tiny-correct.ipynb", "--out", "x", "--exercise", "nope"],
    ["grade", "tests/notebooks/tiny-correct.ipynb", "--out", "x", "--timeout", "-1"],
    ["check", "tests/notebooks/tiny-correct.ipynb", "--exercise", "nope"],
    ["frobnicate"],
])
def test_usage_errors_exit_2(args, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    done = run_grader(*args)
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "Traceback" not in done.stderr


def test_unknown_exercise_lists_the_packs():
    done = run_grader("grade", str(NOTEBOOKS / "tiny-correct.ipynb"), "--out", "/tmp/unused",
                      "--exercise", "nope")
    assert "conv-layer" in done.stderr and "tiny" in done.stderr


def test_empty_folder_is_a_usage_error(tmp_path):
    done = run_grader("grade", str(tmp_path), "--out", str(tmp_path / "out"))
    assert done.returncode == 2 and "no notebooks" in done.stderr


def test_list_shows_packs_questions_and_points():
    done = run_grader("list")
    assert done.returncode == 0
    assert "conv-layer" in done.stdout and "tiny" in done.stdout
    assert "2.1" in done.stdout and "Doubling" in done.stdout


def test_missing_sandbox_is_refused_with_the_fix(tmp_path):
    import subprocess

    from conftest import GRADER, grader_env
    env = {**grader_env(), "PATH": str(tmp_path)}  # no bwrap on this PATH
    done = subprocess.run([*GRADER, "grade", str(NOTEBOOKS / "tiny-correct.ipynb"), "--out",
                           str(tmp_path / "out")], capture_output=True, text=True, env=env)
    assert done.returncode == 1
    assert "apt-get install bubblewrap" in done.stderr and "--no-sandbox" in done.stderr
    assert not (tmp_path / "out" / "tiny-correct").exists()


def test_no_sandbox_is_said_everywhere(tmp_path):
    out = tmp_path / "out"
    done = run_grader("grade", str(NOTEBOOKS / "tiny-correct.ipynb"), "--out", str(out),
                      "--no-sandbox")
    assert done.returncode == 0 and "WARNING" in done.stderr
    r = load_results(out, "tiny-correct")
    assert r["sandbox"] == "none" and r["sandboxed"] is False and r["score"] == 3
    assert "WITHOUT the sandbox" in r["output"]
    assert 'id="unsandboxed"' in (submission_dir(out, "tiny-correct") / "report.html").read_text()
    assert "without the sandbox" in (out / "index.html").read_text()
