"""The stack fill the binding glue runs before every C++ kernel call (aikg_inductor/dsl/cpp_stack_fill.py).

A probe kernel reads the deepest bytes of a 60 KiB frame (within the proof's 64 KiB allowance) on each of two OpenMP
threads, as a memo there would, then writes a mark into them. Loaded without the fill, the next call finds the mark
on both threads (review 15's memo); loaded as the verifier loads kernels, every call finds one byte on both threads,
another byte at every call.
"""

from __future__ import annotations

import torch

from aikg_inductor.dsl.cpp_objcheck import MIN_STACK_LIMIT
from aikg_inductor.dsl.cpp_stack_fill import stack_fill
from aikg_inductor.torch_internals import kernels

MARK = 0xA5
PROBE = """#include <cstdint>
#include <omp.h>
__attribute__((noinline)) static void probe(uint8_t* seen)
{
    volatile uint8_t area[60 << 10];  // never initialised: its first bytes are the frame's deepest
    for (int i = 0; i < 64; ++i) seen[i] = area[i];
    for (int i = 0; i < 64; ++i) area[i] = 0xA5;
}
extern "C" void Placeholder.KERNEL_NAME(uint8_t* out_ptr0)
{
    #pragma omp parallel num_threads(2)
    probe(out_ptr0 + 64 * omp_get_thread_num());
}
"""


def seen_per_call(hook: kernels.GlueHook | None, calls: int = 5) -> list[set[int]]:
    kernel = kernels.load_cpp_library(kernels.build_cpp_kernel(PROBE, ["uint8_t*"], None, hook))
    seen = []
    for _ in range(calls):
        out = torch.zeros(128, dtype=torch.uint8)
        kernel(out)
        seen.append(set(out.tolist()))
    return seen


def test_without_the_fill_a_call_finds_what_the_previous_one_left_deep_in_its_frame():
    assert all(seen == {MARK} for seen in seen_per_call(None)[1:])


def test_the_fill_gives_every_thread_a_stack_filled_anew_at_every_call():
    seen = seen_per_call(stack_fill(MIN_STACK_LIMIT, thread_cap=2))
    assert all(len(bytes_) == 1 for bytes_ in seen), seen  # both threads' 128 bytes: the one byte of the call
    assert all(before != after for before, after in zip(seen, seen[1:])), seen
