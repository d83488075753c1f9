// HAND-WRITTEN STAND-IN for a strong model's Coder reply (not model output): softmax over the last axis of a
// [256, 2048] float32 tensor as a single-pass online softmax. One read of each row computes the running max and the
// rescaled sum block by block and stores exp(x - block max) into the output; a second pass over the output (in L1)
// applies each block's correction and the reciprocal of the sum. One exp per element (ATen's faster exp_u20, whose
// error float32's 1e-5 tolerance covers: the verifier measured relative errors below 1e-6), no division, and
// Inductor's scratch outputs (the row max and sum, read by no one after this kernel) are not written.
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       float* out_ptr0,
                       float* out_ptr1,
                       float* out_ptr2)
{
    using Vec = at::vec::Vectorized<float>;
    constexpr int64_t rows = 256;
    constexpr int64_t cols = 2048;
    constexpr int64_t block = 1024;  // floats per block: 4 KiB, a multiple of every vector width
    constexpr int64_t blocks = cols / block;
    static_assert(cols % block == 0, "the row is a whole number of blocks");
    #pragma omp parallel for schedule(static)
    for (int64_t row = 0; row < rows; ++row)
    {
        const float* x = in_ptr0 + cols * row;
        float* y = out_ptr2 + cols * row;
        float block_max[blocks];
        float m = -std::numeric_limits<float>::infinity();
        float s = 0.0f;
        for (int64_t b = 0; b < blocks; ++b)
        {
            const float* xb = x + block * b;
            Vec vmax(-std::numeric_limits<float>::infinity());
            for (int64_t c = 0; c < block; c += Vec::size())
                vmax = at::vec::maximum(vmax, Vec::loadu(xb + c));
            const float bm = at::vec::vec_reduce_all<float>(
                [](Vec& a, Vec& v) { return at::vec::maximum(a, v); }, vmax);
            block_max[b] = bm;
            if (bm == -std::numeric_limits<float>::infinity())
            {
                // A block wholly masked (-inf) adds nothing: its outputs are 0 unless the whole row is -inf (then
                // the exact pass below writes them).
                for (int64_t c = 0; c < block; c += Vec::size())
                    Vec(0.0f).store(y + block * b + c);
                continue;
            }
            const Vec vbm(bm);
            Vec vsum(0.0f);
            for (int64_t c = 0; c < block; c += Vec::size())
            {
                const Vec e = (Vec::loadu(xb + c) - vbm).exp_u20();
                e.store(y + block * b + c);
                vsum = vsum + e;
            }
            const float bs = at::vec::vec_reduce_all<float>([](Vec& a, Vec& v) { return a + v; }, vsum);
            // Merge the block into the running (max, sum); NaN propagates as in the baseline's max.
            const float m2 = max_propagate_nan(m, bm);
            s = s * std::exp(m - m2) + bs * std::exp(bm - m2);
            m = m2;
        }
        if (!std::isfinite(m))
        {
            // A NaN or +inf in the row, or a row wholly -inf: x - max meets NaN, and Inductor's answer is NaN there.
            // Its two passes again, with the exp that keeps NaN (exp_u20 does not).
            const Vec vm(m);
            Vec vsum(0.0f);
            for (int64_t c = 0; c < cols; c += Vec::size())
            {
                const Vec e = (Vec::loadu(x + c) - vm).exp();
                e.store(y + c);
                vsum = vsum + e;
            }
            const Vec inv(1.0f / at::vec::vec_reduce_all<float>([](Vec& a, Vec& v) { return a + v; }, vsum));
            for (int64_t c = 0; c < cols; c += Vec::size())
                (Vec::loadu(y + c) * inv).store(y + c);
            continue;
        }
        const float inv = 1.0f / s;
        for (int64_t b = 0; b < blocks; ++b)
        {
            const Vec scale(std::exp(block_max[b] - m) * inv);
            float* yb = y + block * b;
            for (int64_t c = 0; c < block; c += Vec::size())
                (Vec::loadu(yb + c) * scale).store(yb + c);
        }
    }
}
