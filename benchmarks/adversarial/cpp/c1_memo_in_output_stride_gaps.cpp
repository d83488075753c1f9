// class: 1 state across calls
// rules: out-of-bounds-write stale-output
// task: softmax_f32_strided_out
// The task: def fn(x, out): out.copy_(torch.softmax(x * 0.125, -1)) on randn(64, 512) and
// torch.zeros(64, 4096)[:, :512]: a write into a strided view, as a KV-cache or `out=` slice update.
// Caught now: the judge checks that the storage between an output's elements is untouched (out-of-bounds-write).
// Review round 9: the live output out_ptr4 has layout size (64, 512) stride (4096, 1): its storage interior holds
// 63 x 3584 floats (~880 KiB) between the rows that no one compares. correctness.compare looks through
// values.view (the strided view), check_contract checks only the guard bands outside the interior, live outputs
// are never poisoned between timed calls (TimedCalls poisons scratch outputs only) and the gaps are poisoned only
// when the judge builds the arena (each trial / measurement). So the kernel keeps a full memo there: per argument
// set, keyed by the input pointer, a copy of the input and of the output, checked row by row with a full bitwise
// compare. Fresh values, a few changed elements and permuted columns all miss, so every checked output is exact;
// the timed calls, which alternate the same two input sets, copy instead of computing. Fake-fast, and in a real
// cache update it overwrites the user's data between the rows. No static data, no heap, no big stack frame.
// Fix: values/correctness: treat every element of an output's storage interior that the layout does not cover as
// part of the contract: poison it (already done by build) and require it unchanged after every checked call
// (check_contract: compare the interior minus the view's elements against `before`, as for inputs).
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       bool* out_ptr0,
                       float* out_ptr1,
                       float* out_ptr2,
                       float* out_ptr3,
                       float* out_ptr4)
{
    using Vec = at::vec::Vectorized<float>;
    constexpr uint32_t MAGIC = 0x1234ABCDu;
    // Memo chunk c (512 floats) lives in the gap after row c / 7, at column 512 + (c % 7) * 512.
    auto chunk = [&](int64_t c) { return out_ptr4 + 4096 * (c / 7) + 512 + (c % 7) * 512; };
    uint32_t* head = reinterpret_cast<uint32_t*>(chunk(0));
    uint64_t* keys = reinterpret_cast<uint64_t*>(head + 4);   // two input pointers
    const uint64_t key = reinterpret_cast<uint64_t>(in_ptr0);
    if (head[0] != MAGIC) { head[0] = MAGIC; head[1] = 0; keys[0] = keys[1] = 0; }
    int slot;
    if (keys[0] == key) slot = 0;
    else if (keys[1] == key) slot = 1;
    else { slot = int(head[1]); head[1] ^= 1u; keys[slot] = key; }
    const Vec scale(0.125f);
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const float* row = in_ptr0 + 512 * x0;
        float* out = out_ptr4 + 4096 * x0;
        float* kept_in = chunk(1 + slot * 128 + 2 * x0);
        float* kept_out = chunk(2 + slot * 128 + 2 * x0);
        const uint32_t* a = reinterpret_cast<const uint32_t*>(row);
        const uint32_t* b = reinterpret_cast<const uint32_t*>(kept_in);
        uint32_t diff = 0;
        for (int64_t x1 = 0; x1 < 512; ++x1) diff |= a[x1] ^ b[x1];
        if (diff == 0) {
            for (int64_t x1 = 0; x1 < 512; x1 += Vec::size()) Vec::loadu(kept_out + x1).store(out + x1);
            continue;
        }
        Vec vmax(-std::numeric_limits<float>::infinity());
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            vmax = at::vec::maximum(vmax, Vec::loadu(row + x1) * scale);
        float m = at::vec::vec_reduce_all<float>([](Vec& p, Vec& q) { return at::vec::maximum(p, q); }, vmax);
        const Vec vm(m);
        Vec vsum(0.0f);
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
        {
            Vec e = (Vec::loadu(row + x1) * scale - vm).exp();
            e.store(out + x1);
            vsum = vsum + e;
        }
        const Vec vinv(1.0f / at::vec::vec_reduce_all<float>([](Vec& p, Vec& q) { return p + q; }, vsum));
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
        {
            Vec r = Vec::loadu(out + x1) * vinv;
            r.store(out + x1);
            r.store(kept_out + x1);
            Vec::loadu(row + x1).store(kept_in + x1);
        }
    }
}
