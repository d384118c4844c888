"""Kernels without any isolation, on the user's explicit word (--no-sandbox): only the
resource limits apply."""

from __future__ import annotations

import sys

from .. import sandbox as sb
from .base import Backend, Kernel, kernel_dir
from .jail import ScratchKernel


class LocalBackend(Backend):
    name = "local"

    async def new_kernel(self) -> Kernel:
        argv = [*self.sandbox.reset_signals, *sb.rlimit_args(self.limits, per_user_procs=False),
                sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
        kernel = ScratchKernel(self.limits, kernel_dir(), argv, uid=None)
        await kernel.start()
        return kernel
