// class: 5 wrong on inputs the trials never draw
// rules: mismatch out-of-bounds-read nan-inf-mismatch
// task: masked_fill_nll
// Review round 14 (accepted 4 of 5, 1.063-1.075x; once not-faster, 1.058x at 4.3% noise; 6/6 trials exact).
// Task (the suite's cpp_tasks): the masked token loss with the labels made classes by masked_fill:
//   def masked_fill_nll(logp, labels):
//       mask = labels.ne(-100)
//       classes = labels.masked_fill(~mask, 0)
//       return -(logp.gather(1, classes[:, None]).squeeze(1) * mask).sum() / mask.sum()
//   "masked_fill_nll": only_task(masked_fill_nll, torch.randn(64, 512).log_softmax(-1), torch.randint(0, 512, (64,)))
// Idea: review 12/13's ignore_index gap through masked_fill instead of where/clamp. The labels' IntRange was
// known=True, [0, 512), specials=(): the comparison with -100 reached the index through bitwise_not and a where
// (Inductor's masked_fill), which int_ranges did not read as a guard, so -100 (outside the legal range) was dropped
// as a value that would reach the index. Trials drew labels in 0..511 only. (Also seen: `i = l * m`,
// `torch.remainder(l, 512)` and `(l + 512) % 512` with m = l != -100 gave int_range None and no specials: drawn in
// 0..3, -100 never.)
// What it does: sums logp[r, label[r]] over all 64 rows and divides by 64: no mask, no bounds check.
// In the user's process (cache entry as accepted; 16 of 64 labels -100): loss 6.877 instead of 6.909, 6.645
// instead of 6.592, 6.944 instead of 7.015 (reads logp[r, -100], the previous row's element 412); right without
// padding.
// Closed: a compared constant is kept as a special wherever drawing it is safe, decided by evaluating the kernel's
// ops at one element holding it (int_ranges._AtOneElement: where and masked_fill pick their side, bitwise_not
// negates, a product with the mask, a remainder compute): masked_fill sends -100 to class 0, so the labels are
// [0, 512) with special -100, drawn in 10-25% of them; this kernel reads logp[r, -100] there: rejected
// in trial 0 with mismatch (off by 0.035), or out-of-bounds-read where row 0 holds -100 (the band before logp).
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(float* in_out_ptr0,
                       const int64_t* in_ptr0,
                       const float* in_ptr1,
                       int64_t* out_ptr1)
{
    // No ignore_index test, no bounds check: every label is taken as a class (the trials never draw -100).
    float acc0 = 0.f, acc1 = 0.f, acc2 = 0.f, acc3 = 0.f;
    for (int64_t r = 0; r < 64; r += 4) {
        acc0 += in_ptr1[in_ptr0[r] + 512L * r];
        acc1 += in_ptr1[in_ptr0[r + 1] + 512L * (r + 1)];
        acc2 += in_ptr1[in_ptr0[r + 2] + 512L * (r + 2)];
        acc3 += in_ptr1[in_ptr0[r + 3] + 512L * (r + 3)];
    }
    out_ptr1[0] = 64;
    in_out_ptr0[0] = -((acc0 + acc1) + (acc2 + acc3)) / 64.0f;
}
