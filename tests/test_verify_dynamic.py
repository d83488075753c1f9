"""Dynamic-shape kernels (torch.compile(dynamic=True)) are verified at sizes other than the recorded ones.

Inductor's C++ softmax kernel for a dynamic 64x48 input takes its sizes as ``ks0``/``ks1``. The interception records
each argument's layout and each size as expressions of the graph's symbols; the verifier adds correctness trials
with every symbol 3 above and 3 below its recorded value (sizes that are not multiples of the 16-lane vector
blocks), so a candidate that hard-codes the recorded sizes is caught even though it is exact at them; at other sizes
with the recorded sizes' alignment (48 -> 64, the next power of two, 2v), so one whose aligned path is hard-coded is
caught too (benchmarks/adversarial/cpp/c5_aligned_sizes_never_tried.cpp); then at about twice the recorded sizes
and at very small ones, so one exact only near the recorded sizes is caught too.
"""

from __future__ import annotations

import dataclasses
import re

import pytest
import torch
from conftest import only_dynamic_task

from aikg_inductor.task import KernelTask
from aikg_inductor.verify import values, verify_candidate
from aikg_inductor.verify.values import SMALL_SIZE, Trial, flat_sizes, size_variants, sized

ROWS, COLS = 64, 48


@pytest.fixture(scope="module")
def task() -> KernelTask:
    return only_dynamic_task(lambda x: torch.softmax(x * 0.125, -1), torch.randn(ROWS, COLS))


def symbol_of(task: KernelTask, param: str) -> str:
    return next(a.expr for a in task.args if a.param == param)


def hard_coded(task: KernelTask) -> str:
    """The baseline with its size arguments replaced by the recorded values inside the body."""
    head, body = task.source.split("\n{", 1)
    for arg in task.args:
        if arg.role == "size":
            body = re.sub(rf"\b{arg.param}\b", f"{arg.value}L", body)
    return head + "\n{" + body


def test_interception_records_symbolic_sizes(task):
    assert task.dynamic
    rows, cols = symbol_of(task, "ks0"), symbol_of(task, "ks1")
    assert dict(task.symbols) == {rows: ROWS, cols: COLS}
    x = next(a for a in task.args if a.param == "in_ptr0")
    assert x.layout.size == (ROWS, COLS) and x.layout.sym_size == (rows, cols) and x.layout.sym_stride == (cols, "1")
    assert KernelTask.from_json(task.to_json()) == task

    variants = size_variants(task)
    assert [dict(v) for v in variants] == [
        {rows: ROWS + 3, cols: COLS + 3}, {rows: ROWS - 3, cols: COLS - 3},  # near: masked tails
        # aligned: v + its power-of-two divisor (48 -> 64, 64 -> 128), the next power of two (the same here), 2v
        {rows: 2 * ROWS, cols: 64}, {rows: 2 * ROWS, cols: 2 * COLS},
        {rows: 2 * ROWS + 3, cols: 2 * COLS + 3}, {rows: SMALL_SIZE, cols: SMALL_SIZE}]  # far
    at = sized(task, Trial(0, symbols=variants[0]))
    assert next(a for a in at.args if a.param == "in_ptr0").layout.size == (ROWS + 3, COLS + 3)
    assert next(a for a in at.args if a.param == "ks1").value == COLS + 3
    assert at.key == task.key  # the same kernel, placed at other sizes


def storage_bytes(task: KernelTask, symbols) -> int:
    return sum(n * dtype.itemsize for dtype, n in filter(None, flat_sizes(task, Trial(0, symbols=symbols))))


def test_a_large_kernel_is_tried_far_from_its_sizes_within_twice_its_memory(task):
    """Recorded at 4096 rows of 8192 (128 MiB a tensor), both symbols doubled would take four times the memory:
    each symbol is doubled alone instead, the other one at its recorded size (aligned) or small (far), and no
    variant takes more than twice the recorded trial's storages (the judge's memory bound)."""
    rows, cols = symbol_of(task, "ks0"), symbol_of(task, "ks1")
    recorded = ((rows, 4096), (cols, 8192))
    large = dataclasses.replace(sized(task, Trial(0, symbols=recorded)), symbols=recorded)
    assert storage_bytes(large, recorded) > values.VARIANT_FREE_BYTES

    variants = [dict(v) for v in size_variants(large)]
    assert variants == [{rows: 4099, cols: 8195}, {rows: 4093, cols: 8189},
                        {rows: 8192, cols: 8192}, {rows: 4096, cols: 16384},  # aligned: all three growths agree
                        {rows: 8195, cols: SMALL_SIZE}, {rows: SMALL_SIZE, cols: 16387},
                        {rows: SMALL_SIZE, cols: SMALL_SIZE}]
    budget = values.VARIANT_BYTES_FACTOR * storage_bytes(large, recorded)
    assert all(storage_bytes(large, tuple(v.items())) <= budget for v in variants)
    assert storage_bytes(large, ((rows, 8195), (cols, 16387))) > budget  # why both are not doubled together


@pytest.mark.parametrize("recorded", [(64, 48), (1, 100), (512, 512), (3000, 4096), (4096, 6144)])
def test_every_even_size_is_also_tried_at_other_sizes_with_its_alignment(task, recorded):
    """For each symbol whose recorded value is a multiple of 2^k, some variant holds it at another multiple of 2^k
    (a kernel's no-tail path runs at a size other than the recorded one), its next power of two among them, within
    the memory bound; the near and far variants keep their tails (odd where the recorded size is even)."""
    names = (symbol_of(task, "ks0"), symbol_of(task, "ks1"))
    symbols = tuple(zip(names, recorded))
    at = dataclasses.replace(sized(task, Trial(0, symbols=symbols)), symbols=symbols)
    variants = [dict(v) for v in size_variants(at)]
    budget = max(values.VARIANT_BYTES_FACTOR * storage_bytes(at, symbols), values.VARIANT_FREE_BYTES)
    assert all(storage_bytes(at, tuple(v.items())) <= budget for v in variants)
    for name, value in symbols:
        alignment = value & -value
        if alignment > 1:
            assert any(v[name] != value and v[name] % alignment == 0 for v in variants), (name, value, variants)
            assert any(v[name] == 1 << value.bit_length() for v in variants), (name, value, variants)
        assert any(v[name] % 2 == 1 for v in variants)  # a masked tail


def test_the_baseline_is_correct_at_every_size(task, serial_pool):
    report = verify_candidate(task, task.source, pool=serial_pool)
    assert report.rule == "not-faster" and report.max_abs_error == 0, report.summary()
    assert len(report.size_variants) == 6
    assert sum(" at " in label for label in report.trials) == 6


def test_hard_coded_sizes_pass_at_the_recorded_size_and_fail_at_others(task, serial_pool):
    source = hard_coded(task)
    at_recorded = verify_candidate(task, source, pool=serial_pool, vary_sizes=False)
    assert at_recorded.rule in (None, "not-faster"), at_recorded.summary()
    assert at_recorded.max_abs_error < 1e-6

    report = verify_candidate(task, source, pool=serial_pool)
    assert report.rule in ("mismatch", "unwritten-output", "out-of-bounds-write"), report.summary()
    rows, cols = symbol_of(task, "ks0"), symbol_of(task, "ks1")
    assert f"{cols}={COLS + 3}" in report.reason and f"{rows}={ROWS + 3}" in report.reason, report.reason
