"""Kernel start-up cost: forked kernels (grader/kernels/forge.py) against scratch kernels
(grader/kernels/jail.py).

    .venv/bin/python benchmarks/forge_startup.py [-n 20] [--only forge|jailed]

Needs root, bubblewrap and cgroups, like the grader's sandbox. For each kind, N kernels are
started one after another, each then runs `import torch` (the conv-layer pack's prelude) and is
closed. Printed per kind (median and mean over the N kernels):

  start()            request -> the kernel answers kernel_info (what `await kernel.start()` takes)
  ready + torch      request -> a fresh nbclient-style client has the reply of `import torch`
  import torch       inside the kernel, measured by the kernel itself
  close()            `await kernel.close()`
  CPU s per kernel   CPU of every process involved, from request to closed: this process (the
                     host side: jupyter_client, zmq) plus the kernel's processes (bwrap, setpriv,
                     prlimit, python for a scratch kernel; warden and kernel forked by the forge),
                     counted through reaped children and live descendants

plus the forge's one-off start-up (wall and CPU).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from grader import sandbox as sb  # noqa: E402
from grader.kernels.forge import Forge  # noqa: E402
from grader.kernels.jail import JailBackend  # noqa: E402
from grader.limits import Limits  # noqa: E402

TICK = os.sysconf("SC_CLK_TCK")
IMPORT = ("import time as _t\n_t0 = _t.perf_counter()\nimport torch\n"
          "print(_t.perf_counter() - _t0)")


class CpuMeter:
    """CPU seconds used by this process and everything it starts (forge, wardens, kernels,
    bwrap...): a cgroup v1 cpuacct group this process moves into, whose members' children stay
    in it whatever memory/pids cgroups they join. Without cpuacct: this process, its reaped
    children and its live descendants (undercounts kernels whose parent was killed first)."""

    def __init__(self) -> None:
        self.group: Path | None = None
        base = Path("/sys/fs/cgroup/cpuacct")
        if (base / "cpuacct.usage").exists() and os.access(base, os.W_OK):
            self.group = base / f"grader-bench-{os.getpid()}"
            self.group.mkdir(exist_ok=True)
            (self.group / "cgroup.procs").write_text(str(os.getpid()))

    @property
    def source(self) -> str:
        return "cpuacct cgroup" if self.group else "rusage + /proc (approximate)"

    def total(self) -> float:
        if self.group is not None:
            return int((self.group / "cpuacct.usage").read_text()) / 1e9
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return self.host() + kids.ru_utime + kids.ru_stime + sum(
            _proc_cpu(p) for p in _descendants(os.getpid()))

    @staticmethod
    def host() -> float:
        me = resource.getrusage(resource.RUSAGE_SELF)
        return me.ru_utime + me.ru_stime

    def close(self) -> None:
        if self.group is not None:
            parent = self.group.parent / "cgroup.procs"
            for pid in (self.group / "cgroup.procs").read_text().split():
                try:
                    parent.write_text(pid)
                except OSError:
                    pass
            try:
                self.group.rmdir()
            except OSError:
                pass


def _descendants(root: int) -> list[int]:
    out, todo = [], [root]
    while todo:
        pid = todo.pop()
        try:
            kids = [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            kids = []
        out += kids
        todo += kids
    return out


def _proc_cpu(pid: int) -> float:
    """utime + stime + cutime + cstime of a live (or zombie) process, in seconds."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat[stat.rindex(")") + 2:].split()
    return sum(int(x) for x in fields[11:15]) / TICK


METER: CpuMeter | None = None


async def one(kernel, forge: Forge | None) -> dict[str, float]:
    cpu0, host0 = METER.total(), METER.host()
    t0 = time.monotonic()
    await kernel.start()
    t_start = time.monotonic() - t0
    kc = kernel.km.client()
    kc.start_channels()
    await kc.wait_for_ready(timeout=60)
    msg_id = kc.execute(IMPORT)
    inside = None
    while True:
        msg = await kc.get_iopub_msg(timeout=60)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "stream":
            inside = float(msg["content"]["text"])
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    t_torch = time.monotonic() - t0
    kc.stop_channels()
    t1 = time.monotonic()
    await kernel.close()
    t_close = time.monotonic() - t1
    if forge is not None:
        forge.ping()  # the forge reaps the kernel's warden, whose CPU then counts below
    cpu1, host1 = METER.total(), METER.host()
    return {"start()": t_start, "ready + torch": t_torch, "import torch": inside or 0.0,
            "close()": t_close, "CPU s per kernel": cpu1 - cpu0,
            "  of which host side": host1 - host0,
            "  of which kernel processes": (cpu1 - cpu0) - (host1 - host0)}


def report(label: str, rows: list[dict[str, float]]) -> None:
    print(f"{label} ({len(rows)} kernels)")
    print(f"  {'':30s}{'median':>10s}{'mean':>10s}")
    for key in rows[0]:
        vals = [r[key] for r in rows]
        print(f"  {key:30s}{statistics.median(vals):10.3f}{statistics.fmean(vals):10.3f}")


async def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=20)
    ap.add_argument("--only", choices=("forge", "jailed"))
    args = ap.parse_args()
    sandbox = sb.detect_sandbox()
    if not sandbox.own_uid:
        sys.exit("run as root: the forge needs the bwrap-root sandbox")
    limits = Limits()
    global METER
    METER = CpuMeter()
    jail = JailBackend(sandbox, limits)
    uid = jail.uid
    print(f"{os.cpu_count()} cores, sandbox {sandbox.kind}, cgroups {sandbox.cgroups}, "
          f"uid {uid}, CPU from {METER.source}")
    try:
        if args.only != "jailed":
            c0, t0 = METER.total(), time.monotonic()
            forge = Forge(sandbox, limits).start()
            wall, c1 = time.monotonic() - t0, METER.total()
            print(f"forge start-up (once per worker): {wall:.2f} s wall, {c1 - c0:.2f} s CPU, "
                  f"imports {forge.info.get('seconds')} s inside")
            try:
                await one(forge.new_kernel(limits, uid), forge)  # warm-up
                rows = [await one(forge.new_kernel(limits, uid), forge)
                        for _ in range(args.n)]
            finally:
                forge.close()
            report("ForgedKernel", rows)
        if args.only != "forge":
            await one(jail.scratch_kernel(), None)  # warm-up
            rows = [await one(jail.scratch_kernel(), None)
                    for _ in range(args.n)]
            report("ScratchKernel", rows)
    finally:
        sb.kill_uid(uid)
        jail.close()
        METER.close()


if __name__ == "__main__":
    asyncio.run(main())
