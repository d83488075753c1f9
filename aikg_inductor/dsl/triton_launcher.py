"""Triton candidates that bring their own launcher (the launcher form of docs/kernel_contract.md).

Such a module holds ``@triton.jit`` kernels and one plain function ``launch(<the baseline's call arguments>, *,
workspace)`` that chooses grids and meta-parameters and launches its kernels in sequence (``triton_launcher_guards``
proves that is all it does). This module loads one and turns it into the callable the adapters hand out: it takes
the baseline's call arguments, gives ``launch`` a fresh ``Workspace`` and drops it when ``launch`` returns. The same
call runs it inside a compiled model: ``with_inductor_binding`` appends to the accepted module the lines that bind
``launch`` under the kernel's name (``bind_for_inductor``, run when Inductor imports the module), where Inductor's
wrapper looks for the kernel object it calls.

Workspace is the one memory a launcher gets besides its arguments, so it is where state across calls could hide.
It is allocated by the harness on the arguments' device for each call, filled on each call (0xFF bytes, NaN in
every float dtype, unless ``zeroed=True`` asks for zeros) and released after it: whatever one call leaves there is
gone before the next call reads it, in the verifier and in the user's process alike (the fill is part of the
candidate's timed cost).
"""

from __future__ import annotations

import ast
import dataclasses
import functools
from typing import Any, Callable

import torch

from ..torch_internals import kernels
from ..torch_internals.bound_kernel import BoundKernel
from ..task import KernelTask

LAUNCHER = "launch"
WORKSPACE = "workspace"
WORKSPACE_DTYPES = ("float64", "float32", "float16", "bfloat16", "int64", "int32", "int16", "int8", "uint8")
POISON_BYTE = 0xFF  # NaN in float16/bfloat16/float32/float64, -1 in signed integers
# A call's workspace may hold at most this many times the bytes of its tensor arguments (and at least the floor).
WORKSPACE_FACTOR = 1
# A GPU has no memory protection within a process: a kernel may write past its workspace into the rest of the block
# the caching allocator gave it, and the same block comes back next call. Blocks are whole multiples of 512 bytes,
# and a large one is not split when 1 MiB or less would remain: allocations are rounded up to 2 MiB above 1 MiB and
# filled whole, so a fresh segment's block has no slack. A cached free block up to 1 MiB larger, left by the
# process's other allocations, can still come back with unfilled slack: README, threat model.
_BLOCK_BYTES, _LARGE_BLOCK_BYTES, _SMALL_POOL_BYTES = 512, 2 << 20, 1 << 20
WORKSPACE_FLOOR_BYTES = 1 << 20


class WorkspaceError(RuntimeError):
    pass


def is_launcher_form(source: str) -> bool:
    """Whether ``source`` is a launcher-form module (a top-level undecorated ``def launch``), judged on its text."""
    try:
        module = ast.parse(source.replace(kernels.KERNEL_NAME, "aikg_kernel"))
    except SyntaxError:
        return False
    return any(isinstance(n, ast.FunctionDef) and n.name == LAUNCHER and not n.decorator_list for n in module.body)


class Workspace:
    """The allocator one call's ``launch`` receives: ``workspace(numel, dtype, zeroed=False)`` -> a fresh 1-D
    tensor on ``device``, poisoned unless zeroed, at most ``limit_bytes`` in all."""

    def __init__(self, device: torch.device, limit_bytes: int) -> None:
        self.device = device
        self.limit_bytes = limit_bytes
        self.used_bytes = 0

    def __call__(self, numel: int, dtype: str, zeroed: bool = False) -> torch.Tensor:
        if dtype not in WORKSPACE_DTYPES:
            raise WorkspaceError(f"workspace dtype {dtype!r} is not one of {', '.join(WORKSPACE_DTYPES)}")
        torch_dtype = getattr(torch, dtype)
        nbytes = int(numel) * torch.empty((), dtype=torch_dtype).element_size()
        if numel < 0 or self.used_bytes + nbytes > self.limit_bytes:
            raise WorkspaceError(f"workspace of {numel} {dtype} would bring this call's scratch to "
                                 f"{self.used_bytes + nbytes} bytes; the limit is {self.limit_bytes}")
        self.used_bytes += nbytes
        raw = torch.empty(_whole_blocks(nbytes), dtype=torch.uint8, device=self.device)
        raw.fill_(0 if zeroed else POISON_BYTE)
        return raw[:nbytes].view(torch_dtype)


def _whole_blocks(nbytes: int) -> int:
    """``nbytes`` rounded up to what the CUDA caching allocator hands out for it (filled whole: no slack kept)."""
    unit = _BLOCK_BYTES if nbytes <= _SMALL_POOL_BYTES else _LARGE_BLOCK_BYTES
    return max(-(-nbytes // unit) * unit, unit)


def workspace_limit(args: tuple[Any, ...]) -> int:
    tensor_bytes = sum(a.untyped_storage().nbytes() for a in args if isinstance(a, torch.Tensor))
    return max(WORKSPACE_FACTOR * tensor_bytes, WORKSPACE_FLOOR_BYTES)


def run_with_workspace(launch: Callable[..., None], device: torch.device, args: tuple[Any, ...]) -> None:
    """One call of a launcher: ``launch(*args, workspace=...)`` with a fresh ``Workspace`` on ``device``, bounded by
    the arguments' bytes, dropped when ``launch`` returns. Every call of a launcher, verified or compiled, is this."""
    workspace = Workspace(device, workspace_limit(args))
    launch(*args, **{WORKSPACE: workspace})


@dataclasses.dataclass(frozen=True)
class LoadedLauncher:
    """A loaded launcher-form module's ``launch``; calling it runs ``launch`` on the call arguments with fresh
    workspace on ``device``."""

    launch: Callable[..., None]
    device: torch.device

    def __call__(self, *args: Any) -> None:
        run_with_workspace(self.launch, self.device, args)

    def warm_up(self, task: KernelTask) -> None:
        """Compile every kernel ``launch`` launches at the task's recorded sizes without running any (a GPU's
        compilers cannot run once the candidate runner is locked down). ``launch`` runs with each kernel of its
        module (the namespace it looks its kernels up in) replaced by its ``warmup``; the guards proved it does
        nothing but launch and allocate workspace."""
        namespace = self.launch.__globals__
        jit = {name: value for name, value in namespace.items() if hasattr(value, "warmup")}
        try:
            for name, kernel in jit.items():
                namespace[name] = _WarmUp(kernel)
            self(*placeholder_values(task, self.device))
        finally:
            namespace.update(jit)


@dataclasses.dataclass(frozen=True)
class _WarmUp:
    kernel: Any

    def __getitem__(self, grid: Any) -> Callable[..., Any]:
        def compile_now(*args: Any, **kwargs: Any) -> None:
            kernels.ready_to_launch(self.kernel.warmup(*args, grid=grid, **kwargs))

        return compile_now


def placeholder_values(task: KernelTask, device: torch.device) -> list[Any]:
    """Uninitialised tensors with the task's layouts, and its recorded sizes: arguments to compile against."""
    values: list[Any] = []
    for arg in task.args:
        if arg.layout is None:
            values.append(arg.value)
            continue
        dtype = getattr(torch, arg.layout.dtype)
        storage = torch.empty(max(arg.layout.storage_elements(), 1), dtype=dtype, device=device)
        values.append(storage.as_strided(arg.layout.size, arg.layout.stride, arg.layout.offset))
    return values


def load_launcher(source: str, device: torch.device) -> LoadedLauncher:
    """Load a launcher-form module (already proved by the guards) for ``device``; the CPU means the interpreter."""
    return LoadedLauncher(getattr(kernels.load_triton_module(source, device), LAUNCHER), device)


# What follows an accepted launcher-form module when it is handed to Inductor in place of the baseline's (ours, not
# the candidate's: the guards proved the module above it). Inductor fills in the kernel's name, both times.
_INDUCTOR_BINDING = f"""

# Added by aikg-inductor, not part of the verified candidate: Inductor's wrapper calls the object bound under the
# kernel's name; this one runs `{LAUNCHER}` with fresh workspace on each call, as the verifier ran it.
from {__name__} import bind_for_inductor as _aikg_bind_for_inductor
{kernels.KERNEL_NAME} = _aikg_bind_for_inductor({LAUNCHER}, "{kernels.KERNEL_NAME}")
"""


def with_inductor_binding(source: str) -> str:
    """A launcher-form module (proved by the guards) followed by the lines binding its ``launch`` under the kernel's
    name: the source Inductor's ``define_kernel`` gets in place of the baseline's."""
    return source.rstrip() + "\n" + _INDUCTOR_BINDING


def bind_for_inductor(launch: Callable[..., None], name: str) -> BoundKernel:
    """The kernel object Inductor's wrapper calls for a launcher-form module (run when Inductor imports the module):
    each call runs ``launch`` with fresh workspace on the device of the call's tensors."""
    return BoundKernel(functools.partial(_run_on_args_device, launch), launch.__code__.co_filename, name)


def _run_on_args_device(launch: Callable[..., None], *args: Any) -> None:
    device = next((a.device for a in args if isinstance(a, torch.Tensor)), None)
    if device is None:
        raise WorkspaceError(f"{LAUNCHER} was called without a tensor argument: no device to give workspace on")
    run_with_workspace(launch, device, args)
