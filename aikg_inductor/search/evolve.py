"""The population search: proposers keep offering candidates for one kernel until a budget or a target stops it.

It follows AIKG's asynchronous adaptive search and adds to it:
- **Asynchronous refill.** Each proposer works in one or more lanes (the LLM proposer: one conversation per lane,
  up to its concurrency; the tuner and retrieval: one lane). As soon as any round is judged, its lane is given a
  new round, so LLM calls go on while the verifier works. A lane ends on its own (its proposer says so, or it
  judged nothing new several rounds running); a proposer is done when every one of its lanes is.
- **Parents by rank-based UCB.** A round builds on a parent picked among the correct attempts by its rank plus an
  exploration bonus for parents with few children; inspirations are drawn from the best, middle and worst tiers.
- **Negative examples.** Rejections and their reasons stay in the population and are handed to proposers.
- **Proposer weighting.** A proposer's rounds grow or shrink with its recent success (UCB over "this candidate
  improved the best"), so the budget flows to what works on this kernel.
- **Early stop** once the best accepted kernel reaches a target fraction of the device's bandwidth roofline.
- **Resumption.** ``previous`` attempts (from the on-disk history) count against the candidate budget and seed
  the population, so a rerun continues where an interrupted one stopped.
"""

from __future__ import annotations

import concurrent.futures as futures
import dataclasses
import hashlib
import logging
import math
import random
import threading
import time
from collections import deque
from typing import Any, Callable, Sequence

from ..task import KernelTask
from .proposers.base import Attempt, Candidate, Proposer, SearchContext, speed

log = logging.getLogger(__name__)

ROUND_SIZE = 8  # candidates asked of a proposer at a time
EXPLORATION = 1.0  # weight of UCB's exploration bonus, for parents and for proposers
SUCCESS_WINDOW = 16  # a proposer's recent success is judged over its last this-many candidates
EMPTY_ROUNDS = 3  # rounds in a row that judged nothing new after which a lane stops, whatever its proposer says
FAILURES_SHOWN = 4  # negative examples handed to a proposer
POLL_S = 0.5  # how often the loop wakes to check the wall and token budgets while rounds are out

Judge = Callable[[list[Candidate]], list[Attempt]]


@dataclasses.dataclass(frozen=True)
class Budget:
    """Limits for one kernel's search; ``None`` means no limit of that kind."""

    wall_s: float | None = 60.0
    candidates: int | None = 16
    tokens: int | None = None


class RunBudget:
    """Limits shared by every kernel of one run (``aikg tune --run-budget-s``); safe to charge from threads."""

    def __init__(self, wall_s: float | None = None, tokens: int | None = None, candidates: int | None = None) -> None:
        self.deadline = None if wall_s is None else time.monotonic() + wall_s
        self.tokens, self.candidates = tokens, candidates
        self.tokens_spent = self.candidates_spent = 0
        self._lock = threading.Lock()

    def charge(self, candidates: int = 0, tokens: int = 0) -> None:
        with self._lock:
            self.candidates_spent += candidates
            self.tokens_spent += tokens

    def exhausted(self) -> str | None:
        """Which run budget is spent ("run wall time", "run tokens", "run candidates"), or None."""
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return "run wall time"
        if self.tokens is not None and self.tokens_spent >= self.tokens:
            return "run tokens"
        if self.candidates is not None and self.candidates_spent >= self.candidates:
            return "run candidates"
        return None


@dataclasses.dataclass(frozen=True)
class StopRules:
    """What else ends a kernel's search, besides its own wall and candidate budget.

    ``tokens_spent`` reports what the proposers have spent on this task so far (against ``Budget.tokens``);
    ``roofline`` gives an accepted attempt's fraction of the device's bandwidth roofline, and the search stops once
    that reaches ``target_roofline``; ``run_budget`` is shared by every kernel of the run.
    """

    run_budget: RunBudget | None = None
    tokens_spent: Callable[[], int] = lambda: 0
    roofline: Callable[[Attempt], float | None] | None = None
    target_roofline: float | None = None


@dataclasses.dataclass(frozen=True)
class SearchResult:
    attempts: tuple[Attempt, ...]  # judged in this run, in the order their verdicts came
    best: Attempt | None  # the fastest accepted attempt, earlier runs included
    stopped_by: str  # "candidates", "wall time", "tokens", "roofline", "exhausted", or a run budget
    proposers: dict[str, dict[str, Any]]  # per proposer: rounds, candidates, improvements


@dataclasses.dataclass
class _ProposerStats:
    rounds: int = 0
    candidates: int = 0
    improvements: int = 0
    recent: deque = dataclasses.field(default_factory=lambda: deque(maxlen=SUCCESS_WINDOW))
    exhausted: bool = False  # every lane of the proposer is done (or one of its rounds raised)

    def score(self, total: int) -> float:
        """UCB1 on "improved the best": recent success rate plus a bonus for proposers tried little."""
        mean = sum(self.recent) / len(self.recent) if self.recent else 1.0
        return mean + EXPLORATION * math.sqrt(2 * math.log(total + 1) / (self.candidates + 1))

    def as_dict(self) -> dict[str, Any]:
        return {"rounds": self.rounds, "candidates": self.candidates, "improvements": self.improvements}


@dataclasses.dataclass(frozen=True)
class _Lane:
    proposer: Proposer
    lane: int


def source_id(source: str) -> str:
    """A short stable name for a candidate source: how attempts refer to their parent."""
    return hashlib.sha256(source.strip().encode()).hexdigest()[:16]


class PopulationSearch:
    """One kernel's search. ``run()`` returns when a budget is spent, the target is reached or no proposer has more.

    ``judge`` verifies one round of candidates (in parallel, as the pipeline arranges) and returns their attempts;
    ``on_attempt`` sees each attempt as soon as it is judged (the history writes it to disk); ``stops`` says what
    else ends the search (see ``StopRules``).
    """

    def __init__(
        self,
        task: KernelTask,
        proposers: Sequence[Proposer],
        judge: Judge,
        budget: Budget,
        *,
        previous: Sequence[Attempt] = (),
        on_attempt: Callable[[Attempt], None] | None = None,
        stops: StopRules = StopRules(),
        round_size: int = ROUND_SIZE,
        seed: int = 0,
    ) -> None:
        self.task, self.judge, self.budget = task, judge, budget
        self.population: list[Attempt] = list(previous)
        self.on_attempt = on_attempt or (lambda attempt: None)
        self.stops = stops
        self.round_size = round_size
        self.random = random.Random(seed)
        self.stats = {p.name: _ProposerStats() for p in proposers}
        self.lanes = [_Lane(p, i) for p in proposers for i in range(max(1, p.lanes))]
        self.done_lanes: set[_Lane] = set()
        self.empty_rounds: dict[_Lane, int] = {}
        self.children: dict[str, int] = {}
        for attempt in self.population:
            if parent := attempt.candidate.notes.get("parent"):
                self.children[parent] = self.children.get(parent, 0) + 1
        self.seen = {source_id(a.candidate.source) for a in self.population}
        self._seen_lock = threading.Lock()  # lanes check and claim sources from their threads
        self.judged_now: list[Attempt] = []
        self.reserved = 0
        self.deadline = None if budget.wall_s is None else time.monotonic() + budget.wall_s

    # ------------------------------------------------------------------ the loop

    def run(self) -> SearchResult:
        busy: dict[futures.Future, tuple[_Lane, int]] = {}
        stopped_by = self._stop_reason()
        pool = futures.ThreadPoolExecutor(max_workers=max(1, len(self.lanes)), thread_name_prefix="aikg-search")
        try:
            while True:
                if stopped_by is None:
                    self._launch_idle(pool, busy)
                if not busy:
                    stopped_by = stopped_by or "exhausted"
                    break
                done, _ = futures.wait(busy, timeout=POLL_S, return_when=futures.FIRST_COMPLETED)
                for future in done:
                    lane, limit = busy.pop(future)
                    self.reserved -= limit
                    self._absorb(lane, future)
                stopped_by = stopped_by or self._stop_reason()
        except BaseException:
            # Ctrl-C or a bug: rounds already out finish in their threads, but nothing new starts; every attempt
            # judged so far is already in the history.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        accepted = [a for a in self.population if a.report.accepted]
        best = max(accepted, key=speed) if accepted else None
        log.info("aikg: task %s: search stopped (%s) after %d candidate(s) in this run", self.task.short_key,
                 stopped_by, len(self.judged_now))
        return SearchResult(tuple(self.judged_now), best, stopped_by,
                            {name: s.as_dict() for name, s in self.stats.items()})

    def _launch_idle(self, pool: futures.ThreadPoolExecutor, busy: dict) -> None:
        working = {lane for lane, _ in busy.values()}
        total = sum(s.candidates for s in self.stats.values())
        idle = [lane for lane in self.lanes if lane not in working and lane not in self.done_lanes
                and not self.stats[lane.proposer.name].exhausted]
        idle.sort(key=lambda lane: -self.stats[lane.proposer.name].score(total))
        if not idle:
            return
        scores = [self.stats[lane.proposer.name].score(total) for lane in idle]
        room, best, together = self._room(), scores[0], sum(scores)
        for lane, score in zip(idle, scores):
            if self._room() <= 0:
                return
            # Rounds shrink with a proposer's score relative to the best one's, so the budget flows to what works;
            # lanes starting together split what is left by score, so the first cannot take it all.
            relative = score / best if best > 0 else 1.0
            fair = room * score / together if together > 0 else room
            limit = min(self._room(), max(1, round(min(self.round_size * relative, fair))))
            context = self._context_for(lane)
            busy[pool.submit(self._one_round, lane, context, limit)] = (lane, limit)
            self.reserved += limit

    def _one_round(self, lane: _Lane, context: SearchContext, limit: int) -> list[Attempt]:
        offered = lane.proposer.propose(self.task, context, limit)[:limit]
        parent = source_id(context.parent.candidate.source) if context.parent else None
        fresh = []
        for candidate in offered:
            ident = source_id(candidate.source)
            with self._seen_lock:
                if ident in self.seen:
                    continue  # the same source again (another lane, an earlier run): its verdict would not change
                self.seen.add(ident)
            notes = {**candidate.notes, "lane": lane.lane, **({"parent": parent} if parent else {})}
            fresh.append(dataclasses.replace(candidate, notes=notes))
        return self.judge(fresh) if fresh else []

    def _absorb(self, lane: _Lane, future: futures.Future) -> None:
        stats = self.stats[lane.proposer.name]
        stats.rounds += 1
        try:
            attempts = future.result()
        except Exception:  # noqa: BLE001 - a proposer's or the judge's bug ends that proposer, not the search
            log.exception("aikg: task %s: a %s round failed; that proposer stops", self.task.short_key,
                          lane.proposer.name)
            stats.exhausted = True
            return
        if not attempts:
            self._empty_round(lane)
            return
        self.empty_rounds[lane] = 0
        for attempt in attempts:
            best_before = max((speed(a) for a in self.population if a.correct), default=0.0)
            self.population.append(attempt)
            self.judged_now.append(attempt)
            improved = attempt.correct and speed(attempt) > best_before
            stats.candidates += 1
            stats.improvements += improved
            stats.recent.append(1.0 if improved else 0.0)
            if parent := attempt.candidate.notes.get("parent"):
                self.children[parent] = self.children.get(parent, 0) + 1
            if self.stops.run_budget is not None:
                self.stops.run_budget.charge(candidates=1)
            self.on_attempt(attempt)

    def _empty_round(self, lane: _Lane) -> None:
        """A round that judged nothing new ends its lane when the proposer says the lane is done (an LLM lane's
        stop), when the proposer keeps no lanes of its own (nothing new to offer given everything tried), or after
        EMPTY_ROUNDS such rounds in a row. A duplicate or a transient LLM error in one lane does not end the others;
        the proposer is exhausted when every one of its lanes is."""
        self.empty_rounds[lane] = self.empty_rounds.get(lane, 0) + 1
        if lane.proposer.lane_exhausted(self.task.key, lane.lane) or self.empty_rounds[lane] >= EMPTY_ROUNDS:
            self.done_lanes.add(lane)
        if all(other in self.done_lanes for other in self.lanes if other.proposer is lane.proposer):
            self.stats[lane.proposer.name].exhausted = True

    # ------------------------------------------------------------------ budgets

    def _room(self) -> int:
        """Candidates that may still be asked for (judged ones and those in flight are counted)."""
        if self.budget.candidates is None:
            return self.round_size
        return self.budget.candidates - len(self.population) - self.reserved

    def _stop_reason(self) -> str | None:
        if self.budget.candidates is not None and len(self.population) >= self.budget.candidates:
            return "candidates"
        if self.deadline is not None and time.monotonic() >= self.deadline:
            return "wall time"
        stops = self.stops
        if self.budget.tokens is not None and stops.tokens_spent() >= self.budget.tokens:
            return "tokens"
        if stops.target_roofline is not None and stops.roofline is not None:
            fractions = [stops.roofline(a) for a in self.population if a.report.accepted]
            if any(f is not None and f >= stops.target_roofline for f in fractions):
                return "roofline"
        if stops.run_budget is not None:
            return stops.run_budget.exhausted()
        return None

    # ------------------------------------------------------------------ what a proposer is told

    def _context_for(self, lane: _Lane) -> SearchContext:
        ranked = sorted(self.population, key=lambda a: -speed(a))
        correct = [a for a in ranked if a.correct]
        failures = [a for a in reversed(self.population) if not a.correct][:FAILURES_SHOWN]
        parent = self._pick_parent(correct)
        deadlines = [d for d in (self.deadline, self.stops.run_budget and self.stops.run_budget.deadline)
                     if d is not None]
        return SearchContext(tuple(ranked), parent, self._inspirations(correct, parent), tuple(failures), lane.lane,
                             min(deadlines, default=None))

    def _pick_parent(self, correct: list[Attempt]) -> Attempt | None:
        """Rank-based UCB: a good rank, or few children so far, makes a parent likely."""
        if not correct:
            return None
        total = sum(self.children.values())

        def score(rank: int, attempt: Attempt) -> float:
            quality = 1.0 - rank / len(correct)
            kids = self.children.get(source_id(attempt.candidate.source), 0)
            return quality + EXPLORATION * math.sqrt(math.log(total + 1) / (kids + 1))

        return max(enumerate(correct), key=lambda pair: score(*pair))[1]

    def _inspirations(self, correct: list[Attempt], parent: Attempt | None) -> tuple[Attempt, ...]:
        """One attempt drawn from each of the best, middle and worst thirds (the parent left out)."""
        others = [a for a in correct if a is not parent]
        if not others:
            return ()
        third = max(1, math.ceil(len(others) / 3))
        tiers = [others[i:i + third] for i in range(0, len(others), third)]
        return tuple(self.random.choice(tier) for tier in tiers[:3])
