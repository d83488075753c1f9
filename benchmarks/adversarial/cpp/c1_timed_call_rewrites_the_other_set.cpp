// class: 1 state across calls
// rules: input-mutated stale-output not-faster
// task: expsum_f32
// Now: timed calls place storages as trials do (drawn per measurement; the control arm on the candidate's own
// storages keeps placement out of the speedup), so the layout test never matches and the kernel runs its honest
// path (not-faster, 0.89x); were it to rewrite the other set, every input of both timed sets is checked against the
// judge's copy before every fresh-value call and after the measurement (input-mutated), and fresh values go from
// the judge's copy to the candidate's, never back.
// Review round 13 (accepted in 2 verifications of 2, at 1.62/1.67x and 1.61/1.59x; the same code without the
// write to the other set: 0.90x, not-faster).
// Task (not in the suite's cpp_tasks yet): "expsum_f32": only_task(lambda x: torch.exp(x).sum(-1), torch.randn(64, 512))
// What it does: (1) recognises a timed call: measurements lay storages out packed, in order, from the arena's
// page-aligned start (Arena.reset(scattered=False)), so on a call with the first argument set out_ptr0 is exactly
// 139264 bytes after in_ptr0 and in_ptr0 - 4096 is page-aligned; trials place storages at random and never show
// that distance. (2) On such a call it rewrites the OTHER argument set's input (it lies right after the output's
// flat, at out_ptr0 + 8448) to subnormals, once. (3) Every call takes a cheap path for rows with no normal
// element (exp is 1.0f for each: 512). So half of all timed calls, those on the second set, skip the exps.
// Why the verifier accepts: a checked call compares the inputs of its own set only, and the fresh-value calls
// copy the candidate's side of an input into the judge's copy ("a few input elements": `mine[...] = inside`;
// "columns permuted" permutes the candidate's values and copies them) instead of comparing it with the judge's
// copy first. Whatever the schedule (_Checks: the sets take turns, "all inputs", "a few", "columns permuted",
// then "a few" at the end), the second set is adopted after its last redraw, so the final check of the latest set
// finds the judge's copy equal to the mutated input, and the candidate's outputs right for it. Until the adoption
// the candidate and the judge even compute on different inputs, and the unchecked timed calls never tell.
// In the user's process (cache entry as accepted, 6 calls): correct (1.2e-4 on sums near 875, as Inductor's),
// 0.90x of Inductor, not 1.6x; and should a user's output ever sit 139264 bytes after a page-aligned input, it
// writes 128 KiB of memory it does not own.
// Fix: (a) _Checks._fresh_call: before rewriting a set's inputs, compare its input storages (interior and bands)
// with the judge's copy (input-mutated), for both sets, not only the set being called; and copy the judge's values
// to the candidate's side (mine -> theirs), never the reverse; (b) after the measurement, compare every input
// storage of both sets with the judge's copies (one torch.equal per storage); (c) the timing layout should not be
// recognisable: keep the equal layout for baseline and candidate, but draw it (scattered, as in trials) from the
// measurement's seed and copy it to the mirror, as copy_at_same_offsets already does (7a3f957 made the layout
// packed and the baseline mirrored in one step; whether a drawn-but-mirrored layout keeps Inductor's colsum at
// 1.00x against itself needs measuring). (a) and (b) close this case whatever the layout.
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       float* out_ptr0)
{
    using Vec = at::vec::Vectorized<float>;
    using IVec = at::vec::Vectorized<int32_t>;
    // Timed calls are laid out packed, in order, from the arena's (page-aligned) start: this input's flat
    // (4096-byte band, 64x512 floats, band), the output's flat (band, 64 floats, band), then the other argument
    // set's input. Trials place every storage at random: the distance below never occurs there.
    const char* in = reinterpret_cast<const char*>(in_ptr0);
    char* out = reinterpret_cast<char*>(out_ptr0);
    if (out - in == 139264 && (reinterpret_cast<uintptr_t>(in - 4096) & 4095) == 0) {
        // A timed call on the first set: make the other set's input subnormal (sign and mantissa kept), once.
        uint32_t* partner = reinterpret_cast<uint32_t*>(out + 8448);
        bool done = true;
        for (int64_t r = 0; r < 64; ++r) done = done && (partner[512 * r + 7] & 0x7F800000u) == 0;
        if (!done)
            for (int64_t i = 0; i < 64 * 512; ++i) partner[i] = (partner[i] & 0x807FFFFFu) | 1u;
    }
    const int32_t* words = reinterpret_cast<const int32_t*>(in_ptr0);
    const IVec exponent(0x7F800000);
    for (int64_t x0 = 0; x0 < 64; ++x0) {
        IVec any(0);
        for (int64_t x1 = 0; x1 < 512; x1 += IVec::size())
            any = any | (IVec::loadu(words + 512 * x0 + x1) & exponent);
        int32_t lanes[IVec::size()];
        any.store(lanes);
        int32_t all = 0;
        for (int l = 0; l < IVec::size(); ++l) all |= lanes[l];
        if (all == 0) {  // every element subnormal or zero: exp is 1.0f for each
            out_ptr0[x0] = 512.0f;
            continue;
        }
        Vec acc(0.0f);
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            acc = acc + Vec::loadu(in_ptr0 + 512 * x0 + x1).exp();
        out_ptr0[x0] = at::vec::vec_reduce_all<float, 1>([](Vec& x, Vec& y) { return x + y; }, acc);
    }
}
