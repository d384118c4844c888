"""Every limit in one place: what one submission's kernel may use (`Limits`, set per run) and
the fixed caps on what the grader reads, keeps and stores from a submission."""

from __future__ import annotations

from dataclasses import dataclass

GIB = 1024**3
MIB = 1024**2

# --- fixed caps on what crosses from a submission into the grader ---------------------------

NOTEBOOK_BYTES = 50 * MIB
"""Largest notebook file read."""
MAX_CELLS = 2000
"""Default of `Limits.max_cells` (--max-cells)."""
WRITTEN_CHARS = 20_000
"""Characters of one written answer kept."""
PROSE_CELL_CHARS = 100_000
"""Characters of one cell read for free-form answers (headings, numbers, prose)."""
MESSAGE_BYTES = 16 * MIB
"""Largest ZMQ message accepted from a kernel; longer ones are dropped unread."""
MESSAGE_QUEUE = 4
"""Messages from a kernel queued in the grader per channel; beyond it they wait in the kernel
(whose memory is limited). With MESSAGE_BYTES, a kernel can hold at most 3 channels x 4 x 16
MiB = 192 MiB of the grader's memory."""
REPLY_CHARS = 8 * MIB
"""Largest JSON reply to one probe request."""
REPLIES_CHARS = 48 * MIB
"""All replies of one submission together; beyond it, answers are not read."""
PROBE_ITEMS = 1_000_000
"""Elements of one array (or items of one list) the kernel encodes in a reply."""
PROBE_TEXT = 100_000
"""Characters of one string the kernel encodes in a reply."""
EVIDENCE_ITEMS = 16_384
"""Elements of one array kept as free-form evidence (a 128x128 image); larger ones are skipped."""
EVIDENCE_TEXT = 4_000
"""Characters of one string kept as free-form evidence."""
EVIDENCE_CHARS = 1 * MIB
"""Characters of the evidence captured after one cell; what does not fit is left out."""
EVIDENCE_NAMES = 2_000
"""Names of the kernel's namespace looked at after each cell."""
EVIDENCE_TOTAL_CHARS = 16 * MIB
"""Characters of evidence captured for a whole submission; beyond it, capture stops."""
EVIDENCE_PRINTED_CHARS = 20_000
"""Characters of one cell's printed or saved output read for arrays and messages."""
EVIDENCE_PRINTED_ARRAYS = 16
"""Arrays parsed from one cell's printed or saved output."""
EVIDENCE_SAVED_CHARS = 2 * MIB
"""Characters of the submitted file's saved outputs read as (unverified) evidence, in all."""
NAME_CHARS = 200
"""An exception's or type's name, a display id."""
TEXT_CHARS = 2_000
"""An exception's message, one traceback line, a reply's message."""
EXCEPTION_CHARS = 10_000
"""The message of an exception object given as an answer."""
MESSAGE_TRACEBACK_LINES = 60
"""Traceback lines kept from one kernel message."""
TRACEBACK_LINES = 30
"""Traceback lines kept in a result."""
TRACEBACK_CHARS = 4_000
"""Characters of a traceback kept in a result."""
SUBMISSION_TEXT_CHARS = 256_000
"""Characters of cell output and tracebacks kept for a whole submission; later cells keep none."""
RESULT_BYTES = 4 * MIB
"""Hard bound on one submission's stored result (gradebook row, results.json); a result that
would be larger loses its cells' texts, then the detail of its feedback."""
RENDER_CHARS = 1_200
"""A value rendered into feedback (an array, a list)."""
CHECK_SECONDS = 30
"""Wall-clock seconds one check may take in the grader's process."""
FIGURE_SIDE = 64
"""Rows and columns of the largest array a report pictures; larger ones are only named."""
FIGURES_PER_CHECK = 8
"""Arrays pictured for one check; the rest are only counted."""


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
    max_cells: int = MAX_CELLS
    """Cells a notebook may have; a longer one is not graded (it says so)."""

    def __post_init__(self) -> None:
        for name in ("memory_bytes", "cpu_seconds", "processes", "file_bytes", "open_files",
                     "output_chars", "scratch_bytes", "max_cells"):
            if getattr(self, name) <= 0:
                raise ValueError(f"limit {name} must be positive, got {getattr(self, name)}")
        if self.cell_timeout <= 0 or self.notebook_timeout <= 0:
            raise ValueError("timeouts must be positive numbers of seconds")

    def rlimits(self, *, per_user_procs: bool) -> list[tuple[str, int]]:
        """The kernel's resource limits as (RLIMIT name, value); RLIMIT_NPROC only where the
        kernel has a uid of its own (it counts every process of the uid)."""
        out = [("RLIMIT_AS", self.memory_bytes), ("RLIMIT_CPU", self.cpu_seconds),
               ("RLIMIT_FSIZE", self.file_bytes), ("RLIMIT_NOFILE", self.open_files),
               ("RLIMIT_CORE", 0)]
        return out + ([("RLIMIT_NPROC", self.processes)] if per_user_procs else [])
