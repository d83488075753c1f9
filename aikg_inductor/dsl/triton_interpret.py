"""Inductor's CUDA-format Triton kernels run on CPU tensors under Triton's interpreter (``TRITON_INTERPRET=1``).

Not a DSL of its own: tasks stay ``triton-cuda`` (the source, key and signature are the GPU kernel's). When a process
runs with ``TRITON_INTERPRET=1``, ``adapter_for("triton-cuda")`` answers with this adapter, so the verifier judges
Triton candidates on a machine without a GPU through the same code path: guards, trials, NaN poisoning, guard bands,
interleaved timing. The kernel launches as Inductor launches it in interpreter mode: its decorator's first config
(the one config of a ``fixed_config`` candidate) on the grid Inductor's grid expression gives; a launcher-form
candidate's ``launch`` launches its own kernels, each interpreted on the grid it gives.

What it is good for: correctness (the interpreter runs the kernel's Python semantics on real memory, so unwritten
elements, out-of-bounds reads and writes, input mutation, wild pointers, hangs are all real). What it is not good for:
speed. Timings are the interpreter's, which grow with the number of programs launched; the report's device says
"Triton interpreter" so nobody mistakes them for GPU timings.
"""

from __future__ import annotations

from typing import Any, Callable

import torch

from ..torch_internals import kernels
from ..task import KernelTask
from . import wall_median_seconds
from .triton_base import TritonAdapterBase
from .triton_launcher import is_launcher_form, load_launcher

DEVICE_SUFFIX = "Triton interpreter"


def interpretable_libdevice() -> list[str]:
    """Make ``triton.language.extra.libdevice`` usable under the interpreter; returns the names still unusable.

    In triton 3.9 that module holds stubs a GPU backend fills in at compile time, and the interpreter cannot run
    extern calls, so Inductor's kernels fail there on any libdevice call (``triton_helpers.exp`` without fast math,
    ``libdevice.erf`` in GELU). Each stub with a ``tl.math`` namesake becomes a call to it, which the interpreter
    runs (in numpy, at the interpreter's float precision). Only ever done in a process that interprets.
    """
    import triton.language as tl
    from triton.language.extra import libdevice

    missing = []
    for name, stub in list(vars(libdevice).items()):
        if not callable(stub) or getattr(stub, "__module__", "") != libdevice.__name__ or name.startswith("_"):
            continue
        if getattr(stub, "_aikg_interpreted", False):
            continue
        if hasattr(tl.math, name):
            def shim(*args: Any, _name: str = name) -> Any:
                return getattr(tl.math, _name)(*args)  # looked up per call: the interpreter patches tl.math per launch
        elif name in _NUMPY:
            shim = _numpy_shim(name)
        else:
            missing.append(name)
            continue
        shim.__module__ = libdevice.__name__  # still a stub to triton's JIT hasher
        shim.__name__ = name
        shim._aikg_interpreted = True  # type: ignore[attr-defined]
        setattr(libdevice, name, shim)
    return sorted(missing)


# libdevice functions Inductor's Triton codegen calls that tl.math lacks: name -> (numpy function, returns bool).
_NUMPY: dict[str, tuple[str, bool]] = {
    "tanh": ("tanh", False), "log1p": ("log1p", False), "expm1": ("expm1", False), "sinh": ("sinh", False),
    "cosh": ("cosh", False), "asin": ("arcsin", False), "acos": ("arccos", False), "atan": ("arctan", False),
    "asinh": ("arcsinh", False), "acosh": ("arccosh", False), "atanh": ("arctanh", False), "tan": ("tan", False),
    "cbrt": ("cbrt", False), "trunc": ("trunc", False), "nearbyint": ("rint", False), "rint": ("rint", False),
    "pow": ("power", False), "atan2": ("arctan2", False), "copysign": ("copysign", False), "fmod": ("fmod", False),
    "hypot": ("hypot", False), "nextafter": ("nextafter", False), "log10": ("log10", False),
    "isnan": ("isnan", True), "isinf": ("isinf", True), "signbit": ("signbit", True),
}


def _numpy_shim(name: str) -> Callable[..., Any]:
    import numpy as np
    import triton.language as tl
    from triton.runtime.interpreter import TensorHandle

    np_name, boolean = _NUMPY[name]
    fn = getattr(np, np_name)

    def shim(*args: Any) -> Any:
        tensors = [a for a in args if isinstance(a, tl.tensor)]
        like = tensors[0]
        data = [a.handle.data if isinstance(a, tl.tensor) else a for a in args]
        with np.errstate(all="ignore"):
            out = fn(*data)
        if boolean:
            return tl.tensor(TensorHandle(out.astype(np.bool_), tl.int1), like.type.with_element_ty(tl.int1))
        return tl.tensor(TensorHandle(out.astype(like.handle.data.dtype), like.dtype), like.type)

    return shim


class TritonInterpretAdapter(TritonAdapterBase):
    device_type = "cpu"
    device_note = f", {DEVICE_SUFFIX} (timings are the interpreter's, not a GPU's)"

    def load(self, task: KernelTask, source: str) -> Callable[..., None]:
        interpretable_libdevice()
        if is_launcher_form(source):
            return load_launcher(source, torch.device("cpu"))
        return kernels.load_triton_kernel(source, torch.device("cpu"))

    def prepare(self, task: KernelTask, source: str) -> Callable[..., None]:
        # Importing writes the module into Inductor's code cache: done before the lockdown; the interpreter then
        # needs no compiler.
        return self.load(task, source)

    def load_prepared(self, prepared: Callable[..., None]) -> Callable[..., None]:
        return prepared

    def median_seconds(self, fn: Callable[[], Any], reps: int) -> float:
        # The interpreter is slow: a tenth of the repetitions is enough to rank kernels.
        return wall_median_seconds(fn, max(3, reps // 10), warmup=1)

    def synchronize(self) -> None:
        return None

    def warm(self) -> None:
        return None  # nothing is compiled: the interpreter runs the kernel's Python


ADAPTER = TritonInterpretAdapter()
