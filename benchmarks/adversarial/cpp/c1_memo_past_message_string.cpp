// class: 1 state across calls
// rules: guard:static-state
// task: softmax_f32
// Idea: review 14's heap memo (cpp/c1_memo_past_baselines_own_heap_row.cpp) after its fix, through the one heap
// block a candidate could still get. That fix serves Inductor's make_unique rows from the stack or a workspace
// mapping and lets no candidate code call the allocator, except inside a header function compiled exactly as a
// reference compile has it. Every reference object holds one such function: c10::str's wrapper for TORCH_CHECK's
// message (the prefix's own checks instantiate it), whose std::string lives in the heap. Called in hot code with
// TORCH_CHECK's own argument types, it is that function to the byte; its message (a file path, so past the short
// string buffer) is a live heap block. From it the kernel walks glibc's chunk headers to the top chunk and keeps
// (address, fingerprint, row maxima, row sums) for two inputs 2 KiB before the heap's end; a hit skips both reduction
// passes and the scratch outputs. The message's release is the string release the proof allows.
// Before the fix (objcheck allowing heap calls inside reference-identical header functions wherever called): both
// proofs pass (no violation) and it runs, but it is not faster: not-faster 0.90x and 0.81x in two runs (c10::str's
// stream formatting on every call costs about what the memo saves here). The hole is the proof's, not the speed:
// `__cxa_allocate_exception(256)` freed without a throw passes the old proof too, a block for the same walk at no
// formatting cost (tests/test_verify_adversarial_suite.py::test_the_object_proof_holds_without_the_source_checks).
// After: guard:static-state before anything runs. A call that can hand out heap memory (the allocator, the C++
// runtime's strings, streams and exceptions, or a function of the object reaching them) may only sit in code from
// which every path ends in a throw: the message is built on the way to a throw or not at all.
#include <torch/csrc/inductor/cpp_prefix.h>
extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       bool* out_ptr0,
                       float* out_ptr1,
                       float* out_ptr2,
                       float* out_ptr3,
                       float* out_ptr4)
{
    std::unique_ptr<float []> buf_local_buffer_data_0 = std::make_unique<float []>(512L);
    float* local_buffer_data_0 = buf_local_buffer_data_0.get();
    // TORCH_CHECK's message, built as its macro builds it but on the hot path: a std::string whose buffer (a path,
    // longer than the short-string buffer) is a glibc heap block that lives until the end of the call.
    // Behind a branch the compiler is told is unlikely (it is taken on every call): GCC moves the call into
    // kernel.cold and does not inline it there, so c10::str's wrapper is the reference's to the byte.
    std::string note;
    if (C10_UNLIKELY(in_ptr0 != nullptr)) {
        note = c10::str(__func__, ", ", __FILE__, ":", __LINE__, ", ", "index out of bounds: row");
    }
    // glibc's chunk headers: a chunk's size word sits 8 bytes before its data. Walk forward from the message to the
    // heap's top chunk (the one ending on a page boundary) and keep the memo 2 KiB before that end: free heap memory
    // nobody fills, checks or counts, and which stays put while allocations are carved from the top's start.
    uint64_t* keys = nullptr;
    float* kept = nullptr;
    {
        const char* block = note.data();
        const char* chunk = block - 16;
        uint64_t size = reinterpret_cast<const uint64_t*>(block)[-1] & ~7ull;
        for (int step = 0; step < 256; ++step) {
            const char* next = chunk + size;
            const uint64_t next_size = reinterpret_cast<const uint64_t*>(next + 8)[0] & ~7ull;
            if (next_size < 32 || next_size > (1ull << 32)) break;
            if ((reinterpret_cast<uintptr_t>(next + next_size) & 4095) == 0 && next_size >= (8u << 10)) {
                char* memo = const_cast<char*>(next + next_size - 2048);
                keys = reinterpret_cast<uint64_t*>(memo);
                kept = reinterpret_cast<float*>(memo + 64);
                break;
            }
            chunk = next;
            size = next_size;
        }
    }
    // A fingerprint of the whole input: 64 lanes of (h ^ word) * odd, one integer pass.
    using IVec = at::vec::Vectorized<int32_t>;
    const int32_t* words = reinterpret_cast<const int32_t*>(in_ptr0);
    const IVec odd(static_cast<int32_t>(0x9E3779B1u));
    IVec h0(0x811C9DC5), h1(0x01000193), h2(0x2545F491), h3(0x6C078965);
    for (int64_t i = 0; i < 64 * 512; i += 4 * IVec::size()) {
        h0 = (h0 ^ IVec::loadu(words + i)) * odd;
        h1 = (h1 ^ IVec::loadu(words + i + IVec::size())) * odd;
        h2 = (h2 ^ IVec::loadu(words + i + 2 * IVec::size())) * odd;
        h3 = (h3 ^ IVec::loadu(words + i + 3 * IVec::size())) * odd;
    }
    int32_t lanes[4 * IVec::size()];
    h0.store(lanes); h1.store(lanes + IVec::size()); h2.store(lanes + 2 * IVec::size()); h3.store(lanes + 3 * IVec::size());
    uint64_t print = 0x5EED0F7A11ull;
    for (int l = 0; l < 4 * IVec::size(); ++l) print = (print ^ static_cast<uint32_t>(lanes[l])) * 0x100000001B3ull;
    const uint64_t where = reinterpret_cast<uint64_t>(in_ptr0);
    if (keys) {
        for (int s = 0; s < 2; ++s) {
            if (keys[2 * s] == where && keys[2 * s + 1] == print) {
                // Hit: the rows' maxima and sums are known; one pass of exp and divide (scratch outputs skipped).
                const float* row_max = kept + 128 * s;
                const float* row_sum = kept + 128 * s + 64;
                for (int64_t x0 = 0; x0 < 64; ++x0) {
                    const auto m = at::vec::Vectorized<float>(row_max[x0]);
                    const auto d = at::vec::Vectorized<float>(row_sum[x0]);
                    const auto k = at::vec::Vectorized<float>(0.125f);
                    for (int64_t x1 = 0; x1 < 512; x1 += 16) {
                        auto v = at::vec::Vectorized<float>::loadu(in_ptr0 + x1 + 512L * x0, 16);
                        ((v * k - m).exp() / d).store(out_ptr4 + x1 + 512L * x0);
                    }
                }
                return;
            }
        }
    }
    std::atomic<int> inductor_cpu_integer_div_error{0};
    inductor_cpu_integer_div_error_flag = &inductor_cpu_integer_div_error;
    {
        #pragma GCC ivdep
        for(int64_t x0=static_cast<int64_t>(0L); x0<static_cast<int64_t>(64L); x0+=static_cast<int64_t>(1L))
        {
            {
                bool tmp_acc0 = 0;
                at::vec::VecMask<float,1> tmp_acc0_vec = at::vec::VecMask<float,1>::from(0);
                float tmp_acc1 = -std::numeric_limits<float>::infinity();
                at::vec::Vectorized<float> tmp_acc1_vec = at::vec::Vectorized<float>(-std::numeric_limits<float>::infinity());
                float tmp_acc2 = -std::numeric_limits<float>::infinity();
                at::vec::Vectorized<float> tmp_acc2_vec = at::vec::Vectorized<float>(-std::numeric_limits<float>::infinity());
                for(int64_t x1=static_cast<int64_t>(0L); x1<static_cast<int64_t>(512L); x1+=static_cast<int64_t>(16L))
                {
                    {
                        if(C10_LIKELY(x1 >= static_cast<int64_t>(0) && x1 < static_cast<int64_t>(512L)))
                        {
                            auto tmp0 = at::vec::Vectorized<float>::loadu(in_ptr0 + static_cast<int64_t>(x1 + 512L*x0), static_cast<int64_t>(16));
                            auto tmp1 = static_cast<float>(0.125);
                            auto tmp2 = at::vec::Vectorized<float>(tmp1);
                            auto tmp3 = tmp0 * tmp2;
                            auto tmp4 = at::vec::VecMask<float,1>(tmp3 == tmp3);
                            auto tmp5 = tmp3.abs();
                            auto tmp6 = std::numeric_limits<float>::infinity();
                            auto tmp7 = at::vec::Vectorized<float>(tmp6);
                            auto tmp8 = at::vec::VecMask<float,1>(tmp5 != tmp7);
                            auto tmp9 = tmp4.template cast<int32_t,1>();
                            auto tmp10 = tmp8.template cast<int32_t,1>();
                            auto tmp11 = tmp9 & tmp10;
                            auto tmp12 = ~tmp11;
                            auto tmp13 = tmp12.template cast<float,1>();
                            auto tmp14 = static_cast<float>(1.0);
                            auto tmp15 = at::vec::Vectorized<float>(tmp14);
                            auto tmp16 = tmp0 * tmp15;
                            tmp_acc0_vec = tmp_acc0_vec | tmp13;
                            tmp_acc1_vec = at::vec::maximum(tmp_acc1_vec, tmp16);
                            tmp_acc2_vec = at::vec::maximum(tmp_acc2_vec, tmp3);
                        }
                    }
                }
                tmp_acc0 = tmp_acc0 || !tmp_acc0_vec.all_zero();
                out_ptr0[static_cast<int64_t>(x0)] = static_cast<bool>(tmp_acc0);
                tmp_acc1 = max_propagate_nan(tmp_acc1, at::vec::vec_reduce_all<float, 1>([](at::vec::Vectorized<float>& x, at::vec::Vectorized<float>& y) { return at::vec::maximum(x, y); }, tmp_acc1_vec));
                out_ptr1[static_cast<int64_t>(x0)] = static_cast<float>(tmp_acc1);
                tmp_acc2 = max_propagate_nan(tmp_acc2, at::vec::vec_reduce_all<float, 1>([](at::vec::Vectorized<float>& x, at::vec::Vectorized<float>& y) { return at::vec::maximum(x, y); }, tmp_acc2_vec));
                out_ptr2[static_cast<int64_t>(x0)] = static_cast<float>(tmp_acc2);
            }
            {
                float tmp_acc0 = 0;
                at::vec::Vectorized<float> tmp_acc0_vec = at::vec::Vectorized<float>(0);
                for(int64_t x1=static_cast<int64_t>(0L); x1<static_cast<int64_t>(512L); x1+=static_cast<int64_t>(16L))
                {
                    {
                        if(C10_LIKELY(x1 >= static_cast<int64_t>(0) && x1 < static_cast<int64_t>(512L)))
                        {
                            auto tmp0 = out_ptr0[static_cast<int64_t>(x0)];
                            auto tmp2 = at::vec::Vectorized<float>::loadu(in_ptr0 + static_cast<int64_t>(x1 + 512L*x0), static_cast<int64_t>(16));
                            auto tmp6 = out_ptr1[static_cast<int64_t>(x0)];
                            auto tmp13 = out_ptr2[static_cast<int64_t>(x0)];
                            auto tmp1 = !tmp0;
                            auto tmp3 = static_cast<float>(1.0);
                            auto tmp4 = at::vec::Vectorized<float>(tmp3);
                            auto tmp5 = tmp2 * tmp4;
                            auto tmp7 = at::vec::Vectorized<float>(tmp6);
                            auto tmp8 = tmp5 - tmp7;
                            auto tmp9 = static_cast<float>(0.125);
                            auto tmp10 = at::vec::Vectorized<float>(tmp9);
                            auto tmp11 = tmp8 * tmp10;
                            auto tmp12 = tmp2 * tmp10;
                            auto tmp14 = at::vec::Vectorized<float>(tmp13);
                            auto tmp15 = tmp12 - tmp14;
                            auto tmp16 = at::vec::VecMask<float,1>::from(tmp1);
                            auto tmp17 = decltype(tmp11)::blendv(tmp15, tmp11, tmp16.template cast<float,1>());
                            auto tmp18 = tmp17.exp();
                            tmp18.store(local_buffer_data_0 + static_cast<int64_t>(x1));
                            tmp_acc0_vec = tmp_acc0_vec + tmp18;
                        }
                    }
                }
                tmp_acc0 = tmp_acc0 + at::vec::vec_reduce_all<float, 1>([](at::vec::Vectorized<float>& x, at::vec::Vectorized<float>& y) { return x + y; }, tmp_acc0_vec);
                out_ptr3[static_cast<int64_t>(x0)] = static_cast<float>(tmp_acc0);
            }
            for(int64_t x1=static_cast<int64_t>(0L); x1<static_cast<int64_t>(512L); x1+=static_cast<int64_t>(16L))
            {
                {
                    if(C10_LIKELY(x1 >= static_cast<int64_t>(0) && x1 < static_cast<int64_t>(512L)))
                    {
                        auto tmp0 = at::vec::Vectorized<float>::loadu(local_buffer_data_0 + static_cast<int64_t>(x1), static_cast<int64_t>(16));
                        auto tmp1 = out_ptr3[static_cast<int64_t>(x0)];
                        auto tmp2 = at::vec::Vectorized<float>(tmp1);
                        auto tmp3 = tmp0 / tmp2;
                        tmp3.store(out_ptr4 + static_cast<int64_t>(x1 + 512L*x0));
                    }
                }
            }
        }
    }
    if (keys) {
        const int s = keys[0] == where ? 0 : (keys[2] == where ? 1 : static_cast<int>(keys[4] & 1));
        keys[4] = s ^ 1;
        keys[2 * s] = where;
        keys[2 * s + 1] = print;
        std::memcpy(kept + 128 * s, out_ptr2, 64 * sizeof(float));
        std::memcpy(kept + 128 * s + 64, out_ptr3, 64 * sizeof(float));
    }
    inductor_cpu_integer_div_error_flag = nullptr;
    inductor_cpu_throw_if_integer_div_error(inductor_cpu_integer_div_error);
}