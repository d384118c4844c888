"""What a pack gives students and CI, without its answers.

`build(pack, out)` writes:

- `out/student/`: the template notebook, the public part of the pack (`packs/<name>/`: its
  public checks, probes and public reference; the hidden checks only as names and points), the
  grader's own source (`grader-engine/`, to pip install), a README with the one command a
  student runs, and for GitHub Classroom a workflow plus `.github/classroom/autograding.json`
  (one test per question, worth that question's public points).
- `out/autograder.zip` for Gradescope: `setup.sh`, `run_autograder` and `source/` (the grader
  and the whole pack, hidden checks and reference included: Gradescope's container is the
  instructor's side).

Nothing under `student/` holds a reference answer, a model answer or a hidden check.
"""

from __future__ import annotations

import io
import json
import shutil
import stat
import tomllib
import zipfile
from pathlib import Path

from . import __version__
from .judge import run_checks
from .packs import Pack

ENGINE_FILES = ("pyproject.toml", "README.md", "SECURITY.md")
GRADING_ONLY = ("build_notebooks.py",)
"""Files of a pack's folders that grading does not need (notebooks are left out too)."""
TORCH_CPU = ("torch==2.13.0 torchvision==0.28.0 --extra-index-url "
             "https://download.pytorch.org/whl/cpu")
"""How CI machines that are not this project's install the pinned CPU build of torch (and the
torchvision made for it, whose +cpu build needs no shim)."""
COURSE_NO_DEPS = "python -m pip install --no-deps d2l==1.0.3"
"""d2l pins ancient numpy/pandas/matplotlib: installed without them (the `course` extra has
what it needs)."""


def install_commands(engine: str = "./grader-engine", python: str = "python") -> list[str]:
    """The grader with the course's kernel packages (see the README, "The kernel
    environment")."""
    return [f"{python} -m pip install '{engine}[course]' {TORCH_CPU}",
            COURSE_NO_DEPS.replace("python", python, 1)]


class DistError(ValueError):
    pass


def build(pack: Pack, out: Path, engine_root: Path) -> dict[str, Path]:
    """Write the student bundle and the Gradescope zip for `pack`; returns their paths."""
    if pack.template is None:
        raise DistError(f"pack {pack.name} names no template notebook (template = ... in "
                        "pack.toml): students need one to start from")
    if pack.public_reference is None:
        raise DistError(f"pack {pack.name} has no public reference ({pack.reference_dir}/"
                        "public.py): public checks may only use what it holds")
    student = out / "student"
    if student.exists():
        shutil.rmtree(student)
    packdir = student / "packs" / pack.name
    _public_pack(pack, packdir)
    notebook = student / f"{pack.name}.ipynb"
    shutil.copyfile(pack.template, notebook)
    _engine(engine_root, student / "grader-engine")
    points = public_points(pack)
    _classroom(pack, student, points)
    (student / "README.md").write_text(_student_readme(pack, points), encoding="utf-8")
    zip_path = out / "autograder.zip"
    _gradescope_zip(pack, engine_root, zip_path)
    return {"student": student, "autograder": zip_path}


def hidden_checks(pack: Pack) -> list[dict]:
    """Each hidden check's question, name and weight (found by collecting the checks)."""
    if pack.hidden_dir is None:
        return []
    outcomes, _ = run_checks(pack, {}, 0)
    return [{"question": o.question, "name": o.name, "weight": o.weight}
            for o in outcomes if o.hidden]


def public_points(pack: Pack) -> dict[str, float]:
    """Per question, the points its public checks are worth (what `grader check` can give)."""
    outcomes, _ = run_checks(pack, {}, 0)
    out = {}
    for q in pack.questions:
        mine = [o for o in outcomes if o.question == q.id]
        total = sum(max(o.weight, 0.0) for o in mine)
        public = sum(max(o.weight, 0.0) for o in mine if not o.hidden)
        out[q.id] = round(q.points * public / total, 4) if total else 0.0
    return out


def _public_pack(pack: Pack, dest: Path) -> None:
    dest.mkdir(parents=True)
    shutil.copytree(pack.checks_dir, dest / "checks", ignore=_ignore)
    shutil.copyfile(pack.probes_path, dest / "probes.py")
    (dest / "reference").mkdir()
    shutil.copyfile(pack.public_reference, dest / "reference" / "public.py")
    raw = tomllib.loads((pack.root / "pack.toml").read_text(encoding="utf-8"))
    lines = [f"# The public part of pack {pack.name}, made by `grader dist` (grader "
             f"{__version__}): the hidden checks are listed, not included.",
             f"name = {json.dumps(pack.name)}", f"title = {json.dumps(pack.title)}",
             'checks = "checks"', 'probes = "probes.py"', 'reference = "reference"']
    if pack.prelude:
        lines.append(f"prelude = {json.dumps(pack.prelude)}")
    if pack.requires:
        lines += ["", "[environment]", f"requires = {json.dumps(list(pack.requires))}"]
        if pack.preload:
            lines.append(f"preload = {json.dumps(list(pack.preload))}")
    for q in raw.get("questions", []):
        lines += ["", "[[questions]]", f"id = {json.dumps(q['id'])}",
                  f"title = {json.dumps(q['title'])}", f"points = {q['points']}"]
    for w in pack.written:
        lines += ["", "[[written]]", f"question = {json.dumps(w.question)}",
                  f"tag = {json.dumps(w.tag)}", f"points = {w.points:g}"]
    for h in hidden_checks(pack):
        lines += ["", "[[withheld]]", f"question = {json.dumps(h['question'])}",
                  f"name = {json.dumps(h['name'])}", f"weight = {h['weight']:g}"]
    (dest / "pack.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _ignore(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if n == "__pycache__" or n.endswith(".pyc")]


def _engine(root: Path, dest: Path) -> None:
    """The grader's source without its packs, references or tests."""
    shutil.copytree(root / "grader", dest / "grader", ignore=_ignore)
    for name in ENGINE_FILES:
        if (root / name).exists():
            shutil.copyfile(root / name, dest / name)


def _check_command(pack: Pack, question: str | None = None) -> str:
    q = f" --question {question}" if question else ""
    return f"grader check --pack packs/{pack.name}{q} {pack.name}.ipynb"


def _classroom(pack: Pack, student: Path, points: dict[str, float]) -> None:
    tests = [{"name": f"{q.id} {q.title}", "setup": "", "run": _check_command(pack, q.id),
              "input": "", "output": "", "comparison": "included", "timeout": 10,
              "points": points[q.id]} for q in pack.questions if points[q.id] > 0]
    classroom = student / ".github" / "classroom"
    classroom.mkdir(parents=True)
    (classroom / "autograding.json").write_text(json.dumps({"tests": tests}, indent=2) + "\n")
    steps = [f"      - name: {json.dumps(t['name'])}\n"
             f"        id: q{i}\n"
             f"        uses: classroom-resources/autograding-command-grader@v1\n"
             f"        with:\n"
             f"          test-name: {json.dumps(t['name'])}\n"
             f"          command: {json.dumps(t['run'])}\n"
             f"          timeout: {t['timeout']}\n"
             f"          max-score: {t['points']:g}\n" for i, t in enumerate(tests)]
    env = "".join(f"          Q{i}_RESULTS: \"${{{{steps.q{i}.outputs.result}}}}\"\n"
                  for i in range(len(tests)))
    runners = ",".join(f"q{i}" for i in range(len(tests)))
    workflow = (
        "# Made by `grader dist`: runs the pack's public checks on every push, one step per\n"
        "# question, and reports the points to GitHub Classroom.\n"
        "name: Autograding Tests\n"
        "on: [push, repository_dispatch]\n"
        "permissions:\n  checks: write\n  actions: read\n  contents: read\n"
        "jobs:\n  run-autograding-tests:\n    runs-on: ubuntu-latest\n"
        "    if: github.actor != 'github-classroom[bot]'\n"
        "    steps:\n      - uses: actions/checkout@v4\n"
        "      - uses: actions/setup-python@v5\n        with:\n          python-version: '3.11'\n"
        "      - name: Install the grader\n"
        f"        run: {' && '.join(install_commands())}\n"
        + "".join(steps)
        + "      - name: Autograding Reporter\n"
        "        uses: classroom-resources/autograding-grading-reporter@v1\n"
        f"        env:\n{env}"
        f"        with:\n          runners: {runners}\n")
    workflows = student / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "classroom.yml").write_text(workflow)


def _student_readme(pack: Pack, points: dict[str, float]) -> str:
    rows = "\n".join(f"| {q.id} | {q.title} | {points[q.id]:g} of {q.points:g} |"
                     for q in pack.questions)
    written = sum(w.points for w in pack.written)
    return f"""# {pack.title}

Fill in `{pack.name}.ipynb`, then check it from this folder:

```sh
grader check --pack packs/{pack.name} {pack.name}.ipynb
```

It runs your notebook from top to bottom in a fresh kernel, as the grader will, and prints for
each question PASS or FAIL with what was tried, what came back and a hint. It exits 0 when every
public check passes, 1 when some fail, 2 for a usage error and 3 when the notebook could not be
run at all. `--question 2.1` checks one question.

Install the grader once (Python 3.11; `grader-engine/` is in this folder):

```sh
{chr(10).join(install_commands())}
```

On your own machine your notebook runs without a sandbox (it is your code); the check says so.

Points the public checks can show (the rest are hidden checks and {written:g} points of
written answers, graded by your instructor):

| question | | public points |
| --- | --- | --- |
{rows}
"""


_SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image (Ubuntu 22.04).
set -euxo pipefail
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y bubblewrap software-properties-common
add-apt-repository -y ppa:deadsnakes/ppa || true
apt-get update
DEBIAN_FRONTEND=noninteractive apt-get install -y python3.11 python3.11-venv
python3.11 -m venv /autograder/venv
/autograder/venv/bin/python -m pip install --upgrade pip
{install}
ln -sf /autograder/venv/bin/grader /usr/local/bin/grader
"""

_RUN = """#!/usr/bin/env bash
# Gradescope runs this for each submission. It always leaves results/results.json: the grader
# writes it (also for no notebook, several, or a broken one); if even the grader cannot run,
# this script writes a zero with the reason.
ROOT="${AUTOGRADER_ROOT:-/autograder}"
GRADER="${GRADER:-grader}"
mkdir -p "$ROOT/results"
$GRADER gradescope --root "$ROOT" --pack "$ROOT/source/pack" 2> "$ROOT/results/grader.log"
if [ ! -s "$ROOT/results/results.json" ]; then
  printf '{"score": 0, "output": "The autograder could not run (see the instructor log).", %s\\n' \\
    '"tests": [], "extra_data": {"status": "error"}}' > "$ROOT/results/results.json"
fi
exit 0
"""


def _gradescope_zip(pack: Pack, engine_root: Path, dest: Path) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        _add_text(z, "setup.sh", _SETUP.format(install="\n".join(install_commands(
            "/autograder/source/grader-engine", "/autograder/venv/bin/python"))),
            executable=True)
        _add_text(z, "run_autograder", _RUN, executable=True)
        for base, prefix in ((engine_root / "grader", "grader-engine/grader"),
                             (pack.root, "pack"), (pack.reference_dir, "pack/reference")):
            for f in sorted(base.rglob("*")):
                if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".ipynb" \
                        and f != pack.root / "pack.toml" and f.name not in GRADING_ONLY:
                    z.write(f, f"{prefix}/{f.relative_to(base).as_posix()}")
        for name in ENGINE_FILES:
            if (engine_root / name).exists():
                z.write(engine_root / name, f"grader-engine/{name}")
        toml = (pack.root / "pack.toml").read_text(encoding="utf-8")
        _add_text(z, "pack/pack.toml", _relocate(toml))
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(buf.getvalue())


def _relocate(toml: str) -> str:
    """pack.toml with its reference inside the zip's pack folder and no template (Gradescope
    does not need one)."""
    out = []
    for line in toml.splitlines():
        key = line.split("=", 1)[0].strip()
        if key == "reference":
            line = 'reference = "reference"'
        elif key == "template":
            continue
        out.append(line)
    return "\n".join(out) + "\n"


def _add_text(z: zipfile.ZipFile, name: str, text: str, *, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
    z.writestr(info, text)
