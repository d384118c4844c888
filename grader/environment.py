"""The student kernel's environment: the modules a pack needs importable in it, and the
torchvision shim that makes the course's imports work beside the CPU build of torch.

A kernel runs the grader's own interpreter (its environment, read-only inside the sandbox),
so what a pack declares in pack.toml,

    [environment]
    requires = ["d2l", "torchvision", "pandas"]

is looked up here, in the grader's process, without importing anything. `make kernel-env`
(part of `make demo` and `make test`) installs what the conv-layer pack needs; see the README.

    python -m grader.environment install   # the shim into this interpreter's site-packages
    python -m grader.environment check     # every installed pack's requirements
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import shutil
import sys
import sysconfig
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from pathlib import Path

MAKE_TARGET = "make kernel-env"
"""What installs the course's kernel packages (the Makefile's target)."""
SHIM = "torchvision_cpu_shim"
"""The module (and .pth) that lets PyPI's CUDA-built torchvision import beside a CPU torch."""


@lru_cache(maxsize=64)
def _findable(module: str) -> bool:
    try:
        if "." not in module:
            # sys.path only: the import hooks on sys.meta_path (the torchvision shim among
            # them) would import torch to answer
            return module in sys.builtin_module_names or \
                importlib.machinery.PathFinder.find_spec(module) is not None
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def missing(modules: Iterable[str]) -> list[str]:
    """The modules of `modules` that this interpreter (and so the kernel) cannot import. A
    torchvision without the shim counts as missing: `import torchvision` would fail."""
    modules = tuple(modules)
    out = [m for m in modules if not _findable(m)]
    if "torchvision" in modules and "torchvision" not in out and not _findable(SHIM) \
            and not _cpu_ops():
        out.append(f"torchvision ({SHIM})")
    return out


@lru_cache(maxsize=1)
def _cpu_ops() -> bool:
    """torchvision's own +cpu build (no shim needed): its version says so."""
    try:
        from importlib.metadata import version
        return version("torchvision").endswith("+cpu")
    except Exception:  # noqa: BLE001 - not installed, or unreadable metadata
        return False


def problem(pack_name: str, modules: Iterable[str]) -> str | None:
    """A message naming what is missing and how to install it, or None when all is there."""
    gone = missing(tuple(modules))
    if not gone:
        return None
    return (f"pack {pack_name} needs {', '.join(gone)} in the kernel's environment "
            f"({sys.prefix}), which {'is' if len(gone) == 1 else 'are'} not installed: run "
            f"`{MAKE_TARGET}` (or see the README, \"The kernel environment\")")


def install_shim(site_packages: Path | None = None) -> Path:
    """Copy the shim into `site_packages` (default: this interpreter's) with its .pth; returns
    the .pth written."""
    target = Path(site_packages or sysconfig.get_paths()["purelib"])
    source = resources.files("grader").joinpath("shims", f"{SHIM}.py")
    with resources.as_file(source) as path:
        shutil.copyfile(path, target / f"{SHIM}.py")
    pth = target / f"{SHIM}.pth"
    pth.write_text(f"import {SHIM}; {SHIM}.install()\n")
    return pth


def main(argv: list[str]) -> int:
    if argv == ["install"]:
        print(f"installed {install_shim()}")
        return 0
    if argv == ["check"]:
        from .packs import PackError, default_pack_dirs, discover

        try:
            packs = discover(default_pack_dirs())
        except PackError as exc:
            print(exc, file=sys.stderr)
            return 1
        problems = [p for p in (problem(k.name, k.requires) for k in packs.values()) if p]
        for p in problems:
            print(p, file=sys.stderr)
        if not problems:
            print(f"the kernel environment has what every pack needs ({', '.join(sorted(packs))})")
        return 1 if problems else 0
    print("usage: python -m grader.environment install|check", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
