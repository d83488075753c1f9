"""Run one task's kernel alone: fresh random inputs with the recorded layouts, launch, read the outputs back.

This is the base of the verifier. It runs whatever source it is given in the calling process, so the verifier
calls it only inside a worker subprocess for untrusted candidates; Inductor's own baseline may run in-process.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable

import torch

from ..dsl import adapter_for
from ..task import KernelArg, KernelTask, TensorLayout

# Integer inputs are often indices (gather, embedding, cross-entropy targets); small non-negative values stay in
# range for any dimension of at least this size.
INT_INPUT_HIGH = 4


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


def torch_dtype(name: str) -> torch.dtype:
    dtype = getattr(torch, name, None)
    if not isinstance(dtype, torch.dtype):
        raise ValueError(f"unknown dtype {name!r} in task")
    return dtype


def random_tensor(layout: TensorLayout, generator: torch.Generator, device: str) -> torch.Tensor:
    """A tensor with exactly ``layout`` (size, stride, offset) over fresh random storage."""
    dtype = torch_dtype(layout.dtype)
    n = max(layout.storage_elements(), 1)
    if dtype.is_floating_point or dtype.is_complex:
        flat = torch.randn(n, generator=generator, dtype=torch.float32).to(dtype)
    elif dtype == torch.bool:
        flat = torch.randint(0, 2, (n,), generator=generator).bool()
    else:
        flat = torch.randint(0, INT_INPUT_HIGH, (n,), generator=generator).to(dtype)
    return flat.to(device).as_strided(layout.size, layout.stride, layout.offset)


def poisoned_tensor(layout: TensorLayout, device: str) -> torch.Tensor:
    """An output buffer pre-filled so that any element the kernel fails to write is visible (NaN for floats)."""
    dtype = torch_dtype(layout.dtype)
    n = max(layout.storage_elements(), 1)
    fill: float | int | bool = float("nan") if dtype.is_floating_point else (True if dtype == torch.bool else -7)
    flat = torch.full((n,), fill, dtype=dtype, device=device)
    return flat.as_strided(layout.size, layout.stride, layout.offset)


def make_values(task: KernelTask, seed: int) -> list[Any]:
    """Argument values for one launch: random inputs, poisoned outputs, and the recorded sizes."""
    generator = torch.Generator().manual_seed(seed)
    device = adapter_for(task.dsl).device_type  # "cpu" for Triton kernels under the interpreter
    values: list[Any] = []
    for arg in task.args:
        values.append(_value_for(arg, generator, device))
    return values


def _value_for(arg: KernelArg, generator: torch.Generator, device: str) -> Any:
    if arg.role == "size":
        return arg.value
    assert arg.layout is not None
    if arg.role == "out":
        return poisoned_tensor(arg.layout, device)
    return random_tensor(arg.layout, generator, device)


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
