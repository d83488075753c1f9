"""Offline tuning on a Ray cluster: ``aikg tune --cluster ray`` (start or join a cluster on this machine) or
``--cluster ray://HOST:PORT`` (a Ray client address).

Kernels, already deduplicated by key, go one at a time to worker actors: one per GPU (``num_gpus=1``; Ray sets the
worker's CUDA_VISIBLE_DEVICES) or, on a CPU-only cluster, one per CPU slot. Each runs ``pipeline.tune_task`` with its
own verifier pool and a ``ForwardingSink`` that sends every judged attempt, accepted kernel and run summary to an
inbox actor on the driver's node. The driver is the one writer: it drains the inbox into ``LocalSink`` (the signed
kernel cache and the search history, with the cache's own signing) and calls the same ``TuneProgress`` methods as a
local run. Nothing of the cache travels to the workers: each job says where the kernel's search resumes from and
what retrieval found for it in the driver's cache.

Fault tolerance: a record is in the inbox once a worker's put returns, and the inbox outlives the workers. When a
worker dies (its process killed, its node lost) the driver drains the inbox, so the history holds every attempt the
worker had judged, and resubmits the kernel to the next free worker, which resumes from that history. Ray restarts
the dead actor (``max_restarts``) where resources allow. Only the candidates in flight on the dead worker are lost.

LLM requests from all workers share one limit (``LlmSlots``, a small actor): ``agents.llm_client.set_request_gate``
makes every client in a worker process hold one of its slots per request.

This module imports Ray; ``offline_tuning.py`` imports it only for a cluster run.
"""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import functools
import logging
import time
import uuid
from typing import Any, Iterable, Sequence

from .dsl import adapter_for
from .kernel_cache import CacheEntry, CacheUnavailableError, KernelCache, KernelIndex
from .options import Options
from .pipeline import (
    RETRIEVAL_STATUS,
    TuneContext,
    TuneOutcome,
    proposer_status,
    proposers_for,
    store_if_faster,
    tune_task,
)
from .tuning_run import ProposerFactory, TunedKernel, TuneRun
from .search.evolve import RunBudget
from .search.history import TaskRun
from .search.proposers import Attempt, Candidate, Proposer, SearchContext
from .search.proposers.retrieval import RetrievalProposer, fresh_candidates
from .task import KernelTask

try:
    import ray
    from ray.exceptions import RayActorError
    from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy
except ImportError as _missing:  # the CLI turns this into one line
    raise ImportError("aikg tune --cluster needs Ray: pip install 'aikg-inductor[cluster]'") from _missing

log = logging.getLogger(__name__)

PREFIX = "ray"
MAX_TRIES = 3  # a kernel whose worker is lost this many times is reported, not resubmitted again
MAX_RESTARTS = 3  # Ray restarts a lost worker actor this many times (where the cluster has room for it)
WAIT_S = 0.2  # how often the driver drains the inbox while kernels are out


class ClusterError(RuntimeError):
    """A cluster run cannot start: a bad address, no cluster there, or no worker slot in it."""


def parse_address(spec: str) -> str | None:
    """``ray`` -> None (join the cluster this machine runs, else start one); ``ray://HOST:PORT`` -> that address."""
    if spec == PREFIX:
        return None
    if spec.startswith(f"{PREFIX}://") and len(spec) > len(f"{PREFIX}://"):
        return spec
    raise ClusterError(f"--cluster takes 'ray' or 'ray://HOST:PORT', got {spec!r}")


# ------------------------------------------------------------------------------------------------- records


@dataclasses.dataclass(frozen=True)
class KernelJob:
    """One kernel as a worker gets it: the task, where its search resumes, and what the run's budget has left."""

    task: KernelTask
    previous: tuple[Attempt, ...]  # attempts from earlier runs (and from lost workers), from the driver's history
    run: int  # this run's number in the history
    stored_speedup: float | None  # the speedup of the kernel the cache holds for the task, if any
    run_wall_s: float | None  # seconds left of the run's wall budget when the job was sent
    run_tokens: int | None  # tokens left of the run's budget
    retrieved: tuple[tuple[str, dict[str, Any]], ...] = ()  # retrieval's finds in the driver's cache (source, notes)


@dataclasses.dataclass(frozen=True)
class SinkRecord:
    """One result on its way from a worker to the driver: an attempt judged, a kernel to store, or a run's end."""

    task_key: str
    run: int
    attempt: Attempt | None = None
    entry: CacheEntry | None = None
    finished: TaskRun | None = None


class ForwardingSink:
    """A worker's ``ResultSink``: answers what the driver said in the job, sends every result to the inbox.

    Each put waits until the inbox holds the record, so an attempt reported to the search is safe from this
    worker's death. The stored speedup is kept here: only one worker works on a kernel at a time."""

    cache = None  # the cache stays with the driver: retrieval's finds came with the job

    def __init__(self, inbox: Any, job: KernelJob) -> None:
        self.inbox, self.job = inbox, job
        self.stored = job.stored_speedup

    def previous(self, task: KernelTask) -> list[Attempt]:
        return list(self.job.previous)

    def begin(self, task: KernelTask) -> int:
        return self.job.run

    def attempted(self, task: KernelTask, attempt: Attempt, run: int) -> None:
        self._send(SinkRecord(task.key, run, attempt=attempt))

    def store(self, entry: CacheEntry) -> None:
        self._send(SinkRecord(entry.key, self.job.run, entry=entry))
        self.stored = entry.verification.speedup

    def stored_speedup(self, task: KernelTask) -> float | None:
        return self.stored

    def finished(self, task: KernelTask, run: TaskRun) -> None:
        self._send(SinkRecord(task.key, self.job.run, finished=run))

    def _send(self, record: SinkRecord) -> None:
        ray.get(self.inbox.put.remote(record))


# ------------------------------------------------------------------------------------------------- actors


class Inbox:
    """Results on their way to the driver's writer. It lives on the driver's node and outlives every worker."""

    def __init__(self) -> None:
        self.records: list[SinkRecord] = []
        self.arrived = asyncio.Event()

    async def put(self, record: SinkRecord) -> None:
        self.records.append(record)
        self.arrived.set()

    async def take(self, wait_s: float = 0.0) -> list[SinkRecord]:
        """Every record held, oldest first; waits up to ``wait_s`` for one when none is held."""
        if not self.records and wait_s > 0:
            try:
                await asyncio.wait_for(self.arrived.wait(), wait_s)
            except asyncio.TimeoutError:
                pass
        taken, self.records = self.records, []
        self.arrived.clear()
        return taken


class LlmSlots:
    """A counting semaphore over the cluster: at most ``size`` LLM requests in flight from all workers.

    A slot is a lease that lapses after ``lease_s`` (longer than any request with its retries can take), so the
    slots of a worker that died mid-request come back without anyone releasing them."""

    def __init__(self, size: int, lease_s: float) -> None:
        self.size, self.lease_s = max(1, size), lease_s
        self.leases: dict[str, float] = {}  # lease -> when it lapses (monotonic)
        self.freed = asyncio.Event()
        self.most = 0  # most slots held at once (the tests and the scaling note read it)

    async def acquire(self) -> str:
        while True:
            now = time.monotonic()
            self.leases = {lease: until for lease, until in self.leases.items() if until > now}
            if len(self.leases) < self.size:
                lease = uuid.uuid4().hex
                self.leases[lease] = now + self.lease_s
                self.most = max(self.most, len(self.leases))
                return lease
            self.freed.clear()
            try:  # woken by a release, or after a while to let leases lapse
                await asyncio.wait_for(self.freed.wait(), min(self.lease_s, 5.0))
            except asyncio.TimeoutError:
                pass

    async def release(self, lease: str) -> None:
        self.leases.pop(lease, None)
        self.freed.set()

    async def held(self) -> tuple[int, int]:
        """Slots held now, and the most ever held at once."""
        return len(self.leases), self.most


class ClusterSlot:
    """Holds one of the cluster's LLM slots for a ``with`` block: the request gate of a worker process."""

    def __init__(self, slots: Any) -> None:
        self.slots = slots
        self.lease: str | None = None

    def __enter__(self) -> ClusterSlot:
        self.lease = ray.get(self.slots.acquire.remote())
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.lease is not None:
            self.slots.release.remote(self.lease)  # no need to wait: the slot frees when the actor gets it


class ShippedRetrieval(Proposer):
    """The retrieval proposer on a worker: its finds were looked up in the driver's cache and came with the job."""

    name = RetrievalProposer.name

    def __init__(self, found: Sequence[tuple[str, dict[str, Any]]]) -> None:
        self.found = list(found)

    def propose(self, task: KernelTask, context: SearchContext, limit: int) -> list[Candidate]:
        return fresh_candidates(self.found, context, limit, self.name)


def retrieved(cache: KernelCache, task: KernelTask) -> tuple[tuple[str, dict[str, Any]], ...]:
    """What retrieval finds for ``task`` in ``cache``, to ship to a worker that has no cache."""
    return tuple(RetrievalProposer(KernelIndex(cache)).reusable(task))


class TuneWorker:
    """One verification worker of the cluster (one GPU or one CPU slot): tunes one kernel at a time.

    The inbox and the LLM slots are named, not handed over: Ray restarts an actor from its constructor arguments,
    and actor handles among them may be gone by then (ray-project/ray#53727)."""

    def __init__(self, options: Options, inbox: str, proposers: ProposerFactory | None = None,
                 llm_slots: str | None = None, log_level: int = logging.WARNING) -> None:
        logging.basicConfig(level=log_level, format="%(levelname)s %(name)s: %(message)s")
        logging.getLogger("aikg_inductor").setLevel(log_level)
        self.options, self.inbox, self.proposers = options, ray.get_actor(inbox), proposers
        if llm_slots is not None:
            from .agents.llm_client import set_request_gate

            set_request_gate(functools.partial(ClusterSlot, ray.get_actor(llm_slots)))

    def tune(self, job: KernelJob) -> TuneOutcome:
        from .verify.pool import default_pool

        task = job.task
        # The verifier's pool: the process-wide one for the DSL, on the GPU Ray gave this actor.
        pool = default_pool(task.dsl, self.options.verify_workers)
        status = None  # proposers given by the caller: each taken as available
        if self.proposers is not None:
            proposers = list(self.proposers(task))
        else:  # the cache stays with the driver: retrieval's finds came with the job
            status = (RETRIEVAL_STATUS, *proposer_status(task, self.options))
            proposers = [ShippedRetrieval(job.retrieved), *proposers_for(task, self.options, None, status)]
        context = TuneContext(self.options, ForwardingSink(self.inbox, job), RunBudget(job.run_wall_s, job.run_tokens),
                              pool)
        return tune_task(task, context, proposers, status=status)


# ------------------------------------------------------------------------------------------------- the driver


class _Writer:
    """The driver's side of the inbox: writes what arrives through ``LocalSink`` and tells the progress display."""

    def __init__(self, inbox: Any, run: TuneRun, tasks: dict[str, KernelTask]) -> None:
        self.inbox, self.tasks = inbox, tasks
        self.sink, self.run_budget, self.progress = run.sink, run.budget, run.progress
        self.store_errors: dict[str, str] = {}
        self.records = 0  # records written in this run (the scaling note's write rate)

    def drain(self, wait_s: float = 0.0) -> None:
        for record in ray.get(self.inbox.take.remote(wait_s)):
            self.records += 1
            self._apply(record)

    def _apply(self, record: SinkRecord) -> None:
        task = self.tasks[record.task_key]
        if record.attempt is not None:
            self.sink.attempted(task, record.attempt, record.run)
            self.run_budget.charge(candidates=1)
            if self.progress is not None:
                self.progress.attempt_judged(task, record.attempt)
        if record.entry is not None:
            try:
                if store_if_faster(self.sink, task, record.entry):
                    self.store_errors.pop(task.key, None)
            except CacheUnavailableError as err:
                self.store_errors[task.key] = str(err)
                log.error("aikg: task %s: accepted a candidate but could not store it: %s", task.short_key, err)
        if record.finished is not None:
            self.sink.finished(task, record.finished)


@dataclasses.dataclass
class _Pending:
    task: KernelTask
    problems: list[str]
    tries: int = 0


@dataclasses.dataclass
class _Worker:
    handle: Any
    losses: int = 0  # times this actor died under a kernel (Ray restarts it up to MAX_RESTARTS)


def tune_on_ray(
    address: str,
    todo: dict[str, list[tuple[KernelTask, list[str]]]],
    run: TuneRun,
    cpus_per_worker: float = 1.0,
) -> list[TunedKernel]:
    """Tune the kernels of ``todo`` (by DSL) on the Ray cluster at ``address`` (see ``parse_address``); returns one
    row per kernel. Ray is started or joined here and shut down at the end when this call started it; a caller
    that already ran ``ray.init`` keeps its cluster. ``run.proposers`` must pickle (it is sent to every worker)."""
    started_ray = not ray.is_initialized()
    if started_ray:
        target = parse_address(address)
        try:
            ray.init(address=target, logging_level=logging.WARNING)
        except (ConnectionError, RuntimeError, ValueError) as err:
            # Recent Ray clusters use token authentication (Ray 2.60 here): a client must be told to send the token.
            hint = "; with token authentication set RAY_AUTH_MODE=token here" if target else ""
            raise ClusterError(f"cannot reach the Ray cluster at {target or 'this machine'}: {err}{hint}") from err
    run_id = uuid.uuid4().hex[:12]
    inbox = ray.remote(Inbox).options(name=f"aikg-inbox-{run_id}", num_cpus=0, scheduling_strategy=_here()).remote()
    llm_slots = _llm_slots(run.options, f"aikg-llm-slots-{run_id}")
    rows: list[TunedKernel] = []
    try:
        tasks = {task.key: task for items in todo.values() for task, _ in items}
        writer = _Writer(inbox, run, tasks)
        for gpu, items in _by_device(todo).items():
            workers = _workers(gpu, len(items), run, f"aikg-inbox-{run_id}",
                               None if llm_slots is None else f"aikg-llm-slots-{run_id}", cpus_per_worker)
            rows += _Scheduler(writer, items, run, workers).run()
    finally:
        for actor in (inbox, llm_slots):
            if actor is not None:
                ray.kill(actor, no_restart=True)
        if started_ray:
            ray.shutdown()
    return rows


def _here() -> NodeAffinitySchedulingStrategy:
    """Pinned to the driver's node (with a Ray client address: the cluster's head node)."""
    return NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)


def _by_device(todo: dict[str, list[tuple[KernelTask, list[str]]]]) -> dict[bool, list[tuple[KernelTask, list[str]]]]:
    """Kernels that need a GPU worker (True) and those a CPU slot runs (False)."""
    groups: dict[bool, list[tuple[KernelTask, list[str]]]] = {}
    for dsl, items in todo.items():
        groups.setdefault(adapter_for(dsl).device_type == "cuda", []).extend(items)
    return groups


def _llm_slots(options: Options, name: str) -> Any:
    """The cluster's LLM limit (the LLM config's ``concurrency``, across all workers), or None with no endpoint."""
    from .agents.config import LlmConfig

    config = LlmConfig.from_options(options)
    if config.base_url is None:
        return None
    # Longer than one request with all its retries and back-offs can hold a slot.
    lease_s = config.timeout_s * (config.max_retries + 1) + config.backoff_max_s * config.max_retries + 60.0
    return ray.remote(LlmSlots).options(name=name, num_cpus=0, scheduling_strategy=_here()).remote(
        config.concurrency, lease_s)


def _workers(gpu: bool, kernels: int, run: TuneRun, inbox: str, llm_slots: str | None,
             cpus_per_worker: float) -> list[_Worker]:
    """One worker actor per GPU of the cluster, or per ``cpus_per_worker`` CPUs on a CPU-only cluster (no more
    than there are kernels)."""
    resources = ray.cluster_resources()
    if gpu:
        count, spec = int(resources.get("GPU", 0)), {"num_gpus": 1, "num_cpus": cpus_per_worker}
    else:
        count, spec = int(resources.get("CPU", 0) // cpus_per_worker), {"num_cpus": cpus_per_worker}
    if count < 1:
        raise ClusterError(f"the Ray cluster has no {'GPU' if gpu else 'CPU'} for a verification worker "
                           f"(resources: {resources})")
    actor = ray.remote(TuneWorker).options(max_restarts=MAX_RESTARTS, max_task_retries=0, **spec)
    level = logging.getLogger("aikg_inductor").getEffectiveLevel()
    log.info("aikg: %d %s worker(s) on the Ray cluster", min(count, kernels), "GPU" if gpu else "CPU")
    return [_Worker(actor.remote(run.options, inbox, run.proposers, llm_slots, level)) for _ in range(min(count, kernels))]


class _Scheduler:
    """Hands kernels to free workers, drains the inbox while they work, and resubmits a lost worker's kernel."""

    def __init__(self, writer: _Writer, items: Iterable[tuple[KernelTask, list[str]]], run: TuneRun,
                 workers: Sequence[_Worker]) -> None:
        self.writer, self.options, self.run_budget, self.progress = writer, run.options, run.budget, run.progress
        self.retrieval = run.proposers is None  # look up retrieval's finds for each job (the default proposers)
        self.pending = collections.deque(_Pending(task, problems) for task, problems in items)
        self.free = collections.deque(workers)
        self.out: dict[Any, tuple[_Worker, _Pending]] = {}  # result ref -> its worker and kernel
        self.started: set[str] = set()
        self.rows: list[TunedKernel] = []

    def run(self) -> list[TunedKernel]:
        try:
            while self.pending or self.out:
                self._submit()
                if not self.out:
                    if self.pending and not self.free:  # every worker lost for good
                        for item in self.pending:
                            self._row(item, None, "no cluster worker left")
                        self.pending.clear()
                    continue
                ready, _ = ray.wait(list(self.out), num_returns=1, timeout=WAIT_S)
                # Drained before a result is looked at: a kernel's records all precede its outcome in the inbox.
                self.writer.drain()
                for ref in ready:
                    self._collect(ref)
        finally:
            self.writer.drain()  # Ctrl-C or an error: keep what was judged
            for worker in [*self.free, *(w for w, _ in self.out.values())]:
                ray.kill(worker.handle, no_restart=True)
        return self.rows

    def _submit(self) -> None:
        while self.pending and self.free:
            item = self.pending.popleft()
            if spent := self.run_budget.exhausted():
                self._row(item, None, f"{spent} spent")
                continue
            worker = self.free.popleft()
            if item.task.key not in self.started and self.progress is not None:
                self.progress.kernel_started(item.task, self.options.kernel_budget_candidates)
            self.started.add(item.task.key)
            self.out[worker.handle.tune.remote(self._job(item.task))] = (worker, item)

    def _job(self, task: KernelTask) -> KernelJob:
        sink, budget = self.writer.sink, self.run_budget
        wall = None if budget.deadline is None else max(0.0, budget.deadline - time.monotonic())
        tokens = None if budget.tokens is None else max(0, budget.tokens - budget.tokens_spent)
        found = retrieved(sink.cache, task) if self.retrieval else ()
        return KernelJob(task, tuple(sink.previous(task)), sink.begin(task), sink.stored_speedup(task), wall, tokens,
                         found)

    def _collect(self, ref: Any) -> None:
        worker, item = self.out.pop(ref)
        try:
            outcome: TuneOutcome = ray.get(ref)
        except RayActorError as err:
            self._lost(worker, item, err)
            return
        except ray.exceptions.RayTaskError as err:  # a bug on the worker: this kernel is reported, the run goes on
            log.error("aikg: task %s failed on a cluster worker: %s", item.task.short_key, err)
            self.free.append(worker)
            self._row(item, None, f"failed on a cluster worker: {str(err).splitlines()[0]}")
            return
        self.free.append(worker)
        self.run_budget.charge(tokens=outcome.tokens)
        if error := self.writer.store_errors.get(item.task.key):
            outcome = dataclasses.replace(outcome, entry=None,
                                          reason=f"accepted a candidate but could not store it: {error}")
        self._row(item, outcome)

    def _lost(self, worker: _Worker, item: _Pending, err: Exception) -> None:
        """The worker died under ``item``: its judged attempts are in the inbox; drain them, resubmit the kernel."""
        self.writer.drain()
        worker.losses += 1
        item.tries += 1
        log.warning("aikg: task %s: cluster worker lost (%s); %s", item.task.short_key, type(err).__name__,
                    "resubmitting it" if item.tries < MAX_TRIES else f"given up after {item.tries} lost workers")
        if worker.losses <= MAX_RESTARTS:
            self.free.append(worker)  # Ray restarts it; calls wait until it is back
        if item.tries < MAX_TRIES:
            self.pending.appendleft(item)
        else:
            self._row(item, None, f"its cluster worker was lost {item.tries} times")

    def _row(self, item: _Pending, outcome: TuneOutcome | None, skipped: str = "") -> None:
        row = TunedKernel(item.task, tuple(item.problems), outcome, skipped)
        self.rows.append(row)
        if self.progress is not None:
            self.progress.kernel_finished(row)
