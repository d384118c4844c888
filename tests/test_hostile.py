"""Hostile submissions (tests/corpus/hostile) graded as ONE batch through the CLI.

Every notebook there is the model solution plus cells that attack the grader: endless loops,
memory and fork bombs, crashes, output floods, monkeypatching, forged results, lingering
processes, writes outside the sandbox, network access, reading the reference or the grader's
environment, functions that hang or kill the kernel only when the grader calls them, malformed
kernel messages. `metadata["grader_test"]["expected"]` gives each question's verdict.

The batch runs twice (a module fixture): here as the CLI grades these notebooks by default
(they are template notebooks), and in test_hostile_freeform.py with `--mode freeform`, where
evidence is captured after every cell and the notebook's functions are called by handle. Each
runs with the CLI's default number of workers; each test below checks one property of the security model: student code must not gain a point, cost
anyone else a point, leak the reference or the grader's environment, write outside its sandbox,
leave processes behind, or make the grader's outputs or memory grow without bound. Other
graders may run on the machine at the same time: processes, uids and temporary folders are
attributed to this batch through its process tree.

Regenerate the corpus with `.venv/bin/python tests/corpus/hostile/make_hostile.py`.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import os
import re
import secrets
import signal
import socket
import sqlite3
import subprocess
import sys
import sysconfig
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from conftest import GRADER, submission_dir

pytestmark = [pytest.mark.slow, pytest.mark.security]

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus" / "hostile"
SANDBOX_UIDS = range(61000, 61064)
CLI_LIMITS = ["--seed", "20261121", "--timeout", "5", "--notebook-timeout", "120"]
BATCH_BOUND = 15 * 60
"""Seconds the whole batch may take (about 2.5 minutes on 2 cores today)."""
MAX_OUTPUT_BYTES = 2 * 1024 * 1024
"""Largest results.json / report.html / index.html / grades.csv, whatever a notebook printed."""
GRADER_MEMORY_BOUND = 1024**3
"""Peak resident memory of any one grader process (the CLI or a worker; about 0.3 GiB for
honest notebooks). Kernels are not counted: they run as sandbox uids under their own limits."""
# Whole trees scanned for new files; /root is scanned two levels deep only (it holds caches).
SCAN_TREES = ("/tmp", "/var/tmp", "/dev/shm", "/run", "/etc", "/home", "/work")
SCAN_SHALLOW = (("/root", 2),)
# Text of the pack's hidden files that must never appear in any output.
LEAK_MARKERS = {
    "reference/conv-layer/solution.py": ("The answers of the conv-layer pack",
                                         "def kernel_matrix(", "def autograd_errors("),
    "reference/conv-layer/public.py": ("def diagonal_edge_problem(", "def _staircases("),
    "exercises/conv-layer/hidden/test_edge_selectivity.py": ("def selectivity_problem(",),
    "exercises/conv-layer/checks/test_kernels.py": ("SECOND_DERIVATIVES = {",
                                                    "def edge_behaviour("),
    "exercises/conv-layer/checks/test_diagonal.py": ("def response(answers, reference",),
    "exercises/conv-layer/probes.py": ("def small_kernel(",),
}


def _load_maker():
    spec = importlib.util.spec_from_file_location("make_hostile", CORPUS / "make_hostile.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


mk = _load_maker()
COMMITTED = sorted(p.stem for p in CORPUS.glob("*.ipynb"))
"""The notebooks of the corpus; the batch grades a copy generated for this checkout and this
run's listener, plus the file-system attacks of make_hostile.make_specials."""


# --- host observations ------------------------------------------------------------------------

def write_targets() -> list[Path]:
    """The host paths the notebooks try to create (see make_hostile.WRITE_TARGETS)."""
    return mk.write_targets(str(ROOT), sysconfig.get_paths()["purelib"], sys.base_prefix)


def sandbox_processes(wanted=SANDBOX_UIDS) -> dict[int, str]:
    """pid -> "uid cmdline" of every process whose real/effective/saved/fs uid is in `wanted`."""
    found = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as fh:
                ids = next(line.split()[1:] for line in fh if line.startswith("Uid:"))
            if not any(int(u) in wanted for u in ids):
                continue
            with open(f"/proc/{name}/cmdline", "rb") as fh:
                cmd = fh.read().replace(b"\0", b" ").decode(errors="replace").strip()
            found[int(name)] = f"uid {ids[0]}: {cmd[:200]}"
        except (OSError, StopIteration):
            continue
    return found


def _scan(top: str, depth: int | None, out: dict[str, int]) -> None:
    try:
        entries = list(os.scandir(top))
    except OSError:
        return
    for entry in entries:
        try:
            st = entry.stat(follow_symlinks=False)
        except OSError:
            continue
        out[entry.path] = st.st_uid
        if entry.is_dir(follow_symlinks=False) and (depth is None or depth > 1):
            _scan(entry.path, None if depth is None else depth - 1, out)


def host_snapshot() -> dict[str, int]:
    """path -> owner uid of every entry under the scanned folders."""
    out: dict[str, int] = {}
    for top in SCAN_TREES:
        _scan(top, None, out)
    for top, depth in SCAN_SHALLOW:
        _scan(top, depth, out)
    return out


class Listener:
    """A TCP listener on 127.0.0.1 outside the sandbox that records who connects."""

    def __init__(self) -> None:
        self.connections: list[str] = []
        self.error = ""
        self.port = 0
        self._stop = threading.Event()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            self._sock.bind(("127.0.0.1", 0))  # a free port; the notebooks are made for it
            self._sock.listen(16)
            self._sock.settimeout(0.2)
            self.port = self._sock.getsockname()[1]
        except OSError as exc:
            self.error = f"cannot listen on 127.0.0.1: {exc}"
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set() and not self.error:
            try:
                conn, peer = self._sock.accept()
            except OSError:
                continue
            self.connections.append(f"{peer[0]}:{peer[1]}")
            conn.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        self._sock.close()


def _process_tree(root: int) -> dict[int, tuple[int, int]]:
    """pid -> (uid, peak resident bytes) of `root` and all its descendants: the CLI, its worker
    processes (root) and the kernels they start (sandbox uids)."""
    parents, info = {}, {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            parents[int(name)] = int(fields["PPid"])
            uid = int(fields["Uid"].split()[0])
            hwm = int(fields["VmHWM"].split()[0]) * 1024 if "VmHWM" in fields else 0
            info[int(name)] = (uid, hwm)
        except (OSError, KeyError, ValueError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        kids = [p for p, pp in parents.items() if pp == pid and p not in tree]
        tree.update(kids)
        frontier += kids
    return {p: info[p] for p in tree if p in info}


def _finished(stderr_text: str) -> list[str]:
    """Notebooks the CLI reported as finished (one "name: score" line each), in order."""
    names = set(COMMITTED)
    return [m.group(1) for m in re.finditer(r"^(\S+): ", stderr_text, re.M) if m.group(1) in names]


# --- the batch --------------------------------------------------------------------------------

@dataclass
class Batch:
    out: Path
    returncode: int | None
    seconds: float
    timed_out: bool
    stdout: str
    stderr: str
    secret: str
    results: dict[str, dict | None]
    expected: dict[str, dict]
    specials: dict[str, dict]
    """make_hostile.make_specials's expectations, by submission name."""
    grader_pids: set[int]
    """The CLI and its worker processes (root), seen while the batch ran."""
    kernel_uids: set[int]
    """Sandbox uids the batch's kernels ran as (other graders may run at the same time)."""
    lingering: dict[int, str]
    new_paths: dict[str, int]
    targets_before: list[str]
    targets_after: list[str]
    connections: list[str]
    listener_error: str
    peak_memory: int
    mode: str = "auto"
    memory_jumps: list[str] = field(default_factory=list)
    """Each rise of a grader process's peak memory over 100 MiB, with the notebooks then being
    graded (the first unfinished ones in batch order)."""


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> Batch:
    yield from grade_batch("auto", tmp_path_factory)


def grade_batch(mode: str, tmp_path_factory, *, specials: bool = True):
    """The corpus graded by the CLI in `mode`, with the file-system attacks unless told
    otherwise (yields the Batch, then cleans up)."""
    out = tmp_path_factory.mktemp(f"batch-{mode}") / "out"
    subs = out.parent / "subs"
    subs.mkdir()
    listener = Listener()
    mk.main(subs, port=listener.port, checkout=str(ROOT))
    specials = mk.make_specials(subs) if specials else {}
    expected = {}
    for name in COMMITTED:
        meta = json.loads((subs / f"{name}.ipynb").read_text())["metadata"]["grader_test"]
        expected[name] = meta
    secret = "hostile-secret-" + secrets.token_hex(16)
    targets = write_targets()
    targets_before = [str(t) for t in targets if os.path.lexists(t)]
    before = host_snapshot()
    env = {**os.environ, mk.SECRET_ENV: secret}
    stdout_path, stderr_path = out.parent / "cli.stdout", out.parent / "cli.stderr"
    peaks: dict[int, int] = {}
    reported: dict[int, int] = {}
    jumps: list[str] = []
    grader_pids: set[int] = set()
    kernel_uids: set[int] = set()
    timed_out = False
    started = time.monotonic()
    with open(stdout_path, "wb") as so, open(stderr_path, "wb") as se:
        proc = subprocess.Popen([*GRADER, "grade", str(subs), "--out", str(out),
                                 *CLI_LIMITS, "--mode", mode], cwd=ROOT, env=env, stdout=so, stderr=se,
                                stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            while proc.poll() is None:
                if time.monotonic() - started > BATCH_BOUND:
                    timed_out = True
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
                    break
                for pid, (uid, hwm) in _process_tree(proc.pid).items():
                    if uid in SANDBOX_UIDS:
                        kernel_uids.add(uid)
                    if uid != 0:
                        continue
                    grader_pids.add(pid)
                    peaks[pid] = max(hwm, peaks.get(pid, 0))
                    if hwm >= reported.setdefault(pid, min(hwm, 512 * 2**20)) + 100 * 2**20:
                        done = set(_finished(stderr_path.read_text(errors="replace")))
                        busy = [n for n in COMMITTED if n not in done][:3]
                        jumps.append(f"pid {pid}: {reported[pid] >> 20} -> {hwm >> 20} MiB "
                                     f"while grading {busy}")
                        reported[pid] = hwm
                time.sleep(0.2)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    seconds = time.monotonic() - started
    listener.close()
    end = time.monotonic() + 5
    mine = kernel_uids  # never another grader's: only uids this batch was seen using
    lingering = sandbox_processes(mine)
    while lingering and time.monotonic() < end:
        time.sleep(0.25)
        lingering = sandbox_processes(mine)
    after = host_snapshot()
    new_paths = {p: uid for p, uid in after.items() if p not in before}
    targets_after = [str(t) for t in targets if os.path.lexists(t)]
    results = {}
    for name in [*COMMITTED, *specials]:
        path = submission_dir(out, name) / "results.json"
        try:
            data = json.loads(path.read_text())
            results[name] = {**data, **data["extra_data"]}
        except (OSError, ValueError):
            results[name] = None
    yield Batch(out=out, returncode=proc.returncode, seconds=seconds, timed_out=timed_out,
                stdout=stdout_path.read_text(errors="replace"),
                stderr=stderr_path.read_text(errors="replace"), secret=secret,
                results=results, expected=expected, specials=specials,
                grader_pids=grader_pids,
                kernel_uids=kernel_uids, lingering=lingering, new_paths=new_paths,
                targets_before=targets_before, targets_after=targets_after,
                connections=list(listener.connections), listener_error=listener.error,
                peak_memory=max(peaks.values(), default=0), mode=mode, memory_jumps=jumps)
    # Leave the machine as we found it: remove what an escaped notebook may have created.
    for path in targets_after:
        if path not in targets_before:
            try:
                os.unlink(path)
            except OSError:
                pass


def _verdicts(results: dict | None) -> dict[str, str]:
    if results is None:
        return {}
    passed: dict[str, list[bool]] = {}
    for test in results.get("tests", []):
        if "auto" in test.get("tags", []):
            passed.setdefault(str(test.get("number")), []).append(test.get("status") == "passed")
    return {q: "pass" if all(v) else "fail" for q, v in passed.items()}


def _diagnose(results: dict | None) -> str:
    if results is None:
        return "no results.json"
    lines = [f"score {results.get('score')}/{results.get('max_score')}, "
             f"{results.get('execution_time')} s, status {results.get('status')}"]
    lines += [f"event: {e}" for e in results.get("events", [])]
    for c in results.get("cells", []):
        if c.get("status") != "ok":
            lines.append(f"cell {c['index']}: {c['status']} {c.get('ename', '')}: "
                         f"{str(c.get('evalue', ''))[:160]}")
    for t in results.get("tests", []):
        if "auto" in t.get("tags", []) and t.get("status") != "passed":
            lines.append(f"failed {t['number']}: {str(t.get('output', ''))[:240]}")
    return "\n  ".join(lines)


def _output_files(batch: Batch) -> list[Path]:
    return [p for p in batch.out.rglob("*") if p.is_file()] if batch.out.exists() else []


# --- the tests --------------------------------------------------------------------------------

def test_corpus_is_up_to_date():
    """The notebooks are what make_hostile.py generates (regenerate after editing it)."""
    built = mk.notebooks()
    assert sorted(built) == COMMITTED
    stale = [name for name, nb in built.items()
             if (CORPUS / f"{name}.ipynb").read_text(encoding="utf-8") != mk.render(nb)]
    assert not stale, f"regenerate the corpus (make_hostile.py); stale: {stale}"


def test_batch_completes(batch: Batch):
    """The CLI grades every hostile notebook and every special file that is a notebook, refuses
    the others (exit 1: some could not be graded), and writes the class overview."""
    assert not batch.timed_out, f"the batch ran past {BATCH_BOUND} s and was killed"
    refused = {n for n, e in batch.specials.items() if mk.REFUSED in e}
    missing = [n for n, r in batch.results.items() if r is None]
    not_graded = {n for n, r in batch.results.items()
                  if r is not None and r.get("status") != "graded"}
    assert not missing and not_graded == refused and batch.returncode == (1 if refused else 0), (
        f"exit status {batch.returncode}; no results for {missing}; not graded: "
        f"{sorted(not_graded)}; expected refused: {sorted(refused)}\n"
        f"stderr tail:\n{batch.stderr[-3000:]}")
    assert (batch.out / "grades.csv").exists() and (batch.out / "index.html").exists()


@pytest.mark.parametrize("name", mk.SPECIAL_NAMES)
def test_file_system_attacks(batch: Batch, name: str):
    """Special files, links out of the folder and huge notebooks are refused with a reason;
    names the run uses or a spreadsheet evaluates are graded like any other."""
    expect = batch.specials[name]
    result = batch.results[name]
    assert result is not None, f"{name}: no results.json"
    if mk.REFUSED in expect:
        assert result["status"] == "error" and expect[mk.REFUSED] in result["error"], result["error"]
        return
    assert result["status"] == "graded", result.get("error")
    wrong = {q: v for q, v in expect["expected"].items() if _verdicts(result).get(q) != v}
    assert not wrong, f"{name}: {wrong}\n  {_diagnose(result)}"
    if "twin" in expect:
        assert any(expect["twin"] in e for e in result["events"]), result["events"]


def test_run_files_survive_reserved_names(batch: Batch):
    """Submissions named like the run's files do not replace them: the gradebook, overview and
    grades.csv are the run's, and every submission has its own folder."""
    rows = list(csv.reader((batch.out / "grades.csv").open(encoding="utf-8")))
    assert rows[0][0] == "submission" and len(rows) == 1 + len(batch.results)
    html = (batch.out / "index.html").read_text()
    assert html.startswith("<!DOCTYPE html>") and "gradebook.sqlite" in html
    assert sqlite3.connect(batch.out / "gradebook.sqlite").execute(
        "SELECT count(*) FROM results").fetchone()[0] == len(batch.results)


def test_grades_csv_has_no_formulas(batch: Batch):
    """No cell of grades.csv starts with a character that makes a spreadsheet evaluate it."""
    rows = list(csv.reader((batch.out / "grades.csv").open(encoding="utf-8")))
    bad = [c for row in rows for c in row if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not bad, f"cells a spreadsheet would evaluate: {bad}"
    assert any(c == "'=1+2" for row in rows for c in row)


FREEFORM_RIGHT = {
    "h24_huge_replies": ("2.3", "2.4", "4"),
}
"""Questions an attack makes fail in template mode only: h24 inflates the replies to requests
named as the template's functions; free-form grading calls the same (right) functions by a
handle of its own, so their answers arrive intact and are right."""


@pytest.mark.parametrize("name", COMMITTED)
def test_verdicts(batch: Batch, name: str):
    """Per question: passes iff all its automatic checks pass; must equal the expectation.
    Free-form: every question has an outcome, the controls are right throughout, and no
    question an attack breaks in template mode is right (no attack earns a point)."""
    expected = batch.expected[name]["expected"]
    if batch.mode == "freeform":
        results = batch.results[name] or {}
        outcomes = results.get("outcomes", {})
        assert set(outcomes) == set(expected), _diagnose(batch.results[name])
        if name in ("h00_control_model_solution", "h99_control_after_hostile"):
            assert set(outcomes.values()) == {"right"}, (outcomes, _diagnose(results))
        gained = [q for q, v in expected.items() if v == "fail" and outcomes[q] == "right"
                  and q not in FREEFORM_RIGHT.get(name, ())]
        assert not gained, f"{name}: {gained} right in free-form: {_diagnose(results)}"
        return
    actual = _verdicts(batch.results[name])
    wrong = {q: f"expected {v}, got {actual.get(q, 'missing')}" for q, v in expected.items()
             if actual.get(q) != v}
    assert not wrong, (f"{name}: {batch.expected[name]['why']}\n  {wrong}\n  "
                       f"{_diagnose(batch.results[name])}")


def test_batch_within_time_bound(batch: Batch):
    assert not batch.timed_out and batch.seconds < BATCH_BOUND, f"{batch.seconds:.0f} s"


def test_no_sandbox_process_remains(batch: Batch):
    """Nothing runs as the sandbox uids the batch used once it is over (fork bomb children,
    sleep 1000, nohup, setsid daemons included)."""
    assert batch.kernel_uids, "no kernel of the batch was seen running as a sandbox uid"
    assert not batch.lingering, (f"processes of the batch's sandbox uids "
                                 f"{sorted(batch.kernel_uids)} remain: {batch.lingering}")


def test_no_file_written_outside_output(batch: Batch):
    """None of the notebooks' targets exists on the host; nothing new belongs to this batch's
    sandbox uids (leased by this batch alone), or is a temporary folder this batch's grader
    processes left behind. Files of other programs, other graders included, do not count."""
    assert not batch.targets_before, (
        f"delete these leftovers of an earlier run first: {batch.targets_before}")
    assert not batch.targets_after, f"hostile notebooks wrote on the host: {batch.targets_after}"
    run = str(batch.out.parent) + os.sep          # the output folder and the CLI's logs

    def ours(path: str) -> bool:
        """False for the temporary folders of other graders running at the same time."""
        m = re.search(r"/grader-kernel-(\d+)-", path)
        return m is None or int(m.group(1)) in batch.grader_pids

    new = {p: uid for p, uid in batch.new_paths.items() if not p.startswith(run) and ours(p)}
    suspicious = {p: uid for p, uid in new.items()
                  if uid in batch.kernel_uids or "grader-kernel-" in p}
    assert not suspicious, f"new files outside the output folder: {suspicious}"


def _cell_outputs(batch: Batch, name: str) -> list[str]:
    results = batch.results.get(name)
    assert results is not None, f"{name} was not graded"
    return [c.get("output", "") for c in results.get("cells", [])]


def test_connection_file_not_writable(batch: Batch):
    """The kernel's connection file lives in the host's /tmp, bound into the jail: the kernel
    must not be able to grow it, replace it with a program or make it setuid (h15)."""
    modified = [o for o in _cell_outputs(batch, "h15_write_outside") if "HOST-FILE-MODIFIED" in o]
    assert not modified, f"a kernel modified a host file: {modified}"


def test_no_nested_user_namespace(batch: Batch):
    """Student code cannot create user namespaces of its own inside the jail (they hand it
    capabilities over new namespaces: the kernel attack surface the jail should close, as
    `--disable-userns` does for the non-root sandbox) (h13)."""
    created = [o for o in _cell_outputs(batch, "h13_read_reference") if "unshare -> 0 " in o]
    assert not created, f"unshare succeeded inside the jail: {created}"


def test_output_not_written_by_sandbox(batch: Batch):
    bad = {str(p): p.lstat().st_uid for p in [batch.out, *batch.out.rglob("*")]
           if batch.out.exists() and p.lstat().st_uid in SANDBOX_UIDS}
    assert not bad, f"written by a sandbox uid: {bad}"
    links = [str(p) for p in batch.out.rglob("*") if p.is_symlink()]
    assert not links, f"symbolic links in the output folder: {links}"


def test_outputs_stay_small(batch: Batch):
    """results.json, the reports and grades.csv stay under 2 MB whatever a notebook printed
    (the gradebook database, which stores every result, is not counted)."""
    big = {str(p.relative_to(batch.out)): p.stat().st_size for p in _output_files(batch)
           if (p.name == "results.json" or p.suffix in (".html", ".csv"))
           and p.stat().st_size >= MAX_OUTPUT_BYTES}
    assert not big, f"output files of 2 MB or more: {big}"


def test_secret_never_leaks(batch: Batch):
    needle = batch.secret.encode()
    leaks = [str(p) for p in _output_files(batch) if needle in p.read_bytes()]
    leaks += [name for name, text in (("stdout", batch.stdout), ("stderr", batch.stderr))
              if batch.secret in text]
    assert not leaks, f"the grader's secret environment variable reached: {leaks}"


def test_reference_never_leaks(batch: Batch):
    for rel, markers in LEAK_MARKERS.items():
        text = (ROOT / rel).read_text()
        assert all(m in text for m in markers), f"update LEAK_MARKERS: {rel} changed"
    leaks = []
    for p in _output_files(batch):
        data = p.read_text(errors="replace")
        leaks += [f"{p.relative_to(batch.out)}: {m!r}" for ms in LEAK_MARKERS.values()
                  for m in ms if m in data]
    assert not leaks, f"text of the hidden pack files reached the outputs: {leaks}"


def test_no_network_connection(batch: Batch):
    assert not batch.listener_error, batch.listener_error
    assert not batch.connections, f"a kernel connected to the host: {batch.connections}"
    results = batch.results.get("h16_network")
    assert results is not None, "h16_network was not graded"
    connected = [c["output"] for c in results["cells"] if "CONNECTED" in c.get("output", "")]
    assert not connected, f"network reachable from the sandbox: {connected}"


def test_html_is_escaped(batch: Batch):
    pages = [p for p in _output_files(batch) if p.suffix == ".html"]
    assert pages
    bad = [f"{p.relative_to(batch.out)}: {m!r}" for p in pages
           for m in mk.XSS_MARKERS if m in p.read_text(errors="replace")]
    assert not bad, f"student HTML reached a page unescaped: {bad}"


def test_grader_memory_bounded(batch: Batch, figures):
    """No message or reply from a kernel makes a grader process hold unbounded memory."""
    figures.append(f"hostile batch ({len(batch.results)} submissions, {batch.seconds:.0f} s): "
                   f"peak resident memory of a grader process {batch.peak_memory / 2**20:.0f} MiB")
    assert batch.peak_memory < GRADER_MEMORY_BOUND, (
        f"a grader process peaked at {batch.peak_memory >> 20} MiB; rises: "
        + "; ".join(batch.memory_jumps))
