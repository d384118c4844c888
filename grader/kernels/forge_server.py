"""The forge's own program: runs inside the forge's jail as root, never imported by student
code. It reads requests from the host on a socket pair, forks a warden per kernel (pid 1 of
new namespaces), and the warden forks the kernel, which drops to the sandbox uid before any
student code runs. The design and its reasons are in grader/kernels/forge.py.

Only the standard library is used here (and ipykernel in the kernel), because the grader
package is not visible inside the jail: the host sends this file's source over the socket.
"""

from __future__ import annotations

import base64
import ctypes
import errno
import fcntl
import json
import os
import select
import signal
import socket
import struct
import sys
import time
from pathlib import Path

DEFAULT_PRELOAD = ("numpy", "torch", "IPython", "zmq", "jupyter_client", "ipykernel.kernelapp",
                   "ipykernel.ipkernel", "ipykernel.zmqshell", "ipykernel.iostream",
                   "ipykernel.comm", "ipykernel.debugger", "IPython.core.history",
                   "IPython.core.completer", "IPython.core.display", "IPython.display",
                   "matplotlib_inline.backend_inline", "sqlite3", "pdb")
"""Imported once by the forge; every forked kernel has them already. (matplotlib itself is left
out: IPython configures its inline backend when a notebook imports it.)"""

_SPAWN_TIMEOUT = 30.0

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
        _report(status_w, "setting up the kernel's jail failed", exc)
    finally:
        os._exit(code)


def _report(status_w: int, what: str, exc: BaseException) -> None:
    """Tell the host why a kernel did not start, on its status pipe (if still open)."""
    if status_w >= 0:
        try:
            os.write(status_w, f"{what}: {type(exc).__name__}: {exc}\n".encode())
        except OSError:
            pass


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
    # Read-only folders the kernel needs that live under /tmp (a Python environment in a
    # checkout under /tmp, say) are carried over into the new /tmp the same way.
    keep = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY | os.O_CLOEXEC))
            for p in req.get("keep_ro", [])
            if not os.path.relpath(p, "/tmp").startswith("..") and os.path.isdir(p)]
    # Assemble the new /tmp on the home mount point, then move it into place.
    _mount("tmpfs", home, "tmpfs", MS_NOSUID | MS_NODEV, f"size={scratch},mode=1777")
    path = home
    for part in Path(rel).parts:
        path = os.path.join(path, part)
        os.mkdir(path, 0o755)
    _mount(f"/proc/self/fd/{held}", path, None, MS_BIND)
    _mount(None, path, None, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV)
    os.close(held)
    for folder, fd in keep:
        target = os.path.join(home, os.path.relpath(folder, "/tmp"))
        os.makedirs(target, 0o755, exist_ok=True)
        _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND)
        _mount(None, target, None, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)
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
        _report(status_w, "starting the kernel failed", exc)
    finally:
        os._exit(code)



if __name__ == "__main__":
    _serve(sys.argv[1:])
