"""Timed calls never see the same inputs twice (verify/fresh_values.py with timing.TimedCalls and measure).

A memo can live where no proof looks (review 17: 1 MiB below the kernel's frame); what the measurement controls is
whether it ever hits. These tests run the real ``measure`` with the real sets, redraw and batch lengths, and a Python
kernel that records every input it is called with.
"""

from __future__ import annotations

import hashlib
import random

import torch
from conftest import embedding_task, softmax_task

from aikg_inductor.verify.fresh_values import Redraw, timed_set_count, timed_sets
from aikg_inductor.verify.timing import TimedCalls, measure
from aikg_inductor.verify.values import as_bytes, build, call_values, timing_trial


def _storage(dtype: torch.dtype, n: int) -> torch.Tensor:
    return torch.empty(n, dtype=dtype)


def _recording_kernel(task, seen: list[bytes]):
    """A kernel that writes nothing and records a digest of every input it is handed."""
    inputs = [n for n, a in enumerate(task.args) if a.role in ("in", "in_out") and a.layout is not None]

    def kernel(*args) -> None:
        digest = hashlib.sha256()
        for n in inputs:
            digest.update(as_bytes(args[n].contiguous()).numpy().tobytes())
        seen.append(digest.digest())

    return kernel


def _measured_inputs(task, sets: int) -> tuple[list[bytes], int]:
    """The digests of the inputs of every sampled call one measurement makes, and the longest batch it asked for."""
    trial = timing_trial(3)
    flats = build(task, trial)
    ours = timed_sets(task, flats, sets, _storage)
    theirs = timed_sets(task, flats, sets, _storage)
    calls = TimedCalls.over(task, theirs, lambda: None)
    redraw = Redraw(task, trial, flats)
    seen: list[bytes] = []  # the candidate arm's calls (the baseline arm takes the same values, as the judge's does)
    candidate, baseline = _recording_kernel(task, seen), _recording_kernel(task, [])
    longest = []

    def begin(batch: int) -> None:
        longest.append(batch)
        calls.in_use = min(batch, sets)
        redraw(ours, theirs, calls.in_use)
        seen.clear()  # warm-up and calibration are not samples

    rng = random.Random(5)
    measure(lambda n: calls.seconds_per_call(baseline, n, rng.randrange(calls.in_use)),
            lambda n: calls.seconds_per_call(candidate, n, rng.randrange(calls.in_use)), 0.05, min_sample_s=1e-3,
            after_sample=lambda i, n: redraw(ours, theirs, calls.in_use), batch_lengths=random.Random(7),
            max_calls=sets, before_samples=begin)
    return seen, longest[0]


def test_no_sampled_call_sees_inputs_an_earlier_call_of_its_arm_saw():
    task = softmax_task()
    assert timed_set_count(task, timing_trial(0), "cpu") > 16  # 128 KiB an input: many sets on CPU
    seen, longest = _measured_inputs(task, 16)
    assert longest <= 16, "a batch is never longer than the sets it takes one per call"
    assert len(seen) > 3 * longest, "the measurement outlasts several rounds of the sets in use"
    assert len(set(seen)) == len(seen)


def test_integer_inputs_are_redrawn_within_their_legal_range():
    task = embedding_task()
    seen, _ = _measured_inputs(task, 8)
    assert len(set(seen)) == len(seen)
    trial = timing_trial(3)
    flats = build(task, trial)
    ours, theirs = timed_sets(task, flats, 8, _storage), timed_sets(task, flats, 8, _storage)
    Redraw(task, trial, flats)(ours, theirs, 8)
    position = next(n for n, a in enumerate(task.args) if a.layout and a.layout.dtype == "int64")
    rows = next(a for a in task.args if a.layout and a.layout.dtype == "float32").layout.size[0]
    for values in theirs:
        indices = call_values(task, values)[position]
        assert -rows <= int(indices.min()) and int(indices.max()) < rows


def test_the_sets_share_outputs_and_own_their_inputs():
    task = softmax_task()
    flats = build(task, timing_trial(0))
    sets = timed_sets(task, flats, 3, _storage)
    for arg, *storages in zip(task.args, *sets):
        if arg.layout is None:
            continue
        distinct = len({s.data_ptr() for s in storages})
        assert distinct == (3 if arg.role in ("in", "in_out") else 1), arg


def test_no_two_sets_or_measurements_draw_from_one_generator():
    """Each set's draw is seeded from the operating system's secret randomness: the same sets redrawn by two judges
    (or twice) differ, so what one set's inputs reveal of its generator says nothing of another's (review 18 solved
    MT19937's state from one call's input and predicted the sets after it)."""
    task = softmax_task()
    trial = timing_trial(0)
    flats = build(task, trial)
    drawn = []
    for _ in range(2):
        ours, theirs = timed_sets(task, flats, 3, _storage), timed_sets(task, flats, 3, _storage)
        Redraw(task, trial, flats)(ours, theirs, 3)
        drawn += [as_bytes(call_values(task, s)[0]).clone() for s in theirs]  # the input
    assert all(not torch.equal(a, b) for n, a in enumerate(drawn) for b in drawn[n + 1:])
