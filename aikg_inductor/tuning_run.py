"""One ``aikg tune`` run over many kernels: what its local driver (``offline_tuning``) and its Ray driver
(``ray_tuning``) share, and the row each gives back per kernel."""

from __future__ import annotations

import dataclasses
from typing import Callable, Protocol, Sequence

from .options import Options
from .pipeline import LocalSink, TuneOutcome
from .search.evolve import RunBudget
from .search.proposers import Attempt, Proposer
from .task import KernelTask

@dataclasses.dataclass(frozen=True)
class TunedKernel:
    """One row of a tuning run: a kernel, where it came from, and what tuning it came to."""

    task: KernelTask
    problems: tuple[str, ...]  # problem files whose compiled graphs contain this kernel
    outcome: TuneOutcome | None  # None: not tuned in this run (see ``skipped``)
    skipped: str = ""  # why it was not tuned: "already cached", "run wall time spent", ...

    @property
    def tokens(self) -> int:
        return 0 if self.outcome is None else self.outcome.tokens


ProposerFactory = Callable[[KernelTask], Sequence[Proposer]]


class TuneProgress(Protocol):
    """What a progress display is told; every method may be called from a device's worker thread."""

    def kernels_found(self, total: int) -> None: ...

    def kernel_started(self, task: KernelTask, budget: int) -> None: ...

    def attempt_judged(self, task: KernelTask, attempt: Attempt) -> None: ...

    def kernel_finished(self, row: TunedKernel) -> None: ...


@dataclasses.dataclass(frozen=True)
class TuneRun:
    """What every kernel of one run shares."""

    options: Options
    sink: LocalSink  # the driver's cache and search history: the one writer
    budget: RunBudget
    progress: TuneProgress | None = None
    proposers: ProposerFactory | None = None  # None: the built-in proposers available for each kernel
