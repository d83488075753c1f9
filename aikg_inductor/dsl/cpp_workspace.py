"""The scratch workspace a C++ candidate may use: trusted code put in front of every candidate before it is compiled.

A candidate writes ``aikg::Workspace<float> ws(n);`` (or ``ws(n, /*zeroed=*/true)``) and uses ``ws.data()`` for the
rest of the call. The class and the two functions behind it come from ``PREFIX``, never from the candidate: the
source guards refuse ``aikg_*`` names and a candidate's ``namespace aikg``, and the object proof (``cpp_objcheck``)
lets only these two functions, compiled exactly as a reference compile of the prefix compiles them, reach
``malloc``/``free``. The allocation fills every usable byte of the block on every call (0xFF unless zeroed), and
the release (when ``ws`` goes out of scope) fills it with 0xFF again, so nothing a call leaves in workspace is there
for the next one.

``with_workspace`` is the one place the prefix is added: the verifier's compile (``CppCpuAdapter.prepare``) and the
source handed to Inductor in the user's process (``source_for_inductor``) both go through it, so the object proved
and the object served are compiled from the same text.
"""

from __future__ import annotations

from .cpp_guards import ALLOWED_INCLUDE

# The most bytes one Workspace may hold; a larger (or negative) request gets a null pointer.
WORKSPACE_CAP_BYTES = 256 << 20
# The allocation fills the whole block (malloc_usable_size), not just the bytes asked for: no slack past the request
# keeps anything either. The release fills it again: a stale pointer kept somewhere (an uninitialised stack slot)
# finds nothing of the last call in the freed block, in the user's process (no MALLOC_PERTURB_ there) as in the
# runner. noipa: never inlined, cloned or merged, so the proof (``cpp_objcheck.WORKSPACE_ONLY``) finds
# these functions under their own names with the same code in every object; static: nothing outside the kernel's
# library can bind to them. The source guards keep ``aikg_*`` names and ``namespace aikg`` for this code alone.
PREFIX = ALLOWED_INCLUDE + f"""
#include <malloc.h>
// aikg's workspace allocator (docs/kernel_contract.md, "C++ candidates"): added by aikg, not part of the candidate.
__attribute__((noipa, unused)) static void* aikg_workspace_alloc(unsigned long long bytes, bool zeroed) {{
    if (bytes > {WORKSPACE_CAP_BYTES}ULL) return nullptr;
    void* block = malloc(bytes ? bytes : 1);
    if (block) __builtin_memset(block, zeroed ? 0 : 0xFF, malloc_usable_size(block));
    return block;
}}
__attribute__((noipa, unused)) static void aikg_workspace_free(void* block) {{
    if (block) __builtin_memset(block, 0xFF, malloc_usable_size(block));
    __asm__ __volatile__("" : : "r"(block) : "memory");  // the fill before free is not a dead store to drop
    free(block);
}}
namespace aikg {{
template <typename T>
class Workspace {{
  public:
    explicit Workspace(long long numel, bool zeroed = false)
        : data_(static_cast<T*>(aikg_workspace_alloc(
              numel < 0 || static_cast<unsigned long long>(numel) > {WORKSPACE_CAP_BYTES}ULL / sizeof(T)
                  ? {WORKSPACE_CAP_BYTES + 1}ULL : static_cast<unsigned long long>(numel) * sizeof(T),
              zeroed))) {{}}
    ~Workspace() {{ aikg_workspace_free(data_); }}
    Workspace(const Workspace&) = delete;
    Workspace& operator=(const Workspace&) = delete;
    T* data() const {{ return data_; }}
  private:
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
