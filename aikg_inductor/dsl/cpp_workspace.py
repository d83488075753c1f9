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

``with_workspace`` is the one place the prefix is added: the verifier's compile (``CppCpuAdapter.prepare``) and the
source handed to Inductor in the user's process (``source_for_inductor``) both go through it, so the object proved
and the object served are compiled from the same text.
"""

from __future__ import annotations

from .cpp_guards import ALLOWED_INCLUDE

# The most bytes one Workspace may hold; a larger (or negative) request gets a null pointer.
WORKSPACE_CAP_BYTES = 256 << 20
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
class Workspace {{
  public:
    explicit Workspace(long long numel, bool zeroed = false)
        : bytes_(numel < 0 || static_cast<unsigned long long>(numel) > {WORKSPACE_CAP_BYTES}ULL / sizeof(T)
                     ? {WORKSPACE_CAP_BYTES + 1}ULL : static_cast<unsigned long long>(numel) * sizeof(T)),
          data_(static_cast<T*>(aikg_workspace_alloc(bytes_, zeroed))) {{}}
    ~Workspace() {{ aikg_workspace_free(data_, bytes_); }}
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;
    T* data() const {{ return data_; }}
  private:
    unsigned long long bytes_;
    T* data_;
}};
}}  // namespace aikg
#line 1
"""

# A kernel that uses the workspace and nothing else: the reference compile the proof compares the functions with.
WORKSPACE_PROBE = ('extern "C" void Placeholder.KERNEL_NAME(float* out_ptr0)\n{\n'
                   '    aikg::Workspace<float> ws(1, true);\n    out_ptr0[0] = ws.data() ? ws.data()[0] : 1.0f;\n}\n')


def with_workspace(source: str) -> str:
    """``source`` as it is compiled: the workspace prefix, then the candidate's text unchanged (its own include of
    Inductor's header is then a no-op; ``#line 1`` keeps compiler messages on the candidate's own line numbers)."""
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
