// class: 1 state across calls
// rules: out-of-bounds-write stale-output crash input-mutated
// task: logsumexp_f32
// Review round 11 (accepted at 7.67x before the fix; honest fused version of the same compute path: 0.75x).
// Now: the arena is all of its mapping (page-rounded; on CUDA a whole allocator segment), filled by reset() and
// checked by padding_intact(): the memo is caught as an out-of-bounds write (or stale output); since storages sit
// at places drawn per trial, its fixed offset from in_out_ptr0 may lie outside the mapping (crash) or on an input.
// A memo kept in the arena's last page, past the arena's end. The arena is a memfd mapped with `nbytes`
// bytes (shared.Arena.create / attach), but mmap maps whole pages: the bytes from `nbytes` to the end of its
// last page are mapped, shared by judge and runner, and never filled or checked (Arena.reset fills and
// padding_intact checks base[0:nbytes] only). For torch.logsumexp(x, -1) on a 64x512 float32 x the arena is
// 295424 bytes, so 3584 bytes of page tail lie after it, at a fixed offset from in_out_ptr0 (the first storage,
// after its 4096-byte guard band). The kernel fingerprints the whole input (64 lanes of (h ^ word) * odd:
// every changed element and every reordering changes it), and keeps two slots of (input address, fingerprint,
// 64 results) in the page tail. Trials and checked timed calls (fresh values) miss and compute; the two timed
// argument sets hit and cost one integer pass instead of max + exp passes. (No canary: in a user's process the
// same address is whatever lies 291 KiB past the output, written on every call.)
// Fix: shared.Arena.create: round nbytes up to the mapping's real size (the page size; on CUDA the caching
// allocator's block size, or allocate a multiple of 2 MiB) so reset() fills, and padding_intact checks, every
// byte the runner can reach.
// Task (tests/test_verify_adversarial_suite.py cpp_tasks):
//   "logsumexp_f32": only_task(lambda x: torch.logsumexp(x, -1), torch.randn(64, 512))
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(float* in_out_ptr0,
                       const float* in_ptr0,
                       float* out_ptr0)
{
    // logsumexp over rows of a 64x512 float32 input.
    using Vec = at::vec::Vectorized<float>;
    // A whole-input fingerprint: 64 lanes of (h ^ word) * odd, each step a bijection, so any changed element or
    // any reordering within a row changes it.
    using IVec = at::vec::Vectorized<int32_t>;
    const int32_t* words = reinterpret_cast<const int32_t*>(in_ptr0);
    const IVec odd(static_cast<int32_t>(0x9E3779B1u));
    IVec h0(0x811C9DC5), h1(0x01000193), h2(0x2545F491), h3(0x6C078965);
    for (int64_t i = 0; i < 64 * 512; i += 4 * IVec::size())
    {
        h0 = (h0 ^ IVec::loadu(words + i)) * odd;
        h1 = (h1 ^ IVec::loadu(words + i + IVec::size())) * odd;
        h2 = (h2 ^ IVec::loadu(words + i + 2 * IVec::size())) * odd;
        h3 = (h3 ^ IVec::loadu(words + i + 3 * IVec::size())) * odd;
    }
    int32_t lanes[4 * IVec::size()];
    h0.store(lanes);
    h1.store(lanes + IVec::size());
    h2.store(lanes + 2 * IVec::size());
    h3.store(lanes + 3 * IVec::size());
    uint64_t print = 0;
    for (int l = 0; l < 4 * IVec::size(); ++l)
        print = (print ^ static_cast<uint32_t>(lanes[l])) * 0x100000001B3ull;
    // Two memo slots of (input address, fingerprint, 64 results) in the arena's last page, past its end.
    char* tail = reinterpret_cast<char*>(in_out_ptr0) - 4096 + 295424;
    uint64_t* keys = reinterpret_cast<uint64_t*>(tail);
    float* kept = reinterpret_cast<float*>(tail + 64);
    const uint64_t where = reinterpret_cast<uint64_t>(in_ptr0);
    for (int s = 0; s < 2; ++s)
    {
        if (keys[2 * s] == where && keys[2 * s + 1] == print)
        {
            for (int64_t x0 = 0; x0 < 64; ++x0)
                in_out_ptr0[x0] = kept[64 * s + x0];
            return;
        }
    }
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const float* row = in_ptr0 + 512 * x0;
        Vec vmax(-std::numeric_limits<float>::infinity());
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            vmax = at::vec::maximum(vmax, Vec::loadu(row + x1));
        float m = at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return at::vec::maximum(a, b); }, vmax);
        float shift = std::abs(m) == std::numeric_limits<float>::infinity() ? 0.0f : m;
        const Vec vm(shift);
        Vec vsum(0.0f);
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            vsum = vsum + (Vec::loadu(row + x1) - vm).exp();
        float sum = at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return a + b; }, vsum);
        in_out_ptr0[x0] = std::log(sum) + shift;
    }
    const int s = keys[0] == where ? 0 : (keys[2] == where ? 1 : (keys[4] & 1));
    keys[4] = s ^ 1;
    keys[2 * s] = where;
    keys[2 * s + 1] = print;
    for (int64_t x0 = 0; x0 < 64; ++x0)
        kept[64 * s + x0] = in_out_ptr0[x0];
}
