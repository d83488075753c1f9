"""The ``aikg`` Dynamo backend: Inductor, with every fused kernel offered to the kernel cache and the pipeline."""

from __future__ import annotations

import logging
from typing import Any, Callable, Mapping, Sequence

import torch

from . import interception
from .kernel_cache import CacheUnavailableError, KernelCache
from .options import Options, resolve_options
from .task import KernelTask

log = logging.getLogger(__name__)


class CompileSession:
    """What one ``torch.compile`` call through ``aikg`` does with each kernel Inductor generates.

    It records every task, swaps in exact cache hits (modes cache, tune, background), tunes misses now (tune) or
    queues them for the background worker (background).
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self.tasks: dict[str, KernelTask] = {}
        self.swapped: dict[str, str] = {}  # task key -> origin of the replacement ("cache" or "tuned")
        self.cache = self._open_cache() if options.mode != "off" else None
        # Fixed for the whole compile: Inductor's cache key and the kernels we swap in must agree.
        self._token = "off" if self.cache is None else f"{options.mode}-{self.cache.fingerprint()}"
        self._run_budget: Any = None  # mode tune: one RunBudget (run_budget_s, run_budget_tokens) for the compile

    def _open_cache(self) -> KernelCache | None:
        try:
            return KernelCache(self.options.cache_dir)
        except CacheUnavailableError as err:
            log.warning("aikg: %s; compiling with Inductor's kernels only", err)
            return None

    def cache_token(self) -> str:
        return self._token

    def on_kernel(self, task: KernelTask) -> str | None:
        self._record(task)
        if self.cache is None:
            return None
        entry = self.cache.get(task.key)
        if entry is not None:
            self.swapped[task.key] = "cache"
            log.info("aikg: kernel %s (%s) replaced from the cache", task.short_key, task.name)
            return entry.source
        return self._handle_miss(task)

    def _record(self, task: KernelTask) -> None:
        if task.key in self.tasks:
            return
        self.tasks[task.key] = task
        if self.options.record_dir is not None:
            try:
                task.save(self.options.record_dir)
            except OSError as err:
                log.warning("aikg: cannot record task %s in %s: %s", task.short_key, self.options.record_dir, err)

    def _handle_miss(self, task: KernelTask) -> str | None:
        assert self.cache is not None
        if self.options.mode == "tune":
            from .pipeline import tune_task
            from .search.evolve import RunBudget

            if self._run_budget is None:  # every kernel of this compile (the backward graph's too) shares it
                self._run_budget = RunBudget(self.options.run_budget_s, self.options.run_budget_tokens)
            outcome = tune_task(task, self.options, self.cache, run_budget=self._run_budget)
            if outcome.entry is not None:
                self.swapped[task.key] = "tuned"
                return outcome.entry.source
        elif self.options.mode == "background":
            from .background import TaskQueue, ensure_worker

            if TaskQueue(self.options.cache_dir).push(task):
                ensure_worker(self.options)
        return None

    def use_graph_caches(self) -> bool:
        # Modes that act on misses (record, tune, queue) must see every kernel, which a graph-cache hit would
        # skip; in mode tune the accepted set also grows during the compile, so a graph-cache entry written then
        # would be filed under a fingerprint that no longer describes it. Only mode cache uses the graph caches.
        return self.options.mode == "cache"


def compile_graph(
    gm: torch.fx.GraphModule,
    example_inputs: Sequence[Any],
    session: CompileSession,
    inductor_mode: str | None = None,
) -> Callable[..., Any]:
    """Compile one Dynamo graph with Inductor while ``session`` sees its kernels."""
    return interception.compile_with_inductor(
        gm, example_inputs, session, inductor_mode=inductor_mode, use_graph_caches=session.use_graph_caches()
    )


def aikg_backend(
    gm: torch.fx.GraphModule,
    example_inputs: Sequence[Any],
    options: Mapping[str, Any] | Options | None = None,
    mode: str | None = None,
) -> Callable[..., Any]:
    """The ``torch.compile(backend="aikg", options={...})`` entry point (registered as a Dynamo backend).

    ``mode`` is torch.compile's own mode argument (e.g. "max-autotune"); it goes to Inductor.
    """
    return compile_graph(gm, example_inputs, CompileSession(resolve_options(options)), inductor_mode=mode)


def capture(
    model: Callable[..., Any], inputs: Sequence[Any], options: Mapping[str, Any] | Options | None = None
) -> tuple[CompileSession, Any]:
    """Compile and run ``model(*inputs)`` once through ``aikg``; returns the session (tasks, swaps) and output.

    Resets torch.compile's caches first so that every graph is compiled afresh and every kernel is seen.
    """
    session = CompileSession(resolve_options(options))
    torch.compiler.reset()
    compiled = torch.compile(model, backend=lambda gm, example_inputs: compile_graph(gm, example_inputs, session))
    with torch.no_grad():
        output = compiled(*inputs)
    return session, output
