"""The `grader` command: grade, check, list, award."""

from __future__ import annotations

import difflib
import os
import secrets
import sys
from pathlib import Path

import click

from . import __version__, lms
from . import awards as written
from .discover import NameClash, NothingToGrade, collect
from .dist import DistError
from .dist import build as build_dist
from .environment import problem as environment_problem
from .freeform import MODES
from .gradebook import FILENAME, Gradebook, GradebookError
from .gradescope import run as run_gradescope
from .kernels import choose, open_backend
from .limits import GIB, MIB, Limits
from .packs import Pack, PackError, default_pack_dirs, discover, load_pack, public_view
from .pipeline import Grader
from .results import SubmissionResult, answer_id
from .roster import Roster, RosterError, read_roster
from .run import Dispatcher, DispatchError, ProcessPool, Settings, grade_batch, resolve_seed
from .sandbox import SandboxUnavailable, detect_sandbox
from .writers import write_junit, write_run, write_submission

ENGINE_ROOT = Path(__file__).resolve().parent.parent
"""The project's folder (its pyproject.toml and grader/), which `grader dist` bundles."""


def _packs() -> dict[str, Pack]:
    try:
        return discover(default_pack_dirs())
    except PackError as exc:
        raise click.ClickException(f"a pack is broken: {exc}") from None


def _pick_pack(packs: dict[str, Pack], pack: str | None,
               exercise: str | None) -> tuple[str | None, Path | None]:
    """The pack asked for: (its name, its folder when given as a path). A path is loaded and
    added to `packs`."""
    if exercise is not None:
        click.secho("grader: --exercise is now called --pack", fg="yellow", err=True)
    name = pack or exercise
    if name is None:
        return None, None
    folder = Path(name)
    if (folder / "pack.toml").is_file():
        try:
            loaded = load_pack(folder)
        except PackError as exc:
            raise click.UsageError(f"the pack {folder} is broken: {exc}") from None
        packs[loaded.name] = loaded
        return loaded.name, folder.resolve()
    if name not in packs:
        known = ", ".join(sorted(packs)) or "none installed"
        hint = " (a folder given as --pack must hold a pack.toml)" if folder.exists() else ""
        raise click.UsageError(f"unknown pack {name!r}{hint}; installed packs: {known}")
    return name, None


def pack_options(f):
    f = click.option("--exercise", hidden=True, help="Old name of --pack.")(f)
    return click.option("--pack", "pack",
                        help="The pack: an installed pack's name, or a pack's folder (default: "
                             "the one the notebook names, else the only one installed).")(f)


def mode_option(f):
    return click.option(
        "--mode", type=click.Choice(MODES), default="auto", show_default=True,
        help="template: answers by the template's names; freeform: answers found wherever the "
             "notebook shows them (for notebooks that do not follow the template); auto: "
             "template when the notebook names a pack in its metadata or defines most of the "
             "template's names, else freeform (when the pack supports it).")(f)


def _require_environment(packs: dict[str, Pack], name: str | None) -> None:
    """Refuse to start when a pack the run may use lacks its kernel modules."""
    for pack in ([packs[name]] if name in packs else packs.values()):
        problem = environment_problem(pack.name, pack.requires)
        if problem:
            raise click.ClickException(problem)


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
        click.option("--max-cells", type=click.IntRange(min=1), default=2000,
                     show_default=True, help="Cells a notebook may have to be graded."),
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
                  output_chars=kw["max_output"], max_cells=kw["max_cells"])


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
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="CSV of the class (submission or folder, student id, name, email); kept in "
                   "the gradebook for later runs and exports.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the run as JUnit XML to this file (for CI test reporters).")
@click.option("--student-reports", is_flag=True,
              help="Also write student-report.html per submission: the report to hand back, "
                   "without model answers, hidden checks' details or the seed.")
@mode_option
@limit_options
def grade(paths: tuple[Path, ...], out: Path, pack: str | None, exercise: str | None,
          seed: int | None, workers: int, scheduler: str | None, regrade: bool, quiet: bool,
          no_forge: bool, roster: Path | None, junit: Path | None, student_reports: bool,
          mode: str, **kw) -> None:
    """Grade notebooks (files, or folders searched for *.ipynb) into --out.

    Results are kept in --out/gradebook.sqlite as they come: running the same command again
    after an interruption grades only what is missing or whose file changed."""
    packs = _packs()
    pack, pack_folder = _pick_pack(packs, pack, exercise)
    _require_environment(packs, pack)
    try:
        jobs = collect(list(paths))
    except (NothingToGrade, NameClash) as exc:
        raise click.UsageError(str(exc)) from None
    limits = _limits(kw)
    box = _sandbox(kw["no_sandbox"])
    class_roster = _roster(roster)
    try:
        with Gradebook(out / FILENAME) as book:
            seed = resolve_seed(book, seed, lambda: secrets.randbelow(2**31))
            if class_roster is not None:
                book.set_roster(class_roster)
            class_roster = book.roster()
    except GradebookError as exc:
        raise click.ClickException(str(exc)) from None
    if class_roster is not None and not quiet:
        strangers = [j.name for j in jobs if class_roster.find(j.name) is None]
        if strangers:
            click.echo(f"Not on the roster (graded all the same): {', '.join(strangers)}",
                       err=True)
    settings = Settings(tuple(str(d) for d in default_pack_dirs()), box,
                        choose(box, forge=not no_forge), limits, pack, seed,
                        extra_packs=(str(pack_folder),) if pack_folder else (),
                        student_reports=student_reports, mode=mode)
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
    if junit is not None:
        with Gradebook(out / FILENAME) as book:
            names = {j.name for j in jobs}
            write_junit(junit, [r for r in book.results() if r.submission in names])
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
        if item.state == "blank":
            raise click.UsageError(f"{submission}'s answer {item.tag} is blank: it scores 0 "
                                   "by itself")
        if not 0 <= points <= item.max_points:
            raise click.UsageError(f"points must be between 0 and {item.max_points:g} for "
                                   f"{item.tag}")
        book.award(submission, item.question, item.tag, points, comment, answer_id(item.text))
        updated = book.result(submission)
        write_submission(out_dir, updated)
        write_run(out_dir, book.results(), book.roster())
    click.echo(f"{submission} {item.tag}: {points:g}/{item.max_points:g}; total now "
               f"{updated.score:g}/{updated.max_score:g}")


def _roster(path: Path | None) -> Roster | None:
    if path is None:
        return None
    try:
        return read_roster(path)
    except RosterError as exc:
        raise click.UsageError(str(exc)) from None


def _open_book(out_dir: Path) -> Gradebook:
    try:
        return Gradebook.open_existing(out_dir)
    except GradebookError as exc:
        raise click.UsageError(str(exc)) from None


@main.group()
def awards() -> None:
    """Grade the written answers of a whole class in a spreadsheet."""


@awards.command("export")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("-o", "--output", "dest", required=True, type=click.Path(dir_okay=False,
              path_type=Path), help="The CSV file to write (open it in a spreadsheet).")
def awards_export(out_dir: Path, dest: Path) -> None:
    """Write one row per (submission, written answer) of OUT_DIR: the student's answer, the
    model answer, points possible, and the points and comment to fill in."""
    with _open_book(out_dir) as book:
        text = written.export_rows(book.results(), book.roster())
    dest.write_text(text, encoding="utf-8", newline="")
    rows = text.count("\r\n") - 1
    click.echo(f"Wrote {rows} written answers to {dest}; fill in `points` (and `comment`), "
               f"then: grader awards import {out_dir} {dest}")


@awards.command("import")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def awards_import(out_dir: Path, source: Path) -> None:
    """Apply the points and comments of an edited awards file. Rows that name no written
    answer, give points out of range, or whose answer changed since the export are reported
    and skipped; the others are applied together. Exits 1 when a row was skipped."""
    try:
        text = source.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.UsageError(f"cannot read {source}: {exc}; save it as UTF-8 CSV") from None
    with _open_book(out_dir) as book:
        try:
            plan = written.plan_import(text, book.results())
        except written.AwardsFileError as exc:
            raise click.UsageError(f"{source}: {exc}") from None
        written.apply(book, plan.applied)
        changed = {a.submission for a in plan.applied}
        results = book.results()
        for r in results:
            if r.submission in changed:
                write_submission(out_dir, r)
        write_run(out_dir, results, book.roster())
    for line in plan.skipped:
        click.echo(f"skipped {line}", err=True)
    click.echo(f"Applied {len(plan.applied)} awards; {len(plan.skipped)} rows skipped; "
               f"{plan.left} left without points.")
    sys.exit(1 if plan.skipped else 0)


@main.command("export")
@click.argument("out_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--format", "fmt", type=click.Choice(lms.FORMATS), required=True,
              help="The gradebook import format of the LMS.")
@click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The class roster (default: the one the grade command was given).")
@click.option("--assignment", help="The assignment's title in the LMS (default: the pack's).")
@click.option("-o", "--output", "dest", required=True,
              type=click.Path(dir_okay=False, path_type=Path), help="The CSV file to write.")
def export(out_dir: Path, fmt: str, roster: Path | None, assignment: str | None,
           dest: Path) -> None:
    """Write OUT_DIR's scores for import into Canvas, Moodle, or as a plain CSV."""
    with _open_book(out_dir) as book:
        results = book.results()
        class_roster = _roster(roster) or book.roster()
    packs = _packs()
    used = {r.pack for r in results if r.pack}
    if len(used) > 1:
        raise click.UsageError(f"{out_dir} holds results of several packs ({', '.join(used)}); "
                               "export one folder per assignment")
    pack = packs.get(next(iter(used))) if used else None
    total = (pack.auto_points + sum(w.points for w in pack.written)) if pack else max(
        (r.max_score for r in results), default=0.0)
    try:
        text = lms.export(fmt, results, class_roster, points_possible=total,
                          assignment=assignment or (pack.title if pack else "Notebook"))
    except lms.ExportError as exc:
        raise click.UsageError(str(exc)) from None
    dest.write_text(text, encoding="utf-8", newline="")
    left_out = lms.unmatched(results, class_roster) if fmt in ("moodle", "canvas") else []
    if class_roster is None and fmt == "canvas":
        click.echo("No roster: students are named by submission only; Canvas matches them by "
                   "name (pass --roster with SIS ids to match by id).", err=True)
    if left_out:
        click.echo(f"Not on the roster, left out: {', '.join(left_out)}", err=True)
    click.echo(f"Wrote {fmt} gradebook of {len(results)} submissions (out of {total:g} points) "
               f"to {dest}")


CHECK_OK, CHECK_FAILED, CHECK_USAGE, CHECK_NOT_GRADED = 0, 1, 2, 3
"""`grader check`'s exit statuses."""


@main.command()
@click.argument("notebook", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pack_options
@click.option("--question", help="Check only this question (e.g. 2.1).")
@click.option("--seed", type=click.IntRange(min=0), help="Seed of the random inputs.")
@click.option("--junit", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the result as JUnit XML to this file.")
@mode_option
@limit_options
def check(notebook: Path, pack: str | None, exercise: str | None, question: str | None,
          seed: int | None, junit: Path | None, mode: str, **kw) -> None:
    """Check your own notebook before handing it in: the pack's public checks, as the grader
    runs them. Exit status: 0 every check passes, 1 some fail, 2 usage error, 3 the notebook
    could not be run (unreadable, or no sandbox as root)."""
    packs = _packs()
    name, _ = _pick_pack(packs, pack, exercise)
    chosen = packs.get(name) if name else (next(iter(packs.values())) if len(packs) == 1
                                          else None)
    if question is not None and chosen is not None and question not in {
            q.id for q in chosen.questions}:
        raise click.UsageError(f"no question {question!r} in pack {chosen.name}; questions: "
                               + ", ".join(q.id for q in chosen.questions))
    student_packs = {n: public_view(p) for n, p in packs.items()}
    box = _check_sandbox(kw["no_sandbox"])
    seed = secrets.randbelow(2**31) if seed is None else seed
    limits = _limits(kw)
    try:
        backend = open_backend(choose(box, forge=False), box, limits)
    except SandboxUnavailable as exc:
        click.echo(str(exc), err=True)
        sys.exit(CHECK_NOT_GRADED)
    try:
        click.echo(f"Running {notebook} in a fresh kernel...", err=True)
        result = Grader(student_packs, backend, limits, name, mode).grade(notebook, seed)
    finally:
        backend.close()
    if junit is not None:
        write_junit(junit, [result], student=True)
    click.echo(format_check(result, color=sys.stdout.isatty(), question=question))
    if result.status != "graded":
        sys.exit(CHECK_NOT_GRADED)
    questions = [q for q in result.questions if question in (None, q.id)]
    sys.exit(CHECK_OK if all(q.passed and q.outcome != "review" for q in questions)
             else CHECK_FAILED)


def _check_sandbox(no_sandbox: bool):
    """As root, the sandbox or a clear refusal; as a student on their own machine, their own
    code runs without one (said in one line)."""
    if no_sandbox or os.geteuid() != 0:
        if not no_sandbox:
            click.echo("note: not root, so your notebook runs without the sandbox (it is your "
                       "own code, on your machine).", err=True)
        return detect_sandbox(enabled=False)
    try:
        return detect_sandbox()
    except SandboxUnavailable as exc:
        click.echo(f"grader: {exc}", err=True)
        sys.exit(CHECK_NOT_GRADED)


@main.command()
@click.argument("pack")
@click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for student/ (the bundle for students and GitHub Classroom) and "
                   "autograder.zip (for Gradescope).")
def dist(pack: str, out: Path) -> None:
    """Give PACK (a name or a folder) to students and CI without its answers: the student
    bundle and the Gradescope autograder."""
    packs = _packs()
    name, _ = _pick_pack(packs, pack, None)
    try:
        made = build_dist(packs[name], out, ENGINE_ROOT)
    except DistError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"Student bundle: {made['student']} (its README.md says what to run)\n"
               f"Gradescope autograder: {made['autograder']}")


@main.command()
@click.argument("pack")
@click.option("--seed", type=click.IntRange(min=0), default=2026, show_default=True,
              help="Seed of the probes' inputs and of the random mutants.")
@click.option("--no-sandbox", is_flag=True, help="Run the model solution without isolation.")
def audit(pack: str, seed: int, no_sandbox: bool) -> None:
    """Attack PACK's checks (a name or a folder) with wrong answers made from its model
    solution; exit 1 if one keeps its points without the pack declaring it acceptable."""
    from . import audit as attack  # the audit needs the executor; other commands need not

    packs = _packs()
    name, _ = _pick_pack(packs, pack, None)
    box = _check_sandbox(no_sandbox)
    limits = Limits(cell_timeout=60)
    backend = open_backend(choose(box, forge=False), box, limits)
    try:
        report = attack.run(packs[name], backend, limits, seed,
                            progress=lambda line: click.echo(line, err=True))
    finally:
        backend.close()
    click.echo(attack.table(report))
    sys.exit(0 if report.ok else 1)


@main.command(hidden=True)
@click.option("--root", type=click.Path(file_okay=False, path_type=Path), default="/autograder",
              show_default=True, help="Gradescope's folder (submission/ in, results/ out).")
@click.option("--pack", "pack_dir", required=True,
              type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--seed", type=click.IntRange(min=0), help="Seed of the random inputs.")
@limit_options
def gradescope(root: Path, pack_dir: Path, seed: int | None, **kw) -> None:
    """Grade Gradescope's submission into results/results.json (run_autograder calls this)."""
    try:
        pack = load_pack(pack_dir)
    except PackError as exc:
        raise click.ClickException(f"the pack is broken: {exc}") from None
    result = run_gradescope(root, pack, _limits(kw),
                            secrets.randbelow(2**31) if seed is None else seed)
    click.echo(f"{result.submission}: {result.score:g}/{result.max_score:g} ({result.status})",
               err=True)


def format_check(r: SubmissionResult, *, color: bool = False,
                 question: str | None = None) -> str:
    """What a student reads: each question with PASS or FAIL, and for each failing check what
    was tried, what came back, what was expected and a hint. Hidden checks appear with their
    points only."""
    def style(text: str, **kw) -> str:
        return click.style(text, **kw) if color else text

    if r.status != "graded":
        return style(f"Could not run {r.path}: {r.error}", fg="red")
    lines = [f"{r.path} (pack {r.pack})", ""]
    questions = [q for q in r.questions if question in (None, q.id)]
    for q in questions:
        ran = [c for c in q.checks if not c.outcome.withheld]
        mark = (style("PASS", fg="green") if q.passed else style("FAIL", fg="red")) if ran \
            else style("READ", fg="yellow") if q.outcome == "review" else style("HIDE", fg="yellow")
        lines.append(f"{mark} {q.id:<5} {q.title}  [{sum(c.points for c in ran):.3g}/"
                     f"{sum(c.max_points for c in ran):.3g}]")
        shown: set[str] = set()
        for c in q.checks:
            o = c.outcome
            if o.withheld:
                lines.append(f"       hidden check ({c.max_points:.3g} points): graded by your "
                             "instructor")
                continue
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
            state = ("empty: it scores 0" if w.state == "blank"
                     else "answered; graded by your instructor")
            lines.append(f"       written answer ({w.tag}, {w.max_points:g} points): {state}")
    bad = [c for c in r.cells if c.status != "ok"]
    if bad:
        lines += ["", "Cells that did not run cleanly:"]
        for c in bad:
            lines.append(f"  cell {c.index + 1}: {c.status}"
                         + (f" - {c.ename}: {c.evalue}" if c.ename else ""))
    lines += [f"  {e}" for e in r.events]
    ran = [c for q in questions for c in q.checks if not c.outcome.withheld]
    hidden = sum(c.max_points for q in questions for c in q.checks if c.outcome.withheld)
    written = sum(w.max_points for q in questions for w in q.written)
    lines += ["", f"Public checks: {sum(c.points for c in ran):.4g}/"
              f"{sum(c.max_points for c in ran):.4g} points"
              + (f"; {hidden:.4g} more in hidden checks" if hidden else "")
              + (f" and {written:g} in written answers" if written else "")
              + (", graded by your instructor." if hidden or written else ".")]
    ok = all(q.passed for q in questions)
    lines.append(style("All public checks pass." if ok else "Some checks fail: see above.",
                       fg="green" if ok else "red"))
    return "\n".join(lines)
