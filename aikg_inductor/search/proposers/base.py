"""The records every proposer shares: a candidate kernel, an attempt (candidate plus verdict), the protocol."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Sequence

from ...task import KernelTask

if TYPE_CHECKING:
    from ...verify.report import VerificationReport


@dataclasses.dataclass(frozen=True)
class Candidate:
    """A kernel source proposed for a task: same signature as the baseline, normalised like ``task.source``."""

    source: str
    proposer: str  # "tuner", "llm", "retrieval"
    notes: dict[str, Any] = dataclasses.field(default_factory=dict)  # config, sketch, model, prompt hash, tokens


@dataclasses.dataclass(frozen=True)
class Attempt:
    """A candidate and what the verifier said of it: the search history, also fed back to proposers."""

    candidate: Candidate
    report: VerificationReport

    @property
    def correct(self) -> bool:
        """Passed every correctness trial (accepted, or rejected only for not being faster)."""
        return self.report.accepted or self.report.rule == "not-faster"


def speed(attempt: Attempt) -> float:
    """How good an attempt is for ranking: its verified speedup, 0 for anything that failed before timing."""
    return (attempt.report.speedup or 0.0) if attempt.correct else 0.0


@dataclasses.dataclass(frozen=True)
class SearchContext:
    """What a proposer is told when asked for candidates: the whole history, and what the search picked from it.

    ``attempts`` holds every attempt on the task so far (earlier runs too), best first, so a proposer can skip what
    was tried. ``parent`` is the attempt the search wants improved, ``inspirations`` a few correct attempts from the
    best, middle and worst tiers, ``failures`` recent rejections with their reasons (negative examples). ``lane``
    names an independent line of work: a stateful proposer keeps one conversation per lane, so lanes can run at
    the same time. ``deadline`` (``time.monotonic()``) is when the kernel's or the run's wall budget ends: a proposer
    that works in steps (the LLM's design, code and fix) stops taking new ones then.
    """

    attempts: tuple[Attempt, ...] = ()
    parent: Attempt | None = None
    inspirations: tuple[Attempt, ...] = ()
    failures: tuple[Attempt, ...] = ()
    lane: int = 0
    deadline: float | None = None

    @classmethod
    def of(cls, attempts: Sequence[Attempt]) -> SearchContext:
        """A context with no choices made: the attempts, best first (what a plain round-by-round loop gives)."""
        ranked = tuple(sorted(attempts, key=lambda a: -speed(a)))
        return cls(ranked, parent=ranked[0] if ranked and ranked[0].correct else None)


class Proposer:
    """What the search asks of a proposer. Subclasses set ``name`` and implement ``propose``; the rest has defaults
    that suit a proposer without lanes or accounts of its own (the tuner, retrieval)."""

    name: str
    lanes: int = 1  # independent lines of work the search may run at once (``SearchContext.lane``)

    def propose(self, task: KernelTask, context: SearchContext, limit: int) -> list[Candidate]:
        """Up to ``limit`` new candidates for ``task``, informed by ``context``."""
        raise NotImplementedError

    def lane_exhausted(self, task_key: str, lane: int) -> bool:
        """Asked after a round of ``lane`` offered nothing new: whether that lane is done. By default it is, since
        a proposer without lanes of its own has nothing new to offer given everything tried."""
        return True

    def interrupted(self, task_key: str) -> bool:
        """Whether this proposer's work on the task was cut short by something around it (an LLM endpoint that
        stopped answering) rather than ended by its budget or its ideas: a later run should give it another go."""
        return False

    def summary(self, task_key: str) -> dict[str, Any] | None:
        """What this proposer spent on the task (steps, rejected replies, ``tokens``), if it keeps accounts."""
        return None
