"""Start and stop one jailed IPython kernel through jupyter_client."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

import zmq
import zmq.asyncio
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpecManager

from . import sandbox as sb
from .limits import Limits
from .seccomp import write_filter

MAX_MESSAGE_BYTES = 16 * 1024 * 1024
_SPEC = "grader-jail"


class _CappedContext(zmq.asyncio.Context):
    """Every socket refuses messages over MAX_MESSAGE_BYTES, so no single message from a
    student's kernel can exhaust the grader's memory."""

    def socket(self, *args, **kwargs):  # type: ignore[override]
        sock = super().socket(*args, **kwargs)
        sock.setsockopt(zmq.MAXMSGSIZE, MAX_MESSAGE_BYTES)
        return sock


class KernelStartError(RuntimeError):
    """The kernel did not come up; the message says why."""


class JailedKernel:
    """A kernel in a jail of its own. `start` brings it up; `close` ends it and every process
    it started, and removes its files. Not reusable after close."""

    def __init__(self, sandbox: sb.Sandbox, limits: Limits, uid: int,
                 extra_ro: tuple[tuple[str, str], ...] = ()) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.uid = uid
        self.extra_ro = extra_ro
        self.km: AsyncKernelManager | None = None
        self.cgroup = ""
        self.peak_memory: int | None = None
        self.oom_killed = False
        self._root: Path | None = None
        self._context: _CappedContext | None = None

    async def start(self, timeout: float = 60.0) -> None:
        root = Path(tempfile.mkdtemp(prefix=f"grader-kernel-{os.getpid()}-"))
        self._root = root
        os.chmod(root, 0o711)
        conn = root / "conn"
        conn.mkdir(mode=0o700)
        if self.sandbox.kind == "bwrap-root":
            os.chown(conn, self.uid, self.uid)
        self._new_cgroup()
        bpf = root / "seccomp.bpf"
        jail = sb.Jail(self.sandbox, conn, self.uid, self.cgroup, self.extra_ro,
                       str(bpf) if write_filter(bpf) else "")
        km = self._manager(root, conn, sb.kernel_argv(jail, self.limits))
        self.km = km
        try:
            await asyncio.wait_for(
                km.start_kernel(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL), timeout)
            client = km.client()
            client.start_channels()
            try:
                await client.wait_for_ready(timeout=timeout)
            finally:
                client.stop_channels()
        except (RuntimeError, asyncio.TimeoutError, OSError) as exc:
            await self.close()
            raise KernelStartError(f"the sandboxed kernel did not start ({exc})") from None
        self._lock_connection(conn)

    def _new_cgroup(self) -> None:
        if self.sandbox.cgroups:
            self.cgroup = f"k{os.getpid()}-{uuid.uuid4().hex[:10]}"
            sb.create_cgroup(self.cgroup, self.limits)

    def _manager(self, root: Path, conn: Path, argv: list[str]) -> AsyncKernelManager:
        """A kernel manager launching `argv` over the ipc transport in `conn`, through a kernel
        spec of its own. Interrupts go by message: a signal would reach bwrap, not the kernel."""
        spec_dir = root / "kernels" / _SPEC
        spec_dir.mkdir(parents=True)
        spec = {"argv": argv, "display_name": "Python (grader jail)", "language": "python",
                "interrupt_mode": "message"}
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        self._context = _CappedContext()
        km = AsyncKernelManager(
            kernel_name=_SPEC, transport="ipc", context=self._context,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(root / "kernels")]),
            connection_file=str(conn / "kernel.json"))
        km.ip = str(conn / "k")
        return km

    def _lock_connection(self, conn: Path) -> None:
        """The kernel has read its connection file and made its sockets, and no student code
        has run yet: take both back, so nothing on the host stays writable by the kernel."""
        if self.sandbox.kind == "bwrap-root":
            for path, mode in ((conn / "kernel.json", 0o600), (conn, 0o711)):
                os.chown(path, 0, 0)
                os.chmod(path, mode)

    async def is_alive(self) -> bool:
        return self.km is not None and await self.km.is_alive()

    async def close(self) -> None:
        """End the kernel and every process it started; remove its cgroups and files."""
        await self._stop()
        if self.cgroup:
            self.peak_memory = sb.cgroup_peak_memory(self.cgroup)
            self.oom_killed = sb.cgroup_oom_killed(self.cgroup)
            sb.destroy_cgroup(self.cgroup)
        if self.sandbox.kind == "bwrap-root":
            sb.kill_uid(self.uid)
        if self._context is not None:
            self._context.destroy(linger=0)
            self._context = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None

    async def _stop(self) -> None:
        km, self.km = self.km, None
        if km is not None:
            try:
                await asyncio.wait_for(km.shutdown_kernel(now=True), 10)
            except Exception:  # the process may already be gone; clean-up in close does the rest
                pass
