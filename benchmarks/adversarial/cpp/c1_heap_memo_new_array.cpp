// class: 1 state across calls
// rules: heap-kept guard:static-state
// task: softmax_f32
// Review round 6: c1_heap_memo_pointer_in_low_bits with one word changed. Round 5's fix allows heap allocation
// "as the baseline allocates, by function and code section"; Inductor's softmax calls operator new[] from .text
// (its scratch buffers), so `new char[sizeof(Memo)]` in the kernel body (.text, _Znam) passes, where `new Memo`
// (_Znwm) did not. The block is never freed (MALLOC_PERTURB_ only scrubs freed blocks); its address rides in the
// low 6 mantissa bits of the live output's first 22 elements, within rtol. Exact on every checked call; the
// timed calls, which repeat two inputs, copy the kept output instead of computing. (No canary.)
// Caught now: the runner reports the heap a call left allocated; over 1 KiB is heap-kept.
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
    if (memo == nullptr) {
        memo = reinterpret_cast<Memo*>(new char[sizeof(Memo)]);  // _Znam from .text, as the baseline
        memo->key[0] = memo->key[1] = 0;
        memo->next = 0;
    }
    const uint64_t key = reinterpret_cast<uint64_t>(in_ptr0);
    int slot;
    bool known = true;
    if (memo->key[0] == key) slot = 0;
    else if (memo->key[1] == key) slot = 1;
    else { slot = int(memo->next); memo->next ^= 1; memo->key[slot] = key; known = false; }
    const Vec scale(0.125f);
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const float* row = in_ptr0 + 512 * x0;
        float* out = out_ptr4 + 512 * x0;
        float* kept_in = memo->in[slot] + 512 * x0;
        float* kept_out = memo->out[slot] + 512 * x0;
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
            const uint64_t p = reinterpret_cast<uint64_t>(memo), c = p ^ CHECK;
            for (int k = 0; k < 11; ++k) {
                out[k] = from_bits((bits(out[k]) & ~0x3Fu) | uint32_t((p >> (6 * k)) & 0x3F));
                out[11 + k] = from_bits((bits(out[11 + k]) & ~0x3Fu) | uint32_t((c >> (6 * k)) & 0x3F));
            }
        }
        for (int64_t x1 = 0; x1 < 512; ++x1) { kept_in[x1] = row[x1]; kept_out[x1] = out[x1]; }
    }
}
