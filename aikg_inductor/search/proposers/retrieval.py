"""``RetrievalProposer``: what won on similar kernels, offered again for this one (and re-verified like any other).

Two kinds of reuse, both needing no LLM:
- a launch configuration the tuner found for a similar Triton kernel, applied to this kernel's own source;
- the accepted source of a kernel that fuses the same ops in the same DSL, when its signature may fit (the guards
  decide; a mismatch costs a static check, no run).
"""

from __future__ import annotations

import dataclasses
import logging
from typing import Sequence

from ...kernel_cache import CacheUnavailableError, KernelIndex
from ...task import KernelTask
from ...dsl.triton_configs import LaunchConfig, NotTunableError, kernel_shape, with_fixed_config
from .base import Candidate, Proposer, SearchContext

log = logging.getLogger(__name__)

NEIGHBOURS = 8  # similar accepted kernels consulted per task


class RetrievalProposer(Proposer):
    name = "retrieval"

    def __init__(self, index: KernelIndex, neighbours: int = NEIGHBOURS) -> None:
        self.index = index
        self.neighbours = neighbours

    def propose(self, task: KernelTask, context: SearchContext, limit: int) -> list[Candidate]:
        return fresh_candidates(self.reusable(task), context, limit, self.name)

    def reusable(self, task: KernelTask) -> list[tuple[str, dict]]:
        """What won on similar kernels in the cache, as (source, notes) candidates for ``task``."""
        try:
            similar = self.index.similar(task, k=self.neighbours)
        except CacheUnavailableError as err:
            log.warning("aikg: retrieval skipped for task %s: %s", task.short_key, err)
            return []
        found = []
        for entry, score in similar:
            if entry.key == task.key or entry.dsl != task.dsl:
                continue
            notes = {"from_task": entry.key, "similarity": round(float(score), 4)}
            if (config := entry.provenance.config) and (source := _with_config(task, config)):
                found.append((source, {**notes, "config": config}))
            if tuple(entry.origins) == tuple(task.origins):
                found.append((entry.source, notes))
        return found


def fresh_candidates(found: Sequence[tuple[str, dict]], context: SearchContext, limit: int,
                     proposer: str) -> list[Candidate]:
    """Up to ``limit`` of ``found`` (source, notes) not tried yet, as candidates of ``proposer``."""
    tried = {a.candidate.source for a in context.attempts}
    fresh: list[Candidate] = []
    for source, notes in found:
        if source not in tried and len(fresh) < limit:
            tried.add(source)
            fresh.append(Candidate(source, proposer, notes))
    return fresh


def _with_config(task: KernelTask, config: dict) -> str | None:
    """``task``'s own kernel under a configuration found for another kernel, if its block parameters fit."""
    try:
        shape = kernel_shape(task)
        launch = LaunchConfig.from_dict(config)
    except (NotTunableError, KeyError, TypeError, ValueError):
        return None
    blocks = dict(launch.blocks)
    if set(blocks) != set(shape.block_params):
        return None
    # Stored records sort their keys; a launch configuration lists its blocks in the kernel's parameter order.
    ordered = dataclasses.replace(launch, blocks=tuple((name, blocks[name]) for name in shape.block_params))
    return with_fixed_config(task, shape, ordered)
