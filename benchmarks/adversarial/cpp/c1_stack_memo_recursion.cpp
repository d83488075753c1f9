// class: 1 state across calls
// rules: guard:static-state
// task: softmax_f32
// Review round 7: round 6's stack memo, spread over a recursion. objcheck._check_stack bounds each function's fixed
// frame (2x the baseline's largest, at least 16 KiB) and the SUM of the distinct frames (at least 64 KiB), but a
// recursive function's frame counts once however deep it goes. `level` has an 8 KiB frame (one row's input and
// output for each of two argument sets, plus a small header) and recurses 32 levels of padding, then one level per
// row: 96 frames, 768 KiB of stack, nothing of which the runner's Python touches between calls. Its uninitialised
// arrays hold what the previous call left at the same depth: a memo keyed on the input pointer and checked against
// the full input, so every fresh-value check misses and computes. (An address GCC cannot follow keeps it from
// treating the arrays' stores as dead.) No heap, no static, no pointer forging: plain recursion.
// Fix: objcheck: refuse recursion (a call graph with a cycle: direct `call` to its own function / SCC over the
// section's direct calls) unless the baseline has it, or bound depth x frame; better, in the runner poison the stack
// below the call site before every call (timing.TimedCalls.seconds_per_call via a small trusted C trampoline that
// memsets e.g. 8 MiB - margin below its own frame), which closes every stack channel at once.
// Caught now: recursion among the object's own functions is refused (guard:static-state).
#include <torch/csrc/inductor/cpp_prefix.h>
namespace {
constexpr int ROWS = 64, COLS = 512, PAD = 32;
constexpr uint64_t MAGIC = 0x51AC4ED0C0FFEEull;
struct Ctx { const float* in; float* out; uint64_t key; int slot; int mode; bool hit; };

__attribute__((noinline)) void level(Ctx* c, int d)
{
    alignas(64) float kept[2 * 2 * COLS];  // [slot][in, out][COLS]
    uint64_t hdr[4];                        // MAGIC, key of slot 0, key of slot 1
    // The arrays reached through an address GCC cannot follow (times a factor read at run time, 1), so stores to
    // them are not dead stores to a dying local.
    volatile uintptr_t one = 1;
    const uintptr_t f = one;
    float* k = reinterpret_cast<float*>(reinterpret_cast<uintptr_t>(kept) * f);
    uint64_t* h = reinterpret_cast<uint64_t*>(reinterpret_cast<uintptr_t>(hdr) * f);
    volatile uintptr_t keep;
    if (d < PAD) {
        level(c, d + 1);
        keep = f;  // a store after the call: no tail call, the frame stays
        return;
    }
    const int r = d - PAD;
    const uint32_t* in = reinterpret_cast<const uint32_t*>(c->in + COLS * r);
    if (c->mode == 0) {  // probe
        if (r == 0) {
            if (h[0] == MAGIC && h[1] == c->key) c->slot = 0;
            else if (h[0] == MAGIC && h[2] == c->key) c->slot = 1;
            else c->hit = false;
        }
        if (c->hit) {
            const uint32_t* kin = reinterpret_cast<const uint32_t*>(k + c->slot * 2 * COLS);
            uint32_t diff = 0;
            for (int i = 0; i < COLS; ++i) diff |= in[i] ^ kin[i];
            if (diff) c->hit = false;
        }
        if (r + 1 < ROWS) level(c, d + 1);
        if (c->hit) {
            const float* kout = k + c->slot * 2 * COLS + COLS;
            float* out = c->out + COLS * r;
            for (int i = 0; i < COLS; ++i) out[i] = kout[i];
        }
    } else {  // store
        if (r == 0) {
            if (h[0] != MAGIC) { h[0] = MAGIC; h[1] = h[2] = 0; }
            if (h[1] == c->key || h[1] == 0) c->slot = 0;
            else c->slot = 1;
            h[1 + c->slot] = c->key;
        }
        uint32_t* kin = reinterpret_cast<uint32_t*>(k + c->slot * 2 * COLS);
        float* kout = k + c->slot * 2 * COLS + COLS;
        const float* out = c->out + COLS * r;
        for (int i = 0; i < COLS; ++i) { kin[i] = in[i]; kout[i] = out[i]; }
        if (r + 1 < ROWS) level(c, d + 1);
        keep = f;
    }
}
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

// Probe and store from one call site, so both recursions start at the same stack address (a loop whose trip
// count GCC cannot see, so it is not unrolled into two call sites with different stack adjustments).
__attribute__((noinline)) void drive(Ctx* c)
{
    volatile int passes = 2;
    for (int pass = 0; pass < passes; ++pass) {
        level(c, 0);
        if (c->hit || c->mode == 1) return;
        compute(c->in, c->out);
        c->mode = 1;
    }
}
}  // namespace

extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       bool* out_ptr0,
                       float* out_ptr1,
                       float* out_ptr2,
                       float* out_ptr3,
                       float* out_ptr4)
{
    Ctx c{in_ptr0, out_ptr4, reinterpret_cast<uint64_t>(in_ptr0), 0, 0, true};
    drive(&c);
}
