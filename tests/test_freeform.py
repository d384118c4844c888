"""Free-form grading through the CLI: each corpus of real-style notebooks (tests/corpus/freeform
and the held-out tests/corpus/freeform_heldout), graded as one batch, must agree with the
expert's verdicts on at least 90% of questions and never credit a wrong or absent answer; shell
and pip magics never change a grade; the course's imports (d2l, torchvision) work in a graded
kernel."""

import importlib.util
import json
from collections import Counter

import jsonschema
import nbformat
import pytest

from conftest import ROOT, load_results, run_grader, submission_dir

CORPUS = ROOT / "tests" / "corpus" / "freeform"
NAMES = sorted(p.stem for p in CORPUS.glob("*.ipynb"))
SCHEMA = json.loads((ROOT / "grader" / "schema" / "results.schema.json").read_text())
AGREEMENT = 0.9
pytestmark = pytest.mark.slow


def expected(name: str) -> dict[str, str]:
    return nbformat.read(CORPUS / f"{name}.ipynb", 4).metadata["grader_test"]["freeform_expected"]


HELD_OUT = ROOT / "tests" / "corpus" / "freeform_heldout"


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("freeform-corpus")
    done = run_grader("grade", str(CORPUS), "--out", str(out), "--seed", "20261130", "--quiet",
                      "--pack", "conv-layer")
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_corpus_is_broad_and_up_to_date():
    assert len(NAMES) >= 20
    verdicts = Counter(v for n in NAMES for v in expected(n).values())
    assert all(verdicts[v] >= 15 for v in ("right", "wrong", "review", "absent")), verdicts
    styles = " ".join(nbformat.read(CORPUS / f"{n}.ipynb", 4).metadata["grader_test"]["style"]
                      for n in NAMES)
    for style in ("Chinese", "old", "reassigned", "renamed", "printed", "pip", "fails"):
        assert style.lower() in styles.lower(), style
    spec = importlib.util.spec_from_file_location("make_freeform", CORPUS / "make_freeform.py")
    maker = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(maker)
    assert sorted(e["name"] for e in maker.NOTEBOOKS) == NAMES
    stale = [e["name"] for e in maker.NOTEBOOKS
             if nbformat.writes(maker.build(e)[0]).strip()
             != (CORPUS / f"{e['name']}.ipynb").read_text(encoding="utf-8").strip()]
    assert not stale, f"regenerate the corpus (make_freeform.py); stale: {stale}"


@pytest.fixture(scope="module")
def held_out_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("freeform-held-out")
    done = run_grader("grade", str(HELD_OUT), "--out", str(out), "--seed", "5", "--quiet",
                      "--pack", "conv-layer")
    assert done.returncode == 0, done.stderr[-3000:]
    return out


def test_agreement_with_the_expert(corpus_run, figures):
    """At least 90% of questions get the expert's outcome, none of a wrong or absent answer
    earns a point; the figure is printed at the end of the run."""
    agreement(CORPUS, corpus_run, "free-form corpus", figures)


def test_agreement_on_the_held_out_corpus(held_out_run, figures):
    """The same bar on notebooks written apart from the grader (tests/corpus/freeform_heldout)."""
    agreement(HELD_OUT, held_out_run, "held-out free-form corpus", figures)


def agreement(folder, out, title: str, figures) -> None:
    names = sorted(p.stem for p in folder.glob("*.ipynb"))
    confusion: Counter = Counter()
    credited = []
    for name in names:
        results = load_results(out, name)
        assert results["mode"] == "freeform"
        want_all = nbformat.read(folder / f"{name}.ipynb", 4).metadata["grader_test"][
            "freeform_expected"]
        for q, want in want_all.items():
            got = results["outcomes"][q]
            confusion[want, got] += 1
            score = sum(t["score"] for t in results["tests"] if t["number"] == q)
            if want in ("wrong", "absent") and score > 0:
                credited.append(f"{name} {q}: expected {want}, scored {score}")
    total = sum(confusion.values())
    agreed = sum(n for (want, got), n in confusion.items() if want == got)
    per = "; ".join(f"{w}: {confusion[w, w]}/{sum(n for (x, _), n in confusion.items() if x == w)}"
                    for w in ("right", "wrong", "review", "absent"))
    misses = ", ".join(f"{w}->{g} x{n}" for (w, g), n in sorted(confusion.items()) if w != g)
    figures.append(f"{title} ({len(names)} notebooks, {total} questions): agreement "
                   f"{agreed}/{total} = {agreed / total:.1%} ({per}){'; ' + misses if misses else ''}")
    assert not credited, credited
    assert agreed / total >= AGREEMENT, misses


REGRESSIONS = ROOT / "tests" / "corpus" / "freeform_regressions"


def test_regressions_get_exactly_their_outcomes(tmp_path):
    done = run_grader("grade", str(REGRESSIONS), "--out", str(tmp_path), "--quiet",
                      "--pack", "conv-layer")
    assert done.returncode == 0, done.stderr[-3000:]
    for notebook in sorted(REGRESSIONS.glob("*.ipynb")):
        want = nbformat.read(notebook, 4).metadata["grader_test"]["freeform_expected"]
        assert load_results(tmp_path, notebook.stem)["outcomes"] == want, notebook.stem


@pytest.mark.parametrize("name", NAMES)
def test_outcome_per_test_and_schema(corpus_run, name):
    """Every test of results.json carries its question's outcome; review questions wait for the
    instructor as written answers with their evidence; the file follows the schema."""
    path = submission_dir(corpus_run, name) / "results.json"
    data = json.loads(path.read_text())
    jsonschema.validate(data, SCHEMA)
    outcomes = data["extra_data"]["outcomes"]
    for test in data["tests"]:
        assert test["extra_data"]["outcome"] == outcomes[test["number"]]
    for q, outcome in outcomes.items():
        tests = [t for t in data["tests"] if t["number"] == q]
        if outcome == "review":
            review = [t for t in tests if "manual" in t["tags"] and "review-" in t["name"]]
            assert review and all("status" not in t for t in review), tests
            assert data["extra_data"]["evidence"][q]
        if outcome in ("wrong", "absent", "review"):
            assert sum(t["score"] for t in tests) == 0


def test_reports_show_outcomes_and_evidence(corpus_run):
    html = (submission_dir(corpus_run, "zh_old_complete") / "report.html").read_text()
    assert "free-form" in html and "Found in the notebook" in html
    assert "for the instructor" in html and "model-answer" in html


# --- shell magics, and the course's imports, in template mode ----------------------------------

def test_pip_magics_grade_as_if_absent(tmp_path):
    """The model solution with `!pip` / `%pip` lines and torchvision imports grades exactly as
    without them, and the skipped lines are reported."""
    model = nbformat.read(ROOT / "reference" / "conv-layer" / "model_solution.ipynb", 4)
    plain = tmp_path / "in" / "plain.ipynb"
    plain.parent.mkdir()
    code = [i for i, c in enumerate(model.cells) if c.cell_type == "code"]
    model.cells[code[0]].source += ("\nimport torchvision\nfrom torchvision.transforms import "
                                    "functional as TF\n_r = TF.rotate(torch.eye(5)[None], 90)")
    nbformat.write(model, plain)
    piped = nbformat.from_dict(json.loads(json.dumps(model)))
    piped.cells.insert(code[0], nbformat.v4.new_code_cell(
        "!pip install d2l==1.0.3\n%pip install torchvision --quiet"))
    piped.cells[code[0] + 1].source = "%pip install -q d2l\n" + piped.cells[code[0] + 1].source
    nbformat.write(piped, tmp_path / "in" / "piped.ipynb")
    done = run_grader("grade", str(tmp_path / "in"), "--out", str(tmp_path / "out"),
                      "--seed", "77", "--timeout", "30")
    assert done.returncode == 0, done.stderr[-2000:]
    a, b = load_results(tmp_path / "out", "plain"), load_results(tmp_path / "out", "piped")
    assert a["mode"] == b["mode"] == "template"
    assert [c for c in a["cells"] if c["status"] != "ok"] == []
    assert [c for c in b["cells"] if c["status"] != "ok"] == []
    assert max(c["seconds"] for c in b["cells"]) < 10
    assert (a["score"], a["max_score"]) == (b["score"], b["max_score"])

    def grades(r):
        return [(t["number"], t["score"], t.get("status"), t["extra_data"]["outcome"])
                for t in r["tests"]]

    assert grades(a) == grades(b)
    skipped = [e for e in b["events"] if "skipped" in e]
    assert len(skipped) == 2 and "`!pip install d2l==1.0.3`" in skipped[0]
    assert not [e for e in a["events"] if "skipped" in e]


def test_freeform_costs(tmp_path, figures):
    """The extra cost of evidence capture: the model solution graded both ways."""
    model = ROOT / "reference" / "conv-layer" / "model_solution.ipynb"
    times = {}
    for mode in ("template", "freeform"):
        out = tmp_path / mode
        done = run_grader("grade", str(model), "--out", str(out), "--seed", "5", "--mode", mode)
        assert done.returncode == 0, done.stderr[-2000:]
        r = load_results(out, "model_solution")
        assert r["mode"] == mode
        times[mode] = r["timings"]["execute"]
        if mode == "freeform":
            assert set(r["outcomes"].values()) == {"right"}, r["outcomes"]
    figures.append(f"model solution ({sum(1 for _ in nbformat.read(model, 4).cells)} cells): "
                   f"execute {times['template']:.2f} s in template mode, "
                   f"{times['freeform']:.2f} s free-form (capture after every cell, calls by "
                   "handle)")
