"""Runs one kernel task to an accepted kernel or to nothing, within the per-kernel and per-run budgets.

Proposers offer candidates to the population search (``search.evolve``); every round goes through the verifier
(static guards, then correctness and timing against Inductor's kernel in worker processes, several in parallel).
Every judged attempt is written to the search history at once, and an accepted kernel faster than the one cached
is stored at once, so an interrupted run loses nothing and a rerun resumes. Results leave through a ``ResultSink``:
the local one writes the cache and history here; a cluster run sends them to the driver (``cluster.py``).
"""

from __future__ import annotations

import concurrent.futures as futures
import dataclasses
import logging
import time
from typing import Any, Callable, Protocol, Sequence

from .kernel_cache import CacheEntry, CacheUnavailableError, KernelCache, KernelIndex, task_features
from .options import Options
from .search.evolve import Budget, PopulationSearch, RunBudget
from .search.history import SearchHistory, TaskRun
from .search.proposers import Attempt, Candidate, Proposer, speed
from .task import KernelTask
from .verify import ScreenResult, VerificationReport, WorkerPool, device_bandwidth, screen_candidates, \
    verify_candidate

log = logging.getLogger(__name__)

VERIFY_PER_ROUND = 2  # of a larger round, only the best by a quick screen go through full verification

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

    @property
    def candidates_tried(self) -> int:
        return len(self.attempts)

    @property
    def tokens(self) -> int:
        return _tokens_in(self.spending)


class ResultSink(Protocol):
    """Where a search's results go: the search history (every attempt) and the cache (accepted kernels)."""

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
        return None if entry is None else entry.verification.get("speedup")

    def finished(self, task: KernelTask, run: TaskRun) -> None:
        self.history.finish(task.key, run)


def default_proposers(task: KernelTask, options: Options, cache: KernelCache | None = None) -> list[Proposer]:
    """The proposers that can work on ``task``: retrieval of what won on similar kernels (given a cache), the
    config tuner for Triton kernels, then the LLM agents when an endpoint is configured (option ``llm``,
    ``AIKG_LLM_BASE_URL`` or ``OPENAI_BASE_URL``)."""
    from .agents.config import LlmConfig
    from .search.proposers.retrieval import RetrievalProposer
    from .search.proposers.tuner import TritonConfigTuner

    proposers: list[Proposer] = [RetrievalProposer(KernelIndex(cache))] if cache is not None else []
    if task.dsl == "triton-cuda":
        proposers.append(TritonConfigTuner())
    llm_config = LlmConfig.resolve(options.llm, cache_dir=options.cache_dir)
    if llm_config.base_url is not None:
        from .agents.device_facts import facts_for
        from .agents.llm import LlmClient  # the openai client is imported only when it is used
        from .search.proposers.llm import LlmProposer

        # Measured facts vary between runs: a replayed run's prompts must be the recorded ones, so it goes without.
        measure = llm_config.transcript_mode != "replay"
        proposers.append(LlmProposer(
            LlmClient(llm_config), margin=options.margin,
            baseline_seconds=measured_baseline_seconds if measure else None,
            device_facts=lambda t: facts_for(t.device_type, bandwidth=device_bandwidth(t) if measure else None)))
    return proposers


def measured_baseline_seconds(task: KernelTask) -> float | None:
    """Inductor's kernel timed by the verifier (against itself), for the agents' prompts before any candidate of
    the task has been verified; None when it cannot be run."""
    report = verify_candidate(task, task.source)
    return min(report.baseline_s) if report.baseline_s else None


def tune_task(
    task: KernelTask,
    options: Options,
    cache: KernelCache | None = None,
    proposers: Sequence[Proposer] | None = None,
    verify: Verifier = verify_candidate,
    screen: Screener = screen_candidates,
    *,
    sink: ResultSink | None = None,
    run_budget: RunBudget | None = None,
    pool: WorkerPool | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
) -> TuneOutcome:
    """Search for a verified faster kernel for ``task``, resuming from earlier runs in the history.

    Results go to ``sink`` (default: ``cache`` and the history beside it). ``pool`` is the verifier's worker pool
    (default: the process-wide one for the task's DSL); ``run_budget`` is shared by every task of one run;
    ``on_attempt`` sees each attempt once it is judged and recorded (progress bars).
    """
    started, wall_started = time.monotonic(), time.time()
    if sink is None:
        if cache is None:
            raise ValueError("tune_task needs a cache or a sink")
        sink = LocalSink(cache)
    proposers = default_proposers(task, options, cache) if proposers is None else proposers
    previous = sink.previous(task)
    run = sink.begin(task)
    recorder = _Recorder(task, sink, run, on_attempt)
    search = PopulationSearch(
        task, proposers, _round_judge(task, options, verify, screen, pool, started), _budget_for(options),
        previous=previous, on_attempt=recorder.attempted,
        tokens_spent=lambda: _tokens_in(_spending(proposers, task)), roofline=_roofline(task, options, pool),
        target_roofline=options.target_roofline, run_budget=run_budget,
    )
    result = search.run()
    reason = _reason(task, proposers, result.attempts, previous, recorder)
    outcome = TuneOutcome(task.key, recorder.entry, result.attempts, reason, time.monotonic() - started,
                          _spending(proposers, task), result.stopped_by, len(previous))
    if run_budget is not None:
        run_budget.charge(tokens=outcome.tokens)
    best = max((speed(a) for a in (*previous, *result.attempts) if a.report.accepted), default=None)
    sink.finished(task, TaskRun(wall_started, outcome.elapsed_s, len(result.attempts), best, result.stopped_by,
                                reason, outcome.tokens, result.proposers, run))
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
        stored = self.sink.stored_speedup(self.task)
        if stored is not None and speed(attempt) <= stored:
            return
        entry = _entry_for(self.task, attempt.candidate, attempt.report)
        try:
            self.sink.store(entry)
            self.entry, self.store_error = entry, None
        except CacheUnavailableError as err:
            self.store_error = str(err)
            log.error("aikg: task %s: accepted a candidate but could not store it: %s", self.task.short_key, err)


def _budget_for(options: Options) -> Budget:
    return Budget(options.kernel_budget_s, options.kernel_budget_candidates, options.kernel_budget_tokens)


def _spending(proposers: Sequence[Proposer], task: KernelTask) -> dict[str, dict[str, Any]]:
    """What proposers that keep accounts (the LLM proposer) have spent on ``task``, by proposer."""
    return {p.name: p.summary(task.key) for p in proposers if hasattr(p, "summary")}


def _tokens_in(spending: dict[str, dict[str, Any]]) -> int:
    return sum(int(spent.get("tokens", 0)) for spent in spending.values())


def _roofline(task: KernelTask, options: Options, pool: WorkerPool | None) -> Callable[[Attempt], float | None] | None:
    """An accepted attempt's fraction of the device's copy bandwidth (None when the search should not stop early)."""
    from .agents.device_facts import facts_for, roofline_applies

    if options.target_roofline is None or task.bytes_moved == 0:
        return None
    if not roofline_applies(task.bytes_moved, facts_for(task.device_type)):
        # Timed with warm caches, a working set that fits in cache beats DRAM bandwidth: no roofline to stop at.
        log.info("aikg: task %s: working set of %d bytes fits in cache; no roofline stop", task.short_key,
                 task.bytes_moved)
        return None
    measured: list[float | None] = []

    def fraction(attempt: Attempt) -> float | None:
        if not measured:  # measured once, when the first accepted attempt asks
            measured.append(device_bandwidth(task, pool=pool))
        bandwidth, seconds = measured[0], min(attempt.report.candidate_s, default=None)
        return None if not bandwidth or not seconds else task.bytes_moved / seconds / bandwidth

    return fraction


def _reason(task: KernelTask, proposers: Sequence[Proposer], attempts: Sequence[Attempt],
            previous: Sequence[Attempt], recorder: _Recorder) -> str:
    everything = [*previous, *attempts]
    if recorder.store_error is not None:
        return f"accepted a candidate but could not store it: {recorder.store_error}"
    if recorder.entry is not None:
        best = recorder.entry
        return f"accepted a {best.provenance['proposer']} candidate, {best.verification['speedup']:.3f}x faster"
    if any(a.report.accepted for a in everything):
        return "the cache already holds the best accepted kernel; nothing faster was found in this run"
    if not everything:
        who = ", ".join(p.name for p in proposers) or "no proposer"
        return f"no candidate was offered for this {task.dsl} kernel ({who}; see the log for why); " \
               "Inductor's kernel kept"
    for rule, example in {a.report.rule: a.report.reason for a in reversed(attempts)}.items():
        log.info("aikg: task %s: e.g. %s: %s", task.short_key, rule, example[:500])
    return f"none of {len(everything)} candidate(s) was accepted ({rejection_summary(everything)}); " \
           "Inductor's kernel kept"


# ------------------------------------------------------------------------------------------------- judging rounds


def _round_judge(task: KernelTask, options: Options, verify: Verifier, screen: Screener, pool: WorkerPool | None,
                 started: float) -> Callable[[list[Candidate]], list[Attempt]]:
    deadline = started + options.kernel_budget_s
    extra = {} if pool is None else {"pool": pool}
    parallel = max(1, options.verify_workers)

    def screen_one(source: str) -> ScreenResult | None:
        # Checked per candidate, not per round: a round of slow compiles must not overrun the kernel's budget.
        return screen(task, [source], **extra)[0] if time.monotonic() < deadline else None

    def judge(batch: list[Candidate]) -> list[Attempt]:
        return _judge_round(task, batch, options, lambda source: verify(task, source, margin=options.margin, **extra),
                            screen_one, deadline, parallel)

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
    Candidates the kernel's time budget does not reach are left out: not judged, not recorded."""
    with futures.ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="aikg-verify") as workers:
        screens: list[ScreenResult | None] = [None] * len(batch)  # None: not screened (a small round, or no time)
        chosen = set(range(len(batch)))
        if len(batch) > VERIFY_PER_ROUND:
            screens = list(workers.map(screen_one, [c.source for c in batch]))
            promising = [i for i, s in enumerate(screens) if s is not None and (s.speedup or 0.0) > 1.0]
            chosen = set(sorted(promising, key=lambda i: -(screens[i].speedup or 0.0))[:VERIFY_PER_ROUND])
        verified = sorted(chosen) if time.monotonic() < deadline else []
        reports = dict(zip(verified, workers.map(verify_one, [batch[i].source for i in verified])))
    # What the budget did not reach is no attempt: not recorded, so a later run may offer it again.
    unjudged = {i for i, screened in enumerate(screens) if screened is None and i not in reports}
    unjudged |= chosen - set(reports)
    return [Attempt(candidate, reports.get(i) or _screened_out(task, options, screens[i]))
            for i, candidate in enumerate(batch) if i not in unjudged]


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


def _entry_for(task: KernelTask, candidate: Candidate, report: VerificationReport) -> CacheEntry:
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
        verification=report.to_dict(),
        provenance={"proposer": candidate.proposer, **{k: v for k, v in candidate.notes.items() if k != "sketch"}},
        features=task_features(task, sketch),
        sketch=sketch,
    )
