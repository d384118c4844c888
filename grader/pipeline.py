"""Grade one submission: read -> execute -> extract -> check -> score."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
import traceback
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from . import __version__
from . import freeform as ff
from .environment import problem as environment_problem
from .execute import execute_submission
from .judge import run_checks
from .kernels import Backend
from .limits import RESULT_BYTES, Limits
from .magics import without_magics
from .notebook import NotebookError, Submission, read_submission
from .packs import Pack, PackError, choose, load_module, model_answers
from .results import CheckOutcome, SubmissionResult, bounded
from .score import score_questions, written_results


@dataclass(slots=True)
class Grader:
    """Grades submissions one after another with one kernel backend. Not thread-safe: give
    each worker its own Grader."""

    packs: dict[str, Pack]
    backend: Backend
    limits: Limits
    pack: str | None = None
    """The pack to grade with; None: the one the notebook names, else the only one."""
    mode: str = "auto"
    """template, freeform, or auto (see grader.freeform.choose_mode)."""
    _placeholders: dict[str, dict[str, str]] = field(default_factory=dict)

    def grade(self, path: Path, run_seed: int) -> SubmissionResult:
        """Grade one notebook. Never raises for a bad submission: whatever goes wrong becomes
        an error result for this submission only."""
        try:
            return self._grade(path, run_seed)
        except Exception as exc:  # noqa: BLE001 - one submission must not stop a batch
            trace = traceback.format_exc(limit=8)[-3000:]
            stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
            return SubmissionResult(
                submission=Path(path).stem, path=str(path), status="error", seed=run_seed,
                run_seed=run_seed,
                error=f"internal grader error ({type(exc).__name__}: {str(exc)[:300]}); "
                      "regrade this submission, and report it if it happens again",
                problems=(trace,), graded_at=stamp, grader_version=__version__,
                sandbox=self.backend.label)

    def _grade(self, path: Path, run_seed: int) -> SubmissionResult:
        started = time.monotonic()
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        base = dict(submission=Path(path).stem, path=str(path), seed=run_seed, graded_at=stamp,
                    grader_version=__version__, sandbox=self.backend.label, run_seed=run_seed,
                    cgroups=self.backend.cgroups)
        try:
            sub = read_submission(Path(path), max_cells=self.limits.max_cells)
            pack = choose(self.packs, self.pack, sub.pack_name)
        except (NotebookError, PackError) as exc:
            return self._unreadable(str(exc), base)
        missing = environment_problem(pack.name, pack.requires)
        if missing:
            return self._unreadable(missing, base, pack)
        seed = base["seed"] = derive_seed(run_seed, sub.sha256)
        timings = {"read": time.monotonic() - started}
        requests = pack.requests(np.random.default_rng(seed))
        nb, skipped = without_magics(sub.nb)
        mode = ff.choose_mode(self.mode, pack, nb, sub.pack_name is not None)
        finders = ff.load_finders(pack) if mode == "freeform" else None
        plan = None
        if finders is not None:
            skipped.insert(0, FREEFORM_NOTE)

            def plan(evidence):
                return ff.plan_requests(finders, ff.build_view(nb, sub.nb, evidence, finders),
                                        requests)

        t0 = time.monotonic()
        execution = asyncio.run(execute_submission(
            nb, requests if finders is None else [], backend=self.backend, limits=self.limits,
            prelude=pack.prelude, plan=plan))
        timings["execute"] = time.monotonic() - t0
        if execution.infrastructure_error:
            return self._unreadable(execution.infrastructure_error, base, pack)
        t0 = time.monotonic()
        code = tuple(c.source for c in nb.cells if c.cell_type == "code")
        if finders is None:
            outcomes, problems = run_checks(pack, execution.answers, seed, code)
            questions = score_questions(pack, outcomes,
                                        written_results(pack, self._written(pack, sub)))
        else:
            view = ff.build_view(nb, sub.nb, execution.evidence, finders)
            findings = ff.find_answers(finders, view, execution.answers, requests,
                                       self._reference(pack))
            outcomes, problems = run_checks(pack, ff.answers_for_checks(requests, findings),
                                            seed, code + ff.extra_source(findings))
            texts = {w.tag: view.prose(w.question) or None for w in pack.written}
            questions = ff.questions(pack, outcomes, findings, written_results(pack, texts),
                                     model_answers(pack))
        problems += execution.notes
        timings["checks"] = time.monotonic() - t0
        problems += [f"check error in {c.outcome.question} ({c.outcome.name}): {c.outcome.answer}"
                     for q in questions for c in q.checks if c.outcome.check_error]
        timings["total"] = time.monotonic() - started
        return bounded(SubmissionResult(
            status="graded", pack=pack.name, sha256=sub.sha256, questions=questions,
            cells=tuple(execution.cells), events=tuple(skipped + execution.events),
            problems=tuple(problems), execution_time=round(timings["total"], 3),
            timings={k: round(v, 3) for k, v in timings.items()},
            peak_memory=execution.peak_memory, mode=mode, **base), RESULT_BYTES)

    @staticmethod
    def _reference(pack: Pack):
        """The pack's reference for its finders: the whole solution where it is here (an
        instructor's pack), else its public part (a student's copy)."""
        solution = pack.reference_dir / "solution.py"
        if solution.exists():
            return load_module(solution, pack.module_name("reference"))
        public = pack.public_reference
        return load_module(public, pack.module_name("public")) if public else None

    def _unreadable(self, error: str, base: dict, pack: Pack | None = None) -> SubmissionResult:
        try:
            pack = pack or choose(self.packs, self.pack, None)
        except PackError:
            pack = None
        return not_graded(pack, error, **base)

    def _written(self, pack: Pack, sub: Submission) -> dict[str, str | None]:
        """The submission's written answers; blank or untouched template text is None."""
        placeholders = self._placeholders.get(pack.name)
        if placeholders is None:
            placeholders = {}
            if pack.template is not None:
                try:
                    placeholders = read_submission(
                        pack.template, max_cells=self.limits.max_cells).written
                except NotebookError:
                    placeholders = {}
            self._placeholders[pack.name] = placeholders
        out: dict[str, str | None] = {}
        for item in pack.written:
            text = sub.written.get(item.tag)
            if text is None or not text.strip() or \
                    _norm(text) == _norm(placeholders.get(item.tag, "")):
                out[item.tag] = None
            else:
                out[item.tag] = text
        return out


FREEFORM_NOTE = ("Graded free-form: the notebook does not follow the template (no grader "
                 "metadata, few of its names), so answers were found from what its cells "
                 "showed; saved outputs count only as evidence for the instructor.")


def not_graded(pack: Pack | None, error: str, **fields) -> SubmissionResult:
    """A submission that cannot be graded: zero on every question of the pack it would have
    been graded with (when that pack is known), out of the pack's full points."""
    if pack is None:
        return SubmissionResult(status="error", error=error, **fields)
    failed = [CheckOutcome(q.id, "submission readable", False,
                           feedback=f"The submission could not be graded: {error}")
              for q in pack.questions]
    # Nothing was judged: no question is "wrong", and free-form outcomes stay unset.
    questions = tuple(replace(q, outcome="") for q in
                      score_questions(pack, failed, written_results(pack, {})))
    return SubmissionResult(status="error", error=error, pack=pack.name, questions=questions,
                            **fields)


def derive_seed(run_seed: int, sha256: str) -> int:
    """The seed of one submission's inputs: the same file gets the same inputs within a run
    (and on a regrade with the same --seed); a changed file gets fresh ones, so the inputs a
    student saw in a report do not carry over to a resubmission."""
    digest = hashlib.sha256(f"{run_seed}:{sha256}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def _norm(text: str) -> str:
    return " ".join(text.split())
