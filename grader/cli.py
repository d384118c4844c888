"""The `grader` command: grade, check, list, award."""

from __future__ import annotations

import difflib
import os
import secrets
import sys
from pathlib import Path

import click

from . import __version__
from .discover import NothingToGrade, collect
from .gradebook import FILENAME, Gradebook, GradebookError
from .kernels import choose, open_backend
from .limits import GIB, MIB, Limits
from .packs import Pack, PackError, default_pack_dirs, discover
from .pipeline import Grader
from .results import SubmissionResult
from .run import Dispatcher, DispatchError, ProcessPool, Settings, grade_batch, resolve_seed
from .sandbox import SandboxUnavailable, detect_sandbox
from .writers import write_run, write_submission


def _packs() -> dict[str, Pack]:
    try:
        return discover(default_pack_dirs())
    except PackError as exc:
        raise click.ClickException(f"a pack is broken: {exc}") from None


def _pick_pack(packs: dict[str, Pack], pack: str | None, exercise: str | None) -> str | None:
    if exercise is not None:
        click.secho("grader: --exercise is now called --pack", fg="yellow", err=True)
    name = pack or exercise
    if name is not None and name not in packs:
        known = ", ".join(sorted(packs)) or "none installed"
        raise click.UsageError(f"unknown pack {name!r}; installed packs: {known}")
    return name


def pack_options(f):
    f = click.option("--exercise", hidden=True, help="Old name of --pack.")(f)
    return click.option("--pack", "pack",
                        help="Pack to grade with (default: the notebook's, else the only one)."
                        )(f)


def _size(text: str) -> int:
    units = {"k": 1024, "m": MIB, "g": GIB}
    t = text.strip().lower().rstrip("ib").rstrip("b")
    try:
        if t and t[-1] in units:
            return int(float(t[:-1]) * units[t[-1]])
        return int(t)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a size such as 4G or 512M") from None


def limit_options(f):
    opts = [
        click.option("--timeout", type=click.FloatRange(min=0, min_open=True), default=30.0,
                     show_default=True, help="Wall-clock seconds each cell may run."),
        click.option("--notebook-timeout", type=click.FloatRange(min=0, min_open=True),
                     default=600.0, show_default=True,
                     help="Wall-clock seconds for a whole submission."),
        click.option("--memory", default="4G", show_default=True,
                     help="Memory limit of a submission's kernel."),
        click.option("--cpu-time", type=click.IntRange(min=1), default=600, show_default=True,
                     help="CPU seconds a submission's kernel may use."),
        click.option("--max-processes", type=click.IntRange(min=8), default=256,
                     show_default=True, help="Processes and threads a kernel may have."),
        click.option("--max-file-size", default="64M", show_default=True,
                     help="Largest file a kernel may write."),
        click.option("--max-output", type=click.IntRange(min=100), default=4000,
                     show_default=True, help="Characters of each cell's output kept."),
        click.option("--no-sandbox", is_flag=True,
                     help="Run student code WITHOUT isolation (only for code you trust)."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def _limits(kw: dict) -> Limits:
    return Limits(memory_bytes=_size(kw["memory"]), cpu_seconds=kw["cpu_time"],
                  cell_timeout=kw["timeout"], notebook_timeout=kw["notebook_timeout"],
                  processes=kw["max_processes"], file_bytes=_size(kw["max_file_size"]),
                  output_chars=kw["max_output"])


def _sandbox(no_sandbox: bool):
    try:
        box = detect_sandbox(enabled=not no_sandbox)
    except SandboxUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    if not box.isolated:
        click.secho("WARNING: --no-sandbox: student code runs without isolation.", fg="red",
                    err=True)
    return box


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Grade Jupyter notebook exercises safely: student code runs in a sandboxed kernel, and
    each pack's checks judge the answers outside it."""


@main.command("list")
def list_packs() -> None:
    """List the installed exercise packs with their questions and points."""
    packs = _packs()
    if not packs:
        click.echo("No exercise packs installed (looked in exercises/ and $GRADER_PACKS).")
        return
    for pack in packs.values():
        click.echo(f"{pack.name}: {pack.title} ({pack.auto_points:g} automatic points"
                   + (f", {sum(w.points for w in pack.written):g} for written answers)"
                      if pack.written else ")"))
        for q in pack.questions:
            written = [w for w in pack.written if w.question == q.id]
            extra = f" + {sum(f.points for f in written):g} written" if written else ""
            click.echo(f"  {q.id:<5} {q.points:>4g} pts{extra:<12}  {q.title}")


@main.command()
@click.argument("paths", nargs=-1, required=True,
                type=click.Path(exists=True, path_type=Path))
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for the reports, results.json files, grades.csv, index.html and "
                   "the gradebook.")
@pack_options
@click.option("--seed", type=click.IntRange(min=0),
              help="Seed of the random inputs (default: the gradebook's, else a new one).")
@click.option("--workers", type=click.IntRange(min=1), default=os.cpu_count() or 1,
              show_default=True,
              help="Submissions graded in parallel (with --scheduler local: Dask workers).")
@click.option("--scheduler", metavar="ADDRESS",
              help="Grade on a Dask cluster: its scheduler's address (tcp://HOST:PORT), or "
                   "'local' to start one on this machine with --workers worker processes. "
                   "Default: --workers processes on this machine, without Dask.")
@click.option("--regrade", is_flag=True,
              help="Grade everything again, even results the gradebook already holds.")
@click.option("--quiet", "-q", is_flag=True, help="No progress output.")
@click.option("--no-forge", is_flag=True,
              help="Start every kernel from scratch instead of forking it from a warm, jailed "
                   "process (slower; the isolation is the same).")
@limit_options
def grade(paths: tuple[Path, ...], out: Path, pack: str | None, exercise: str | None,
          seed: int | None, workers: int, scheduler: str | None, regrade: bool, quiet: bool,
          no_forge: bool, **kw) -> None:
    """Grade notebooks (files, or folders searched for *.ipynb) into --out.

    Results are kept in --out/gradebook.sqlite as they come: running the same command again
    after an interruption grades only what is missing or whose file changed."""
    packs = _packs()
    pack = _pick_pack(packs, pack, exercise)
    try:
        jobs = collect(list(paths))
    except NothingToGrade as exc:
        raise click.UsageError(str(exc)) from None
    limits = _limits(kw)
    box = _sandbox(kw["no_sandbox"])
    try:
        with Gradebook(out / FILENAME) as book:
            seed = resolve_seed(book, seed, lambda: secrets.randbelow(2**31))
    except GradebookError as exc:
        raise click.ClickException(str(exc)) from None
    settings = Settings(tuple(str(d) for d in default_pack_dirs()), box,
                        choose(box, forge=not no_forge), limits, pack, seed)
    log = (lambda line: None) if quiet else (lambda line: click.echo(line, err=True))
    try:
        summary = grade_batch(jobs, out, settings, packs,
                              dispatch=_dispatcher(scheduler, workers, forge=not no_forge),
                              regrade=regrade, report=log,
                              progress=not quiet and sys.stderr.isatty())
    except KeyboardInterrupt:
        click.echo("Interrupted: finished results are in the gradebook; run the same command "
                   "again to grade the rest.", err=True)
        sys.exit(130)
    except (SandboxUnavailable, DispatchError) as exc:
        raise click.ClickException(str(exc)) from None
    reused = f", {summary.reused} unchanged since the last run" if summary.reused else ""
    click.echo(f"Graded {summary.graded} submissions in {summary.seconds:.1f} s{reused}; "
               f"{summary.errors} could not be graded (seed {seed}). "
               f"Overview: {out / 'index.html'}")
    sys.exit(1 if summary.errors else 0)


def _dispatcher(scheduler: str | None, workers: int, *, forge: bool) -> Dispatcher:
    if scheduler is None:
        return ProcessPool(workers)
    from .cluster import DaskCluster  # imports Dask, which the process pool does not need
    return DaskCluster(scheduler, workers, forge)


@main.command()
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("submission")
@click.argument("question")
@click.argument("points", type=float)
@click.option("--comment", default="", help="Feedback shown to the student with the points.")
def award(out_dir: Path, submission: str, question: str, points: float, comment: str) -> None:
    """Award POINTS for the written answer to QUESTION (a question id such as 1.1, or the
    answer cell's tag) of SUBMISSION, as named in OUT_DIR's grades.csv."""
    try:
        book = Gradebook.open_existing(out_dir)
    except GradebookError as exc:
        raise click.UsageError(str(exc)) from None
    with book:
        result = book.result(submission)
        if result is None:
            close = ", ".join(difflib.get_close_matches(submission, book.names(), n=3))
            raise click.UsageError(f"no submission named {submission!r} in {out_dir}"
                                   + (f"; did you mean: {close}" if close else ""))
        items = [w for q in result.questions for w in q.written
                 if question in (w.question, w.tag)]
        if not items:
            written = sorted({f"{w.question} ({w.tag})" for q in result.questions for w in q.written})
            raise click.UsageError(f"{submission} has no written answer for {question!r}; "
                                   f"written answers: {', '.join(written) or 'none'}")
        if len(items) > 1:
            raise click.UsageError(f"question {question} has several written answers; name one "
                                   f"by its tag: {', '.join(m.tag for m in items)}")
        item = items[0]
        if not 0 <= points <= item.max_points:
            raise click.UsageError(f"points must be between 0 and {item.max_points:g} for "
                                   f"{item.tag}")
        book.award(submission, item.question, item.tag, points, comment)
        updated = book.result(submission)
        write_submission(out_dir, updated)
        write_run(out_dir, book.results())
    click.echo(f"{submission} {item.tag}: {points:g}/{item.max_points:g}; total now "
               f"{updated.score:g}/{updated.max_score:g}")


@main.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pack_options
@click.option("--seed", type=click.IntRange(min=0), help="Seed of the random inputs.")
@limit_options
def check(notebook: Path, pack: str | None, exercise: str | None, seed: int | None,
          **kw) -> None:
    """Check your own notebook before handing it in. Exits 0 only when every automatically
    graded check passes."""
    packs = _packs()
    pack = _pick_pack(packs, pack, exercise)
    box = _sandbox(kw["no_sandbox"])
    seed = secrets.randbelow(2**31) if seed is None else seed
    limits = _limits(kw)
    try:
        backend = open_backend(choose(box, forge=False), box, limits)
    except SandboxUnavailable as exc:
        raise click.ClickException(str(exc)) from None
    try:
        click.echo(f"Running {notebook} in a fresh kernel...", err=True)
        result = Grader(packs, backend, limits, pack).grade(notebook, seed)
    finally:
        backend.close()
    click.echo(format_check(result, color=sys.stdout.isatty()))
    sys.exit(0 if result.all_checks_pass else 1)


def format_check(r: SubmissionResult, *, color: bool = False) -> str:
    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if color else text

    if r.status != "graded":
        return style(f"Could not grade {r.path}: {r.error}", fg="red")
    lines = [f"{r.path} (pack {r.pack}, seed {r.seed})", ""]
    for q in r.questions:
        mark = style("PASS", fg="green") if q.passed else style("FAIL", fg="red")
        lines.append(f"{mark} {q.id:<5} {q.title}  [{q.auto_score:.3g}/{q.auto_max:.3g}]")
        shown: set[str] = set()
        for c in q.checks:
            o = c.outcome
            if o.passed and o.feedback:
                lines.append(f"       note: {o.feedback}")
            if o.passed or o.feedback in shown:
                continue
            shown.add(o.feedback)
            lines.append(f"       - {o.feedback}")
            for label, value in (("input", o.inputs), ("your answer", o.answer),
                                 ("expected", o.expected)):
                if value:
                    text = value.replace("\n", "\n" + " " * (10 + len(label)))
                    lines.append(f"         {label}: {text}")
            if o.hint:
                lines.append(f"         hint: {o.hint}")
        for w in q.written:
            state = "not answered" if w.text is None else "answered; graded by your instructor"
            lines.append(f"       written answer ({w.tag}): {state}")
    bad = [c for c in r.cells if c.status != "ok"]
    if bad:
        lines += ["", "Cells that did not run cleanly:"]
        for c in bad:
            lines.append(f"  cell {c.index + 1}: {c.status}" + (f" - {c.ename}: {c.evalue}" if c.ename else ""))
    for e in r.events:
        lines.append(f"  {e}")
    auto = sum(q.auto_score for q in r.questions)
    auto_max = sum(q.auto_max for q in r.questions)
    lines += ["", f"Automatic score: {auto:.4g}/{auto_max:.4g}"
              + (f"; {r.pending_written:g} points of written answers are graded by your instructor."
                 if r.pending_written else "")]
    lines.append(style("All automatic checks pass." if r.all_checks_pass else
                       "Some checks fail: see above.", fg="green" if r.all_checks_pass else "red"))
    return "\n".join(lines)
