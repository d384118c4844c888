"""Grading on a Dask cluster: a real `dask scheduler` and `dask worker`s started on the
loopback address (random ports, through a scheduler file), and a LocalCluster."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
import pytest

from conftest import (
    GRADER,
    NOTEBOOKS,
    TESTS,
    descendants,
    grader_env,
    load_results,
    orphaned_kernels,
    parent,
    run_grader,
    stored,
    verdicts,
)

pytestmark = pytest.mark.slow

DASK = [sys.executable, "-m", "dask"]
SAMPLE = ["tiny-correct", "tiny-wrong", "tiny-error-defines", "tiny-kernel-death",
          "tiny-numpy-answer", "not-a-notebook"]


@dataclass
class Cluster:
    """A scheduler and workers this test started, each in a process group of its own."""

    folder: Path
    address: str = ""
    scheduler: subprocess.Popen | None = None
    workers: list[subprocess.Popen] = field(default_factory=list)

    def start(self, workers: int = 2, *worker_args: str) -> Cluster:
        file = self.folder / "scheduler.json"
        # A task may kill 3 workers before it is reported (grader.run.MAX_CRASHES).
        env = dict(os.environ, DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES="2")
        self.scheduler = self._spawn("scheduler", [
            "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
            "--scheduler-file", str(file)], env)
        deadline = time.monotonic() + 60
        while not self.address:
            assert time.monotonic() < deadline, self.log("scheduler")
            assert self.scheduler.poll() is None, self.log("scheduler")
            try:
                self.address = json.loads(file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.2)
        for i in range(workers):
            self.add_worker(f"worker{i}", *worker_args)
        self.wait_for_workers(workers)
        return self

    def add_worker(self, name: str, *args: str) -> None:
        # No GRADER_PACKS and another working folder: the packs must come from the client.
        env = {k: v for k, v in os.environ.items() if k != "GRADER_PACKS"}
        self.workers.append(self._spawn(name, [
            "worker", self.address, "--nthreads", "1", "--nworkers", "1", "--host",
            "127.0.0.1", "--no-dashboard", "--death-timeout", "30", "--name", name, *args],
            env))

    def _spawn(self, name: str, args: list[str], env: dict) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        cwd = self.folder / name
        cwd.mkdir(exist_ok=True)
        return subprocess.Popen([*DASK, *args], env=env, cwd=cwd, stdout=log, stderr=log,
                                start_new_session=True)

    def client(self):
        from distributed import Client
        return Client(self.address, timeout=30)

    def wait_for_workers(self, n: int) -> None:
        with self.client() as client:
            client.wait_for_workers(n, timeout=120)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    def stop(self) -> None:
        """Ends every process group this cluster started: politely, then for sure."""
        procs = [p for p in [*self.workers, self.scheduler] if p is not None]
        for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            for p in procs:
                try:
                    os.killpg(p.pid, sig)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + grace
            for p in procs:
                try:
                    p.wait(max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    pass


@pytest.fixture
def new_cluster(tmp_path):
    """Starts a cluster (at most one) for the test, and stops it after the test."""
    made: list[Cluster] = []

    def start(*worker_args: str) -> Cluster:
        c = Cluster(tmp_path / "cluster")
        c.folder.mkdir()
        made.append(c)
        return c.start(2, *worker_args)

    try:
        yield start
    finally:
        for c in made:
            c.stop()


@pytest.fixture
def cluster(new_cluster):
    return new_cluster()


def sample(folder: Path, names=SAMPLE) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copyfile(NOTEBOOKS / f"{name}.ipynb", folder / f"{name}.ipynb")
    return folder


def slow_copies(folder: Path, n: int, seconds: float = 1.5) -> Path:
    nb = nbformat.read(NOTEBOOKS / "tiny-correct.ipynb", 4)
    nb.cells.insert(0, nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})"))
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        nbformat.write(nb, folder / f"s{i:02d}.ipynb")
    return folder


def summary(out: Path, names) -> dict[str, tuple]:
    results = {name: load_results(out, name) for name in names}
    return {name: (r["status"], r["score"], r["max_score"], verdicts(r), r["sandboxed"],
                   r["seed"]) for name, r in results.items()}


def start_grader(*args: str) -> subprocess.Popen:
    return subprocess.Popen([*GRADER, *args], env=grader_env(), stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def wait_stored(out: Path, n: int, proc: subprocess.Popen, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while len(stored(out)) < n:
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "nothing was stored in time"
        time.sleep(0.2)


def finished_lines(stderr: str) -> Counter:
    """How often each submission was reported finished (one line each without a terminal)."""
    return Counter(re.findall(r"^(\S+): (?:[\d.]+/[\d.]+|NOT GRADED)", stderr, re.M))


def test_cluster_grades_like_the_process_pool(cluster, tmp_path):
    subs = sample(tmp_path / "subs")
    common = ["--seed", "7", "--timeout", "4"]
    pool = run_grader("grade", str(subs), "--out", str(tmp_path / "pool"), "--workers", "2",
                      *common)
    dask = run_grader("grade", str(subs), "--out", str(tmp_path / "dask"), "--scheduler",
                      cluster.address, *common)
    assert pool.returncode == dask.returncode == 1, dask.stderr  # not-a-notebook
    assert summary(tmp_path / "dask", SAMPLE) == summary(tmp_path / "pool", SAMPLE)
    graded = load_results(tmp_path / "dask", "tiny-correct")
    assert graded["path"] == str(subs / "tiny-correct.ipynb")  # the client's path, not a temp
    assert finished_lines(dask.stderr) == Counter(SAMPLE)
    again = run_grader("grade", str(subs), "--out", str(tmp_path / "dask"), "--scheduler",
                       cluster.address, *common)
    assert "Graded 0 submissions" in again.stdout and "6 unchanged" in again.stdout


def test_packs_travel_as_one_archive(tmp_path):
    """Every pack, with its reference folder and template even where they lie outside its
    folder (conv-layer's do), unpacks on a worker into packs equal file for file."""
    from grader.cluster import bundle_packs, unbundle_packs
    from grader.packs import default_pack_dirs, discover

    dirs = (*map(str, default_pack_dirs()), str(TESTS / "packs"))
    packs = discover([Path(d) for d in dirs])
    assert "conv-layer" in packs and "tiny" in packs
    bundle = bundle_packs(packs, dirs)
    there = discover([Path(d) for d in unbundle_packs(bundle, tmp_path)])
    assert there.keys() == packs.keys()
    for name, pack in packs.items():
        for here, copy in zip(pack.sources, there[name].sources, strict=True):
            assert copy.is_relative_to(tmp_path)
            assert files(copy) == files(here), (name, here)


def files(root: Path) -> dict[str, bytes]:
    found = [root] if root.is_file() else [p for p in root.rglob("*") if p.is_file()]
    return {str(p.relative_to(root)): p.read_bytes() for p in found
            if "__pycache__" not in p.parts}


def test_a_changed_pack_is_used_by_the_same_workers(cluster, tmp_path):
    """Workers outlive batches: a batch after the pack's reference changed is judged with the
    new reference, not with the modules the previous batch loaded."""
    packs = tmp_path / "packs"
    shutil.copytree(TESTS / "packs" / "tiny", packs / "tiny")
    env = {**grader_env(), "GRADER_PACKS": str(packs)}
    subs = sample(tmp_path / "subs", ["tiny-correct"])

    def grade() -> dict:
        done = subprocess.run([*GRADER, "grade", str(subs), "--out", str(tmp_path / "out"),
                               "--scheduler", cluster.address], env=env, capture_output=True,
                              text=True, timeout=300)
        assert "Graded 1 submissions" in done.stdout, done.stderr
        return verdicts(load_results(tmp_path / "out", "tiny-correct"))

    assert grade() == {"1": "pass", "2": "pass"}
    solution = packs / "tiny" / "reference" / "solution.py"
    solution.write_text(solution.read_text().replace("ANSWER = 42", "ANSWER = 41"))
    assert grade() == {"1": "fail", "2": "pass"}


def test_local_cluster_on_this_machine(tmp_path):
    names = ["tiny-correct", "tiny-wrong", "tiny-error-defines"]
    subs = sample(tmp_path / "subs", names)
    done = run_grader("grade", str(subs), "--out", str(tmp_path / "out"), "--scheduler",
                      "local", "--workers", "2", "--timeout", "4")
    assert done.returncode == 0, done.stderr
    assert "Graded 3 submissions" in done.stdout
    for name in names:
        expected = nbformat.read(NOTEBOOKS / f"{name}.ipynb", 4).metadata["grader_test"]
        assert verdicts(load_results(tmp_path / "out", name)) == expected["expected"]


def test_worker_killed_mid_batch_loses_nothing(cluster, tmp_path):
    subs = slow_copies(tmp_path / "subs", 8)
    out = tmp_path / "out"
    names = [f"s{i:02d}" for i in range(8)]
    proc = start_grader("grade", str(subs), "--out", str(out), "--scheduler", cluster.address)
    try:
        wait_stored(out, 1, proc)
        before = stored(out)
        victim, grading = busy_worker(cluster)
        os.kill(victim, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 0, stderr
    assert finished_lines(stderr) == Counter(names)  # each graded and stored exactly once
    lost = set(grading) - set(before)
    assert lost, "the killed worker was not grading anything new"
    assert all(stored(out)[name] == "graded" for name in lost)  # graded again elsewhere
    assert stored(out) == dict.fromkeys(names, "graded")
    time.sleep(1)
    assert orphaned_kernels({victim}) == [], "the killed worker left kernels behind"
    again = run_grader("grade", str(subs), "--out", str(out), "--scheduler", cluster.address)
    assert again.returncode == 0, again.stderr
    assert "Graded 0 submissions" in again.stdout and "8 unchanged" in again.stdout


def busy_worker(cluster: Cluster) -> tuple[int, list[str]]:
    """The pid of a worker process (a child of a nanny this test started) grading now, and
    the submissions it has."""
    ours = {p.pid for p in cluster.workers}
    deadline = time.monotonic() + 60
    with cluster.client() as client:
        while time.monotonic() < deadline:
            pids = client.run(os.getpid)
            for address, keys in client.processing().items():
                if keys and address in pids and parent(pids[address]) in ours:
                    return pids[address], [key.split("-")[1] for key in keys]
            time.sleep(0.2)
    raise AssertionError("no worker was grading")


def test_scheduler_killed_mid_batch_is_a_clear_error(cluster, tmp_path):
    subs = slow_copies(tmp_path / "subs", 8)
    out = tmp_path / "out"
    proc = start_grader("grade", str(subs), "--out", str(out), "--scheduler", cluster.address,
                        "--quiet")
    try:
        wait_stored(out, 2, proc)
        os.kill(cluster.scheduler.pid, signal.SIGKILL)
        stdout, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 1
    assert "lost the Dask scheduler" in stderr and "run the same command again" in stderr
    assert "Traceback" not in stderr
    kept = stored(out)
    assert 2 <= len(kept) < 8 and set(kept.values()) == {"graded"}
    rest = run_grader("grade", str(subs), "--out", str(out), "--workers", "2")
    assert rest.returncode == 0, rest.stderr
    assert f"Graded {8 - len(kept)} submissions" in rest.stdout


def test_unreachable_scheduler_is_a_clear_error(tmp_path):
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        address = f"tcp://127.0.0.1:{closed.getsockname()[1]}"
        done = run_grader("grade", str(NOTEBOOKS / "tiny-correct.ipynb"), "--out",
                          str(tmp_path / "out"), "--scheduler", address, timeout=120)
    assert done.returncode == 1
    assert f"cannot reach the Dask scheduler at {address}" in done.stderr
    assert "Traceback" not in done.stderr


POISON = """
import os
from distributed.diagnostics.plugin import WorkerPlugin


class Poison(WorkerPlugin):
    name = "poison"

    def transition(self, key, start, finish, **kwargs):
        if finish == "executing" and str(key).startswith("grade-poison-"):
            os._exit(1)


async def dask_setup(worker):
    await worker.plugin_add(Poison())
"""


def test_submission_that_kills_three_workers_is_reported(new_cluster, tmp_path):
    """A worker dies each time it starts grading `poison` (a stand-in for a machine fault):
    after three deaths it is reported as not graded, and the rest of the batch is graded."""
    (tmp_path / "poison_plugin.py").write_text(POISON)
    cluster = new_cluster("--preload", str(tmp_path / "poison_plugin.py"))
    subs = sample(tmp_path / "subs", ["tiny-correct", "tiny-wrong"])
    shutil.copyfile(NOTEBOOKS / "tiny-correct.ipynb", subs / "poison.ipynb")
    done = run_grader("grade", str(subs), "--out", str(tmp_path / "out"), "--scheduler",
                      cluster.address, timeout=600)
    assert done.returncode == 1, done.stderr
    poison = load_results(tmp_path / "out", "poison")
    assert poison["status"] == "error" and "died" in poison["error"], poison["error"]
    assert "run the same command again" in poison["error"]
    assert stored(tmp_path / "out") == {"poison": "error", "tiny-correct": "graded",
                                        "tiny-wrong": "graded"}
    assert "Traceback" not in done.stderr


def test_client_killed_mid_batch_on_a_local_cluster(tmp_path):
    """kill -9 of `grader grade --scheduler local`: what was stored stays, its scheduler,
    workers, forges and kernels all go, and the same command grades the rest."""
    subs = slow_copies(tmp_path / "subs", 6)
    out = tmp_path / "out"
    args = ["grade", str(subs), "--out", str(out), "--scheduler", "local", "--workers", "2"]
    proc = start_grader(*args)
    try:
        wait_stored(out, 2, proc)
        tree = descendants(proc.pid)
    finally:
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    before = stored(out)
    assert 2 <= len(before) < 6
    deadline = time.monotonic() + 15
    while (alive := [p for p in tree if os.path.exists(f"/proc/{p}")]) and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    for pid in alive:  # left behind: end them (they are ours), then fail
        os.kill(pid, signal.SIGKILL)
    assert alive == [], "processes of the killed grader outlived it"
    assert orphaned_kernels(set(tree)) == []
    rerun = start_grader(*args)
    _, stderr = rerun.communicate(timeout=300)
    assert rerun.returncode == 0, stderr
    assert finished_lines(stderr) == Counter(f"s{i:02d}" for i in range(6) if f"s{i:02d}" not
                                             in before)
