"""Exercise packs: a folder with pack.toml (questions and points), probes.py (what to ask the
kernel) and a folder of pytest checks. Loaded and validated here, before anything runs."""

from __future__ import annotations

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
_KEYS = {"name", "title", "checks", "probes", "reference", "template", "prelude", "questions",
         "written"}


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

    @property
    def auto_points(self) -> float:
        return sum(q.points for q in self.questions)

    @property
    def sources(self) -> tuple[Path, ...]:
        """Everything the pack is made of: its folder, its reference folder and its template
        (the reference and template may live outside the folder)."""
        return (self.root, self.reference_dir, *([self.template] if self.template else []))

    def requests(self, rng: np.random.Generator) -> list[Request]:
        """The requests of one grading run, drawn from `rng`."""
        module = load_module(self.probes_path, f"grader_pack_{_ident(self.name)}_probes")
        requests = list(module.requests(rng))
        keys = [r.key for r in requests]
        if len(set(keys)) != len(keys):
            raise PackError(f"pack {self.name}: probes.py returned duplicate request keys")
        return requests


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
    raise PackError("several packs are installed and the notebook names none; pass --exercise "
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
    pack = Pack(name=name, title=data.get("title", name), root=root.resolve(),
                checks_dir=(root / data.get("checks", "checks")).resolve(),
                probes_path=(root / data.get("probes", "probes.py")).resolve(),
                reference_dir=reference_dir, questions=questions, written=tuple(written),
                prelude=data.get("prelude", ""),
                template=(root / data["template"]).resolve() if "template" in data else None)
    for p, what in ((pack.checks_dir, "checks folder"), (pack.probes_path, "probes.py"),
                    (pack.reference_dir, "reference folder")):
        if not p.exists():
            raise PackError(f"{where}: its {what} {p} does not exist")
    return pack


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
