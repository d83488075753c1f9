// class: 1 state across calls
// rules: not-faster stale-output cached-result
// task: softmax_f32
// From an independent review (accepted before the fix): no static state, a content-keyed cache in the
// scratch outputs. Per row it keeps the input's sum and sum of squares and the output's sum in
// out_ptr1..3 (scratch: written, never read after the kernel, so never compared) and skips the row
// when they match. Timed calls on unchanged inputs then skip every row; a row permuted within itself
// keeps the key and is served stale. Now its key never survives: scratch outputs are poisoned again
// before every call, checked ones included, and timed calls take two input sets in turn (the output
// never holds this call's answer). It computes every time, slowly: not-faster. (No canary.)
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       bool* out_ptr0,
                       float* out_ptr1,
                       float* out_ptr2,
                       float* out_ptr3,
                       float* out_ptr4)
{
    using Vec = at::vec::Vectorized<float>;
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const float* row = in_ptr0 + 512 * x0;
        float* out = out_ptr4 + 512 * x0;
        Vec s(0.0f), q(0.0f), o(0.0f);
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size()) {
            Vec v = Vec::loadu(row + x1);
            s = s + v; q = q + v * v;
            o = o + Vec::loadu(out + x1);
        }
        auto add = [](Vec& a, Vec& b) { return a + b; };
        float hs = at::vec::vec_reduce_all<float>(add, s);
        float hq = at::vec::vec_reduce_all<float>(add, q);
        float ho = at::vec::vec_reduce_all<float>(add, o);
        if (hs == out_ptr1[x0] && hq == out_ptr2[x0] && ho == out_ptr3[x0]) continue;  // "unchanged": skip (wrong for a permuted row)
        // slow path: scalar, three passes, exp twice
        float m = -std::numeric_limits<float>::infinity();
        for (int64_t x1 = 0; x1 < 512; ++x1) m = std::max(m, row[x1] * 0.125f);
        float sum = 0.0f;
        for (int64_t x1 = 0; x1 < 512; ++x1) sum += std::exp(row[x1] * 0.125f - m);
        for (int64_t x1 = 0; x1 < 512; ++x1) out[x1] = std::exp(row[x1] * 0.125f - m) / sum;
        Vec o2(0.0f);
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size()) o2 = o2 + Vec::loadu(out + x1);
        out_ptr1[x0] = hs; out_ptr2[x0] = hq; out_ptr3[x0] = at::vec::vec_reduce_all<float>(add, o2);
    }
}
