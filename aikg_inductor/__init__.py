"""aikg-inductor: agents and search that try to beat Inductor's fused kernels, verified, cached and reused.

Use it through ``torch.compile(model, backend="aikg", options={...})`` (no import needed), ``aikg`` on the command
line, or this API.

The names below are imported on first use (PEP 562): importing the package must not import torch, so that
``aikg --help`` and the commands that need no model start in well under a second.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_EXPORTS = {
    "aikg_backend": "backend",
    "capture": "backend",
    "install": "torch_internals.interception",
    "CacheEntry": "kernel_cache",
    "KernelCache": "kernel_cache",
    "Options": "options",
    "OptionsError": "options",
    "resolve_options": "options",
    "KernelArg": "task",
    "KernelTask": "task",
    "TensorLayout": "task",
    "tune": "offline_tuning",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'aikg_inductor' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
