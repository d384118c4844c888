"""Ask the kernel for the answers, after the student's cells have run.

The pack's requests (read a variable, call a function with inputs drawn at grading time) go
to the kernel in probe cells, one cell per function; replies come back as JSON text and are
decoded by grader.wire. A function that crashes or hangs the kernel when called loses its own
calls only: it is not called again, and the rest are asked of a new kernel.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from importlib import resources

from .client import CappedClient
from .limits import PROBE_ITEMS, PROBE_TEXT, REPLIES_CHARS
from .wire import (
    MIME,
    Answer,
    BadReply,
    Call,
    Request,
    Value,
    decode_reply,
    encode_requests,
    factory_cell,
)

_FAILED = {"died": ("kernel_died", "crashed the kernel"), "hung": ("timeout", "hung"),
           "timeout": ("timeout", "ran out of time")}


@dataclass(slots=True)
class Extractor:
    """The answers of one submission, asked across however many kernels it takes."""

    pending: list[Request]
    answers: dict[str, Answer] = field(default_factory=dict)
    broken: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Functions that crashed or hung the kernel when called: (answer status, message)."""
    events: list[str] = field(default_factory=list)
    reply_chars: int = 0

    def give_up(self, why: str) -> None:
        """Every request not yet answered gets `why` as its (non-)answer."""
        for req in self.pending:
            self.answers.setdefault(req.key, Answer(req, "not_run", message=why))
        self.pending.clear()

    async def ask(self, client: CappedClient, cell_timeout: float, deadline: float
                  ) -> str | None:
        """Ask `client`'s kernel for everything pending. Returns None when done, or "died" /
        "hung" when the kernel must be replaced to ask the rest."""
        setup = await client.run_code(_probe_source(), cell_timeout)
        if setup[0] != "ok":
            why = f"the answers could not be read from the kernel ({setup[1]})"
            for req in self.pending:
                self.answers[req.key] = Answer(req, "no_reply", message=why)
            self.pending.clear()
            return None
        while self.pending:
            if time.monotonic() >= deadline:
                self.give_up("notebook time limit reached")
                return None
            group = self._next_group()
            if group:
                verdict = await self._ask_group(client, group, cell_timeout)
                if verdict is not None:
                    return verdict if self.pending else None
        return None

    async def _ask_group(self, client: CappedClient, group: list[Request],
                         cell_timeout: float) -> str | None:
        ids = [secrets.randbits(48) for _ in group]
        code = f"__grader_probe__({encode_requests(list(zip(group, ids)))!r})"
        status, detail, cell = await client.run_code(code, cell_timeout, ids)
        self.reply_chars += sum(len(str(o.get("data", {}).get(MIME, ""))) for o in cell.outputs)
        answered = {req.key: _read_answer(cell, req, rid) for req, rid in zip(group, ids)}
        missing = [req for req in group if answered[req.key].status == "no_reply"]
        for req in group:  # compared by key: requests hold arrays
            if answered[req.key].status != "no_reply":
                self.answers[req.key] = answered[req.key]
        if not missing:
            return None
        culprit, rest = missing[0], missing[1:]
        verdict, what = _FAILED.get(status, ("no_reply", f"failed ({detail or 'no reply'})"))
        self.answers[culprit.key] = Answer(culprit, verdict, message=(
            "its answer was larger than the grader reads" if client.broken else
            "the kernel died while this was evaluated" if status == "died" else
            "it did not finish within the time limit" if verdict == "timeout" else
            f"no answer came back ({detail or 'no reply'})"))
        if isinstance(culprit, Call):
            # One failure per function is enough: its other calls are not made.
            self.broken[culprit.name] = (verdict, f"not evaluated: a call of {culprit.name} {what}")
        self.pending[:0] = [r for r in rest if r.name not in self.broken]
        for req in rest:
            if req.name in self.broken:
                self._answer_broken(req)
        if status not in ("died", "hung"):
            return None
        self.events.append(f"Evaluating {culprit.key} {what}; "
                           + (f"{culprit.name} was not called again, and "
                              if isinstance(culprit, Call) else "")
                           + "the notebook was re-run to evaluate the rest.")
        return status

    def _next_group(self) -> list[Request]:
        """The next probe cell's requests: every value, or every call of one function, that is
        still pending. Calls of a function that already failed are answered without asking."""
        head = self.pending[0]
        same = [r for r in self.pending if type(r) is type(head)
                and (isinstance(r, Value) or r.name == head.name)]
        taken = {id(r) for r in same}
        self.pending[:] = [r for r in self.pending if id(r) not in taken]
        group = []
        for req in same:
            if req.name in self.broken:
                self._answer_broken(req)
            elif self.reply_chars > REPLIES_CHARS:
                self.answers[req.key] = Answer(req, "unreadable", message=(
                    "not read: the earlier answers were already too large"))
            else:
                group.append(req)
        return group

    def _answer_broken(self, req: Request) -> None:
        status, why = self.broken[req.name]
        self.answers[req.key] = Answer(req, status, message=why)


def _probe_source() -> str:
    """The kernel side (grader/kernel_probe.py) with the reply caps filled in."""
    source = resources.files("grader").joinpath("kernel_probe.py").read_text()
    return factory_cell(source, "__grader_probe_factory", (PROBE_ITEMS, PROBE_TEXT),
                        "__grader_probe__")


def _read_answer(cell, req: Request, rid: int) -> Answer:
    head = f'{{"id": {rid},'
    for out in cell.outputs:
        text = out.get("data", {}).get(MIME) if out.get("output_type") == "display_data" else None
        if isinstance(text, str) and text.startswith(head):
            try:
                return decode_reply(text, req, rid)
            except BadReply as exc:
                return Answer(req, "unreadable", message=str(exc))
    return Answer(req, "no_reply", message="no reply from the kernel")
