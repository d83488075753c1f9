"""Dynamic-shape kernels (torch.compile(dynamic=True)) are verified at sizes other than the recorded ones.

Inductor's C++ softmax kernel for a dynamic 64x48 input takes its sizes as ``ks0``/``ks1``. The interception records
each argument's layout and each size as expressions of the graph's symbols; the verifier adds correctness trials
with every symbol 3 above and 3 below its recorded value (sizes that are not multiples of the 16-lane vector
blocks), so a candidate that hard-codes the recorded sizes is caught even though it is exact at them.
"""

from __future__ import annotations

import re

import pytest
import torch

from aikg_inductor.backend import CompileSession, compile_graph
from aikg_inductor.options import resolve_options
from aikg_inductor.task import KernelTask
from aikg_inductor.verify import verify_candidate
from aikg_inductor.verify.values import Trial, size_variants, sized

ROWS, COLS = 64, 48


@pytest.fixture(scope="module")
def task() -> KernelTask:
    session = CompileSession(resolve_options({"mode": "off"}))
    torch.compiler.reset()
    compiled = torch.compile(lambda x: torch.softmax(x * 0.125, -1), dynamic=True,
                             backend=lambda gm, inputs: compile_graph(gm, inputs, session))
    with torch.no_grad():
        compiled(torch.randn(ROWS, COLS))
    (task,) = session.tasks.values()
    return task


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
    assert [dict(v) for v in variants] == [{rows: ROWS + 3, cols: COLS + 3}, {rows: ROWS - 3, cols: COLS - 3}]
    at = sized(task, Trial(0, symbols=variants[0]))
    assert next(a for a in at.args if a.param == "in_ptr0").layout.size == (ROWS + 3, COLS + 3)
    assert next(a for a in at.args if a.param == "ks1").value == COLS + 3
    assert at.key == task.key  # the same kernel, placed at other sizes


def test_the_baseline_is_correct_at_every_size(task, serial_pool):
    report = verify_candidate(task, task.source, pool=serial_pool)
    assert report.rule == "not-faster" and report.max_abs_error == 0, report.summary()
    assert len(report.size_variants) == 2
    assert sum(" at " in label for label in report.trials) == 2


def test_hard_coded_sizes_pass_at_the_recorded_size_and_fail_at_others(task, serial_pool):
    source = hard_coded(task)
    at_recorded = verify_candidate(task, source, pool=serial_pool, vary_sizes=False)
    assert at_recorded.rule in (None, "not-faster"), at_recorded.summary()
    assert at_recorded.max_abs_error < 1e-6

    report = verify_candidate(task, source, pool=serial_pool)
    assert report.rule in ("mismatch", "unwritten-output", "out-of-bounds-write"), report.summary()
    rows, cols = symbol_of(task, "ks0"), symbol_of(task, "ks1")
    assert f"{cols}={COLS + 3}" in report.reason and f"{rows}={ROWS + 3}" in report.reason, report.reason
