"""Kernels started from scratch in a bubblewrap jail: as root, each under an unprivileged uid of
its own with cgroups; otherwise in a user namespace (see grader/sandbox.py)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from .. import cgroups
from .. import sandbox as sb
from ..limits import Limits
from ..seccomp import write_filter
from .base import Backend, Kernel, kernel_dir


class ScratchKernel(Kernel):
    """A kernel whose process is a command line: `argv` with `{connection_file}` in it."""

    def __init__(self, limits: Limits, root: Path, argv: list[str], *, uid: int | None,
                 tree: cgroups.Cgroups | None = None) -> None:
        super().__init__(limits, root, uid=uid, tree=tree)
        self.argv = argv
        """The launch command, with `{connection_file}` where the connection file goes."""

    async def _launch(self, connection_file: str):
        argv = [a.replace("{connection_file}", connection_file) for a in self.argv]
        return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True,
                                env=dict(os.environ))


class JailBackend(Backend):
    """One bubblewrap jail per kernel, started from scratch (about 1 s of CPU each)."""

    name = "jail"

    def __init__(self, sandbox: sb.Sandbox, limits: Limits, *,
                 preload: tuple[str, ...] = ()) -> None:
        if not sandbox.isolated:
            raise ValueError("the jail backend needs bubblewrap (sandbox kind "
                             f"{sandbox.kind!r})")
        super().__init__(sandbox, limits, preload=preload)
        self.lease = sb.UidLease.acquire() if sandbox.own_uid else None
        self.uid = self.lease.uid if self.lease else None
        sb.cleanup_stale(self.uid, sandbox.cgroup_tree())

    async def new_kernel(self) -> Kernel:
        kernel = self.scratch_kernel()
        await kernel.start()
        return kernel

    def scratch_kernel(self) -> ScratchKernel:
        root = kernel_dir()
        bpf = root / "seccomp.bpf"
        kernel = ScratchKernel(self.limits, root, [], uid=self.uid,
                               tree=self.sandbox.cgroup_tree())
        jail = sb.Jail(self.sandbox, root / "conn", self.uid, kernel.cgroup,
                       str(bpf) if write_filter(bpf) else "")
        kernel.argv = sb.kernel_argv(jail, self.limits)
        return kernel

    def close(self) -> None:
        if self.lease is not None:
            self.lease.release()
            self.lease = None
