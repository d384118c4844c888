"""Execute a notebook in jailed kernels with nbclient, then ask the kernel for the answers.

A cell that errors costs nothing more than its own effects. A cell that runs past its timeout
is interrupted; if the kernel then does not answer, or a cell kills the kernel, the kernel is
replaced and the notebook re-run without that cell. Probing the answers works the same way:
a probe that kills the kernel loses that one answer, and the rest are asked of a new kernel.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from importlib import resources

import nbformat
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from .kernel import JailedKernel, KernelStartError
from .limits import Limits
from .messages import sanitize
from .wire import (MAX_REPLY_CHARS, MIME, Answer, BadReply, Call, Request, Value, decode_reply,
                   encode_requests)

MAX_RESTARTS = 4
MAX_REPLIES_CHARS = 48 * 1024 * 1024
"""All replies of one submission together; beyond it, answers are not read."""
_TIMEOUT_ENAME = "CellTimeoutError"
_RESPONSE_GRACE = 5.0
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

KernelFactory = Callable[[], Awaitable[JailedKernel]]


@dataclass(frozen=True, slots=True)
class CellRun:
    """What happened to one code cell in the run that counts."""

    index: int
    status: str
    """ok | error | timeout (interrupted, kernel lived) | hung (ignored the interrupt) |
    died (killed the kernel) | excluded (left out after killing or hanging an earlier kernel) |
    not_run (notebook time limit reached)."""
    ename: str = ""
    evalue: str = ""
    traceback: str = ""
    output: str = ""
    output_truncated: bool = False
    seconds: float = 0.0


@dataclass(slots=True)
class Execution:
    """The outcome of executing one submission: cell runs, answers and what went wrong."""

    cells: list[CellRun] = field(default_factory=list)
    answers: dict[str, Answer] = field(default_factory=dict)
    events: list[str] = field(default_factory=list)
    kernels_started: int = 0
    seconds: float = 0.0
    peak_memory: int | None = None
    broken: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Functions that crashed or hung the kernel when called: (answer status, message)."""
    reply_chars: int = 0
    infrastructure_error: str = ""
    """Set when not even the first kernel could start: the grader's fault, not the student's."""


class _CappedClient(NotebookClient):
    """nbclient that sees only sanitized messages, with a ceiling on what each cell's output
    may hold in the grader's memory."""

    def __init__(self, nb: NotebookNode, *, output_chars: int, **kw) -> None:
        super().__init__(nb, store_widget_state=False, **kw)
        self._budget = output_chars
        self._used: dict[int, int] = {}
        self.truncated: set[int] = set()
        self.probe_cells: dict[int, set[str]] = {}
        """Probe cell index -> how each genuine reply to it starts (its request's id)."""

    async def async_start_new_kernel_client(self):  # type: ignore[override]
        """nbclient's, with a readiness check that proves IOPub delivers (a kernel_info whose
        idle status arrives) instead of jupyter_client's fixed 0.2 s IOPub flush."""
        self.kc = self.km.client()
        await ensure_async(self.kc.start_channels())
        end = time.monotonic() + self.startup_timeout
        while True:
            msg_id = self.kc.kernel_info()
            if await _idle_seen(self.kc, msg_id, min(1.0, max(0.05, end - time.monotonic()))):
                break
            if time.monotonic() > end or not await self.km.is_alive():
                self.kc.stop_channels()
                raise RuntimeError("the kernel did not answer kernel_info")
        self.kc.allow_stdin = False
        return self.kc

    def process_message(self, msg, cell, cell_index):  # type: ignore[override]
        probe = cell_index in self.probe_cells
        clean = sanitize(msg, text_limit=self._budget,
                         allowed={MIME: MAX_REPLY_CHARS} if probe else None)
        if clean is None:
            return None
        if not probe and _longer(msg, self._budget):
            self.truncated.add(cell_index)
        return super().process_message(clean, cell, cell_index)

    def output(self, outs, msg, display_id, cell_index):  # type: ignore[override]
        if cell_index in self.probe_cells:
            # Keep the first reply to each request of this cell, and nothing else.
            text = msg["content"].get("data", {}).get(MIME, "")
            waiting = self.probe_cells[cell_index]
            head = text[:text.find(",") + 1]
            if msg["msg_type"] != "display_data" or head not in waiting:
                return None
            waiting.discard(head)
            return super().output(outs, msg, display_id, cell_index)
        content = msg["content"]
        if msg["msg_type"] == "stream":
            size = len(content["text"])
        elif msg["msg_type"] == "error":
            size = sum(len(x) for x in content["traceback"]) // 4
        else:
            size = sum(len(v) if isinstance(v, str) else len(json.dumps(v))
                       for v in content["data"].values())
        used = self._used.get(cell_index, 0)
        if used + size > self._budget:
            self.truncated.add(cell_index)
            if used < self._budget and msg["msg_type"] == "stream":
                msg = {**msg, "content": {**content, "text": content["text"][: self._budget - used]}}
                self._used[cell_index] = self._budget
                return super().output(outs, msg, display_id, cell_index)
            if msg["msg_type"] != "error" or any(o.get("output_type") == "error" for o in outs):
                return None
        self._used[cell_index] = used + size
        return super().output(outs, msg, display_id, cell_index)


async def execute_submission(nb: NotebookNode, requests: list[Request], *,
                             new_kernel: KernelFactory, limits: Limits,
                             prelude: str = "") -> Execution:
    """Run every code cell of `nb`, then resolve `requests` against the kernel.

    `new_kernel` returns a started JailedKernel; `prelude` is run silently first in each kernel
    (e.g. imports every submission makes anyway).
    """
    started = time.monotonic()
    deadline = started + limits.notebook_timeout
    result = Execution()
    excluded: dict[int, str] = {}
    pending = list(requests)
    code = [i for i, c in enumerate(nb.cells) if c.cell_type == "code"]
    while True:
        try:
            kernel = await new_kernel()
        except KernelStartError as exc:
            if result.kernels_started == 0:
                result.infrastructure_error = str(exc)
            result.events.append(str(exc))
            _give_up(result, code, excluded, pending, str(exc))
            break
        result.kernels_started += 1
        try:
            fatal = await _run_attempt(nb, code, excluded, pending, kernel, limits, deadline,
                                       prelude, result)
        finally:
            await kernel.close()
            if kernel.peak_memory is not None:
                result.peak_memory = max(result.peak_memory or 0, kernel.peak_memory)
            if kernel.oom_killed:
                result.events.append("The memory limit was reached: the out-of-memory killer "
                                     "ended a process of this submission.")
        if fatal is None:
            break
        if fatal == "setup" and result.kernels_started >= 3 and not any(
                c.status not in ("not_run", "excluded") for c in result.cells):
            result.infrastructure_error = "the sandboxed kernel failed to start three times"
            _give_up(result, code, excluded, pending, result.infrastructure_error)
            break
        if result.kernels_started > MAX_RESTARTS or time.monotonic() >= deadline:
            result.events.append("Gave up restarting the kernel (too many restarts or out of time).")
            _give_up(result, code, excluded, pending, "the kernel kept failing")
            break
    result.seconds = time.monotonic() - started
    return result


def _give_up(result: Execution, code: list[int], excluded: dict[int, str],
             pending: list[Request], why: str) -> None:
    if not result.cells:
        result.cells = [CellRun(i, "excluded" if i in excluded else "not_run",
                                evalue=excluded.get(i, why)) for i in code]
    for req in pending:
        result.answers.setdefault(req.key, Answer(req, "not_run", message=why, args=_args(req)))
    pending.clear()


async def _run_attempt(nb, code, excluded, pending, kernel, limits, deadline, prelude,
                       result: Execution) -> str | None:
    """One kernel's life. Returns None when done, or a reason when a new kernel is needed."""
    work = nbformat.from_dict(nb)
    replies: dict[int, dict] = {}

    def on_executed(cell, cell_index, execute_reply):
        content = execute_reply.get("content") if isinstance(execute_reply, dict) else None
        content = content if isinstance(content, dict) else {}
        replies[cell_index] = {"status": str(content.get("status", ""))[:20],
                               "ename": str(content.get("ename", ""))[:200],
                               "evalue": str(content.get("evalue", ""))[:2000],
                               "traceback": [str(x)[:2000] for x in _as_list(content.get("traceback"))][-60:]}

    client = _CappedClient(
        work, km=kernel.km, output_chars=limits.output_chars, allow_errors=True,
        timeout=int(max(1, limits.cell_timeout)), interrupt_on_timeout=True,
        error_on_timeout={"ename": _TIMEOUT_ENAME, "evalue": "cell timed out", "traceback": []},
        iopub_timeout=2, shell_timeout_interval=1, record_timing=False,
        on_cell_executed=on_executed, kernel_name="")
    ready = asyncio.Event()
    try:
        async with client.async_setup_kernel():
            return await _run_in_kernel(client, work, code, excluded, pending, limits, deadline,
                                        prelude, result, replies, ready)
    except Exception as exc:  # noqa: BLE001
        if ready.is_set():
            raise
        # The kernel died before it answered its first request: not the student's doing.
        result.events.append(f"The kernel failed to start ({type(exc).__name__}); retried.")
        return "setup"


async def _run_in_kernel(client, work, code, excluded, pending, limits, deadline, prelude,
                         result: Execution, replies: dict[int, dict],
                         ready: asyncio.Event) -> str | None:
    runs: list[CellRun] = []
    if prelude and await _silent(client, prelude, limits.cell_timeout) != "ok":
        raise KernelStartError("the kernel died while running the pack's prelude")
    ready.set()
    for idx in code:
        if idx in excluded:
            runs.append(CellRun(idx, "excluded", evalue=excluded[idx]))
            continue
        remaining = deadline - time.monotonic()
        if remaining <= 1:
            runs.append(CellRun(idx, "not_run", evalue="notebook time limit reached"))
            continue
        timeout = min(limits.cell_timeout, remaining)
        client.timeout = max(1, int(timeout))
        cell = work.cells[idx]
        t0 = time.monotonic()
        status = await _run_cell(client, cell, idx, timeout)
        seconds = time.monotonic() - t0
        reply = replies.get(idx, {})
        if status == "ok" and reply.get("status") == "error":
            status = "timeout" if reply.get("ename") == _TIMEOUT_ENAME else "error"
        if status == "timeout" and not await _responsive(client):
            status = "hung"
        runs.append(_cell_run(idx, status, cell, reply, seconds, client.truncated))
        if status in ("died", "hung"):
            why = ("it killed the kernel" if status == "died"
                   else "it kept running after being interrupted")
            excluded[idx] = f"left out of the re-run: {why}"
            result.events.append(f"Cell {idx + 1} {'killed the kernel' if status == 'died' else 'hung and ignored the interrupt'}; the notebook was re-run in a new kernel without it.")
            result.cells = runs
            return status
    result.cells = runs
    return await _ask_all(client, pending, limits, deadline, result)


async def _run_cell(client: _CappedClient, cell, idx: int, timeout: float) -> str:
    try:
        await asyncio.wait_for(client.async_execute_cell(cell, idx), timeout + 15)
    except DeadKernelError:
        return "died"
    except (asyncio.TimeoutError, CellTimeoutError):
        return "hung"
    except Exception:  # noqa: BLE001 - a malformed message or vanished channel: this
        return "died"  # kernel cannot be trusted to go on; it is replaced and the cell left out
    if not await client.km.is_alive():
        return "died"
    return "ok"


async def _responsive(client: _CappedClient) -> bool:
    """After an interrupt: does the kernel take new work within a few seconds?"""
    try:
        msg_id = client.kc.execute("", silent=True, store_history=False)
        end = time.monotonic() + _RESPONSE_GRACE
        while time.monotonic() < end:
            msg = await client.kc.get_shell_msg(timeout=max(0.05, end - time.monotonic()))
            if msg["parent_header"].get("msg_id") == msg_id:
                return True
    except Exception:
        return False
    return False


async def _silent(client: _CappedClient, code: str, timeout: float) -> str:
    cell = nbformat.v4.new_code_cell(code)
    client.nb.cells.append(cell)
    idx = len(client.nb.cells) - 1
    client.probe_cells[idx] = set()  # no reply expected
    client.timeout = max(1, int(timeout))
    return await _run_cell(client, cell, idx, timeout)


async def _ask_all(client, pending: list[Request], limits: Limits, deadline: float,
                   result: Execution) -> str | None:
    source = resources.files("grader").joinpath("kernel_probe.py").read_text()
    setup = await _probe(client, source, limits.cell_timeout)
    if setup[0] != "ok":
        why = f"the answers could not be read from the kernel ({setup[1]})"
        for req in pending:
            result.answers[req.key] = Answer(req, "no_reply", message=why, args=_args(req))
        pending.clear()
        return None
    while pending:
        if time.monotonic() >= deadline:
            _give_up(result, [], {}, pending, "notebook time limit reached")
            return None
        group = _next_group(pending, result)
        if not group:
            continue
        ids = [secrets.randbits(48) for _ in group]
        code = f"__grader_probe__({encode_requests(list(zip(group, ids)))!r})"
        status, detail, cell = await _probe(client, code, limits.cell_timeout, ids)
        result.reply_chars += sum(len(str(o.get("data", {}).get(MIME, ""))) for o in cell.outputs)
        answered = {req.key: _read_answer(cell, req, rid) for req, rid in zip(group, ids)}
        missing = [req for req in group if answered[req.key].status == "no_reply"]
        for req in group:  # compared by key: requests hold arrays
            if answered[req.key].status != "no_reply":
                result.answers[req.key] = answered[req.key]
        if not missing:
            continue
        culprit, rest = missing[0], missing[1:]
        verdict, what = {"died": ("kernel_died", "crashed the kernel"),
                         "hung": ("timeout", "hung"),
                         "timeout": ("timeout", "ran out of time")}.get(
            status, ("no_reply", f"failed ({detail or 'no reply'})"))
        result.answers[culprit.key] = Answer(culprit, verdict, args=_args(culprit), message=(
            "the kernel died while this was evaluated" if status == "died" else
            "it did not finish within the time limit" if verdict == "timeout" else
            f"no answer came back ({detail or 'no reply'})"))
        if isinstance(culprit, Call):
            # One failure per function is enough: its other calls are not made.
            result.broken[culprit.name] = (verdict, f"not evaluated: a call of {culprit.name} {what}")
        pending[:0] = [r for r in rest if r.name not in result.broken]
        for req in rest:
            if req.name in result.broken:
                status_, why = result.broken[req.name]
                result.answers[req.key] = Answer(req, status_, message=why, args=_args(req))
        if status in ("died", "hung"):
            result.events.append(f"Evaluating {culprit.key} {what}; "
                                 + (f"{culprit.name} was not called again, and " if isinstance(culprit, Call) else "")
                                 + "the notebook was re-run to evaluate the rest.")
            return status if pending else None
    return None


def _next_group(pending: list[Request], result: Execution) -> list[Request]:
    """The next probe cell's requests: every value, or every call of one function, that is
    still pending. Calls of a function that already failed are answered without asking."""
    head = pending[0]
    same = [r for r in pending if type(r) is type(head) and (isinstance(r, Value) or r.name == head.name)]
    taken = {id(r) for r in same}
    pending[:] = [r for r in pending if id(r) not in taken]
    group = []
    for req in same:
        if req.name in result.broken:
            status, why = result.broken[req.name]
            result.answers[req.key] = Answer(req, status, message=why, args=_args(req))
        elif result.reply_chars > MAX_REPLIES_CHARS:
            result.answers[req.key] = Answer(req, "unreadable", args=_args(req), message=(
                "not read: the earlier answers were already too large"))
        else:
            group.append(req)
    return group


async def _idle_seen(kc, msg_id: str, timeout: float) -> bool:
    """Wait for the IOPub 'idle' status answering `msg_id`."""
    end = time.monotonic() + timeout
    while (left := end - time.monotonic()) > 0:
        try:
            msg = await kc.get_iopub_msg(timeout=left)
        except Exception:  # queue.Empty
            return False
        if not isinstance(msg, dict) or not isinstance(msg.get("parent_header"), dict):
            continue
        if msg["parent_header"].get("msg_id") == msg_id and msg.get("msg_type") == "status" \
                and msg.get("content", {}).get("execution_state") == "idle":
            return True
    return False


def _longer(msg: dict, limit: int) -> bool:
    """Did sanitizing cut a text of this (raw) message?"""
    content = msg.get("content") if isinstance(msg, dict) else None
    if not isinstance(content, dict):
        return False
    texts = [content.get("text")]
    if isinstance(content.get("data"), dict):
        texts += list(content["data"].values())
    return any(isinstance(t, str) and len(t) > limit for t in texts)


def _as_list(x) -> list:
    return x if isinstance(x, list) else []


def _args(req: Request) -> tuple:
    return getattr(req, "args", ())


async def _probe(client: _CappedClient, code: str, timeout: float,
                 ids: list[int] | None = None):
    cell = nbformat.v4.new_code_cell(code)
    client.nb.cells.append(cell)
    idx = len(client.nb.cells) - 1
    client.probe_cells[idx] = {f'{{"id": {rid},' for rid in ids or ()}
    expect_reply = bool(ids)
    client.timeout = max(1, int(timeout))
    status = await _run_cell(client, cell, idx, timeout)
    if status != "ok":
        return status, "", cell
    error = next((o for o in cell.outputs if o.get("output_type") == "error"), None)
    if not client.probe_cells[idx] and error is None:
        return "ok", "", cell  # every request answered
    if error is not None and error.get("ename") == "KeyboardInterrupt":
        status, detail = "timeout", "interrupted at the time limit"
    elif error is not None:
        status, detail = "error", f"{error.get('ename')}: {error.get('evalue')}"
    else:
        status, detail = "error", "no reply"
    if expect_reply and not await _responsive(client):
        return "hung", "it did not finish", cell
    return status, detail, cell


def _read_answer(cell, req: Request, rid: int) -> Answer:
    head = f'{{"id": {rid},'
    for out in cell.outputs:
        text = out.get("data", {}).get(MIME) if out.get("output_type") == "display_data" else None
        if isinstance(text, str) and text.startswith(head):
            try:
                return decode_reply(text, req, rid)
            except BadReply as exc:
                return Answer(req, "unreadable", message=str(exc), args=_args(req))
    return Answer(req, "no_reply", message="no reply from the kernel", args=_args(req))


def _cell_run(idx: int, status: str, cell, reply: dict, seconds: float,
              truncated: set[int]) -> CellRun:
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
    return CellRun(idx, status, ename[:200], evalue[:2000], trace, "".join(text),
                   idx in truncated, round(seconds, 3))


def trim_traceback(lines, max_lines: int = 30, max_chars: int = 4000) -> str:
    text = _ANSI.sub("", "\n".join(str(x) for x in lines))
    kept = text.splitlines()[-max_lines:]
    out = "\n".join(kept)
    return out[-max_chars:]
