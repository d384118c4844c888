"""Kernel backends: how each submission's kernel is started and isolated.

A backend is a `Backend` subclass (grader/kernels/base.py) that makes started `Kernel`s. It is
chosen once per run by `choose` and opened once per worker by `open_backend`. To add one (a
container runtime, a remote worker), write a module with its Backend and add it to BACKENDS.
"""

from __future__ import annotations

from ..limits import Limits
from ..sandbox import Sandbox
from .base import Backend, Kernel, KernelStartError
from .forge import ForgeBackend
from .jail import JailBackend
from .local import LocalBackend

BACKENDS: dict[str, type[Backend]] = {b.name: b for b in (LocalBackend, JailBackend,
                                                          ForgeBackend)}

__all__ = ["BACKENDS", "Backend", "Kernel", "KernelStartError", "choose", "open_backend"]


def choose(sandbox: Sandbox, *, forge: bool) -> str:
    """The backend for this machine's sandbox: none -> local; bubblewrap -> a jail per
    kernel, forked from a warm forge where the grader is root and `forge` is asked for."""
    if not sandbox.isolated:
        return LocalBackend.name
    if forge and sandbox.own_uid:
        return ForgeBackend.name
    return JailBackend.name


def open_backend(name: str, sandbox: Sandbox, limits: Limits, *,
                 preload: tuple[str, ...] = ()) -> Backend:
    try:
        backend = BACKENDS[name]
    except KeyError:
        raise ValueError(f"unknown kernel backend {name!r}; known: "
                         f"{', '.join(sorted(BACKENDS))}") from None
    return backend(sandbox, limits, preload=preload)
