"""A seccomp filter for student kernels: the system calls no notebook needs and that would
widen the attack surface (new namespaces, mounts, kernel keyrings, BPF, ptrace...) fail."""

from __future__ import annotations

import errno
from pathlib import Path

CLONE_NEWUSER = 0x10000000
_DENIED = ("unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "keyctl", "add_key",
           "request_key", "bpf", "perf_event_open", "userfaultfd", "ptrace", "process_vm_readv",
           "process_vm_writev", "kexec_load", "kexec_file_load", "init_module", "finit_module",
           "delete_module", "open_by_handle_at", "name_to_handle_at", "swapon", "swapoff",
           "reboot", "acct", "quotactl", "lookup_dcookie", "fanotify_init", "io_uring_setup")


def write_filter(path: Path) -> bool:
    """Write the compiled filter (BPF) to `path`; False where libseccomp is unavailable."""
    try:
        import pyseccomp as sc
    except (ImportError, OSError):
        return False
    flt = sc.SyscallFilter(sc.ALLOW)
    for name in _DENIED:
        try:
            flt.add_rule(sc.ERRNO(errno.EPERM), name)
        except (OSError, ValueError, RuntimeError):
            continue  # not a system call on this architecture
    # clone may not make a user namespace; clone3 hides its flags in memory, so it reports
    # "not implemented" and the C library falls back to clone.
    flt.add_rule(sc.ERRNO(errno.EPERM), "clone", sc.Arg(0, sc.MASKED_EQ, CLONE_NEWUSER, CLONE_NEWUSER))
    flt.add_rule(sc.ERRNO(errno.ENOSYS), "clone3")
    with open(path, "wb") as fh:
        flt.export_bpf(fh)
    return True
