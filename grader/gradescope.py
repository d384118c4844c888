"""Gradescope's side: grade the one notebook in `<root>/submission` and always leave
`<root>/results/results.json`, whatever was submitted.

Which notebook: the one named after the pack (`conv-layer.ipynb`, as the template is named),
else the only notebook submitted. With none, or several and none named after the pack, nothing
is guessed: the result scores 0 and lists what was found. Inside Gradescope's container,
namespaces are usually not available: the kernel then runs without bubblewrap (the container
is the sandbox) and the output says so.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from . import __version__
from .kernels import choose, open_backend
from .limits import Limits
from .packs import Pack
from .pipeline import Grader, not_graded
from .results import SubmissionResult
from .sandbox import SandboxUnavailable, detect_sandbox
from .writers import results_json


def pick(submission: Path, pack: Pack) -> tuple[Path | None, str]:
    """(the notebook to grade, "") or (None, why none is graded)."""
    found = sorted(p for p in submission.rglob("*.ipynb")
                   if not any(part.startswith(".") for part in p.relative_to(submission).parts))
    if not found:
        return None, "No notebook (*.ipynb) was submitted: upload your notebook file."
    named = [p for p in found if p.name.lower() == f"{pack.name.lower()}.ipynb"]
    if len(named) == 1:
        return named[0], ""
    if len(found) == 1:
        return found[0], ""
    names = ", ".join(str(p.relative_to(submission)) for p in found)
    return None, (f"Several notebooks were submitted ({names}) and none is named "
                  f"{pack.name}.ipynb: submit only your notebook, or name it {pack.name}.ipynb.")


def run(root: Path, pack: Pack, limits: Limits, seed: int) -> SubmissionResult:
    """Grade the submission under `root` and write results/results.json."""
    notebook, why = pick(root / "submission", pack)
    notes: list[str] = []
    if notebook is None:
        result = not_graded(pack, why, submission="submission", path=str(root / "submission"),
                            seed=seed, run_seed=seed, grader_version=__version__,
                            graded_at=_now())
    else:
        try:
            box = detect_sandbox()
        except SandboxUnavailable as exc:
            box = detect_sandbox(enabled=False)
            notes.append("Graded without bubblewrap: it cannot create namespaces in this "
                         f"container ({str(exc)[:160]}); the container isolates the notebook.")
        backend = open_backend(choose(box, forge=False), box, limits)
        try:
            result = Grader({pack.name: pack}, backend, limits, pack.name).grade(notebook, seed)
        finally:
            backend.close()
    data = results_json.results_json(result)
    if notes:
        data["output"] = "\n".join([*notes, data["output"]])
    out = root / "results" / "results.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return result


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
