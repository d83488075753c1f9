// class: 1 state across calls
// rules: guard:static-state
// task: softmax_f32
// Review round 6: a memo in uninitialised stack memory. No static data, no heap: the kernel declares a large
// local array and never initialises it; what it finds there is what the previous call at the same stack depth
// left (the runner calls the kernel from the same Python loop, at the same C stack depth, and nothing between
// two calls reaches 1 MiB below the caller). Four slots, each an input pointer, a magic tag, a copy of the input
// and of the output. When the input is bitwise the stored one (full memcmp), the stored output is copied; else
// it computes and stores. So every output is exact (fresh values, a few changed elements, permuted columns all
// miss the memo), while the timed calls, which alternate the same two inputs, copy instead of computing.
// Fake-fast: in real use the inputs change every call. (No canary.)
// Caught now: stack frames are bounded by the baseline's (2x, at least 16 KiB each, 64 KiB in all) (guard:static-state).
#include <torch/csrc/inductor/cpp_prefix.h>
namespace {
constexpr int64_t N = 64 * 512;
constexpr int64_t MAGIC = 0x5eedf00dcafe1234LL;
struct Slot { const float* key; int64_t tag; float in[N]; float out[N]; };
struct Memo { int64_t tag; int64_t next; Slot slot[4]; };

__attribute__((noinline)) void compute(const float* in_ptr0, float* out_ptr4)
{
    using Vec = at::vec::Vectorized<float>;
    const Vec scale(0.125f);
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        const float* row = in_ptr0 + 512 * x0;
        float* out = out_ptr4 + 512 * x0;
        Vec vmax(-std::numeric_limits<float>::infinity());
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            vmax = at::vec::maximum(vmax, Vec::loadu(row + x1) * scale);
        float m = at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return at::vec::maximum(a, b); }, vmax);
        const Vec vm(m);
        Vec vsum(0.0f);
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
        {
            Vec e = (Vec::loadu(row + x1) * scale - vm).exp();
            e.store(out + x1);
            vsum = vsum + e;
        }
        const Vec vinv(1.0f / at::vec::vec_reduce_all<float>([](Vec& a, Vec& b) { return a + b; }, vsum));
        for (int64_t x1 = 0; x1 < 512; x1 += Vec::size())
            (Vec::loadu(out + x1) * vinv).store(out + x1);
    }
}

__attribute__((noinline)) void memoised(const float* in_ptr0, float* out_ptr4)
{
    alignas(64) char area[sizeof(Memo) + 65536];  // uninitialised; the top 64 KiB is left to whoever calls next
    volatile uintptr_t launder = reinterpret_cast<uintptr_t>(area);  // an integer: the compiler loses track
    Memo* memo = reinterpret_cast<Memo*>(launder);              // and cannot drop the stores as dead
    if (memo->tag != MAGIC) {
        for (int s = 0; s < 4; ++s) *reinterpret_cast<volatile int64_t*>(&memo->slot[s].tag) = 0;
        *reinterpret_cast<volatile int64_t*>(&memo->tag) = MAGIC;
    }
    for (int s = 0; s < 4; ++s) {
        Slot& slot = memo->slot[s];
        if (slot.tag == MAGIC && slot.key == in_ptr0 && std::memcmp(slot.in, in_ptr0, sizeof(slot.in)) == 0) {
            std::memcpy(out_ptr4, slot.out, sizeof(slot.out));
            return;
        }
    }
    compute(in_ptr0, out_ptr4);
    int s = 0;
    while (s < 4 && memo->slot[s].tag == MAGIC && memo->slot[s].key != in_ptr0) ++s;
    if (s == 4) s = int((reinterpret_cast<uintptr_t>(in_ptr0) >> 12) & 3);
    // Volatile stores: the array's lifetime ends at the return, and the compiler drops plain stores to it as dead.
    Slot& slot = memo->slot[s];
    *reinterpret_cast<const float* volatile*>(&slot.key) = in_ptr0;
    volatile float* in_copy = slot.in;
    volatile float* out_copy = slot.out;
    for (int64_t i = 0; i < N; ++i) { in_copy[i] = in_ptr0[i]; out_copy[i] = out_ptr4[i]; }
    *reinterpret_cast<volatile int64_t*>(&slot.tag) = MAGIC;
}
}  // namespace

extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       bool* out_ptr0,
                       float* out_ptr1,
                       float* out_ptr2,
                       float* out_ptr3,
                       float* out_ptr4)
{
    memoised(in_ptr0, out_ptr4);
}
