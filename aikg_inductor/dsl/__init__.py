"""One adapter per kernel language: how to load a kernel source into a callable and time it on its device."""

from __future__ import annotations

import importlib
import os
import statistics
import time
from typing import Any, Callable, Protocol

from ..task import KernelTask


class DslAdapter(Protocol):
    device_type: str
    keeps_heap: bool  # whether candidate code can allocate heap memory and keep it past a call (native code)

    def load(self, task: KernelTask, source: str) -> Callable[..., None]:
        """Compile ``source`` (a kernel for ``task``'s signature) and return a callable taking the call args.
        For trusted code (Inductor's baseline); candidates go through ``prepare`` and ``load_prepared``."""

    def prepare(self, task: KernelTask, source: str) -> Any:
        """Compile ``source`` and prove it (``verify.guards.GuardRejected`` when a proof fails); may run compilers.
        No candidate code runs here but what the static guards have checked (a Triton module's top level)."""

    def load_prepared(self, prepared: Any) -> Callable[..., None]:
        """The callable for what ``prepare`` made; starts no process (it runs inside the candidate sandbox)."""

    def median_seconds(self, fn: Callable[[], Any], reps: int) -> float:
        """Median time of ``fn()`` on the device, warm-up excluded."""

    def synchronize(self) -> None:
        """Wait until the device has finished the work launched so far."""

    def baseline_variant(self, task: KernelTask, source: str) -> bool:
        """Whether ``source`` is ``task``'s own (Inductor's) kernel with nothing changed but launch parameters
        within bounds: as trusted as the baseline, so judged without a sandboxed runner. When unsure, False."""

    def warm(self) -> None:
        """Pay the toolchain's first-use costs now, with a trivial kernel of our own (a process that will judge or
        run candidates does this while nobody waits): imports, device start-up, compiler and launcher builds."""


def wall_median_seconds(fn: Callable[[], Any], reps: int, warmup: int) -> float:
    """Median wall time of ``fn()`` over ``reps`` calls after ``warmup`` calls: timing for host-run kernels."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


_ADAPTERS = {"cpp-cpu": "cpp_cpu", "triton-cuda": "triton_cuda"}


class UnknownDslError(ValueError):
    pass


def triton_interpreted() -> bool:
    """Whether Triton kernels in this process run under Triton's interpreter on CPU tensors (TRITON_INTERPRET=1)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def adapter_for(dsl: str) -> DslAdapter:
    """The adapter that runs ``dsl``'s kernels here; ``triton-cuda`` under TRITON_INTERPRET=1: the interpreter's."""
    if dsl not in _ADAPTERS:
        raise UnknownDslError(f"no adapter for DSL {dsl!r}; known: {', '.join(_ADAPTERS)}")
    module = _ADAPTERS[dsl]
    if dsl == "triton-cuda" and triton_interpreted():
        module = "triton_interpret"
    return importlib.import_module(f"{__name__}.{module}").ADAPTER
