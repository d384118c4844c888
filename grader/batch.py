"""Find the submissions behind the command line's paths and write a run's outputs."""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .export import grades_csv, results_json
from .report import render_index, render_report
from .results import SubmissionResult


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


def atomic_write(path: Path, text: str) -> None:
    """Write via a temporary file and rename, so a reader never sees half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def write_submission(out: Path, result: SubmissionResult) -> None:
    folder = out / result.submission
    atomic_write(folder / "results.json", json.dumps(results_json(result), indent=2))
    atomic_write(folder / "report.html", render_report(result))


def write_run(out: Path, results: list[SubmissionResult], title: str = "Class overview") -> None:
    atomic_write(out / "grades.csv", grades_csv(results))
    links = {r.submission: f"{r.submission}/report.html" for r in results}
    atomic_write(out / "index.html", render_index(results, links, title))
