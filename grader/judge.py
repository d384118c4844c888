"""Run a pack's pytest checks in the grader's own process against answers that are plain data.

Checks see five fixtures: `answers` (the kernel's replies, by request key), `rng` (a generator
seeded from the run's seed and the check's name), `reference` (the pack's reference module),
`seed`, and `source` (the notebook's code cells as text, for checks on how an answer is
computed; never run). Each check is marked `@pytest.mark.question("2.1", weight=1)`.
"""

from __future__ import annotations

import contextlib
import io
import os
import signal
import threading
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from .feedback import Accepted, Feedback, render
from .figures import outcome_figures
from .limits import CHECK_SECONDS
from .packs import Pack, load_module
from .results import CheckOutcome
from .wire import Answer, Call

_NO_PLUGINS = ("cacheprovider", "stepwise", "pastebin", "junitxml", "doctest", "debugging",
               "faulthandler", "randomly", "xdist", "unraisableexception", "threadexception",
               "logging", "setuponly", "setupplan", "nose")


class CheckTooSlow(Exception):
    pass


def _too_slow(signum, frame):
    raise CheckTooSlow(f"the check took more than {CHECK_SECONDS} s")


class Answers(Mapping[str, Answer]):
    """The kernel's replies by request key, with lookups by function name."""

    def __init__(self, answers: dict[str, Answer]) -> None:
        self._answers = answers

    def __getitem__(self, key: str) -> Answer:
        return self._answers[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._answers)

    def __len__(self) -> int:
        return len(self._answers)

    def calls(self, name: str) -> list[Answer]:
        return [a for a in self._answers.values()
                if isinstance(a.request, Call) and a.request.name == name]


class _Judge:
    def __init__(self, pack: Pack, answers: dict[str, Answer], seed: int,
                 source: tuple[str, ...] = (), questions: set[str] | None = None) -> None:
        self.pack = pack
        self._answers = Answers(answers)
        self._seed = seed
        self._source = source
        self._questions = questions
        self.outcomes: list[CheckOutcome] = []
        self.problems: list[str] = []

    def pytest_configure(self, config: pytest.Config) -> None:
        config.addinivalue_line("markers", "question(id, weight=1): the question a check grades")

    @pytest.fixture
    def answers(self) -> Answers:
        return self._answers

    @pytest.fixture
    def source(self) -> tuple[str, ...]:
        """The submission's code cells, as text (never run here: read only)."""
        return self._source

    @pytest.fixture
    def seed(self) -> int:
        return self._seed

    @pytest.fixture
    def rng(self, request: pytest.FixtureRequest) -> np.random.Generator:
        return np.random.default_rng([self._seed, zlib.crc32(request.node.name.encode())])

    @pytest.fixture(scope="module")
    def reference(self, request: pytest.FixtureRequest):
        """The pack's reference: for a public check only its public part, where the pack has
        one; for a hidden check, the whole solution."""
        public = self.pack.public_reference
        if public is not None and not self._hidden(request.node):
            return load_module(public, self.pack.module_name("public"))
        return load_module(self.pack.reference_dir / "solution.py",
                           self.pack.module_name("reference"))

    def _hidden(self, item) -> bool:
        hidden = self.pack.hidden_dir
        return hidden is not None and Path(str(item.path)).is_relative_to(hidden)

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list) -> None:
        """With `questions`, only the checks of those questions run (grader audit)."""
        if self._questions is None:
            return
        keep = []
        for item in items:
            marker = item.get_closest_marker("question")
            if marker is not None and marker.args and str(marker.args[0]) in self._questions:
                keep.append(item)
        items[:] = keep

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.problems.append(f"cannot collect {report.nodeid}: {report.longreprtext[-800:]}")

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item: pytest.Item):
        """A check gets CHECK_SECONDS; a huge answer must not stall the grader."""
        armed = threading.current_thread() is threading.main_thread()
        if armed:
            previous = signal.signal(signal.SIGALRM, _too_slow)
            signal.setitimer(signal.ITIMER_REAL, CHECK_SECONDS)
        try:
            yield
        finally:
            if armed:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        outcome = yield
        report = outcome.get_result()
        if report.when == "call" or (report.when == "setup" and report.failed):
            self.outcomes.append(replace(self._outcome(item, call), hidden=self._hidden(item)))

    def _outcome(self, item: pytest.Item, call: pytest.CallInfo) -> CheckOutcome:
        marker = item.get_closest_marker("question")
        if marker is None or not marker.args:
            self.problems.append(f"{item.nodeid} has no @pytest.mark.question(...)")
            qid, weight = "?", 1.0
        else:
            qid, weight = str(marker.args[0]), float(marker.kwargs.get("weight", 1.0))
        name = (item.function.__doc__ or item.name).strip().splitlines()[0] \
            if hasattr(item, "function") else item.name
        exc = call.excinfo.value if call.excinfo is not None else None
        if exc is None:
            return CheckOutcome(qid, name, True, weight)
        if isinstance(exc, Accepted):
            figures, notes = outcome_figures(named=exc.figures)
            return CheckOutcome(qid, name, True, weight, feedback=exc.note, figures=figures,
                                figure_notes=notes)
        if isinstance(exc, Feedback):
            figures, notes = outcome_figures(inputs=exc.inputs, answer=exc.answer,
                                             expected=exc.expected, named=exc.figures)
            return CheckOutcome(
                qid, name, False, weight, exc.message, exc.hint,
                None if exc.inputs is None else render(exc.inputs),
                None if exc.answer is None else render(exc.answer),
                None if exc.expected is None else
                exc.expected if isinstance(exc.expected, str) else render(exc.expected),
                exc.not_answered, figures=figures, figure_notes=notes)
        if isinstance(exc, AssertionError):
            return CheckOutcome(qid, name, False, weight, str(exc).split("\nassert")[0] or
                                "The check failed.")
        detail = f"{type(exc).__name__}: {exc}"
        return CheckOutcome(qid, name, False, weight,
                            "The grader could not judge this answer (the check itself failed). "
                            "Your instructor has been flagged.", check_error=True,
                            answer=detail[:500])


def run_checks(pack: Pack, answers: dict[str, Answer], seed: int,
               source: tuple[str, ...] = (), *, questions: set[str] | None = None
               ) -> tuple[list[CheckOutcome], list[str]]:
    """All checks of `pack` (or those of `questions`) against `answers`; returns outcomes and
    problems with the pack."""
    judge = _Judge(pack, answers, seed, source, questions)
    folders = [str(pack.checks_dir)] + ([str(pack.hidden_dir)] if pack.hidden_dir else [])
    args = [*folders, "-q", "-c", os.devnull, "--rootdir", str(pack.root),
            "--import-mode=importlib", "--tb=no", "--no-header"]
    for name in _NO_PLUGINS:
        args += ["-p", f"no:{name}"]
    sink = io.StringIO()
    with contextlib.redirect_stdout(sink), contextlib.redirect_stderr(sink):
        code = pytest.main(args, plugins=[judge])
    if code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED) or judge.problems:
        judge.problems.append(f"pytest exit status {int(code)}: {sink.getvalue()[-1500:]}")
    withheld = [CheckOutcome(w.question, w.name, False, w.weight, WITHHELD, hidden=True,
                             withheld=True) for w in pack.withheld]
    return judge.outcomes + withheld, judge.problems


WITHHELD = "A hidden check: your instructor runs it when grading."
