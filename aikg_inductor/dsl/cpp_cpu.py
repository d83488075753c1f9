"""C++ kernels on CPU, compiled by Inductor's own C++ toolchain (the same flags and headers as the baseline).

Loading is two steps so that a verifier can prove before anything runs: ``prepare`` checks the source, compiles it
(the compiler is the only process it starts) and proves the compiled kernel object (``cpp_objcheck``), raising
``GuardRejected``; it runs no candidate code. ``load_prepared`` only opens the built library (a dlopen).
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

from ..torch_internals import kernels
from ..task import KernelTask
from . import wall_median_seconds
from .cpp_guards import check_cpp
from .cpp_objcheck import check_object
from .violations import raise_if

# A kernel that is nothing but Inductor's header: a reference for what the header alone puts into an object
# (its iostream initialiser, its inline globals).
HEADER_PROBE = ('#include <torch/csrc/inductor/cpp_prefix.h>\n'
                'extern "C" void Placeholder.KERNEL_NAME(float* out_ptr0) { out_ptr0[0] = 1.0f; }\n')


@dataclasses.dataclass(frozen=True)
class PreparedCpp:
    """A C++ kernel that passed the source guards and the object proof, built and not loaded."""

    task_key: str
    build: kernels.CppBuild


class CppCpuAdapter:
    device_type = "cpu"

    def prepare(self, task: KernelTask, source: str, timeout_s: float | None = None) -> PreparedCpp:
        """Check, compile and prove ``source`` as a replacement for ``task``'s kernel; raises GuardRejected, or
        kernels.CppBuildTimeout / a compile error. ``timeout_s`` bounds each compiler run."""
        raise_if(check_cpp(task.source, source))
        build = kernels.build_cpp_kernel(source, self._ctypes(task), timeout_s)
        # What Inductor's own code puts into an object compiled this way: the task's baseline and the bare header.
        references = [kernels.build_cpp_kernel(task.source, self._ctypes(task), timeout_s).kernel_object,
                      kernels.build_cpp_kernel(HEADER_PROBE, ["float*"], timeout_s).kernel_object]
        raise_if(check_object(build.kernel_object, references, build.glue_object))
        return PreparedCpp(task.key, build)

    def load_prepared(self, prepared: PreparedCpp) -> Callable[..., None]:
        """Open a prepared kernel in this process: a dlopen, no compiler and no other process."""
        return kernels.load_cpp_library(prepared.build)

    def load(self, task: KernelTask, source: str) -> Callable[..., None]:
        return self.load_prepared(self.prepare(task, source))

    def baseline_variant(self, task: KernelTask, source: str) -> bool:
        return False  # a C++ kernel has no launch parameters apart from its code

    def warm(self) -> None:
        from ..task import KernelArg, TensorLayout

        out = KernelArg("out_ptr0", "buf0", "out", TensorLayout((1,), (1,), "float32"), ctype="float*")
        self.load(KernelTask("warm", "cpp-cpu", "cpu", "", "", None, HEADER_PROBE, (out,), ()), HEADER_PROBE)

    @staticmethod
    def _ctypes(task: KernelTask) -> list[str]:
        return [arg.ctype or "" for arg in task.args]

    def median_seconds(self, fn: Callable[[], Any], reps: int) -> float:
        return wall_median_seconds(fn, reps, warmup=max(2, reps // 10))

    def synchronize(self) -> None:
        return None


ADAPTER = CppCpuAdapter()
