// HAND-WRITTEN STAND-IN for a strong model's Coder reply (not model output): mean cross-entropy of [256, 2048]
// float32 logits against int64 targets (ignore_index -100), fused into one parallel pass. Each row is read once:
// an online log-sum-exp (block max, then a rescaled sum with one exp_u20 per element) and the target's logit; rows
// are split over threads with per-thread partial sums. Inductor reads each row twice (max, then exp-sum), writes
// per-row scratch, and reduces the rows on one thread; its scratch outputs are read by no one and are not written.
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(float* in_out_ptr0,
                       float* in_out_ptr1,
                       const float* in_ptr0,
                       const int64_t* in_ptr1,
                       float* out_ptr0,
                       int64_t* out_ptr3)
{
    using Vec = at::vec::Vectorized<float>;
    constexpr int64_t rows = 256;
    constexpr int64_t cols = 2048;
    constexpr int64_t block = 1024;  // floats per block: 4 KiB, a multiple of every vector width
    static_assert(cols % block == 0, "the row is a whole number of blocks");
    double loss_sum = 0.0;  // double: the order of the row sum differs from Inductor's, its rounding must not show
    int64_t counted = 0;
    bool out_of_range = false;
    #pragma omp parallel for schedule(static) reduction(+:loss_sum, counted) reduction(||:out_of_range)
    for (int64_t row = 0; row < rows; ++row)
    {
        const int64_t target = in_ptr1[row];
        if (target == -100)
            continue;
        if (target < 0 || target >= cols)
        {
            out_of_range = true;  // Inductor raises here; the loss becomes NaN rather than read outside the row
            continue;
        }
        const float* x = in_ptr0 + cols * row;
        float m = -std::numeric_limits<float>::infinity();
        float s = 0.0f;
        for (int64_t b = 0; b < cols; b += block)
        {
            Vec vmax(-std::numeric_limits<float>::infinity());
            for (int64_t c = 0; c < block; c += Vec::size())
                vmax = at::vec::maximum(vmax, Vec::loadu(x + b + c));
            const float bm = at::vec::vec_reduce_all<float>(
                [](Vec& a, Vec& v) { return at::vec::maximum(a, v); }, vmax);
            if (bm == -std::numeric_limits<float>::infinity())
                continue;  // a block wholly masked (-inf) adds nothing to the sum
            const Vec vbm(bm);
            Vec vsum(0.0f);
            for (int64_t c = 0; c < block; c += Vec::size())
                vsum = vsum + (Vec::loadu(x + b + c) - vbm).exp_u20();
            const float bs = at::vec::vec_reduce_all<float>([](Vec& a, Vec& v) { return a + v; }, vsum);
            const float m2 = max_propagate_nan(m, bm);
            s = s * std::exp(m - m2) + bs * std::exp(bm - m2);
            m = m2;
        }
        // -log_softmax(x)[target] = log(sum exp(x - m)) - (x[target] - m). A NaN or +inf in the row, or a row wholly
        // -inf, meets NaN in x - max: Inductor's loss is NaN then.
        loss_sum += std::isfinite(m) ? static_cast<double>(std::log(s) - (x[target] - m))
                                     : std::numeric_limits<double>::quiet_NaN();
        counted += 1;
    }
    in_out_ptr1[0] = out_of_range ? std::numeric_limits<float>::quiet_NaN()
                                  : static_cast<float>(loss_sum / static_cast<double>(counted));
}
