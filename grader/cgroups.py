"""Control groups that bound all of one kernel's processes together: memory (tmpfs pages
included) and the number of processes. Used when the grader runs as root and the machine lets
it write either cgroup v1 (a `memory` and a `pids` hierarchy, as on hybrid hosts) or cgroup v2
(one unified tree with the memory and pids controllers, as on Ubuntu 22.04+, Debian 11+ and
GitHub's runners). Where neither is usable the kernels keep their per-process rlimits only;
results record which was used ("v1", "v2" or "none").
"""

from __future__ import annotations

import os
import signal
import time
from dataclasses import dataclass
from pathlib import Path

from .limits import Limits

ROOT = Path("/sys/fs/cgroup")
GROUP = "grader"
"""The folder under which every kernel's cgroup is made."""
_V1 = ("memory", "pids")


@dataclass(frozen=True, slots=True)
class Cgroups:
    """One machine's cgroup layout; `version` is "v1" or "v2"."""

    version: str
    root: Path = ROOT

    def parents(self) -> list[Path]:
        """The grader's own folders that hold every kernel cgroup."""
        if self.version == "v1":
            return [self.root / c / GROUP for c in _V1]
        return [self.root / GROUP]

    def dirs(self, name: str) -> list[Path]:
        """The kernel cgroup `name`'s folders (v1: one per controller; v2: one)."""
        return [p / name for p in self.parents()]

    def create(self, name: str, limits: Limits) -> None:
        ceiling = str(limits.memory_bytes + limits.scratch_bytes)
        if self.version == "v1":
            mem, pids = self.dirs(name)
            for d in (mem, pids):
                d.mkdir(parents=True, exist_ok=True)
            (mem / "memory.limit_in_bytes").write_text(ceiling)
            _try_write(mem / "memory.memsw.limit_in_bytes", ceiling)
            (pids / "pids.max").write_text(str(limits.processes))
            return
        self._enable_v2()
        (d,) = self.dirs(name)
        d.mkdir(exist_ok=True)
        (d / "memory.max").write_text(ceiling)
        _try_write(d / "memory.swap.max", "0")
        _try_write(d / "memory.oom.group", "1")
        (d / "pids.max").write_text(str(limits.processes))

    def _enable_v2(self) -> None:
        """Delegate memory and pids to the grader's folder, then to its children (the
        folder itself holds no process, as cgroup v2 requires)."""
        parent = self.parents()[0]
        parent.mkdir(exist_ok=True)
        for d in (self.root, parent):
            enabled = _read(d / "cgroup.subtree_control").split()
            if not {"memory", "pids"} <= set(enabled):
                (d / "cgroup.subtree_control").write_text("+memory +pids")

    def peak_memory(self, name: str) -> int | None:
        mem = self.dirs(name)[0]
        text = _read(mem / ("memory.max_usage_in_bytes" if self.version == "v1"
                            else "memory.peak"))
        return int(text) if text.strip().isdigit() else None

    def oom_killed(self, name: str) -> bool:
        mem = self.dirs(name)[0]
        text = _read(mem / ("memory.oom_control" if self.version == "v1" else "memory.events"))
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == "oom_kill":
                return parts[1] != "0"
        return False

    def destroy(self, name: str) -> None:
        """Kill whatever is left in the cgroup and remove it."""
        for d in self.dirs(name):
            if self.version == "v2":
                _try_write(d / "cgroup.kill", "1")
            for _ in range(50):
                pids = _pids(d / "cgroup.procs")
                if not pids:
                    break
                for pid in pids:
                    try:
                        os.kill(pid, signal.SIGKILL)
                    except OSError:
                        pass
                time.sleep(0.02)
            try:
                d.rmdir()
            except OSError:
                pass

    def remove_stale(self) -> None:
        """Remove the cgroups of graders that died without cleaning up (kill -9, power loss)."""
        for base in self.parents():
            for d in base.glob("k*-*") if base.is_dir() else ():
                owner = d.name[1:].split("-")[0]
                if not (owner.isdigit() and Path(f"/proc/{owner}").exists()):
                    self.destroy(d.name)


def detect(root: Path = ROOT) -> Cgroups | None:
    """The cgroups this process can use to bound a kernel, or None."""
    if all((root / c / "cgroup.procs").exists() and os.access(root / c, os.W_OK) for c in _V1):
        return Cgroups("v1", root)
    controllers = _read(root / "cgroup.controllers").split()
    if {"memory", "pids"} <= set(controllers) and os.access(root, os.W_OK):
        found = Cgroups("v2", root)
        try:
            found._enable_v2()
        except OSError:
            return None
        return found
    return None


def new_name() -> str:
    """A fresh cgroup name; it carries the grader's pid so that `remove_stale` can tell a dead
    grader's cgroups from a live one's."""
    return f"k{os.getpid()}-{os.urandom(5).hex()}"


def _read(path: Path) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""


def _try_write(path: Path, text: str) -> None:
    try:
        path.write_text(text)
    except OSError:
        pass


def _pids(path: Path) -> list[int]:
    return [int(x) for x in _read(path).split() if x.isdigit()]
