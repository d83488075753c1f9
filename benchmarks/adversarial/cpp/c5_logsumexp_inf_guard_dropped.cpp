// class: 5 tolerance gaming
// rules: nan-inf-mismatch
// task: logsumexp_f32
// Review round 20. The trials never draw a non-finite input: every float input is N(0, 1) shaped by the trial kind
// (x 1e6, x 1e-30, |x| negated with zero rows, rows x 10^-3..10^3, +1e3), and the timed calls' fresh values are
// N(0, 1). So a kernel that is exact on every finite input and wrong on infinities or NaN passes. This one is
// logsumexp(x, -1) fused into one pass per row (Inductor writes three loops and a scratch row of maxima), with ATen's
// 2-ulp exp, and it drops the guard Inductor (and eager) put on the row maximum: max is replaced by 0 where it is
// +-inf, so that a row of -inf (every class masked: log-space DP, CRF and beam-search states, a fully padded
// attention row) gives -inf, and a row holding +inf gives inf. Without the guard, x - max is -inf - -inf = NaN:
// such rows come out NaN, and a NaN in a loss or a log-probability poisons everything after it.
// Switch: GUARD = true puts the guard back (same speed: one branch per row).
// Measured (review 20, shared 2-core box under another test run): correct on all 6 trials (max abs error 4.8e-7)
// in 2/2 verifications, rejected only by timing (not-faster 1.05x and 1.07x at noise 0.29 and 0.32); `outside`: a
// row of -inf gives NaN (eager: -inf), every other row equal. Faster code with the same omission is accepted.
// Reproduce: cd WORKTREE && OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r20.py verify benchmarks/adversarial/open/c5_logsumexp_inf_guard_dropped.cpp 2
//       and: cd WORKTREE && OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r20.py outside benchmarks/adversarial/open/c5_logsumexp_inf_guard_dropped.cpp
#include <torch/csrc/inductor/cpp_prefix.h>
namespace {
constexpr bool GUARD = false;
}
extern "C"  void  Placeholder.KERNEL_NAME(float* in_out_ptr0,
                       const float* in_ptr0,
                       float* out_ptr0)
{
    using Vec = at::vec::Vectorized<float>;
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const float* row = in_ptr0 + 512 * x0;
        Vec vmax(-std::numeric_limits<float>::infinity());
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
        {
            __builtin_prefetch(row + 512 + x1);
            vmax = at::vec::maximum(vmax, Vec::loadu(row + x1));
        }
        float m = at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return at::vec::maximum(a, b); }, vmax);
        if (GUARD && std::abs(m) == std::numeric_limits<float>::infinity())
            m = 0.0f;
        const Vec vm(m);
        Vec vsum(0.0f);
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            vsum = vsum + (Vec::loadu(row + x1) - vm).exp_u20();
        in_out_ptr0[x0] = std::log(at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return a + b; }, vsum)) + m;
    }
}
