"""An instructor's term, replayed on real batches: student folders, a roster, a late
submission, a renamed file, written answers graded in a spreadsheet, an answer rewritten after
it was graded, and the scores exported to Canvas and Moodle."""

from __future__ import annotations

import csv
import io
import json

import nbformat
import pytest

from conftest import NOTEBOOKS, load_results, run_grader

pytestmark = pytest.mark.slow

ROSTER = ("submission;Student ID;Display name;Email\n"
          "alice;S1;Alice Liddell;alice@uni.edu\n"
          "bob;S2;\"Bob, Jr.\";bob@uni.edu\n"
          "carol;S3;Carol;carol@uni.edu\n"
          "dora;S4;Dora Absent;dora@uni.edu\n")


def submit(folder, who: str, notebook: str = "tiny-correct", answer: str | None = None,
           name: str = "hw.ipynb") -> None:
    nb = nbformat.read(NOTEBOOKS / f"{notebook}.ipynb", 4)
    if answer is not None:
        cell = next(c for c in nb.cells if "answer-1" in c.metadata.get("tags", []))
        cell.source = answer
    (folder / who).mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / who / name)


def rows(path) -> list[dict]:
    return list(csv.DictReader(io.StringIO(path.read_text(encoding="utf-8-sig"))))


def grade_term(tmp_path):
    subs, out = tmp_path / "subs", tmp_path / "out"
    submit(subs, "alice", answer="Because 6 x 7 = 42, and that is the answer.")
    submit(subs, "bob", "tiny-wrong", answer="I think it is 41, maybe.")
    submit(subs, "carol", answer="*Write your answer here.*")  # untouched template: blank
    (tmp_path / "roster.csv").write_text(ROSTER, encoding="utf-8")
    done = run_grader("grade", str(subs), "--out", str(out), "--roster",
                      str(tmp_path / "roster.csv"), "--seed", "11")
    assert done.returncode == 0, done.stderr
    return tmp_path, subs, out


@pytest.fixture
def term(tmp_path):
    """A graded term of its own, for a test that changes it."""
    return grade_term(tmp_path)


@pytest.fixture(scope="module")
def graded_term(tmp_path_factory):
    """One graded term shared by the tests that only read it (or fail to change it)."""
    return grade_term(tmp_path_factory.mktemp("term"))


def test_identities_roster_and_fixed_points_possible(term):
    tmp_path, subs, out = term
    table = {r["submission"]: r for r in rows(out / "grades.csv")}
    assert set(table) == {"alice", "bob", "carol", "dora"}
    assert table["alice"]["student_id"] == "S1" and table["alice"]["path"].endswith("alice/hw.ipynb")
    assert table["dora"]["status"] == "missing" and table["dora"]["score"] == ""
    assert {table[n]["max_score"] for n in ("alice", "bob", "carol")} == {"4"}  # 3 auto + 1 written
    assert table["alice"]["pending"] == "1" and table["carol"]["pending"] == "0"
    carol = load_results(out, "carol")
    written = [t for t in carol["tests"] if "manual" in t["tags"]][0]
    assert "blank" in written["tags"] and written["score"] == 0 and written["status"] == "failed"
    # a late submission and a renamed file keep everyone else's name (and awards)
    submit(subs, "bea")
    (subs / "bob" / "hw.ipynb").rename(subs / "bob" / "homework-final.ipynb")
    again = run_grader("grade", str(subs), "--out", str(out))
    assert again.returncode == 0, again.stderr
    names = {r["submission"] for r in rows(out / "grades.csv")}
    assert names == {"alice", "bea", "bob", "carol", "dora"}
    assert "Not on the roster" in again.stderr and "bea" in again.stderr
    assert load_results(out, "bob")["path"].endswith("bob/homework-final.ipynb")


def test_spreadsheet_round_trip_and_stale_awards(term):
    tmp_path, subs, out = term
    sheet = tmp_path / "awards.csv"
    done = run_grader("awards", "export", str(out), "-o", str(sheet))
    assert done.returncode == 0, done.stderr
    raw = sheet.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 byte-order mark, for spreadsheets
    table = rows(sheet)
    assert [(r["submission"], r["state"]) for r in table] == [
        ("alice", "pending"), ("bob", "pending"), ("carol", "blank")]
    assert table[1]["answer"] == "I think it is 41, maybe." and table[1]["student"] == "Bob, Jr."
    # the instructor fills it in the way a spreadsheet saves it again: comments with commas,
    # quotes and line breaks; one row out of range; one for an answer that does not exist
    table[0]["points"], table[0]["comment"] = "1", 'Good, "clear"\nand short.'
    table[1]["points"], table[1]["comment"] = "0,5", "Half: why 41?"
    bogus = dict(table[0], submission="mallory")
    over = dict(table[1], points="7")
    with sheet.open("w", encoding="utf-8-sig", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(table[0]))
        w.writeheader()
        w.writerows([table[0], table[1], bogus, over])
    done = run_grader("awards", "import", str(out), str(sheet))
    assert done.returncode == 1, done.stderr  # two rows skipped, the others applied
    assert "line 4" in done.stderr and "mallory" in done.stderr
    assert "line 5" in done.stderr and "from 0 to 1" in done.stderr
    assert "Applied 2 awards" in done.stdout
    alice = load_results(out, "alice")
    assert alice["score"] == 4 and alice["max_score"] == 4
    note = [t for t in alice["tests"] if "manual" in t["tags"]][0]["output"]
    assert 'Good, "clear"\nand short.' in note
    assert load_results(out, "bob")["score"] == 0.5
    # alice rewrites her answer: the award stops counting and says why
    submit(subs, "alice", answer="Actually, 6 x 7 is 42 because multiplication.")
    regraded = run_grader("grade", str(subs), "--out", str(out))
    assert regraded.returncode == 0, regraded.stderr
    alice = load_results(out, "alice")
    written = [t for t in alice["tests"] if "manual" in t["tags"]][0]
    assert alice["score"] == 3 and alice["max_score"] == 4 and "stale" in written["tags"]
    assert "status" not in written and "changed since it was graded" in written["output"]
    table = {r["submission"]: r for r in rows(out / "grades.csv")}
    assert "stale" in table["alice"]["status"] and table["alice"]["pending"] == "1"
    html = (out / "index.html").read_text()
    assert "stale: answer changed since it was graded" in html
    # the old sheet is stale for alice now; a fresh export grades the new text
    done = run_grader("awards", "import", str(out), str(sheet))
    assert "stale" in done.stderr
    assert load_results(out, "alice")["score"] == 3
    award = run_grader("award", str(out), "alice", "1", "1")
    assert award.returncode == 0, award.stderr
    assert load_results(out, "alice")["score"] == 4


def test_blank_answers_cannot_be_awarded(graded_term):
    _, _, out = graded_term
    done = run_grader("award", str(out), "carol", "1", "1")
    assert done.returncode == 2 and "blank" in done.stderr


def test_lms_exports(graded_term):
    tmp_path, _, out = graded_term
    canvas, moodle, plain = (tmp_path / f"{n}.csv" for n in ("canvas", "moodle", "plain"))
    for fmt, dest in (("canvas", canvas), ("moodle", moodle), ("csv", plain)):
        done = run_grader("export", str(out), "--format", fmt, "-o", str(dest),
                          "--assignment", "Convolutions")
        assert done.returncode == 0, done.stderr
    c = list(csv.reader(canvas.open(encoding="utf-8")))
    assert c[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "Convolutions"]
    assert c[1][0] == "Points Possible" and c[1][5] == "4"
    by_sis = {r[2]: r for r in c[2:]}
    assert by_sis["S1"][5] == "3" and by_sis["S1"][3] == "alice@uni.edu"
    assert by_sis["S4"][5] == ""  # no submission: no score, not a zero
    m = list(csv.reader(moodle.open(encoding="utf-8")))
    assert m[0] == ["email", "Convolutions", "Convolutions feedback"]
    assert {r[0] for r in m[1:]} == {"alice@uni.edu", "bob@uni.edu", "carol@uni.edu",
                                     "dora@uni.edu"}
    fb = {r[0]: r[2] for r in m[1:]}
    assert "awaiting" in fb["alice@uni.edu"] or "not graded yet" in fb["alice@uni.edu"]
    p = {r["submission"]: r for r in csv.DictReader(plain.open(encoding="utf-8"))}
    assert p["dora"]["status"] == "missing" and p["bob"]["score"] == "0"


def test_name_clash_is_an_error_naming_both(tmp_path):
    for who in ("x", "y"):
        submit(tmp_path, who)
    done = run_grader("grade", str(tmp_path / "x" / "hw.ipynb"), str(tmp_path / "y" / "hw.ipynb"),
                      "--out", str(tmp_path / "out"))
    assert done.returncode == 2
    assert "x/hw.ipynb" in done.stderr and "y/hw.ipynb" in done.stderr


def test_bad_roster_is_a_usage_error(tmp_path):
    submit(tmp_path / "subs", "alice")
    (tmp_path / "r.csv").write_text("who,what\nalice,1\n")
    done = run_grader("grade", str(tmp_path / "subs"), "--out", str(tmp_path / "out"),
                      "--roster", str(tmp_path / "r.csv"))
    assert done.returncode == 2 and "student id" in done.stderr


def test_results_json_keeps_pending_out_of_failures(graded_term):
    _, _, out = graded_term
    alice = load_results(out, "alice")
    written = [t for t in alice["tests"] if "manual" in t["tags"]][0]
    assert "status" not in written and written["max_score"] == 1
    assert json.dumps(alice)  # plain JSON
