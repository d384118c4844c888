"""Grade a batch: in parallel worker processes (or with another Dispatcher, such as
grader.cluster's Dask cluster), each result stored in the gradebook and written out the moment
it is known, with progress shown; a re-run grades only what is missing or changed."""

from __future__ import annotations

import ctypes
import datetime as dt
import hashlib
import multiprocessing
import multiprocessing.util
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from . import __version__
from .discover import Job
from .gradebook import FILENAME, Gradebook
from .judge import run_checks
from .kernels import open_backend
from .limits import Limits
from .notebook import NotebookError, file_digest
from .packs import Pack, PackError, choose, load_pack
from .pipeline import Grader, not_graded
from .results import SubmissionResult, error_result
from .sandbox import Sandbox
from .writers import STUDENT_REPORT, write_run, write_submission


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything a worker needs to grade; plain data so it can be sent to worker processes."""

    pack_dirs: tuple[str, ...]
    sandbox: Sandbox
    backend: str
    """The kernel backend (a key of grader.kernels.BACKENDS), chosen once for the run."""
    limits: Limits
    pack: str | None
    seed: int
    extra_packs: tuple[str, ...] = ()
    """Pack folders named on the command line (`--pack PATH`), besides those in pack_dirs."""
    student_reports: bool = False
    """Also write each submission's student-report.html."""
    mode: str = "auto"
    """template, freeform or auto (grader.freeform.choose_mode)."""


@dataclass(frozen=True, slots=True)
class Summary:
    graded: int
    reused: int
    errors: int
    seconds: float


def fingerprint(settings: Settings, packs: dict[str, Pack]) -> str:
    """What a stored result depends on besides the notebook: the packs' files, the seed, the
    limits and the grader's version."""
    h = hashlib.sha256()
    h.update(f"{__version__}|{settings.seed}|{settings.pack}|{settings.mode}|"
             f"{asdict(settings.limits)}|"
             f"{settings.sandbox.kind}|{settings.backend}".encode())
    for name in sorted(packs):
        pack = packs[name]
        for root in pack.sources:
            files = [root] if root.is_file() else sorted(
                p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts)
            for f in files:
                h.update(str(f.name).encode())
                h.update(f.read_bytes())
    return h.hexdigest()


def resolve_seed(book: Gradebook, requested: int | None, fresh: Callable[[], int]) -> int:
    if requested is not None:
        return requested
    stored = book.get("seed")
    return int(stored) if stored is not None else fresh()


class DispatchError(RuntimeError):
    """Where the batch was being graded went away (finished results are stored); the message
    says what to do."""


Done = Callable[[Job, SubmissionResult], None]
"""Takes each result the moment it is known and stores it (files, then the gradebook row)."""


class Dispatcher(Protocol):
    """Where a batch is graded: grades `jobs` with `settings` and hands each result to `done`
    as it arrives, from the calling thread."""

    def __call__(self, jobs: list[Job], settings: Settings, packs: dict[str, Pack],
                 done: Done) -> None: ...


@dataclass(frozen=True, slots=True)
class ProcessPool:
    """The default dispatcher: `workers` grader processes on this machine."""

    workers: int

    def __call__(self, jobs: list[Job], settings: Settings, packs: dict[str, Pack],
                 done: Done) -> None:
        _dispatch(jobs, settings, self.workers, done)


@dataclass(slots=True)
class _Recorder:
    """Stores each result the moment it arrives, whichever dispatcher graded it, then shows
    it on the progress bar or as one line."""

    out: Path
    book: Gradebook
    fingerprint: str
    digests: dict[str, str]
    report: Callable[[str], None]
    bar: Any
    errors: int = 0

    def __call__(self, job: Job, result: SubmissionResult) -> None:
        result = replace(result, submission=job.name, path=str(job.path), events=(
            *result.events, *(f"This file is also submitted as {t} (a link to the same "
                              "file): both are graded." for t in job.twins)))
        # Files first, then the gradebook: a result the gradebook holds is always on disk.
        write_submission(self.out, self.book.with_awards(result))
        self.book.store(result, self.fingerprint, self.digests.get(job.name, ""))
        self.errors += result.status != "graded"
        pending = f" ({result.pending_written:g} pending)" if result.pending_written else ""
        line = (f"{job.name}: {result.score:g}/{result.max_score:g}{pending}"
                if result.status == "graded" else f"{job.name}: NOT GRADED ({result.error})")
        if self.bar is not None:
            self.bar.set_postfix_str(line[:60], refresh=False)
            self.bar.update(1)
        else:
            self.report(line)


def grade_batch(jobs: list[Job], out: Path, settings: Settings, packs: dict[str, Pack], *,
                dispatch: Dispatcher, regrade: bool, report: Callable[[str], None],
                progress: bool) -> Summary:
    """Grade `jobs` into `out` with `dispatch` (e.g. ProcessPool(workers)). `report` receives
    one line per finished submission when `progress` is off (a progress bar is drawn instead
    when it is on)."""
    started = time.monotonic()
    out.mkdir(parents=True, exist_ok=True)
    book = Gradebook(out / FILENAME)
    try:
        book.set("seed", str(settings.seed))
        fp = fingerprint(settings, packs)
        todo, reused, unreadable = [], 0, 0
        refused = [job for job in jobs if job.refusal]
        digests = {job.name: _digest(job.source) for job in jobs if job.source is not None}
        for job in jobs:
            if job.refusal:
                continue
            state = book.state(job.name, digests[job.name], fp)
            if state == "current" and not regrade:
                reused += 1
                if book.relocate(job.name, str(job.path)):  # renamed, same content
                    write_submission(out, book.result(job.name))
            else:
                todo.append(job)
                unreadable += state == "unreadable"
        if unreadable:
            report(f"{unreadable} stored results were written in a format this grader cannot "
                   "read; grading those submissions again")
        bar = _bar(len(todo) + len(refused), 0, progress)
        if reused and not progress:
            report(f"{reused} submissions unchanged since the last run; grading {len(todo)}")
        done = _Recorder(out, book, fp, digests, report, bar)
        try:
            for job in refused:
                done(job, _refused(job, settings, packs))
            if todo:
                dispatch(todo, settings, packs, done)
        finally:
            if bar is not None:
                bar.close()
        results = book.results()
        names = {j.name for j in jobs}
        fresh = {j.name for j in todo} | {j.name for j in refused}
        errors = done.errors + sum(r.status != "graded" for r in results
                                   if r.submission in names and r.submission not in fresh)
        write_run(out, results, book.roster())
        if settings.student_reports:
            for r in results:
                if r.submission in names:
                    write_submission(out, r, (STUDENT_REPORT,))
    finally:
        book.close()
    return Summary(len(todo) + len(refused), reused, errors, time.monotonic() - started)


def _digest(path: Path) -> str:
    try:
        return file_digest(path)
    except NotebookError:  # graded as unreadable; its content hash does not matter
        return ""


def _bar(total: int, initial: int, enabled: bool):
    if not enabled:
        return None
    from tqdm import tqdm
    try:
        sized = os.get_terminal_size(sys.stderr.fileno()).columns > 0
    except OSError:
        sized = False
    # A terminal that reports no width (some CI ptys) gets a fixed-width bar.
    return tqdm(total=total, initial=initial, unit="nb", file=sys.stderr, desc="grading",
                smoothing=0.1, dynamic_ncols=sized, ncols=None if sized else 100,
                nrows=None if sized else 20)


def _dispatch(jobs: list[Job], settings: Settings, workers: int, done: Done) -> None:
    if not jobs:
        return
    workers = max(1, min(workers, len(jobs)))
    if workers == 1:
        grader = make_grader(settings)
        try:
            for job in jobs:
                done(job, grader.grade(job.source, settings.seed))
        finally:
            _close(grader)
        return
    queue = list(reversed(jobs))
    crashes: dict[str, int] = {}
    while queue:  # each round is one pool; a broken pool leaves the rest for the next
        queue = _pool_round(queue, settings, workers, done, crashes)


def _pool_round(queue: list[Job], settings: Settings, workers: int, done: Done,
                crashes: dict[str, int]) -> list[Job]:
    """Grade from `queue` until it is empty or the pool breaks; returns what is left."""
    ctx = multiprocessing.get_context("spawn")
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_worker_init,
                               initargs=(settings,))
    pending: dict[Future, Job] = {}
    broken = False
    try:
        while (queue or pending) and not broken:
            while queue and len(pending) < workers * 2 and not broken:
                job = queue.pop()
                try:
                    pending[pool.submit(_worker_grade, str(job.source))] = job
                except BrokenProcessPool:
                    queue.append(job)
                    broken = True
            if not pending:
                break
            finished, _ = wait(pending, return_when=FIRST_COMPLETED)
            for fut in finished:
                job = pending.pop(fut)
                try:
                    done(job, fut.result())
                except BrokenProcessPool:
                    broken = True
                    pending[fut] = job
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in list((getattr(pool, "_processes", None) or {}).values()):
            proc.terminate()
        raise
    if not broken:
        # Workers close their forges while the caller writes the overview; Python joins
        # them before it exits.
        pool.shutdown(wait=False)
        return queue
    pool.shutdown(wait=False, cancel_futures=True)
    for job in pending.values():  # lost with the pool: retry, up to a point
        crashes[job.name] = crashes.get(job.name, 0) + 1
        if crashes[job.name] < MAX_CRASHES:
            queue.append(job)
        else:
            done(job, crashed_result(job, settings))
    return queue


MAX_CRASHES = 3
"""A submission in flight when a worker died this many times is reported as an error."""


def _refused(job: Job, settings: Settings, packs: dict[str, Pack]) -> SubmissionResult:
    return not_graded(_default_pack(packs, settings), f"not graded: {job.refusal}",
                      submission=job.name, path=str(job.path), seed=settings.seed,
                      run_seed=settings.seed, grader_version=__version__,
                      sandbox=settings.sandbox.kind, graded_at=_now())


def _default_pack(packs: dict[str, Pack], settings: Settings) -> Pack | None:
    try:
        return choose(packs, settings.pack, None)
    except PackError:
        return None


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def crashed_result(job: Job, settings: Settings) -> SubmissionResult:
    """The result of a submission that was being graded each time a worker died."""
    return error_result(
        job.name, str(job.path), "the grader's worker process died while grading this "
        "submission, three times (out of memory?); run the same command again to retry it",
        seed=settings.seed, run_seed=settings.seed, grader_version=__version__,
        sandbox=settings.sandbox.kind, graded_at=_now())


def make_grader(settings: Settings) -> Grader:
    """A worker's Grader: the packs of `settings.pack_dirs` and a kernel backend opened for
    it (close it with `grader.backend.close()`)."""
    from .packs import discover
    packs = discover([Path(p) for p in settings.pack_dirs])
    for folder in settings.extra_packs:
        pack = load_pack(Path(folder))
        packs[pack.name] = pack
    # While the backend starts (a forge imports torch in its own process), load each pack's
    # checks and reference here (a dry run on no answers): the first submission need not.
    warm = threading.Thread(target=_warm_up, args=(packs, settings.seed), daemon=True)
    warm.start()
    backend = open_backend(settings.backend, settings.sandbox, settings.limits,
                           preload=preloads(packs, settings.pack))
    warm.join()
    return Grader(packs, backend, settings.limits, settings.pack, settings.mode)


def preloads(packs: dict[str, Pack], name: str | None) -> tuple[str, ...]:
    """What the forge imports for this run: the chosen pack's `preload`, else every pack's (a
    notebook may name any of them)."""
    chosen = [packs[name]] if name in packs else list(packs.values())
    return tuple(dict.fromkeys(m for pack in chosen for m in pack.preload))


def _warm_up(packs: dict, seed: int) -> None:
    for pack in packs.values():
        try:
            run_checks(pack, {}, seed)
        except Exception:  # noqa: BLE001 - only a head start; real runs report problems
            pass


def _close(grader: Grader) -> None:
    grader.backend.close()


# The one piece of module state: a worker process's own Grader, set by its initializer.
_WORKER: dict[str, object] = {}


def _worker_init(settings: Settings) -> None:
    # A worker must not outlive the grader that started it (kill -9 included); its kernels
    # die with it through bwrap's --die-with-parent.
    try:
        ctypes.CDLL("libc.so.6").prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except OSError:
        pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))
    grader = make_grader(settings)
    # Pool workers skip atexit; Finalize runs when the pool shuts the worker down.
    multiprocessing.util.Finalize(None, _close, args=(grader,), exitpriority=10)
    _WORKER.update(grader=grader, seed=settings.seed)


def _worker_grade(path: str) -> SubmissionResult:
    grader: Grader = _WORKER["grader"]  # type: ignore[assignment]
    return grader.grade(Path(path), _WORKER["seed"])  # type: ignore[arg-type]
