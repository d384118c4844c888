"""A kernel forge: one long-lived, already jailed process per grader worker that has torch,
numpy, IPython and ipykernel imported and forks a fresh, fully jailed kernel per submission.

Why: a kernel started from scratch (grader/kernels/jail.py) costs about 1.1 s of CPU per submission, most of it the pack's prelude
`import torch` (0.8 s), the rest starting Python and ipykernel. A forked kernel inherits both,
copy-on-write: about 0.1 s of CPU and 0.08 s of wall time per kernel
(benchmarks/forge_startup.py).

Layout (host pid namespace on the left):

    grader worker ── bwrap ── (bwrap init) ── forge           root, capabilities, jailed
                                                │  fork per kernel, into a new pid namespace
                                                └─ warden      pid 1 of the kernel's namespaces,
                                                     │         root without any capability
                                                     └─ kernel  sandbox uid, no capability,
                                                                 rlimits, cgroups, seccomp

The forge's jail is `sandbox.bwrap_args` (the same read-only system, Python installation, /etc
files, no network, no project, reference or output folder) without the final setpriv: the forge
stays root *inside its jail* because it mounts and changes uid for each kernel. It never runs
student code: it reads requests from the host on a socket pair, forks and reaps. Its program
(this file) arrives on that socket, so it is not on any command line a kernel can read.

Per kernel the forge forks a *warden* as pid 1 of a new pid namespace. The warden unshares new
mount, network, ipc and uts namespaces, joins the kernel's memory and pids cgroups (the host
creates them, as for scratch kernels) and then a new cgroup namespace; it unmounts the cgroup
folders, the forge's /tmp (with every other kernel's folder) and home, /proc and devpts, and
mounts fresh ones: size-limited tmpfs on /tmp (holding only this kernel's connection folder,
bound back at its host path) and /home/student, a new devpts and a /proc of the new pid
namespace (/proc/sys, sysrq-trigger, irq and bus read-only). Nothing of the forge stays covered
underneath. It brings loopback up, forks the kernel, drops every capability and its bounding
set itself, and waits. The kernel sets its session, rlimits, oom_score_adj, environment and
working folder, drops the bounding set, sets no_new_privs, clears its groups, becomes the
sandbox uid/gid (which clears its capabilities), checks /proc/self/status, takes a new session
keyring and empties the uid's keyrings, loads the scratch kernels' seccomp filter (grader/seccomp.py),
reports "ok" on a pipe and only then runs IPKernelApp with the connection file the host wrote.
When the kernel exits the warden exits, and Linux kills every process left in the namespace
(daemons included).

The host gets a pidfd of the warden (over SCM_RIGHTS): readable exactly when the warden, hence
the kernel, is gone (nbclient's is_alive), and SIGKILL through it ends the whole namespace.
Connection files use the ipc transport in a host folder bound into the forge at the same path,
as with scratch kernels; once the kernel is up, the host takes the file and folder back.

The forge's program is grader/kernels/forge_server.py, sent to the jail as source; this module is
the host side.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

from .. import sandbox as sb
from ..limits import Limits
from ..seccomp import write_filter
from .base import Kernel, KernelStartError
from .forge_server import _SPAWN_TIMEOUT, DEFAULT_PRELOAD
from .jail import JailBackend

_SOURCE = (Path(__file__).parent / "forge_server.py").read_bytes()
"""The forge's program, as installed: the forge runs the same version as the host side."""
_START_TIMEOUT = 120.0


class ForgeUnavailable(KernelStartError):
    """The forge cannot provide a kernel (not started, died and could not restart, or this
    machine cannot run it); ForgeBackend then starts kernels from scratch."""


class Forge:
    """One forge per grader worker: `start()` once, `new_kernel(...)` per submission,
    `close()` at the end. Not thread-safe for concurrent starts beyond its own lock.

    Start (and restart) it from a thread that lives as long as the forge: bwrap's
    --die-with-parent is tied to the thread that spawned it.
    """

    def __init__(self, sandbox: sb.Sandbox, limits: Limits | None = None, *,
                 preload: tuple[str, ...] = DEFAULT_PRELOAD, python: str = sys.executable,
                 max_restarts: int = 3, start_timeout: float = _START_TIMEOUT) -> None:
        if not sandbox.own_uid:
            raise ForgeUnavailable("the forge needs the grader to run as root (sandbox "
                                   f"bwrap-root, not {sandbox.kind})")
        self.sandbox = sandbox
        self.limits = limits or Limits()
        self.preload = preload
        self.python = python
        self.max_restarts = max_restarts
        self.start_timeout = start_timeout
        self.restarts = 0
        self.starts = 0
        self.info: dict = {}
        self.seccomp = b""
        """The compiled seccomp program every kernel loads (empty without libseccomp)."""
        self.root: Path | None = None
        self._proc: subprocess.Popen | None = None
        self._sock: socket.socket | None = None
        self._log = None
        self._lock = threading.Lock()
        self._closed = False

    # lifecycle

    def start(self) -> Forge:
        with self._lock:
            self._start()
        return self

    def _start(self) -> None:
        if self._closed:
            raise ForgeUnavailable("the forge was closed")
        self._stop()
        if self.root is None:
            # Under /tmp (the warden rebuilds /tmp for each kernel), named like other kernels'
            # folders so that sandbox.cleanup_stale removes it after a crash.
            self.root = Path(tempfile.mkdtemp(prefix=f"grader-kernel-{os.getpid()}-forge-",
                                              dir="/tmp"))
            os.chmod(self.root, 0o711)
            for _, inside in self._cgroup_binds():
                Path(inside).mkdir(mode=0o700, parents=True, exist_ok=True)
            # the scratch kernels' seccomp filter (grader/seccomp.py), loaded by each forked kernel.
            bpf = self.root / "seccomp.bpf"
            self.seccomp = bpf.read_bytes() if write_filter(bpf) else b""
        self.starts += 1
        host, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._log = open(self.root / "forge.log", "ab")
        os.chmod(self.root / "forge.log", 0o600)
        try:
            argv = self._argv(child.fileno())
            self._proc = subprocess.Popen(argv, pass_fds=[child.fileno()],
                                          stdin=subprocess.DEVNULL, stdout=self._log,
                                          stderr=self._log, cwd="/", env={"PATH": "/usr/bin:/bin"})
        except OSError as exc:
            host.close()
            raise ForgeUnavailable(f"the forge could not be started: {exc}") from None
        finally:
            child.close()
        self._sock = host
        try:
            # The program travels over the socket, not on the command line, so that it does
            # not show in the kernels' /proc/self/cmdline.
            host.settimeout(10)
            host.send(_SOURCE)
            reply, fds = self._recv(self.start_timeout)
        except (ForgeUnavailable, OSError) as exc:
            self._stop()
            raise ForgeUnavailable(f"the forge did not start: {exc}") from None
        for fd in fds:
            os.close(fd)
        self.info = reply
        if not reply.get("ready"):
            self._stop()
            raise ForgeUnavailable(f"the forge is not usable: {reply}")

    _BOOT = ("import socket,sys;s=socket.socket(fileno=int(sys.argv[1]));src=s.recv(1<<22);"
             "s.detach();exec(compile(src,'grader-forge','exec'))")

    def _argv(self, fd: int) -> list[str]:
        # The forge's jail: exactly the kernel's (sandbox.bwrap_args) without setpriv (no
        # uid to drop to), with the kernels' runtime folder and the grader's memory and pids
        # cgroup folders.
        assert self.root is not None
        args = sb.bwrap_args(sb.Jail(self.sandbox, self.root, None), self.limits)
        if args[-1] != "--" or (self.sandbox.setpriv and self.sandbox.setpriv in args):
            raise ForgeUnavailable("unexpected bwrap command line from sandbox.bwrap_args")
        args = [a for a in args[:-1] if a != "--unshare-cgroup-try"]
        for host, inside in self._cgroup_binds():
            args += ["--bind", host, inside]
        # Default signal dispositions, as for scratch kernels: forked kernels inherit the forge's.
        return [*self.sandbox.reset_signals, *args, "--", self.python, "-c", self._BOOT, str(fd),
                ",".join(self.preload)]

    def _cgroup_binds(self) -> list[tuple[str, str]]:
        """(host folder, path in the forge) of the grader's cgroup folders, e.g.
        /sys/fs/cgroup/memory/grader -> <root>/.cgroup/memory."""
        tree = self.sandbox.cgroup_tree()
        if tree is None or self.root is None:
            return []
        out = []
        for parent in tree.parents():
            parent.mkdir(parents=True, exist_ok=True)
            out.append((str(parent), str(self.root / ".cgroup" / parent.parent.name)))
        return out

    def _cgroup_procs(self, name: str) -> list[str]:
        """The forge's paths of the cgroup.procs files of the kernel cgroup `name`."""
        binds = dict(self._cgroup_binds())
        return [os.path.join(binds[str(d.parent)], name, "cgroup.procs")
                for d in self.sandbox.cgroup_tree().dirs(name)]  # type: ignore[union-attr]

    @property
    def alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None and self._sock is not None

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop()
            if self.root is not None:
                shutil.rmtree(self.root, ignore_errors=True)
                self.root = None

    def _stop(self) -> None:
        sock, self._sock = self._sock, None
        if sock is not None:
            sock.close()  # the forge leaves on EOF; bwrap ends every kernel with it
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> Forge:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.close()

    # talking to the forge

    def _send(self, msg: dict) -> None:
        assert self._sock is not None
        self._sock.settimeout(10)
        self._sock.send(json.dumps(msg).encode())

    def _recv(self, timeout: float) -> tuple[dict, list[int]]:
        assert self._sock is not None
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            if left <= 0:
                raise ForgeUnavailable("no answer from the forge in time")
            if self._proc is not None and self._proc.poll() is not None:
                raise ForgeUnavailable(f"the forge exited ({self._proc.returncode}); "
                                       f"log: {self.log_tail()!r}")
            self._sock.settimeout(min(left, 0.5))
            try:
                data, fds, _, _ = socket.recv_fds(self._sock, 1 << 20, 4)
            except TimeoutError:
                continue
            except OSError as exc:
                raise ForgeUnavailable(f"lost the forge: {exc}") from None
            if not data:
                for fd in fds:
                    os.close(fd)
                raise ForgeUnavailable("the forge closed its socket")
            return json.loads(data), fds

    def request(self, msg: dict, timeout: float = _SPAWN_TIMEOUT + 10) -> tuple[dict, list[int]]:
        """One request/reply exchange; restarts a dead forge (at most max_restarts times)."""
        with self._lock:
            for attempt in (0, 1):
                if not self.alive:
                    if self._closed or self.starts == 0:
                        raise ForgeUnavailable("the forge is not running")
                    if self.restarts >= self.max_restarts:
                        raise ForgeUnavailable(f"the forge died {self.restarts + 1} times")
                    self.restarts += 1
                    self._start()
                try:
                    self._send(msg)
                    return self._recv(timeout)
                except (ForgeUnavailable, OSError):
                    self._stop()  # a forge that missed an answer is not trusted again
                    if attempt:
                        raise
            raise AssertionError("unreachable")

    def ping(self) -> dict:
        return self.request({"op": "ping"}, timeout=10)[0]

    def log_tail(self, n: int = 2000) -> str:
        if self.root is None:
            return ""
        try:
            return (self.root / "forge.log").read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""

    # kernels

    def new_kernel(self, limits: Limits, uid: int) -> ForgedKernel:
        """A kernel to `await start()`, jailed as a scratch kernel would be."""
        if not self.alive and (self.starts == 0 or self._closed):
            raise ForgeUnavailable("the forge is not running")
        return ForgedKernel(self, limits, uid)

    def _kernel_dir(self) -> Path:
        if self.root is None:
            raise ForgeUnavailable("the forge is not running")
        d = self.root / uuid.uuid4().hex[:12]
        d.mkdir(mode=0o711)
        return d


class _ForgedProcess:
    """What LocalProvisioner needs of a Popen, for the warden: a pidfd that becomes readable
    when the warden (and so the kernel and everything in its namespace) is gone, and a pipe on
    which the warden reports the kernel's exit status."""

    stdin = stdout = stderr = None

    def __init__(self, pid: int, pidfd: int, exitfd: int) -> None:
        self.pid = pid
        self.returncode: int | None = None
        self._pidfd: int | None = pidfd
        self._exitfd: int | None = exitfd

    def _gone(self, timeout_ms: int) -> bool:
        if self._pidfd is None:
            return True
        p = select.poll()
        p.register(self._pidfd, select.POLLIN)
        return bool(p.poll(timeout_ms))

    def poll(self) -> int | None:
        if self.returncode is None and self._gone(0):
            self.returncode = self._exit_code()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not self._gone(-1 if timeout is None else int(timeout * 1000)):
                raise subprocess.TimeoutExpired("kernel", timeout or 0)
            self.returncode = self._exit_code()
        return self.returncode

    def _exit_code(self) -> int:
        code = -signal.SIGKILL  # killed before it could say (e.g. by us)
        if self._exitfd is not None:
            os.set_blocking(self._exitfd, False)
            try:
                data = os.read(self._exitfd, 4)
                if len(data) == 4:
                    code = struct.unpack("i", data)[0]
            except OSError:
                pass
        return code

    def send_signal(self, signum: int) -> None:
        if self._pidfd is None or self.poll() is not None:
            return
        try:
            signal.pidfd_send_signal(self._pidfd, signum)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def close(self) -> None:
        for attr in ("_pidfd", "_exitfd"):
            fd = getattr(self, attr)
            if fd is not None:
                os.close(fd)
                setattr(self, attr, None)


class ForgedKernel(Kernel):
    """A kernel forked by a Forge; used and closed as any other Kernel."""

    def __init__(self, forge: Forge, limits: Limits, uid: int) -> None:
        super().__init__(limits, forge._kernel_dir(), uid=uid,
                         tree=forge.sandbox.cgroup_tree())
        self.forge = forge
        self._forged: _ForgedProcess | None = None

    @property
    def exit_code(self) -> int | None:
        """The kernel's exit status once it is gone (the warden reports it)."""
        return None if self._forged is None else self._forged.returncode

    async def _launch(self, connection_file: str) -> _ForgedProcess:
        assert self.uid is not None
        os.chown(connection_file, self.uid, self.uid)
        request = {**self._spawn_request(), "conn_file": os.path.realpath(connection_file)}
        # Called on this thread: a forge restarted from a short-lived thread would die with it.
        reply, fds = self.forge.request(request)
        if not reply.get("ok") or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            raise KernelStartError(f"the forge could not start a kernel: "
                                   f"{reply.get('error', reply)}")
        self._forged = _ForgedProcess(int(reply["pid"]), fds[0], fds[1])
        return self._forged

    def _spawn_request(self) -> dict:
        procs = self.forge._cgroup_procs(self.cgroup) if self.cgroup else []
        return {"op": "spawn", "uid": self.uid, "conn_dir": str(self._conn), "home": sb.HOME,
                "scratch": self.limits.scratch_bytes, "env": sb.kernel_env(),
                "rlimits": self.limits.rlimits(per_user_procs=True), "cgroup_procs": procs,
                "cgroup_mounts": [inside for _, inside in self.forge._cgroup_binds()],
                "hostname": "sandbox", "timeout": _SPAWN_TIMEOUT, "keep_ro": sb.python_roots(),
                "seccomp": base64.b64encode(self.forge.seccomp).decode()}


class ForgeBackend(JailBackend):
    """Kernels forked from a warm forge; a kernel the forge cannot give is started from
    scratch in the same jail (after `MAX_FAILURES` failures in a row, the forge is not asked
    again)."""

    name = "forge"
    MAX_FAILURES = 3

    def __init__(self, sandbox: sb.Sandbox, limits: Limits, *,
                 preload: tuple[str, ...] = ()) -> None:
        super().__init__(sandbox, limits, preload=preload)
        self.forge: Forge | None = None
        self.failures = 0
        extra = tuple(m for m in preload if m not in DEFAULT_PRELOAD)
        try:
            self.forge = Forge(sandbox, limits, preload=DEFAULT_PRELOAD + extra).start()
        except ForgeUnavailable as exc:
            print(f"grader: kernels start the slow way (the forge is unavailable: {exc})",
                  file=sys.stderr)

    async def new_kernel(self) -> Kernel:
        note = ""
        if self.forge is not None and self.failures < self.MAX_FAILURES:
            assert self.uid is not None
            try:
                kernel = self.forge.new_kernel(self.limits, self.uid)
                await kernel.start()
                self.failures = 0
                return kernel
            except KernelStartError as exc:  # ForgeUnavailable included
                self.failures += 1
                note = f"the kernel forge failed, a kernel was started from scratch: {exc}"
        kernel = await super().new_kernel()
        kernel.note = note
        return kernel

    def close(self) -> None:
        if self.forge is not None:
            self.forge.close()
            self.forge = None
        super().close()
