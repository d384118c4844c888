"""A kernel forge: one long-lived, already jailed process per grader worker that has torch,
numpy, IPython and ipykernel imported and forks a fresh, fully jailed kernel per submission.

Why: a JailedKernel costs about 1.1 s of CPU per submission, most of it the pack's prelude
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
creates them, as for JailedKernel) and then a new cgroup namespace; it unmounts the cgroup
folders, the forge's /tmp (with every other kernel's folder) and home, /proc and devpts, and
mounts fresh ones: size-limited tmpfs on /tmp (holding only this kernel's connection folder,
bound back at its host path) and /home/student, a new devpts and a /proc of the new pid
namespace (/proc/sys, sysrq-trigger, irq and bus read-only). Nothing of the forge stays covered
underneath. It brings loopback up, forks the kernel, drops every capability and its bounding
set itself, and waits. The kernel sets its session, rlimits, oom_score_adj, environment and
working folder, drops the bounding set, sets no_new_privs, clears its groups, becomes the
sandbox uid/gid (which clears its capabilities), checks /proc/self/status, takes a new session
keyring and empties the uid's keyrings, loads JailedKernel's seccomp filter (grader/seccomp.py),
reports "ok" on a pipe and only then runs IPKernelApp with the connection file the host wrote.
When the kernel exits the warden exits, and Linux kills every process left in the namespace
(daemons included).

The host gets a pidfd of the warden (over SCM_RIGHTS): readable exactly when the warden, hence
the kernel, is gone (nbclient's is_alive), and SIGKILL through it ends the whole namespace.
Connection files use the ipc transport in a host folder bound into the forge at the same path,
as with JailedKernel; once the kernel is up, the host takes the file and folder back.

This file is also the forge's program. Inside the jail the package is not importable, so the
server half uses only the standard library (and jupyter_client, which ipykernel imports anyway);
the grader's own modules are imported only when this module is imported as `grader.forge`.
"""

from __future__ import annotations

import asyncio
import base64
import ctypes
import errno
import fcntl
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
from collections.abc import Awaitable, Callable
from pathlib import Path

from jupyter_client import AsyncKernelManager
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.provisioning import LocalProvisioner

if __package__:  # imported as grader.forge (the host side); absent in the forge process
    from . import sandbox as sb
    from .kernel import JailedKernel, KernelStartError, _CappedContext
    from .limits import Limits
    from .seccomp import write_filter

    _SOURCE = Path(__file__).read_bytes()
    """This file as imported: the forge runs the same version as the host side."""
else:  # the forge process: only the names the class definitions below need
    KernelStartError = RuntimeError  # type: ignore[misc,assignment]

DEFAULT_PRELOAD = ("numpy", "torch", "IPython", "zmq", "jupyter_client", "ipykernel.kernelapp",
                   "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.iostream",
                   "ipykernel.comm", "ipykernel.debugger", "IPython.core.history",
                   "IPython.core.completer", "IPython.core.display", "IPython.display",
                   "matplotlib_inline.backend_inline", "sqlite3", "pdb")
"""Imported once by the forge; every forked kernel has them already. (matplotlib itself is left
out: IPython configures its inline backend when a notebook imports it.)"""

_SPEC = "grader-forge"
_SPAWN_TIMEOUT = 30.0
_START_TIMEOUT = 120.0

# --- Linux interfaces (ctypes; the standard library of Python 3.11 lacks them) ----------------

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
MNT_DETACH = 2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP = 1, 4, 24
PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 38, 47, 4
PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 22, 2
_CAP_VERSION_3 = 0x20080522
_SIOCGIFFLAGS, _SIOCSIFFLAGS, _IFF_UP = 0x8913, 0x8914, 0x1

_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong,
                        ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong,
                        ctypes.c_ulong]
_libc.unshare.argtypes = [ctypes.c_int]
_libc.setns.argtypes = [ctypes.c_int, ctypes.c_int]


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _b(s: str | None) -> bytes | None:
    return None if s is None else os.fsencode(s)


def _unshare(flags: int) -> None:
    _check(_libc.unshare(flags), "unshare")


def _setns(fd: int, nstype: int) -> None:
    _check(_libc.setns(fd, nstype), "setns")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    _check(_libc.mount(_b(source), _b(target), _b(fstype), flags, _b(data)), f"mount {target}")


def _umount(target: str) -> None:
    _check(_libc.umount2(_b(target), MNT_DETACH), f"umount {target}")


def _prctl(option: int, arg: int = 0, arg3: int = 0) -> None:
    _check(_libc.prctl(option, arg, arg3, 0, 0), f"prctl {option}")


def _drop_all_caps(bounding: bool = True) -> None:
    """Empty the bounding and ambient sets, then effective, permitted and inheritable."""
    if bounding:
        last = int(Path("/proc/sys/kernel/cap_last_cap").read_text())
        for cap in range(last + 1):
            _prctl(PR_CAPBSET_DROP, cap)
    _prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL)
    header = _CapHeader(_CAP_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _load_seccomp(program: bytes) -> None:
    """Load a compiled classic-BPF seccomp program (an array of struct sock_filter, as
    libseccomp exports it and bwrap --seccomp reads it). Needs no_new_privs."""
    if not program:
        return
    if len(program) % 8:
        raise ValueError("a seccomp program is a whole number of 8-byte instructions")
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.addressof(buf))
    _prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.addressof(prog))


def _status_fields() -> dict[str, str]:
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


_KEYCTL = {"x86_64": 250, "aarch64": 219}.get(os.uname().machine)
_KEYCTL_JOIN_SESSION_KEYRING, _KEYCTL_CLEAR = 1, 7
_KEY_SPEC_USER_KEYRING, _KEY_SPEC_USER_SESSION_KEYRING = -4, -5


def _fresh_keyrings() -> None:
    """As the sandbox uid: a new anonymous session keyring (not the forge's), and empty user
    keyrings. The kernel's user keyrings belong to the uid, not to a process, and outlive
    the kernel: without this a submission could read keys a previous one left there."""
    if _KEYCTL is None:
        return
    _libc.syscall.restype = ctypes.c_long
    for op, arg in ((_KEYCTL_JOIN_SESSION_KEYRING, None),
                    (_KEYCTL_CLEAR, _KEY_SPEC_USER_KEYRING),
                    (_KEYCTL_CLEAR, _KEY_SPEC_USER_SESSION_KEYRING)):
        if _libc.syscall(_KEYCTL, op, ctypes.c_long(0 if arg is None else arg)) < 0:
            err = ctypes.get_errno()
            if err != errno.ENOSYS:
                raise OSError(err, f"keyctl {op}: {os.strerror(err)}")


def _loopback_up() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        req = struct.pack("16sh22x", b"lo", 0)
        flags = struct.unpack("16sh", fcntl.ioctl(s, _SIOCGIFFLAGS, req)[:18])[1]
        fcntl.ioctl(s, _SIOCSIFFLAGS, struct.pack("16sh22x", b"lo", flags | _IFF_UP))


def _close_fds(keep: set[int]) -> None:
    """Close every descriptor from 3 up except `keep`; 0-2 become /dev/null."""
    null = os.open("/dev/null", os.O_RDWR)
    for fd in (0, 1, 2):
        if fd != null:
            os.dup2(null, fd)
    low = 3
    for fd in sorted(k for k in keep if k >= 3):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 20)


# --- the forge process ------------------------------------------------------------------------

_IMPORT_ENV: dict[str, str] = {}

_SERVER_SOCKETS: list[socket.socket] = []
"""Socket objects of the forge; a forked child detaches them so that their finalizers never
close a descriptor number the kernel reuses."""


def _serve(argv: list[str]) -> None:
    """Main loop of the forge, run as `python -c Forge._BOOT FD PRELOAD,...` with this
    file's text sent first on the socket FD."""
    fd, preload = int(argv[0]), [m for m in argv[1].split(",") if m]
    sock = socket.socket(fileno=fd)
    _SERVER_SOCKETS.append(sock)
    if sys.path and sys.path[0] == "":
        del sys.path[0]  # as ipykernel_launcher does; IPython puts it back in the kernel
    t0 = time.monotonic()
    failed = {}
    before = dict(os.environ)
    import importlib
    for name in preload:
        try:
            importlib.import_module(name)
        except Exception as exc:  # a missing optional module only costs speed
            failed[name] = f"{type(exc).__name__}: {exc}"
    # What the imports put in the environment (debugpy does) is what a kernel that imported
    # them itself would have; kernels get it on top of their own environment.
    _IMPORT_ENV.update({k: v for k, v in os.environ.items() if before.get(k) != v})
    import gc
    gc.collect()
    gc.freeze()  # keep the collector from touching (and so copying) inherited objects
    pidns = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    threads = len(os.listdir("/proc/self/task"))
    ready = {"ready": threads == 1, "pid": os.getpid(), "threads": threads,
             "seconds": round(time.monotonic() - t0, 3), "failed": failed,
             "fds": sorted(int(x) for x in os.listdir("/proc/self/fd")),
             "caps": _status_fields().get("CapEff", "")}
    sock.send(json.dumps(ready).encode())
    if threads != 1:
        return  # forking a multi-threaded process is unsafe; the host falls back
    wardens: set[int] = set()
    while True:
        _reap(wardens)
        readable, _, _ = select.select([sock], [], [], 0.5)
        if not readable:
            continue
        try:
            data, fds, _, _ = socket.recv_fds(sock, 1 << 20, 4)
        except OSError:
            return
        for extra in fds:
            os.close(extra)
        if not data:
            return  # the host closed its end: leave, and bwrap takes the kernels with us
        out_fds: list[int] = []
        try:
            req = json.loads(data)
            if req.get("op") == "spawn":
                pid, out_fds = _spawn(req, pidns)
                wardens.add(pid)
                reply = {"ok": True, "pid": pid}
            elif req.get("op") == "ping":
                _reap(wardens)
                reply = {"ok": True, "pid": os.getpid(), "wardens": sorted(wardens),
                         "threads": len(os.listdir("/proc/self/task")),
                         "fds": len(os.listdir("/proc/self/fd")),
                         "rss_kib": int(_status_fields()["VmRSS"].split()[0])}
            elif req.get("op") == "exit":
                sock.send(json.dumps({"ok": True}).encode())
                return
            else:
                reply = {"ok": False, "error": f"unknown request {req.get('op')!r}"}
        except Exception as exc:
            reply = {"ok": False, "error": f"{type(exc).__name__}: {exc}"}
        try:
            socket.send_fds(sock, [json.dumps(reply).encode()], out_fds)
        finally:
            for x in out_fds:
                os.close(x)


def _reap(wardens: set[int]) -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
        wardens.discard(pid)


def _spawn(req: dict, pidns: int) -> tuple[int, list[int]]:
    """Fork a warden as pid 1 of a new pid namespace; return its pid and, for the host, a
    pidfd of it and the read end of the pipe on which it reports the kernel's exit status."""
    threads = len(os.listdir("/proc/self/task"))
    if threads != 1:
        raise RuntimeError(f"the forge has {threads} threads; it forks only with one")
    status_r, status_w = os.pipe2(os.O_CLOEXEC)
    exit_r, exit_w = os.pipe2(os.O_CLOEXEC)
    pidfd = -1
    try:
        try:
            _unshare(CLONE_NEWPID)  # our next child is pid 1 of a new namespace
            try:
                pid = os.fork()
                if pid == 0:
                    _warden(req, status_w, exit_w)  # never returns
            finally:
                if os.getpid() != 1:
                    _setns(pidns, CLONE_NEWPID)  # later children: back to our own namespace
            pidfd = os.pidfd_open(pid)  # our unreaped child: no pid reuse race
        finally:
            os.close(status_w)
            os.close(exit_w)
        report = _read_report(status_r, float(req.get("timeout", _SPAWN_TIMEOUT)))
        if report != "ok":
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
            raise RuntimeError(report or "the kernel process died while it was being set up")
    except BaseException:
        for fd in (pidfd, exit_r):
            if fd >= 0:
                os.close(fd)
        raise
    finally:
        os.close(status_r)
    return pid, [pidfd, exit_r]


def _read_report(fd: int, timeout: float) -> str:
    buf = b""
    end = time.monotonic() + timeout
    while b"\n" not in buf:
        left = end - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            return "timed out while setting up the kernel's jail"
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\n", 1)[0].decode(errors="replace")


def _detach_forge_sockets() -> None:
    for s in _SERVER_SOCKETS:
        try:
            s.detach()
        except OSError:
            pass
    _SERVER_SOCKETS.clear()


def _warden(req: dict, status_w: int, exit_w: int) -> None:
    """pid 1 of the kernel's namespaces. Builds the jail, forks the kernel, drops every
    capability and waits; exits (ending the namespace) when the kernel exits."""
    code = 127
    try:
        _detach_forge_sockets()
        _close_fds({status_w, exit_w})
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)  # the forge gone: so are we
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        _unshare(CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS)
        _mount(None, "/", None, MS_REC | MS_PRIVATE)
        for procs in req["cgroup_procs"]:
            with open(procs, "w") as fh:
                fh.write("0")  # this process, and so all it forks
        for mnt in req["cgroup_mounts"]:
            _umount(mnt)
        if req["cgroup_procs"]:
            _unshare(CLONE_NEWCGROUP)
        _build_filesystem(req)
        socket.sethostname(req.get("hostname", "sandbox"))
        _loopback_up()
        kpid = os.fork()
        if kpid == 0:
            os.close(exit_w)
            _kernel(req, status_w)  # never returns
        os.close(status_w)
        status_w = -1
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _drop_all_caps()
        _prctl(PR_SET_DUMPABLE, 0)

        def forward(signum, _frame):
            try:
                os.kill(kpid, signum)
            except OSError:
                pass

        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(sig, forward)
        while True:
            pid, status = os.wait()
            if pid == kpid:
                os.write(exit_w, struct.pack("i", os.waitstatus_to_exitcode(status)))
                code = 0
                break
    except BaseException as exc:
        if status_w >= 0:
            try:
                os.write(status_w, f"setting up the kernel's jail failed: {type(exc).__name__}: "
                                   f"{exc}\n".encode())
            except OSError:
                pass
    finally:
        os._exit(code)


def _build_filesystem(req: dict) -> None:
    """In the warden's own mount namespace, turn the forge's jail into the kernel's: a new
    /tmp holding only this kernel's connection folder (bound at the same path, which the
    connection file names), a new home, devpts and /proc. The forge's own mounts there are
    unmounted, not covered, so nothing of them stays reachable underneath."""
    conn_dir, home, scratch, uid = req["conn_dir"], req["home"], int(req["scratch"]), req["uid"]
    rel = os.path.relpath(conn_dir, "/tmp")
    if rel.startswith(".."):
        raise ValueError(f"the connection folder must be under /tmp, not {conn_dir}")
    held = os.open(conn_dir, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC)
    # Assemble the new /tmp on the home mount point, then move it into place.
    _mount("tmpfs", home, "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch},mode=1777")
    path = home
    for part in Path(rel).parts:
        path = os.path.join(path, part)
        os.mkdir(path, 0o755)
    _mount(f"/proc/self/fd/{held}", path, None, MS_BIND)
    _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV)
    os.close(held)
    _umount("/tmp")  # the forge's /tmp, every kernel folder and the cgroup folders in it
    _mount(home, "/tmp", None, MS_MOVE)
    _umount(home)  # the forge's home
    _mount("tmpfs", home, "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={scratch},mode=0755,uid={uid},gid={uid}")
    if os.path.isdir("/dev/pts"):
        _umount("/dev/pts")
        _mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
               "newinstance,ptmxmode=0666,mode=620")
    _umount("/proc")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for sub in ("sys", "sysrq-trigger", "irq", "bus"):
        p = f"/proc/{sub}"
        if os.path.exists(p):
            _mount(p, p, None, MS_BIND | MS_REC)
            _mount(None, p, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV
                   | MS_NOEXEC)


def _kernel(req: dict, status_w: int) -> None:
    """The kernel: becomes the sandbox user with no capability, then runs IPKernelApp."""
    code = 1
    try:
        os.setsid()
        _close_fds({status_w})
        signal.pthread_sigmask(signal.SIG_SETMASK, [])
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        os.umask(0o022)
        # The warden is as large as the kernel (it shares the forge's pages): make the kernel
        # and everything it starts the memory cgroup's first choice when it runs out.
        with open("/proc/self/oom_score_adj", "w") as fh:
            fh.write(str(req.get("oom_score_adj", 500)))
        os.environ.clear()
        os.environ.update({**_IMPORT_ENV, **req["env"], "PWD": req["home"]})
        os.chdir(req["home"])
        import resource
        for name, value in req["rlimits"]:
            resource.setrlimit(getattr(resource, name), (value, value))
        uid = gid = int(req["uid"])
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        for cap in range(int(Path("/proc/sys/kernel/cap_last_cap").read_text()) + 1):
            _prctl(PR_CAPBSET_DROP, cap)
        os.setgroups([])
        os.setresgid(gid, gid, gid)
        os.setresuid(uid, uid, uid)  # leaving uid 0 clears permitted and effective caps
        _drop_all_caps(bounding=False)  # and the inheritable set
        _prctl(PR_SET_DUMPABLE, 1)  # as after exec: the kernel may read its own /proc
        _fresh_keyrings()
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        st = _status_fields()
        wrong = [k for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")
                 if int(st.get(k, "1"), 16) != 0]
        if wrong or st.get("NoNewPrivs") != "1" or st.get("Groups", "") != "" or \
                set(st["Uid"].split()) != {str(uid)} or set(st["Gid"].split()) != {str(gid)}:
            raise RuntimeError(f"privileges not dropped: {wrong} {st.get('Uid')} {st.get('Gid')}")
        if "numpy.random" in sys.modules:  # inherited state would repeat in every kernel
            sys.modules["numpy.random"].seed()
        program = base64.b64decode(req.get("seccomp", ""))
        _load_seccomp(program)  # last, as bwrap --seccomp does before exec
        if program and _status_fields().get("Seccomp") != "2":
            raise RuntimeError("the seccomp filter is not in force")
        import ipykernel
        launcher = os.path.join(os.path.dirname(os.path.dirname(ipykernel.__file__)),
                                "ipykernel_launcher.py")
        sys.argv = [launcher, "-f", req["conn_file"]]
        os.write(status_w, b"ok\n")
        os.close(status_w)
        status_w = -1
        from ipykernel.kernelapp import IPKernelApp
        IPKernelApp.launch_instance(argv=["-f", req["conn_file"]])
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 0 if exc.code is None else 1
    except BaseException as exc:
        if status_w >= 0:
            try:
                os.write(status_w, f"starting the kernel failed: {type(exc).__name__}: "
                                   f"{exc}\n".encode())
            except OSError:
                pass
    finally:
        os._exit(code)


# --- the host side ----------------------------------------------------------------------------

class ForgeUnavailable(KernelStartError):
    """The forge cannot provide a kernel (not started, died and could not restart, or this
    machine cannot run it); a caller may fall back to JailedKernel."""


class Forge:
    """One forge per grader worker: `start()` once, `new_kernel(...)` per submission,
    `close()` at the end. Not thread-safe for concurrent starts beyond its own lock.

    Start (and restart) it from a thread that lives as long as the forge: bwrap's
    --die-with-parent is tied to the thread that spawned it.
    """

    def __init__(self, sandbox: "sb.Sandbox", limits: "Limits | None" = None, *,
                 preload: tuple[str, ...] = DEFAULT_PRELOAD, python: str = sys.executable,
                 extra_ro: tuple[tuple[str, str], ...] = (), max_restarts: int = 3,
                 start_timeout: float = _START_TIMEOUT) -> None:
        if sandbox.kind != "bwrap-root":
            raise ForgeUnavailable("the forge needs the grader to run as root (sandbox "
                                   f"bwrap-root, not {sandbox.kind})")
        self.sandbox = sandbox
        self.limits = limits or Limits()
        self.preload = preload
        self.python = python
        self.extra_ro = tuple(extra_ro)
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

    def start(self) -> "Forge":
        with self._lock:
            self._start()
        return self

    def _start(self) -> None:
        if self._closed:
            raise ForgeUnavailable("the forge was closed")
        self._stop()
        if self.root is None:
            # Under /tmp (the warden rebuilds /tmp for each kernel), named like JailedKernel's
            # folders so that sandbox.cleanup_stale removes it after a crash.
            self.root = Path(tempfile.mkdtemp(prefix=f"grader-kernel-{os.getpid()}-forge-",
                                              dir="/tmp"))
            os.chmod(self.root, 0o711)
            for _, inside in self._cgroup_binds():
                Path(inside).mkdir(mode=0o700, parents=True, exist_ok=True)
            # JailedKernel's seccomp filter (grader/seccomp.py), loaded by each forked kernel.
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
        # The forge's jail: exactly the kernel's (sandbox.bwrap_args) without setpriv (kind
        # "forge" is neither bwrap-root nor bwrap-user), with the kernels' runtime folder and
        # the grader's memory and pids cgroup folders.
        jail = sb.Jail(sb.Sandbox(kind="forge", bwrap=self.sandbox.bwrap), self.root, 0, "",
                       self.extra_ro)
        args = sb.bwrap_args(jail, self.limits)
        if args[-1] != "--" or (self.sandbox.setpriv and self.sandbox.setpriv in args):
            raise ForgeUnavailable("unexpected bwrap command line from sandbox.bwrap_args")
        args = [a for a in args[:-1] if a != "--unshare-cgroup-try"]
        for host, inside in self._cgroup_binds():
            args += ["--bind", host, inside]
        return args + ["--", self.python, "-c", self._BOOT, str(fd), ",".join(self.preload)]

    def _cgroup_binds(self) -> list[tuple[str, str]]:
        """(host folder, path in the forge) of the grader's cgroup folders, e.g.
        /sys/fs/cgroup/memory/grader -> <root>/.cgroup/memory."""
        if not self.sandbox.cgroups or self.root is None:
            return []
        out = []
        for d in sb.cgroup_dirs("x"):
            d.parent.mkdir(parents=True, exist_ok=True)
            out.append((str(d.parent), str(self.root / ".cgroup" / d.parent.parent.name)))
        return out

    def _cgroup_procs(self, name: str) -> list[str]:
        """The forge's paths of the cgroup.procs files of the kernel cgroup `name`."""
        binds = dict(self._cgroup_binds())
        return [os.path.join(binds[str(d.parent)], name, "cgroup.procs")
                for d in sb.cgroup_dirs(name)]

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

    def __enter__(self) -> "Forge":
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
            except socket.timeout:
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

    def new_kernel(self, limits: "Limits", uid: int,
                   extra_ro: tuple[tuple[str, str], ...] = ()) -> "ForgedKernel":
        """A kernel to `await start()`, like JailedKernel(sandbox, limits, uid)."""
        if tuple(extra_ro) != self.extra_ro:
            raise ForgeUnavailable("extra read-only folders are fixed when the forge starts")
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


class _ForgeProvisioner(LocalProvisioner):
    """LocalProvisioner (connection file, ports, shutdown logic) with the launch replaced by a
    request to the forge. Set as km.provisioner before km.start_kernel()."""

    forge: Forge | None = None
    spawn_request: dict | None = None
    uid: int = -1
    forged: _ForgedProcess | None = None
    """Kept apart from `process`, which LocalProvisioner.wait() sets to None."""

    async def launch_kernel(self, cmd: list[str], **kwargs):  # type: ignore[override]
        del cmd, kwargs  # nothing of the host's launch arguments (env!) reaches the kernel
        km = self.parent
        assert self.forge is not None and self.spawn_request is not None
        os.chown(km.connection_file, self.uid, self.uid)
        req = {**self.spawn_request, "conn_file": os.path.realpath(km.connection_file)}
        reply, fds = self.forge.request(req)
        if not reply.get("ok") or len(fds) != 2:
            for fd in fds:
                os.close(fd)
            raise KernelStartError(f"the forge could not start a kernel: "
                                   f"{reply.get('error', reply)}")
        self.forged = _ForgedProcess(int(reply["pid"]), fds[0], fds[1])
        self.process = self.forged  # type: ignore[assignment]
        self.pid = int(reply["pid"])
        self.pgid = None  # send_signal goes through the pidfd
        return self.connection_info

    async def cleanup(self, restart: bool = False) -> None:
        await super().cleanup(restart)
        if self.forged is not None:
            self.forged.poll()
            self.forged.close()


class ForgedKernel:
    """A kernel forked by a Forge, with JailedKernel's surface: `await start()`, `km` for
    nbclient, `await is_alive()`, `await close()`, `peak_memory`, `oom_killed`."""

    def __init__(self, forge: Forge, limits: "Limits", uid: int) -> None:
        self.forge = forge
        self.sandbox = forge.sandbox
        self.limits = limits
        self.uid = uid
        self.km: AsyncKernelManager | None = None
        self.cgroup = ""
        self.peak_memory: int | None = None
        self.oom_killed = False
        self.exit_code: int | None = None
        self._root: Path | None = None
        self._context: _CappedContext | None = None
        self._provisioner: _ForgeProvisioner | None = None

    async def start(self, timeout: float = 60.0) -> None:
        if not self.forge.alive and (self.forge.starts == 0 or self.forge._closed):
            raise ForgeUnavailable("the forge is not running")
        root = self.forge._kernel_dir()
        self._root = root
        conn = root / "conn"
        conn.mkdir(mode=0o700)
        os.chown(conn, self.uid, self.uid)
        if self.sandbox.cgroups:
            self.cgroup = f"k{os.getpid()}-{uuid.uuid4().hex[:10]}"
            sb.create_cgroup(self.cgroup, self.limits)
        spec_dir = root / "kernels" / _SPEC
        spec_dir.mkdir(parents=True)
        spec = {"argv": ["grader-forge", "-f", "{connection_file}"],
                "display_name": "Python (grader forge)", "language": "python",
                "interrupt_mode": "message"}
        (spec_dir / "kernel.json").write_text(json.dumps(spec))
        self._context = _CappedContext()
        km = AsyncKernelManager(
            kernel_name=_SPEC, transport="ipc", context=self._context,
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(root / "kernels")]),
            connection_file=str(conn / "kernel.json"))
        km.ip = str(conn / "k")
        km.kernel_id = uuid.uuid4().hex
        prov = _ForgeProvisioner(kernel_id=km.kernel_id, kernel_spec=km.kernel_spec, parent=km)
        prov.forge = self.forge
        prov.uid = self.uid
        prov.spawn_request = self._spawn_request(conn)
        km.provisioner = prov
        self._provisioner = prov
        self.km = km
        try:
            end = time.monotonic() + timeout
            await asyncio.wait_for(km.start_kernel(), timeout)
            await self._wait_ready(km, end)
        except ForgeUnavailable:
            await self.close()
            raise
        except (RuntimeError, asyncio.TimeoutError, OSError) as exc:
            await self.close()
            raise KernelStartError(f"the forged kernel did not start ({exc})") from None
        # The kernel has read its connection file and made its sockets, and no student code
        # has run yet: take both back, so nothing on the host stays writable by the kernel.
        for path, mode in ((conn / "kernel.json", 0o600), (conn, 0o711)):
            os.chown(path, 0, 0)
            os.chmod(path, mode)

    @staticmethod
    async def _wait_ready(km: AsyncKernelManager, end: float) -> None:
        """Wait until the kernel has bound its five sockets, then for a kernel_info reply.
        (Connecting before the sockets exist costs zmq's 0.1 s reconnect interval or more,
        and KernelClient.wait_for_ready adds a 0.2 s wait for IOPub; nbclient makes its own
        client afterwards and does its own checks.)"""
        paths = [f"{km.ip}-{port}" for port in (km.shell_port, km.iopub_port, km.stdin_port,
                                                km.control_port, km.hb_port)]
        while not all(os.path.exists(p) for p in paths):
            if not await km.is_alive():
                raise RuntimeError("the kernel died while starting")
            if time.monotonic() > end:
                raise asyncio.TimeoutError()
            await asyncio.sleep(0.005)
        client = km.client()
        client.start_channels(shell=True, iopub=False, stdin=False, hb=False, control=False)
        try:
            while True:
                client.kernel_info()
                try:
                    msg = await client.get_shell_msg(
                        timeout=max(0.01, min(1.0, end - time.monotonic())))
                except Exception:  # queue.Empty
                    msg = None
                if msg is not None and msg["msg_type"] == "kernel_info_reply":
                    return
                if not await km.is_alive():
                    raise RuntimeError("the kernel died before answering")
                if time.monotonic() > end:
                    raise asyncio.TimeoutError()
        finally:
            client.stop_channels()

    def _spawn_request(self, conn: Path) -> dict:
        lim = self.limits
        rlimits = [("RLIMIT_AS", lim.memory_bytes), ("RLIMIT_CPU", lim.cpu_seconds),
                   ("RLIMIT_FSIZE", lim.file_bytes), ("RLIMIT_NOFILE", lim.open_files),
                   ("RLIMIT_CORE", 0), ("RLIMIT_NPROC", lim.processes)]
        procs = self.forge._cgroup_procs(self.cgroup) if self.cgroup else []
        return {"op": "spawn", "uid": self.uid, "conn_dir": str(conn), "home": sb.HOME,
                "scratch": lim.scratch_bytes, "env": sb.kernel_env(lim), "rlimits": rlimits,
                "cgroup_procs": procs,
                "cgroup_mounts": [inside for _, inside in self.forge._cgroup_binds()],
                "hostname": "sandbox", "timeout": _SPAWN_TIMEOUT,
                "seccomp": base64.b64encode(self.forge.seccomp).decode()}

    async def is_alive(self) -> bool:
        return self.km is not None and await self.km.is_alive()

    async def close(self) -> None:
        km, self.km = self.km, None
        if km is not None:
            try:
                await asyncio.wait_for(km.shutdown_kernel(now=True), 10)
            except Exception:  # already gone, or never started; the clean-up below does the rest
                pass
        prov, self._provisioner = self._provisioner, None
        proc = prov.forged if prov is not None else None
        if proc is not None:
            proc.kill()  # the warden: the kernel's whole pid namespace goes with it
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            self.exit_code = proc.returncode
            proc.close()
        if self.cgroup:
            self.peak_memory = sb.cgroup_peak_memory(self.cgroup)
            self.oom_killed = sb.cgroup_oom_killed(self.cgroup)
            sb.destroy_cgroup(self.cgroup)
        sb.kill_uid(self.uid)
        if self._context is not None:
            self._context.destroy(linger=0)
            self._context = None
        if self._root is not None:
            shutil.rmtree(self._root, ignore_errors=True)
            self._root = None


def kernel_factory(forge: Forge | None, sandbox: "sb.Sandbox", limits: "Limits", uid: int, *,
                   on_fallback: Callable[[str], None] | None = None,
                   max_failures: int = 3) -> Callable[[], Awaitable["JailedKernel | ForgedKernel"]]:
    """The `new_kernel` argument of execute_submission: a forged kernel when the forge can give
    one, else a JailedKernel (the same isolation, started the slow way). After `max_failures`
    forged kernels in a row fail to start, the forge is not asked again."""
    failures = 0

    async def new_kernel():
        nonlocal failures
        if forge is not None and failures < max_failures:
            kernel = forge.new_kernel(limits, uid)
            try:
                await kernel.start()
                failures = 0
                return kernel
            except KernelStartError as exc:  # ForgeUnavailable included
                failures += 1
                if on_fallback is not None:
                    on_fallback(str(exc))
        kernel = JailedKernel(sandbox, limits, uid)
        await kernel.start()
        return kernel

    return new_kernel


if __name__ == "__main__" and not __package__:
    _serve(sys.argv[1:])
