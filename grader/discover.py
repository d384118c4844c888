"""Find the submissions behind the command line's paths, each with a name unique in the run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class NothingToGrade(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class Job:
    name: str
    """Unique within the run: the notebook's stem, or its relative path where stems collide."""
    path: Path


def collect(paths: list[Path]) -> list[Job]:
    """Notebooks named directly, and every *.ipynb below the folders named (checkpoints and
    hidden folders skipped)."""
    found: list[tuple[Path, Path]] = []
    for p in paths:
        if p.is_dir():
            for nb in sorted(p.rglob("*.ipynb")):
                rel = nb.relative_to(p)
                if any(part.startswith(".") for part in rel.parts[:-1]):
                    continue
                found.append((p, nb))
        else:
            found.append((p.parent, p))
    seen: set[Path] = set()
    unique = []
    for base, nb in found:
        key = nb.resolve()
        if key not in seen:
            seen.add(key)
            unique.append((base, nb))
    if not unique:
        raise NothingToGrade("no notebooks (*.ipynb) found in " + ", ".join(map(str, paths)))
    stems: dict[str, int] = {}
    for _, nb in unique:
        stems[nb.stem] = stems.get(nb.stem, 0) + 1
    jobs, names = [], set()
    for base, nb in unique:
        name = nb.stem
        if stems[name] > 1:
            rel = nb.relative_to(base).with_suffix("") if nb.is_relative_to(base) else Path(nb.stem)
            name = "__".join(rel.parts)
        while name in names:
            name += "_"
        names.add(name)
        jobs.append(Job(_safe(name), nb))
    return jobs


def _safe(name: str) -> str:
    cleaned = "".join(c if c.isalnum() or c in "-_.@+" else "_" for c in name).strip(".")
    return cleaned or "submission"
