"""The scratch workspace a C++ candidate may use: trusted code put in front of every candidate before it is compiled.

A candidate writes ``aikg::Workspace<float> ws(n);`` (or ``ws(n, /*zeroed=*/true)``) and uses ``ws.data()`` for the
rest of the call. The class and the two functions behind it come from ``PREFIX``, never from the candidate: the
source guards refuse ``aikg_*`` names, a candidate's ``namespace aikg``, placement new and explicit destructor calls,
and the object proof (``cpp_objcheck``) lets only these two functions, compiled exactly as a reference compile of
the prefix compiles them, reach ``mmap``/``mprotect``/``munmap``. Each Workspace is a mapping of its own: whole
pages between two ``PROT_NONE`` guard pages, every usable byte filled on every call (0xFF unless zeroed), unmapped
when ``ws`` goes out of scope. So nothing past the block is reachable without a fault (no allocator's headers, no
free heap beside it: review 13 kept a memo there), a read after release faults in the verifier and in a user's
process alike (review 13 told the two apart by what glibc's free left in a released block), and nothing a call
leaves in workspace is there for the next one.

The mappings are shared anonymous ones, which the kernel lists under ``/dev/zero (deleted)`` with an inode each:
``live_mappings`` counts them, so the runner sees a workspace kept past a call (never released) as it sees a kept
heap block.

Inductor's own heap scratch is served here too (review 14 walked glibc's heap from its softmax row): ``with_workspace``
rewrites ``std::make_unique<T []>(n)`` to ``aikg::ScratchArray`` (a zeroed local array for a literal count of at most
``STACK_SCRATCH_BYTES``) or ``aikg::scratch_array`` (a zeroed workspace mapping), and the prefix specialises the
header's cascade-sum and Welford helpers at Inductor's chunk size to keep their levels on the stack; the object proof
then refuses every heap call in the candidate's own code. Inductor's source so served computes bitwise what it
computes on the heap, at the same speed or faster (measured on softmax 64x512, var_mean and sum over 20000).

``with_workspace`` is the one place the prefix is added: the verifier's compile (``CppCpuAdapter.prepare``) and the
source handed to Inductor in the user's process (``source_for_inductor``) both go through it, so the object proved
and the object served are compiled from the same text.
"""

from __future__ import annotations

import re

from .cpp_guards import ALLOWED_INCLUDE

# The most bytes one Workspace may hold; a larger (or negative) request gets a null pointer.
WORKSPACE_CAP_BYTES = 256 << 20
# The largest scratch array with a count known when compiled that lives on the stack (the frame limit every kernel
# gets, ``cpp_objcheck.MIN_FRAME_LIMIT``); a larger one is a workspace mapping.
STACK_SCRATCH_BYTES = 16 << 10
# x86-64's page: the unit of the guard pages and of the usable span (the object proof reads x86-64 code only).
PAGE_BYTES = 4096
# How /proc/self/maps names a shared anonymous mapping (the kernel backs it with a deleted shmem file).
MAPPING_NAME = "/dev/zero (deleted)"
# The allocation maps [guard page][usable pages][guard page], all PROT_NONE, then opens the usable pages and fills
# every byte of them, not just the bytes asked for: the slack up to the page's end keeps nothing either. The release
# unmaps all three: a stale pointer kept past it faults. Shared, not private: each mapping is then a kernel object
# of its own that ``live_mappings`` can count. noipa: never inlined, cloned or merged, so the proof
# (``cpp_objcheck.WORKSPACE_ONLY``) finds these functions under their own names with the same code in every object;
# static: nothing outside the kernel's library can bind to them. The source guards keep ``aikg_*`` names and
# ``namespace aikg`` for this code alone.
PREFIX = ALLOWED_INCLUDE + f"""
#include <sys/mman.h>
// aikg's workspace allocator (docs/kernel_contract.md, "C++ candidates"): added by aikg, not part of the candidate.
__attribute__((noipa, unused)) static void* aikg_workspace_alloc(unsigned long long bytes, bool zeroed) {{
    if (bytes > {WORKSPACE_CAP_BYTES}ULL) return nullptr;
    const unsigned long long usable = bytes ? (bytes + {PAGE_BYTES - 1}ULL) & ~{PAGE_BYTES - 1}ULL : {PAGE_BYTES}ULL;
    void* mapped = mmap(nullptr, usable + {2 * PAGE_BYTES}ULL, PROT_NONE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (mapped == MAP_FAILED) return nullptr;
    char* block = static_cast<char*>(mapped) + {PAGE_BYTES};
    if (mprotect(block, usable, PROT_READ | PROT_WRITE) != 0) {{
        munmap(mapped, usable + {2 * PAGE_BYTES}ULL);
        return nullptr;
    }}
    __builtin_memset(block, zeroed ? 0 : 0xFF, usable);
    return block;
}}
__attribute__((noipa, unused)) static void aikg_workspace_free(void* block, unsigned long long bytes) {{
    if (!block) return;
    const unsigned long long usable = bytes ? (bytes + {PAGE_BYTES - 1}ULL) & ~{PAGE_BYTES - 1}ULL : {PAGE_BYTES}ULL;
    munmap(static_cast<char*>(block) - {PAGE_BYTES}, usable + {2 * PAGE_BYTES}ULL);
}}
namespace aikg {{
template <typename T>
unsigned long long workspace_bytes(long long numel) {{
    return numel < 0 || static_cast<unsigned long long>(numel) > {WORKSPACE_CAP_BYTES}ULL / sizeof(T)
               ? {WORKSPACE_CAP_BYTES + 1}ULL : static_cast<unsigned long long>(numel) * sizeof(T);
}}
template <typename T>
class Workspace {{
  public:
    explicit Workspace(long long numel, bool zeroed = false)
        : bytes_(workspace_bytes<T>(numel)), data_(static_cast<T*>(aikg_workspace_alloc(bytes_, zeroed))) {{}}
    ~Workspace() {{ aikg_workspace_free(data_, bytes_); }}
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;
    T* data() const {{ return data_; }}
  private:
    unsigned long long bytes_;
    T* data_;
}};
// Inductor's scratch arrays, std::make_unique<T []>(n), as with_workspace rewrites them: zeroed as make_unique's
// are, never from the heap. A count the compiler knows and at most {STACK_SCRATCH_BYTES} bytes: a local array (the
// cost of a memset, what Inductor's heap row cost besides); any other: a workspace mapping.
struct ScratchRelease {{
    unsigned long long bytes = 0;
    void operator()(void* block) const {{ aikg_workspace_free(block, bytes); }}
}};
template <typename T>
using ScratchPtr = std::unique_ptr<T[], ScratchRelease>;
template <typename T>
ScratchPtr<T> scratch_array(long long numel) {{
    const unsigned long long bytes = workspace_bytes<T>(numel);
    return ScratchPtr<T>(static_cast<T*>(aikg_workspace_alloc(bytes, true)), ScratchRelease{{bytes}});
}}
template <typename T, long long N, bool on_stack = (N > 0 && N * sizeof(T) <= {STACK_SCRATCH_BYTES}ULL)>
class ScratchArray {{
  public:
    ScratchArray() = default;
    ScratchArray(const ScratchArray&) = delete;
    ScratchArray& operator=(const ScratchArray&) = delete;
    T* get() {{ return items_; }}
  private:
    T items_[N]{{}};
}};
template <typename T, long long N>
class ScratchArray<T, N, false> {{
  public:
    T* get() const {{ return block_.get(); }}
  private:
    ScratchPtr<T> block_ = scratch_array<T>(N);
}};
// What Inductor's cascade-sum and Welford helpers keep in a std::vector: one partial sum per level of a cascade
// over chunks of 4096, on the stack. A reduction of fewer than 2^64 elements has at most 52 levels.
template <typename T>
class CascadeLevels {{
  public:
    void assign(unsigned long long count, const T& value) {{
        for (unsigned long long i = 0; i < count; ++i) items_[i] = value;
        size_ = count;
    }}
    T& operator[](unsigned long long i) {{ return items_[i]; }}
    const T& operator[](unsigned long long i) const {{ return items_[i]; }}
    unsigned long long size() const {{ return size_; }}
  private:
    T items_[52];
    unsigned long long size_ = 0;
}};
// 1 / (i + 1) for the Welford helper's first 4096 weights: a read-only table the compiler fills (the header's is a
// std::vector filled at load time).
template <typename Scalar>
class Reciprocals {{
  public:
    constexpr Reciprocals() : items_() {{
        for (unsigned long long i = 0; i < 4096; ++i) items_[i] = Scalar(1.0 / static_cast<double>(i + 1));
    }}
    constexpr unsigned long long size() const {{ return 4096; }}
    constexpr Scalar operator[](unsigned long long i) const {{ return items_[i]; }}
  private:
    Scalar items_[4096];
}};
template <typename Scalar>
inline constexpr Reciprocals<Scalar> reciprocals{{}};
}}  // namespace aikg
// Inductor's helpers at its chunk size, the same members over aikg's storage: the header's cascade_sum_combine,
// cascade_sum_final and welford_combine read them as they read its own. No static member: a static data member of
// the header's class name is one object process-wide (STB_GNU_UNIQUE), shared with Inductor's own kernels' vector.
template <typename T>
struct CascadeSumHelper<T, 4096> {{
    aikg::CascadeLevels<T> sum_stk;
    uint64_t depth{{0}};
    uint64_t num_chunks{{0}};
    uint64_t index{{0}};
    CascadeSumHelper() = default;
    CascadeSumHelper(uint64_t N) : depth(ceil_log2_u64((N + 4095) / 4096)) {{
        sum_stk.assign(std::max(depth, static_cast<uint64_t>(1)), T(0));
    }}
}};
template <typename T>
struct WelfordHelper<T, 4096> {{
    const aikg::Reciprocals<typename GetScalarType<T>::type>& weight_recps =
        aikg::reciprocals<typename GetScalarType<T>::type>;
    aikg::CascadeLevels<Welford<T>> welford_stk;
    uint64_t depth{{0}};
    uint64_t num_chunks{{0}};
    WelfordHelper() = default;
    WelfordHelper(uint64_t N) : depth(ceil_log2_u64((N + 4095) / 4096)) {{ welford_stk.assign(depth, Welford<T>()); }}
}};
#line 1
"""

# A kernel that uses the workspace and nothing else: the reference compile the proof compares the functions with.
WORKSPACE_PROBE = ('extern "C" void Placeholder.KERNEL_NAME(float* out_ptr0)\n{\n'
                   '    aikg::Workspace<float> ws(1, true);\n    out_ptr0[0] = ws.data() ? ws.data()[0] : 1.0f;\n}\n')


# Inductor's heap allocations (torch/_inductor/codegen/cpp*.py), each served by the prefix instead: a scratch array's
# declaration with a literal count (a fused loop's local buffer), any other make_unique<T []> and unique_ptr<T []>
# (templates, dynamic sizes), and the Welford helper Inductor makes static (its levels now on the stack: nothing to
# keep). Lines stay lines, so ``#line 1`` still holds.
_ELEMENT = r"(?P<t>[A-Za-z_][\w:]*(?:[ \t]+[A-Za-z_][\w:]*)*)[ \t]*\[[ \t]*\][ \t]*>"
_REWRITES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"std::unique_ptr<[ \t]*" + _ELEMENT + r"[ \t]+(?P<name>\w+)[ \t]*=[ \t]*std::make_unique<[ \t]*"
                r"(?P=t)[ \t]*\[[ \t]*\][ \t]*>[ \t]*\([ \t]*(?P<n>\d+)L?[ \t]*\)[ \t]*;"),
     r"aikg::ScratchArray<\g<t>, \g<n>> \g<name>;"),
    (re.compile(r"std::make_unique<[ \t]*" + _ELEMENT), r"aikg::scratch_array<\g<t>>"),
    (re.compile(r"std::unique_ptr<[ \t]*" + _ELEMENT), r"aikg::ScratchPtr<\g<t>>"),
    (re.compile(r"\bstatic[ \t]+(?=WelfordHelper[ \t]*<)"), ""),
)


def with_workspace(source: str) -> str:
    """``source`` as it is compiled: the workspace prefix, then the candidate's text with Inductor's heap scratch
    served by the prefix (``_REWRITES``; the object proof refuses any heap call left) (its own include of Inductor's
    header is then a no-op; ``#line 1`` keeps compiler messages on the candidate's own line numbers)."""
    for pattern, replacement in _REWRITES:
        source = pattern.sub(replacement, source)
    return PREFIX + source


def live_mappings() -> int:
    """Shared anonymous mappings alive in this process now, each counted once however many pieces its guard pages
    split it into (its device and inode): every workspace, and whatever else the process mapped so, whose number a
    kernel's call does not change; 0 where there is no /proc."""
    try:
        with open("/proc/self/maps") as maps:
            return len({tuple(line.split()[3:5]) for line in maps if line.rstrip("\n").endswith(MAPPING_NAME)})
    except OSError:
        return 0
