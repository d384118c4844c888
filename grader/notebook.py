"""Read and validate a submitted notebook; collect its tagged written answers."""

from __future__ import annotations

import hashlib
import json
import os
import stat
import warnings
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

from .limits import MAX_CELLS, NOTEBOOK_BYTES, WRITTEN_CHARS


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


def read_bytes(path: Path) -> bytes:
    """The file's bytes, read only if it is a regular file of at most NOTEBOOK_BYTES (a FIFO or
    a device is never opened for reading in a way that could block)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError as exc:
        raise NotebookError(f"cannot read the file: {exc.strerror or exc}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise NotebookError("it is not a regular file, so not a notebook")
        if st.st_size > NOTEBOOK_BYTES:
            raise NotebookError(f"the file is {st.st_size // 2**20} MiB; notebooks over "
                                f"{NOTEBOOK_BYTES // 2**20} MiB are not graded (clear its "
                                "outputs and submit again)")
        with os.fdopen(os.dup(fd), "rb") as fh:
            raw = fh.read(NOTEBOOK_BYTES + 1)
    except OSError as exc:
        raise NotebookError(f"cannot read the file: {exc.strerror or exc}") from None
    finally:
        os.close(fd)
    if len(raw) > NOTEBOOK_BYTES:
        raise NotebookError(f"the file grew past {NOTEBOOK_BYTES // 2**20} MiB while being read")
    return raw


def file_digest(path: Path) -> str:
    return hashlib.sha256(read_bytes(path)).hexdigest()


def read_submission(path: Path, *, max_cells: int = MAX_CELLS) -> Submission:
    """Parse and validate `path`; raise NotebookError with a readable reason."""
    path = Path(path)
    raw = read_bytes(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise NotebookError("the file is not UTF-8 text, so it is not a Jupyter notebook") from None
    if not text.strip():
        raise NotebookError("the file is empty")
    _check_size(text, max_cells)
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


def _check_size(text: str, max_cells: int) -> None:
    """Refuse a notebook with too many cells before nbformat builds and validates it."""
    try:
        doc = json.loads(text)
    except (ValueError, RecursionError):
        return  # nbformat says what is wrong with it
    cells = doc.get("cells") if isinstance(doc, dict) else None
    if isinstance(cells, list) and len(cells) > max_cells:
        raise NotebookError(f"the notebook has {len(cells):,} cells; at most {max_cells:,} are "
                            "graded (--max-cells): remove empty or scratch cells")


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
