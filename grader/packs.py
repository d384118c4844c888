"""Exercise packs: a folder with pack.toml (questions and points), probes.py (what to ask the
kernel) and a folder of pytest checks. Loaded and validated here, before anything runs."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib.util
import os
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

import numpy as np

from .wire import Request

PACKS_ENV = "GRADER_PACKS"
_KEYS = {"name", "title", "checks", "hidden", "withheld", "acceptable", "probes", "reference",
         "template", "prelude", "questions", "written", "environment", "freeform"}


class PackError(ValueError):
    """A pack is missing, ambiguous or malformed; the message says which and how to fix it."""


@dataclass(frozen=True, slots=True)
class Question:
    id: str
    title: str
    points: float


@dataclass(frozen=True, slots=True)
class Written:
    """A written answer: a markdown cell found by its tag, graded by the instructor."""

    question: str
    tag: str
    points: float
    model_answer: str


@dataclass(frozen=True, slots=True)
class Withheld:
    """A hidden check as a student's copy of the pack knows it: that it exists, and its weight."""

    question: str
    name: str
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class Pack:
    name: str
    title: str
    root: Path
    checks_dir: Path
    probes_path: Path
    reference_dir: Path
    questions: tuple[Question, ...]
    written: tuple[Written, ...]
    prelude: str = ""
    template: Path | None = None
    """The blank notebook students start from; its written-answer cells are the placeholders."""
    hidden_dir: Path | None = None
    """Checks run only when the instructor grades (`hidden = "..."` in pack.toml)."""
    withheld: tuple[Withheld, ...] = ()
    """Hidden checks a student's copy of the pack lists but does not have (`[[withheld]]`)."""
    requires: tuple[str, ...] = ()
    """Modules the kernel must be able to import (`[environment] requires = [...]`); see
    grader/environment.py."""
    preload: tuple[str, ...] = ()
    """Modules the kernel forge imports once, before it forks kernels (`[environment] preload`):
    what nearly every submission imports, so that no kernel pays for the import again."""
    freeform_path: Path | None = None
    """The pack's finders for free-form notebooks (`freeform = "freeform.py"`, the default when
    that file exists); None: the pack grades template notebooks only."""
    acceptable: dict[tuple[str, str], str] = dataclasses.field(default_factory=dict, hash=False,
                                                              compare=False)
    """(answer, mutant) -> why `grader audit` may let that wrong-looking answer keep its
    points (`[[acceptable]]`)."""

    @property
    def model(self) -> Path | None:
        """The model solution `grader audit` starts from: reference/model_solution.ipynb."""
        path = self.reference_dir / "model_solution.ipynb"
        return path if path.exists() else None

    @property
    def auto_points(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def public_reference(self) -> Path | None:
        """What public checks may use (the section's own code, property detectors), when the
        pack splits its reference: `public.py` beside the hidden `solution.py`."""
        path = self.reference_dir / "public.py"
        return path if path.exists() else None

    def module_name(self, what: str) -> str:
        """A name to import one of this pack's files under, unique to this pack's folder."""
        where = hashlib.sha256(str(self.root).encode()).hexdigest()[:8]
        return f"grader_pack_{_ident(self.name)}_{where}_{what}"

    @property
    def sources(self) -> tuple[Path, ...]:
        """Everything the pack is made of: its folder, its reference folder and its template
        (the reference and template may live outside the folder)."""
        return (self.root, self.reference_dir, *([self.template] if self.template else []))

    def requests(self, rng: np.random.Generator) -> list[Request]:
        """The requests of one grading run, drawn from `rng`."""
        module = load_module(self.probes_path, self.module_name("probes"))
        requests = list(module.requests(rng))
        keys = [r.key for r in requests]
        if len(set(keys)) != len(keys):
            raise PackError(f"pack {self.name}: probes.py returned duplicate request keys")
        return requests


def public_view(pack: Pack) -> Pack:
    """The pack as a student's copy of it runs: its hidden checks are not run, only listed
    (withheld), whether it has them (an instructor's pack) or only their names (a copy made by
    `grader dist`)."""
    if pack.hidden_dir is None:
        return pack
    from .judge import run_checks  # collecting the hidden checks runs pytest

    outcomes, _ = run_checks(pack, {}, 0)
    withheld = tuple(Withheld(o.question, o.name, o.weight) for o in outcomes if o.hidden)
    return dataclasses.replace(pack, hidden_dir=None, withheld=pack.withheld + withheld)


def default_pack_dirs() -> list[Path]:
    """`exercises/` of this checkout, then every folder listed in $GRADER_PACKS."""
    dirs = [Path(__file__).resolve().parent.parent / "exercises"]
    extra = os.environ.get(PACKS_ENV, "")
    dirs += [Path(p) for p in extra.split(os.pathsep) if p]
    return [d for d in dirs if d.is_dir()]


def discover(dirs: list[Path]) -> dict[str, Pack]:
    packs: dict[str, Pack] = {}
    for base in dirs:
        for toml_path in sorted(base.glob("*/pack.toml")):
            pack = load_pack(toml_path.parent)
            if pack.name in packs:
                raise PackError(f"two packs are named {pack.name!r}: {packs[pack.name].root} and "
                                f"{pack.root}; rename one")
            packs[pack.name] = pack
    return packs


def choose(packs: dict[str, Pack], requested: str | None, from_notebook: str | None) -> Pack:
    """--exercise, else the notebook's metadata, else the only installed pack."""
    name = requested or from_notebook
    if name:
        if name not in packs:
            known = ", ".join(sorted(packs)) or "none"
            raise PackError(f"unknown exercise pack {name!r}; installed packs: {known}")
        return packs[name]
    if len(packs) == 1:
        return next(iter(packs.values()))
    if not packs:
        raise PackError("no exercise packs are installed (looked in exercises/ and $GRADER_PACKS)")
    raise PackError("several packs are installed and the notebook names none; pass --pack "
                    f"with one of: {', '.join(sorted(packs))}")


def load_pack(root: Path) -> Pack:
    path = root / "pack.toml"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise PackError(f"cannot read {path}: {exc}") from None
    where = f"pack {root.name} ({path})"
    unknown = sorted(set(data) - _KEYS)
    if unknown:
        renamed = " ([[free_text]] is now [[written]])" if "free_text" in unknown else ""
        raise PackError(f"{where}: unknown field(s) {', '.join(unknown)}{renamed}; known: "
                        f"{', '.join(sorted(_KEYS))}")
    name = _field(data, "name", str, where)
    questions = tuple(Question(_field(q, "id", str, where), _field(q, "title", str, where),
                               float(_field(q, "points", (int, float), where)))
                      for q in data.get("questions", []))
    ids = [q.id for q in questions]
    if not questions or len(set(ids)) != len(ids):
        raise PackError(f"{where}: needs [[questions]] with unique ids")
    if any(q.points < 0 for q in questions):
        raise PackError(f"{where}: points cannot be negative")
    reference_dir = (root / data.get("reference", "reference")).resolve()
    models = _model_answers(reference_dir / "model_answers.toml")
    written = []
    for item in data.get("written", []):
        qid, tag = _field(item, "question", str, where), _field(item, "tag", str, where)
        if qid not in ids:
            raise PackError(f"{where}: written answer {tag!r} names unknown question {qid!r}")
        written.append(Written(qid, tag, float(item.get("points", 0)), models.get(tag, "")))
    withheld = tuple(Withheld(_field(w, "question", str, where), _field(w, "name", str, where),
                              float(w.get("weight", 1.0))) for w in data.get("withheld", []))
    if any(w.question not in ids for w in withheld):
        raise PackError(f"{where}: a [[withheld]] check names an unknown question")
    requires, preload = _environment(data.get("environment", {}), where)
    freeform = root / data.get("freeform", "freeform.py")
    if "freeform" in data and not freeform.is_file():
        raise PackError(f"{where}: its freeform finders {freeform} do not exist")
    pack = Pack(name=name, title=data.get("title", name), root=root.resolve(),
                checks_dir=(root / data.get("checks", "checks")).resolve(),
                probes_path=(root / data.get("probes", "probes.py")).resolve(),
                reference_dir=reference_dir, questions=questions, written=tuple(written),
                prelude=data.get("prelude", ""),
                template=(root / data["template"]).resolve() if "template" in data else None,
                hidden_dir=(root / data["hidden"]).resolve() if "hidden" in data else None,
                withheld=withheld, acceptable=_acceptable(data, where), requires=requires,
                preload=preload, freeform_path=freeform.resolve() if freeform.is_file() else None)
    for p, what in ((pack.checks_dir, "checks folder"), (pack.probes_path, "probes.py"),
                    (pack.reference_dir, "reference folder"),
                    (pack.hidden_dir, "hidden checks folder")):
        if p is None:
            continue
        if not p.exists():
            raise PackError(f"{where}: its {what} {p} does not exist")
    return pack


def _acceptable(data: dict, where: str) -> dict[tuple[str, str], str]:
    out = {}
    for item in data.get("acceptable", []):
        key = (_field(item, "answer", str, where), _field(item, "mutant", str, where))
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise PackError(f"{where}: [[acceptable]] {key[0]} {key[1]} needs a reason")
        out[key] = reason
    return out


def _environment(table, where: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`[environment] requires = ["module", ...]` (top-level module names) and
    `preload = ["module.sub", ...]`: (requires, preload)."""
    if not isinstance(table, dict) or set(table) - {"requires", "preload"}:
        raise PackError(f"{where}: [environment] takes two keys, requires = [\"module\", ...] "
                        "and preload = [\"module\", ...]")
    return tuple(_modules(table, "requires", where)), tuple(_modules(table, "preload", where))


def _modules(table: dict, key: str, where: str) -> list[str]:
    names = table.get(key, [])
    if not isinstance(names, list) or not all(
            isinstance(m, str) and m.replace("_", "a").replace(".", "a").isalnum()
            for m in names):
        raise PackError(f"{where}: [environment] {key} must be a list of module names")
    return names


def model_answers(pack: Pack) -> dict[str, str]:
    """The pack's model answers by key (written answers' tags, review-<question>)."""
    return _model_answers(pack.reference_dir / "model_answers.toml")


def _model_answers(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise PackError(f"cannot read {path}: {exc}") from None
    return {str(k): str(v) for k, v in data.items()}


def _field(data: dict, key: str, kind, where: str):
    if key not in data or not isinstance(data[key], kind):
        raise PackError(f"{where}: missing or malformed field {key!r}")
    return data[key]


def _ident(name: str) -> str:
    return "".join(c if c.isalnum() else "_" for c in name)


def load_module(path: Path, name: str) -> ModuleType:
    """Import a pack's Python file once per process."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise PackError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception:
        del sys.modules[name]
        raise
    return module
