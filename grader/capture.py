"""Free-form evidence, captured while a notebook runs: after every cell, what the cell printed
and raised (from its outputs) and what it left in the kernel (asked of
grader/kernel_evidence.py in a probe cell of its own, decoded by grader.wire and validated by
grader.evidence).

The capture is best-effort and bounded: a capture that fails, runs out of time or exceeds the
submission's budget is switched off for the rest of the run (with a note), and the notebook's
grading goes on with the evidence gathered so far. A capture that kills or hangs the kernel
asks for a new kernel, without leaving out any of the student's cells.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from importlib import resources

import numpy as np

from .client import CappedClient
from .evidence import Evidence, Item, cell_output, read_capture
from .limits import (
    EVIDENCE_CHARS,
    EVIDENCE_ITEMS,
    EVIDENCE_NAMES,
    EVIDENCE_TEXT,
    EVIDENCE_TOTAL_CHARS,
)
from .wire import MIME, BadReply, RaisedError, Value, decode_reply, factory_cell

CAPTURE_SECONDS = 10.0
"""Longest wall-clock time one capture may take (less when the cell's own limit is lower)."""


@dataclass(slots=True)
class Capture:
    """The evidence of one submission, across however many kernels its run takes (each new
    run of the cells starts the evidence afresh: the run that counts is the last)."""

    evidence: Evidence = field(default_factory=Evidence)
    chars: int = 0
    off: str = ""
    """Why capture was switched off (empty while it works)."""
    notes: list[str] = field(default_factory=list)

    def restart(self) -> None:
        self.evidence = Evidence()
        self.chars = 0

    async def setup(self, client: CappedClient, timeout: float) -> str | None:
        """Define the kernel side. Returns "died" or "hung" when the kernel must be replaced."""
        if self.off:
            return None
        status, detail, _ = await client.run_code(_source(), min(timeout, CAPTURE_SECONDS))
        if status in ("died", "hung"):
            self._stop(f"the kernel failed while evidence capture was set up ({status})")
            return status
        if status != "ok":
            self._stop(f"evidence capture could not be set up ({detail or status})")
        return None

    async def after_cell(self, client: CappedClient, idx: int, cell, timeout: float
                         ) -> str | None:
        """Record what cell `idx` printed, raised and left in the kernel. Returns "died" or
        "hung" when the kernel must be replaced."""
        output, printed = cell_output(idx, cell.get("outputs", []), verified=True)
        self.evidence.outputs.append(output)
        found: list[Item] = []
        if output.error is not None:
            found.append(Item(idx, "error", "", RaisedError(*output.error)))
        if not self.off:
            verdict = await self._ask(client, idx, timeout, found)
            if verdict:
                return verdict
        results = [v for item in found if item.origin == "result"
                   for v in _arrays(item.value)]
        found += [p for p in printed if not any(_same(p.value, r) for r in results)]
        self.evidence.items += found
        return None

    async def _ask(self, client: CappedClient, idx: int, timeout: float, found: list[Item]
                   ) -> str | None:
        rid = secrets.randbits(48)
        status, detail, probe = await client.run_code(f"__grader_evidence__({idx}, {rid})",
                                                      min(timeout, CAPTURE_SECONDS), [rid])
        if status in ("died", "hung"):
            self._stop(f"the kernel failed while evidence was captured after cell {idx + 1}")
            return status
        if status != "ok":
            self._stop(f"evidence capture failed after cell {idx + 1} ({detail or status})")
            return None
        text = next((o.get("data", {}).get(MIME) for o in probe.outputs
                     if o.get("output_type") == "display_data"), None)
        self.chars += len(text) if isinstance(text, str) else 0
        if self.chars > EVIDENCE_TOTAL_CHARS:
            self._stop("the notebook's evidence exceeded its budget; later cells were not "
                       "captured")
            return None
        try:
            answer = decode_reply(text, Value("evidence"), rid)
        except BadReply as exc:
            self._stop(f"evidence after cell {idx + 1} was unreadable ({exc})")
            return None
        items, functions = read_capture(idx, answer.value)
        found += items
        self.evidence.functions += functions
        return None

    def _stop(self, why: str) -> None:
        self.off = why
        self.notes.append(f"Evidence capture stopped: {why}.")


def _source() -> str:
    source = resources.files("grader").joinpath("kernel_evidence.py").read_text()
    return factory_cell(source, "__grader_evidence_factory",
                        (EVIDENCE_ITEMS, EVIDENCE_TEXT, EVIDENCE_CHARS, EVIDENCE_NAMES),
                        "__grader_evidence__")


def _arrays(value) -> list[np.ndarray]:
    if isinstance(value, np.ndarray):
        return [value]
    if isinstance(value, (tuple, list)):
        return [a for v in value for a in _arrays(v)]
    return []


def _same(a, b: np.ndarray) -> bool:
    if not isinstance(a, np.ndarray):
        return False
    x, y = np.squeeze(a), np.squeeze(b)
    return x.shape == y.shape and bool(np.allclose(x, y, rtol=1e-3, atol=1e-4, equal_nan=True))
