"""The gradebook: results kept as they come, resumed after kill -9, manual awards."""

import csv
import os
import shutil
import signal
import subprocess
import time

import nbformat
import pytest

from grader.writers.layout import submission_dir

from conftest import (
    GRADER,
    NOTEBOOKS,
    descendants,
    grader_env,
    load_results,
    orphaned_kernels,
    run_grader,
    stored,
)

pytestmark = pytest.mark.slow


def copies(folder, n, source="tiny-correct"):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (folder / f"s{i:02d}.ipynb").write_bytes((NOTEBOOKS / f"{source}.ipynb").read_bytes())
    return folder


def test_rerun_grades_only_what_is_missing_or_changed(tmp_path):
    subs = copies(tmp_path / "subs", 4)
    out = tmp_path / "out"
    first = run_grader("grade", str(subs), "--out", str(out), "--workers", "2")
    assert first.returncode == 0, first.stderr
    assert "Graded 4 submissions" in first.stdout
    seed = load_results(out, "s00")["run_seed"]
    inputs = load_results(out, "s01")["seed"]
    again = run_grader("grade", str(subs), "--out", str(out))
    assert "Graded 0 submissions" in again.stdout and "4 unchanged" in again.stdout
    (subs / "s01.ipynb").write_bytes((NOTEBOOKS / "tiny-wrong.ipynb").read_bytes())
    changed = run_grader("grade", str(subs), "--out", str(out))
    assert "Graded 1 submissions" in changed.stdout and "3 unchanged" in changed.stdout
    assert load_results(out, "s01")["score"] == 0
    assert load_results(out, "s01")["run_seed"] == seed  # the class keeps one seed
    assert load_results(out, "s01")["seed"] != inputs  # a changed file gets fresh inputs
    forced = run_grader("grade", str(subs), "--out", str(out), "--regrade")
    assert "Graded 4 submissions" in forced.stdout
    rows = list(csv.DictReader((out / "grades.csv").open()))
    assert sorted(r["submission"] for r in rows) == ["s00", "s01", "s02", "s03"]


def test_kill_9_then_rerun_grades_each_submission_once(tmp_path):
    slow = nbformat.read(NOTEBOOKS / "tiny-correct.ipynb", 4)
    slow.cells.insert(0, nbformat.v4.new_code_cell("import time\ntime.sleep(1.5)"))
    subs = tmp_path / "subs"
    subs.mkdir()
    for i in range(8):
        nbformat.write(slow, subs / f"s{i:02d}.ipynb")
    out = tmp_path / "out"
    proc = subprocess.Popen([*GRADER, "grade", str(subs), "--out", str(out), "--workers", "2",
                             "--quiet"], env=grader_env(), start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if (out / "gradebook.sqlite").exists() and len(stored(out)) >= 2:
            break
        time.sleep(0.2)
    workers = set(descendants(proc.pid))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = stored(out)
    assert 2 <= len(before) < 8
    time.sleep(1)
    assert orphaned_kernels(workers) == [], "a kill -9 of the grader left kernels behind"
    stamps = {name: load_results(out, name)["graded_at"] for name in before}
    rerun = run_grader("grade", str(subs), "--out", str(out), "--workers", "2")
    assert rerun.returncode == 0, rerun.stderr
    assert f"Graded {8 - len(before)} submissions" in rerun.stdout
    assert f"{len(before)} unchanged" in rerun.stdout
    after = stored(out)
    assert sorted(after) == [f"s{i:02d}" for i in range(8)]
    assert all(v == "graded" for v in after.values())
    for name, stamp in stamps.items():  # results kept from the killed run were not redone
        assert load_results(out, name)["graded_at"] == stamp


def test_award_updates_gradebook_csv_results_and_report(tmp_path):
    out = tmp_path / "out"
    assert run_grader("grade", str(NOTEBOOKS / "tiny-correct.ipynb"), "--out", str(out)).returncode == 0
    done = run_grader("award", str(out), "tiny-correct", "1", "0.5", "--comment", "Needs <more>")
    assert done.returncode == 0, done.stderr
    assert "total now 3.5/4" in done.stdout
    r = load_results(out, "tiny-correct")
    manual = [t for t in r["tests"] if "manual" in t["tags"]][0]
    assert (manual["score"], manual["max_score"]) == (0.5, 1)
    assert "Needs <more>" in manual["output"]
    assert (r["score"], r["max_score"]) == (3.5, 4)
    row = next(csv.DictReader((out / "grades.csv").open()))
    assert row["score"] == "3.5" and row["1"] == "1.5"
    html = (submission_dir(out, "tiny-correct") / "report.html").read_text()
    assert "Needs &lt;more&gt;" in html
    # a regrade keeps the award
    assert run_grader("grade", str(NOTEBOOKS / "tiny-correct.ipynb"), "--out", str(out),
                      "--regrade").returncode == 0
    assert load_results(out, "tiny-correct")["score"] == 3.5


@pytest.fixture(scope="module")
def graded_once(tmp_path_factory):
    """One graded tiny-correct, copied by each test that only needs something to award."""
    out = tmp_path_factory.mktemp("graded") / "out"
    done = run_grader("grade", str(NOTEBOOKS / "tiny-correct.ipynb"), "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


@pytest.mark.parametrize("args, words", [
    (["tiny-correct", "1", "2"], "between 0 and 1"),
    (["--", "tiny-correct", "1", "-1"], "between 0 and 1"),
    (["tiny-corect", "1", "1"], "did you mean: tiny-correct"),
    (["tiny-correct", "2", "1"], "no written answer"),
])
def test_bad_awards_are_usage_errors(tmp_path, graded_once, args, words):
    out = tmp_path / "out"
    shutil.copytree(graded_once, out)
    if args[0] == "--":
        done = run_grader("award", "--", str(out), *args[1:])
    else:
        done = run_grader("award", str(out), *args)
    assert done.returncode == 2 and words in done.stderr


def test_award_without_gradebook(tmp_path):
    done = run_grader("award", str(tmp_path), "x", "1", "1")
    assert done.returncode == 2 and "no gradebook" in done.stderr


def test_quiet_silences_progress_and_plain_lines_otherwise(tmp_path):
    nb = str(NOTEBOOKS / "tiny-correct.ipynb")
    loud = run_grader("grade", nb, "--out", str(tmp_path / "a"))
    assert "tiny-correct: 3/4 (1 pending)" in loud.stderr
    quiet = run_grader("grade", nb, "--out", str(tmp_path / "b"), "--quiet")
    assert quiet.stderr.strip() == "" and quiet.returncode == 0


def test_progress_bar_with_eta_on_a_terminal(tmp_path):
    import pty

    subs = copies(tmp_path / "subs", 3)
    pid, fd = pty.fork()
    if pid == 0:  # the child: the grader on a pseudo-terminal
        os.environ.update(grader_env())
        os.execv(GRADER[0], [*GRADER, "grade", str(subs), "--out", str(tmp_path / "out")])
    chunks = []
    while True:
        try:
            data = os.read(fd, 4096)
        except OSError:
            break
        if not data:
            break
        chunks.append(data)
    _, status = os.waitpid(pid, 0)
    text = b"".join(chunks).decode(errors="replace").replace("\r", "\n")
    assert os.waitstatus_to_exitcode(status) == 0, text
    bars = [line for line in text.splitlines() if line.startswith("grading:")]
    assert any("3/3" in b and "100%" in b for b in bars), text
    assert any("<" in b and "nb/s" in b or "s/nb" in b for b in bars)  # rate and ETA shown
