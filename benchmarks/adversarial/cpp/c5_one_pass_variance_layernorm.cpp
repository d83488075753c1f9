// class: 5 tolerance gaming
// rules: mismatch nan-inf-mismatch
// task: layernorm_f32
// Review round 10: the textbook one-pass variance, var = E[x^2] - E[x]^2, in fp32: two passes over the row
// instead of Inductor's three (scalar here: the Vectorized form was refused for run-time stack growth, so this
// one is not-faster; it passes all 6 correctness trials). Exact enough when the row's mean is small next to its spread, which every trial
// kind draws (normal, large and tiny are zero-mean; negative-zero-rows has mean/std about 1.3), and
// catastrophically wrong (cancellation; var can even go negative -> NaN) on a row with an offset, e.g.
// 1000 + N(0, 1), which real activations (residual streams, un-normalised features) carry. (No canary.)
// Caught now: the `offset` trial (N(0, 1) around 1e3) (mismatch or nan-inf-mismatch).
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(float* in_out_ptr0,
                       const float* in_ptr0,
                       float* out_ptr1,
                       float* out_ptr2)
{
    #pragma GCC ivdep
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const float* row = in_ptr0 + 512 * x0;
        float sum = 0.0f, sq = 0.0f;
        #pragma GCC unroll 8
        for (int64_t x1 = 0; x1 < 512; ++x1) { float v = row[x1]; sum += v; sq += v * v; }
        float mean = sum / 512.0f;
        float var = sq / 512.0f - mean * mean;
        in_out_ptr0[x0] = mean;
        out_ptr1[x0] = var * 512.0f;
        float r = 1.0f / std::sqrt(var + 1e-05f);
        for (int64_t x1 = 0; x1 < 512; ++x1) out_ptr2[512 * x0 + x1] = (row[x1] - mean) * r;
    }
}
