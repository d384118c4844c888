"""Grade a batch on a Dask cluster: the dispatcher behind `grader grade --scheduler`.

    client (grader grade)                     each Dask worker process
    ---------------------                     ------------------------
    GraderPlugin(settings, packs as a tar) -> setup: unpack the packs into a temp folder,
                                              detect the sandbox, open a kernel backend
    grade_on_worker(name, notebook bytes)  -> write the bytes to a temp file, Grader.grade
    done(job, from_dict(result))           <- to_dict(result): plain data

Only trusted grader data crosses the network: the grader's settings (limits, seed, sandbox
requirement), the packs' files, the submissions' bytes and the plain result dicts. Student
code runs only in the worker's sandboxed kernel, as with the process pool. Results are stored
by run.py's recorder as they arrive, so whatever is stored survives the loss of the client, a
worker or the scheduler.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import shutil
import signal
import socket
import sys
import tarfile
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath

import dask
from distributed import Client, Future, KilledWorker, LocalCluster, get_worker, wait
from distributed.client import FuturesCancelledError
from distributed.diagnostics.plugin import WorkerPlugin

from . import __version__
from .discover import Job
from .kernels import choose
from .notebook import NotebookError, read_bytes
from .packs import Pack, discover
from .pipeline import Grader
from .results import SubmissionResult, error_result, from_dict, to_dict
from .run import MAX_CRASHES, DispatchError, Done, Settings, crashed_result, make_grader
from .sandbox import detect_sandbox
from .writers.layout import folder_name

LOCAL = "local"
"""The --scheduler value that starts a LocalCluster on this machine."""
CONNECT_SECONDS = 15.0
"""How long to try to reach the scheduler, at the start of a batch."""
NO_WORKER_SECONDS = 120.0
"""How long a batch waits while the cluster has no worker before giving up."""
POLL_SECONDS = 2.0
_FOLDER_PREFIX = "grader-worker-"


class ClusterError(DispatchError):
    """The cluster cannot be reached, cannot grade or went away; the message says what to do."""


class WorkerSetupError(RuntimeError):
    """A worker could not get ready to grade (no sandbox, another grader version...)."""


@dataclass(frozen=True, slots=True)
class PackBundle:
    """The packs' files as one tar archive, each file at its absolute path on the client (less
    the leading /), so that pack.toml's relative paths (`../../reference/...`) still hold."""

    archive: bytes
    pack_dirs: tuple[str, ...]
    """The folders to discover packs in, relative to where the archive is unpacked."""
    names: tuple[str, ...]


def bundle_packs(packs: dict[str, Pack], pack_dirs: tuple[str, ...]) -> PackBundle:
    roots: list[Path] = []
    for pack in packs.values():
        for source in pack.sources:
            if not any(source.is_relative_to(r) for r in roots):
                roots = [r for r in roots if not r.is_relative_to(source)] + [source]
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for root in sorted(roots):
            tar.add(root, arcname=_relative(root), filter=_no_cache)
    dirs = tuple(_relative(Path(d).resolve()) for d in pack_dirs)
    return PackBundle(buf.getvalue(), dirs, tuple(sorted(packs)))


def unbundle_packs(bundle: PackBundle, dest: Path) -> tuple[str, ...]:
    """Unpack `bundle` into `dest`; returns the pack folders to discover packs in."""
    with tarfile.open(fileobj=io.BytesIO(bundle.archive), mode="r:gz") as tar:
        tar.extractall(dest, filter="data")
    dirs = tuple(str(dest / d) for d in bundle.pack_dirs)
    found = tuple(sorted(discover([Path(d) for d in dirs])))
    if found != bundle.names:
        raise WorkerSetupError(f"the packs unpacked on this worker are {found}, not "
                               f"{bundle.names}; keep each pack's files as real folders "
                               "(not symbolic links) and run the same command again")
    return dirs


def _relative(path: Path) -> str:
    return str(PurePosixPath(path).relative_to("/"))


def _no_cache(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
    return None if "__pycache__" in PurePosixPath(info.name).parts else info


class GraderPlugin(WorkerPlugin):
    """Makes each worker process ready to grade one batch's submissions: its own copy of the
    packs, its own sandbox and kernel backend (a forge and a sandbox uid), set up once."""

    def __init__(self, settings: Settings, bundle: PackBundle, *, forge: bool) -> None:
        self.settings = settings
        self.bundle = bundle
        self.forge = forge
        self.version = __version__
        digest = hashlib.sha256(repr((settings, forge, __version__)).encode())
        digest.update(bundle.archive)
        # Named after the batch's settings: a re-run of the same command replaces it.
        self.name = f"grader-{digest.hexdigest()[:16]}"
        self._grader: Grader | None = None
        self._folder: Path | None = None
        self._lock: threading.Lock | None = None
        self._error = "its grader plugin was not set up"

    def setup(self, worker) -> None:
        # Runs on the worker's event loop thread, which lives as long as the worker: the
        # forge's bwrap --die-with-parent is tied to the thread that starts it.
        try:
            self._grader = self._open()
        except Exception as exc:
            self._error = f"worker {worker.address} cannot grade: {exc}"
            self.teardown(worker)
            raise WorkerSetupError(self._error) from None
        self._lock = threading.Lock()

    def _open(self) -> Grader:
        if self.version != __version__:
            raise WorkerSetupError(f"it runs grader {__version__} and the client grader "
                                   f"{self.version}; install the same version everywhere")
        self._folder = Path(tempfile.mkdtemp(prefix=_FOLDER_PREFIX))
        pack_dirs = unbundle_packs(self.bundle, self._folder / "packs")
        box = detect_sandbox(enabled=self.settings.sandbox.isolated)
        return make_grader(replace(self.settings, pack_dirs=pack_dirs, sandbox=box,
                                   backend=choose(box, forge=self.forge)))

    def teardown(self, worker) -> None:
        if self._grader is not None:
            self._grader.backend.close()
            self._grader = None
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None
        _forget_pack_modules(keep=None)

    def grade(self, name: str, notebook: bytes) -> dict:
        if self._grader is None or self._lock is None or self._folder is None:
            raise WorkerSetupError(self._error)
        with self._lock:  # a Grader is not thread-safe; workers should run one thread
            _forget_pack_modules(keep=self._folder)
            folder = Path(tempfile.mkdtemp(prefix="submission-", dir=self._folder))
            try:
                path = folder / f"{folder_name(name)}.ipynb"  # names may hold "/"
                path.write_bytes(notebook)
                result = self._grader.grade(path, self.settings.seed)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
        return to_dict(result)


def _forget_pack_modules(*, keep: Path | None) -> None:
    """Drop from sys.modules the packs' modules (probes, reference, checks) that an earlier
    batch on this long-lived worker unpacked, except those under `keep`: they are cached by
    module name, so this batch's own files would otherwise never be imported."""
    batches = os.path.join(tempfile.gettempdir(), _FOLDER_PREFIX)
    mine = None if keep is None else os.path.join(str(keep), "")
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if isinstance(file, str) and file.startswith(batches) and \
                (mine is None or not file.startswith(mine)):
            del sys.modules[name]


def grade_on_worker(plugin: str, name: str, notebook: bytes) -> dict:
    """The task: grade one submission with this worker's plugin; returns `to_dict(result)`."""
    worker = get_worker()
    if plugin not in worker.plugins:
        raise WorkerSetupError(f"worker {worker.address} has no grader plugin {plugin}")
    return worker.plugins[plugin].grade(name, notebook)


@dataclass(frozen=True, slots=True)
class DaskCluster:
    """A Dispatcher (see grader.run) that grades on the Dask scheduler at `address`, or on a
    LocalCluster of `workers` one-thread worker processes when `address` is "local"."""

    address: str
    workers: int = 1
    forge: bool = True
    """Fork kernels from a warm forge on workers that can (run as root)."""

    def __call__(self, jobs: list[Job], settings: Settings, packs: dict[str, Pack],
                 done: Done) -> None:
        plugin = GraderPlugin(settings, bundle_packs(packs, settings.pack_dirs),
                              forge=self.forge)
        with _client(self.address, self.workers) as client:
            _register(client, plugin)
            try:
                _Batch(client, self.address, plugin.name, settings, done).run(jobs)
            finally:
                _unregister(client, plugin.name)


@contextmanager
def _client(address: str, workers: int) -> Iterator[Client]:
    with _dask_logs(logging.CRITICAL), _connect(address, workers) as client:
        yield client


@contextmanager
def _dask_logs(level: int) -> Iterator[None]:
    """Dask's own log lines (tracebacks of a lost connection...) only repeat what the
    batch reports as errors that say what to do."""
    names = [n for n in list(logging.root.manager.loggerDict)
             if n == "distributed" or n.startswith("distributed.")]
    before = {n: logging.getLogger(n).level for n in {"distributed", *names}}
    for name in before:
        logging.getLogger(name).setLevel(level)
    try:
        yield
    finally:
        for name, was in before.items():
            logging.getLogger(name).setLevel(was)


@contextmanager
def _connect(address: str, workers: int) -> Iterator[Client]:
    if address == LOCAL:
        # Worker deaths a task may cause before it fails with KilledWorker (the scheduler
        # reads this when it starts); a remote scheduler needs it in its own environment.
        with dask.config.set({"distributed.scheduler.allowed-failures": MAX_CRASHES - 1}), \
                _sigint_ignored():
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   host="127.0.0.1", dashboard_address=None,
                                   silence_logs=logging.CRITICAL)
        with cluster, Client(cluster) as client:
            yield client
        return
    try:
        _refused(address)
        client = Client(address, timeout=CONNECT_SECONDS)
    except (OSError, TimeoutError, ValueError) as exc:
        raise ClusterError(f"cannot reach the Dask scheduler at {address} ({exc}); start one "
                           "with `dask scheduler` and pass the address it prints, or grade "
                           "on this machine with --scheduler local") from None
    try:
        yield client
    finally:
        _close(client)


def _refused(address: str) -> None:
    """Raises ConnectionRefusedError at once when nothing listens at a tcp:// address (Dask
    would retry it for CONNECT_SECONDS); other addresses and other outcomes are left to Dask."""
    if not address.startswith("tcp://"):
        return
    host, _, port = address[len("tcp://"):].rpartition(":")
    if not host or not port.isdigit():
        return
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=CONNECT_SECONDS).close()
    except ConnectionRefusedError:
        raise
    except OSError:
        return


@contextmanager
def _sigint_ignored() -> Iterator[None]:
    """Worker processes started meanwhile inherit an ignored SIGINT: Ctrl-C in a terminal
    reaches the whole process group, and only the client should handle it (it then closes
    the cluster), as with the process pool. Kernels get default dispositions back."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def _close(client: Client) -> None:
    try:
        client.close(timeout=5)
    except (OSError, TimeoutError):
        pass  # the scheduler is gone: nothing left to release


def _register(client: Client, plugin: GraderPlugin) -> None:
    try:
        client.register_plugin(plugin)
    except WorkerSetupError as exc:
        raise ClusterError(f"{exc}; fix that worker (see the README's \"Grading on a Dask "
                           "cluster\") or stop it, then run the same command again") from None


def _unregister(client: Client, name: str) -> None:
    if client.status != "running":
        return
    try:
        client.unregister_worker_plugin(name)
    except (OSError, TimeoutError, ValueError):
        pass  # closing the forges is the workers' business once the client is gone


@dataclass(slots=True)
class _Batch:
    """Keeps one submission per worker thread in flight, stores each result as it arrives,
    and gives up with a ClusterError when the cluster goes away.

    One, not more: Dask blames every task a dying worker holds, so a submission queued behind
    one that kills workers would be reported with it."""

    client: Client
    address: str
    plugin: str
    settings: Settings
    done: Done
    _idle_since: float | None = None
    _threads: tuple[float, int] = (0.0, 1)
    """(when, how many) worker threads the cluster had at the last look."""

    def run(self, jobs: list[Job]) -> None:
        queue = list(reversed(jobs))
        pending: dict[Future, Job] = {}
        self._fill(queue, pending)
        while pending:
            arrived = [self._take(fut, pending) for fut in self._wait(pending)]
            self._fill(queue, pending)  # first, so that workers need not wait for the storing
            for job, result in arrived:
                self.done(job, result)

    def _take(self, fut: Future, pending: dict[Future, Job]) -> tuple[Job, SubmissionResult]:
        job = pending.pop(fut)
        result = self._outcome(fut, job)
        fut.release()  # now, or a worker's death would have it graded again
        return job, result

    def _fill(self, queue: list[Job], pending: dict[Future, Job]) -> None:
        room = self._capacity() - len(pending)
        while queue and room > 0:
            job = queue.pop()
            try:
                notebook = read_bytes(job.source)
            except NotebookError as exc:
                self.done(job, self._error(job, f"the file cannot be read ({exc})"))
                continue
            fut = self.client.submit(grade_on_worker, self.plugin, job.name, notebook,
                                     key=f"grade-{job.name}-{uuid.uuid4().hex}")
            pending[fut] = job
            room -= 1

    def _capacity(self) -> int:
        """The cluster's worker threads, asked of the scheduler at most every POLL_SECONDS."""
        when, threads = self._threads
        if time.monotonic() - when > POLL_SECONDS:
            threads = max(1, sum(self.client.nthreads().values()))
            self._threads = (time.monotonic(), threads)
        return threads

    def _wait(self, pending: dict[Future, Job]) -> set[Future]:
        """The futures that finish within POLL_SECONDS (often none)."""
        try:
            finished = wait(list(pending), timeout=POLL_SECONDS,
                            return_when="FIRST_COMPLETED").done
        except TimeoutError:
            finished = set()
        except FuturesCancelledError:  # the client lost the scheduler: Dask cancelled them all
            raise self._lost() from None
        if self.client.status not in ("running", "connecting"):
            raise self._lost()
        if not finished:
            self._check_workers()
        return finished

    def _check_workers(self) -> None:
        if self.client.status == "running" and self.client.nthreads():
            self._idle_since = None
            return
        self._idle_since = self._idle_since or time.monotonic()
        if time.monotonic() - self._idle_since > NO_WORKER_SECONDS:
            raise ClusterError(f"the Dask cluster at {self.address} has had no worker for "
                               f"{NO_WORKER_SECONDS:.0f} s; start workers (`dask worker "
                               f"{self.address}`) and run the same command again (finished "
                               "results are stored)")

    def _outcome(self, fut: Future, job: Job) -> SubmissionResult:
        if fut.status == "finished":
            return from_dict(fut.result())
        if fut.status == "cancelled":
            raise self._lost()
        exc = fut.exception()
        if isinstance(exc, KilledWorker):
            return crashed_result(job, self.settings)
        return self._error(job, f"the Dask worker could not grade it ({type(exc).__name__}: "
                                f"{exc}); run the same command again to retry it")

    def _error(self, job: Job, message: str) -> SubmissionResult:
        return error_result(job.name, str(job.path), message, seed=self.settings.seed,
                            grader_version=__version__, sandbox=self.settings.sandbox.kind)

    def _lost(self) -> ClusterError:
        return ClusterError(f"lost the Dask scheduler at {self.address}; finished results are "
                            "stored: restart the scheduler and its workers and run the same "
                            "command again to grade the rest")
