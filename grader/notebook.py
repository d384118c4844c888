"""Read and validate a submitted notebook; collect its tagged written answers."""

from __future__ import annotations

import hashlib
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .limits import NOTEBOOK_BYTES, WRITTEN_CHARS


class NotebookError(ValueError):
    """The file is not a notebook that can be graded; the message says why."""


@dataclass(frozen=True, slots=True)
class Submission:
    path: Path
    name: str
    nb: NotebookNode
    sha256: str
    pack_name: str | None
    written: dict[str, str]


def file_digest(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_submission(path: Path) -> Submission:
    """Parse and validate `path`; raise NotebookError with a readable reason."""
    path = Path(path)
    try:
        size = path.stat().st_size
        if size > NOTEBOOK_BYTES:
            raise NotebookError(f"the file is {size // 2**20} MiB; notebooks over "
                                f"{NOTEBOOK_BYTES // 2**20} MiB are not graded (clear its "
                                "outputs and submit again)")
        raw = path.read_bytes()
    except OSError as exc:
        raise NotebookError(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError("the file is not UTF-8 text, so it is not a Jupyter notebook") from None
    if not text.strip():
        raise NotebookError("the file is empty")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.reads(text, as_version=4)
    except nbformat.reader.NotJSONError:
        raise NotebookError("the file is not valid JSON, so it is not a Jupyter notebook "
                            "(was it saved completely? open it in Jupyter to check)") from None
    except Exception as exc:  # nbformat raises many kinds on malformed documents
        raise NotebookError(f"the file is not a valid notebook ({type(exc).__name__}: "
                            f"{str(exc)[:200]})") from None
    _check_structure(nb)
    meta = nb.metadata.get("grader", {})
    pack = meta.get("pack") if isinstance(meta, dict) else None
    return Submission(path=path, name=path.stem, nb=nb,
                      sha256=hashlib.sha256(raw).hexdigest(),
                      pack_name=pack if isinstance(pack, str) and pack else None,
                      written=written_answers(nb))


def _check_structure(nb: NotebookNode) -> None:
    """What grading needs, even where a notebook fails nbformat's stricter schema."""
    cells = nb.get("cells")
    if not isinstance(cells, list):
        raise NotebookError("the notebook has no list of cells")
    for i, cell in enumerate(cells):
        if not isinstance(cell, dict) or cell.get("cell_type") not in ("code", "markdown", "raw"):
            raise NotebookError(f"cell {i + 1} is malformed (no valid cell_type)")
        if not isinstance(cell.get("source", ""), str):
            raise NotebookError(f"cell {i + 1} has a malformed source")


def written_answers(nb: NotebookNode) -> dict[str, str]:
    """Tag -> text of the markdown or raw cells tagged `answer-...`; several cells with the
    same tag are joined."""
    found: dict[str, list[str]] = {}
    for cell in nb.cells:
        if cell.cell_type == "code":
            continue
        tags = cell.get("metadata", {}).get("tags", [])
        if not isinstance(tags, list):
            continue
        for tag in tags:
            if isinstance(tag, str) and tag.startswith("answer-"):
                found.setdefault(tag, []).append(cell.source)
    return {tag: "\n\n".join(parts)[:WRITTEN_CHARS] for tag, parts in found.items()}
