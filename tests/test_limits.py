"""Every limit, through the code path the CLI uses: each test fails when its limit is removed
or loosened (a cap deleted, a timeout tripled, a fingerprint ignored)."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from grader.limits import REPLY_CHARS, SUBMISSION_TEXT_CHARS
from grader.wire import BadReply, Value, decode_reply

from conftest import load_results, run_grader, submission_dir, verdicts

pytestmark = [pytest.mark.slow, pytest.mark.security]

RIGHT = ["answer = 42", "def double(x):\n    return 2 * x"]


def notebook(folder, name: str, cells: list[str]) -> str:
    nb = new_notebook(cells=[new_code_cell(c) for c in cells]
                      + [new_markdown_cell("42.", metadata={"tags": ["answer-1"]})])
    nb.metadata["grader"] = {"pack": "tiny"}
    path = folder / f"{name}.ipynb"
    nbformat.write(nb, path)
    return str(path)


def grade(tmp_path, cells: list[str], *args: str, name: str = "nb") -> dict:
    path = notebook(tmp_path, name, cells)
    done = run_grader("grade", path, "--out", str(tmp_path / "out"), "--workers", "1", *args)
    assert done.returncode == 0, done.stderr
    return load_results(tmp_path / "out", name)


def test_output_cap_holds_for_many_small_writes(tmp_path):
    """Ten thousand separate flushed writes: the cell keeps at most --max-output characters."""
    r = grade(tmp_path, ["import sys\nfor i in range(10_000):\n    print(i, flush=True)", *RIGHT],
              "--max-output", "500")
    cell = r["cells"][0]
    assert cell["output_truncated"] and 0 < len(cell["output"]) <= 500
    assert cell["output"].startswith("0\n1\n2\n")


def test_output_cap_holds_for_display_updates(tmp_path):
    """Thousands of outputs sharing a display id, then one update: nothing multiplies."""
    r = grade(tmp_path, ["from IPython.display import display, update_display\n"
                         "for i in range(3000):\n"
                         "    display({'text/plain': 'x'}, raw=True, display_id='same')\n"
                         "update_display({'text/plain': 'U' * 4000}, raw=True, display_id='same')",
                         *RIGHT])
    assert len(r["cells"][0]["output"]) <= 4000
    assert (submission_dir(tmp_path / "out", "nb") / "results.json").stat().st_size < 60_000


def test_submission_text_cap_holds_over_many_cells(tmp_path):
    cells = ["print('O' * 4000)"] * 120 + RIGHT
    r = grade(tmp_path, cells)
    kept = sum(len(c["output"]) + len(c["traceback"]) for c in r["cells"])
    assert kept <= SUBMISSION_TEXT_CHARS and r["cells"][-1]["output_truncated"] is False
    assert r["cells"][100]["output"] == ""  # the budget was spent by then
    assert verdicts(r) == {"1": "pass", "2": "pass"}


def test_cell_timeout_is_the_one_asked_for(tmp_path):
    """The kernel measures how long a cell with an endless sleep ran before the interrupt."""
    r = grade(tmp_path, ["import time\nt0 = time.time()", "time.sleep(120)",
                         "answer = 42 if time.time() - t0 < 5 else round(time.time() - t0)",
                         "def double(x):\n    return 2 * x"], "--timeout", "2")
    assert r["cells"][1]["status"] == "timeout"
    assert verdicts(r)["1"] == "pass", r["tests"][0]["output"]


def test_reply_cap_refuses_a_padded_reply(tmp_path):
    """A reply that is valid JSON but larger than the cap (padded with spaces) is not read."""
    pad = ("import json\n_dumps = json.dumps\n"
           f"def padded(o, *a, **k):\n    text = _dumps(o, *a, **k)\n"
           f"    if isinstance(o, dict) and 'id' in o:\n"
           f"        return text[:-1] + ' ' * {REPLY_CHARS + 1024} + '}}'\n"
           "    return text\n"
           "json.dumps = padded")
    r = grade(tmp_path, [*RIGHT, pad])
    assert verdicts(r) == {"1": "fail", "2": "fail"}


def test_wire_refuses_a_reply_over_the_cap():
    text = json.dumps({"id": 7, "status": "ok", "value": 42})
    assert decode_reply(text, Value("a"), 7).value == 42
    with pytest.raises(BadReply, match="too large"):
        decode_reply(text[:-1] + " " * REPLY_CHARS + "}", Value("a"), 7)


def test_cell_count_limit(tmp_path):
    path = notebook(tmp_path, "long", ["pass"] * 30 + RIGHT)
    done = run_grader("grade", path, "--out", str(tmp_path / "out"), "--max-cells", "20")
    assert done.returncode == 1
    r = load_results(tmp_path / "out", "long")
    assert r["status"] == "error" and "--max-cells" in r["error"] and "33 cells" in r["error"]


def test_fingerprint_regrades_on_seed_and_limits(tmp_path):
    path = notebook(tmp_path, "nb", RIGHT)
    out = str(tmp_path / "out")

    def run(*args: str) -> str:
        done = run_grader("grade", path, "--out", out, *args)
        assert done.returncode == 0, done.stderr
        return done.stdout

    assert "Graded 1 submissions" in run("--seed", "1")
    assert "Graded 0 submissions" in run("--seed", "1")
    assert "Graded 1 submissions" in run("--seed", "2")  # another seed, other inputs
    assert "Graded 1 submissions" in run("--seed", "2", "--timeout", "7")
    assert "Graded 0 submissions" in run("--seed", "2", "--timeout", "7")
