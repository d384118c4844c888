"""The kernel forge (grader/kernels/forge.py) with real kernels and real nbclient: forked
kernels run cells, are as isolated as scratch kernels, do not see each other, die cleanly, and
the forge survives them (and its own death).

Needs root, bubblewrap and the cgroup v1 memory and pids controllers: a security test, so a
skip fails the run unless GRADER_ALLOW_SKIPS=1 (see conftest.py).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import DeadKernelError

from grader import sandbox as sb
from grader.execute import execute_submission
from grader.kernels.forge import Forge, ForgeBackend, ForgedKernel, ForgeUnavailable
from grader.kernels.jail import JailBackend, ScratchKernel
from grader.limits import GIB, Limits

ROOT = Path(__file__).resolve().parents[1]
UNDER_TMP = ROOT.relative_to("/tmp").parts[0] if ROOT.is_relative_to("/tmp") else None
"""The checkout's top folder when it lives under /tmp (its .venv is then kept in every /tmp)."""


def _sandbox() -> sb.Sandbox | None:
    if os.geteuid() != 0:
        return None
    try:
        s = sb.detect_sandbox()
    except sb.SandboxUnavailable:
        return None
    return s if s.own_uid and s.cgroups else None  # cgroups: "v1" or "v2"


SANDBOX = _sandbox()
pytestmark = [pytest.mark.security,
              pytest.mark.skipif(SANDBOX is None, reason="needs root, bwrap and cgroup v1 "
                                                         "memory+pids controllers")]
LIMITS = Limits(cell_timeout=20, notebook_timeout=120)
SECRET = "forge-test-secret-" + os.urandom(8).hex()


@pytest.fixture(scope="module")
def jail():
    backend = JailBackend(SANDBOX, LIMITS)
    yield backend
    sb.kill_uid(backend.uid)
    backend.close()


@pytest.fixture(scope="module")
def lease(jail):
    return jail.lease


@pytest.fixture(scope="module")
def forge():
    os.environ["GRADER_FORGE_TEST_SECRET"] = SECRET  # must reach neither forge nor kernels
    try:
        f = Forge(SANDBOX, LIMITS).start()
    finally:
        del os.environ["GRADER_FORGE_TEST_SECRET"]
    yield f
    f.close()


def run(coro):
    return asyncio.run(coro)


def _text(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out["output_type"] == "stream":
            parts.append(out["text"])
        elif out["output_type"] in ("execute_result", "display_data"):
            parts.append(out["data"].get("text/plain", ""))
        elif out["output_type"] == "error":
            parts.append(f"{out['ename']}: {out['evalue']}")
    return "".join(parts)


async def run_cells(kernel, *sources: str, timeout: int = 30, **kw) -> list[str]:
    """Execute cells with nbclient on the kernel's km (nbclient does not own it)."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in sources])
    client = NotebookClient(nb, km=kernel.km, timeout=timeout, allow_errors=True,
                            kernel_name="", **kw)
    await client.async_execute()
    return [_text(c) for c in nb.cells]


async def started(forge: Forge, uid: int, limits: Limits = LIMITS) -> ForgedKernel:
    kernel = forge.new_kernel(limits, uid)
    await kernel.start()
    return kernel


# --- running cells ----------------------------------------------------------------------------

def test_forked_kernel_runs_cells_and_returns_outputs(forge, lease):
    async def go():
        kernel = await started(forge, lease.uid)
        try:
            assert await kernel.is_alive()
            out = await run_cells(kernel, "x = 6 * 7\nprint('hello')", "x",
                                  "1 / 0", "print(x + 1)")
        finally:
            await kernel.close()
        assert out == ["hello\n", "42", "ZeroDivisionError: division by zero", "43\n"]
        assert not await kernel.is_alive()
    run(go())


def test_interrupt_by_message_keeps_the_kernel(forge, lease):
    async def go():
        kernel = await started(forge, lease.uid)
        try:
            t0 = time.monotonic()
            out = await run_cells(kernel, "import time\ntime.sleep(60)", "print('after')",
                                  timeout=2, interrupt_on_timeout=True)
            assert time.monotonic() - t0 < 20
            assert "KeyboardInterrupt" in out[0] and out[1] == "after\n"
            assert await kernel.is_alive()
        finally:
            await kernel.close()
    run(go())


# --- identity, capabilities, limits -----------------------------------------------------------

def test_kernel_is_the_sandbox_uid_without_capabilities(forge, lease):
    async def go():
        kernel = await started(forge, lease.uid)
        try:
            out = await run_cells(
                kernel,
                "import os, json\nstatus = lambda pid: {l.split(':')[0]: l.split(':', 1)[1]"
                ".strip() for l in open(f'/proc/{pid}/status')}\nprint(json.dumps(status('self')))",
                "print(json.dumps([os.getuid(), os.geteuid(), os.getgid(), os.getgroups(), "
                "os.getpid()]))",
                "print(json.dumps(status(1)))",
                "import signal\ntry:\n    os.kill(1, signal.SIGKILL)\n    print('killed pid 1')\n"
                "except PermissionError:\n    print('EPERM')")
        finally:
            await kernel.close()
        status, ids, warden = (json.loads(o) for o in out[:3])
        kill = out[3]
        for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
            assert int(status[key], 16) == 0, (key, status[key])
            assert int(warden[key], 16) == 0, ("warden", key, warden[key])
        assert status["NoNewPrivs"] == "1"
        assert status["Seccomp"] == ("2" if forge.seccomp else "0")  # a scratch kernel's filter
        assert status["Uid"].split() == [str(lease.uid)] * 4
        assert status["Gid"].split() == [str(lease.uid)] * 4
        assert ids == [lease.uid, lease.uid, lease.uid, [], 2]
        assert warden["Uid"].split() == ["0"] * 4 and warden["NoNewPrivs"] == "1"
        assert kill == "EPERM\n"
    run(go())


def test_rlimits_environment_and_hostname(forge, lease):
    limits = Limits(memory_bytes=5 * GIB, cpu_seconds=123, processes=77, file_bytes=3 << 20,
                    open_files=512, cell_timeout=20)

    async def go():
        kernel = await started(forge, lease.uid, limits)
        try:
            out = await run_cells(
                kernel,
                "import resource, json\nprint(json.dumps({n: resource.getrlimit(getattr("
                "resource, n)) for n in ('RLIMIT_AS', 'RLIMIT_CPU', 'RLIMIT_NPROC', "
                "'RLIMIT_FSIZE', 'RLIMIT_NOFILE', 'RLIMIT_CORE')}))",
                "import os, json\nprint(json.dumps(dict(os.environ)))",
                "import socket\nprint(socket.gethostname())",
                "open('big', 'wb').write(b'x' * (4 << 20))")
        finally:
            await kernel.close()
        rl = json.loads(out[0])
        assert rl == {"RLIMIT_AS": [5 * GIB] * 2, "RLIMIT_CPU": [123] * 2,
                      "RLIMIT_NPROC": [77] * 2, "RLIMIT_FSIZE": [3 << 20] * 2,
                      "RLIMIT_NOFILE": [512] * 2, "RLIMIT_CORE": [0, 0]}
        env = json.loads(out[1])
        assert SECRET not in out[1] and "GRADER_FORGE_TEST_SECRET" not in env
        for key, value in sb.kernel_env().items():
            assert env[key] == value
        assert out[2] == "sandbox\n"
        assert "File too large" in out[3]
    run(go())


def test_seccomp_filter_as_in_jailed_kernel(forge, lease):
    if not forge.seccomp:
        pytest.skip("libseccomp unavailable: scratch kernels load no filter either")
    code = ("import ctypes, os, subprocess\nlibc = ctypes.CDLL(None, use_errno=True)\n"
            "def err(r):\n    return os.strerror(ctypes.get_errno()) if r < 0 else 'ALLOWED'\n"
            "print(err(libc.unshare(0x10000000)))\n"
            "print(err(libc.mount(b'none', b'/tmp', b'tmpfs', 0, None)))\n"
            "libc.syscall.restype = ctypes.c_long\n"
            "print(err(libc.syscall(248, b'user', b'k', b'v', 1, ctypes.c_int(-4))))\n"
            "print(subprocess.run(['unshare', '-U', 'true']).returncode)\n"
            "import threading; t = threading.Thread(target=print, args=('thread',)); t.start()")

    async def go():
        kernel = await started(forge, lease.uid)
        try:
            return (await run_cells(kernel, code))[0]
        finally:
            await kernel.close()

    assert run(go()).split("\n")[:5] == ["Operation not permitted"] * 3 + ["1", "thread"]


def test_forge_runs_jailed_without_the_host_environment(forge):
    pid = _forge_host_pid(forge)
    environ = Path(f"/proc/{pid}/environ").read_bytes()
    assert SECRET.encode() not in environ and b"GRADER_FORGE_TEST_SECRET" not in environ
    root = Path(f"/proc/{pid}/root")
    assert sorted(os.listdir(root / ROOT.relative_to("/"))) == [".venv"]
    assert not (root / ROOT.relative_to("/") / "reference").exists()
    assert os.readlink(f"/proc/{pid}/ns/net") != os.readlink("/proc/self/ns/net")
    assert os.readlink(f"/proc/{pid}/ns/pid") != os.readlink("/proc/self/ns/pid")
    assert forge.info["threads"] == 1  # nothing but the main thread exists at fork time
    assert forge.ping()["threads"] == 1


# --- the same jail as a scratch kernel --------------------------------------------------------

FINGERPRINT = f"PROJECT, PARENT = {str(ROOT)!r}, {str(ROOT.parent)!r}\n" + r"""
import ctypes, json, os, resource, socket, subprocess
def status(pid):
    return {l.split(':')[0]: l.split(':', 1)[1].strip() for l in open(f'/proc/{pid}/status')}
def errno_of(f, *a):
    try:
        f(*a)
        return 'ALLOWED'
    except OSError as e:
        return type(e).__name__
def conn(p):
    return '<conn>' if 'grader-kernel-' in p else p
me, one = status('self'), status(1)
libc = ctypes.CDLL(None, use_errno=True)
fp = {
    'ids': [os.getuid(), os.geteuid(), os.getgid(), os.getgroups(), os.getpid(), os.getppid()],
    'status': {k: me[k] for k in ('CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs',
                                  'Seccomp', 'Seccomp_filters', 'SigBlk', 'SigIgn')},
    'pid1': [one['Uid'], one['CapEff'], errno_of(os.kill, 1, 9)],
    'rlimits': {n: resource.getrlimit(getattr(resource, n)) for n in dir(resource)
                if n.startswith('RLIMIT_')},
    'env': dict(os.environ), 'cwd': os.getcwd(), 'umask': os.umask(0o22),
    'hostname': socket.gethostname(), 'ifaces': [n for _, n in socket.if_nameindex()],
    'connect': errno_of(socket.create_connection, ('127.0.0.1', 22), 1),
    'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit()),
    'ls': {d: sorted(map(conn, os.listdir(d))) for d in ('/', '/etc', '/dev', '/home', '/tmp',
                                                          PARENT, PROJECT, '/root')},
    'writable': {d: os.access(d, os.W_OK) for d in ('/', '/etc', '/dev', '/dev/shm', '/tmp',
                                                     '/usr', PROJECT + '/.venv', '/proc/sys')},
    'mounts': sorted((conn(l.split()[4]), l.split()[5].split(',')[0], l.split(' - ')[1].split()[0])
                     for l in open('/proc/self/mountinfo')),
    'cgroup': open('/proc/self/cgroup').read(),
    'unshare': libc.unshare(0x10000000), 'ns': sorted(os.listdir('/proc/self/ns')),
    'fds': sorted({os.readlink(f'/proc/self/fd/{fd}').split('[')[0]  # kinds: IPython's history
                   for fd in os.listdir('/proc/self/fd')                # thread opens and closes
                   if os.path.exists(f'/proc/self/fd/{fd}')} - {        # these in the background
                  '/tmp/.ipython/profile_default/history.sqlite-journal',
                  '/tmp/.ipython/profile_default'}),
    'threads': len(os.listdir('/proc/self/task')),
    'python': [__import__('sys').path, __import__('sys').argv[0], str(__import__('sys').flags)],
}
print(json.dumps(fp))
"""

# What differs, on purpose: the forge covers /proc/sys read-only as well.
KNOWN_DIFFERENCES = {"mounts": {("/proc/sys", "ro", "proc"), ("/proc/sysrq-trigger", "ro", "proc")}}


def test_same_jail_as_scratch_kernel(forge, jail, lease):
    async def fingerprint(kernel):
        await kernel.start()
        try:
            cwd_ok = (await run_cells(kernel, FINGERPRINT, "open('f', 'w').write('x')"))
        finally:
            await kernel.close()
        fp = json.loads(cwd_ok[0])
        fp["home_writable"] = cwd_ok[1] == "1"
        return fp

    async def go():
        jailed = await fingerprint(jail.scratch_kernel())
        forged = await fingerprint(forge.new_kernel(LIMITS, lease.uid))
        return jailed, forged

    jailed, forged = run(go())
    assert forged["home_writable"] and jailed["home_writable"]
    jailed_mounts = {tuple(m) for m in jailed["mounts"]}
    forged_mounts = {tuple(m) for m in forged["mounts"]}
    extra = forged_mounts - jailed_mounts
    assert extra <= KNOWN_DIFFERENCES["mounts"], extra
    assert jailed_mounts <= forged_mounts, jailed_mounts - forged_mounts
    diff = {}
    for key in jailed:
        if key in ("mounts", "home_writable", "pid1"):
            continue
        a, b = jailed[key], forged[key]
        if isinstance(a, dict) and isinstance(b, dict):
            diff.update({f"{key}.{k}": (a.get(k), b.get(k)) for k in a.keys() | b.keys()
                         if a.get(k) != b.get(k)})
        elif a != b:
            diff[key] = (a, b)
    assert not diff, f"(ScratchKernel, ForgedKernel) differ: {diff}"
    # pid 1 is bwrap's init there and the warden here: both uid 0, no effective capability,
    # not killable by the kernel.
    assert forged["pid1"] == jailed["pid1"] == ["0\t0\t0\t0", "0000000000000000", "PermissionError"]
    assert jailed["unshare"] == -1 or not forge.seccomp


# --- what a kernel can see --------------------------------------------------------------------

def test_kernel_sees_neither_project_nor_other_kernels(forge, lease):
    view = ("import os, json\n"
            f"print(json.dumps({{'work_main': sorted(os.listdir({str(ROOT)!r})), "
            "'root': sorted(os.listdir('/')), "
            "'tmp': sorted(os.listdir('/tmp')), "
            "'home': sorted(os.listdir(os.path.expanduser('~'))), "
            "'forge_dir': sorted(os.listdir('/tmp/' + [d for d in os.listdir('/tmp') "
            "if d.startswith('grader-kernel-')][0])), "
            "'mounts': [l.split()[4] for l in open('/proc/self/mountinfo')], "
            "'pids': sorted(int(p) for p in os.listdir('/proc') if p.isdigit())}))")
    plant = ("open('/tmp/planted', 'w').write('x'); "
             "open(os.path.expanduser('~/planted'), 'w').write('x'); print('planted')")

    async def go():
        first = await started(forge, lease.uid)
        second = await started(forge, lease.uid)  # alive at the same time
        try:
            a = json.loads((await run_cells(first, view))[0])
            b = json.loads((await run_cells(second, view))[0])
            assert (await run_cells(first, "import os\n" + plant)) == ["planted\n"]
        finally:
            await first.close()
            await second.close()
        third = await started(forge, lease.uid)
        try:
            c = json.loads((await run_cells(third, view))[0])
        finally:
            await third.close()
        return a, b, c

    a, b, c = run(go())
    for v in (a, b, c):
        assert v["work_main"] == [".venv"]
        assert "sys" not in v["root"] and "run" not in v["root"]
        visible = [d for d in v["tmp"] if not d.startswith(".") and d != UNDER_TMP]
        assert len(visible) == 1 and visible[0].startswith("grader-kernel-"), v["tmp"]
        assert len(v["forge_dir"]) == 1, v["forge_dir"]  # only its own folder
        assert not any(".cgroup" in m or "cgroup" in m for m in v["mounts"])
        assert v["home"] == [] and "planted" not in v["tmp"]
        assert v["pids"] == [1, 2], v["pids"]
        # Every mount point appears once: nothing of the forge is left covered underneath.
        assert len(v["mounts"]) == len(set(v["mounts"])), v["mounts"]
    assert a["forge_dir"] != b["forge_dir"]


def test_no_network(forge, lease):
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]
    accepted = []

    def accept():
        end = time.monotonic() + 20
        while time.monotonic() < end:
            try:
                conn, peer = listener.accept()
                accepted.append(peer)
                conn.close()
            except OSError:
                pass

    t = threading.Thread(target=accept, daemon=True)
    t.start()
    code = ("import socket\n"
            f"try:\n    socket.create_connection(('127.0.0.1', {port}), timeout=3)\n"
            "    print('CONNECTED')\nexcept OSError as e:\n    print('refused', type(e).__name__)\n"
            "try:\n    socket.getaddrinfo('example.com', 80)\n    print('RESOLVED')\n"
            "except OSError:\n    print('no dns')\n"
            "print([n for _, n in socket.if_nameindex()])\n"
            "s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(); print('lo works')")

    async def go():
        kernel = await started(forge, lease.uid)
        try:
            return (await run_cells(kernel, code))[0]
        finally:
            await kernel.close()

    out = run(go())
    listener.close()
    assert "CONNECTED" not in out and "RESOLVED" not in out and not accepted
    assert "refused" in out and "no dns" in out and "['lo']" in out and "lo works" in out


# --- processes and death ----------------------------------------------------------------------

def test_daemon_dies_with_the_kernel(forge, lease):
    daemon = ("import os, subprocess, time\n"
              "if os.fork() == 0:\n    os.setsid()\n    if os.fork() == 0:\n"
              "        os.execv('/bin/sleep', ['sleep', '1000'])\n    os._exit(0)\n"
              "os.wait()\n"
              "p = subprocess.Popen(['sleep', '1000'], start_new_session=True)\n"
              "time.sleep(0.3); print('spawned')")

    async def go():
        kernel = await started(forge, lease.uid)
        try:
            assert (await run_cells(kernel, daemon)) == ["spawned\n"]
            assert len(sb.processes_of_uid(lease.uid)) >= 3  # kernel, daemon, child
            # Only the warden is killed (what close() does first); the namespace goes with it.
            await kernel.km.shutdown_kernel(now=True)
            end = time.monotonic() + 3
            while sb.processes_of_uid(lease.uid) and time.monotonic() < end:
                await asyncio.sleep(0.05)
            return sb.processes_of_uid(lease.uid)
        finally:
            await kernel.close()

    assert run(go()) == []


def test_os_exit_is_a_dead_kernel_and_the_forge_carries_on(forge, lease):
    async def go():
        kernel = await started(forge, lease.uid)
        try:
            with pytest.raises(DeadKernelError):
                await run_cells(kernel, "print('before')", "import os; os._exit(3)",
                                "print('never')")
            assert not await kernel.is_alive()
        finally:
            await kernel.close()
        assert kernel.exit_code == 3
        again = await started(forge, lease.uid)
        try:
            assert await run_cells(again, "print('alive')") == ["alive\n"]
        finally:
            await again.close()
    run(go())


def test_kernel_killed_mid_run_is_seen_dead(forge, lease):
    async def go():
        kernel = await started(forge, lease.uid)
        try:
            task = asyncio.ensure_future(run_cells(kernel, "import time; time.sleep(30)"))
            await asyncio.sleep(1)
            for pid in sb.processes_of_uid(lease.uid):
                os.kill(pid, signal.SIGKILL)
            with pytest.raises(DeadKernelError):
                await task
        finally:
            await kernel.close()
        assert kernel.exit_code == -signal.SIGKILL
        again = await started(forge, lease.uid)
        try:
            assert await run_cells(again, "print(1)") == ["1\n"]
        finally:
            await again.close()
    run(go())


def test_execute_submission_reruns_after_a_kernel_death():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("a = 1"),
        nbformat.v4.new_code_cell("import os; os._exit(1)"),
        nbformat.v4.new_code_cell("print(a + 1)")])
    backend = ForgeBackend(SANDBOX, LIMITS)
    try:
        assert backend.forge is not None and backend.forge.alive
        result = run(execute_submission(nb, [], backend=backend, limits=LIMITS,
                                        prelude="import torch"))
    finally:
        backend.close()
    assert [c.status for c in result.cells] == ["ok", "excluded", "ok"]
    assert result.cells[2].output == "2\n"
    assert result.kernels_started == 2 and not result.notes


def test_a_pack_s_preload_is_in_every_forked_kernel():
    """`[environment] preload` is imported by the forge, not by each kernel; a module that
    cannot be imported there is only reported, and kernels still start from the forge."""
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, time\nt = time.monotonic()\nbefore = 'd2l.torch' in sys.modules\n"
        "from d2l import torch as d2l\n"
        "print(before, time.monotonic() - t < 0.2, d2l.corr2d.__name__)")])
    preload = ("d2l.torch", "no_such_module_for_the_forge")
    backend = ForgeBackend(SANDBOX, LIMITS, preload=preload)
    try:
        assert backend.forge is not None and backend.forge.alive
        assert "no_such_module_for_the_forge" in backend.forge.info["failed"]
        assert "d2l.torch" not in backend.forge.info["failed"]
        result = run(execute_submission(nb, [], backend=backend, limits=LIMITS))
        assert result.cells[0].output == "True True corr2d\n", result.cells[0]
        assert not result.notes
    finally:
        backend.close()


def test_memory_limits(forge, lease):
    limits = Limits(memory_bytes=3 * GIB, cell_timeout=60)
    hog = ("import subprocess, sys\n"
           "code = 'b = bytearray(1400 * 2**20); import time; time.sleep(4)'\n"
           "ps = [subprocess.Popen([sys.executable, '-c', code]) for _ in range(3)]\n"
           "print(sorted(p.wait() for p in ps))")

    async def go():
        kernel = await started(forge, lease.uid, limits)
        try:
            out = await run_cells(kernel, "x = bytearray(4 * 2**30)", "print('alive')", hog,
                                  timeout=60)
        finally:
            await kernel.close()
        return out, kernel

    out, kernel = run(go())
    assert out[0] == "MemoryError: " and out[1] == "alive\n"  # RLIMIT_AS
    assert "-9" in out[2], out[2]  # the memory cgroup killed one of the hogs
    assert kernel.oom_killed and kernel.peak_memory is not None
    assert kernel.peak_memory <= limits.memory_bytes + limits.scratch_bytes


def test_out_of_memory_kills_a_hog_not_the_warden(forge, lease):
    """Many hogs, each larger than the kernel but not by much: the cgroup's OOM killer picks
    hogs, never the warden (as large as the kernel: it shares the forge's pages), so the
    kernel lives on, as it would in a scratch kernel."""
    limits = Limits(memory_bytes=2 * GIB, cell_timeout=60)
    hog = ("import subprocess, sys\n"
           "code = 'b = bytearray(300 * 2**20); import time; time.sleep(4)'\n"
           "ps = [subprocess.Popen([sys.executable, '-c', code]) for _ in range(9)]\n"
           "print(sorted(p.wait() for p in ps)[0])")

    async def go():
        kernel = await started(forge, lease.uid, limits)
        try:
            out = await run_cells(kernel, hog, "print('alive')", timeout=60)
            alive = await kernel.is_alive()
        finally:
            await kernel.close()
        return out, alive, kernel

    out, alive, kernel = run(go())
    assert out == ["-9\n", "alive\n"] and alive and kernel.oom_killed


# --- speed ------------------------------------------------------------------------------------

def test_torch_is_already_imported(forge, lease):
    async def go():
        t0 = time.monotonic()
        kernel = await started(forge, lease.uid)
        start = time.monotonic() - t0
        try:
            out = await run_cells(
                kernel,
                "import sys, time\nloaded = 'torch' in sys.modules\nt = time.perf_counter()\n"
                "import torch\nprint(loaded, time.perf_counter() - t)",
                "print((torch.ones(64, 64) @ torch.ones(64, 64)).sum().item())",
                "import numpy as np; print(np.ones(3).sum())")
        finally:
            await kernel.close()
        return start, out

    start, out = run(go())
    loaded, seconds = out[0].split()
    assert loaded == "True" and float(seconds) < 0.05, out[0]
    assert out[1] == "262144.0\n" and out[2] == "3.0\n"
    assert start < 5, f"forged kernel took {start:.2f} s to start"


def test_forge_does_not_accumulate_anything(forge, lease):
    async def cycle(n):
        for _ in range(n):
            kernel = await started(forge, lease.uid)
            await kernel.close()

    run(cycle(3))
    before = forge.ping()
    run(cycle(25))
    after = forge.ping()
    assert after["wardens"] == [] and after["threads"] == 1
    assert after["fds"] == before["fds"]
    assert after["rss_kib"] < before["rss_kib"] + 20 * 1024


# --- several forges, restarts, fallback -------------------------------------------------------

def test_two_forges_two_uids_run_concurrently(forge, lease):
    other_lease = sb.UidLease.acquire()
    other = Forge(SANDBOX, LIMITS).start()
    cell = ("import os, time, json\nt0 = time.time(); time.sleep(2)\n"
            "print(json.dumps([os.getuid(), t0, time.time(), "
            "sorted(int(p) for p in os.listdir('/proc') if p.isdigit())]))")

    async def one(f, uid):
        kernel = await started(f, uid)
        try:
            return json.loads((await run_cells(kernel, cell))[0])
        finally:
            await kernel.close()

    try:
        async def both():
            return await asyncio.gather(one(forge, lease.uid), one(other, other_lease.uid))

        a, b = run(both())
    finally:
        other.close()
        sb.kill_uid(other_lease.uid)
        other_lease.release()
    assert {a[0], b[0]} == {lease.uid, other_lease.uid}
    assert max(a[1], b[1]) < min(a[2], b[2]), "the two cells did not overlap in time"
    assert a[3] == b[3] == [1, 2]


def test_forge_restarts_after_it_dies(lease):
    f = Forge(SANDBOX, LIMITS).start()
    try:
        async def go():
            kernel = await started(f, lease.uid)
            try:
                os.kill(_forge_host_pid(f), signal.SIGKILL)
                end = time.monotonic() + 5
                while await kernel.is_alive() and time.monotonic() < end:
                    await asyncio.sleep(0.05)
                assert not await kernel.is_alive()  # the forge took its kernels with it
            finally:
                await kernel.close()
            again = await started(f, lease.uid)
            try:
                assert await run_cells(again, "print('back')") == ["back\n"]
            finally:
                await again.close()
        run(go())
        assert f.restarts == 1 and f.starts == 2
    finally:
        f.close()
    assert f.root is None


def test_backend_falls_back_to_scratch_kernels():
    backend = ForgeBackend(SANDBOX, LIMITS)
    f = backend.forge
    assert f is not None
    f.close()  # a closed forge cannot give kernels

    async def go():
        kernel = await backend.new_kernel()
        try:
            assert isinstance(kernel, ScratchKernel) and "forge failed" in kernel.note
            return await run_cells(kernel, "import os; print(os.getuid())")
        finally:
            await kernel.close()

    try:
        assert run(go()) == [f"{backend.uid}\n"]
        with pytest.raises(ForgeUnavailable):
            f.new_kernel(LIMITS, backend.uid)
    finally:
        backend.close()


def test_no_leftovers(lease):
    """What the tests above leave: no sandbox-uid process, no forge folder, no cgroup."""
    assert sb.processes_of_uid(lease.uid) == []
    mine = [p for p in Path("/tmp").glob(f"grader-kernel-{os.getpid()}-forge-*")]
    assert len(mine) <= 1  # the module's forge, closed at teardown
    left = [d.name for d in (Path("/sys/fs/cgroup/memory/grader")).glob(f"k{os.getpid()}-*")]
    assert left == []


# --- helpers ----------------------------------------------------------------------------------

def _children(pid: int) -> list[int]:
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(x) for x in text.split()]


def _forge_host_pid(forge: Forge) -> int:
    """bwrap (ours) -> bwrap's init -> the forge."""
    assert forge._proc is not None
    for init in _children(forge._proc.pid):
        for pid in _children(init):
            return pid
    raise AssertionError("forge process not found")
