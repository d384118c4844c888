"""nbclient, capped: it sees only sanitized kernel messages, keeps a bounded amount of each
cell's output, and runs one cell at a time with a verdict on what happened to the kernel."""

from __future__ import annotations

import asyncio
import json
import time

import nbformat
import zmq
from jupyter_core.utils import ensure_async
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbformat import NotebookNode

from .kernels.base import kernel_info_seen
from .limits import REPLY_CHARS
from .messages import sanitize
from .wire import MIME

OUTPUT_OVERHEAD = 50
"""Characters of the budget each output costs at least, so that empty outputs are bounded too."""
RESPONSE_GRACE = 5.0
"""Seconds an interrupted kernel has to take new work before it counts as hung."""
TIMEOUT_ENAME = "CellTimeoutError"


class CappedClient(NotebookClient):
    """One kernel's nbclient. `run_cell` and `run_code` return what happened: "ok" (the cell
    ran, maybe with an error), "died" (the kernel is gone) or "hung" (it ignored the time
    limit)."""

    def __init__(self, nb: NotebookNode, *, output_chars: int, **kw) -> None:
        super().__init__(nb, store_widget_state=False, **kw)
        self._budget = output_chars
        self._used: dict[int, int] = {}
        self.truncated: set[int] = set()
        self.probe_cells: dict[int, set[str]] = {}
        """Probe cell index -> how each genuine reply to it starts (its request's id)."""
        self._monitors: list = []
        self.broken = False
        """A channel was cut: the kernel sent a message over MESSAGE_BYTES (zmq drops the
        connection and does not reconnect after that)."""

    async def async_start_new_kernel_client(self):  # type: ignore[override]
        """nbclient's, with a readiness check that proves IOPub delivers instead of
        jupyter_client's fixed 0.2 s IOPub flush."""
        self.kc = self.km.client(context=self.km.context)  # the capped context, see kernels/base.py
        # Only the channels the grader reads: a channel nobody reads (stdin, control,
        # heartbeat) is one a kernel could fill with messages in the grader's memory.
        await ensure_async(self.kc.start_channels(shell=True, iopub=True, stdin=False, hb=False,
                                                  control=False))
        self._monitors = [ch.socket.get_monitor_socket(zmq.EVENT_DISCONNECTED)
                          for ch in (self.kc.iopub_channel, self.kc.shell_channel)]
        end = time.monotonic() + self.startup_timeout
        while not await kernel_info_seen(self.kc, self.kc.get_iopub_msg, end):
            if time.monotonic() > end or not await self.km.is_alive():
                self.kc.stop_channels()
                raise RuntimeError("the kernel did not answer kernel_info")
        self.kc.allow_stdin = False
        return self.kc

    def process_message(self, msg, cell, cell_index):  # type: ignore[override]
        probe = cell_index in self.probe_cells
        clean = sanitize(msg, text_limit=self._budget,
                         allowed={MIME: REPLY_CHARS} if probe else None)
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
        kind = msg["msg_type"]
        if kind == "stream":
            size = len(content["text"])
        elif kind == "error":
            size = sum(len(x) for x in content["traceback"]) // 4
        else:
            size = max(OUTPUT_OVERHEAD, sum(len(v) if isinstance(v, str) else len(json.dumps(v))
                                            for v in content["data"].values()))
        used = self._used.get(cell_index, 0)
        if used + size > self._budget:
            self.truncated.add(cell_index)
            if used < self._budget and kind == "stream":
                content = {**content, "text": content["text"][: self._budget - used]}
                msg = {**msg, "content": content}
                size = self._budget - used
            elif kind != "error" or any(o.get("output_type") == "error" for o in outs):
                return None
        self._used[cell_index] = used + size
        last = outs[-1] if outs else None
        if kind == "stream" and last is not None and last.get("output_type") == "stream" \
                and last.get("name") == content["name"]:
            last["text"] += content["text"]  # as a notebook shows it: one output per stream
            return None
        return super().output(outs, msg, display_id, cell_index)

    async def run_cell(self, cell, idx: int, timeout: float) -> str:
        self.timeout = max(1, int(timeout))
        try:
            await asyncio.wait_for(self.async_execute_cell(cell, idx), timeout + 15)
        except DeadKernelError:
            return "died"
        except (TimeoutError, CellTimeoutError):
            return "hung"
        except Exception:  # noqa: BLE001 - a malformed message or vanished channel: this
            return "died"  # kernel cannot be trusted to go on; it is replaced and the cell left out
        if not await self.km.is_alive() or await self._cut():
            return "died"
        return "ok"

    async def _cut(self) -> bool:
        for monitor in self._monitors:
            if await monitor.poll(0):
                self.broken = True
        return self.broken

    async def responsive(self) -> bool:
        """After an interrupt: does the kernel take new work within RESPONSE_GRACE seconds?"""
        try:
            msg_id = self.kc.execute("", silent=True, store_history=False)
            end = time.monotonic() + RESPONSE_GRACE
            while time.monotonic() < end:
                msg = await self.kc.get_shell_msg(timeout=max(0.05, end - time.monotonic()))
                if msg["parent_header"].get("msg_id") == msg_id:
                    return True
        except Exception:
            return False
        return False

    async def run_code(self, code: str, timeout: float, reply_ids: list[int] | None = None
                       ) -> tuple[str, str, NotebookNode]:
        """Run grader code as an extra cell whose only kept outputs are replies to `reply_ids`.
        Returns (status, detail, cell): status "ok" when it ran cleanly and every reply came,
        else "error", "timeout", "died" or "hung"."""
        cell = nbformat.v4.new_code_cell(code)
        self.nb.cells.append(cell)
        idx = len(self.nb.cells) - 1
        self.probe_cells[idx] = {f'{{"id": {rid},' for rid in reply_ids or ()}
        status = await self.run_cell(cell, idx, timeout)
        if status != "ok":
            return status, "", cell
        error = next((o for o in cell.outputs if o.get("output_type") == "error"), None)
        if not self.probe_cells[idx] and error is None:
            return "ok", "", cell
        if error is not None and error.get("ename") == "KeyboardInterrupt":
            status, detail = "timeout", "interrupted at the time limit"
        elif error is not None:
            status, detail = "error", f"{error.get('ename')}: {error.get('evalue')}"
        else:
            status, detail = "error", "no reply"
        if reply_ids and not await self.responsive():
            return "hung", "it did not finish", cell
        return status, detail, cell


def _longer(msg: dict, limit: int) -> bool:
    """Did sanitizing cut a text of this (raw) message?"""
    content = msg.get("content") if isinstance(msg, dict) else None
    if not isinstance(content, dict):
        return False
    texts = [content.get("text")]
    if isinstance(content.get("data"), dict):
        texts += list(content["data"].values())
    return any(isinstance(t, str) and len(t) > limit for t in texts)
