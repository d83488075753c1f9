// class: 5 wrong on inputs the trials never draw
// rules: mismatch out-of-bounds-read nan-inf-mismatch
// task: index_put_nll
// Review round 15, finding 3 (correct on every trial in 6 of 6 runs; rejected only as not-faster, 0.91-1.08x).
// Task (the suite's cpp_tasks): the masked token loss with DPO's guard (`labels[labels == -100] = 0`) on a copy:
//   def index_put_nll(logp, labels):
//       classes = labels.clone()
//       classes[labels == -100] = 0
//       mask = labels != -100
//       return -(logp.gather(1, classes[:, None]).squeeze(1) * mask).sum() / mask.sum()
//   "index_put_nll": only_task(index_put_nll, torch.randn(2048, 512).log_softmax(-1),
//                              torch.randint(0, 512, (2048,)))
// Idea: the guard is aten.index_put(labels, [labels == -100], 0), which int_ranges followed neither in its range
// analysis nor in its one-element evaluation: the labels' IntRange was None, so they were drawn in 0..3 and -100
// never was.
// What it does: sums logp[r, label[r]] over all 2048 rows in 16 lanes and divides by 2048: no guard, no mask, no
// bounds check, a fixed count.
// In the user's process (analysis, review 15): with 25% padding it reads logp[r, -100] (the previous row's element
// 412) and divides by 2048 instead of the real token count; right without padding.
// Closed: int_ranges reads index_put(self, [bool mask of self's shape], one value) as where(mask, value, self), so
// the labels are [0, 512) with special -100, drawn in 10-25% of them; this kernel reads logp[r, -100] there and
// counts them: rejected with mismatch, or out-of-bounds-read where row 0 holds -100 (the band before logp).
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(float* in_out_ptr0,
                       const int64_t* in_ptr0,
                       const float* in_ptr1,
                       int64_t* out_ptr2)
{
    // No ignore_index test, no bounds check: every label is taken as a class.
    float lanes[16] = {};
    for (int64_t r = 0; r < 2048; r += 16)
        for (int64_t k = 0; k < 16; ++k)
            lanes[k] += in_ptr1[in_ptr0[r + k] + 512L * (r + k)];
    float sum = 0.f;
    for (int64_t k = 0; k < 16; ++k)
        sum += lanes[k];
    out_ptr2[0] = 2048;
    in_out_ptr0[0] = -sum / 2048.0f;
}
