"""Triton kernels on CUDA GPUs: in Inductor's kernel format (``@triton_heuristics`` decorator, ``.run`` launcher) or
in the launcher form (the candidate's own ``launch``, see ``triton_launcher``)."""

from __future__ import annotations

from typing import Any, Callable

import torch

from ..torch_internals import kernels
from ..task import KernelTask
from .triton_base import TritonAdapterBase
from .triton_launcher import is_launcher_form, load_launcher


class TritonCudaAdapter(TritonAdapterBase):
    device_type = "cuda"

    def load(self, task: KernelTask, source: str) -> Callable[..., None]:
        device = torch.device("cuda", torch.cuda.current_device())
        if is_launcher_form(source):
            return load_launcher(source, device)
        return kernels.load_triton_kernel(source, device)

    def prepare(self, task: KernelTask, source: str) -> Callable[..., None]:
        # Import the module (its top level is what the guards allow) and compile every configuration now: ptxas and
        # the launcher's C compiler cannot run once the candidate runner is locked down.
        launch = self.load(task, source)
        if is_launcher_form(source):
            launch.warm_up(task)
        else:
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

    def warm(self) -> None:
        # Inductor compiling a kernel of ours end to end: the CUDA context, Triton's driver module and a launcher
        # (each a C compile into this process's Triton cache), Inductor's runtime imports. A candidate runner starts
        # with its own, empty caches, and without this paid all of it at its candidate's compile.
        x = torch.ones(8, device="cuda")
        torch.compile(lambda t: t * 2 + 1, backend="inductor", fullgraph=True)(x)
        torch.cuda.synchronize()


ADAPTER = TritonCudaAdapter()
