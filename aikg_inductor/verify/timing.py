"""Timing a candidate against its baseline: measured by the judge, judged in the parent.

One measurement interleaves the arms on equal-valued buffers, so drift in clocks, caches or neighbours hits all
alike. The baseline, and the baseline timed a second time as a third arm (the control), run in the judge, which never
loads candidate code; the candidate runs in its own sandboxed runner, asked over a socket for a batch of calls at a
time. Its reported time cannot be shrunk below what the judge's own clock saw: the judge times every request, and
the candidate's time is at least its shortest batch by that clock, less a request's fixed cost (calibrated with
empty batches), per call (``judge._RemoteArm``). How far
baseline and control disagree is how far the measurement can be trusted; on CPU, other processes taking the cores
is measured directly too (the time the judge's threads waited on the run queue). The candidate must beat the
baseline by the margin plus the larger of the two, in both of the verifier's two measurements.
"""

from __future__ import annotations

import dataclasses
import os
import random
import statistics
import time
from typing import Any, Callable

# One sample times a batch of back-to-back calls lasting at least this long, so timer resolution and call overhead
# do not dominate microsecond kernels, nor does the candidate's batch request (waking its runner takes tens of
# microseconds on an idle machine, far more on a loaded one); a GPU batch ends with a synchronize. GPU batches are
# longer: on an H200 the baseline and its control disagreed by 8-10% with 2 ms batches (judge and runner take turns
# on the card, and the clocks dip in the gaps between batches).
MIN_SAMPLE_S = {"cpu": 2e-3, "cuda": 1e-2}
# Samples per arm at the least, budget or not: memory-bound kernels on a shared machine time in two modes (another
# process streaming memory or not), and a median of 7 could land in different modes for identical kernels.
MIN_SAMPLES = 15
MAX_SAMPLES = 201
WARMUP_CALLS = 10
# Wall time one verdict measurement aims for, per device; a screen only ranks candidates before verification: one
# short measurement, never a verdict.
BUDGET_S = {"cpu": 0.4, "cuda": 1.0}
SCREEN_BUDGET_S = {"cpu": 0.05, "cuda": 0.1}
# GPU: do_bench's repetition budget for the bandwidth probe.
GPU_REP_MS = 100

# Runs ``calls`` back-to-back calls of one arm and returns the seconds per call.
Batch = Callable[[int], float]


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


@dataclasses.dataclass
class TimedCalls:
    """How a timed batch calls a kernel, the same in every arm, so a kernel keeps no state from one timed call to
    the next: a batch takes ``argument_sets`` in turn, a different one in every call, among the first ``in_use``
    (same outputs; inputs and in-outs in storages of their own, which the judge redraws between samples: see
    ``fresh_values``), so an output never holds the answer to the call's own inputs and no call's inputs are an
    earlier call's; the scratch outputs (written, never read after the kernel) are poisoned again before every call,
    so a key to a kept result cannot wait there; each set's in-out arguments get the values the judge last wrote
    back before every call, so a mark a call leaves there cannot tell the next call to skip its work (seen in
    review, accepted at 35x); and a batch ends on the set the judge names (at random, and every set in turn at the
    calls it checks), so skipping calls leaves the wrong answer where it is compared. A single checked call is a
    batch of one: nothing tells it apart. (Static, thread-local and heap state are refused by the guards.)"""

    argument_sets: list[list[Any]]
    scratch: list[Any]  # tensors, shared by every set
    synchronize: Callable[[], Any]
    in_out: list[list[Any]] = dataclasses.field(default_factory=list)  # tensors, per set
    in_use: int = 0  # the sets batches take (0: all)
    _poisoners: list[tuple[Callable[[Any], Any], Any]] = dataclasses.field(init=False)
    _written: list[list[Any]] = dataclasses.field(init=False)

    def __post_init__(self) -> None:
        self._poisoners = [_poisoner(t) for t in self.scratch]
        self.in_out = self.in_out or [[] for _ in self.argument_sets]
        self.in_use = self.in_use or len(self.argument_sets)
        self.keep_in_out()

    @classmethod
    def over(cls, task: Any, flats_per_set: list[list[Any]], synchronize: Callable[[], Any]) -> TimedCalls:
        """Timed calls of ``task``'s kernel taking these sets of flat storages (``fresh_values.timed_sets``)."""
        from .values import call_values, in_out_values, scratch_outputs

        sets = [call_values(task, flats) for flats in flats_per_set]
        return cls(sets, scratch_outputs(task, sets[0]), synchronize, [in_out_values(task, s) for s in sets])

    def keep_in_out(self) -> None:
        """The in-out arguments' values as they are now (just written by the judge): what every call on their set
        starts from. Copied back once here: torch's first copy keeps a little heap memory, which must not count as
        the kernel's (the runner counts heap memory left allocated by its calls)."""
        self._written = [[t.clone() for t in tensors] for tensors in self.in_out]
        for tensors, written in zip(self.in_out, self._written):
            for tensor, value in zip(tensors, written):
                tensor.copy_(value)

    def seconds_per_call(self, kernel: Callable[..., Any], calls: int, last: int = 0) -> float:
        """``calls`` calls, the last on ``argument_sets[last]``, then the device synchronized."""
        sets, scratch, in_use = self.argument_sets, self._poisoners, self.in_use
        in_out = [list(zip(tensors, written)) for tensors, written in zip(self.in_out, self._written)]
        start = time.perf_counter()
        for i in range(calls):
            which = (last + calls - 1 - i) % in_use
            for fill, value in scratch:
                fill(value)
            for tensor, written in in_out[which]:
                tensor.copy_(written)
            kernel(*sets[which])
        if calls:
            self.synchronize()
        return (time.perf_counter() - start) / max(calls, 1)


def _poisoner(tensor: Any) -> tuple[Callable[[Any], Any], Any]:
    """A fill of ``tensor`` with its poison value, and the value. On CPU through NumPy where it can (a quarter of
    torch's per-call overhead: against a kernel of tens of microseconds, torch's fills of four small scratch outputs
    took a few percent off every speedup)."""
    from .values import poison

    value = poison(tensor.dtype)
    if tensor.device.type == "cpu":
        try:
            return tensor.numpy().fill, value
        except TypeError:  # a dtype NumPy lacks (bfloat16)
            pass
    return tensor.fill_, value


def local_batch(fn: Callable[[], Any], synchronize: Callable[[], Any] | None = None) -> Batch:
    """An arm run in this process: ``fn`` called back to back, then the device synchronized."""
    def run(calls: int) -> float:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        if synchronize is not None:
            synchronize()
        return (time.perf_counter() - start) / max(calls, 1)

    return run


def _arms(baseline: Batch, candidate: Batch, control: Batch | None) -> list[tuple[str, Batch]]:
    return [("baseline", baseline), ("candidate", candidate)] + ([("control", control)] if control else [])


def _in_turn(arms: list[tuple[str, Batch]], i: int) -> list[tuple[str, Batch]]:
    """Sample ``i``'s order: rotated, so every arm takes every position equally often (an arm always timed
    second would carry whatever running second costs, and the control would not see it)."""
    shift = i % len(arms)
    return arms[shift:] + arms[:shift]


def _measurement(times: dict[str, list[float]], samples: int, run_queue_wait: float | None = None) -> Measurement:
    control = times.get("control")
    return Measurement(statistics.median(times["baseline"]), statistics.median(times["candidate"]), samples,
                       statistics.median(control) if control else None, run_queue_wait)


def measure(baseline: Batch, candidate: Batch, budget_s: float, control: Batch | None = None,
            min_sample_s: float = MIN_SAMPLE_S["cpu"], after_sample: Callable[[int, int], None] | None = None,
            remote_candidate: bool = False, batch_lengths: random.Random | None = None, max_calls: int = 0,
            before_samples: Callable[[int], None] | None = None) -> Measurement:
    """Median time per call of each arm, samples interleaved (in rotating order), warm-up excluded.
    ``after_sample(i, samples)`` runs after sample ``i`` of every arm, of ``samples`` planned (the judge checks
    outputs there and picks how the next sample's batches end). With
    ``remote_candidate`` the candidate runs in another process, and this process's run-queue waits count only while
    its own arms run (while the candidate runs, this process's idle threads yielding to it is no noise). With
    ``batch_lengths``, each sample's batch length is drawn from it (the same for every arm of the sample) around the
    calibrated one: a kernel cannot count its way to the calls that end a batch, which are the ones compared. With
    ``max_calls``, no batch is longer (the argument sets a batch takes one per call are that many), and
    ``before_samples(longest)`` runs once calibrated, told the longest batch a sample may ask for."""
    arms = _arms(baseline, candidate, control)
    for _, arm in arms:  # page faults, OpenMP thread start, first touch of the output buffers
        arm(WARMUP_CALLS)
    # The slowest arm's call, each arm's best of three small batches: one preemption must not shrink every sample.
    single = max(max(min(arm(3) for _ in range(3)) for _, arm in arms), 1e-9)
    calls = max(1, int(min_sample_s / single))
    if max_calls:
        calls = min(calls, max(1, 2 * max_calls // 3))  # a drawn length reaches calls + calls // 2
    if before_samples is not None:
        before_samples(calls + calls // 2 if batch_lengths else calls)
    round_s = calls * single * len(arms)
    samples = int(min(MAX_SAMPLES, max(MIN_SAMPLES, budget_s / round_s)))
    times: dict[str, list[float]] = {name: [] for name, _ in arms}
    waits = _Waits()
    # On a busy machine calls can turn slow after calibration; the deadline keeps a measurement near its budget.
    deadline = time.perf_counter() + 2 * budget_s
    waits.start()
    for i in range(samples):
        if i >= MIN_SAMPLES and i % len(arms) == 0 and time.perf_counter() > deadline:  # whole rotations only
            samples = i
            break
        length = batch_lengths.randint(max(1, calls // 2), calls + calls // 2) if batch_lengths else calls
        for name, arm in _in_turn(arms, i):
            if remote_candidate and name == "candidate":
                waits.stop()
                times[name].append(arm(length))
                waits.start()
            else:
                times[name].append(arm(length))
        if after_sample is not None:
            waits.stop()
            after_sample(i, samples)
            waits.start()
    waits.stop()
    return _measurement(times, samples, waits.largest_share())


class _Waits:
    """Run-queue waits of this process's threads, summed over the windows between ``start`` and ``stop``."""

    def __init__(self) -> None:
        self.waited: dict[str, int] | None = {}
        self.wall_s = 0.0
        self._since: tuple[float, dict[str, int] | None] | None = None

    def start(self) -> None:
        self._since = (time.perf_counter(), _run_queue_waits())

    def stop(self) -> None:
        assert self._since is not None
        started, before = self._since
        after = _run_queue_waits()
        self.wall_s += time.perf_counter() - started
        if before is None or after is None or self.waited is None:
            self.waited = None
            return
        for tid, ns in after.items():
            self.waited[tid] = self.waited.get(tid, 0) + ns - before.get(tid, 0)

    def largest_share(self) -> float | None:
        if self.waited is None or self.wall_s <= 0:
            return None
        return min(1.0, max(self.waited.values(), default=0) / 1e9 / self.wall_s)


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
        copy = local_batch(lambda: dst.copy_(src))
        seconds = statistics.median(copy(1) for _ in range(MIN_SAMPLES))
    return 2 * src.numel() * src.element_size() / seconds


def faster_by_margin(measurements: list[Measurement], margin: float) -> bool:
    """Accept only if every measurement shows the candidate faster than the baseline by more than ``margin`` plus
    that measurement's noise."""
    return bool(measurements) and all(m.speedup > 1.0 + margin + m.noise for m in measurements)
