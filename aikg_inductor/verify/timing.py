"""Timing a candidate against its baseline: measured in the worker, judged in the parent.

One measurement interleaves the kernels in one worker on the same buffers, so drift in clocks, caches or
neighbours hits both alike and neither gets luckier memory. A verdict's measurement also times the baseline a
second time as a third arm, the control: how far baseline and control disagree is how far this measurement can be
trusted. On CPU, other processes taking the cores is measured directly too (the time the worker's threads waited
on the run queue). The candidate must beat the baseline by the margin plus the larger of the two. The verifier
takes two measurements and accepts only when the candidate wins both.
"""

from __future__ import annotations

import dataclasses
import os
import statistics
import time
from typing import Any, Callable

# CPU: one sample times a batch of back-to-back calls lasting at least this long, so timer resolution and call
# overhead do not dominate microsecond kernels.
MIN_SAMPLE_S = 200e-6
# Samples per arm at the least, budget or not: memory-bound kernels on a shared machine time in two modes (another
# process streaming memory or not), and a median of 7 could land in different modes for identical kernels.
MIN_SAMPLES = 15
MAX_SAMPLES = 201
WARMUP_CALLS = 10
# GPU: rounds of do_bench per kernel, alternating; do_bench itself flushes L2 and takes a median of many reps.
GPU_ROUNDS = 3
GPU_REP_MS = 100
# A screen only ranks candidates before verification: one short round, never a verdict.
SCREEN_GPU_ROUNDS, SCREEN_GPU_REP_MS, SCREEN_CPU_BUDGET_S = 1, 20, 0.05


@dataclasses.dataclass(frozen=True)
class Measurement:
    baseline_s: float
    candidate_s: float
    samples: int
    control_s: float | None = None  # the baseline again, as its own arm (verdict measurements only)
    # CPU: the largest share of the sampling time any of the worker's threads spent ready to run but waiting for a
    # core (other processes had it), from the kernel's scheduler statistics; None where Linux does not keep them.
    run_queue_wait: float | None = None

    @property
    def speedup(self) -> float:
        return self.baseline_s / self.candidate_s if self.candidate_s > 0 else float("inf")

    @property
    def noise(self) -> float:
        """What this measurement cannot resolve: how far the baseline and its control disagree (relative), or the
        share of the time a thread of it waited for a core other processes held, whichever is larger."""
        disagreement = abs(self.baseline_s / self.control_s - 1.0) if self.control_s else 0.0
        return max(disagreement, self.run_queue_wait or 0.0)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _batch_seconds(fn: Callable[[], Any], calls: int) -> float:
    start = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - start) / calls


def _arms(baseline: Callable[[], Any], candidate: Callable[[], Any],
          control: Callable[[], Any] | None) -> list[tuple[str, Callable[[], Any]]]:
    return [("baseline", baseline), ("candidate", candidate)] + ([("control", control)] if control else [])


def _in_turn(arms: list[tuple[str, Callable[[], Any]]], i: int) -> list[tuple[str, Callable[[], Any]]]:
    """Sample ``i``'s order: rotated, so every arm takes every position equally often (an arm always timed
    second would carry whatever running second costs, and the control would not see it)."""
    shift = i % len(arms)
    return arms[shift:] + arms[:shift]


def _measurement(times: dict[str, list[float]], samples: int, run_queue_wait: float | None = None) -> Measurement:
    control = times.get("control")
    return Measurement(statistics.median(times["baseline"]), statistics.median(times["candidate"]), samples,
                       statistics.median(control) if control else None, run_queue_wait)


def measure_cpu(baseline: Callable[[], Any], candidate: Callable[[], Any], budget_s: float,
                control: Callable[[], Any] | None = None) -> Measurement:
    """Median wall time per call of each arm, samples interleaved (in rotating order), warm-up excluded."""
    arms = _arms(baseline, candidate, control)
    for _ in range(WARMUP_CALLS):  # page faults, OpenMP thread start, first touch of the output buffers
        for _, fn in arms:
            fn()
    single = max(max(_batch_seconds(fn, 3) for _, fn in arms), 1e-9)
    calls = max(1, int(MIN_SAMPLE_S / single))
    round_s = calls * single * len(arms)
    samples = int(min(MAX_SAMPLES, max(MIN_SAMPLES, budget_s / round_s)))
    times: dict[str, list[float]] = {name: [] for name, _ in arms}
    # On a busy machine calls can turn slow after calibration; the deadline keeps a measurement near its budget.
    started, waited = time.perf_counter(), _run_queue_waits()
    deadline = started + 2 * budget_s
    for i in range(samples):
        if i >= MIN_SAMPLES and i % len(arms) == 0 and time.perf_counter() > deadline:  # whole rotations only
            samples = i
            break
        for name, fn in _in_turn(arms, i):
            times[name].append(_batch_seconds(fn, calls))
    return _measurement(times, samples, _largest_wait_share(waited, time.perf_counter() - started))


def _run_queue_waits() -> dict[str, int] | None:
    """Nanoseconds each thread of this process has spent runnable but not running (Linux schedstat)."""
    try:
        threads = os.listdir("/proc/self/task")
    except OSError:
        return None
    waits = {}
    for tid in threads:
        try:
            with open(f"/proc/self/task/{tid}/schedstat") as stat:
                waits[tid] = int(stat.read().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended meanwhile, or no scheduler statistics
    return waits or None


def _largest_wait_share(before: dict[str, int] | None, wall_s: float) -> float | None:
    after = _run_queue_waits()
    if before is None or after is None or wall_s <= 0:
        return None
    waits = [after[tid] - before.get(tid, 0) for tid in after]
    return min(1.0, max(waits, default=0) / 1e9 / wall_s)


def measure_gpu(
    baseline: Callable[[], Any], candidate: Callable[[], Any], rounds: int = GPU_ROUNDS, rep_ms: int = GPU_REP_MS,
    control: Callable[[], Any] | None = None,
) -> Measurement:
    """Median of ``do_bench`` medians (CUDA events, L2 flushed between reps), arms in rotating order per round."""
    import triton.testing

    arms = _arms(baseline, candidate, control)
    times: dict[str, list[float]] = {name: [] for name, _ in arms}
    for i in range(rounds):
        for name, fn in _in_turn(arms, i):
            times[name].append(triton.testing.do_bench(fn, warmup=25, rep=rep_ms, return_mode="median") / 1e3)
    return _measurement(times, rounds)


# Copy-bandwidth probe: large enough to stream from memory rather than cache (H100 L2 is 50 MB).
BANDWIDTH_BYTES = {"cuda": 1 << 30, "cpu": 1 << 27}


def copy_bandwidth(device_type: str) -> float:
    """Bytes per second a device-to-device copy moves (read plus write): the roofline memory-bound kernels face."""
    import torch

    src = torch.empty(BANDWIDTH_BYTES.get(device_type, 1 << 27) // 4, dtype=torch.float32, device=device_type)
    src.fill_(1.0)
    dst = torch.empty_like(src)
    if device_type == "cuda":
        import triton.testing

        seconds = triton.testing.do_bench(lambda: dst.copy_(src), warmup=25, rep=GPU_REP_MS,
                                          return_mode="median") / 1e3
    else:
        dst.copy_(src)  # first touch
        seconds = statistics.median(_batch_seconds(lambda: dst.copy_(src), 1) for _ in range(MIN_SAMPLES))
    return 2 * src.numel() * src.element_size() / seconds


def faster_by_margin(measurements: list[Measurement], margin: float) -> bool:
    """Accept only if every measurement shows the candidate faster than the baseline by more than ``margin`` plus
    that measurement's noise."""
    return bool(measurements) and all(m.speedup > 1.0 + margin + m.noise for m in measurements)
