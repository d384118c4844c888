"""Shell and package-manager commands in a notebook never run when it is graded.

`!pip install d2l`, `%pip install ...`, `%conda ...`, `files = !ls` and cells starting with
`%%bash` or `%%sh` would, in the sandbox (no network), wait on pip's retries until the cell's
time limit, and with a network rewrite the kernel's packages. Before a cell runs, such lines
are replaced by `pass` (keeping the indentation, so the cell still parses) and reported as
skipped; a cell magic that runs a shell skips the whole cell. A pure function of the source.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass

from nbformat import NotebookNode

LINE_MAGICS = ("pip", "conda", "mamba", "micromamba", "uv", "system", "sx", "sc")
"""Line magics that run a shell or a package manager (`%pip ...`)."""
CELL_MAGICS = ("bash", "sh", "script", "system", "sx", "perl", "ruby", "zsh", "ksh", "csh")
"""Cell magics that run the whole cell in a shell or another interpreter (`%%bash`)."""

_LINE = re.compile(rf"^(?P<indent>[ \t]*)(?:[A-Za-z_]\w*\s*=\s*)?"
                   rf"(?:!|%(?:{'|'.join(LINE_MAGICS)})\b|get_ipython\(\)\.(?:system|getoutput)\("
                   rf"|get_ipython\(\)\.run_line_magic\(\s*['\"](?:{'|'.join(LINE_MAGICS)})['\"])")
_CELL = re.compile(rf"^\s*%%(?:{'|'.join(CELL_MAGICS)})\b")


@dataclass(frozen=True, slots=True)
class Stripped:
    """A cell's source as it will run, and the lines taken out of it."""

    source: str
    skipped: tuple[str, ...] = ()


def strip_magics(source: str) -> Stripped:
    """`source` without its shell and package-manager commands (see the module's docstring)."""
    if not isinstance(source, str) or not any(c in source for c in "!%("):
        return Stripped(source if isinstance(source, str) else "")
    first = next((line for line in source.splitlines() if line.strip()), "")
    if _CELL.match(first):
        return Stripped("pass  # skipped by the grader: a shell cell", (first.strip(),))
    out, skipped, continued = [], [], False
    for line in source.splitlines():
        if continued:
            skipped[-1] = skipped[-1].rstrip("\\ ") + " " + line.strip()
            continued = line.rstrip().endswith("\\")
            out.append("")
            continue
        match = _LINE.match(line)
        if match is None:
            out.append(line)
            continue
        skipped.append(line.strip())
        continued = line.rstrip().endswith("\\")
        out.append(f"{match.group('indent')}pass  # skipped by the grader: a shell command")
    if not skipped:
        return Stripped(source)
    return Stripped("\n".join(out), tuple(s.rstrip("\\ ").strip() for s in skipped))


def skipped_event(cell_index: int, skipped: tuple[str, ...]) -> str:
    """The event reporting what was taken out of one cell."""
    shown = "; ".join(f"`{s[:80]}`" for s in skipped[:3])
    more = f" and {len(skipped) - 3} more" if len(skipped) > 3 else ""
    return (f"Cell {cell_index + 1}: skipped {shown}{more} (shell and pip commands never run "
            "in grading; the grader's environment already has the course's packages).")


def without_magics(nb: NotebookNode) -> tuple[NotebookNode, list[str]]:
    """A copy of `nb` whose code cells have no shell or pip commands, and one event per cell
    that lost some. `nb` itself is left as it is."""
    out = copy.deepcopy(nb)
    events = []
    for i, cell in enumerate(out.cells):
        if cell.get("cell_type") != "code":
            continue
        stripped = strip_magics(cell.get("source", ""))
        if stripped.skipped:
            cell["source"] = stripped.source
            events.append(skipped_event(i, stripped.skipped))
    return out, events
