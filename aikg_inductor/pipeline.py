"""Runs one kernel task to an accepted kernel or to nothing, within the per-kernel budget.

Proposers offer candidates in rounds; every candidate goes through the verifier (static guards, then correctness
and timing against Inductor's kernel in a worker process). The fastest accepted candidate, if any, is stored in
the cache, which changes its fingerprint so that the next compile picks it up.
"""

from __future__ import annotations

import dataclasses
import logging
import time
from typing import Any, Callable, Sequence

from .kernel_cache import CacheEntry, CacheUnavailableError, KernelCache, KernelIndex, task_features
from .options import Options
from .search.proposers import Attempt, Candidate, Proposer
from .task import KernelTask
from .verify import ScreenResult, VerificationReport, screen_candidates, verify_candidate

log = logging.getLogger(__name__)

ROUND_SIZE = 8  # candidates asked of a proposer at a time; later rounds learn from earlier ones
VERIFY_PER_ROUND = 2  # of a larger round, only the best by a quick screen go through full verification

Verifier = Callable[..., VerificationReport]
Screener = Callable[[KernelTask, list[str]], list[ScreenResult]]


@dataclasses.dataclass(frozen=True)
class TuneOutcome:
    """What tuning one task came to: the accepted entry (already in the cache) or None, and why."""

    task_key: str
    entry: CacheEntry | None
    attempts: tuple[Attempt, ...]
    reason: str
    elapsed_s: float
    # What proposers that keep accounts (the LLM proposer) spent on this task: steps, rejected replies, tokens.
    spending: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    @property
    def candidates_tried(self) -> int:
        return len(self.attempts)

    @property
    def tokens(self) -> int:
        return sum(int(spent.get("tokens", 0)) for spent in self.spending.values())


def default_proposers(task: KernelTask, options: Options) -> list[Proposer]:
    """The proposers that can work on ``task``: the config tuner for Triton kernels, then the LLM agents when an
    endpoint is configured (option ``llm``, ``AIKG_LLM_BASE_URL`` or ``OPENAI_BASE_URL``)."""
    from .agents.config import LlmConfig
    from .search.proposers.tuner import TritonConfigTuner

    proposers: list[Proposer] = [TritonConfigTuner()] if task.dsl == "triton-cuda" else []
    llm_config = LlmConfig.resolve(options.llm)
    if llm_config.base_url is not None:
        from .agents.llm import LlmClient  # the openai client is imported only when it is used
        from .search.proposers.llm import LlmProposer

        proposers.append(LlmProposer(LlmClient(llm_config)))
    return proposers


def search(
    task: KernelTask,
    options: Options,
    proposers: Sequence[Proposer],
    verify: Verifier = verify_candidate,
    screen: Screener = screen_candidates,
) -> list[Attempt]:
    """Ask each proposer for candidates round by round and judge them, until the budget is spent."""
    deadline = time.monotonic() + options.kernel_budget_s
    budget = options.kernel_budget_candidates
    history: list[Attempt] = []
    for proposer in proposers:
        while len(history) < budget and time.monotonic() < deadline:
            batch = proposer.propose(task, _best_first(history), min(ROUND_SIZE, budget - len(history)))
            if not batch:
                break
            history.extend(_judge_round(task, batch, options, verify, screen, deadline))
    return history


def _judge_round(
    task: KernelTask,
    batch: list[Candidate],
    options: Options,
    verify: Verifier,
    screen: Screener,
    deadline: float,
) -> list[Attempt]:
    """Verify a small round outright; screen a large one and verify only its most promising candidates."""
    screens: list[ScreenResult | None] = [None] * len(batch)
    chosen = set(range(len(batch)))
    if len(batch) > VERIFY_PER_ROUND:
        screens = list(screen(task, [c.source for c in batch]))
        promising = [i for i, s in enumerate(screens) if s is not None and (s.speedup or 0.0) > 1.0]
        chosen = set(sorted(promising, key=lambda i: -(screens[i].speedup or 0.0))[:VERIFY_PER_ROUND])
    attempts = []
    for i, candidate in enumerate(batch):
        if i in chosen and time.monotonic() < deadline:
            report = verify(task, candidate.source, margin=options.margin)
        else:
            report = _screened_out(task, options, screens[i])
        attempts.append(Attempt(candidate, report))
    return attempts


def _screened_out(task: KernelTask, options: Options, screened: ScreenResult | None) -> VerificationReport:
    if screened is None:
        rule, reason, speedup = "out-of-time", "not verified: the kernel's time budget ran out", None
    elif screened.speedup is None:
        rule, reason, speedup = "screen-failed", f"failed the quick screen: {screened.error}", None
    else:
        rule, speedup = "screened-out", screened.speedup
        reason = f"quick estimate {speedup:.3f}x ranked below the candidates verified"
    return VerificationReport(verdict="rejected", rule=rule, reason=reason, task_key=task.key, dsl=task.dsl,
                              speedup=speedup, margin=options.margin)


def _best_first(history: list[Attempt]) -> list[Attempt]:
    return sorted(history, key=lambda a: -(a.report.speedup or 0.0))


def tune_task(
    task: KernelTask,
    options: Options,
    cache: KernelCache,
    proposers: Sequence[Proposer] | None = None,
    verify: Verifier = verify_candidate,
    screen: Screener = screen_candidates,
) -> TuneOutcome:
    """Search for a verified faster kernel for ``task``; an accepted one is stored in ``cache`` (and indexed, so
    retrieval and prompts can find it)."""
    started = time.monotonic()
    proposers = default_proposers(task, options) if proposers is None else proposers
    attempts = search(task, options, proposers, verify, screen) if proposers else []
    accepted = [a for a in attempts if a.report.accepted]
    entry = None
    if not proposers:
        reason = f"no proposer for {task.dsl} kernels; Inductor's kernel kept"
    elif not attempts:
        reason = "the proposers offered no candidate (see the log for why); Inductor's kernel kept"
    elif not accepted:
        reason = f"none of {len(attempts)} candidate(s) was accepted ({rejection_summary(attempts)}); " \
                 "Inductor's kernel kept"
        for rule, example in {a.report.rule: a.report.reason for a in reversed(attempts)}.items():
            log.info("aikg: task %s: e.g. %s: %s", task.short_key, rule, example[:500])
    else:
        best = max(accepted, key=lambda a: a.report.speedup or 0.0)
        entry = _entry_for(task, best.candidate, best.report)
        try:
            KernelIndex(cache).put(entry)
            reason = f"accepted a {best.candidate.proposer} candidate, {best.report.speedup:.3f}x faster"
        except CacheUnavailableError as err:
            entry, reason = None, f"accepted a candidate but could not store it: {err}"
    spending = {p.name: p.summary(task.key) for p in proposers if hasattr(p, "summary")}
    outcome = TuneOutcome(task.key, entry, tuple(attempts), reason, time.monotonic() - started, spending)
    log.info("aikg: task %s: %s", task.short_key, reason)
    return outcome


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
