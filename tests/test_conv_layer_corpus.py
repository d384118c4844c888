"""The conv-layer pack on a corpus of submissions right in unusual ways and wrong in plausible
ones (tests/corpus/conv_layer), graded as one batch: every verdict must match the expected one."""

import json

import nbformat
import pytest

from grader import judge

from conftest import ROOT, load_results, run_grader, submission_dir, verdicts

CORPUS = ROOT / "tests" / "corpus" / "conv_layer"
NAMES = sorted(p.stem for p in CORPUS.glob("*.ipynb"))
pytestmark = pytest.mark.slow
SOURCE = hasattr(judge._Judge, "source")
"""Whether the grader gives checks the notebook's code (a `source` fixture): some verdicts
of exercise 4 depend on reading it (see `without_source` in make_corpus.py)."""


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("conv-corpus")
    done = run_grader("grade", str(CORPUS), "--out", str(out), "--seed", "20261121", "--quiet")
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def expectation(name: str) -> dict:
    return nbformat.read(CORPUS / f"{name}.ipynb", 4).metadata["grader_test"]


def expected_verdicts(name: str) -> dict:
    exp = expectation(name)
    return {**exp["expected"], **({} if SOURCE else exp.get("without_source", {}))}


def test_corpus_is_broad():
    assert len(NAMES) >= 15
    outcomes = [v for n in NAMES for v in expectation(n)["expected"].values()]
    assert outcomes.count("pass") > 50 and outcomes.count("fail") > 50


@pytest.mark.parametrize("name", NAMES)
def test_verdict_per_question(corpus_run, name):
    results = load_results(corpus_run, name)
    exp = expectation(name)
    got = verdicts(results)
    failing = {t["number"]: t["output"] for t in results["tests"]
               if "auto" in t["tags"] and t["status"] == "failed"}
    assert got == expected_verdicts(name), \
        f"{exp['why']}\nfeedback: {json.dumps(failing, indent=1)}"


@pytest.mark.parametrize("name", [n for n in NAMES if expectation(n).get("notes")])
def test_notes_reach_the_student(corpus_run, name):
    results = load_results(corpus_run, name)
    for qid, note in expectation(name)["notes"].items():
        outputs = " ".join(t["output"] for t in results["tests"] if t["number"] == qid)
        assert note.lower() in outputs.lower()


@pytest.mark.parametrize("name", [n for n in NAMES if "fail" in expected_verdicts(n).values()])
def test_failures_explain_themselves(corpus_run, name):
    results = load_results(corpus_run, name)
    for t in results["tests"]:
        if "auto" in t["tags"] and t["status"] == "failed":
            assert len(t["output"]) > 20 and "Traceback" not in t["output"]
            assert "check-error" not in t["tags"], t["output"]


def test_model_answers_are_not_leaked(corpus_run):
    solution = (ROOT / "reference" / "conv-layer" / "solution.py").read_text()
    secret = "def kernel_matrix("
    assert secret in solution
    for name in NAMES:
        assert secret not in (submission_dir(corpus_run, name) / "report.html").read_text()
