"""C++ kernels on CPU, compiled by Inductor's own C++ toolchain (the same flags and headers as the baseline)."""

from __future__ import annotations

from typing import Any, Callable

from .. import interception
from ..task import KernelTask
from . import wall_median_seconds


class CppCpuAdapter:
    device_type = "cpu"

    def load(self, task: KernelTask, source: str) -> Callable[..., None]:
        ctypes = [arg.ctype or "" for arg in task.args]
        return interception.load_cpp_kernel(source, ctypes)

    def median_seconds(self, fn: Callable[[], Any], reps: int) -> float:
        return wall_median_seconds(fn, reps, warmup=max(2, reps // 10))

    def synchronize(self) -> None:
        return None


ADAPTER = CppCpuAdapter()
