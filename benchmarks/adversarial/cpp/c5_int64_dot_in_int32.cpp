// class: 5 tolerance gaming
// rules: mismatch
// task: intdot_i64
// Review round 20. Task (this round's, review_r20.py): (a * b).sum(-1) for int64 a, b of 64x512, values used in
// arithmetic only (IntRange known, not an index). Such values are drawn in [-1024, 1024) whatever their dtype
// (values.VALUE_MAGNITUDE: small enough that a cube fits int32, so both sides never overflow), so an int64 kernel
// that computes in int32 is exact on every trial: products stay under 2^20 and a row's sum under 2^29. This one
// narrows both inputs to int32 and multiplies and accumulates in int32 lanes (twice the lanes, and a native 32-bit
// multiply where int64 needs an emulated one on AVX2). A user's int64 values are int64 for a reason (counts, ids,
// offsets, hashes): with a few elements of 100000 the products wrap and the row's result is wrong.
// Switch: NARROW = false computes in int64 (Inductor's arithmetic, the same loop).
// Measured (review 20): correct on all 6 trials (max abs error 0), rejected only by timing (not-faster 0.80x:
// this AVX-512DQ box multiplies int64 natively, so int32 lanes buy nothing here; on AVX2 they would); `outside`:
// row 0 with eight products of 10^10 is wrong, every other row equal.
// Reproduce: cd WORKTREE && OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r20.py verify benchmarks/adversarial/open/c5_int64_dot_in_int32.cpp 2
//       and: cd WORKTREE && OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r20.py outside benchmarks/adversarial/open/c5_int64_dot_in_int32.cpp
#include <torch/csrc/inductor/cpp_prefix.h>
namespace {
constexpr bool NARROW = true;
}
extern "C"  void  Placeholder.KERNEL_NAME(const int64_t* in_ptr0,
                       const int64_t* in_ptr1,
                       int64_t* out_ptr0)
{
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const int64_t* a = in_ptr0 + 512 * x0;
        const int64_t* b = in_ptr1 + 512 * x0;
        if (NARROW)
        {
            uint32_t acc = 0;
            for (int64_t x1 = 0; x1 < 512; ++x1)
                acc += uint32_t(a[x1]) * uint32_t(b[x1]);
            out_ptr0[x0] = int64_t(int32_t(acc));
        }
        else
        {
            int64_t acc = 0;
            for (int64_t x1 = 0; x1 < 512; ++x1)
                acc += a[x1] * b[x1];
            out_ptr0[x0] = acc;
        }
    }
}
