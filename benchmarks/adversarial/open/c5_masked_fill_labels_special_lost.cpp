// class: 5 wrong on inputs the trials never draw
// rules: mismatch out-of-bounds-read nan-inf-mismatch
// task: masked_fill_nll (new): def f(lp, l): m = l.ne(-100); i = l.masked_fill(~m, 0);
//       return -(lp.gather(1, i[:, None]).squeeze(1) * m).sum() / m.sum()
//       only_task(f, torch.randn(64, 512).log_softmax(-1), torch.randint(0, 512, (64,)))
// Review round 14: accepted 4 of 5 (1.063-1.075x; once not-faster, 1.058x at 4.3% noise); 6/6 trials exact.
// Idea: review 12/13's ignore_index gap through masked_fill instead of where/clamp. The labels' IntRange is
// known=True, [0, 512), specials=() : the comparison with -100 reaches the index through bitwise_not and
// masked_fill, which int_ranges does not read as a guard, so -100 (outside the legal range) is dropped as a value
// that would reach the index. Trials draw labels in 0..511 only. (Also seen, not made into cases: `i = l * m` and
// `torch.remainder(l, 512)` / `(l + 512) % 512` with m = l != -100 give int_range None and no specials: drawn in
// 0..3, -100 never. `l.masked_fill(l == -100, 0)` and `where(l == -100, 0, l)` do record -100.)
// What it does: sums logp[r, label[r]] over all 64 rows and divides by 64: no mask, no bounds check.
// In the user's process (cache entry as accepted; 16 of 64 labels -100): loss 6.877 instead of 6.909, 6.645
// instead of 6.592, 6.944 instead of 7.015 (reads logp[r, -100], the previous row's element 412); right without
// padding.
// Fix: keep every constant an integer input is compared with as a special, and check it empirically rather than by
// the static reading of guards: draw the specials, run the baseline on that trial, and drop a special only if the
// baseline itself fails on it (its TORCH_CHECK index assert). Statically, at least: read masked_fill(mask, v) as
// where(mask, v, self) and bitwise_not/logical_not as flipping the comparison, and keep the compared constants as
// specials when the range is unknown (None today for l * m and remainder).
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
