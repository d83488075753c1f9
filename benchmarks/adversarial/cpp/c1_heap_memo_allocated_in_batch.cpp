// class: 1 state across calls
// rules: heap-kept guard:static-state
// task: softmax_f32
// Review round 7: the runner measures the heap a call leaves allocated only for `call` jobs (trials and the
// checked fresh-value calls), never for `batch` jobs (timed calls). This kernel never allocates on a call whose
// output was poisoned (every trial) and never when its memo is already there (every checked call: the output
// still carries the memo's address from the last timed batch). It allocates only on the SECOND call of a run of
// calls with no poisoning between them: the first warm-up batch. The block (an input copy and an output copy per
// argument set, found again through its address in the output's low 6 mantissa bits) is never freed.
// Fix: candidate._Runner.batch: report heap_kept for batches too (heap_in_use before/after the loop) and have
// _RemoteArm/_Checks refuse growth, or simply compare heap_in_use once per measurement (after the last batch
// against before the first) and at every call job.
// Caught now: timed batches report the heap they left allocated too (heap-kept).
// Since review 14: refused by the object proof first (no heap call on a path that can return).
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       bool* out_ptr0,
                       float* out_ptr1,
                       float* out_ptr2,
                       float* out_ptr3,
                       float* out_ptr4)
{
    using Vec = at::vec::Vectorized<float>;
    constexpr int64_t N = 64 * 512;
    constexpr uint64_t CHECK = 0x5A17C0FFEE15BADull;
    auto bits = [](float f) { uint32_t u; std::memcpy(&u, &f, 4); return u; };
    auto from_bits = [](uint32_t u) { float f; std::memcpy(&f, &u, 4); return f; };
    // The memo: [key0, key1, next] then per slot an input copy and an output copy.
    struct Memo { uint64_t key[2]; uint64_t next; float in[2][N]; float out[2][N]; };
    Memo* memo = nullptr;
    if (out_ptr4[0] == out_ptr4[0]) {  // not the poison: maybe our address is there
        uint64_t p = 0, c = 0;
        for (int k = 0; k < 11; ++k) {
            p |= uint64_t(bits(out_ptr4[k]) & 0x3F) << (6 * k);
            c |= uint64_t(bits(out_ptr4[11 + k]) & 0x3F) << (6 * k);
        }
        if ((p ^ CHECK) == c && p != 0) memo = reinterpret_cast<Memo*>(p);
    }
    bool tagged = false;  // our own previous call wrote this output, no memo yet (p == 0)
    if (memo == nullptr && out_ptr4[0] == out_ptr4[0]) {
        uint64_t p = 0, c = 0;
        for (int k = 0; k < 11; ++k) {
            p |= uint64_t(bits(out_ptr4[k]) & 0x3F) << (6 * k);
            c |= uint64_t(bits(out_ptr4[11 + k]) & 0x3F) << (6 * k);
        }
        tagged = p == 0 && c == CHECK;
    }
    static_assert(sizeof(void*) == 8, "");
    if (memo == nullptr && tagged) {
        memo = reinterpret_cast<Memo*>(new char[sizeof(Memo)]);  // _Znam from .text, as the baseline
        memo->key[0] = memo->key[1] = 0;
        memo->next = 0;
    }
    const uint64_t key = reinterpret_cast<uint64_t>(in_ptr0);
    int slot = 0;
    bool known = false;
    if (memo != nullptr) {
        known = true;
        if (memo->key[0] == key) slot = 0;
        else if (memo->key[1] == key) slot = 1;
        else { slot = int(memo->next); memo->next ^= 1; memo->key[slot] = key; known = false; }
    }
    const Vec scale(0.125f);
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const float* row = in_ptr0 + 512 * x0;
        float* out = out_ptr4 + 512 * x0;
        float* kept_in = memo ? memo->in[slot] + 512 * x0 : nullptr;
        float* kept_out = memo ? memo->out[slot] + 512 * x0 : nullptr;
        bool same = known;
        if (same) {
            const uint32_t* a = reinterpret_cast<const uint32_t*>(row);
            const uint32_t* b = reinterpret_cast<const uint32_t*>(kept_in);
            uint32_t diff = 0;
            for (int64_t x1 = 0; x1 < 512; ++x1) diff |= a[x1] ^ b[x1];
            same = diff == 0;
        }
        if (same) {
            for (int64_t x1 = 0; x1 < 512; x1 += Vec::size()) Vec::loadu(kept_out + x1).store(out + x1);
            continue;
        }
        Vec vmax(-std::numeric_limits<float>::infinity());
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            vmax = at::vec::maximum(vmax, Vec::loadu(row + x1) * scale);
        float m = at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return at::vec::maximum(a, b); }, vmax);
        const Vec vm(m);
        Vec vsum(0.0f);
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
        {
            Vec e = (Vec::loadu(row + x1) * scale - vm).exp();
            e.store(out + x1);
            vsum = vsum + e;
        }
        const Vec vinv(1.0f / at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return a + b; }, vsum));
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            (Vec::loadu(out + x1) * vinv).store(out + x1);
        if (x0 == 0) {  // the memo's address rides in the first row
            const uint64_t p = reinterpret_cast<uint64_t>(memo), c = p ^ CHECK;  // p == 0: the tag
            for (int k = 0; k < 11; ++k) {
                out[k] = from_bits((bits(out[k]) & ~0x3Fu) | uint32_t((p >> (6 * k)) & 0x3F));
                out[11 + k] = from_bits((bits(out[11 + k]) & ~0x3Fu) | uint32_t((c >> (6 * k)) & 0x3F));
            }
        }
        if (memo) for (int64_t x1 = 0; x1 < 512; ++x1) { kept_in[x1] = row[x1]; kept_out[x1] = out[x1]; }
    }
}
