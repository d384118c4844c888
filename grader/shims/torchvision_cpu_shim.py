"""Let a PyPI (CUDA-built) torchvision import beside a CPU-only torch.

Installed into the kernel's site-packages by `python -m grader.environment install` (which
`make` runs), with a one-line .pth that calls `install()` at interpreter start; it is never
imported by the grader itself.

PyPI's Linux torchvision wheels link their compiled ops (_C.so) against libtorch_cuda and
libc10_cuda. Beside a CPU torch that library cannot load; torchvision tolerates that everywhere
except two unconditional `torch.library.register_fake("torchvision::nms" / "qnms")` calls,
which need the op schemas to exist. This finder runs once, just before `torchvision` is first
imported: if _C.so loads, it does nothing; otherwise it defines the two schemas (no kernels),
so torchvision imports, its pure-Python parts (transforms, models, utils) work, and its
compiled ops (nms, roi_align, deform_conv2d, image decoding) raise torchvision's own "Couldn't
load custom C++ ops" error when called. Installing torch's own +cpu torchvision build makes
this a no-op. It costs nothing at interpreter start (torch is not imported until torchvision
is).
"""

import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys

_LIB = None


def _fix(search_locations):
    global _LIB
    import torch

    for loc in search_locations or ():
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = os.path.join(loc, "_C" + suffix)
            if os.path.exists(path):
                try:
                    torch.ops.load_library(path)
                    return  # the real ops are there
                except (OSError, ImportError, RuntimeError):
                    break
    _LIB = torch.library.Library("torchvision", "FRAGMENT")
    for op in ("nms", "qnms"):
        _LIB.define(f"{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor")


class _Finder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "torchvision":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None:
            try:
                _fix(spec.submodule_search_locations)
            except Exception:  # never break the import itself
                pass
        return spec


def install():
    if "torchvision" not in sys.modules and not any(isinstance(f, _Finder)
                                                    for f in sys.meta_path):
        sys.meta_path.insert(0, _Finder())
