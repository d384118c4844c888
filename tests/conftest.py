"""Shared fixtures: the project's paths and a way to run the real `grader` command."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from grader.writers.layout import report_href, submission_dir  # noqa: F401 (for the tests)

ROOT = Path(__file__).resolve().parent.parent
TESTS = ROOT / "tests"
NOTEBOOKS = TESTS / "notebooks"
GRADER = [sys.executable, "-m", "grader"]
"""The CLI, through the interpreter running the tests (wherever its environment lives)."""


ALLOW_SKIPS = "GRADER_ALLOW_SKIPS"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A skipped security or browser test is a failed one (a sandbox that cannot be tested is
    not known to hold), unless GRADER_ALLOW_SKIPS=1 says the skip is on purpose."""
    outcome = yield
    report = outcome.get_result()
    strict = any(item.get_closest_marker(m) is not None for m in ("security", "browser"))
    if report.skipped and strict and os.environ.get(ALLOW_SKIPS) != "1":
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = (f"this test was skipped ({reason}); install what it needs (`make "
                           f"test` does, as root), or set {ALLOW_SKIPS}=1 to allow it")


SLOWEST_FIRST = ("test_hostile.py", "test_hostile_freeform.py", "test_freeform.py",
                 "test_dist.py", "test_cluster.py", "test_gradebook.py",
                 "test_conv_layer_corpus.py", "test_audit.py", "test_forge.py")
"""Modules that take a minute or more: started first, so a parallel run (`make test` runs
pytest-xdist, one module per worker) does not end waiting on one of them."""


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


def grader_env() -> dict[str, str]:
    env = dict(os.environ)
    env["GRADER_PACKS"] = str(TESTS / "packs")
    return env


def run_grader(*args: str, timeout: float = 900) -> subprocess.CompletedProcess:
    return subprocess.run([*GRADER, *args], capture_output=True, text=True, env=grader_env(),
                          timeout=timeout)


def verdicts(results: dict) -> dict[str, str]:
    """Per question: "pass" iff every automatic test of that question passed."""
    out: dict[str, str] = {}
    for t in results["tests"]:
        if "auto" not in t["tags"]:
            continue
        ok = t["status"] == "passed"
        out[t["number"]] = "pass" if ok and out.get(t["number"], "pass") == "pass" else "fail"
    return out


def stored(out: Path) -> dict[str, str]:
    """Name -> status of every result in the gradebook of `out` (empty before it exists)."""
    try:
        with sqlite3.connect(out / "gradebook.sqlite") as db:
            return dict(db.execute("SELECT name, status FROM results").fetchall())
    except sqlite3.OperationalError:  # created but not yet initialised
        return {}


def orphaned_kernels(owners: set[int] | None = None) -> list[tuple[str, str]]:
    """Processes still using the kernel folder of a grader worker that no longer exists
    (kernel folders are named grader-kernel-<worker pid>-...); only of the workers `owners`
    when given (the machine may be running other graders)."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().decode(errors="replace")
        except OSError:
            continue
        for owner in re.findall(r"grader-kernel-(\d+)-", cmd):
            if not os.path.exists(f"/proc/{owner}") and (owners is None or int(owner) in owners):
                found.append((pid, cmd[:120]))
    return found


def parent(pid: int) -> int:
    """The parent pid of `pid`, from /proc."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat[stat.rindex(")") + 2:].split()[1])


def descendants(pid: int) -> list[int]:
    """Every process below `pid` now: its children, theirs, and so on."""
    children: dict[int, list[int]] = {}
    for name in filter(str.isdigit, os.listdir("/proc")):
        try:
            children.setdefault(parent(int(name)), []).append(int(name))
        except (OSError, ValueError):
            continue
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def load_results(out: Path, name: str) -> dict:
    """results.json, with the grader's own fields (extra_data) also at the top, for brevity."""
    data = json.loads((submission_dir(out, name) / "results.json").read_text())
    return {**data, **data["extra_data"]}


@pytest.fixture(scope="session")
def tiny_run(tmp_path_factory):
    """Every notebook under tests/notebooks graded in one batch with a fixed seed."""
    out = tmp_path_factory.mktemp("tiny-run")
    done = run_grader("grade", str(NOTEBOOKS), "--out", str(out), "--seed", "1234",
                      "--timeout", "4")
    return out, done


class Figures:
    """Measurements a test reports (memory, sizes), printed at the end of the run. They travel
    in the test's report, so they reach the summary from pytest-xdist workers too."""

    def __init__(self, node):
        self.node = node

    def append(self, line: str) -> None:
        self.node.user_properties.append(("figure", line))


@pytest.fixture
def figures(request) -> Figures:
    return Figures(request.node)


def pytest_terminal_summary(terminalreporter):
    lines = [value for report in terminalreporter.getreports("passed") +
             terminalreporter.getreports("failed")
             for key, value in getattr(report, "user_properties", ()) if key == "figure"]
    if lines:
        terminalreporter.section("figures")
        for line in dict.fromkeys(lines):
            terminalreporter.write_line(line)
