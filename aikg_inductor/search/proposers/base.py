"""The records every proposer shares: a candidate kernel, an attempt (candidate plus verdict), the protocol."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any, Protocol, Sequence

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


class Proposer(Protocol):
    name: str

    def propose(self, task: KernelTask, history: Sequence[Attempt], limit: int) -> list[Candidate]:
        """Up to ``limit`` new candidates for ``task``, informed by ``history`` (earlier attempts, best first)."""
