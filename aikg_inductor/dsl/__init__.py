"""One plug-in per kernel language, found through one registry (``adapter_for``).

An adapter owns everything the rest of the package needs to know about its language: loading and timing kernels on
its device, the static proofs a candidate must pass (``check_source``), its entry point's signature, and the facts
the prompts and the Coder state about it. Nothing outside ``dsl/`` tests a DSL's name; it asks the adapter. Adding a
DSL is one new module here (exporting ``ADAPTER``) and one line in ``_ADAPTERS``.
"""

from __future__ import annotations

import dataclasses
import importlib
import os
import statistics
import time
from typing import TYPE_CHECKING, Any, Callable, Iterable, Protocol

from ..task import KernelTask

if TYPE_CHECKING:
    from .violations import GuardViolation


@dataclasses.dataclass(frozen=True)
class Signature:
    """A kernel's entry point: its name and parameters as ``(type, name)`` (the type is "" in untyped languages)."""

    name: str
    params: tuple[tuple[str, str], ...]

    def describe(self) -> str:
        return ", ".join(f"{t} {n}".strip() for t, n in self.params)


class DslAdapter(Protocol):
    device_type: str
    """Where this process runs the DSL's kernels: "cpu" or "cuda" (a Triton kernel under the interpreter: "cpu")."""

    keeps_heap: bool
    """Whether candidate code can allocate heap memory and keep it past a call (native code): the judge then checks
    every checked call for heap it left allocated."""

    device_note: str
    """What the verification report adds to the device's name ("" unless timings are not the device's own)."""

    language: str
    """The code-fence language the prompts ask for ("cpp", "python")."""

    fence_tags: frozenset[str]
    """Fence tags a reply's code block may carry and still be read as this language ("" for an untagged fence)."""

    entry_point: str
    """How a rejection names the kernel's entry point to the model ('an extern "C" function', "a def")."""

    contract_section: str
    """The heading of this DSL's rules in ``docs/kernel_contract.md`` (what the prompts quote)."""

    config_tunable: bool
    """Whether the kernels carry an Inductor launch configuration the config tuner (``search/proposers/tuner.py``)
    can change."""

    runner_owns_inductor_cache: bool
    """Whether a candidate runner needs its own writable Inductor cache: kernels that autotune at their first call
    record the winner there, inside the sandbox."""

    def parse_signature(self, source: str) -> Signature | None:
        """The entry point of the kernel in ``source``, or None when there is none to be found."""

    def rename_entry_point(self, source: str, name: str) -> str:
        """``source`` with its entry point (as ``parse_signature`` finds it, which must not be None) named ``name``."""

    def restore_prelude(self, baseline: str, source: str) -> tuple[str, list[str]]:
        """``source`` with what the baseline's kernels always start with and models drop (C++: the ``cpp_prefix.h``
        include) put back, and the repairs made."""

    def own_launcher(self, source: str) -> bool:
        """Whether ``source`` brings its own launcher instead of the baseline's entry point (Triton's launcher
        form): its signature is then the guards' to check, and Inductor's wrapper calls it through a binding
        (``source_for_inductor``), which only Inductor's Python wrapper can call."""

    def source_for_inductor(self, task: KernelTask, source: str) -> str:
        """What Inductor's ``define_kernel`` gets so that its wrapper calls ``source`` (an accepted kernel for
        ``task``, from the cache or tuned now) where it called the baseline: ``source`` itself, or for a module that
        brings its own launcher, that module proved again by the static guards and followed by the lines that bind
        its launcher where the wrapper looks for the kernel. Raises ``violations.GuardRejected`` when the guards
        refuse it."""

    def check_source(self, task: KernelTask, source: str) -> GuardViolation | None:
        """The first static rule ``source`` breaks as a replacement for ``task``'s kernel, or None. May run the
        compiler (to prove the compiled object) but nothing of the candidate's."""

    def load(self, task: KernelTask, source: str) -> Callable[..., None]:
        """Compile ``source`` (a kernel for ``task``'s signature) and return a callable taking the call args.
        For trusted code (Inductor's baseline); candidates go through ``prepare`` and ``load_prepared``."""

    def prepare(self, task: KernelTask, source: str) -> Any:
        """Compile ``source`` and prove it (``violations.GuardRejected`` when a proof fails); may run compilers.
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


# The registry: DSL name -> module of this package holding its ``ADAPTER``. triton-ascend's module refuses to import
# without an Ascend NPU (only its doc pack ships).
_ADAPTERS = {"cpp-cpu": "cpp_cpu", "triton-cuda": "triton_cuda", "triton-ascend": "triton_ascend"}


class UnknownDslError(ValueError):
    pass


def triton_interpreted() -> bool:
    """Whether Triton kernels in this process run under Triton's interpreter on CPU tensors (TRITON_INTERPRET=1)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def adapter_module(dsl: str) -> str | None:
    """The import path of ``dsl``'s adapter module as registered (what a doc pack's ``adapter`` must name), or None
    for a DSL the registry does not know."""
    return f"{__name__}.{_ADAPTERS[dsl]}" if dsl in _ADAPTERS else None


def warm(dsls: Iterable[str]) -> None:
    """Each DSL's toolchain warmed (``DslAdapter.warm``), as a process that will judge or run its kernels starts."""
    for dsl in dsls:
        adapter_for(dsl).warm()


def adapter_for(dsl: str) -> DslAdapter:
    """The adapter that runs ``dsl``'s kernels here; ``triton-cuda`` under TRITON_INTERPRET=1: the interpreter's."""
    if dsl not in _ADAPTERS:
        raise UnknownDslError(f"no adapter for DSL {dsl!r}; known: {', '.join(_ADAPTERS)}")
    module = _ADAPTERS[dsl]
    if dsl == "triton-cuda" and triton_interpreted():
        module = "triton_interpret"
    return importlib.import_module(f"{__name__}.{module}").ADAPTER
