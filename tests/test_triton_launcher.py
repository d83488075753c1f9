"""The Triton launcher form (docs/kernel_contract.md): a candidate's own ``launch`` over its own ``@triton.jit``
kernels, with workspace from the harness.

The guard tests are static (milliseconds). The workspace tests check the allocator itself, then its one promise
through the real verifier under Triton's interpreter (TRITON_INTERPRET=1 in the worker) on Inductor's recorded
add+relu kernel, shrunk: nothing a call leaves in workspace reaches the next call. The accepted two-kernel split
reduction is tests/test_llm_fixtures.py's ``softmax_split_workspace_triton``; the rejected launchers are cases of
the adversarial suite (benchmarks/adversarial/triton/t*_launcher_*).

The last tests run accepted launchers inside ``torch.compile(backend="aikg")``: Inductor compiles CPU tensors' kernels
to Triton there, and its own wrapper calls the bound launcher under Triton's interpreter.
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


def test_workspace_fills_the_whole_block_the_cuda_allocator_would_give():
    workspace = Workspace(torch.device("cpu"), limit_bytes=1 << 30)
    for numel, block in ((3, 512), ((1 << 18) + 1, 2 << 20)):  # 12 bytes; 1 MiB and 4 bytes
        given = workspace(numel, "float32")
        whole = torch.empty(0, dtype=torch.uint8).set_(given.untyped_storage())
        assert given.numel() == numel and whole.numel() == block and (whole == 0xFF).all()


@pytest.fixture(scope="module")
def pool():
    pool = WorkerPool(1, dsls=("triton-cuda",), threads=1, env={"TRITON_INTERPRET": "1"})
    yield pool
    pool.close()


# A kernel that caches its answer in workspace: the first call computes, stores the output and a marker there;
# later calls find the marker and copy the stored answer. Kept across calls it would be stale after the inputs
# change; the harness's fresh poisoned workspace never holds the marker, so every call computes.
def memo_launcher(imports: str, result: str) -> str:
    """A launcher whose kernel computes ``result`` (from ``tmp``, the sum of its two inputs) on a call that finds no
    marker in workspace, and keeps the answer and a marker there; a call that finds the marker copies the answer."""
    return imports + f"""@triton.jit
def memo(in_ptr0, in_ptr1, out_ptr0, memory, xnumel, XBLOCK: tl.constexpr):
    xindex = tl.program_id(0) * XBLOCK + tl.arange(0, XBLOCK)
    xmask = xindex < xnumel
    marker = tl.load(memory + xnumel)
    if marker == 7.0:
        tl.store(out_ptr0 + xindex, tl.load(memory + xindex, xmask), xmask)
    else:
        tmp = tl.load(in_ptr0 + xindex, xmask) + tl.load(in_ptr1 + xindex, xmask)
        result = {result}
        tl.store(out_ptr0 + xindex, result, xmask)
        tl.store(memory + xindex, result, xmask)
        tl.store(memory + xnumel, 7.0)


def launch(in_ptr0, in_ptr1, out_ptr0, xnumel, *, workspace):
    memory = workspace(xnumel + 1, "float32")
    memo[(1,)](in_ptr0, in_ptr1, out_ptr0, memory, xnumel, XBLOCK=triton.next_power_of_2(xnumel))
"""


MEMO = memo_launcher(IMPORTS, "triton_helpers.maximum(tmp, 0.0)")


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


# ------------------------------------------------------------------------------------ inside torch.compile
# An accepted launcher-form kernel replaces Inductor's in a compiled model: Inductor's Triton kernels for CPU tensors
# (cpu_backend="triton") run under Triton's interpreter, through Inductor's own wrapper and async_compile.


@pytest.fixture
def cpu_triton(monkeypatch):
    """Inductor compiles CPU kernels to Triton, which Triton's interpreter runs. TEST DOUBLE for one function:
    Inductor's Triton codegen writes a hash of the active Triton driver into each kernel's metadata, and this machine
    has no Triton driver (no GPU, no Triton CPU backend); the interpreter needs none and never reads the hash.
    The models here compile to kernels that call no ``triton_helpers`` function: those became compiled-only Triton
    functions when this process imported them, before the interpreter was turned on."""
    import torch.utils._triton as torch_triton

    monkeypatch.setenv("TRITON_INTERPRET", "1")
    monkeypatch.setattr(torch_triton, "triton_hash_with_backend", lambda: "TEST-DOUBLE-NO-TRITON-DRIVER")
    with torch._inductor.config.patch(cpu_backend="triton"):
        yield


TIMES_TWO = """import triton
import triton.language as tl


@triton.jit
def times_two(in_ptr0, out_ptr0, scratch, xnumel, XBLOCK: tl.constexpr):
    xindex = tl.program_id(0) * XBLOCK + tl.arange(0, XBLOCK)
    xmask = xindex < xnumel
    tl.store(scratch + xindex, tl.load(in_ptr0 + xindex, xmask) * 2.0, xmask)
    tl.store(out_ptr0 + xindex, tl.load(scratch + xindex, xmask), xmask)


def launch(in_ptr0, out_ptr0, xnumel, *, workspace):
    scratch = workspace(xnumel, "float32")
    times_two[(triton.cdiv(xnumel, 16),)](in_ptr0, out_ptr0, scratch, xnumel, XBLOCK=16)
"""


def compile_from_cache(fn, cache_dir):
    torch.compiler.reset()
    return torch.compile(fn, backend="aikg", options={"mode": "cache", "cache_dir": str(cache_dir),
                                                      "print_choices": True})


def bound_kernels(wrapper_code: str) -> list:
    """The kernel objects our binding put in the kernel modules the compiled wrapper ``wrapper_code`` loaded."""
    import re

    from torch._inductor.codecache import PyCodeCache

    from aikg_inductor.torch_internals.bound_kernel import BoundKernel

    names = re.findall(r"^(\w+) = _aikg_bind_for_inductor\(launch, ", wrapper_code, re.MULTILINE)
    found = {id(k): k for m in PyCodeCache.modules for n in names if isinstance(k := getattr(m, n, None), BoundKernel)}
    return list(found.values())


def test_an_accepted_launcher_runs_inside_torch_compile(cpu_triton, cache_dir, capsys):
    from torch._inductor.utils import run_and_get_code

    from aikg_inductor import KernelCache
    from cache_entries import accepted_entry
    from conftest import double, only_task

    x = torch.randn(100)
    task = only_task(double, x)
    assert task.dsl == "triton-cuda" and task.device_type == "cpu"  # a Triton task, run by the interpreter here
    assert check_triton(task.source, TIMES_TWO) is None
    KernelCache(cache_dir).put(accepted_entry(task, TIMES_TWO))

    compiled = compile_from_cache(double, cache_dir)
    out, (wrapper,) = run_and_get_code(compiled, x)
    assert f"({task.name}): replaced from the cache" in capsys.readouterr().err
    torch.testing.assert_close(out, x * 2, rtol=0, atol=0)
    (kernel,) = bound_kernels(wrapper)  # Inductor's wrapper loaded our module and calls the bound launcher
    calls = kernel.calls
    y = torch.randn(100)
    torch.testing.assert_close(compiled(y), y * 2, rtol=0, atol=0)
    assert kernel.calls == calls + 1


# MEMO's scheme for ``a + b``: the first call computes and keeps its answer and a marker in workspace; a call that
# finds the marker copies the kept answer.
ADD_MEMO = memo_launcher("import triton\nimport triton.language as tl\n\n\n", "tmp")


def test_workspace_inside_a_compiled_model_is_fresh_on_every_call(cpu_triton, cache_dir):
    from aikg_inductor import KernelCache
    from cache_entries import accepted_entry
    from conftest import only_task

    def add(a, b):
        return a + b

    task = only_task(add, torch.randn(64), torch.randn(64))
    assert check_triton(task.source, ADD_MEMO) is None
    KernelCache(cache_dir).put(accepted_entry(task, ADD_MEMO))
    compiled = compile_from_cache(add, cache_dir)
    for _ in range(3):  # workspace kept from an earlier call would hold the marker and the first call's sum
        a, b = torch.randn(64), torch.randn(64)
        torch.testing.assert_close(compiled(a, b), a + b, rtol=0, atol=0)


def test_a_cached_launcher_the_guards_refuse_on_use_keeps_inductors_kernel(cpu_triton, cache_dir, capsys):
    from aikg_inductor import KernelCache
    from cache_entries import accepted_entry
    from conftest import double, only_task

    x = torch.randn(100)
    task = only_task(double, x)
    tampered = TIMES_TWO.replace('    scratch = workspace(', '    import os\n    scratch = workspace(')
    KernelCache(cache_dir).put(accepted_entry(task, tampered))  # signed by the cache: only the guards stand in its way
    torch.testing.assert_close(compile_from_cache(double, cache_dir)(x), x * 2, rtol=0, atol=0)
    assert "Inductor's kept: the cached kernel fails the static guards now (guard:ast" in capsys.readouterr().err


def test_a_launcher_is_not_bound_where_inductors_wrapper_cannot_call_it(cpu_triton, cache_dir, capsys):
    from aikg_inductor import KernelCache
    from cache_entries import accepted_entry
    from conftest import double, only_task

    x = torch.randn(100)
    task = only_task(double, x)
    KernelCache(cache_dir).put(accepted_entry(task, TIMES_TWO))
    with torch._inductor.config.patch({"triton.multi_kernel": 1}):
        torch.testing.assert_close(compile_from_cache(double, cache_dir)(x), x * 2, rtol=0, atol=0)
    assert ("Inductor's kept: the cached kernel brings its own launcher, which this compile cannot call: Inductor's "
            "multi-kernel dispatch") in capsys.readouterr().err


def test_a_bound_launcher_comes_back_from_inductors_parallel_compile_worker(cpu_triton):
    """A parallel compile worker (GPU compiles) imports the kernel module, precompiles the object under the kernel's
    name and pickles it back; the parent then restores and precompiles it. Inductor's worker function runs here in
    this process (its pool's processes are what only a GPU compile starts), the pickling is the pool's."""
    import functools
    import pickle

    from torch._inductor.codecache import _load_triton_kernel_from_source
    from torch._inductor.runtime.compile_tasks import _worker_compile_triton

    from aikg_inductor.dsl.triton_launcher import with_inductor_binding
    from aikg_inductor.torch_internals.kernels import prepare_source_for_loading

    name = "triton_unk_fused_mul_0"
    source = prepare_source_for_loading(with_inductor_binding(TIMES_TWO), name)
    kernel, _ = _worker_compile_triton(functools.partial(_load_triton_kernel_from_source, name, source), {}, {})
    back = pickle.loads(pickle.dumps(kernel, pickle.HIGHEST_PROTOCOL))
    back.set_compile_info(None, False)
    back.restore_after_unpickle(old_values=None)
    back.precompile(warm_cache_only=False, reload_kernel=None, static_triton_bundle_key=None)
    assert back.autotune_cache_info is None
    x, out = torch.randn(40), torch.full((40,), float("nan"))
    back.run(x, out, 40, stream=0)
    torch.testing.assert_close(out, x * 2, rtol=0, atol=0)
    with pytest.raises(TypeError, match="by position only"):
        back.run(x, out, xnumel=40, stream=0)
