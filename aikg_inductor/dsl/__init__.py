"""One adapter per kernel language: how to load a kernel source into a callable and time it on its device."""

from __future__ import annotations

import importlib
from typing import Any, Callable, Protocol

from ..task import KernelTask


class DslAdapter(Protocol):
    device_type: str

    def load(self, task: KernelTask, source: str) -> Callable[..., None]:
        """Compile ``source`` (a kernel for ``task``'s signature) and return a callable taking the call args."""

    def median_seconds(self, fn: Callable[[], Any], reps: int) -> float:
        """Median time of ``fn()`` on the device, warm-up excluded."""

    def synchronize(self) -> None:
        """Wait until the device has finished the work launched so far."""


_ADAPTERS = {"cpp-cpu": "cpp_cpu", "triton-cuda": "triton_cuda"}


class UnknownDslError(ValueError):
    pass


def adapter_for(dsl: str) -> DslAdapter:
    if dsl not in _ADAPTERS:
        raise UnknownDslError(f"no adapter for DSL {dsl!r}; known: {', '.join(_ADAPTERS)}")
    return importlib.import_module(f"{__name__}.{_ADAPTERS[dsl]}").ADAPTER
