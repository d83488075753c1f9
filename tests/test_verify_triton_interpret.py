"""The verifier's adversarial cases with Triton kernels on CPU, under Triton's interpreter (TRITON_INTERPRET=1).

The kernels are Inductor's real CUDA-format Triton kernels recorded on an H100 (tests/fixtures/triton_tasks), shrunk
to a few thousand fp32 elements so the interpreter runs them in milliseconds: the size literals in the source and the
recorded layouts are rewritten together, the code is Inductor's. The verifier workers run with TRITON_INTERPRET=1, so
the triton-cuda task is loaded by Inductor's own CachingAutotuner (in its interpreter mode) and judged through the
same code path as on a GPU: guards, trials with NaN-poisoned outputs and guard bands, interleaved timing. The
candidates are the GPU run's (benchmarks/triton_cases.py).

Timings under the interpreter grow with the number of programs launched, so "slower" (j: 32-element blocks) and
"faster" (k: one program for the whole tensor) are real verdicts of the interpreter, not of a GPU; the report's
device says so.
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from aikg_inductor.dsl.triton_configs import LaunchConfig, kernel_shape, launch_config_of, with_fixed_config
from aikg_inductor.task import KernelTask, TensorLayout, task_key
from aikg_inductor.verify import VerificationReport, WorkerPool, verify_candidate
from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import triton_cases  # noqa: E402 - the GPU run's cases, shared

pytest.importorskip("triton")

FIXTURES = Path(__file__).parent / "fixtures" / "triton_tasks"
ADD_RELU = "c9f0ad37388794a60327e3a3cca574da6ee21cda922d451f489e6fb3679d7fef"  # relu(x + y), fp16 8192x4096
SOFTMAX = "b56c749519d8f96b8461a38cb1bfb5be2becffe47ef9a52ff0d5e13a9efd2c79"  # softmax(x, -1), fp16 8192x4096


def shrunk(key: str, literals: dict[str, str], layouts: dict[str, TensorLayout], sizes: dict[str, int]) -> KernelTask:
    """A recorded task at a smaller size and in fp32: the same kernel code with its size literals replaced."""
    task = KernelTask.load(FIXTURES / f"{key}.json")
    source = task.source.replace("'*fp16'", "'*fp32'")
    for old, new in literals.items():
        assert old in source, old
        source = source.replace(old, new)
    args = tuple(dataclasses.replace(a, layout=layouts.get(a.param, a.layout), value=sizes.get(a.param, a.value))
                 for a in task.args)
    assert all(a.layout is None or a.layout.dtype == "float32" for a in args)
    return dataclasses.replace(task, source=source, args=args, key=task_key(source, task.dsl, task.device_type,
                                                                          task.arch, task.torch_version,
                                                                          task.triton_version))


N = 4096


@pytest.fixture(scope="module")
def add_relu() -> KernelTask:
    layout = TensorLayout((64, 64), (64, 1), "float32")
    return shrunk(ADD_RELU, {"33554432": str(N)}, {"in_ptr0": layout, "in_ptr1": layout, "out_ptr0": layout},
                  {"xnumel": N})


@pytest.fixture(scope="module")
def softmax() -> KernelTask:
    # 2 rows of 64: the interpreter runs the max reduction's combine function once per element (about 2 ms each).
    rows, cols = 2, 64
    layout = TensorLayout((rows, cols), (cols, 1), "float32")
    return shrunk(SOFTMAX, {"'x': 8192": f"'x': {rows}", "xnumel = 8192": f"xnumel = {rows}", "4096": str(cols)},
                  {"in_ptr0": layout, "out_ptr2": layout}, {"xnumel": rows, "r0_numel": cols})


@pytest.fixture(scope="module")
def pool():
    pool = WorkerPool(1, dsls=("triton-cuda",), threads=1, env={"TRITON_INTERPRET": "1"})
    yield pool
    pool.close()


def verify(task: KernelTask, source: str, pool: WorkerPool, **kwargs) -> VerificationReport:
    report = verify_candidate(task, source, pool=pool, **kwargs)
    assert VerificationReport.from_dict(report.to_dict()) == report
    return report


def case_names() -> list:
    """Every case of the shared module; the hang (a 10 s timeout) is marked slow."""
    names = ["a wrong value in a corner", "b writes part of the output", "c hangs", "d illegal address",
             "e returns a result cached from an earlier call", "f mutates an input", "g calls torch",
             "g reaches torch through Inductor's runtime", "h writes out of bounds", "h reads out of bounds",
             "i opens a file", "i runs a subprocess", "i opens a socket", "i reaches os through Inductor's runtime",
             "i imports os from Inductor's runtime", "j correct but slower"]
    return [pytest.param(n, marks=pytest.mark.slow) if n == "c hangs" else n for n in names]


def test_the_cases_cover_the_shared_module(add_relu):
    assert {p if isinstance(p, str) else p.values[0] for p in case_names()} == set(triton_cases.variants(add_relu))


@pytest.mark.parametrize("name", case_names())
def test_adversarial_case_is_rejected_with_its_rule(add_relu, pool, name):
    source, rules = triton_cases.variants(add_relu)[name]
    report = verify(add_relu, source, pool, timeout_s=10 if name.startswith("c ") else 30)
    assert report.verdict == "rejected", report.summary()
    assert report.rule in rules, report.summary()
    if report.rule.startswith("guard:"):
        assert report.elapsed_s < 1, "a guard rejects before any worker is involved"
    if name.startswith("d "):
        assert "SIGSEGV" in report.reason
    if name.startswith("j "):
        assert report.max_abs_error == 0 and report.speedup < 1
        assert "Triton interpreter" in report.device


def test_a_crash_ends_the_candidates_runner_and_the_judge_goes_on(add_relu, pool):
    before = set(pool.pids())
    crash, _ = triton_cases.variants(add_relu)["d illegal address"]
    assert verify(add_relu, crash, pool).rule == "crash"
    assert set(pool.pids()) == before, "the judge never ran the candidate: it survives and is kept"
    partial, _ = triton_cases.variants(add_relu)["b writes part of the output"]
    assert verify(add_relu, partial, pool).rule == "unwritten-output"


def test_k_correct_and_faster_is_accepted(add_relu, pool):
    # One program for the whole tensor instead of Inductor's 16: the interpreter runs it several times faster.
    source = with_fixed_config(add_relu, kernel_shape(add_relu), LaunchConfig((("XBLOCK", N),), num_warps=8))
    report = verify(add_relu, source, pool)
    assert report.accepted, report.summary()
    assert report.speedup > 1.03 and len(report.baseline_s) == 2
    assert report.max_abs_error == 0 and report.tolerances == {"float32": [1e-5, 1e-5]}
    assert {"large", "tiny", "negative-zero-rows"} <= set(report.trials)
    assert "Triton interpreter" in report.device


def whole_row(softmax: KernelTask) -> str:
    """The tuner's whole-row configuration of Inductor's looped online-softmax kernel."""
    return with_fixed_config(softmax, kernel_shape(softmax), LaunchConfig((("XBLOCK", 1), ("R0_BLOCK", 64)), 8))


def test_a_reduction_kernel_with_a_wrong_tuner_config_is_rejected(softmax, pool):
    # Inductor's looped online softmax (libdevice.exp, a max reduction) as a tuner configuration, with one term off.
    source = whole_row(softmax)
    store = "tl.store(out_ptr2 + (r0_1 + 64*x0), tmp"
    assert store in source
    report = verify(softmax, source.replace(store, "tl.store(out_ptr2 + (r0_1 + 64*x0), 1.01*tmp", 1), pool)
    assert report.rule == "mismatch", report.summary()


@pytest.mark.slow
def test_a_reduction_kernel_with_a_tuner_config_is_correct(softmax, pool):
    report = verify(softmax, whole_row(softmax), pool)
    assert report.rule in (None, "not-faster"), report.summary()
    assert report.max_abs_error is not None and report.max_abs_error < 1e-6


def test_only_the_baselines_own_kernel_with_bounded_launch_parameters_is_a_baseline_variant(add_relu):
    shape = kernel_shape(add_relu)
    variant = with_fixed_config(add_relu, shape, LaunchConfig((("XBLOCK", 256),), num_warps=4))
    assert launch_config_of(add_relu, variant) == LaunchConfig((("XBLOCK", 256),), num_warps=4)
    assert launch_config_of(add_relu, add_relu.source) is None, "Inductor's heuristic decorator is not a variant"
    store = "tl.store(out_ptr0 + (x0), tmp"
    assert store in variant
    assert launch_config_of(add_relu, variant.replace(store, store.replace("tmp", "2*tmp"), 1)) is None
    assert launch_config_of(add_relu, variant + "\nimport os\n") is None
    for wild in (LaunchConfig((("XBLOCK", 384),), 4), LaunchConfig((("XBLOCK", 256),), 64),
                 LaunchConfig((("XBLOCK", 256),), 4, num_stages=9), LaunchConfig((("XBLOCK", 1 << 20),), 4),
                 LaunchConfig((("XBLOCK", 256), ("YBLOCK", 2)), 4)):
        assert launch_config_of(add_relu, with_fixed_config(add_relu, shape, wild)) is None, wild


def test_a_baseline_variant_is_judged_in_process_and_anything_else_in_a_runner(softmax, pool):
    """The tuner's configurations need no runner start (seconds on a GPU); one changed term sends the same source
    to a sandboxed runner, where it is judged (and here rejected) as any candidate is."""
    variant = verify(softmax, whole_row(softmax), pool)
    assert variant.in_process and not variant.sandbox and variant.max_abs_error is not None, variant.summary()
    assert "judged in-process" in variant.summary()
    store = "tl.store(out_ptr2 + (r0_1 + 64*x0), tmp"
    edited = verify(softmax, whole_row(softmax).replace(store, "tl.store(out_ptr2 + (r0_1 + 64*x0), 1.01*tmp", 1),
                    pool)
    assert not edited.in_process and edited.sandbox and edited.rule == "mismatch", edited.summary()
