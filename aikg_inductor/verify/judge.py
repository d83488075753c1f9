"""The judge: a warm worker process that draws inputs, runs Inductor's baseline and judges candidates it never loads.

Run as ``python -m aikg_inductor.verify.judge FD [DSL ...]`` by ``pool.Worker``; FD is its end of a socket pair.
The judge loads only the task's own (Inductor's) kernel. Each candidate gets a fresh runner process
(``runner.CandidateRunner``), which compiles it, locks itself down (``sandbox``) and runs it on memory the judge
shares with it (``shared.Arena``); the judge compares what lands there with the baseline's results on its own copy of
the same inputs, and times both sides. A runner is used for one candidate and then killed; a crash, hang or
forbidden call ends the runner, never the judge. The one exception is code as trusted as the baseline, Inductor's
own kernel with other launch parameters (``DslAdapter.baseline_variant``): the judge runs it itself
(``runner.InProcessRunner``), as Inductor's autotuner does, with no runner to start.

Jobs (see ``protocol``): ``start`` (a runner for a candidate: compile, lock down, load, then the correctness trials),
``time`` (one interleaved timing of baseline, candidate and control, with outputs checked on timed calls), ``finish``
(end the candidate's runner), ``device`` (the name of the device a DSL runs on), ``bandwidth`` (the device's measured
copy bandwidth), ``memory`` (this process's peak resident memory).
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import logging
import os
import random
import resource
import secrets
import socket
import sys
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any, Callable

import torch

from ..dsl import adapter_for, warm
from ..task import KernelArg, KernelTask
from . import protocol
from .correctness import Errors, Failure, check_contract, check_outputs, judge_trial, live_outputs
from .fresh_values import Redraw, secret_generator, timed_set_count, timed_set_sizes, timed_sets
from .runner import CPU_SECONDS_PER_TIMEOUT_S, CandidateRunner, InProcessRunner, RunnerFailed
from .shared import Arena, arena_bytes
from .timing import (BUDGET_S, MIN_SAMPLE_S, MIN_SAMPLES, SCREEN_BUDGET_S, Measurement, TimedCalls, copy_bandwidth,
                     measure)
from .values import (Trial, as_bytes, build, call_values, draw_input, flat_sizes, interior, live_out_values, poison,
                     put_specials, sized, timing_trial)

log = logging.getLogger(__name__)

# Compiler output for a broken candidate can be huge; the verdict needs the start of it.
MAX_ERROR_CHARS = 4000
# Earlier trials' baseline results are kept (to name a stale result ``cached-result``) while they are this small.
MAX_KEPT_ORACLE_BYTES = 64 << 20
# Timed calls whose outputs are checked on fresh values, per verdict measurement, and elements rewritten by a
# "few elements" check (a kernel that samples a few inputs to decide whether to skip misses them).
CHECKED_TIMED_CALLS = 3
FEW_ELEMENTS = 4
# Ordinary timed batches whose last call's outputs are compared, per verdict measurement, drawn among the samples
# every measurement takes (a kernel that skipped the calls nobody compared was accepted at 3.2x in review 14).
CHECKED_BATCHES = 4
# What a checked timed call changes, in turn: every input; a few elements of each; the order within each row.
FRESH_VALUES = ("all inputs", "a few input elements", "columns permuted")
# Heap memory the candidate's calls may leave allocated, summed over all of them: the allocator's own bookkeeping,
# never a memo's worth.
HEAP_KEPT_BYTES = 1024
# After the last call, how long the judge waits before comparing the outputs again (work finishing after return).
LATE_WRITE_PAUSE_S = 0.2
# How long a spare runner may take to start (import torch, warm the compiler) on a loaded machine.
SPARE_STARTUP_S = 300.0
# Runners kept started ahead, per device type. A GPU runner's start (torch, the CUDA context, Triton's builds) took
# 10-15 s on an H200, several candidates' worth of judging; each holds a CUDA context (some hundred MiB).
SPARE_RUNNERS = {"cpu": 1, "cuda": 2}
# With fewer cores than this, timing waits until the spares have started (their imports and compiles would take
# cores from the arms being timed); with more, spares start while candidates are timed.
CORES_TO_TIME_BESIDE_SPARES = 8
# Empty requests timed to calibrate a runner request's fixed cost.
CALIBRATION_REQUESTS = 7
# A kernel whose arguments need more than this share of the device's free memory is not judged (``too-large``): the
# judge holds the shared arguments, the baseline's copy and comparison slices.
MAX_MEMORY_SHARE = 1 / 3

# A trivial kernel compiled once at start so the first real compile does not pay for the toolchain's imports.
def _tensors(flats: list[Any]) -> list[torch.Tensor]:
    return [f for f in flats if isinstance(f, torch.Tensor)]


def _failure(failure: Failure | None) -> dict[str, str] | None:
    return failure and {"rule": failure.rule, "message": failure.message}


@dataclasses.dataclass
class Session:
    """The candidate being judged: its runner, the memory shared with it, and the task's baseline."""

    task: KernelTask
    runner: CandidateRunner | InProcessRunner
    arena: Arena | None
    baseline: Callable[..., None]
    timeout_s: float
    sandbox: list[str] = dataclasses.field(default_factory=list)
    # The judge's own arena of the shared one's size, made at the first measurement: where the baseline is timed on
    # copies placed as the candidate's arguments are.
    mirror: Arena | None = None
    timed_sets: int = 2  # argument sets the timed calls take (``fresh_values``)
    # Whether the baseline runs on the specials trial's values; a kernel that raises on NaN (a float made an index
    # and bounds-checked) is judged without them, in the trials and in the timed calls.
    specials: bool = True


class Judge:
    def __init__(self, dsls: list[str]) -> None:
        self.kernels: dict[str, Callable[..., None]] = {}  # baselines by task key
        self.tasks: dict[str, KernelTask] = {}
        self.session: Session | None = None
        self.spares: list[CandidateRunner] = []  # started ahead, oldest first, loaded nothing yet
        self.dsls = dsls
        self.own_inductor_cache = any(adapter_for(dsl).runner_owns_inductor_cache for dsl in dsls)

    def task(self, text: str) -> KernelTask:
        key = hashlib.sha256(text.encode()).hexdigest()
        if key not in self.tasks:
            self.tasks[key] = KernelTask.from_json(text)
        return self.tasks[key]

    def baseline(self, task: KernelTask) -> Callable[..., None]:
        """Inductor's kernel for ``task``: the only code this process ever loads."""
        if task.key not in self.kernels:
            self.kernels[task.key] = adapter_for(task.dsl).load(task, task.source)
        return self.kernels[task.key]

    def _fresh_runner(self) -> CandidateRunner:
        """The oldest live spare (then the spares are topped up again, to start while this candidate is judged),
        or a new runner."""
        while self.spares:
            runner = self.spares.pop(0)
            if runner.alive():
                self.start_spares()
                return runner
            runner.close()
        return CandidateRunner(self.dsls, own_inductor_cache=self.own_inductor_cache)

    def start_spares(self) -> None:
        wanted = max(SPARE_RUNNERS.get(adapter_for(dsl).device_type, 1) for dsl in self.dsls)
        while len(self.spares) < wanted:
            self.spares.append(CandidateRunner(self.dsls, own_inductor_cache=self.own_inductor_cache))

    # ------------------------------------------------------------------------------------------ jobs

    def start(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        """A runner for the candidate, then the correctness trials (none for a screen)."""
        self.finish({})
        task = self.task(job["task"])
        adapter = adapter_for(task.dsl)
        trials = [Trial.from_dict(spec) for spec in job["trials"]] or [Trial(seed=0)]
        # The timing trial (recorded sizes) also holds the other timed sets' inputs.
        timed = timed_set_count(task, Trial(0), adapter.device_type)
        sizes = [flat_sizes(task, t) for t in trials] + [flat_sizes(task, Trial(0)) + timed_set_sizes(task, Trial(0),
                                                                                                    timed)]
        if failure := _too_large(arena_bytes(sizes), adapter.device_type):
            return {"failure": _failure(failure), "max_abs": None, "max_rel": None, "trials_run": 0,
                    "sandbox": [], "sandbox_missing": [], "sandbox_notes": []}, []
        try:
            baseline = self.baseline(task)
        except Exception as err:  # noqa: BLE001
            return _harness(f"baseline compile: {type(err).__name__}: {err}"), []
        trusted = adapter.baseline_variant(task, job["source"])
        runner = InProcessRunner(lambda: session.arena) if trusted else self._fresh_runner()
        session = Session(task, runner, None, baseline, float(job["timeout_s"]), timed_sets=timed)
        self.session = session
        phases = _Phases()
        header: dict[str, Any] = {"sandbox": [], "sandbox_missing": [], "sandbox_notes": [], "max_abs": None,
                                  "max_rel": None, "trials_run": 0, "phase_s": phases.seconds, "in_process": trusted}
        try:
            compile_s = float(job["compile_timeout_s"])
            session.runner.wait_ready(compile_s)
            phases.end("runner")
            session.runner.request({"op": "prepare", "task": job["task"], "source": job["source"]}, compile_s,
                                   "candidate compile")
            phases.end("compile")
            session.arena = Arena.create(arena_bytes(sizes), adapter.device_type)
            shared, fds = session.arena.export()
            session.runner.request({"op": "arena", **shared}, session.timeout_s, "sharing memory", fds)
            locked = session.runner.request({"op": "lockdown", "scratch": session.runner.scratch,
                                             "cpu_seconds": CPU_SECONDS_PER_TIMEOUT_S * session.timeout_s},
                                            session.timeout_s, "sandbox")
            header.update(sandbox=locked["layers"], sandbox_missing=locked["missing"], sandbox_notes=locked["notes"])
            session.runner.request({"op": "load"}, compile_s, "candidate load")
            phases.end("load")
            if job["trials"]:
                header.update(self._trials(session, trials))
                phases.end("trials")
            else:
                header["failure"] = None
            if len(os.sched_getaffinity(0)) < CORES_TO_TIME_BESIDE_SPARES:
                # A spare runner still starting (a Python importing torch, a warm-up compile) would take the cores
                # from the arms about to be timed.
                for spare in self.spares:
                    spare.wait_ready(SPARE_STARTUP_S)
                phases.end("spares")
        except RunnerFailed as err:
            rule = "compile-timeout" if err.rule == "timeout" and "compile" in str(err) else err.rule
            header["failure"] = {"rule": rule, "message": str(err)}
        return header, []

    def _trials(self, s: Session, trials: list[Trial]) -> dict[str, Any]:
        """Each trial: fresh inputs in the shared arena, the baseline on a copy, the candidate in its runner."""
        assert s.arena is not None
        adapter = adapter_for(s.task.dsl)
        errors = Errors()
        earlier: list[tuple[Trial, list[torch.Tensor]]] = []
        note = None
        run = 0
        last_recorded = max(t for t, trial in enumerate(trials) if not trial.symbols)
        for t, trial in enumerate(trials):
            ours = None  # the previous trial's copy goes before this one's is made: one copy at a time
            s.arena.reset(trial.seed)
            shared = build(s.task, trial, storage=s.arena.storage)
            ours = [f.clone() if isinstance(f, torch.Tensor) else f for f in shared]
            try:
                s.baseline(*call_values(sized(s.task, trial), ours))
                adapter.synchronize()
                failure = check_contract(s.task, trial, _tensors(ours), before=_tensors(shared))
            except Exception as err:  # noqa: BLE001 - the baseline failing is the harness's problem
                failure = Failure("harness-error", f"{type(err).__name__}: {err}")
            if failure is not None and trial.kind == "specials":
                s.specials = False
                note = f"the baseline does not run on NaN and infinities ({failure.message}); judged without them"
                continue
            if failure is not None:
                if not trial.symbols:
                    return _harness(f"the baseline breaks the recorded contract: {failure.message}")
                # The graph may have been compiled under guards these sizes break: judged at recorded sizes only.
                note = "; ".join(filter(None, [note, f"the baseline does not run at other sizes ({failure.message}); "
                                                     "recorded sizes only"]))
                break
            self._bind(s, trial, [shared])
            called = s.runner.request({"op": "call"}, s.timeout_s, "candidate trials")
            failure = (_heap_kept(s.task, called) or _padding_written(s.arena)
                       or judge_trial(s.task, trial, t, _tensors(ours), _tensors(shared), errors, earlier))
            if failure:
                return {"failure": _failure(failure), "max_abs": errors.max_abs, "max_rel": errors.max_rel,
                        "trials_run": t + 1}
            if t == last_recorded and (failure := _late_write(s.task, trial, _tensors(ours), _tensors(shared))):
                return {"failure": _failure(failure), "max_abs": errors.max_abs, "max_rel": errors.max_rel,
                        "trials_run": t + 1}
            if sum(o.numel() * o.element_size() for o in _tensors(ours)) * (len(earlier) + 1) <= MAX_KEPT_ORACLE_BYTES:
                earlier.append((trial, _tensors(ours)))
            run = t + 1
        return {"failure": None, "max_abs": errors.max_abs, "max_rel": errors.max_rel, "trials_run": run,
                "note": note}

    def _bind(self, s: Session, trial: Trial, sets: list[list[Any]]) -> None:
        assert s.arena is not None
        adapter_for(s.task.dsl).synchronize()  # the judge's writes land before the runner reads
        job = {"op": "bind", "trial": dataclasses.asdict(trial), "sets": [s.arena.slots(flats) for flats in sets]}
        s.runner.request(job, s.timeout_s, "candidate trials")

    def time(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        """One measurement: baseline and control here, the candidate in its runner, on equal-valued buffers; for a
        verdict, outputs checked on fresh values at random timed calls, after the last one, and after a pause."""
        s = self.session
        if s is None or s.arena is None:
            raise RuntimeError("no candidate started")
        adapter = adapter_for(s.task.dsl)
        device = adapter.device_type
        screen = bool(job.get("screen"))
        trial = timing_trial(int(job["seed"]))
        s.arena.reset(trial.seed)  # placed as in the trials: nothing tells a timed call from a trial's
        shared = build(s.task, trial, storage=s.arena.storage)  # outputs poisoned: no answer waiting in them
        shared_sets = timed_sets(s.task, shared, s.timed_sets, s.arena.storage)
        if s.mirror is None:
            s.mirror = Arena.create(s.arena.base.numel(), device)
        ours = s.mirror.copy_at_same_offsets(s.arena, shared)
        # Storages the sets share (the outputs) stay one tensor in the judge's copy too.
        our_sets = [[o if f is g else c for f, g, o, c in zip(flats, shared, ours,
                                                              s.mirror.copy_at_same_offsets(s.arena, flats))]
                    for flats in shared_sets]
        timed = TimedCalls.over(s.task, our_sets, adapter.synchronize)
        on_pages = TimedCalls.over(s.task, shared_sets, adapter.synchronize)
        answers = live_out_values(s.task, on_pages.argument_sets[0])
        # The schedule's randomness is the judge's secret: the seed travels to the runner, where candidate code runs.
        rng = random.Random(secrets.randbits(64))
        checks = _Checks(s, trial, shared_sets, our_sets, rng, adapter.synchronize, [timed, on_pages],
                         Redraw(s.task, trial, shared))

        def baseline(calls: int) -> float:
            return timed.seconds_per_call(s.baseline, calls, checks.last)

        def control(calls: int) -> float:
            """The baseline again, in this process, on the candidate's own storages: where a buffer lies in physical
            memory moved Inductor's own column sum by up to 15% between the judge's copy and the shared arena, which
            only this arm sees (its disagreement with ``baseline`` is the measurement's noise). Its answers are
            poisoned away after the batch, so no candidate call finds one waiting."""
            seconds = on_pages.seconds_per_call(s.baseline, calls, checks.last)
            for answer in answers:
                answer.fill_(poison(answer.dtype))
            return seconds

        try:
            self._bind(s, trial, shared_sets)
            candidate = _RemoteArm(s.runner, s.timeout_s, checks)
            budget = (SCREEN_BUDGET_S if screen else BUDGET_S)[device if device in BUDGET_S else "cpu"]
            measurement = candidate.bounded(measure(baseline, candidate, budget, None if screen else control,
                                                    MIN_SAMPLE_S.get(device, MIN_SAMPLE_S["cpu"]),
                                                    None if screen else checks.maybe, remote_candidate=True,
                                                    batch_lengths=None if screen else checks.rng,
                                                    max_calls=s.timed_sets,
                                                    before_samples=None if screen else checks.begin))
            failure = None if screen else checks.final()
        except RunnerFailed as err:
            return {"failure": {"rule": err.rule, "message": f"timing: {err}"}}, []
        except _StaleOutput as err:
            return {"failure": _failure(err.failure)}, []
        return {"failure": _failure(failure), **measurement.to_dict()}, []

    def finish(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        if self.session is not None:
            self.session.runner.close()
            for arena in (self.session.arena, self.session.mirror):
                if arena is not None:
                    arena.close()
            self.session = None
            if torch.cuda.is_initialized():
                # Other judges (and the next trial's size check) see only the device's free memory.
                torch.cuda.empty_cache()
        return {}, []

    def device(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        if "dsl" not in job:
            return {"name": device_name(job["device_type"])}, []
        adapter = adapter_for(job["dsl"])
        return {"name": device_name(adapter.device_type) + adapter.device_note}, []

    def bandwidth(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        return {"bytes_per_s": copy_bandwidth(job["device_type"])}, []

    def memory(self, job: dict[str, Any]) -> tuple[dict[str, Any], list[bytes]]:
        """Peak resident bytes of this process so far (CPU) and peak device bytes allocated (GPU)."""
        peak_gpu = torch.cuda.max_memory_allocated() if torch.cuda.is_initialized() else 0
        return {"max_rss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "max_cuda_bytes": peak_gpu}, []


class _Phases:
    """Seconds between successive ``end`` calls, by the name of the step that just ended."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._since = time.perf_counter()

    def end(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name], self._since = now - self._since, now


def _harness(message: str) -> dict[str, Any]:
    return {"failure": {"rule": "harness-error", "message": message}, "max_abs": None, "max_rel": None,
            "trials_run": 0}


def _too_large(nbytes: int, device_type: str) -> Failure | None:
    free = _free_memory(device_type)
    if free is not None and nbytes > free * MAX_MEMORY_SHARE:
        return Failure("too-large", f"the kernel's arguments take {nbytes / 2**30:.2f} GiB, more than a third of the "
                                    f"{free / 2**30:.2f} GiB free on the {device_type} device{_memory_note(device_type)}"
                                    ": not judged")
    return None


def _memory_note(device_type: str) -> str:
    """Where the device's memory went, for a ``too-large`` verdict that may surprise: this judge's share of it."""
    if device_type != "cuda":
        return ""
    total = torch.cuda.mem_get_info()[1]
    return (f" (of {total / 2**30:.0f} GiB; this judge holds {torch.cuda.memory_reserved() / 2**30:.2f} GiB, the rest "
            "is other processes': the tuning process, runners, other judges)")


def _free_memory(device_type: str) -> int | None:
    """What this judge could allocate: the device's free memory and the blocks its own allocator holds unused."""
    if device_type == "cuda":
        return torch.cuda.mem_get_info()[0] + torch.cuda.memory_reserved() - torch.cuda.memory_allocated()
    try:
        with open("/proc/meminfo") as info:
            for line in info:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class _RemoteArm:
    """The candidate's arm: batch requests to its runner, each timed by the judge too.

    The runner's own figure per batch is what the samples hold (the judge's wall time around a request also holds
    the wake-up of the runner, which on a loaded machine can be milliseconds and is no fault of the candidate). It is
    trusted only down to a floor no code in the runner can move: the judge's shortest wall time for a batch, less the
    calibrated cost of an empty request, per call (``bounded``). A batch waits
    on the runner's wake-up (a request costs ~50 us hot, several times that after an idle wait), so the shortest
    batch is the one to trust; its floor sits within a few percent of the candidate's real time per call, which is
    all a runner whose report the candidate forged could gain (review 18: a median of floors would have been
    tighter in principle, but wake-ups put it 20-70% above the real time). Reading ``/proc/self/maps`` around every
    batch cost a millisecond a request, and is done only where the judge checks (``_Runner._kept_so_far``).
    """

    def __init__(self, runner: CandidateRunner | InProcessRunner, timeout_s: float, schedule: _Checks) -> None:
        self.runner, self.timeout_s, self.schedule = runner, timeout_s, schedule
        self.overhead_s = self._empty_request_s()
        self.batches: list[tuple[float, int]] = []  # the judge's wall time of each batch, and its calls

    def _empty_request_s(self) -> float:
        walls = sorted(self._request(0)[1] for _ in range(CALIBRATION_REQUESTS))
        return walls[CALIBRATION_REQUESTS // 2]

    def _request(self, calls: int) -> tuple[float, float]:
        start = time.perf_counter()
        job = {"op": "batch", "calls": calls, "last": self.schedule.last, **self.schedule.batch_terms()}
        reply = self.runner.request(job, self.timeout_s, "timing")
        wall = time.perf_counter() - start
        if failure := _heap_kept(self.schedule.s.task, reply):
            raise _StaleOutput(failure)
        return float(reply["seconds"]), wall

    def __call__(self, calls: int) -> float:
        reported, wall = self._request(calls)
        self.batches.append((wall, calls))
        self.schedule.after_candidate_batch()
        return reported

    def bounded(self, measurement: Measurement) -> Measurement:
        """``measurement`` with the candidate's time raised to the judge's floor where the runner reported less. The
        request's cost is calibrated again now and the smaller taken: an overhead calibrated high (a noisy start)
        would lower every floor (review 19)."""
        overhead = min(self.overhead_s, self._empty_request_s())
        floor = min((wall - overhead) / max(calls, 1) for wall, calls in self.batches)
        return dataclasses.replace(measurement, candidate_s=max(measurement.candidate_s, floor))


class _StaleOutput(Exception):
    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.message)
        self.failure = failure


class _Checks:
    """Outputs checked on timed calls, and how timed batches go: which argument sets they take (``in_use``, every
    one redrawn between samples: ``fresh_values``) and which the last call of every arm's next batch takes
    (``last``). After the candidate's batch of random samples, before any other arm runs, its
    outputs are compared with the baseline's answer for the set the batch ended on; batch lengths are drawn at
    random (``measure``), so no call knows whether it ends a batch. After other random samples the judge changes one
    set's inputs (``FRESH_VALUES``) in its own copy and copies them to the candidate's side, runs one call of each on
    it (a batch of one to the runner), and compares; the sets take turns, so a kernel that skips the calls of either
    set is caught. Before each such change, and after the measurement, every input of every set must still be what
    the judge wrote: a call may not prepare the other set's inputs for a cheap path (seen in review, accepted at
    1.6x). At the end: the last timed call's outputs, then a fresh-value call, then the same outputs again after a
    pause."""

    def __init__(self, s: Session, trial: Trial, shared_sets: list[list[Any]], our_sets: list[list[Any]],
                 rng: random.Random, synchronize: Callable[[], None], judged_calls: list[TimedCalls],
                 redraw: Redraw) -> None:
        self.s, self.trial, self.rng, self.synchronize = s, trial, rng, synchronize
        self.judged_calls = judged_calls  # the judge's own arms' calls: their in-out values follow fresh draws
        self.shared_sets, self.our_sets = shared_sets, our_sets
        self.redraw = redraw
        self.in_use = len(shared_sets)
        self.runner_keeps_in_out = False  # the sets were redrawn since the runner's last batch
        self.at: set[int] | None = None  # the fresh-value samples, drawn once the number of samples is known
        self.batches_checked: set[int] = set()  # the samples whose candidate batch is compared, drawn with ``at``
        self.sample = 0  # the sample being taken
        self.count = 0
        self.first_set = rng.randrange(len(shared_sets))
        self.last = 0
        self.latest = 0  # the set both sides' latest call took

    def begin(self, longest_batch: int) -> None:
        """Before the first sample (warm-up and calibration done): the sets batches of up to ``longest_batch``
        calls take, drawn anew."""
        self.in_use = min(longest_batch, len(self.shared_sets))
        for calls in self.judged_calls:
            calls.in_use = self.in_use
        self.first_set = self.rng.randrange(self.in_use)
        self.last = self.latest = self.rng.randrange(self.in_use)
        self._redraw()

    def batch_terms(self) -> dict[str, Any]:
        """What the runner's next batch request says besides its length: the sets in use, and whether they were
        redrawn since its last batch."""
        terms = {"in_use": self.in_use, "keep_in_out": self.runner_keeps_in_out}
        self.runner_keeps_in_out = False
        return terms

    def _redraw(self) -> None:
        self.redraw(self.our_sets, self.shared_sets, self.in_use)
        for calls in self.judged_calls:
            calls.keep_in_out()
        self.runner_keeps_in_out = True
        self.synchronize()

    def maybe(self, sample: int, samples: int) -> None:
        self.latest = self.last
        if self.at is None:
            self.at = set(self.rng.sample(range(samples), min(CHECKED_TIMED_CALLS, samples)))
            # Half among the samples a deadline never cuts (after this first one), half among the rest: a kernel
            # that can count samples finds no stretch where batches go unchecked (review 15 skipped from sample 15).
            early, late = range(1, min(samples, MIN_SAMPLES)), range(MIN_SAMPLES, samples)
            from_late = min(CHECKED_BATCHES // 2, len(late))
            self.batches_checked = set(self.rng.sample(late, from_late)) | set(
                self.rng.sample(early, min(CHECKED_BATCHES - from_late, len(early))))
        self.sample = sample + 1
        if sample in self.at:
            self._fresh_call(FRESH_VALUES[self.count % len(FRESH_VALUES)], self._next_set())
            self.count += 1
        self._redraw()
        self.last = self.rng.randrange(self.in_use)

    def after_candidate_batch(self) -> None:
        """In a checked sample: the candidate's batch just ended on ``last``; its live outputs against the
        baseline's answer for that set (computed now on the judge's copy, which the batch cannot reach)."""
        if self.sample not in self.batches_checked:
            return
        self.batches_checked.discard(self.sample)
        self._inputs_as_written()
        self.judged_calls[0].seconds_per_call(self.s.baseline, 1, self.last)
        self.synchronize()
        if failure := self._stale(self.last, "the last call of a timed batch"):
            raise _StaleOutput(failure)

    def _stale(self, which: int, what: str) -> Failure | None:
        """The candidate's live outputs of set ``which`` against the judge's answer for it, as ``stale-output``."""
        task, shared, ours = self.s.task, self.shared_sets[which], self.our_sets[which]
        if failure := check_outputs(task, self.trial, _tensors(ours), _tensors(shared), Errors()):
            return Failure("stale-output", f"{what}: {failure.message} [{failure.rule}]")
        return None

    def final(self) -> Failure | None:
        task = self.s.task
        self._inputs_as_written()
        # The control's answers were poisoned away after its batches: the candidate's batch is the last to write the
        # outputs, of a length drawn as the timed batches' are.
        calls = self.rng.randint(1, 3)
        if failure := _heap_kept(task, self.s.runner.request({"op": "batch", "calls": calls, "last": self.latest,
                                                             "account": True, **self.batch_terms()},
                                                            self.s.timeout_s, "timing")):
            return failure
        # The sets were redrawn after the last sample: the baseline's answer for the set, on the judge's copy.
        self.judged_calls[0].seconds_per_call(self.s.baseline, 1, self.latest)
        self.synchronize()
        # In-out arguments too: every timed call starts from the values the judge wrote (TimedCalls).
        if failure := self._stale(self.latest, "the last timed call"):
            return failure
        checked = self._next_set()
        self._fresh_call("a few input elements", checked)
        return _late_write(task, self.trial, _tensors(self.our_sets[checked]), _tensors(self.shared_sets[checked]))

    def _next_set(self) -> int:
        return (self.first_set + self.count) % self.in_use

    def _inputs_as_written(self) -> None:
        """Every input storage of every set, guard bands included, as the judge wrote it (its own copy)."""
        self.synchronize()
        for which, (shared, ours) in enumerate(zip(self.shared_sets[:self.in_use], self.our_sets[:self.in_use])):
            for arg, theirs, mine in zip(self.s.task.args, shared, ours):
                if (isinstance(theirs, torch.Tensor) and arg.role == "in"
                        and not torch.equal(as_bytes(theirs), as_bytes(mine))):
                    raise _StaleOutput(Failure("input-mutated", f"input {arg.param} of timed argument set {which} "
                                                                "was modified during the timed calls"))

    def _fresh_call(self, what: str, which: int) -> None:
        self._inputs_as_written()
        shared, ours = self.shared_sets[which], self.our_sets[which]
        generator = secret_generator(_tensors(shared)[0].device)
        task = self.s.task
        for arg, theirs, mine in zip(sized(task, self.trial).args, shared, ours):
            if not isinstance(theirs, torch.Tensor) or arg.role not in ("in", "in_out") or arg.layout is None:
                continue
            span = interior(arg, mine)
            inside = mine[span]
            if what == "all inputs" or arg.role == "in_out":
                draw_input(inside, arg, generator)
                # Half the time with the specials trial's values, never at the same places: a kernel right on NaN
                # and infinities only where they sit as that trial put them is wrong here.
                if (what == "all inputs" and inside.dtype.is_floating_point and self.s.specials
                        and self.rng.random() < 0.5):
                    put_specials(inside, arg, generator)
            elif what == "columns permuted":
                _permute_columns(inside, arg, generator)
            else:
                where = torch.randint(0, inside.numel(), (FEW_ELEMENTS,), generator=generator, device=inside.device)
                fresh = torch.empty(FEW_ELEMENTS, dtype=inside.dtype, device=inside.device)
                draw_input(fresh, arg, generator)
                inside[where] = fresh
            theirs[span] = inside  # the judge's values to the candidate, never the reverse
        for calls in self.judged_calls:
            calls.keep_in_out()
        self.synchronize()
        if failure := _heap_kept(task, self.s.runner.request({"op": "call", "set": which, "keep_in_out": True},
                                                       self.s.timeout_s, "checked timed call")):
            raise _StaleOutput(failure)
        self.s.baseline(*call_values(task, ours))
        self.synchronize()
        self.latest = which
        assert self.s.arena is not None
        if failure := _padding_written(self.s.arena):
            raise _StaleOutput(failure)
        if failure := check_outputs(task, self.trial, _tensors(ours), _tensors(shared), Errors()):
            rule = failure.rule if failure.rule in ("out-of-bounds-write", "input-mutated") else "stale-output"
            raise _StaleOutput(Failure(rule, f"a timed call on fresh values ({what}): {failure.message} "
                                             f"[{failure.rule}]"))


def _padding_written(arena: Arena) -> Failure | None:
    if arena.padding_intact():
        return None
    return Failure("out-of-bounds-write", "the kernel wrote into the shared memory outside every argument's storage "
                                          "(the padding or gaps between storages, the free space), past a guard band "
                                          "it left untouched")


def _heap_kept(task: KernelTask, reply: dict[str, Any]) -> Failure | None:
    """A call that returned with heap memory still allocated keeps state: a block found again next call (through a
    pointer hidden in an output's low bits, say) serves a memo (seen in review, accepted at 1.4x); so does a C++
    workspace left mapped (constructed where no destructor runs), which the C allocator's counters do not see. Asked
    of native code only (``DslAdapter.keeps_heap``): an interpreter's own caches grow as it runs."""
    from ..dsl import adapter_for

    if not adapter_for(task.dsl).keeps_heap:
        return None
    kept = int(reply.get("heap_kept", 0))
    if kept > HEAP_KEPT_BYTES:
        return Failure("heap-kept", f"the kernel's calls left {kept} bytes of heap memory allocated: memory kept "
                                    "past a call is state between calls")
    if (mappings := int(reply.get("workspaces_kept", 0))) > 0:
        return Failure("heap-kept", f"the kernel's calls left {mappings} workspace mapping(s) mapped: a workspace "
                                    "kept past a call is state between calls")
    return None


def _permute_columns(values: torch.Tensor, arg: KernelArg, generator: torch.Generator) -> None:
    """One permutation applied to the innermost dimension of every row: each row keeps its sum, its norm, every
    statistic blind to order, so a result kept under such a key is served stale."""
    assert arg.layout is not None
    size, stride = arg.layout.size, arg.layout.stride
    row = size[-1] if size and stride[-1] == 1 and 1 < size[-1] <= values.numel() else values.numel()
    rows = values[: values.numel() // row * row].view(-1, row)
    rows.copy_(rows[:, torch.randperm(row, generator=generator, device=values.device)])


def _late_write(task: KernelTask, trial: Trial, oracle: list[torch.Tensor], candidate: list[torch.Tensor],
                ) -> Failure | None:
    """The candidate's outputs, just compared, compared again after a pause: work finishing after return."""
    at_size = sized(task, trial)
    before = {name: as_bytes(t.contiguous()).clone() for name, t in live_outputs(at_size, candidate).items()}
    time.sleep(LATE_WRITE_PAUSE_S)
    for name, after in live_outputs(at_size, candidate).items():
        if not torch.equal(as_bytes(after.contiguous()), before[name]):
            return Failure("late-write", f"{name} changed {LATE_WRITE_PAUSE_S:g} s after the kernel returned: "
                                         "work goes on after the call")
    return None


@functools.cache
def device_name(device_type: str) -> str:
    """The card, or the CPU model with its vector ISA and thread count: what timings are valid for. Named once per
    process, at start-up (``serve``): Inductor's ISA probe compiles test programs, which took 44-59 s on a cold
    16-core GPU host, past the 30 s a ``device`` job is given."""
    if device_type == "cuda":
        return torch.cuda.get_device_name()
    model = "cpu"
    try:
        with open("/proc/cpuinfo") as info:
            model = next((line.split(":", 1)[1].strip() for line in info if line.startswith("model name")), model)
    except OSError:
        pass
    from ..torch_internals import kernels

    return f"{model} ({kernels.device_arch(torch.device('cpu'))}, {torch.get_num_threads()} threads)"


def serve(conn: Connection, dsls: list[str]) -> None:
    judge = Judge(dsls)
    warm(dsls)  # the pool is warm when a job comes
    for dsl in dsls:
        device_name(adapter_for(dsl).device_type)
    judge.start_spares()
    protocol.send(conn, {"ready": True, "pid": os.getpid()})
    handlers = {"start": judge.start, "time": judge.time, "finish": judge.finish, "device": judge.device,
                "bandwidth": judge.bandwidth, "memory": judge.memory}
    try:
        while True:
            try:
                job, _ = protocol.receive(conn)
            except EOFError:
                return  # the parent closed the socket or died: nothing left to serve
            try:
                header, frames = handlers[job["op"]](job)
                protocol.send(conn, {"ok": True, **header}, frames)
            except Exception as err:  # noqa: BLE001 - every failure goes back to the parent as a message
                text = f"{type(err).__name__}: {err}"
                log.debug("job %s failed:\n%s", job.get("op"), traceback.format_exc())
                protocol.send(conn, {"ok": False, "error": text[:MAX_ERROR_CHARS]})
            if job["op"] == "finish":
                judge.start_spares()  # while the parent is between candidates
    finally:
        judge.finish({})
        for spare in judge.spares:
            spare.close()


def main(argv: list[str]) -> None:
    fd, dsls = int(argv[0]), argv[1:]
    sock = socket.socket(fileno=fd)
    serve(Connection(sock.detach()), dsls)


if __name__ == "__main__":
    main(sys.argv[1:])
