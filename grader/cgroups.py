"""Control groups that bound all of one kernel's processes together: memory (tmpfs pages
included) and the number of processes. Used only when the grader runs as root on a machine
whose cgroup controllers it can write."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

from .limits import Limits

ROOT = Path("/sys/fs/cgroup")
_CONTROLLERS = ("memory", "pids")


def usable() -> bool:
    for controller in _CONTROLLERS:
        base = ROOT / controller
        if not (base / "cgroup.procs").exists() or not os.access(base, os.W_OK):
            return False
    return True


def dirs(name: str) -> list[Path]:
    """The kernel cgroup `name`'s folders, one per controller."""
    return [ROOT / controller / "grader" / name for controller in _CONTROLLERS]


def parents() -> list[Path]:
    """The grader's own folders that hold every kernel cgroup."""
    return [d.parent for d in dirs("x")]


def new_name() -> str:
    """A fresh cgroup name; it carries the grader's pid so that `remove_stale` can tell a dead
    grader's cgroups from a live one's."""
    return f"k{os.getpid()}-{os.urandom(5).hex()}"


def create(name: str, limits: Limits) -> None:
    mem, pids = dirs(name)
    for d in (mem, pids):
        d.mkdir(parents=True, exist_ok=True)
    ceiling = str(limits.memory_bytes + limits.scratch_bytes)
    (mem / "memory.limit_in_bytes").write_text(ceiling)
    swap = mem / "memory.memsw.limit_in_bytes"
    if swap.exists():
        try:
            swap.write_text(ceiling)
        except OSError:
            pass
    (pids / "pids.max").write_text(str(limits.processes))


def peak_memory(name: str) -> int | None:
    try:
        return int((dirs(name)[0] / "memory.max_usage_in_bytes").read_text())
    except (OSError, ValueError):
        return None


def oom_killed(name: str) -> bool:
    try:
        text = (dirs(name)[0] / "memory.oom_control").read_text()
    except OSError:
        return False
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == "oom_kill":
            return parts[1] != "0"
    return False


def destroy(name: str) -> None:
    """Kill whatever is left in the cgroup and remove it."""
    for d in dirs(name):
        for _ in range(50):
            pids = _read_pids(d / "cgroup.procs")
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


def remove_stale() -> None:
    """Remove the cgroups of graders that died without cleaning up (kill -9, power loss)."""
    for base in parents():
        for d in base.glob("k*-*") if base.is_dir() else ():
            owner = d.name[1:].split("-")[0]
            if not (owner.isdigit() and Path(f"/proc/{owner}").exists()):
                destroy(d.name)


def _read_pids(path: Path) -> list[int]:
    try:
        return [int(x) for x in path.read_text().split()]
    except (OSError, ValueError):
        return []
