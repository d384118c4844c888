"""The jail a student's kernel runs in: a bubblewrap command line, cgroups, and a sandbox user.

The kernel sees a read-only system (/usr, a few files of /etc, the Python installation), a
size-limited writable home and /tmp, and the folder holding its connection file. Nothing
else of the host exists inside: not the project, the reference, the checks, the output folder
or other submissions. It has no network, its own pid namespace, no capabilities, and, when the
grader runs as root, an unprivileged uid of its own.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from . import cgroups
from .limits import Limits

HOME = "/home/student"
UID_BASE = 61000
UID_SLOTS = 64
_ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "passwd", "group",
              "nsswitch.conf", "hosts")


class SandboxUnavailable(RuntimeError):
    """The sandbox cannot start on this machine; the message says how to fix it."""


@dataclass(frozen=True, slots=True)
class Sandbox:
    """How kernels are isolated on this machine, found once by `detect_sandbox`."""

    kind: str
    """"bwrap-root" (bwrap as root, then an unprivileged uid), "bwrap-user" or "none"."""
    bwrap: str = ""
    setpriv: str = ""
    cgroups: str = ""
    """The cgroup version kernels are bounded with ("v1" or "v2"), empty for none."""
    reset_signals: tuple[str, ...] = ()
    """A command prefix that gives the kernel default signal dispositions, whatever the grader
    ignores (nohup's SIGHUP, say); empty where `env --default-signal` is unavailable."""

    @property
    def isolated(self) -> bool:
        return self.kind != "none"

    def cgroup_tree(self) -> cgroups.Cgroups | None:
        return cgroups.Cgroups(self.cgroups) if self.cgroups else None

    @property
    def own_uid(self) -> bool:
        """Each kernel runs as an unprivileged uid of its own (the grader is root), which also
        allows cgroups and a forge."""
        return self.kind == "bwrap-root"


def detect_sandbox(*, enabled: bool = True) -> Sandbox:
    """Find a working sandbox, or raise SandboxUnavailable naming the fix.

    With enabled=False (the user's explicit --no-sandbox) no isolation is used.
    """
    if not enabled:
        return Sandbox(kind="none", reset_signals=_signal_reset())
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(
            "bubblewrap (bwrap) is not installed, so student code cannot be isolated. "
            "Install it (Debian/Ubuntu: `sudo apt-get install bubblewrap`; `make demo` does this "
            "when run as root), or pass --no-sandbox to run untrusted code without isolation.")
    root = os.geteuid() == 0
    setpriv = shutil.which("setpriv") or ""
    if root and not setpriv:
        raise SandboxUnavailable(
            "setpriv (util-linux) is missing; as root it is needed to drop the kernel to an "
            "unprivileged user. Install util-linux, or pass --no-sandbox.")
    probe = [bwrap, "--ro-bind", "/", "/", "--unshare-pid", "--unshare-net", "--die-with-parent"]
    if not root:
        probe += ["--unshare-user"]
    probe += ["true"]
    try:
        done = subprocess.run(probe, capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SandboxUnavailable(f"bubblewrap could not be run ({exc}); pass --no-sandbox to "
                                 "grade without isolation.") from exc
    if done.returncode != 0:
        why = done.stderr.strip() or f"exit status {done.returncode}"
        hint = ("unprivileged user namespaces look disabled or restricted here (on Ubuntu 24.04: "
                "`sudo sysctl kernel.apparmor_restrict_unprivileged_userns=0`; elsewhere "
                "`sudo sysctl kernel.unprivileged_userns_clone=1`), or run the grader as root")
        raise SandboxUnavailable(f"bubblewrap cannot create a sandbox: {why}. Fix: {hint}; or "
                                 "pass --no-sandbox to grade without isolation.")
    return Sandbox(kind="bwrap-root" if root else "bwrap-user", bwrap=bwrap, setpriv=setpriv,
                   cgroups=_cgroup_version() if root else "", reset_signals=_signal_reset())


def _cgroup_version() -> str:
    tree = cgroups.detect()
    if tree is None:
        print("grader: no writable cgroup v1 or v2 memory/pids controllers: each kernel process "
              "is bounded by its own rlimits only (see SECURITY.md)", file=sys.stderr)
    return tree.version if tree else ""


def _signal_reset() -> tuple[str, ...]:
    env = shutil.which("env") or "/usr/bin/env"
    try:
        ok = subprocess.run([env, "--default-signal", "true"], capture_output=True,
                            timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        ok = False
    return (env, "--default-signal") if ok else ()


class UidLease:
    """An unprivileged uid held for one worker; a lock file keeps other graders off it."""

    def __init__(self, uid: int, handle) -> None:
        self.uid = uid
        self._handle = handle

    @classmethod
    def acquire(cls, base: int = UID_BASE, slots: int = UID_SLOTS) -> UidLease:
        lock_dir = Path("/run/lock") if os.access("/run/lock", os.W_OK) else Path("/tmp")
        for uid in range(base, base + slots):
            path = lock_dir / f"grader-sandbox-uid-{uid}.lock"
            handle = open(path, "a+")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                handle.close()
                continue
            return cls(uid, handle)
        raise SandboxUnavailable(f"all {slots} sandbox uids from {base} are in use by other "
                                 "grader processes; wait for them or use fewer workers")

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()
            self._handle = None


@dataclass(frozen=True, slots=True)
class Jail:
    """One kernel's jail: host folders and the identity its processes run under."""

    sandbox: Sandbox
    conn_dir: Path
    uid: int | None
    """The unprivileged uid the kernel becomes (with own_uid), None to stay as started."""
    cgroup: str = ""
    """Name of the per-kernel cgroup, empty when cgroups are not used."""
    seccomp: str = ""
    """A compiled seccomp filter to load, or empty for none."""


def python_roots() -> list[str]:
    """Folders the kernel's Python needs: the environment and its base installation."""
    roots = {os.path.realpath(sys.prefix), os.path.realpath(sys.base_prefix)}
    for entry in sys.path:
        real = os.path.realpath(entry) if entry else ""
        if real and "site-packages" in real and not any(real.startswith(r + os.sep) for r in roots):
            roots.add(real)
    return sorted(roots)


def kernel_env() -> dict[str, str]:
    """The whole environment of a sandboxed kernel: nothing is inherited from the host."""
    return {
        "HOME": HOME,
        "PATH": f"{os.path.dirname(sys.executable)}:/usr/local/bin:/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
        "IPYTHONDIR": "/tmp/.ipython",
        "JUPYTER_RUNTIME_DIR": "/tmp/.jupyter",
        "MPLCONFIGDIR": "/tmp/.matplotlib",
        "MPLBACKEND": "Agg",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONNOUSERSITE": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }


def _mkdirs(dest: str, made: set[str]) -> list[str]:
    """bwrap creates missing parents mode 0700; create them 0755 so the kernel can traverse."""
    args: list[str] = []
    parts = Path(dest).parents
    for parent in reversed(parts):
        p = str(parent)
        if p in ("/", *made):
            continue
        made.add(p)
        args += ["--perms", "0755", "--dir", p]
    return args


def bwrap_args(jail: Jail, limits: Limits) -> list[str]:
    """The bubblewrap options that build the jail (without the command to run)."""
    sb = jail.sandbox
    args = [sb.bwrap, "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
            "--unshare-cgroup-try", "--die-with-parent", "--new-session", "--clearenv",
            "--hostname", "sandbox"]
    if not sb.own_uid:
        args += ["--unshare-user", "--disable-userns", "--cap-drop", "ALL"]
    made: set[str] = set()
    args += ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        host = Path("/") / name
        if host.is_symlink():
            args += ["--symlink", os.readlink(host), str(host)]
        elif host.is_dir():
            args += ["--ro-bind", str(host), str(host)]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in _ETC_FILES:
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    args += ["--dev", "/dev", "--proc", "/proc"]
    scratch = str(limits.scratch_bytes)
    args += ["--perms", "1777", "--size", scratch, "--tmpfs", "/tmp"]
    made.add("/tmp")
    args += _mkdirs(HOME, made) + ["--perms", "1777", "--size", scratch, "--tmpfs", HOME]
    made.add(HOME)
    for root in python_roots():
        args += _mkdirs(root, made) + ["--ro-bind", root, root]
    args += _mkdirs(str(jail.conn_dir), made) + ["--bind", str(jail.conn_dir), str(jail.conn_dir)]
    for key, value in kernel_env().items():
        args += ["--setenv", key, value]
    if jail.seccomp:
        args += ["--seccomp", "3"]  # opened on fd 3 by the launch script
    args += ["--chdir", HOME, "--"]
    if jail.uid is not None:
        args += [sb.setpriv, f"--reuid={jail.uid}", f"--regid={jail.uid}", "--clear-groups",
                 "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return args


_PRLIMIT = {"RLIMIT_AS": "--as", "RLIMIT_CPU": "--cpu", "RLIMIT_FSIZE": "--fsize",
            "RLIMIT_NOFILE": "--nofile", "RLIMIT_CORE": "--core", "RLIMIT_NPROC": "--nproc"}


def rlimit_args(limits: Limits, *, per_user_procs: bool) -> list[str]:
    """`Limits.rlimits` as a prlimit command prefix."""
    return ["prlimit", *(f"{_PRLIMIT[name]}={value}" for name, value in
                         limits.rlimits(per_user_procs=per_user_procs)), "--"]


# Runs as the launcher's first process, before bwrap: it hands the connection file to the
# sandbox uid, moves itself into the kernel's cgroups, then becomes bwrap.
_ENTER = ('set -e; cf="$1"; u="$2"; sc="$3"; shift 3; '
          'if [ "$u" != "-" ]; then chown "$u:$u" "$cf"; fi; '
          'while [ "$1" != "--" ]; do echo $$ > "$1"; shift; done; shift; '
          'if [ "$sc" != "-" ]; then exec 3<"$sc"; fi; exec "$@"')


def kernel_argv(jail: Jail, limits: Limits, python: str = sys.executable) -> list[str]:
    """The full launch command of a jailed kernel, with a `{connection_file}` placeholder."""
    kernel = [python, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    owner = "-" if jail.uid is None else str(jail.uid)
    tree = jail.sandbox.cgroup_tree()
    procs = [str(p / "cgroup.procs") for p in tree.dirs(jail.cgroup)] if tree and jail.cgroup else []
    inner = rlimit_args(limits, per_user_procs=jail.uid is not None) + kernel
    return (["/bin/sh", "-c", _ENTER, "grader-enter", "{connection_file}", owner,
             jail.seccomp or "-", *procs, "--", *jail.sandbox.reset_signals]
            + bwrap_args(jail, limits) + inner)


def cleanup_stale(uid: int | None, tree: cgroups.Cgroups | None = None) -> None:
    """Remove what a grader killed earlier (kill -9, power loss) left behind: processes of the
    sandbox uid just acquired, and the cgroups and temporary folders of dead graders."""
    if uid is not None:
        kill_uid(uid)
    if tree is not None:
        tree.remove_stale()
    tmp = Path(tempfile.gettempdir())
    for d in tmp.glob("grader-kernel-*-*"):
        if not _alive(d.name.split("-")[2]):
            shutil.rmtree(d, ignore_errors=True)


def _alive(pid: str) -> bool:
    return pid.isdigit() and Path(f"/proc/{pid}").exists()


def kill_uid(uid: int) -> int:
    """SIGKILL every process whose real, effective or saved uid is `uid`; returns how many."""
    killed = 0
    for _ in range(50):
        found = [pid for pid in _all_pids() if _owned_by(pid, uid)]
        if not found:
            return killed
        for pid in found:
            killed += _kill(pid)
        time.sleep(0.02)
    return killed


def processes_of_uid(uid: int) -> list[int]:
    return [pid for pid in _all_pids() if _owned_by(pid, uid)]


def _all_pids() -> list[int]:
    return [int(name) for name in os.listdir("/proc") if name.isdigit()]


def _owned_by(pid: int, uid: int) -> bool:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("Uid:"):
                    return str(uid) in line.split()[1:4]
    except OSError:
        return False
    return False


def _kill(pid: int) -> int:
    try:
        os.kill(pid, signal.SIGKILL)
        return 1
    except OSError:
        return 0
