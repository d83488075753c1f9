"""C++ candidates' workspace (aikg_inductor/dsl/cpp_workspace.py): scratch memory from aikg, refilled every call.

A correct two-pass softmax keeping its row maxima and sums in workspace is judged correct by the real verifier; each
workspace is a mapping of its own, whole pages between two PROT_NONE guard pages, every usable byte filled, so what a
call leaves in workspace (and past its end, in the page's slack) is gone at the next call, and the released mapping
is gone from the process (a read after release faults); a workspace left mapped past a call is counted and refused
(heap-kept); memory mappings are reachable only through aikg's own workspace functions, as aikg compiles them (a
candidate's own function under their name is refused by the object proof, a direct malloc too); and the source the
backend hands Inductor compiles and runs in a compiled model.
"""

from __future__ import annotations

import ctypes

import pytest
import torch
from cache_entries import accepted_entry
from conftest import double, only_task, softmax_task

from aikg_inductor import KernelCache
from aikg_inductor.dsl import adapter_for
from aikg_inductor.dsl.cpp_cpu import HEADER_PROBE
from aikg_inductor.dsl.cpp_objcheck import check_object, heap_function, read_object
from aikg_inductor.dsl.cpp_workspace import PAGE_BYTES, WORKSPACE_PROBE, live_mappings, with_workspace
from aikg_inductor.torch_internals import kernels
from aikg_inductor.verify import WorkerPool, verify_candidate

ROWS, COLS, N = 64, 512, 64

# softmax(x * 0.125) over 64x512 (tests/test_verify_adversarial.py's task): pass 1 keeps each row's maximum in
# workspace, pass 2 writes exp and keeps each row's sum in zeroed workspace, pass 3 scales. Scratch outputs unwritten.
TWO_PASS_SOFTMAX = """#include <torch/csrc/inductor/cpp_prefix.h>
extern "C" void Placeholder.KERNEL_NAME(const float* in_ptr0, bool* out_ptr0, float* out_ptr1, float* out_ptr2,
                                        float* out_ptr3, float* out_ptr4)
{
    using Vec = at::vec::Vectorized<float>;
    const Vec scale(0.125f);
    aikg::Workspace<float> maxima(64);
    aikg::Workspace<float> sums(64, /*zeroed=*/true);
    float* row_max = maxima.data();
    float* row_sum = sums.data();
    if (!row_max || !row_sum) return;
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        Vec vmax(-std::numeric_limits<float>::infinity());
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            vmax = at::vec::maximum(vmax, Vec::loadu(in_ptr0 + 512 * x0 + x1) * scale);
        row_max[x0] = at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return at::vec::maximum(a, b); }, vmax);
    }
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const Vec vm(row_max[x0]);
        Vec vsum(0.0f);
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
        {
            Vec e = (Vec::loadu(in_ptr0 + 512 * x0 + x1) * scale - vm).exp();
            e.store(out_ptr4 + 512 * x0 + x1);
            vsum = vsum + e;
        }
        row_sum[x0] += at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return a + b; }, vsum);
    }
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const Vec vinv(1.0f / row_sum[x0]);
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            (Vec::loadu(out_ptr4 + 512 * x0 + x1) * vinv).store(out_ptr4 + 512 * x0 + x1);
    }
}
"""

# x * 2 on float[64]. Each call reports in out_ptr0[0..61] what its workspace held when it got it, then leaves a memo
# (42) there: 60 floats asked for, and 2 more past them in the block's slack (the block is larger than asked).
WORKSPACE_SPY = """#include <torch/csrc/inductor/cpp_prefix.h>
extern "C" void Placeholder.KERNEL_NAME(const float* in_ptr0, float* out_ptr0)
{{
    aikg::Workspace<float> ws(60{zeroed});
    for (int i = 0; i < 62; ++i) out_ptr0[i] = ws.data()[i];
    for (int i = 0; i < 62; ++i) ws.data()[i] = 42.0f;
}}
"""

# Leaves 42 in its workspace and the block's address in out_ptr0[0..1] (a stale pointer, as a kernel could keep one
# in an uninitialised stack slot for its next call).
WORKSPACE_ADDRESS = """#include <torch/csrc/inductor/cpp_prefix.h>
extern "C" void Placeholder.KERNEL_NAME(const float* in_ptr0, float* out_ptr0)
{
    aikg::Workspace<float> ws(60);
    for (int i = 0; i < 60; ++i) ws.data()[i] = 42.0f;
    float* block = ws.data();
    __builtin_memcpy(out_ptr0, &block, sizeof(block));
}
"""

# x * 2 on float[64] that leaves its workspace of 1500 floats (6000 bytes: two pages, the second part slack) mapped:
# built in a union whose destructor does not end it (no placement new, no explicit destructor call: the source guards
# pass it). Its address goes to out_ptr0[0..1], and nothing is written into it.
WORKSPACE_KEPT = """#include <torch/csrc/inductor/cpp_prefix.h>
extern "C" void Placeholder.KERNEL_NAME(const float* in_ptr0, float* out_ptr0)
{{
    union Kept {{ aikg::Workspace<float> ws; Kept() : ws(1500{zeroed}) {{}} ~Kept() {{}} }} kept;
    for (int i = 0; i < 64; ++i) out_ptr0[i] = in_ptr0[i] * 2.0f;
    float* block = kept.ws.data();
    __builtin_memcpy(out_ptr0, &block, sizeof(block));
}}
"""

# x * 3 on float[64], through workspace: what the backend serves from the cache must compile and run.
TIMES_THREE_VIA_WORKSPACE = """#include <torch/csrc/inductor/cpp_prefix.h>
extern "C" void Placeholder.KERNEL_NAME(const float* in_ptr0, float* out_ptr0)
{
    aikg::Workspace<float> ws(64);
    for (int64_t i = 0; i < 64; ++i) ws.data()[i] = in_ptr0[i] * 3.0f;
    for (int64_t i = 0; i < 64; ++i) out_ptr0[i] = ws.data()[i];
}
"""


def test_a_two_pass_kernel_keeping_rows_in_workspace_is_judged_correct():
    task = softmax_task()
    pool = WorkerPool(1, threads=1)
    try:
        report = verify_candidate(task, TWO_PASS_SOFTMAX, pool=pool)
    finally:
        pool.close()
    # Correct on every trial and kept no heap: accepted, or at worst not faster on a busy machine.
    assert report.rule in (None, "not-faster"), report.summary()
    assert report.max_abs_error is not None and report.max_abs_error < 1e-5
    assert len(report.trials) >= 4


def test_what_a_call_leaves_in_workspace_is_gone_at_the_next_call():
    task = only_task(double, torch.randn(N))
    adapter = adapter_for(task.dsl)
    for zeroed, fill in (("", float("nan")), (", true", 0.0)):
        kernel = adapter.load_prepared(adapter.prepare(task, WORKSPACE_SPY.format(zeroed=zeroed)))
        for _ in range(3):  # a fresh mapping every call, often at the same address, and filled
            out = torch.zeros(N)
            kernel(torch.randn(N), out)
            seen = out[:62]
            assert (seen.isnan().all() if fill != fill else (seen == fill).all()), seen
            assert not (seen == 42.0).any()


def mappings_around(address: int, usable: int) -> list[tuple[int, int, str]]:
    """(start, end, permissions) of this process's mappings that touch a workspace's span at ``address``: the page
    before it, its ``usable`` bytes and the page after them, in address order."""
    found = []
    with open("/proc/self/maps") as maps:
        for line in maps:
            span, perms = line.split()[:2]
            start, end = (int(part, 16) for part in span.split("-"))
            if start < address + usable + PAGE_BYTES and end > address - PAGE_BYTES:
                found.append((start, end, perms))
    return found


@pytest.mark.parametrize("zeroed, byte", [("", 0xFF), (", true", 0x00)])
def test_a_workspace_is_whole_filled_pages_between_guard_pages(zeroed, byte):
    task = only_task(double, torch.randn(N))
    adapter = adapter_for(task.dsl)
    kernel = adapter.load_prepared(adapter.prepare(task, WORKSPACE_KEPT.format(zeroed=zeroed)))
    before = live_mappings()
    out = torch.zeros(N)
    kernel(torch.randn(N), out)
    address = int(out[:2].view(torch.int64)[0])
    assert address % PAGE_BYTES == 0
    # The kept workspace is counted: one shared mapping more than before the call.
    assert live_mappings() == before + 1
    # 6000 bytes asked: two usable pages, read-write, between a PROT_NONE page below and one above, nothing else.
    assert mappings_around(address, 2 * PAGE_BYTES) == [(address - PAGE_BYTES, address, "---s"),
                                        (address, address + 2 * PAGE_BYTES, "rw-s"),
                                        (address + 2 * PAGE_BYTES, address + 3 * PAGE_BYTES, "---s")]
    # Every byte of both pages filled, the slack past the 6000 asked for too (a fresh shared page reads zeros:
    # 0xFF there is the fill's).
    assert ctypes.string_at(address, 2 * PAGE_BYTES) == bytes([byte]) * (2 * PAGE_BYTES)


def test_a_released_workspace_is_unmapped_guard_pages_and_all():
    task = only_task(double, torch.randn(N))
    adapter = adapter_for(task.dsl)
    kernel = adapter.load_prepared(adapter.prepare(task, WORKSPACE_ADDRESS))
    before = live_mappings()
    out = torch.zeros(N)
    kernel(torch.randn(N), out)
    address = int(out[:2].view(torch.int64)[0])
    # No page of it left: a read after release faults, in this process (no MALLOC_PERTURB_, as a user's) as in the
    # runner, and the count is back where it was.
    assert address % PAGE_BYTES == 0
    assert mappings_around(address, PAGE_BYTES) == []  # 60 floats: one page
    assert live_mappings() == before


def test_a_workspace_kept_past_the_call_is_refused_as_heap_kept():
    task = only_task(double, torch.randn(N))
    pool = WorkerPool(1, threads=1)
    try:
        report = verify_candidate(task, WORKSPACE_KEPT.format(zeroed=""), pool=pool)
    finally:
        pool.close()
    # Its output is wrong too (an address in out[0..1]), but the mapping it keeps is found first: after the first
    # checked call, before any output is compared.
    assert report.rule == "heap-kept", report.summary()
    assert "workspace mapping" in report.reason, report.summary()


def test_a_direct_malloc_is_refused_by_the_object_proof():
    task = only_task(double, torch.randn(N))
    source = TIMES_THREE_VIA_WORKSPACE.replace("aikg::Workspace<float> ws(64);",
                                               "struct Own { float* p = static_cast<float*>(malloc(256)); "
                                               "float* data() { return p; } ~Own() { free(p); } } ws;")
    violation = adapter_for(task.dsl).check_source(task, source)
    assert violation is not None and violation.rule == "guard:static-state", violation
    assert "malloc" in violation.message or "free" in violation.message


@pytest.mark.parametrize("fn, shape, served", [
    # softmax's row: std::make_unique<float []>(512L) on every call (review 14 walked glibc's heap from it).
    (lambda x: torch.softmax(x * 0.125, dim=-1), (ROWS, COLS), "aikg::ScratchArray<float, 512>"),
    # var_mean over 20000: Welford helpers (a std::vector of levels each, one of them static in Inductor's code).
    (lambda x: torch.var_mean(x, -1), (8, 20000), "WelfordHelper<at::vec::Vectorized<float>, 4096> welford_helper0"),
])
def test_inductors_own_heap_scratch_is_served_by_aikg_and_computes_the_same(fn, shape, served):
    """Inductor's own source as a candidate: no heap function in its object, the proof passes, and the rewritten
    kernel writes bitwise what Inductor's compile of the same source writes."""
    torch.manual_seed(0)
    task = only_task(fn, torch.randn(*shape))
    assert served in with_workspace(task.source) and "static WelfordHelper" not in with_workspace(task.source)
    assert adapter_for(task.dsl).check_source(task, task.source) is None
    ctypes = [arg.ctype or "" for arg in task.args]
    ours = kernels.build_cpp_kernel(with_workspace(task.source), ctypes)
    # The kernel's own code calls no allocator except on the way to a throw (TORCH_CHECK's message, released on
    # its error path).
    assert not {(function, name) for function, name, on_throw_path in read_object(ours.kernel_object).throw_path_uses
                if function and function.split(".")[0] == "kernel" and heap_function(name) and not on_throw_path}
    x = torch.randn(*shape)
    outputs = []
    for build in (kernels.build_cpp_kernel(task.source, ctypes), ours):
        args = [x if arg.role == "in" else torch.zeros(arg.layout.size, dtype=getattr(torch, arg.layout.dtype))
                for arg in task.args]
        kernels.load_cpp_library(build)(*args)
        outputs.append([a for a, arg in zip(args, task.args) if arg.role != "in"])
    for inductors, aikgs in zip(*outputs):
        assert torch.equal(inductors, aikgs)


def test_a_function_of_the_candidates_under_the_workspace_name_is_refused_by_the_object_proof():
    # The source guard refuses aikg_* names; here the object proof alone, on an object that has one: the mapping
    # without guard pages or fill, under the very name aikg's prefix gives its own.
    forged = ('#include <torch/csrc/inductor/cpp_prefix.h>\n#include <sys/mman.h>\n'
              '__attribute__((noipa)) static void* aikg_workspace_alloc(unsigned long long bytes, bool zeroed)\n'
              '{ return mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0); }\n'
              '__attribute__((noipa)) static void aikg_workspace_free(void* block, unsigned long long bytes)\n'
              '{ munmap(block, bytes); }\n'
              'extern "C" void Placeholder.KERNEL_NAME(float* out_ptr0)\n'
              '{ void* p = aikg_workspace_alloc(4, false); out_ptr0[0] = *(float*)p; aikg_workspace_free(p, 4); }\n')
    references = [read_object(kernels.build_cpp_kernel(HEADER_PROBE, ["float*"]).kernel_object)]
    workspace = kernels.build_cpp_kernel(with_workspace(WORKSPACE_PROBE), ["float*"]).kernel_object
    build = kernels.build_cpp_kernel(forged, ["float*"])
    violation = check_object(build.kernel_object, references, build.glue_object, workspace)
    assert violation is not None and violation.rule == "guard:static-state", violation
    assert "not aikg's workspace function" in violation.message
    # aikg's own, compiled the same way, passes the same proof; without the workspace reference it does not.
    assert check_object(workspace, references) is not None
    assert check_object(workspace, references, None, workspace) is None


def test_the_source_served_to_inductor_compiles_and_runs_in_a_compiled_model(cache_dir, aikg_logs):
    x = torch.randn(N)
    task = only_task(double, x)
    served = adapter_for(task.dsl).source_for_inductor(task, TIMES_THREE_VIA_WORKSPACE)
    assert served == with_workspace(TIMES_THREE_VIA_WORKSPACE)  # the very text the verifier compiled and proved
    KernelCache(cache_dir).put(accepted_entry(task, TIMES_THREE_VIA_WORKSPACE))  # its report is a test double
    torch.compiler.reset()
    compiled = torch.compile(double, backend="aikg", options={"mode": "cache", "cache_dir": str(cache_dir)})
    torch.testing.assert_close(compiled(x), x * 3)
    assert "replaced from the cache" in aikg_logs.text


def test_inductors_own_two_thread_kernel_is_not_judged_heap_kept():
    # Its threads allocate per-thread buffers on their first call: the warm-up's parallel probe must have set up each
    # thread's allocator arena before (an elided probe allocation left it to this kernel: judged heap-kept).
    threads = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        task = softmax_task()
    finally:
        torch.set_num_threads(threads)
    assert "#pragma omp parallel" in task.source
    pool = WorkerPool(1, threads=2)
    try:
        report = verify_candidate(task, task.source + "\n// the baseline, compiled anew\n", pool=pool)
    finally:
        pool.close()
    assert report.rule != "heap-kept", report.summary()
    assert report.rule in (None, "not-faster"), report.summary()
