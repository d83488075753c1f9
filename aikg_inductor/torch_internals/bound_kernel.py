"""A plain Python callable presented to Inductor's generated code as a Triton kernel object (code that runs inside a
compiled model, imported by the kernel modules Inductor loads; nothing here runs at compile time but the import).

Inductor's Python wrapper loads each Triton kernel's module with ``async_compile.triton(name, source)`` and, for
every call of the model, calls ``<name>.run(*call_args, stream=...)`` on the object the module binds under that
name (Inductor's own modules bind a ``CachingAutotuner`` there). Before the first call ``async_compile`` also calls,
in this process or around a parallel compile worker that pickles the object back to this one, ``set_compile_info``,
``precompile``, ``prepare_for_pickle``, ``restore_after_unpickle``, and reads ``autotune_cache_info``
(``KERNEL_PROTOCOL``; ``check_private_apis`` fails when a torch release calls anything else there). ``BoundKernel``
answers exactly that, around a callable taking the call arguments, and none of the autotuning behind it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

# What Inductor's async_compile and its compile workers call or read on a Triton kernel object, torch 2.11 to 2.13.
KERNEL_PROTOCOL = frozenset({"run", "precompile", "set_compile_info", "prepare_for_pickle", "restore_after_unpickle",
                             "autotune_cache_info"})


class BoundKernel:
    """What Inductor's wrapper calls under a kernel's name: ``run`` calls ``call`` with the call arguments.

    ``module_file`` is the file Inductor imported the kernel's module from and ``name`` what the module binds this
    object under: a parallel compile worker pickles the object as that module's source and the parent imports it
    again (the callable's functions belong to a module only the worker has). ``calls`` counts ``run``s.
    """

    def __init__(self, call: Callable[..., None], module_file: str, name: str) -> None:
        self.call = call
        self.module_file = module_file
        self.name = name
        self.calls = 0
        self.autotune_cache_info: dict[str, Any] | None = None  # no autotuning, nothing for Inductor's metrics

    def run(self, *args: Any, stream: Any, benchmark_run: bool = False, **kwargs: Any) -> None:
        """One call from Inductor's wrapper. ``stream`` is not passed on: the wrapper passes the current stream of
        the kernel's device (under its device guard), which is the stream Triton launches on. Arguments by name
        (which ``CachingAutotuner`` hands its kernel) have no place in the call the verifier ran: refused."""
        if kwargs:
            raise TypeError(f"{self.name} takes its call arguments by position only, not {', '.join(kwargs)}")
        self.calls += 1
        self.call(*args)

    def precompile(self, warm_cache_only: bool = False, reload_kernel: Any = None,
                   static_triton_bundle_key: Any = None) -> None:
        return None  # the callable's Triton kernels compile at their first launch, as any @triton.jit function

    def set_compile_info(self, compile_id: Any, is_backward: bool) -> None:
        return None

    def prepare_for_pickle(self) -> tuple[Any, ...]:
        return ()  # pickling needs no preparation: see __reduce__

    def restore_after_unpickle(self, old_values: tuple[Any, ...] | None) -> None:
        return None

    def __reduce__(self) -> tuple[Callable[[str, str], BoundKernel], tuple[str, str]]:
        return _import_again, (Path(self.module_file).read_text(), self.name)


def _import_again(source: str, name: str) -> BoundKernel:
    """The object ``name`` of a kernel module imported (again, in this process) through Inductor's code cache."""
    from torch._inductor.codecache import PyCodeCache

    kernel = getattr(PyCodeCache.load(source), name)
    if not isinstance(kernel, BoundKernel):
        raise TypeError(f"{name} in the re-imported kernel module is a {type(kernel).__name__}, not a BoundKernel")
    return kernel
