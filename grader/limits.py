"""Resource limits applied to one submission's kernel."""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3
MIB = 1024**2


@dataclass(frozen=True, slots=True)
class Limits:
    """What one submission may use. Every field is a hard ceiling enforced outside the kernel."""

    memory_bytes: int = 4 * GIB
    """Address space of each kernel process (RLIMIT_AS) and, where cgroups allow, of all of them."""
    cpu_seconds: int = 600
    """CPU time of the kernel process over the whole notebook (RLIMIT_CPU)."""
    cell_timeout: float = 30.0
    """Wall-clock seconds one cell may run before it is interrupted."""
    notebook_timeout: float = 600.0
    """Wall-clock seconds for the whole submission; cells after the deadline are not run."""
    processes: int = 256
    """Processes and threads of the sandbox user (RLIMIT_NPROC and the pids cgroup)."""
    file_bytes: int = 64 * MIB
    """Largest file the kernel may write (RLIMIT_FSIZE)."""
    scratch_bytes: int = 256 * MIB
    """Size of the kernel's writable working folder and /tmp."""
    open_files: int = 1024
    """Open file descriptors per process (RLIMIT_NOFILE)."""
    output_chars: int = 4000
    """Characters of each cell's output kept in results and reports."""

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "cpu_seconds", "processes", "file_bytes", "open_files",
                     "output_chars", "scratch_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"limit {name} must be positive, got {getattr(self, name)}")
        if self.cell_timeout <= 0 or self.notebook_timeout <= 0:
            raise ValueError("timeouts must be positive numbers of seconds")
