"""What students and CI receive (`grader dist`), used as they would: the bundle checked for
answers and imported, its check run as an unprivileged user, the GitHub Classroom commands run,
the Gradescope zip's run_autograder run on every kind of submission, JUnit XML read back."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from junitparser import JUnitXml

from conftest import GRADER, NOTEBOOKS, ROOT, grader_env, run_grader

pytestmark = pytest.mark.slow

MODEL = ROOT / "reference" / "conv-layer" / "model_solution.ipynb"
WRONG = ROOT / "examples" / "ben.ipynb"
ANSWER_MARKERS = ("W[i * ow + j, (i + a) * w + j", "A finite difference of order d needs d + 1",
                  "Directional derivative along v", "def autograd_errors(",
                  "def selectivity_problem(", "def test_min_kernel_size(",
                  "implicitly created only for scalar outputs", "SECOND_DERIVATIVE = {",
                  "def gaussian_blur(")
"""Text of the reference answers and hidden checks: none may be in the student bundle."""


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    out = tmp_path_factory.mktemp("dist")
    done = run_grader("dist", "conv-layer", "--out", str(out))
    assert done.returncode == 0, done.stderr
    return out


def test_bundle_holds_no_answer(dist):
    student = dist / "student"
    model_answers = [line.split("=", 1)[1].strip().strip('"')[:60] for line in
                     (ROOT / "reference/conv-layer/model_answers.toml").read_text().splitlines()
                     if "=" in line]
    leaks = []
    for f in student.rglob("*"):
        if f.is_file():
            text = f.read_text(errors="replace")
            leaks += [(str(f.relative_to(student)), m) for m in ANSWER_MARKERS + tuple(
                a for a in model_answers if len(a) > 20) if m in text]
    assert not leaks, leaks
    names = {f.name for f in student.rglob("*") if f.is_file()}
    assert "solution.py" not in names and "model_solution.ipynb" not in names
    assert not list(student.rglob("hidden"))
    assert (student / "conv-layer.ipynb").exists() and (student / "README.md").exists()
    assert "grader check --pack packs/conv-layer conv-layer.ipynb" in (
        student / "README.md").read_text()


def test_bundle_imports_on_its_own(dist):
    pack = dist / "student" / "packs" / "conv-layer"
    for f in [*pack.rglob("*.py")]:
        spec = importlib.util.spec_from_file_location(f"bundle_{f.stem}", f)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)  # would fail on a missing (hidden) file
    toml = (pack / "pack.toml").read_text()
    assert toml.count("[[withheld]]") == 4 and "hidden =" not in toml


@pytest.fixture(scope="module")
def nobody_python(tmp_path_factory):
    """A Python that the unprivileged user `nobody` can run, with this project's packages:
    the system's python3.11 with the test environment's site-packages added."""
    base = Path(tempfile.mkdtemp(prefix="grader-nobody-"))
    os.chmod(base, 0o755)
    system = "/usr/bin/python3.11"  # the system's, outside any checkout or venv
    if not os.path.exists(system):
        pytest.fail("this test needs the system's python3.11 (apt-get install python3.11)")
    subprocess.run([system, "-m", "venv", "--without-pip", str(base / "venv")], check=True)
    site = Path(sys.prefix) / "lib" / "python3.11" / "site-packages"
    (base / "venv" / "lib" / "python3.11" / "site-packages" / "project.pth").write_text(
        f"import site; site.addsitedir({str(site)!r})\n")
    (base / "home").mkdir(mode=0o777)
    os.chmod(base / "home", 0o777)
    yield base
    shutil.rmtree(base, ignore_errors=True)


def test_check_as_an_unprivileged_user(dist, nobody_python, tmp_path):
    work = nobody_python / "work"
    shutil.copytree(dist / "student", work)
    shutil.copyfile(MODEL, work / "conv-layer.ipynb")
    shutil.copyfile(WRONG, work / "wrong.ipynb")
    subprocess.run(["chmod", "-R", "a+rwX", str(work)], check=True)

    def check(notebook: str, *args: str) -> subprocess.CompletedProcess:
        env = {"PATH": "/usr/bin:/bin", "HOME": str(nobody_python / "home"),
               "LANG": "C.UTF-8"}
        return subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
             str(nobody_python / "venv" / "bin" / "python"), "-m", "grader", "check",
             "--pack", "packs/conv-layer", notebook, *args],
            cwd=work, env=env, capture_output=True, text=True, timeout=600)

    good = check("conv-layer.ipynb", "--junit", "check.xml")
    assert good.returncode == 0, good.stdout + good.stderr
    assert "without the sandbox" in good.stderr and "PermissionError" not in good.stderr
    assert "hidden check" in good.stdout and "All public checks pass" in good.stdout
    xml = JUnitXml.fromfile(str(work / "check.xml"))
    assert xml.failures == 0 and xml.skipped >= 4 and xml.tests > 10
    bad = check("wrong.ipynb", "--question", "2.3")
    assert bad.returncode == 1 and "FAIL 2.3" in bad.stdout and "2.1" not in bad.stdout
    corrupt = work / "corrupt.ipynb"
    corrupt.write_text("{not json")
    os.chmod(corrupt, 0o666)
    assert check("corrupt.ipynb").returncode == 3
    usage = check("conv-layer.ipynb", "--question", "9.9")
    assert usage.returncode == 2 and "no question" in usage.stderr


def test_classroom_workflow_and_autograding_run(dist, tmp_path):
    student = dist / "student"
    workflow = yaml.safe_load((student / ".github/workflows/classroom.yml").read_text())
    steps = workflow["jobs"]["run-autograding-tests"]["steps"]
    graders = [s for s in steps if "autograding-command-grader" in s.get("uses", "")]
    tests = json.loads((student / ".github/classroom/autograding.json").read_text())["tests"]
    assert [s["with"]["command"] for s in graders] == [t["run"] for t in tests]
    assert sum(t["points"] for t in tests) == pytest.approx(
        sum(s["with"]["max-score"] for s in graders))
    reporter = [s for s in steps if "grading-reporter" in s.get("uses", "")][0]
    assert reporter["with"]["runners"] == ",".join(s["id"] for s in graders)
    # Every command on the model solution, two on a wrong one; two at a time, each in a
    # repository of its own as the workflow would have it.
    runs = [(MODEL, t) for t in tests] + [(WRONG, t) for t in tests
                                          if t["name"].split()[0] in ("2.3", "1.2")]

    def run(k: int, notebook: Path, test: dict) -> tuple[tuple[str, str], int]:
        repo = tmp_path / f"repo{k}"
        shutil.copytree(student, repo)
        shutil.copyfile(notebook, repo / "conv-layer.ipynb")
        cmd = test["run"].split()
        assert cmd[:2] == ["grader", "check"]
        done = subprocess.run([*GRADER, *cmd[1:]], cwd=repo, env=grader_env(),
                              capture_output=True, text=True, timeout=600)
        return (notebook.stem, test["name"].split()[0]), done.returncode

    with ThreadPoolExecutor(2) as pool:
        outcomes = dict(pool.map(lambda a: run(*a), ((k, nb, t) for k, (nb, t) in
                                                      enumerate(runs))))
    assert len(outcomes) == len(tests) + 2
    assert all(code == 0 for (nb, _), code in outcomes.items() if nb == "model_solution")
    assert outcomes[("ben", "2.3")] == 1 and outcomes[("ben", "1.2")] == 0


def run_autograder(dist, tmp_path, *notebooks: tuple[str, Path | str],
                   no_namespaces: bool = False) -> dict:
    root = tmp_path / "autograder"
    with zipfile.ZipFile(dist / "autograder.zip") as z:
        z.extractall(root / "source")
    run = root / "source" / "run_autograder"
    os.chmod(run, 0o755)
    (root / "submission").mkdir()
    for name, content in notebooks:
        target = root / "submission" / name
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        else:
            target.write_text(content)
    env = {**grader_env(), "AUTOGRADER_ROOT": str(root), "GRADER": " ".join(GRADER)}
    env.pop("GRADER_PACKS", None)
    if no_namespaces:  # as in Gradescope's container: bubblewrap cannot create namespaces
        fake = tmp_path / "fake-bin"
        fake.mkdir()
        (fake / "bwrap").write_text("#!/bin/sh\necho 'bwrap: Creating new namespace failed: "
                                    "Operation not permitted' >&2\nexit 1\n")
        os.chmod(fake / "bwrap", 0o755)
        env["PATH"] = f"{fake}:{env['PATH']}"
    done = subprocess.run([str(run)], env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text())


def test_gradescope_model_solution(dist, tmp_path):
    r = run_autograder(dist, tmp_path, ("conv-layer.ipynb", MODEL))
    assert r["score"] == 12 and r["extra_data"]["status"] == "graded"
    hidden = [t for t in r["tests"] if "hidden" in t["tags"]]
    assert len(hidden) == 4 and all(t["visibility"] == "after_published" for t in hidden)
    pending = [t for t in r["tests"] if "manual" in t["tags"]]
    assert pending and all("status" not in t for t in pending)


def test_gradescope_wrong_corrupt_none_and_several(dist, tmp_path):
    wrong = run_autograder(dist, tmp_path / "a", ("homework.ipynb", WRONG))
    assert 0 < wrong["score"] < 12
    corrupt = run_autograder(dist, tmp_path / "b", ("conv-layer.ipynb", "{oops"))
    assert corrupt["score"] == 0 and "not valid JSON" in corrupt["output"]
    none = run_autograder(dist, tmp_path / "c", ("notes.txt", "hello"))
    assert none["score"] == 0 and "No notebook" in none["output"]
    several = run_autograder(dist, tmp_path / "d", ("a.ipynb", MODEL), ("b.ipynb", WRONG))
    assert several["score"] == 0 and "Several notebooks" in several["output"]
    chosen = run_autograder(dist, tmp_path / "e", ("scratch.ipynb", WRONG),
                            ("conv-layer.ipynb", MODEL))
    assert chosen["score"] == 12


def test_gradescope_without_namespaces_runs_unsandboxed_and_says_so(dist, tmp_path):
    r = run_autograder(dist, tmp_path, ("conv-layer.ipynb", MODEL), no_namespaces=True)
    assert r["score"] == 12 and r["extra_data"]["sandbox"] == "none"
    assert "without bubblewrap" in r["output"]


def test_junit_of_a_graded_class(tmp_path):
    out = tmp_path / "out"
    done = run_grader("grade", str(NOTEBOOKS / "tiny-correct.ipynb"),
                      str(NOTEBOOKS / "tiny-wrong.ipynb"), str(NOTEBOOKS / "corrupt-truncated.ipynb"),
                      "--out", str(out), "--junit", str(tmp_path / "class.xml"),
                      "--student-reports")
    assert done.returncode == 1, done.stderr  # the corrupt file could not be graded
    xml = JUnitXml.fromfile(str(tmp_path / "class.xml"))
    suites = {s.name.split(": ")[1]: s for s in xml}
    assert set(suites) == {"tiny-correct", "tiny-wrong", "corrupt-truncated"}
    assert suites["tiny-correct"].failures == 0 and suites["tiny-wrong"].failures == 2
    assert suites["corrupt-truncated"].errors == 1
    assert suites["tiny-correct"].skipped == 1  # the written answer awaiting the instructor
    report = (out / "submissions" / "tiny-wrong" / "student-report.html").read_text()
    assert "model-answer" not in report and "seed" not in report
