"""Cache entries for tests, built by the code that builds the pipeline's own (``pipeline.entry_for`` from a candidate
and an accepted ``VerificationReport``), so tests read records of the shape the pipeline stores.

The report is a test double: the timings and errors in it were not measured (``reason`` says so)."""

from __future__ import annotations

from typing import Any

from aikg_inductor.kernel_cache import CacheEntry
from aikg_inductor.pipeline import entry_for
from aikg_inductor.search.proposers import Candidate
from aikg_inductor.task import KernelTask
from aikg_inductor.verify import VerificationReport


def accepted_report(task: KernelTask, speedup: float = 2.0, baseline_s: float = 2e-5) -> VerificationReport:
    candidate_s = baseline_s / speedup
    return VerificationReport(
        verdict="accepted", rule=None, reason="test double: not measured", task_key=task.key, dsl=task.dsl,
        device="test", seeds=[0, 1], trials=["normal", "large"], sizes={"in_ptr0": "f32[8]"},
        max_abs_error=0.0, max_rel_error=0.0, tolerances={"float32": [1e-5, 1e-5]},
        baseline_s=[baseline_s, baseline_s], candidate_s=[candidate_s, candidate_s], timing_noise=[0.01, 0.01],
        speedup=speedup, elapsed_s=0.5,
    )


def accepted_entry(task: KernelTask, source: str | None = None, speedup: float = 2.0, proposer: str = "test",
                   notes: dict[str, Any] | None = None) -> CacheEntry:
    candidate = Candidate(source if source is not None else f"// accepted for {task.key}", proposer, notes or {})
    return entry_for(task, candidate, accepted_report(task, speedup))
