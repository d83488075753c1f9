"""The Triton launcher form (docs/kernel_contract.md): a candidate's own ``launch`` over its own ``@triton.jit``
kernels, with workspace from the harness.

The guard tests are static (milliseconds). The workspace tests check the allocator itself, then its one promise
through the real verifier under Triton's interpreter (TRITON_INTERPRET=1 in the worker) on Inductor's recorded
add+relu kernel, shrunk: nothing a call leaves in workspace reaches the next call. The accepted two-kernel split
reduction is tests/test_llm_fixtures.py's ``softmax_split_workspace_triton``; the rejected launchers are cases of
the adversarial suite (benchmarks/adversarial/triton/t*_launcher_*).
"""

from __future__ import annotations

import pytest
import torch

from aikg_inductor.dsl.triton_base import check_triton
from aikg_inductor.dsl.triton_launcher import Workspace, WorkspaceError, is_launcher_form
from aikg_inductor.verify import WorkerPool, verify_candidate
from conftest import REPO

pytest.importorskip("triton")

SPLIT_SOFTMAX = (REPO / "benchmarks" / "llm_fixtures" / "softmax_split_workspace_triton.py").read_text()


@pytest.fixture(scope="module")
def add_relu():
    from test_verify_triton_interpret import ADD_RELU, N, shrunk

    from aikg_inductor.task import TensorLayout

    layout = TensorLayout((64, 64), (64, 1), "float32")
    return shrunk(ADD_RELU, {"33554432": str(N)}, {"in_ptr0": layout, "in_ptr1": layout, "out_ptr0": layout},
                  {"xnumel": N})


@pytest.fixture(scope="module")
def softmax():
    from test_verify_triton_interpret import SOFTMAX, shrunk

    from aikg_inductor.task import TensorLayout

    layout = TensorLayout((2, 64), (64, 1), "float32")
    return shrunk(SOFTMAX, {"'x': 8192": "'x': 2", "xnumel = 8192": "xnumel = 2", "4096": "64"},
                  {"in_ptr0": layout, "out_ptr2": layout}, {"xnumel": 2, "r0_numel": 64})


IMPORTS = """import triton
import triton.language as tl

from torch._inductor.runtime import triton_helpers
triton_helpers.set_driver_to_gpu()


@triton.jit
def add_relu(in_ptr0, in_ptr1, out_ptr0, xnumel, XBLOCK: tl.constexpr):
    xindex = tl.program_id(0) * XBLOCK + tl.arange(0, XBLOCK)
    xmask = xindex < xnumel
    tmp = tl.load(in_ptr0 + xindex, xmask) + tl.load(in_ptr1 + xindex, xmask)
    tl.store(out_ptr0 + xindex, triton_helpers.maximum(tmp, 0.0), xmask)


"""


def launcher(body: str, head: str = "def launch(in_ptr0, in_ptr1, out_ptr0, xnumel, *, workspace):") -> str:
    return IMPORTS + head + "\n" + "\n".join("    " + line for line in body.strip().splitlines()) + "\n"


GOOD = "add_relu[(triton.cdiv(xnumel, 1024),)](in_ptr0, in_ptr1, out_ptr0, xnumel, XBLOCK=1024, num_warps=4)"


def test_the_split_reduction_and_inductors_own_forms_pass_the_guards(softmax, add_relu):
    from aikg_inductor.search.proposers.tuner import LaunchConfig, kernel_shape, with_fixed_config

    assert is_launcher_form(SPLIT_SOFTMAX) and not is_launcher_form(softmax.source)
    assert check_triton(softmax.source, SPLIT_SOFTMAX) is None
    assert check_triton(add_relu.source, launcher(GOOD)) is None
    assert check_triton(add_relu.source, launcher(
        "block = min(4096, max(128, triton.next_power_of_2(xnumel)))\n"
        "if xnumel > 0:\n    for part in range(2):\n        " + GOOD.replace("1024),)", "block),)"))) is None
    # Inductor's module form is judged exactly as before.
    assert check_triton(add_relu.source, add_relu.source) is None
    pinned = with_fixed_config(add_relu, kernel_shape(add_relu), LaunchConfig((("XBLOCK", 4096),), num_warps=8))
    assert check_triton(add_relu.source, pinned) is None


@pytest.mark.parametrize("source, rule", [
    (launcher(GOOD, "def launch(in_ptr0, out_ptr0, in_ptr1, xnumel, *, workspace):"), "guard:signature"),
    (launcher(GOOD, "def launch(in_ptr0, in_ptr1, out_ptr0, xnumel):"), "guard:signature"),
    (launcher(GOOD, "def launch(in_ptr0, in_ptr1, out_ptr0, xnumel: int, *, workspace):"), "guard:ast"),
    (launcher("n = in_ptr0.numel()\n" + GOOD), "guard:torch"),
    (launcher("n = in_ptr0 + 1\n" + GOOD), "guard:torch"),
    (launcher("in_ptr0.add_(1)\n" + GOOD), "guard:torch"),
    (launcher("scratch = workspace(xnumel, 'float32')\nscratch.zero_()\n" + GOOD), "guard:torch"),
    (launcher("scratch = workspace(xnumel, tl.float32)\n" + GOOD), "guard:ast"),
    (launcher("scratch = workspace(xnumel, 'float32', zeroed=xnumel > 3)\n" + GOOD), "guard:ast"),
    (launcher("while xnumel > 0:\n    " + GOOD), "guard:ast"),
    (launcher("global add_relu\n" + GOOD), "guard:ast"),
    (launcher("add_relu = triton_helpers.any_kernel\n" + GOOD), "guard:ast"),
    (launcher("grid = lambda meta: (1,)\n" + GOOD), "guard:ast"),
    (launcher("import os\n" + GOOD), "guard:ast"),
    (launcher("triton.knobs.cache_dir = '/tmp'\n" + GOOD), "guard:ast"),
    (launcher("n = add_relu.cache\n" + GOOD), "guard:ast"),
    (launcher("x = xnumel.__class__\n" + GOOD), "guard:ast"),
    (launcher(GOOD.replace("num_warps=4", "num_warps=4, warmup=True")), "guard:ast"),
    (launcher(GOOD.replace("add_relu[", "launch[")), "guard:ast"),
    (launcher("return 1"), "guard:ast"),
    (launcher(GOOD).replace("@triton.jit\ndef add_relu", "@triton_heuristics.pointwise(size_hints={'x': 4096})\n"
                                                          "@triton.jit\ndef add_relu"), "guard:ast"),
    (launcher(GOOD) + "launch.calls = 0\n", "guard:ast"),
])
def test_a_launcher_outside_the_allowlist_is_refused(add_relu, source, rule):
    violation = check_triton(add_relu.source, source)
    assert violation is not None and violation.rule == rule, violation


def test_workspace_is_fresh_poisoned_or_zeroed_and_bounded():
    workspace = Workspace(torch.device("cpu"), limit_bytes=64)
    poisoned = workspace(4, "float32")
    assert poisoned.dtype == torch.float32 and poisoned.shape == (4,) and poisoned.isnan().all()
    assert (workspace(4, "int32") == -1).all() and (workspace(2, "float16", zeroed=True) == 0).all()
    with pytest.raises(WorkspaceError, match="limit"):
        workspace(8, "float32")  # 16 + 16 + 4 bytes given out already: 32 more would pass 64
    with pytest.raises(WorkspaceError, match="dtype"):
        Workspace(torch.device("cpu"), 64)(1, "complex64")


@pytest.fixture(scope="module")
def pool():
    pool = WorkerPool(1, dsls=("triton-cuda",), threads=1, env={"TRITON_INTERPRET": "1"})
    yield pool
    pool.close()


# A kernel that caches its answer in workspace: the first call computes, stores the output and a marker there;
# later calls find the marker and copy the stored answer. Kept across calls it would be stale after the inputs
# change; the harness's fresh poisoned workspace never holds the marker, so every call computes.
MEMO = IMPORTS + """@triton.jit
def memo(in_ptr0, in_ptr1, out_ptr0, memory, xnumel, XBLOCK: tl.constexpr):
    xindex = tl.program_id(0) * XBLOCK + tl.arange(0, XBLOCK)
    xmask = xindex < xnumel
    marker = tl.load(memory + xnumel)
    if marker == 7.0:
        tl.store(out_ptr0 + xindex, tl.load(memory + xindex, xmask), xmask)
    else:
        tmp = tl.load(in_ptr0 + xindex, xmask) + tl.load(in_ptr1 + xindex, xmask)
        result = triton_helpers.maximum(tmp, 0.0)
        tl.store(out_ptr0 + xindex, result, xmask)
        tl.store(memory + xindex, result, xmask)
        tl.store(memory + xnumel, 7.0)


def launch(in_ptr0, in_ptr1, out_ptr0, xnumel, *, workspace):
    memory = workspace(xnumel + 1, "float32")
    memo[(1,)](in_ptr0, in_ptr1, out_ptr0, memory, xnumel, XBLOCK=triton.next_power_of_2(xnumel))
"""


def test_state_kept_in_workspace_does_not_survive_a_call(add_relu, pool):
    assert check_triton(add_relu.source, MEMO) is None, "the guard cannot see this: the verifier must"
    report = verify_candidate(add_relu, MEMO, pool=pool, timeout_s=60)
    # Neutralised: every call computed from its own inputs, across the trials and the timed calls' checks.
    assert report.rule in (None, "not-faster"), report.summary()
    assert report.max_abs_error == 0


def test_workspace_read_before_it_is_written_is_poison(add_relu, pool):
    # Takes the cached branch whenever the marker is not there: it reads workspace it never wrote, and the poison
    # (NaN) shows in every output.
    source = MEMO.replace("if marker == 7.0:", "if marker != 7.0:")
    report = verify_candidate(add_relu, source, pool=pool, timeout_s=60)
    assert report.verdict == "rejected" and report.rule in ("nan-inf-mismatch", "mismatch"), report.summary()
