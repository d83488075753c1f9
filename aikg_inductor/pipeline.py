"""Runs one kernel task to an accepted kernel or to nothing, within the per-kernel budget.

No proposer ships yet (the config tuner and the LLM agents come next), so every task ends with Inductor's kernel
kept and the reason logged; the interface is what modes ``tune`` and ``background`` already call.
"""

from __future__ import annotations

import dataclasses
import logging

from .kernel_cache import CacheEntry, KernelCache
from .options import Options
from .task import KernelTask

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class TuneOutcome:
    """What tuning one task came to: the accepted entry (already in the cache) or None, and why."""

    task_key: str
    entry: CacheEntry | None
    candidates_tried: int
    reason: str


def tune_task(task: KernelTask, options: Options, cache: KernelCache) -> TuneOutcome:
    """Search for a verified faster kernel for ``task``; an accepted one is stored in ``cache``."""
    outcome = TuneOutcome(task.key, None, 0, f"no proposer for {task.dsl} yet; Inductor's kernel kept")
    log.info("aikg: task %s: %s", task.short_key, outcome.reason)
    return outcome
