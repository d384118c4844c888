"""Throughput of `grader grade` against plain sequential nbclient on the same notebooks.

    .venv/bin/python benchmarks/throughput.py [-n 100] [--workers N] [--skip-baseline]

Both sides execute N copies of the conv-layer model solution. The baseline is what nbgrader's
autograde does: each notebook executed in a fresh kernel with nbclient, one after another, with
no checks. The grader does everything (sandbox, extraction, checks, reports, gradebook).
Printed per side: submissions per minute, median seconds per submission, CPU seconds per
submission (all processes, kernels included), and peak memory per worker: the proportional
set size (PSS, so pages shared between processes count once overall) of the worker process and
all its descendants (forge, kernels), sampled every 0.1 s.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "reference" / "conv-layer" / "model_solution.ipynb"
GRADER = [sys.executable, "-m", "grader"]

sys.path.insert(0, str(ROOT))
from grader.writers.layout import submission_dir  # noqa: E402

BASELINE = r"""
import sys, time, json, nbformat
from nbclient import NotebookClient
times = []
for path in sys.argv[1:]:
    t = time.monotonic()
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=30, kernel_name="python3", allow_errors=True).execute()
    times.append(time.monotonic() - t)
print(json.dumps(times))
"""


class TreeSampler:
    """Peak, over time, of the resident memory of each worker-like subtree of `root`: each
    child of `root` together with all its descendants (or `root` itself when it has none)."""

    def __init__(self, root: int) -> None:
        self.root = root
        self.peak: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(0.1):
            parent = {}
            for name in os.listdir("/proc"):
                if not name.isdigit():
                    continue
                try:
                    stat = Path(f"/proc/{name}/stat").read_text()
                    parent[int(name)] = int(stat[stat.rindex(")") + 2:].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
            children: dict[int, list[int]] = {}
            for pid, ppid in parent.items():
                children.setdefault(ppid, []).append(pid)

            def subtree(pid: int, children=children) -> int:
                return _pss(pid) + sum(subtree(c) for c in children.get(pid, []))

            tops = children.get(self.root, [])
            # `grader grade` runs its workers as children of its own process; the baseline is
            # one process whose children are kernels.
            workers = [c for c in tops if children.get(c)] or [self.root]
            for w in workers:
                self.peak[w] = max(self.peak.get(w, 0), subtree(w))


def _pss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError):
        pass
    return 0


def measure(cmd: list[str]) -> tuple[float, float, int, subprocess.CompletedProcess]:
    """Wall time, CPU seconds of the command and every process it started, peak memory.

    CPU comes from a cpuacct cgroup where one can be made (root): it also counts processes
    that are killed rather than reaped, as sandboxed kernels are. Elsewhere rusage is used.
    """
    group = Path(f"/sys/fs/cgroup/cpuacct/grader-bench-{os.getpid()}")
    try:
        group.mkdir()
    except OSError:
        group = None
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    enter = (lambda: (group / "cgroup.procs").write_text(str(os.getpid()))) if group else None
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=enter)
    with TreeSampler(proc.pid) as sampler:
        out, err = proc.communicate()
    wall = time.monotonic() - start
    if group is not None:
        time.sleep(0.5)  # let killed kernels finish dying
        cpu = int((group / "cpuacct.usage").read_text()) / 1e9
        for pid in (group / "cgroup.procs").read_text().split():
            try:
                os.kill(int(pid), 9)
            except OSError:
                pass
        time.sleep(0.2)
        try:
            group.rmdir()
        except OSError:
            pass
    else:
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    peak = max(sampler.peak.values(), default=0)
    return wall, cpu, peak, subprocess.CompletedProcess(cmd, proc.returncode, out, err)


def report(label: str, n: int, wall: float, cpu: float, peak: int, per: list[float]) -> None:
    print(f"{label}:")
    print(f"  submissions per minute     {60 * n / wall:8.1f}")
    print(f"  median s per submission    {statistics.median(per):8.2f}")
    print(f"  CPU s per submission       {cpu / n:8.2f}")
    print(f"  peak memory per worker     {peak / 2**20:8.0f} MiB")
    print(f"  wall time                  {wall:8.1f} s")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100, help="number of submissions (default 100)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--skip-baseline", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    try:
        subs = work / "subs"
        subs.mkdir()
        paths = []
        for i in range(args.n):
            p = subs / f"student{i:04d}.ipynb"
            shutil.copyfile(MODEL, p)
            paths.append(str(p))
        print(f"{args.n} copies of {MODEL.name}, {os.cpu_count()} cores")
        wall, cpu, peak, done = measure([*GRADER, "grade", str(subs), "--out", str(work / "out"),
                                         "--seed", "1", "--quiet", "--workers", str(args.workers)])
        if done.returncode != 0:
            sys.exit(f"grader failed:\n{done.stdout}\n{done.stderr}")
        import json
        per = [json.loads((submission_dir(work / "out", Path(p).stem) / "results.json").read_text())["execution_time"]
               for p in paths]
        scores = {json.loads((submission_dir(work / "out", Path(p).stem) / "results.json").read_text())["score"]
                  for p in paths}
        report(f"grader grade --workers {args.workers} (scores seen: {sorted(scores)})",
               args.n, wall, cpu, peak, per)
        if args.skip_baseline:
            return
        bwall, bcpu, bpeak, bdone = measure([sys.executable, "-c", BASELINE, *paths])
        if bdone.returncode != 0:
            sys.exit(f"baseline failed:\n{bdone.stderr[-2000:]}")
        report("baseline: sequential nbclient, fresh kernel each", args.n, bwall, bcpu, bpeak,
               json.loads(bdone.stdout))
        print(f"throughput ratio (grader / baseline): {bwall / wall:.2f}x")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
