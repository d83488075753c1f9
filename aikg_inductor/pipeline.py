"""Runs one kernel task to an accepted kernel or to nothing, within the per-kernel and per-run budgets.

Proposers offer candidates to the population search (``search.evolve``); every round goes through the verifier
(static guards, then correctness and timing against Inductor's kernel in worker processes, several in parallel).
Every judged attempt is written to the search history at once, and an accepted kernel faster than the one cached
is stored at once, so an interrupted run loses nothing and a rerun resumes. Results leave through a ``ResultSink``:
the local one writes the cache and history here; a cluster run sends them to the driver (``ray_tuning.py``).
"""

from __future__ import annotations

import concurrent.futures as futures
import dataclasses
import logging
import threading
import time
from typing import Any, Callable, Protocol, Sequence

from .kernel_cache import (
    CacheEntry,
    CacheUnavailableError,
    KernelCache,
    KernelIndex,
    Provenance,
    RecordError,
    Verification,
    task_features,
)
from .kernel_cache.records import VERIFICATION_SCHEMA
from .options import Options
from .search.evolve import Budget, PopulationSearch, RunBudget, StopRules
from .search.history import ProposerStatus, SearchHistory, TaskRun, can_search
from .search.proposers import Attempt, Candidate, Proposer, speed
from .task import KernelTask
from .verify import ScreenResult, VerificationReport, WorkerPool, default_pool, device_bandwidth, \
    screen_candidates, verify_candidate

log = logging.getLogger(__name__)

VERIFY_PER_ROUND = 2  # of a larger round, only the best by a quick screen go through full verification
# Verdicts on the harness, not the candidate (the verifier broke, or the kernel is too large to judge here): the
# next-ranked screened candidate is verified in its place, so one such fault never ends a round.
HARNESS_RULES = frozenset({"harness-error", "too-large"})

Verifier = Callable[..., VerificationReport]
Screener = Callable[..., list[ScreenResult]]


@dataclasses.dataclass(frozen=True)
class TuneOutcome:
    """What tuning one task came to: the accepted entry (already in the cache) or None, and why."""

    task_key: str
    entry: CacheEntry | None
    attempts: tuple[Attempt, ...]  # judged in this run
    reason: str
    elapsed_s: float
    # What proposers that keep accounts (the LLM proposer) spent on this task: steps, rejected replies, tokens.
    spending: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)
    stopped_by: str = ""  # the budget or condition that ended the search
    resumed: int = 0  # attempts from earlier runs the search started from
    proposer_status: tuple[ProposerStatus, ...] = ()  # which proposers could work on it, and why (not)
    searched_to_end: bool = False  # see TaskRun.searched_to_end

    @property
    def candidates_tried(self) -> int:
        return len(self.attempts)

    @property
    def tokens(self) -> int:
        return _tokens_in(self.spending)


class ResultSink(Protocol):
    """Where a search's results go: the search history (every attempt) and the cache (accepted kernels)."""

    cache: KernelCache | None  # the cache retrieval searches; None where it is elsewhere (a cluster worker)

    def previous(self, task: KernelTask) -> list[Attempt]:
        """Attempts from earlier runs on ``task``, to resume from."""

    def begin(self, task: KernelTask) -> int:
        """Note a new run on ``task``; returns its run number."""

    def attempted(self, task: KernelTask, attempt: Attempt, run: int) -> None: ...

    def store(self, entry: CacheEntry) -> None:
        """Keep an accepted kernel (raises CacheUnavailableError when it cannot)."""

    def stored_speedup(self, task: KernelTask) -> float | None:
        """The speedup of the kernel the cache holds for ``task``, if any."""

    def finished(self, task: KernelTask, run: TaskRun) -> None: ...


class LocalSink:
    """Results written here: the kernel cache (indexed, so retrieval finds them) and the history beside it."""

    def __init__(self, cache: KernelCache, history: SearchHistory | None = None) -> None:
        self.cache = cache
        self.history = history or SearchHistory.beside(cache.directory)

    def previous(self, task: KernelTask) -> list[Attempt]:
        return self.history.attempts(task.key)

    def begin(self, task: KernelTask) -> int:
        return self.history.begin(task)

    def attempted(self, task: KernelTask, attempt: Attempt, run: int) -> None:
        self.history.record(task.key, attempt, run)

    def store(self, entry: CacheEntry) -> None:
        KernelIndex(self.cache).put(entry)

    def stored_speedup(self, task: KernelTask) -> float | None:
        entry = self.cache.get(task.key)
        return None if entry is None else entry.verification.speedup

    def finished(self, task: KernelTask, run: TaskRun) -> None:
        self.history.finish(task.key, run)


@dataclasses.dataclass(frozen=True)
class TuneContext:
    """What tuning a kernel needs besides the kernel; every kernel of one run shares it."""

    options: Options
    sink: ResultSink  # where attempts and accepted kernels go (see ``local``)
    run_budget: RunBudget | None = None  # the limits of the whole run
    # The verifier's workers; None: the process-wide pool for the task's DSL, with ``options.verify_workers`` workers.
    pool: WorkerPool | None = None
    # How a candidate is verified and a large round screened; None: the verifier on ``pool``. Tests and benchmarks
    # give doubles here, or the verifier bound to a pool of their own.
    verify: Verifier | None = None
    screen: Screener | None = None

    @classmethod
    def local(cls, options: Options, cache: KernelCache, **rest: Any) -> TuneContext:
        """Results written to ``cache`` and the search history beside it."""
        return cls(options, LocalSink(cache), **rest)

    def pool_for(self, task: KernelTask) -> WorkerPool:
        return self.pool or default_pool(task.dsl, self.options.verify_workers)


RETRIEVAL_STATUS = ProposerStatus("retrieval", True, "re-offers kernels accepted for similar kernels in the cache",
                                  searches=False)
LLM_PROBE_TTL_S = 300.0  # an endpoint's answer (or silence) is trusted this long: one probe per run, not per kernel
LLM_PROBE_TIMEOUT_S = 10.0
_llm_probes: dict[tuple[str, str], tuple[float, ProposerStatus]] = {}
_llm_probes_lock = threading.Lock()


def llm_status(config: Any) -> ProposerStatus:
    """Whether the LLM agents can work: an endpoint is configured and answers (``GET /models``, no retries).

    Asked once per endpoint every ``LLM_PROBE_TTL_S``: a dead endpoint must make the LLM unavailable, and say why,
    rather than look like a proposer that had nothing to offer."""
    if config.base_url is None:
        return ProposerStatus("llm", False, "needs an LLM endpoint: set AIKG_LLM_BASE_URL or OPENAI_BASE_URL")
    if config.transcript_mode == "replay":
        return ProposerStatus("llm", True, f"replays the transcripts in {config.transcripts}")
    probe = (config.base_url, config.api_key)
    with _llm_probes_lock:
        known = _llm_probes.get(probe)
        if known is not None and time.monotonic() - known[0] < LLM_PROBE_TTL_S:
            return known[1]
        status = _probe_llm(config)
        _llm_probes[probe] = (time.monotonic(), status)
        return status


def _probe_llm(config: Any) -> ProposerStatus:
    from .agents.llm_client import LlmClient, LlmError  # the openai client is imported only when an endpoint is set

    # model="" makes the client list the endpoint's models even when one is configured: that is the contact.
    quick = dataclasses.replace(config, model="", max_retries=0, timeout_s=min(config.timeout_s, LLM_PROBE_TIMEOUT_S))
    try:
        served = LlmClient(quick).ping()
    except LlmError as err:
        log.warning("aikg: the LLM endpoint %s did not answer (%s); the LLM agents sit this run out",
                    config.base_url, err)
        return ProposerStatus("llm", False, f"endpoint {config.base_url} did not answer: {err}")
    return ProposerStatus("llm", True, f"{config.model or served} at {config.base_url}")


def proposer_status(task: KernelTask, options: Options, cache: KernelCache | None = None) -> tuple[ProposerStatus, ...]:
    """Which of the built-in proposers can work on ``task``, and why each can or cannot."""
    from .agents.config import LlmConfig
    from .dsl import adapter_for

    status = []
    if cache is not None:
        status.append(RETRIEVAL_STATUS)
    if adapter_for(task.dsl).config_tunable:
        status.append(ProposerStatus("tuner", True, "tunes the kernel's Triton launch configuration"))
    else:
        status.append(ProposerStatus("tuner", False, "Triton (CUDA) kernels only"))
    status.append(llm_status(LlmConfig.from_options(options)))
    return tuple(status)


def proposers_for(task: KernelTask, options: Options, cache: KernelCache | None,
                  status: Sequence[ProposerStatus]) -> list[Proposer]:
    """The built-in proposers that ``status`` (from ``proposer_status``) says are available for ``task``."""
    available = {s.name for s in status if s.available}
    proposers: list[Proposer] = []
    if "retrieval" in available and cache is not None:
        from .search.proposers.retrieval import RetrievalProposer

        proposers.append(RetrievalProposer(KernelIndex(cache)))
    if "tuner" in available:
        from .search.proposers.tuner import TritonConfigTuner

        proposers.append(TritonConfigTuner())
    if "llm" in available:
        from .agents.config import LlmConfig
        from .agents.device_facts import facts_for
        from .agents.llm_client import LlmClient  # the openai client is imported only when it is used
        from .search.proposers.llm import LlmProposer

        llm_config = LlmConfig.from_options(options)
        # Measured facts vary between runs: a replayed run's prompts must be the recorded ones, so it goes without.
        measure = llm_config.transcript_mode != "replay"
        proposers.append(LlmProposer(
            LlmClient(llm_config), margin=options.margin, docs_packs_dirs=options.docs_packs_dir,
            baseline_seconds=measured_baseline_seconds if measure else None,
            device_facts=lambda t: facts_for(t.device_type, bandwidth=device_bandwidth(t) if measure else None)))
    return proposers


def given_status(proposers: Sequence[Proposer]) -> tuple[ProposerStatus, ...]:
    """Proposers a caller chose (tests, benchmarks, ``tune(proposers=...)``) are taken as able to search."""
    return tuple(ProposerStatus(p.name, True, "given by the caller") for p in proposers)


def measured_baseline_seconds(task: KernelTask) -> float | None:
    """Inductor's kernel timed by the verifier (against itself), for the agents' prompts before any candidate of
    the task has been verified; None when it cannot be run."""
    report = verify_candidate(task, task.source)
    return min(report.baseline_s) if report.baseline_s else None


def tune_task(
    task: KernelTask,
    context: TuneContext,
    proposers: Sequence[Proposer] | None = None,
    *,
    status: Sequence[ProposerStatus] | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
) -> TuneOutcome:
    """Search for a verified faster kernel for ``task``, resuming from earlier runs in the history.

    ``proposers`` default to the built-in ones available for the task (``proposer_status``); ``status`` says which
    proposers could work and why (default: the built-ins' status, or every given proposer as available).
    ``on_attempt`` sees each attempt once it is judged and recorded (progress bars).
    """
    started, wall_started = time.monotonic(), time.time()
    options, sink, run_budget = context.options, context.sink, context.run_budget
    if proposers is None:
        status = proposer_status(task, options, sink.cache) if status is None else tuple(status)
        proposers = proposers_for(task, options, sink.cache, status)
    else:
        status = given_status(proposers) if status is None else tuple(status)
    previous = sink.previous(task)
    run = sink.begin(task)
    recorder = _Recorder(task, sink, run, on_attempt)
    stops = StopRules(run_budget, tokens_spent=lambda: _tokens_in(_spending(proposers, task)),
                      roofline=_roofline(task, context), target_roofline=options.target_roofline)
    search = PopulationSearch(task, proposers, _round_judge(task, context, started), _budget_for(options),
                              previous=previous, on_attempt=recorder.attempted, stops=stops)
    result = search.run()
    reason = _reason(task, status, result.attempts, previous, recorder)
    spending = _spending(proposers, task)
    to_end = _searched_to_end(result.stopped_by, status, [*previous, *result.attempts], _tokens_in(spending),
                              interrupted=any(p.interrupted(task.key) for p in proposers))
    outcome = TuneOutcome(task.key, recorder.entry, result.attempts, reason, time.monotonic() - started,
                          spending, result.stopped_by, len(previous), status, to_end)
    if run_budget is not None:
        run_budget.charge(tokens=outcome.tokens)
    best = max((speed(a) for a in (*previous, *result.attempts) if a.report.accepted), default=None)
    sink.finished(task, TaskRun(wall_started, outcome.elapsed_s, len(result.attempts), best, result.stopped_by,
                                reason, outcome.tokens, result.proposers, run, status, to_end))
    log.info("aikg: task %s: %s", task.short_key, reason)
    return outcome


class _Recorder:
    """Sees each attempt as it is judged: writes it to the history, and stores an accepted kernel at once when it
    beats the one cached (so Ctrl-C after an acceptance keeps it)."""

    def __init__(self, task: KernelTask, sink: ResultSink, run: int,
                 then: Callable[[Attempt], None] | None = None) -> None:
        self.task, self.sink, self.run, self.then = task, sink, run, then
        self.entry: CacheEntry | None = None
        self.store_error: str | None = None

    def attempted(self, attempt: Attempt) -> None:
        self.sink.attempted(self.task, attempt, self.run)
        if attempt.report.accepted:
            self._store_if_best(attempt)
        if self.then is not None:
            self.then(attempt)

    def _store_if_best(self, attempt: Attempt) -> None:
        entry = entry_for(self.task, attempt.candidate, attempt.report)
        try:
            if store_if_faster(self.sink, self.task, entry):
                self.entry, self.store_error = entry, None
        except CacheUnavailableError as err:
            self.store_error = str(err)
            log.error("aikg: task %s: accepted a candidate but could not store it: %s", self.task.short_key, err)


def store_if_faster(sink: ResultSink, task: KernelTask, entry: CacheEntry) -> bool:
    """Keep ``entry`` (an accepted kernel for ``task``, from ``entry_for``) unless the cache holds one at least as
    fast; True when it was kept (raises CacheUnavailableError when it cannot be). The one way accepted kernels enter
    the cache: the search, a cluster run's driver and ``aikg verify --store`` all come here."""
    stored = sink.stored_speedup(task)
    if stored is not None and entry.verification.speedup <= stored:
        return False
    sink.store(entry)
    return True


def _budget_for(options: Options) -> Budget:
    return Budget(options.kernel_budget_s, options.kernel_budget_candidates, options.kernel_budget_tokens)


def _spending(proposers: Sequence[Proposer], task: KernelTask) -> dict[str, dict[str, Any]]:
    """What proposers that keep accounts (the LLM proposer) have spent on ``task``, by proposer."""
    return {p.name: spent for p in proposers if (spent := p.summary(task.key)) is not None}


def _tokens_in(spending: dict[str, dict[str, Any]]) -> int:
    return sum(int(spent.get("tokens", 0)) for spent in spending.values())


def _roofline(task: KernelTask, context: TuneContext) -> Callable[[Attempt], float | None] | None:
    """An accepted attempt's fraction of the device's copy bandwidth (None when the search should not stop early)."""
    from .agents.device_facts import facts_for, roofline_applies

    if context.options.target_roofline is None or task.bytes_moved == 0:
        return None
    if not roofline_applies(task.bytes_moved, facts_for(task.device_type)):
        # Timed with warm caches, a working set that fits in cache beats DRAM bandwidth: no roofline to stop at.
        log.info("aikg: task %s: working set of %d bytes fits in cache; no roofline stop", task.short_key,
                 task.bytes_moved)
        return None
    measured: list[float | None] = []

    def fraction(attempt: Attempt) -> float | None:
        if not measured:  # measured once, when the first accepted attempt asks
            measured.append(device_bandwidth(task, pool=context.pool_for(task)))
        bandwidth, seconds = measured[0], min(attempt.report.candidate_s, default=None)
        return None if not bandwidth or not seconds else task.bytes_moved / seconds / bandwidth

    return fraction


def _searched_to_end(stopped_by: str, status: Sequence[ProposerStatus], attempts: Sequence[Attempt],
                     tokens: int, interrupted: bool = False) -> bool:
    """Whether this run finished the kernel: a proposer that could offer candidates spent its budget or ran out of
    ideas. Not when a run budget cut the search short, when only retrieval could work (no LLM on CPU, a dead
    endpoint), when nothing was judged and no token spent (an endpoint that died after answering the probe), or when
    a proposer was cut short (an endpoint that died after some candidates: ``Proposer.interrupted``)."""
    if stopped_by.startswith("run ") or not can_search(status) or interrupted:
        return False
    return bool(attempts) or tokens > 0


def _reason(task: KernelTask, status: Sequence[ProposerStatus], attempts: Sequence[Attempt],
            previous: Sequence[Attempt], recorder: _Recorder) -> str:
    everything = [*previous, *attempts]
    if recorder.store_error is not None:
        return f"accepted a candidate but could not store it: {recorder.store_error}"
    if recorder.entry is not None:
        best = recorder.entry
        return f"accepted a {best.provenance.proposer} candidate, {best.verification.speedup:.3f}x faster"
    if any(a.report.accepted for a in everything):
        return "the cache already holds the best accepted kernel; nothing faster was found in this run"
    if not everything:
        why = [f"{s.name} offered none" if s.available else f"{s.name}: {s.why}" for s in status]
        return f"no candidate was offered for this {task.dsl} kernel ({'; '.join(why) or 'no proposer'}); " \
               "Inductor's kernel kept"
    for rule, example in {a.report.rule: a.report.reason for a in reversed(attempts)}.items():
        log.info("aikg: task %s: e.g. %s: %s", task.short_key, rule, example[:500])
    return f"none of {len(everything)} candidate(s) was accepted ({rejection_summary(everything)}); " \
           "Inductor's kernel kept"


# ------------------------------------------------------------------------------------------------- judging rounds


def _round_judge(task: KernelTask, context: TuneContext, started: float) -> Callable[[list[Candidate]], list[Attempt]]:
    options = context.options
    deadline = started + options.kernel_budget_s
    parallel = max(1, options.verify_workers)

    # The pool is looked up when the real verifier first needs it: doubles of the verifier need none.
    def verify_one(source: str) -> VerificationReport:
        if context.verify is not None:
            return context.verify(task, source, margin=options.margin)
        return verify_candidate(task, source, margin=options.margin, pool=context.pool_for(task))

    def screen_one(source: str) -> ScreenResult | None:
        # Checked per candidate, not per round: a round of slow compiles must not overrun the kernel's budget.
        if time.monotonic() >= deadline:
            return None
        if context.screen is not None:
            return context.screen(task, [source])[0]
        return screen_candidates(task, [source], pool=context.pool_for(task))[0]

    def judge(batch: list[Candidate]) -> list[Attempt]:
        return _judge_round(task, batch, options, verify_one, screen_one, deadline, parallel)

    return judge


def _judge_round(
    task: KernelTask,
    batch: list[Candidate],
    options: Options,
    verify_one: Callable[[str], VerificationReport],
    screen_one: Callable[[str], ScreenResult | None],
    deadline: float,
    parallel: int,
) -> list[Attempt]:
    """Verify a small round outright; screen a large one and verify only its most promising candidates. Both run
    ``parallel`` candidates at a time (the pool's workers compile and check them; timings stay one at a time).
    A verification that ends in a fault of the harness (``HARNESS_RULES``) says nothing of the candidate, so the
    next-ranked screened candidate is verified in its place. Candidates the kernel's time budget does not reach
    are left out: not judged, not recorded."""
    with futures.ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="aikg-verify") as workers:
        screens: list[ScreenResult | None] = [None] * len(batch)  # None: not screened (a small round, or no time)
        ranked = list(range(len(batch)))
        if len(batch) > VERIFY_PER_ROUND:
            screens = list(workers.map(screen_one, [c.source for c in batch]))
            promising = [i for i, s in enumerate(screens) if s is not None and (s.speedup or 0.0) > 1.0]
            ranked = sorted(promising, key=lambda i: -(screens[i].speedup or 0.0))
        wanted = len(ranked) if len(batch) <= VERIFY_PER_ROUND else VERIFY_PER_ROUND
        reports, unreached = _verify_ranked(batch, ranked, wanted, verify_one, workers, deadline)
    # What the budget did not reach is no attempt: not recorded, so a later run may offer it again.
    unjudged = {i for i, screened in enumerate(screens) if screened is None and i not in reports} | unreached
    return [Attempt(candidate, reports.get(i) or _screened_out(task, options, screens[i]))
            for i, candidate in enumerate(batch) if i not in unjudged]


def _verify_ranked(batch: list[Candidate], ranked: list[int], wanted: int,
                   verify_one: Callable[[str], VerificationReport], workers: futures.Executor,
                   deadline: float) -> tuple[dict[int, VerificationReport], set[int]]:
    """Verify candidates in ``ranked`` order until ``wanted`` of them got a verdict on the candidate itself (not a
    harness fault) or the ranking runs out. Returns the reports, and the candidates the deadline kept from
    verification that would have been verified."""
    reports: dict[int, VerificationReport] = {}
    queue = list(ranked)
    while queue:
        judged = sum(1 for r in reports.values() if r.rule not in HARNESS_RULES)
        if judged >= wanted:
            break
        if time.monotonic() >= deadline:
            return reports, set(queue[:wanted - judged])
        chosen, queue = queue[:wanted - judged], queue[wanted - judged:]
        reports.update(zip(chosen, workers.map(verify_one, [batch[i].source for i in chosen])))
        for i in chosen:
            if reports[i].rule in HARNESS_RULES:
                log.warning("aikg: verification of a candidate ended in %s (%s); verifying the next-ranked one",
                            reports[i].rule, reports[i].reason[:200])
    return reports, set()


def _screened_out(task: KernelTask, options: Options, screened: ScreenResult) -> VerificationReport:
    if screened.speedup is None:
        rule, reason, speedup = "screen-failed", f"failed the quick screen: {screened.error}", None
    else:
        rule, speedup = "screened-out", screened.speedup
        reason = f"quick estimate {speedup:.3f}x ranked below the candidates verified"
    return VerificationReport(verdict="rejected", rule=rule, reason=reason, task_key=task.key, dsl=task.dsl,
                              speedup=speedup, margin=options.margin)


def rejection_summary(attempts: Sequence[Attempt]) -> str:
    counts: dict[str, int] = {}
    for attempt in attempts:
        rule = attempt.report.rule or "accepted"
        counts[rule] = counts.get(rule, 0) + 1
    return ", ".join(f"{n} {rule}" for rule, n in sorted(counts.items(), key=lambda kv: -kv[1])) or "none tried"


def entry_for(task: KernelTask, candidate: Candidate, report: VerificationReport) -> CacheEntry:
    """The cache entry for ``candidate``, accepted for ``task`` by ``report``: the one place entries are built."""
    sketch = candidate.notes.get("sketch")
    return CacheEntry(
        key=task.key,
        source=candidate.source,
        dsl=task.dsl,
        device_type=task.device_type,
        arch=task.arch,
        torch_version=task.torch_version,
        triton_version=task.triton_version,
        origins=task.origins,
        verification=verification_of(report),
        provenance=Provenance.from_candidate(candidate.proposer, candidate.notes),
        features=task_features(task, sketch),
        sketch=sketch,
    )


def verification_of(report: VerificationReport) -> Verification:
    """The cache's record of an accepted report. Built here, where both are known, so that ``kernel_cache`` never
    imports ``verify``; an unaccepted report, or one without a speedup, has nothing to store."""
    if not report.accepted or report.speedup is None:
        raise RecordError(f"only an accepted report with a measured speedup is stored (got {report.verdict})")
    fields = {f.name: getattr(report, f.name) for f in dataclasses.fields(Verification) if f.name != "schema"}
    return Verification.from_json({**fields, "schema": VERIFICATION_SCHEMA})
