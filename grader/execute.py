"""Execute a notebook in jailed kernels with nbclient, then have grader.extract ask for the
answers.

A cell that errors costs nothing more than its own effects. A cell that runs past its timeout
is interrupted; if the kernel then does not answer, or a cell kills the kernel, the kernel is
replaced and the notebook re-run without that cell. Probing the answers works the same way:
a probe that kills the kernel loses that one answer, and the rest are asked of a new kernel.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import nbformat
from nbformat import NotebookNode

from .capture import Capture
from .client import TIMEOUT_ENAME, CappedClient
from .evidence import Evidence
from .extract import Extractor
from .kernels import Backend, Kernel, KernelStartError
from .limits import (
    MESSAGE_BYTES,
    MESSAGE_TRACEBACK_LINES,
    NAME_CHARS,
    SUBMISSION_TEXT_CHARS,
    TEXT_CHARS,
    TRACEBACK_CHARS,
    TRACEBACK_LINES,
    Limits,
)
from .results import CellRun
from .wire import Answer, Request

MAX_KERNELS = 5
"""Kernels one submission may use (the first and up to four replacements)."""
START_ATTEMPTS = 3
"""Kernel starts tried in a row before a submission is reported as not graded."""
START_RETRY_PAUSE = 1.0
"""Seconds before the first retry of a failed start (doubled before the second)."""
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(slots=True)
class Execution:
    """The outcome of executing one submission: cell runs, answers and what went wrong."""

    cells: list[CellRun] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    """For the instructor: how kernels were started, when it was not the usual way."""
    kernels_started: int = 0
    peak_memory: int | None = None
    infrastructure_error: str = ""
    """Set when not even the first kernel could start: the grader's fault, not the student's."""
    evidence: Evidence | None = None
    """What the notebook showed, cell by cell (free-form grading only)."""


Plan = Callable[[Evidence], list[Request]]
"""Free-form grading: the requests to make once the cells have run, from what they showed."""


async def execute_submission(nb: NotebookNode, requests: list[Request], *, backend: Backend,
                             limits: Limits, prelude: str = "", plan: Plan | None = None
                             ) -> Execution:
    """Run every code cell of `nb`, then resolve `requests` against the kernel. `prelude` is
    run silently first in each kernel (e.g. imports every submission makes anyway). With
    `plan`, evidence is captured after every cell (grader/capture.py) and the requests `plan`
    makes of it are resolved too."""
    return await Session(nb, requests, backend=backend, limits=limits, prelude=prelude,
                         plan=plan).run()


class Session:
    """One submission's run: its kernels one after another, the cells left out of later runs,
    and the extraction of its answers."""

    def __init__(self, nb: NotebookNode, requests: list[Request], *, backend: Backend,
                 limits: Limits, prelude: str = "", plan: Plan | None = None) -> None:
        self.nb = nb
        self.backend = backend
        self.limits = limits
        self.prelude = prelude
        self.result = Execution()
        self.extractor = Extractor(list(requests))
        self.excluded: dict[int, str] = {}
        """Cells left out of the next runs (they killed or hung a kernel), with why."""
        self.code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
        self.deadline = 0.0
        self.room = SUBMISSION_TEXT_CHARS
        """Characters of output and traceback still kept for this run's cells."""
        self.plan = plan
        self.capture = Capture() if plan is not None else None

    async def run(self) -> Execution:
        self.deadline = time.monotonic() + self.limits.notebook_timeout
        result = self.result
        failed_starts = 0
        while True:
            try:
                kernel = await self.backend.new_kernel()
            except KernelStartError as exc:
                failed_starts += 1
                if failed_starts < START_ATTEMPTS and time.monotonic() < self.deadline - 5:
                    # A start can fail on a loaded machine: not the student's doing.
                    result.events.append(f"A kernel failed to start ({exc}); retried.")
                    await asyncio.sleep(START_RETRY_PAUSE * failed_starts)
                    continue
                if result.kernels_started == 0:
                    result.infrastructure_error = (
                        f"{exc} ({failed_starts} attempts); grade this file again with --regrade, "
                        "and if it persists, try --no-sandbox to tell a sandbox problem from a "
                        "notebook one")
                result.events.append(str(exc))
                self._give_up(str(exc))
                break
            result.kernels_started += 1
            if kernel.note:
                result.notes.append(kernel.note)
            try:
                again = await self._attempt(kernel)
            finally:
                await self._close(kernel)
            if again is None:
                break
            if again == "setup" and result.kernels_started >= 3 and not any(
                    c.status not in ("not_run", "excluded") for c in result.cells):
                result.infrastructure_error = "the sandboxed kernel failed to start three times"
                self._give_up(result.infrastructure_error)
                break
            if result.kernels_started >= MAX_KERNELS or time.monotonic() >= self.deadline:
                result.events.append("Gave up restarting the kernel (too many restarts or out "
                                     "of time).")
                self._give_up("the kernel kept failing")
                break
        result.answers = self.extractor.answers
        result.events += self.extractor.events
        if self.capture is not None:
            result.evidence = self.capture.evidence
            result.notes += self.capture.notes
        return result

    async def _close(self, kernel: Kernel) -> None:
        await kernel.close()
        if kernel.peak_memory is not None:
            self.result.peak_memory = max(self.result.peak_memory or 0, kernel.peak_memory)
        if kernel.oom_killed:
            self.result.events.append("The memory limit was reached: the out-of-memory killer "
                                      "ended a process of this submission.")

    def _give_up(self, why: str) -> None:
        if not self.result.cells:
            self.result.cells = [CellRun(i, "excluded" if i in self.excluded else "not_run",
                                         evalue=self.excluded.get(i, why)) for i in self.code]
        self.extractor.give_up(why)

    async def _attempt(self, kernel: Kernel) -> str | None:
        """One kernel's life. Returns None when done, or why a new kernel is needed."""
        work = nbformat.from_dict(self.nb)
        replies: dict[int, dict] = {}

        def on_executed(cell, cell_index, execute_reply):
            content = execute_reply.get("content") if isinstance(execute_reply, dict) else None
            replies[cell_index] = _trimmed_reply(content if isinstance(content, dict) else {})

        limits = self.limits
        client = CappedClient(
            work, km=kernel.km, output_chars=limits.output_chars, allow_errors=True,
            timeout=int(max(1, limits.cell_timeout)), interrupt_on_timeout=True,
            error_on_timeout={"ename": TIMEOUT_ENAME, "evalue": "cell timed out", "traceback": []},
            iopub_timeout=2, shell_timeout_interval=1, record_timing=False,
            on_cell_executed=on_executed, kernel_name="")
        ready = False
        try:
            async with client.async_setup_kernel():
                if self.prelude:
                    status, _, _ = await client.run_code(self.prelude, limits.cell_timeout)
                    if status in ("died", "hung"):
                        raise KernelStartError("the kernel died while running the pack's prelude")
                if self.capture is not None and await self.capture.setup(client,
                                                                         limits.cell_timeout):
                    return "capture"
                ready = True
                return await self._run_cells(client, work, replies)
        except Exception as exc:  # noqa: BLE001
            if ready:
                raise
            # The kernel died before it answered its first request: not the student's doing.
            self.result.events.append(f"The kernel failed to start ({type(exc).__name__}); "
                                      "retried.")
            return "setup"

    async def _run_cells(self, client: CappedClient, work: NotebookNode,
                         replies: dict[int, dict]) -> str | None:
        runs: list[CellRun] = []
        self.room = SUBMISSION_TEXT_CHARS
        if self.capture is not None:
            self.capture.restart()
        for idx in self.code:
            if idx in self.excluded:
                runs.append(CellRun(idx, "excluded", evalue=self.excluded[idx]))
                continue
            remaining = self.deadline - time.monotonic()
            if remaining <= 1:
                runs.append(CellRun(idx, "not_run", evalue="notebook time limit reached"))
                continue
            cell = work.cells[idx]
            t0 = time.monotonic()
            status = await client.run_cell(cell, idx, min(self.limits.cell_timeout, remaining))
            seconds = time.monotonic() - t0
            reply = replies.get(idx, {})
            if status == "ok" and reply.get("status") == "error":
                status = "timeout" if reply.get("ename") == TIMEOUT_ENAME else "error"
            if status == "timeout" and not await client.responsive():
                status = "hung"
            run = cell_run(idx, status, cell, reply, seconds, idx in client.truncated, self.room)
            if client.broken:
                run = replace(run, ename="MessageTooLarge", evalue=(
                    f"the cell sent the grader a message over {MESSAGE_BYTES >> 20} MiB"))
            self.room -= len(run.output) + len(run.traceback)
            runs.append(run)
            if status in ("died", "hung"):
                died = status == "died"
                what = ("sent the grader a message over the size limit" if client.broken
                        else "killed the kernel" if died
                        else "hung and ignored the interrupt")
                self.excluded[idx] = f"left out of the re-run: it {what}"
                self.result.events.append(f"Cell {idx + 1} {what}; the notebook was re-run in a "
                                          "new kernel without it.")
                self.result.cells = runs
                return status
            if self.capture is not None and await self.capture.after_cell(
                    client, idx, cell, min(self.limits.cell_timeout, remaining)):
                self.result.cells = runs
                return "capture"
        self.result.cells = runs
        if self.plan is not None and self.capture is not None:
            self.extractor.pending += self.plan(self.capture.evidence)
            self.plan = None  # planned once: a re-run asks what is still pending
        return await self.extractor.ask(client, self.limits.cell_timeout, self.deadline)


def cell_run(idx: int, status: str, cell, reply: dict, seconds: float, truncated: bool,
             room: int) -> CellRun:
    """The record of one cell's run, from its outputs and its execute_reply, keeping at most
    `room` characters of output and traceback."""
    text, error = [], None
    for out in cell.get("outputs", []):
        kind = out.get("output_type")
        if kind == "stream":
            text.append(out.get("text", ""))
        elif kind in ("execute_result", "display_data"):
            text.append(out.get("data", {}).get("text/plain", ""))
        elif kind == "error":
            error = out
    ename = evalue = trace = ""
    if status == "error":
        src = error or reply
        ename, evalue = str(src.get("ename", "")), str(src.get("evalue", ""))
        trace = trim_traceback(src.get("traceback", []))
    elif status in ("timeout", "hung"):
        ename, evalue = "Timeout", "the cell ran past its time limit and was interrupted"
    elif status == "died":
        ename, evalue = "KernelDied", "the kernel died while running this cell"
    output = "".join(text)
    room = max(0, room)
    trace = trace[:room]
    kept = output[: max(0, room - len(trace))]
    return CellRun(idx, status, ename[:NAME_CHARS], evalue[:TEXT_CHARS], trace, kept,
                   truncated or len(kept) < len(output), round(seconds, 3))


def _trimmed_reply(content: dict) -> dict:
    """What is kept of an execute_reply (it comes unsanitized, on the shell channel)."""
    trace = content.get("traceback")
    return {"status": str(content.get("status", ""))[:20],
            "ename": str(content.get("ename", ""))[:NAME_CHARS],
            "evalue": str(content.get("evalue", ""))[:TEXT_CHARS],
            "traceback": [str(x)[:TEXT_CHARS] for x in trace[-MESSAGE_TRACEBACK_LINES:]]
            if isinstance(trace, list) else []}


def trim_traceback(lines) -> str:
    """The last lines of a traceback, without terminal colours."""
    text = _ANSI.sub("", "\n".join(str(x) for x in lines)) if isinstance(lines, list) else ""
    return "\n".join(text.splitlines()[-TRACEBACK_LINES:])[-TRACEBACK_CHARS:]
