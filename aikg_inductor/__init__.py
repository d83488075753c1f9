"""aikg-inductor: agents and search that try to beat Inductor's fused kernels, verified, cached and reused.

Use it through ``torch.compile(model, backend="aikg", options={...})`` (no import needed), ``aikg`` on the command
line, or this API.
"""

from .backend import aikg_backend, capture
from .interception import install
from .kernel_cache import CacheEntry, KernelCache
from .options import Options, OptionsError, resolve_options
from .task import KernelArg, KernelTask, TensorLayout

__version__ = "0.1.0"

__all__ = [
    "CacheEntry",
    "KernelArg",
    "KernelCache",
    "KernelTask",
    "Options",
    "OptionsError",
    "TensorLayout",
    "aikg_backend",
    "capture",
    "install",
    "resolve_options",
]
