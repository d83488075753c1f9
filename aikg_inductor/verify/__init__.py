"""Judging kernels: static guards, then correctness and timing against Inductor's baseline, in two processes.

``verify_candidate(task, source)`` is the one entry point. The calling process never loads ``source``; neither does
the judge (a warm ``judge`` process that draws inputs, runs the baseline and the control arm, compares and times):
the candidate loads and runs in a sandboxed runner of its own (``runner``, ``sandbox``), one per candidate.
"""

from __future__ import annotations

import dataclasses
import logging
import secrets
import time
from typing import Any, Sequence

from ..options import DEFAULT_MARGIN
from ..task import KernelTask
from . import correctness, guards, timing
from .pool import JobFailed, Worker, WorkerError, WorkerPool, default_pool
from .report import VerificationReport

log = logging.getLogger(__name__)

__all__ = ["ScreenResult", "VerificationReport", "WorkerPool", "default_pool", "device_bandwidth",
           "screen_candidates", "verify_candidate"]

# Compiling a C++ kernel takes about a second warm; a cold toolchain or a large Triton autotune takes much longer.
COMPILE_TIMEOUT_S = 180.0
# Beyond the candidate's own time limits, what a judge job may take (starting a runner, drawing inputs, comparing).
JOB_SLACK_S = 120.0

class _Rejected(Exception):
    def __init__(self, rule: str, message: str) -> None:
        super().__init__(message)
        self.rule = rule


def verify_candidate(
    task: KernelTask,
    source: str,
    margin: float = DEFAULT_MARGIN,
    timeout_s: float = 30.0,
    *,
    pool: WorkerPool | None = None,
    seed: int | None = None,
    compile_timeout_s: float = COMPILE_TIMEOUT_S,
    vary_sizes: bool = True,
) -> VerificationReport:
    """Judge ``source`` as a replacement for ``task``'s kernel.

    ``timeout_s`` bounds each run of the candidate (correctness trials, each timing measurement) and
    ``compile_timeout_s`` its compilation. ``seed`` fixes the trials' inputs (default: fresh random seeds).
    A dynamic-shape task is also tried at other sizes (``values.size_variants``) unless ``vary_sizes`` is off.
    """
    started = time.perf_counter()
    base_seed = secrets.randbelow(2**31) if seed is None else seed
    trials = correctness.default_trials(base_seed, task if vary_sizes else None)
    report = VerificationReport(
        verdict="rejected", rule=None, reason="", task_key=task.key, dsl=task.dsl, margin=margin,
        sizes={a.param: a.layout.short() if a.layout else str(a.value) for a in task.args},
        tolerances=correctness.tolerances_for(task), **_trial_fields(trials),
    )
    try:
        if violation := guards.check(task, source):
            raise _Rejected(violation.rule, violation.message)
        pool = pool or default_pool(task.dsl)
        _give_back_idle_device_memory(task)
        with pool.worker() as worker:
            report.device = worker.call({"op": "device", "device_type": task.device_type, "dsl": task.dsl},
                                        30)[0]["name"]
            try:
                checked = _check(worker, task, source, trials, timeout_s, compile_timeout_s)
                report = dataclasses.replace(report, sandbox=checked.sandbox, sandbox_missing=checked.sandbox_missing,
                                             max_abs_error=checked.max_abs, max_rel_error=checked.max_rel,
                                             in_process=checked.in_process, phase_s=dict(checked.phase_s),
                                             **_trial_fields(checked.trials))
                if checked.failure:
                    raise _Rejected(checked.failure["rule"], checked.failure["message"])
                timing_started = time.perf_counter()
                measurements = _measure(worker, pool, checked.trials[-1].seed, margin, timeout_s)
                report.phase_s["timing"] = time.perf_counter() - timing_started
            finally:
                if worker.alive():
                    _stage(worker, {"op": "finish"}, JOB_SLACK_S, "finish", harness=True)
        report = _timing_verdict(report, measurements, margin)
    except _Rejected as rejection:
        report.verdict, report.rule, report.reason = "rejected", rejection.rule, str(rejection)
    report.elapsed_s = time.perf_counter() - started
    log.info("aikg: verify %s: %s", task.short_key, report.summary().splitlines()[0])
    return report


def _give_back_idle_device_memory(task: KernelTask) -> None:
    """Hand the device memory this process's allocator keeps cached, but does not use, back to the device: the judge
    sizes what it can judge by the device's free memory (``too-large``), and a tuning process is often the user's,
    holding a model's freed activations."""
    if task.device_type == "cuda":
        import torch

        if torch.cuda.is_initialized():
            torch.cuda.empty_cache()


def _timing_verdict(report: VerificationReport, measurements: list[timing.Measurement],
                    margin: float) -> VerificationReport:
    """``report`` of a correct candidate with its timings and the verdict they give."""
    noise = [m.noise for m in measurements]
    timed = dataclasses.replace(report, baseline_s=[m.baseline_s for m in measurements],
                                candidate_s=[m.candidate_s for m in measurements], timing_noise=noise,
                                speedup=min(m.speedup for m in measurements))
    if timing.faster_by_margin(measurements, margin) and len(measurements) >= 2:
        return dataclasses.replace(timed, verdict="accepted", rule=None, reason=f"correct on {len(report.trials)} "
                                   f"trials and {timed.speedup:.3f}x faster than the baseline")
    return dataclasses.replace(timed, verdict="rejected", rule="not-faster",
                               reason=f"correct, but speedup {timed.speedup:.3f}x is not above 1 + margin + timing "
                                      f"noise ({1 + margin:.2f}x + {max(noise):.3f}) in both measurements")


def _trial_fields(trials: Sequence[correctness.Trial]) -> dict[str, Any]:
    """The report's record of which trials ran."""
    return {"seeds": [t.seed for t in trials], "trials": [t.label for t in trials],
            "size_variants": [dict(t.symbols) for t in trials if t.symbols]}


@dataclasses.dataclass(frozen=True)
class _Checked:
    """What the judge reported of the candidate's correctness trials."""

    trials: tuple[correctness.Trial, ...]  # those that ran: fewer than asked when the judge's time ran out
    sandbox: list[str]
    sandbox_missing: list[str]
    max_abs: float | None
    max_rel: float | None
    failure: dict[str, str] | None  # the first trial's failure (rule, message), if any
    in_process: bool  # judged in the judge (VerificationReport.in_process)
    phase_s: dict[str, float]  # the judge's steps' seconds (VerificationReport.phase_s)


def _check(worker: Worker, task: KernelTask, source: str, trials: Sequence[correctness.Trial], timeout_s: float,
           compile_timeout_s: float) -> _Checked:
    """Start the candidate's runner and run its correctness trials in the judge."""
    header = _stage(worker, {"op": "start", "task": task.to_json(), "source": source,
                             "trials": [t.to_dict() for t in trials], "timeout_s": timeout_s,
                             "compile_timeout_s": compile_timeout_s},
                    compile_timeout_s + timeout_s * (len(trials) + 4) + JOB_SLACK_S, "candidate trials")
    if header.get("note"):
        log.warning("aikg: verify %s: %s", task.short_key, header["note"])
    ran = trials if header["failure"] else trials[:header["trials_run"]]
    return _Checked(tuple(ran), header.get("sandbox", []), header.get("sandbox_missing", []), header["max_abs"],
                    header["max_rel"], header["failure"], bool(header.get("in_process")), header.get("phase_s", {}))


def _measure(worker: Worker, pool: WorkerPool, last_seed: int, margin: float,
             timeout_s: float) -> list[timing.Measurement]:
    """Time candidate, baseline and control; a second measurement on fresh inputs confirms the first."""
    measurements: list[timing.Measurement] = []
    with pool.timing_lock:
        for i in range(2):
            header = _stage(worker, {"op": "time", "seed": last_seed + 1 + i}, 4 * timeout_s + JOB_SLACK_S, "timing")
            if failure := header["failure"]:
                raise _Rejected(failure["rule"], failure["message"])
            measurements.append(timing.Measurement(header["baseline_s"], header["candidate_s"], header["samples"],
                                                   header["control_s"], header["run_queue_wait"]))
            if not timing.faster_by_margin(measurements, margin):
                break  # already lost: a confirming run cannot change the verdict
    return measurements


def _stage(worker: Worker, job: dict, timeout_s: float, what: str, harness: bool = False) -> dict:
    """One judge job; the judge failing (not the candidate) is a harness error, or names how it died."""
    try:
        return worker.call(job, timeout_s)[0]
    except WorkerError as err:
        worker.retire = True  # dead, or in a state nobody can vouch for
        raise _Rejected("harness-error" if harness else err.rule, f"{what}: the judge failed: {err}") from err
    except JobFailed as err:
        worker.retire = True
        raise _Rejected("harness-error", f"{what}: {err}") from err


@dataclasses.dataclass(frozen=True)
class ScreenResult:
    """A quick, unconfirmed speed estimate (baseline time / candidate time), or why there is none."""

    speedup: float | None
    error: str | None = None


def screen_candidates(
    task: KernelTask,
    sources: list[str],
    *,
    pool: WorkerPool | None = None,
    timeout_s: float = 30.0,
    compile_timeout_s: float = COMPILE_TIMEOUT_S,
) -> list[ScreenResult]:
    """Estimate each source's speed quickly, to rank many candidates before the few best are verified.

    Nothing is judged correct here and nothing may be accepted on a screen: ``verify_candidate`` decides.
    """
    pool = pool or default_pool(task.dsl)
    _give_back_idle_device_memory(task)
    task_json = task.to_json()
    results: list[ScreenResult] = []
    for source in sources:
        if violation := guards.check(task, source):
            results.append(ScreenResult(None, f"[{violation.rule}] {violation.message}"))
            continue
        with pool.worker() as worker:
            try:
                header = worker.call({"op": "start", "task": task_json, "source": source, "trials": [],
                                      "timeout_s": timeout_s, "compile_timeout_s": compile_timeout_s},
                                     compile_timeout_s + timeout_s + JOB_SLACK_S)[0]
                if not header["failure"]:
                    with pool.timing_lock:
                        header = worker.call({"op": "time", "seed": secrets.randbelow(2**31), "screen": True},
                                             4 * timeout_s + JOB_SLACK_S)[0]
                if failure := header["failure"]:
                    results.append(ScreenResult(None, f"[{failure['rule']}] {failure['message']}"))
                else:
                    speed = timing.Measurement(header["baseline_s"], header["candidate_s"], 1).speedup
                    results.append(ScreenResult(speed))
                worker.call({"op": "finish"}, JOB_SLACK_S)
            except (WorkerError, JobFailed) as err:
                worker.retire = isinstance(err, WorkerError)
                results.append(ScreenResult(None, f"[{getattr(err, 'rule', 'job-failed')}] {err}"))
    return results


def device_bandwidth(task: KernelTask, *, pool: WorkerPool | None = None, timeout_s: float = 120.0) -> float | None:
    """The copy bandwidth (bytes/s) of the device ``task`` runs on, measured once per pool by one of its workers;
    None when it cannot be measured (the search then has no roofline to stop at)."""
    pool = pool or default_pool(task.dsl)
    if pool.bandwidth is None:
        with pool.worker() as worker, pool.timing_lock:
            try:
                pool.bandwidth = float(worker.call({"op": "bandwidth", "device_type": task.device_type},
                                                   timeout_s)[0]["bytes_per_s"])
            except (WorkerError, JobFailed) as err:
                log.warning("aikg: could not measure the device's bandwidth: %s", err)
                return None
    return pool.bandwidth
