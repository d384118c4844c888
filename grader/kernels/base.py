"""What every kernel backend shares: one way to start a kernel (a jupyter_client provisioner
whose launch step the backend supplies), one readiness check, one clean-up, and the interface a
backend implements."""

from __future__ import annotations

import abc
import asyncio
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import ClassVar, Protocol

import zmq
import zmq.asyncio
from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.provisioning import LocalProvisioner

from .. import cgroups
from .. import sandbox as sb
from ..limits import MESSAGE_BYTES, MESSAGE_QUEUE, Limits

_SPEC = "grader-kernel"
START_TIMEOUT = 60.0


class KernelStartError(RuntimeError):
    """The kernel did not come up; the message says why."""


class Process(Protocol):
    """What the provisioner needs of a launched kernel process (a Popen has it all)."""

    pid: int

    def poll(self) -> int | None: ...
    def wait(self, timeout: float | None = None) -> int: ...
    def send_signal(self, signum: int) -> None: ...
    def kill(self) -> None: ...
    def terminate(self) -> None: ...


class _CappedContext(zmq.asyncio.Context):
    """Every socket refuses messages over MESSAGE_BYTES and queues at most MESSAGE_QUEUE of
    them, so what a kernel sends holds a bounded amount of the grader's memory."""

    def socket(self, *args, **kwargs):  # type: ignore[override]
        sock = super().socket(*args, **kwargs)
        sock.setsockopt(zmq.MAXMSGSIZE, MESSAGE_BYTES)
        sock.setsockopt(zmq.RCVHWM, MESSAGE_QUEUE)
        return sock


class _Provisioner(LocalProvisioner):
    """LocalProvisioner (connection file, shutdown) with the launch step done by the Kernel."""

    kernel: Kernel | None = None

    async def launch_kernel(self, cmd: list[str], **kwargs):  # type: ignore[override]
        del cmd, kwargs  # the backend builds the whole launch: no host environment leaks in
        assert self.kernel is not None
        self.process = await self.kernel._launch(self.parent.connection_file)
        self.pid = self.process.pid
        self.pgid = _pgid(self.process)
        return self.connection_info


def _pgid(process) -> int | None:
    if not isinstance(process, subprocess.Popen):
        return None  # signals go through the process object itself
    try:
        return os.getpgid(process.pid)
    except OSError:
        return None


class Kernel(abc.ABC):
    """A kernel in a jail of its own (or none, for the unsandboxed backend). `start` brings it
    up; `close` ends it and every process it started, and removes its files. Not reusable."""

    def __init__(self, limits: Limits, root: Path, *, uid: int | None,
                 tree: cgroups.Cgroups | None = None) -> None:
        self.limits = limits
        self.uid = uid
        """The unprivileged uid the kernel runs as; None when it runs as the grader's user."""
        self.km: AsyncKernelManager | None = None
        self.tree = tree
        self.cgroup = cgroups.new_name() if tree else ""
        """The kernel's cgroup (see grader/cgroups.py), empty when cgroups are not used."""
        self.peak_memory: int | None = None
        self.oom_killed = False
        self.note = ""
        """Something the instructor should know about how this kernel was started."""
        self._root: Path | None = root
        self._conn = root / "conn"
        self._context: _CappedContext | None = None
        self._process = None

    @abc.abstractmethod
    async def _launch(self, connection_file: str) -> Process:
        """Start the kernel process for `connection_file` (already written)."""

    async def start(self, timeout: float = START_TIMEOUT) -> None:
        end = time.monotonic() + timeout
        self._conn.mkdir(mode=0o700)
        if self.uid is not None:
            os.chown(self._conn, self.uid, self.uid)
        if self.cgroup:
            self.tree.create(self.cgroup, self.limits)
        km = self._manager()
        self.km = km
        try:
            await asyncio.wait_for(km.start_kernel(), timeout)
            self._process = km.provisioner.process  # type: ignore[union-attr]
            await wait_ready(km, end)
        except KernelStartError:
            await self.close()
            raise
        except (TimeoutError, RuntimeError, OSError) as exc:
            await self.close()
            raise KernelStartError(f"the sandboxed kernel did not start ({exc})") from None
        self._lock_connection()

    def _manager(self) -> AsyncKernelManager:
        """A kernel manager over the ipc transport in the connection folder. Interrupts go by
        message: a signal would reach the jail's first process, not the kernel."""
        assert self._root is not None
        spec_dir = self._root / "kernels" / _SPEC
        spec_dir.mkdir(parents=True)
        spec = {"argv": ["grader-kernel", "-f", "{connection_file}"], "language": "python",
                "display_name": "Python (grader)", "interrupt_mode": "message"}
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        self._context = _CappedContext()
        km = AsyncKernelManager(
            kernel_name=_SPEC, transport="ipc", context=self._context,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(self._root / "kernels")]),
            connection_file=str(self._conn / "kernel.json"))
        km.ip = str(self._conn / "k")
        km.kernel_id = uuid.uuid4().hex
        prov = _Provisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
        prov.kernel = self
        km.provisioner = prov
        return km

    def _lock_connection(self) -> None:
        """The kernel has read its connection file and made its sockets, and no student code
        has run yet: take both back, so nothing on the host stays writable by the kernel."""
        if self.uid is not None:
            for path, mode in ((self._conn / "kernel.json", 0o600), (self._conn, 0o711)):
                os.chown(path, 0, 0)
                os.chmod(path, mode)

    async def is_alive(self) -> bool:
        return self.km is not None and await self.km.is_alive()

    async def close(self) -> None:
        """End the kernel and every process it started; remove its cgroups and files."""
        km, self.km = self.km, None
        if km is not None:
            try:
                await asyncio.wait_for(km.shutdown_kernel(now=True), 10)
            except Exception:  # the process may already be gone; the rest is done below
                pass
        process, self._process = self._process, None
        if process is not None:
            _end(process)
        if self.cgroup:
            self.peak_memory = self.tree.peak_memory(self.cgroup)
            self.oom_killed = self.tree.oom_killed(self.cgroup)
            self.tree.destroy(self.cgroup)
        if self.uid is not None:
            sb.kill_uid(self.uid)
        if self._context is not None:
            self._context.destroy(linger=0)
            self._context = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None


def _end(process) -> None:
    """Kill the jail's first process (with it, its pid namespace) and release its handles."""
    try:
        process.kill()
        process.wait(timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        pass
    close = getattr(process, "close", None)
    if close is not None:
        close()


async def wait_ready(km: AsyncKernelManager, end: float) -> None:
    """Wait until the kernel has bound its five sockets, then for a kernel_info reply on the
    shell channel. (Connecting before the sockets exist costs zmq's reconnect interval, and
    KernelClient.wait_for_ready adds a fixed wait for IOPub; the executor's client checks
    IOPub itself, with `kernel_info_seen`.)"""
    paths = [f"{km.ip}-{port}" for port in (km.shell_port, km.iopub_port, km.stdin_port,
                                            km.control_port, km.hb_port)]
    while not all(os.path.exists(p) for p in paths):
        if not await km.is_alive():
            raise KernelStartError("the kernel died while starting")
        if time.monotonic() > end:
            raise KernelStartError("the kernel did not start in time")
        await asyncio.sleep(0.005)
    client = km.client(context=km.context)
    client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
    try:
        while not await kernel_info_seen(client, client.get_shell_msg, end):
            if not await km.is_alive():
                raise KernelStartError("the kernel died before answering")
            if time.monotonic() > end:
                raise KernelStartError("the kernel did not answer in time")
    finally:
        client.stop_channels()


async def kernel_info_seen(client, get_msg, end: float) -> bool:
    """Send one kernel_info request and wait (at most a second, at most until `end`) for a
    message that answers it on the channel `get_msg` reads: its reply on shell, or the idle
    status on IOPub (which proves IOPub delivers)."""
    msg_id = client.kernel_info()
    stop = min(end, time.monotonic() + 1.0)
    while (left := stop - time.monotonic()) > 0:
        try:
            msg = await get_msg(timeout=max(0.01, left))
        except Exception:  # queue.Empty
            return False
        if not isinstance(msg, dict) or not isinstance(msg.get("parent_header"), dict):
            continue
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg.get("msg_type") == "kernel_info_reply" or (
                msg.get("msg_type") == "status"
                and msg.get("content", {}).get("execution_state") == "idle"):
            return True
    return False


class Backend(abc.ABC):
    """Starts the kernels of one grader worker, one submission's kernel at a time. Made by
    `open_backend` once per worker; `close` releases what it holds (a uid, a forge)."""

    name: ClassVar[str]
    """The key this backend is registered under in grader.kernels.BACKENDS."""

    def __init__(self, sandbox: sb.Sandbox, limits: Limits, *,
                 preload: tuple[str, ...] = ()) -> None:
        self.sandbox = sandbox
        self.limits = limits
        self.preload = preload
        """Modules the run's packs ask a warm process to import once (`[environment]
        preload`); a backend without one ignores them."""

    @property
    def label(self) -> str:
        """The isolation recorded in each result: the sandbox's kind ("none" without)."""
        return self.sandbox.kind

    @property
    def cgroups(self) -> str:
        """The cgroup version recorded in each result ("v1", "v2" or "none")."""
        return self.sandbox.cgroups or "none"

    @abc.abstractmethod
    async def new_kernel(self) -> Kernel:
        """A started kernel for the next submission (or for a re-run after a kernel died)."""

    def close(self) -> None:  # noqa: B027 - most backends hold nothing to release
        pass


def kernel_dir(parent: str | None = None) -> Path:
    """A fresh folder for one kernel's files, named so that `sandbox.cleanup_stale` can remove
    it after the grader that made it died."""
    root = Path(tempfile.mkdtemp(prefix=f"grader-kernel-{os.getpid()}-", dir=parent))
    os.chmod(root, 0o711)
    return root
