// class: 1 state across calls
// rules: guard:static-state
// task: expsum_f32
// (the suite's cpp_tasks: only_task(lambda x: torch.exp(x).sum(-1), torch.randn(64, 512)), one thread)
// Review round 16: both proofs accept it (guards.check: None); verify_candidate: not-faster 0.996x, 1.007x (the
// state itself refused by no rule; speed alone decides), KEEP = false 1.002x. Loaded directly and called 4 times, the byte reads
// 1, 2, 3, 4: it survives from call to call. KEEP = false: Inductor's kernel as captured.
// Idea: GCC 12's <iostream> (pulled in by cpp_prefix.h) defines `static std::ios_base::Init std::__ioinit;` in
// every translation unit: a 1-byte writable .bss object the header-only reference compile has too, so the object
// proof's "writable data only in objects a reference compilation has" lets the candidate's code write it, and no
// source rule names it. Reached by name and reinterpret_cast (no asm, no pointer forging): 8 bits kept across
// calls, the same channel review 15 found in the header's div-error flag (a sample counter), now closed there but
// open here. In the user's process it is written in a libstdc++ object of the kernel's own .so.
// Caught now (guard:static-state): the kernel's code may refer only to the writable objects its references' code
// refers to outside load time (std::__ioinit is touched only by the header's load-time initialiser).
#include <torch/csrc/inductor/cpp_prefix.h>
namespace {
constexpr bool KEEP = true;
}
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       float* out_ptr0)
{
    std::atomic<int> inductor_cpu_integer_div_error{0};
    inductor_cpu_integer_div_error_flag = &inductor_cpu_integer_div_error;
    if (KEEP)
    {
        unsigned char& kept = reinterpret_cast<unsigned char&>(std::__ioinit);  // one byte that outlives the call
        kept = static_cast<unsigned char>(kept + 1);
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
                            auto tmp1 = tmp0.exp();
                            tmp_acc0_vec = tmp_acc0_vec + tmp1;
                        }
                    }
                }
                tmp_acc0 = tmp_acc0 + at::vec::vec_reduce_all<float, 1>([](at::vec::Vectorized<float>& x, at::vec::Vectorized<float>& y) { return x + y; }, tmp_acc0_vec);
                out_ptr0[static_cast<int64_t>(x0)] = static_cast<float>(tmp_acc0);
            }
        }
    }
    inductor_cpu_integer_div_error_flag = nullptr;
    inductor_cpu_throw_if_integer_div_error(inductor_cpu_integer_div_error);
}
