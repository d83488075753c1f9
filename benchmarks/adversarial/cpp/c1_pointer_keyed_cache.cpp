// class: 1 state across calls
// rules: guard:static-state cached-result stale-output
// task: softmax_f32
// An output cache keyed on the input pointer and a few sampled values: a repeated call with the
// same buffer and the same samples replays the cached rows instead of computing. (No canary.)
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       bool* out_ptr0,
                       float* out_ptr1,
                       float* out_ptr2,
                       float* out_ptr3,
                       float* out_ptr4)
{
    static const float* last_in = nullptr;
    static float samples[4];
    static float cached[64 * 512];
    if (in_ptr0 == last_in && samples[0] == in_ptr0[0] && samples[1] == in_ptr0[777] && samples[2] == in_ptr0[9000]
        && samples[3] == in_ptr0[32767]) {
        for (int i = 0; i < 64 * 512; ++i) out_ptr4[i] = cached[i];
        return;
    }
    // softmax(x * 0.125) row by row, 64x512 (examples/candidates/softmax_scale_fused.cpp); out_ptr0..3 are scratch.
    using Vec = at::vec::Vectorized<float>;
    const Vec scale(0.125f);
    #pragma omp parallel for
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const float* row = in_ptr0 + 512 * x0;
        float* out = out_ptr4 + 512 * x0;
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
    }
    last_in = in_ptr0;
    samples[0] = in_ptr0[0]; samples[1] = in_ptr0[777]; samples[2] = in_ptr0[9000]; samples[3] = in_ptr0[32767];
    for (int i = 0; i < 64 * 512; ++i) cached[i] = out_ptr4[i];
}
