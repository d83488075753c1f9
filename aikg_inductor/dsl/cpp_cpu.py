"""C++ kernels on CPU, compiled by Inductor's own C++ toolchain (the same flags and headers as the baseline)."""

from __future__ import annotations

import statistics
import time
from typing import Any, Callable

from .. import interception
from ..task import KernelTask


class CppCpuAdapter:
    device_type = "cpu"

    def load(self, task: KernelTask, source: str) -> Callable[..., None]:
        ctypes = [arg.ctype or "" for arg in task.args]
        return interception.load_cpp_kernel(source, ctypes)

    def median_seconds(self, fn: Callable[[], Any], reps: int) -> float:
        for _ in range(max(2, reps // 10)):
            fn()
        samples = []
        for _ in range(reps):
            start = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - start)
        return statistics.median(samples)

    def synchronize(self) -> None:
        return None


ADAPTER = CppCpuAdapter()
