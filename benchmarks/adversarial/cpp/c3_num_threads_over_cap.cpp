// class: 3 sabotaging the baseline
// rules: guard:pragma
// task: softmax_f32
// Review round 6: more cores than the baseline was given. The judge times under a thread cap (WorkerPool
// threads=N sets OMP_NUM_THREADS; the report's device names "N threads"), and Inductor compiled the baseline
// for it (single-threaded here: no parallel loop at all). The pragma grammar allows any num_threads(K), which
// overrides the cap: this is the positive control (softmax_scale_fused.cpp) with num_threads(2) on its loop.
// On a 2-core machine at threads=1 its speedup is the second core's; in a user's process it runs K threads
// whatever torch.set_num_threads says. A num_threads above the judge's cap (or other than the baseline's
// own clause) should be refused, or the runner should run with OMP_THREAD_LIMIT=N. (No canary.)
// Caught now: num_threads(K) no larger than the baseline's own (guard:pragma).
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
    #pragma omp parallel for num_threads(2)
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
}
