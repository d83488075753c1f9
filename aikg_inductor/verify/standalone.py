"""A task's kernel run alone, outside the verifier: fresh inputs with the recorded layouts, one launch, the outputs
read back, or a median time (``aikg inspect``'s timings, tests, the GPU capture benchmark).

It runs whatever source it is given in the calling process: use it for Inductor's own kernels and for sources you
trust. Candidates are judged by the verifier, which runs them in a sandboxed runner (``verify.runner``). The
inputs are the verifier's own (``values.build``): the same spec gives the same bits.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import torch

from ..dsl import adapter_for
from ..task import KernelTask
from .values import Trial, build, call_values


@dataclasses.dataclass
class KernelCall:
    """One prepared launch: the kernel, its argument values, and which of them are outputs."""

    task: KernelTask
    kernel: Callable[..., None]
    values: list[Any]

    def __call__(self) -> None:
        self.kernel(*self.values)

    def outputs(self) -> dict[str, torch.Tensor]:
        """Live outputs after the call, by kernel parameter name."""
        return {
            arg.param: value
            for arg, value in zip(self.task.args, self.values)
            if arg.role in ("out", "in_out") and arg.live
        }


def make_values(task: KernelTask, seed: int) -> list[Any]:
    """Argument values for one launch: random inputs, NaN-poisoned outputs, the recorded sizes."""
    device = adapter_for(task.dsl).device_type  # "cpu" for Triton kernels under the interpreter
    return call_values(task, build(task, Trial(seed), device))


def prepare(task: KernelTask, source: str | None = None, seed: int = 0) -> KernelCall:
    """Compile ``source`` (default: the task's baseline) and bind it to fresh values drawn from ``seed``."""
    kernel = adapter_for(task.dsl).load(task, task.source if source is None else source)
    return KernelCall(task, kernel, make_values(task, seed))


def run(task: KernelTask, source: str | None = None, seed: int = 0) -> dict[str, torch.Tensor]:
    """Run the kernel once on fresh inputs and return its live outputs (on the CPU)."""
    call = prepare(task, source, seed)
    call()
    adapter_for(task.dsl).synchronize()
    return {name: tensor.cpu() for name, tensor in call.outputs().items()}


def median_seconds(task: KernelTask, source: str | None = None, reps: int = 50, seed: int = 0) -> float:
    """Median time of one launch of the kernel on its device."""
    call = prepare(task, source, seed)
    return adapter_for(task.dsl).median_seconds(call, reps)
