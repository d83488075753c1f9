"""Triton kernels on CUDA GPUs, in Inductor's kernel format (``@triton_heuristics`` decorator, ``.run`` launcher)."""

from __future__ import annotations

from typing import Any, Callable

import torch

from ..torch_internals import kernels
from ..task import KernelTask


class TritonCudaAdapter:
    device_type = "cuda"

    def load(self, task: KernelTask, source: str) -> Callable[..., None]:
        return kernels.load_triton_kernel(source, torch.device("cuda", torch.cuda.current_device()))

    def prepare(self, task: KernelTask, source: str) -> Callable[..., None]:
        # Import the module (its top level is what the guards allow) and compile every configuration now: ptxas and
        # the launcher's C compiler cannot run once the candidate runner is locked down.
        launch = self.load(task, source)
        kernels.precompile_triton_kernel(launch)
        return launch

    def load_prepared(self, prepared: Callable[..., None]) -> Callable[..., None]:
        return prepared

    def median_seconds(self, fn: Callable[[], Any], reps: int) -> float:
        import triton.testing

        # do_bench flushes L2 between repetitions and times with CUDA events; its budgets are milliseconds.
        return triton.testing.do_bench(fn, warmup=25, rep=max(50, reps), return_mode="median") / 1e3

    def synchronize(self) -> None:
        torch.cuda.synchronize()


ADAPTER = TritonCudaAdapter()
