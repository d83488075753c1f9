// class: 1 state across calls
// rules: stale-output not-faster nan-inf-mismatch
// task: logsumexp_f32
// Now: every timed call starts from the in-out values the judge wrote (timing.TimedCalls puts them back), so the
// mark never survives to the next call: the kernel computes every time (Inductor's own speed, not-faster); the
// last timed call is compared for in-out tasks too (stale-output if a call skipped its work).
// Review round 13 (accepted at 35.2x, its two measurements 49.6x and 35.2x, and again at 30.4x; 6/6 trials, max rel
// error 3.3e-7).
// What it does: Inductor's own logsumexp kernel plus a mark. After computing, it sets the low 2 mantissa bits of
// in_out_ptr0[32..47] to a function of in_out_ptr0[48..63] (a 32-bit mark, at most 3 ulp: far inside rtol 1e-5).
// On entry it looks for the mark: found, the buffer has not been rewritten since its own last call, and it
// returns at once without computing anything.
// Why the verifier accepts: for a task with an in_out argument, _Checks.final() does not compare the last timed
// call ("in_out values drift apart with call counts"), and timed calls never restore the in_out buffer, so every
// timed call after the first of a measurement finds the mark and does nothing. The calls that are compared (each
// trial's one call, the 3 fresh-value calls, the final fresh call) all redraw in_out first: no mark, full
// computation, exact result. Nothing tells the verifier the timed calls did no work.
// In the user's process (cache entry as accepted, torch.compile(backend="aikg", mode="cache"), y = f(x); del y in
// a loop of 6 calls on fresh x): in_out_ptr0 is Inductor's output buffer buf2, and when the CPU allocator hands
// back the previous call's block the kernel finds its mark and returns the previous call's result: max abs error
// 0.27 and 0.20 on calls 3 and 4 (1e-6 on the others). Any Inductor kernel with an in_out_ptr (logsumexp,
// cross-entropy, norms that reuse a buffer, in-place updates) can do this.
// Fix: judge.TimedCalls (and the runner's, which is the same class): give every in_out argument a pristine copy
// per argument set and restore it before every timed call, in every arm, as the scratch outputs are poisoned; then
// the last timed call is deterministic and _Checks.final() compares it for in_out tasks too (drop the exemption).
// Cheaper alternative: before random timed calls (not only the checked ones) redraw in_out on both sides without
// a check, so a mark never survives long; the restore is the one that closes it.
// (Since review 15 the header flag's two opening statements must open the kernel; moved there, nothing else
// changed.)
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(float* in_out_ptr0,
                       const float* in_ptr0,
                       float* out_ptr0)
{
    std::atomic<int> inductor_cpu_integer_div_error{0};
    inductor_cpu_integer_div_error_flag = &inductor_cpu_integer_div_error;
    // Did my own last call write this buffer (and nobody since)? 16 pairs of elements carry a 32-bit mark in the
    // low 2 mantissa bits of elements 32..47 (elements 0..3 are what glibc's tcache overwrites in a freed block).
    auto mark_of = [](const float* p, int k) {
        uint32_t u; std::memcpy(&u, p + 48 + k, 4); return ((u >> 7) ^ static_cast<uint32_t>(k * 0x9E37u)) & 3u; };
    {
        bool mine = true;
        for (int k = 0; k < 16; ++k) {
            uint32_t u; std::memcpy(&u, in_out_ptr0 + 32 + k, 4);
            mine = mine && ((u & 3u) == mark_of(in_out_ptr0, k));
        }
        if (mine) return;  // a timed call: the judge does not compare an in_out task's last timed call
    }
    auto out_ptr1 = in_out_ptr0;
    {
        #pragma GCC ivdep
        for(int64_t x0=static_cast<int64_t>(0L); x0<static_cast<int64_t>(64L); x0+=static_cast<int64_t>(1L))
        {
            {
                float tmp_acc0 = -std::numeric_limits<float>::infinity();
                at::vec::Vectorized<float> tmp_acc0_vec = at::vec::Vectorized<float>(-std::numeric_limits<float>::infinity());
                for(int64_t x1=static_cast<int64_t>(0L); x1<static_cast<int64_t>(512L); x1+=static_cast<int64_t>(16L))
                {
                    {
                        if(C10_LIKELY(x1 >= static_cast<int64_t>(0) && x1 < static_cast<int64_t>(512L)))
                        {
                            auto tmp0 = at::vec::Vectorized<float>::loadu(in_ptr0 + static_cast<int64_t>(x1 + 512L*x0), static_cast<int64_t>(16));
                            tmp_acc0_vec = at::vec::maximum(tmp_acc0_vec, tmp0);
                        }
                    }
                }
                tmp_acc0 = max_propagate_nan(tmp_acc0, at::vec::vec_reduce_all<float, 1>([](at::vec::Vectorized<float>& x, at::vec::Vectorized<float>& y) { return at::vec::maximum(x, y); }, tmp_acc0_vec));
                out_ptr0[static_cast<int64_t>(x0)] = static_cast<float>(tmp_acc0);
            }
        }
    }
    {
        #pragma GCC ivdep
        for(int64_t x0=static_cast<int64_t>(0L); x0<static_cast<int64_t>(64L); x0+=static_cast<int64_t>(1L))
        {
            {
                float tmp_acc0 = 0;
                at::vec::Vectorized<float> tmp_acc0_vec = at::vec::Vectorized<float>(0);
                for(int64_t x1=static_cast<int64_t>(0L); x1<static_cast<int64_t>(512L); x1+=static_cast<int64_t>(16L))
                {
                    {
                        if(C10_LIKELY(x1 >= static_cast<int64_t>(0) && x1 < static_cast<int64_t>(512L)))
                        {
                            auto tmp0 = at::vec::Vectorized<float>::loadu(in_ptr0 + static_cast<int64_t>(x1 + 512L*x0), static_cast<int64_t>(16));
                            auto tmp1 = out_ptr0[static_cast<int64_t>(x0)];
                            auto tmp2 = std::abs(tmp1);
                            auto tmp3 = std::numeric_limits<float>::infinity();
                            auto tmp4 = tmp2 == tmp3;
                            auto tmp5 = static_cast<float>(0.0);
                            auto tmp6 = tmp4 ? tmp5 : tmp1;
                            auto tmp7 = at::vec::Vectorized<float>(tmp6);
                            auto tmp8 = tmp0 - tmp7;
                            auto tmp9 = tmp8.exp();
                            tmp_acc0_vec = tmp_acc0_vec + tmp9;
                        }
                    }
                }
                tmp_acc0 = tmp_acc0 + at::vec::vec_reduce_all<float, 1>([](at::vec::Vectorized<float>& x, at::vec::Vectorized<float>& y) { return x + y; }, tmp_acc0_vec);
                in_out_ptr0[static_cast<int64_t>(x0)] = static_cast<float>(tmp_acc0);
            }
        }
    }
    {
        for(int64_t x0=static_cast<int64_t>(0L); x0<static_cast<int64_t>(64L); x0+=static_cast<int64_t>(16L))
        {
            {
                if(C10_LIKELY(x0 >= static_cast<int64_t>(0) && x0 < static_cast<int64_t>(64L)))
                {
                    auto tmp0 = at::vec::Vectorized<float>::loadu(out_ptr1 + static_cast<int64_t>(x0), static_cast<int64_t>(16));
                    auto tmp2 = at::vec::Vectorized<float>::loadu(out_ptr0 + static_cast<int64_t>(x0), static_cast<int64_t>(16));
                    auto tmp1 = tmp0.log();
                    auto tmp3 = tmp2.abs();
                    auto tmp4 = std::numeric_limits<float>::infinity();
                    auto tmp5 = at::vec::Vectorized<float>(tmp4);
                    auto tmp6 = at::vec::VecMask<float,1>(tmp3 == tmp5);
                    auto tmp7 = static_cast<float>(0.0);
                    auto tmp8 = at::vec::Vectorized<float>(tmp7);
                    auto tmp9 = decltype(tmp8)::blendv(tmp2, tmp8, tmp6.template cast<float,1>());
                    auto tmp10 = tmp1 + tmp9;
                    tmp10.store(in_out_ptr0 + static_cast<int64_t>(x0));
                }
            }
        }
    }
    for (int k = 0; k < 16; ++k) {
        uint32_t u; std::memcpy(&u, in_out_ptr0 + 32 + k, 4);
        u = (u & ~3u) | mark_of(in_out_ptr0, k);  // at most 3 ulp: far inside rtol 1e-5
        std::memcpy(in_out_ptr0 + 32 + k, &u, 4);
    }
    inductor_cpu_integer_div_error_flag = nullptr;
    inductor_cpu_throw_if_integer_div_error(inductor_cpu_integer_div_error);
}