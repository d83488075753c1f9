// class: 1 state across calls
// rules: out-of-bounds-write unwritten-output mismatch
// task: softmax_f32
// Review round 10, probe for r10_arena_tail_write: the same tail counter, but the kernel returns without
// computing on the 4th call it counts. A mismatch (unwritten-output) in trial 3 proves the counter survived
// three correctness trials in the arena tail unseen; a pass would mean it did not.
// Caught now: the arena after the last storage is filled (by turns 0xA5 and zeros) and checked with the padding.
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       bool* out_ptr0,
                       float* out_ptr1,
                       float* out_ptr2,
                       float* out_ptr3,
                       float* out_ptr4)
{
    {
        // out_ptr4: 64*512 floats, then a 4096-byte (1024-float) guard band; 16 floats further on is the tail.
        int* tail = reinterpret_cast<int*>(out_ptr4 + 64 * 512 + 1024 + 16);
        if (tail[0] == 0 || tail[0] == 0x5EC0DE) { tail[0] = 0x5EC0DE; tail[1] += 1; if (tail[1] == 4) return; }
    }
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
