"""The ``aikg`` Dynamo backend: Inductor, with every fused kernel offered to the kernel cache and the pipeline."""

from __future__ import annotations

import inspect
import logging
import sys
from typing import Any, Callable, Mapping, Sequence

import torch

from .torch_internals import interception
from .kernel_cache import CacheEntry, CacheUnavailableError, KernelCache
from .options import Options, OptionsError, resolve_options
from .task import KernelTask

log = logging.getLogger(__name__)


def _source_for_inductor(task: KernelTask, entry: CacheEntry) -> tuple[str | None, str]:
    """What Inductor's ``define_kernel`` gets to run ``entry`` (an accepted kernel for ``task``) where it ran the
    baseline; or None, and what keeps it out (said of the kernel). A Triton module that brings its own launcher is
    proved again by the guards and bound under the kernel's name (``DslAdapter.source_for_inductor``)."""
    from .dsl import adapter_for
    from .dsl.violations import GuardRejected

    adapter = adapter_for(task.dsl)
    if adapter.own_launcher(entry.source) and (refused := interception.kernel_object_refused()):
        return None, f"brings its own launcher, which this compile cannot call: {refused}"
    try:
        return adapter.source_for_inductor(task, entry.source), ""
    except GuardRejected as err:
        log.warning("aikg: kernel %s (%s): the accepted kernel fails the static guards now, Inductor's is kept: %s",
                    task.short_key, task.name, err)
        return None, f"fails the static guards now ({err})"


class CompileSession:
    """What one ``torch.compile`` call through ``aikg`` does with each kernel Inductor generates.

    It records every task, swaps in exact cache hits (modes cache, tune, background), tunes misses now (tune) or
    queues them for the background worker (background).
    """

    def __init__(self, options: Options) -> None:
        self.options = options
        self.tasks: dict[str, KernelTask] = {}
        self.swapped: dict[str, str] = {}  # task key -> origin of the replacement ("cache" or "tuned")
        self._warned_unsearchable: set[str] = set()  # DSLs already warned about in this compile (mode tune)
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
            self._print_choice(task, "Inductor's (mode off)" if self.options.mode == "off" else
                               "Inductor's (no usable cache)")
            return None
        entry = self.cache.get(task.key)
        if entry is None:
            return self._handle_miss(task)
        source, why_not = _source_for_inductor(task, entry)
        if source is None:
            self._print_choice(task, f"Inductor's kept: the cached kernel {why_not}")
            return None
        self.swapped[task.key] = "cache"
        log.info("aikg: kernel %s (%s) replaced from the cache", task.short_key, task.name)
        self._print_choice(task, f"replaced from the cache ({_verified_speedup(entry)})")
        return source

    def _print_choice(self, task: KernelTask, choice: str) -> None:
        """Option ``print_choices`` (AIKG_PRINT_CHOICES=1): each kernel's choice on stderr, whatever the log level."""
        if self.options.print_choices:
            print(f"aikg: kernel {task.short_key} ({task.name or task.dsl}): {choice}", file=sys.stderr, flush=True)

    def on_graph_cache_hit(self) -> None:
        """Inductor loaded a compiled graph from its caches: no kernel went through ``on_kernel``."""
        if self.options.print_choices:
            print(f"aikg: a graph came from Inductor's graph cache: its kernels were chosen when it was first compiled, "
                  f"under this same set of accepted kernels ({self._token}); they are not listed again",
                  file=sys.stderr, flush=True)

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
            from .pipeline import TuneContext, tune_task
            from .search.evolve import RunBudget

            if self._run_budget is None:  # every kernel of this compile (the backward graph's too) shares it
                self._run_budget = RunBudget(self.options.run_budget_s, self.options.run_budget_tokens)
            outcome = tune_task(task, TuneContext.local(self.options, self.cache, run_budget=self._run_budget))
            self._warn_if_unsearchable(task, outcome.proposer_status)
            if outcome.entry is None:
                self._print_choice(task, f"Inductor's kept: {outcome.reason}")
                return None
            source, why_not = _source_for_inductor(task, outcome.entry)
            if source is None:
                self._print_choice(task, f"Inductor's kept: the kernel tuned now {why_not}")
                return None
            self.swapped[task.key] = "tuned"
            self._print_choice(task, f"replaced by a kernel tuned now ({_verified_speedup(outcome.entry)})")
            return source
        elif self.options.mode == "background":
            from .background import TaskQueue, ensure_worker

            if TaskQueue(self.options.cache_dir).push(task):
                ensure_worker(self.options)
            self._print_choice(task, "Inductor's for now (queued for the background worker)")
        else:
            refused = self.cache.refusal(task.key)
            self._print_choice(task, "Inductor's (not in the cache)" if refused is None else
                               f"Inductor's (the cache's entry is refused: {refused.status})")
        return None

    def _warn_if_unsearchable(self, task: KernelTask, status: Sequence[Any]) -> None:
        """Mode tune with no proposer that can search this kind of kernel (no LLM on CPU, a dead endpoint): said once
        per compile and kind of kernel, with the reasons, instead of tuning in silence."""
        from .search.history import can_search

        if can_search(status) or task.dsl in self._warned_unsearchable:
            return
        self._warned_unsearchable.add(task.dsl)
        missing = "; ".join(f"{s.name}: {s.why}" for s in status if not s.available)
        log.warning("aikg: mode tune: no proposer can search %s kernels here (%s); this compile keeps Inductor's "
                    "kernels, except those retrieval finds accepted for similar kernels in the cache", task.dsl,
                    missing)

    def use_graph_caches(self) -> bool:
        # Modes that act on misses (record, tune, queue) must see every kernel, which a graph-cache hit would
        # skip; in mode tune the accepted set also grows during the compile, so a graph-cache entry written then
        # would be filed under a fingerprint that no longer describes it. Only mode cache uses the graph caches.
        return self.options.mode == "cache"


def _verified_speedup(entry: CacheEntry) -> str:
    return f"{entry.verification.speedup:.3f}x when verified"


def compile_graph(
    gm: torch.fx.GraphModule,
    example_inputs: Sequence[Any],
    session: CompileSession,
    inductor_mode: str | None = None,
) -> Callable[..., Any]:
    """Compile one Dynamo graph with Inductor while ``session`` sees its kernels. ``inductor_mode`` is
    torch.compile's mode argument, over the ``inductor_mode`` option."""
    mode = inductor_mode or session.options.inductor_mode
    return interception.compile_with_inductor(
        gm, example_inputs, session, inductor_mode=None if mode == "default" else mode,
        use_graph_caches=session.use_graph_caches(),
    )


def aikg_backend(
    gm: torch.fx.GraphModule,
    example_inputs: Sequence[Any],
    options: Mapping[str, Any] | Options | None = None,
    mode: str | None = None,
) -> Callable[..., Any]:
    """The ``torch.compile(backend="aikg", options={...})`` entry point (registered as a Dynamo backend).

    ``mode`` is torch.compile's own mode argument (e.g. "max-autotune"); it goes to Inductor. Bad options raise
    ``OptionsError`` at the first call of the compiled model (torch.compile calls no backend before), as itself.
    """
    try:
        resolved = resolve_options(options)
    except OptionsError as err:
        raise interception.BackendOptionsError(f"aikg: {err}", inspect.currentframe()) from None
    return compile_graph(gm, example_inputs, CompileSession(resolved), inductor_mode=mode)


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
