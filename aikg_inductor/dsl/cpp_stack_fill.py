"""A stack no call has seen before, for every call of a C++ kernel the verifier makes: aikg's code in the binding glue.

The object proof bounds a kernel's stack (``cpp_objcheck.stack_allowance``: every frame together), but a bound does
not clear it: review 15 kept a reduction's answers at the bottom of three frames within the bounds, ~45 KiB below the
kernel's caller, where nothing the runner does between calls reaches, and was accepted at 10x. So the binding glue
(aikg's, compiled by Inductor's toolchain with the kernel's library, never from candidate text) fills that whole
allowance plus a margin below its own frame just before it calls the kernel, with a byte drawn per call from a
generator seeded by the kernel's random source: the kernel can neither find what an earlier call left there nor tell
one call from another by what it finds. Where the kernel's parallel regions may run more than one thread, a parallel
region first does the same on each thread of the team, at the depth where OpenMP runs the kernel's own regions.

Every C++ kernel the verifier calls is loaded so, the candidate's in its runner and Inductor's baseline and control in
the judge (``CppCpuAdapter.prepare``), so each arm pays the fill alike (a memset of ~80 KiB: about a microsecond).
The user's process loads the served kernel through Inductor's own glue, without it.
"""

from __future__ import annotations

from ..torch_internals.kernels import GlueHook

# Below the kernel's frames: the return addresses and saved registers no frame size counts, the red zone, and the
# outlined function OpenMP runs on a worker before the kernel's own.
FILL_MARGIN_BYTES = 16 << 10
_PAGE_BYTES = 4096

_DEFINITIONS = """
#include <algorithm>
#include <cstring>
#include <omp.h>
#include <sys/random.h>
// aikg's stack fill (aikg_inductor/dsl/cpp_stack_fill.py): run before every call of the kernel, not part of it.
namespace {{
unsigned long long aikg_fill_state = 0;
unsigned char aikg_fill_last = 0;
// A byte unlike the previous call's, from xorshift64 seeded by getrandom at the first call.
unsigned char aikg_fill_byte() {{
    if (aikg_fill_state == 0 && (getrandom(&aikg_fill_state, sizeof(aikg_fill_state), 0) != sizeof(aikg_fill_state)
                                 || aikg_fill_state == 0))
        aikg_fill_state = 0x9E3779B97F4A7C15ULL ^ reinterpret_cast<unsigned long long>(&aikg_fill_state);
    aikg_fill_state ^= aikg_fill_state << 13;
    aikg_fill_state ^= aikg_fill_state >> 7;
    aikg_fill_state ^= aikg_fill_state << 17;
    aikg_fill_last = static_cast<unsigned char>(aikg_fill_last + 1 + aikg_fill_state % 255);
    return aikg_fill_last;
}}
// The frame of this function spans the {fill_bytes} bytes below its caller's: the stack the kernel's frames will use.
__attribute__((noipa)) void aikg_fill_below(unsigned char byte) {{
    unsigned char area[{fill_bytes}];
    std::memset(area, byte, sizeof(area));
    asm volatile("" : : "r"(area) : "memory");  // the compiler must assume the area is read: the stores stay
}}
void aikg_fill_stacks() {{
    const unsigned char byte = aikg_fill_byte();
    const int team = std::max(omp_get_max_threads(), {thread_cap});
    if (team > 1) {{
        #pragma omp parallel num_threads(team)
        aikg_fill_below(byte);
    }}
    aikg_fill_below(byte);
}}
}}  // namespace
"""


def stack_fill(stack_allowance: int, thread_cap: int) -> GlueHook:
    """The glue's fill for a kernel proved to use at most ``stack_allowance`` bytes of stack whose parallel regions
    ask for at most ``thread_cap`` threads (0: as many as OpenMP was given)."""
    fill_bytes = -(-(stack_allowance + FILL_MARGIN_BYTES) // _PAGE_BYTES) * _PAGE_BYTES
    return GlueHook(_DEFINITIONS.format(fill_bytes=fill_bytes, thread_cap=thread_cap), "aikg_fill_stacks();")
