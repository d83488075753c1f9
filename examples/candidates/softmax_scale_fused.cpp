// A hand-written replacement for Inductor's C++ kernel of examples/softmax_scale.py (torch 2.13, CPU), faster
// because it fuses Inductor's passes, skips its scratch outputs, takes ATen's 2-ulp exp (exp_u20) where Inductor
// takes the 1-ulp one (well inside float32's tolerance), and fetches the next row while it computes this one: the
// verifier times every call on inputs no call has seen, coming from the last-level cache, as a model's activations
// do. Single-threaded here: 1.55-1.62x (1.15x without the prefetch), headroom enough that load on a shared machine
// does not sink it under the verifier's margin. Try it:
//   aikg inspect examples/softmax_scale.py --save-tasks tasks
//   aikg verify --task KEY --tasks-dir tasks --candidate examples/candidates/softmax_scale_fused.cpp
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       bool* out_ptr0,
                       float* out_ptr1,
                       float* out_ptr2,
                       float* out_ptr3,
                       float* out_ptr4)
{
    // softmax(x * 0.125) row by row (examples/softmax_scale.py, 64x512 float32): a max pass, an exp+sum pass into the output, a scaling pass.
    // out_ptr0..3 are Inductor's scratch buffers, read by no one after this kernel: not written.
    using Vec = at::vec::Vectorized<float>;
    const Vec scale(0.125f);
    #pragma omp parallel for
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const float* row = in_ptr0 + 512 * x0;
        float* out = out_ptr4 + 512 * x0;
        Vec vmax(-std::numeric_limits<float>::infinity());
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
        {
            __builtin_prefetch(row + 512 + x1);  // the next row, while this one is computed (a row is 32 lines)
            vmax = at::vec::maximum(vmax, Vec::loadu(row + x1) * scale);
        }
        float m = at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return at::vec::maximum(a, b); }, vmax);
        const Vec vm(m);
        // A row whose maximum is NaN, +inf or -inf (a NaN in it, an overflow, a fully masked row) meets NaN in
        // x - max, and Inductor's answer is NaN there: exp_u20 does not keep NaN, exp does.
        const bool exact = !std::isfinite(m);
        Vec vsum(0.0f);
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
        {
            const Vec d = Vec::loadu(row + x1) * scale - vm;
            Vec e = exact ? d.exp() : d.exp_u20();
            e.store(out + x1);
            vsum = vsum + e;
        }
        const Vec vinv(1.0f / at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return a + b; }, vsum));
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            (Vec::loadu(out + x1) * vinv).store(out + x1);
    }
}
