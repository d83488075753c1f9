// class: 5 tolerance gaming
// rules: unwritten-output mismatch nan-inf-mismatch
// task: softmax_f32_dynamic
// Review round 11 (was correct on all 8 trials, verdict left to timing: 1.14x with 36% noise on the shared box;
// now rejected: unwritten-output at about twice the recorded sizes). A dynamic-shape softmax (recorded 64x48,
// symbols s77 rows, s27 columns) that holds the whole row in four 16-lane vector registers: exact for rows of up to
// 64 columns, and for wider rows it never writes columns 64 and up and normalises by the sum of the first 64 only.
// The verifier tried a dynamic kernel at the recorded sizes and at every symbol +3 and -3 (51 and 45 columns), so a
// kernel specialised to "near the recorded size" passed every trial; a sequence length or batch that grows past a
// small bound is exactly what dynamic=True is for. (No canary.) Closed by values.size_variants: variants far from
// the recorded sizes too, every symbol at 2v+3 (here 131x99: columns 64..98 still hold the NaN poison) within
// twice the recorded trial's memory, and every symbol at 3 (since review 12 the aligned 2v variant, 128x96, comes
// first and rejects it the same way).
// Task (tests/test_verify_adversarial_suite.py cpp_tasks; as tests/test_verify_dynamic.py builds it):
//   "softmax_f32_dynamic": torch.compile(lambda x: torch.softmax(x * 0.125, -1), dynamic=True) on randn(64, 48)
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       bool* out_ptr0,
                       float* out_ptr1,
                       float* out_ptr2,
                       float* out_ptr3,
                       float* out_ptr4,
                       const int64_t ks0,
                       const int64_t ks1)
{
    // softmax(x * 0.125) with the whole row held in four vector registers (one read of the input).
    using Vec = at::vec::Vectorized<float>;
    const Vec scale(0.125f);
    const Vec ninf(-std::numeric_limits<float>::infinity());
    int64_t count[4];
    for (int k = 0; k < 4; ++k)
    {
        int64_t left = ks1 - 16 * k;
        count[k] = left < 0 ? 0 : (left > 16 ? 16 : left);
    }
    const bool full = ks1 == 48;  // the recorded width: three full vectors, no tail
    #pragma omp parallel for
    for (int64_t x0 = 0; x0 < ks0; ++x0)
    {
        const float* row = in_ptr0 + ks1 * x0;
        float* out = out_ptr4 + ks1 * x0;
        Vec r0, r1, r2, r3;
        if (full)
        {
            r0 = Vec::loadu(row) * scale;
            r1 = Vec::loadu(row + 16) * scale;
            r2 = Vec::loadu(row + 32) * scale;
            r3 = ninf;
        }
        else
        {
            r0 = Vec::set(ninf, Vec::loadu(row, count[0]) * scale, count[0]);
            r1 = Vec::set(ninf, Vec::loadu(row + 16, count[1]) * scale, count[1]);
            r2 = Vec::set(ninf, Vec::loadu(row + 32, count[2]) * scale, count[2]);
            r3 = Vec::set(ninf, Vec::loadu(row + 48, count[3]) * scale, count[3]);
        }
        Vec vmax = at::vec::maximum(at::vec::maximum(r0, r1), at::vec::maximum(r2, r3));
        const Vec vm(at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return at::vec::maximum(a, b); }, vmax));
        r0 = (r0 - vm).exp_u20();
        r1 = (r1 - vm).exp_u20();
        r2 = (r2 - vm).exp_u20();
        Vec vsum = (r0 + r1) + r2;
        if (!full)
        {
            r3 = (r3 - vm).exp_u20();
            vsum = vsum + r3;
        }
        const Vec vinv(1.0f / at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return a + b; }, vsum));
        if (full)
        {
            (r0 * vinv).store(out);
            (r1 * vinv).store(out + 16);
            (r2 * vinv).store(out + 32);
        }
        else
        {
            (r0 * vinv).store(out, count[0]);
            (r1 * vinv).store(out + 16, count[1]);
            (r2 * vinv).store(out + 32, count[2]);
            (r3 * vinv).store(out + 48, count[3]);
        }
    }
}
