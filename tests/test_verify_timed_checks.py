"""Outputs are checked on timed calls: kernels that are right in the correctness trials but skip work while timed.

The candidates are Inductor's real softmax kernel for ``softmax(x * 0.125)`` (C++, 64x512 fp32) with a few lines
added at the top that return early when the live output already seems to hold the answer. In the correctness trials
the judge pre-fills outputs with NaN, so they compute; while timed they would skip every call after the first and
look many times faster. The judge's fresh values at random timed calls catch the first; the second keeps its key in
a scratch output, which timed calls poison again every time.
"""

from __future__ import annotations

import threading
import time

import pytest
import torch
from conftest import BODY_END, BODY_START, only_task, softmax_task

from aikg_inductor.task import KernelTask
from aikg_inductor.verify import WorkerPool, verify_candidate
from aikg_inductor.verify.judge import LATE_WRITE_PAUSE_S, _late_write
from aikg_inductor.verify.values import Trial

# The output is not NaN: it was computed by an earlier call; skip.
SKIP_WHEN_WRITTEN = "if (out_ptr4[0] == out_ptr4[0]) return;"
# ... and the first input element is the one seen last time (kept in a scratch output nobody reads): skip.
SKIP_WHEN_SAMPLE_UNCHANGED = "if (out_ptr4[0] == out_ptr4[0] && out_ptr1[0] == in_ptr0[0]) return;"


@pytest.fixture(scope="module")
def task() -> KernelTask:
    return softmax_task()


@pytest.fixture(scope="module")
def pool():
    pool = WorkerPool(1, threads=1)
    yield pool
    pool.close()


def skipping(task: KernelTask, check: str) -> str:
    source = task.source.replace(BODY_START, BODY_START + "\n    " + check, 1)
    # The sample is remembered at the end (out_ptr1 is a scratch output: anything may land there).
    return source.replace(BODY_END, "    out_ptr1[0] = in_ptr0[0];\n" + BODY_END, 1)


def test_a_kernel_that_skips_when_the_answer_seems_there_is_stale(task, pool):
    report = verify_candidate(task, skipping(task, SKIP_WHEN_WRITTEN), pool=pool, seed=11)
    assert report.rule == "stale-output", report.summary()
    assert report.max_abs_error == 0, "it is right in every correctness trial: only the timed checks catch it"


def test_a_key_kept_in_a_scratch_output_never_survives_to_the_next_timed_call(task, pool):
    """Scratch outputs are poisoned again before every timed call: the kernel finds no key, computes every time,
    and is no faster than the baseline it copies."""
    report = verify_candidate(task, skipping(task, SKIP_WHEN_SAMPLE_UNCHANGED), pool=pool, seed=11)
    assert report.rule == "not-faster" and report.speedup is not None and report.speedup < 1.1, report.summary()


def test_the_baseline_itself_passes_the_timed_checks(task, pool):
    report = verify_candidate(task, task.source, pool=pool, seed=12)
    assert report.rule == "not-faster", report.summary()
    assert len(report.baseline_s) >= 1 and report.sandbox, report.summary()


def test_work_finishing_after_return_is_a_late_write():
    """A test double for a kernel's helper thread (no kernel the static proof accepts can start one): it writes the
    output 50 ms after the call returned; the judge's second look, after its pause, sees the change."""
    task = only_task(lambda x: x * 2, torch.randn(8, 8))
    out = next(i for i, a in enumerate(task.tensor_args) if a.role == "out")
    storages = [torch.zeros(64 + 2048) for _ in task.tensor_args]
    assert _late_write(task, Trial(0), storages, storages) is None  # nothing moves: no failure

    def finish_later() -> None:
        time.sleep(LATE_WRITE_PAUSE_S / 4)
        storages[out][1024:1088] = 1.0

    helper = threading.Thread(target=finish_later)
    helper.start()
    failure = _late_write(task, Trial(0), storages, storages)
    helper.join()
    assert failure is not None and failure.rule == "late-write", failure


def test_a_write_into_the_padding_between_storages_is_an_out_of_bounds_write(task, pool):
    """out_ptr0 (64 bools) sits between 4 KiB guard bands, and its storage ends 192 bytes short of the next 256-byte
    boundary: a write just past the trailing band lands in that padding, touching no band. The judge checks it."""
    padding = task.source.replace(BODY_END, "    out_ptr0[64 + 4096 + 8] = true;\n" + BODY_END, 1)
    report = verify_candidate(task, padding, pool=pool, seed=13)
    assert report.rule == "out-of-bounds-write" and "padding" in report.reason, report.summary()


@pytest.mark.slow
def test_inductors_own_column_sum_is_never_judged_faster_than_itself():
    # A memory-bound kernel whose speed depends on where its buffers lie in physical memory: timed on the judge's
    # copy against the candidate on the shared arena, it was judged 1.07-1.15x faster than itself in 4 of 8
    # verifications; the control arm, on the candidate's own storages, makes that difference the noise.
    def bias_relu_colsum(x: torch.Tensor, bias: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.relu(x + bias)  # examples/bias_add_relu_colsum.py
        return y, y.sum(dim=0)

    task = only_task(bias_relu_colsum, torch.randn(256, 192), torch.randn(192))
    pool = WorkerPool(1, threads=1)
    try:
        verdicts = [verify_candidate(task, f"{task.source}\n// copy {i}\n", pool=pool) for i in range(6)]
    finally:
        pool.close()
    assert not [r.summary() for r in verdicts if r.accepted]
