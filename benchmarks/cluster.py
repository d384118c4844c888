"""What Dask costs: the same batch graded by the process pool and on Dask clusters.

    .venv/bin/python benchmarks/cluster.py [-n 100] [--workers 2] [--repeat 1]

Grades N copies of the conv-layer model solution three ways, each into a fresh output folder:
the process pool (`--workers W`), a LocalCluster (`--scheduler local --workers W`), and a
`dask scheduler` with one `dask worker --nworkers W --nthreads 1` started by this script on
the loopback address (`--scheduler tcp://...`; their start-up is not timed, the workers'
set-up by the grader is). Printed per variant: wall time, submissions per minute, CPU seconds
per submission of every process the command started (not for the tcp cluster, whose processes
it did not start), and for the Dask variants the overhead against the pool (wall time over the
pool's, minus one). With --repeat R the variants run R times, interleaved, and the best run of
each counts (the machine may be shared; CPU seconds vary less with other load than wall time).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MODEL = ROOT / "reference" / "conv-layer" / "model_solution.ipynb"
GRADER = [sys.executable, "-m", "grader"]
DASK = [sys.executable, "-m", "dask"]

sys.path.insert(0, str(Path(__file__).resolve().parent))
from throughput import measure  # noqa: E402 - the sibling benchmark's CPU and time probe


def timed_grade(subs: Path, out: Path, n: int, *options: str) -> tuple[float, float]:
    """Wall seconds and CPU seconds (of the command and every process it started) of one
    `grader grade`; exits if any submission is not fully graded."""
    cmd = [*GRADER, "grade", str(subs), "--out", str(out), "--seed", "1", "--quiet", *options]
    wall, cpu, _, done = measure(cmd)
    if done.returncode != 0:
        sys.exit(f"grader {' '.join(options)} failed:\n{done.stdout}\n{done.stderr[-3000:]}")
    stored = list(out.glob("submissions/*/results.json"))
    scores = {json.loads(p.read_text())["score"] for p in stored}
    if len(stored) != n or len(scores) != 1:
        sys.exit(f"grader {' '.join(options)}: expected {n} equal results, got scores {scores}")
    return wall, cpu


class Cluster:
    """A scheduler and a worker process group on the loopback address, started here."""

    def __init__(self, folder: Path, workers: int) -> None:
        file = folder / "scheduler.json"
        self.procs = [self._spawn(folder, "scheduler", [
            "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--scheduler-file", str(file)])]
        deadline = time.monotonic() + 60
        while not file.exists() or not file.read_text().strip():
            if time.monotonic() > deadline:
                self.close()
                sys.exit("the dask scheduler did not start; see " + str(folder))
            time.sleep(0.2)
        self.address = json.loads(file.read_text())["address"]
        self.procs.append(self._spawn(folder, "worker", [
            "worker", self.address, "--nworkers", str(workers), "--nthreads", "1", "--host",
            "127.0.0.1", "--no-dashboard"]))
        from distributed import Client
        with Client(self.address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=120)

    @staticmethod
    def _spawn(folder: Path, name: str, args: list[str]) -> subprocess.Popen:
        log = open(folder / f"{name}.log", "wb")
        return subprocess.Popen([*DASK, *args], cwd=folder, stdout=log, stderr=log,
                                start_new_session=True)

    def close(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGKILL):
            for p in self.procs:
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    pass
            for p in self.procs:
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    pass


def line(label: str, n: int, runs: list[tuple[float, float]], pool: float | None,
         cpu: bool) -> str:
    wall, seconds = min(runs)
    overhead = f"  overhead vs pool {100 * (wall / pool - 1):+6.1f} %" if pool else ""
    cpu_text = f"  {seconds / n:5.2f} CPU s/submission" if cpu else " " * 24
    walls = f" (runs: {', '.join(f'{w:.1f}' for w, _ in runs)} s)" if len(runs) > 1 else ""
    return (f"{label:<46} {wall:6.1f} s {60 * n / wall:6.1f} submissions/min{cpu_text}"
            f"{overhead}{walls}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100, help="number of submissions (default 100)")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=1,
                    help="runs of each variant, interleaved; the best counts (default 1)")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="grader-bench-cluster-"))
    cluster = None
    try:
        subs = work / "subs"
        subs.mkdir()
        for i in range(args.n):
            shutil.copyfile(MODEL, subs / f"student{i:04d}.ipynb")
        w = str(args.workers)
        print(f"{args.n} copies of {MODEL.name}, {os.cpu_count()} cores, {w} workers, "
              f"load average before: {os.getloadavg()[0]:.2f}", flush=True)
        (work / "cluster").mkdir()
        cluster = Cluster(work / "cluster", args.workers)
        variants = {
            f"process pool (--workers {w})": ["--workers", w],
            f"LocalCluster (--scheduler local --workers {w})":
                ["--scheduler", "local", "--workers", w],
            f"dask scheduler + {w} dask workers (tcp)": ["--scheduler", cluster.address],
        }
        runs: dict[str, list[tuple[float, float]]] = {label: [] for label in variants}
        for run in range(args.repeat):
            for i, (label, options) in enumerate(variants.items()):
                runs[label].append(timed_grade(subs, work / f"out-{run}-{i}", args.n,
                                               *options))
        pool = min(next(iter(runs.values())))[0]
        for i, (label, times) in enumerate(runs.items()):
            # The tcp cluster's processes were not started by the command: no CPU figure.
            print(line(label, args.n, times, pool if i else None, cpu=i < 2))
        print(f"load average after: {os.getloadavg()[0]:.2f}")
    finally:
        if cluster is not None:
            cluster.close()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
