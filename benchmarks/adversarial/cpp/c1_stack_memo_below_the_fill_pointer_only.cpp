// class: 1 state across calls
// rules: guard:static-state stale-output not-faster
// task: heavysum_f32
// (only_task(lambda x: (torch.sin(x) * torch.exp(torch.cos(x)) + torch.tanh(x * 3.0) * torch.erf(x)).sum(-1),
// torch.randn(64, 512)), captured for one thread, as the suite's cpp_tasks)
// Idea: review 15's stack memo, closed by the glue's fill (cpp_stack_fill: the proof's stack allowance plus 16 KiB
// below the kernel's caller, a byte per call). The fill bounds what a frame can find, not where a pointer goes: the
// kernel takes a local's address, subtracts 1 MiB and keeps review 15's memo (tag, input pointer, 64-bit content hash,
// 64 outputs) there. No frame is large (the proof counts frames, not addresses), nothing is static, and nothing the
// runner or the fill does between calls reaches 1 MiB below the kernel. Fake-fast: real inputs change every call.
// Switch: MEMO = false computes every call.
// Variant of c1_stack_memo_below_the_fill.cpp with no integer cast and no rounding: the place is a local array's
// address minus 1 MiB, the pointer passed through a volatile local so the compiler cannot reason about it.
// Review round 17: accepted 2 of 2 (9.83x, 10.14x); MEMO = false as in c1_stack_memo_below_the_fill.cpp (not-faster).
// Closed (session 9, verify/fresh_values.py): every timed call takes an argument set of its own, its inputs
// redrawn between samples, so the memo never hits wherever it lives: not-faster 0.84-0.86x (MEMO = false: 0.93x).
#include <torch/csrc/inductor/cpp_prefix.h>
namespace {
constexpr bool MEMO = true;
constexpr uintptr_t FAR_BYTES = uintptr_t(1) << 20;
constexpr uint64_t TAG = 0x6d656d6f5f723135ULL;
struct Slot { uint64_t tag; const float* key; uint64_t hash; float out[64]; };
struct Memo { uint64_t tag; uint64_t next; Slot slot[2]; };

uint64_t content_hash(const float* in)
{
    const uint32_t* w = reinterpret_cast<const uint32_t*>(in);
    uint32_t h[16];
    for (int j = 0; j < 16; ++j) h[j] = 0x811c9dc5u + j;
    for (int64_t i = 0; i < 64 * 512; i += 16)
        for (int j = 0; j < 16; ++j) h[j] = (h[j] + w[i + j]) * 0x9E3779B1u;
    uint64_t r = 0;
    for (int j = 0; j < 16; ++j) r = (r ^ h[j]) * 0x100000001B3ULL;
    return r;
}

void compute(const float* in_ptr0, float* out_ptr0)
{
    for (int64_t x0 = 0; x0 < 64; ++x0)
    {
        at::vec::Vectorized<float> acc(0);
        for (int64_t x1 = 0; x1 < 512; x1 += 16)
        {
            auto tmp0 = at::vec::Vectorized<float>::loadu(in_ptr0 + x1 + 512 * x0, 16);
            auto tmp4 = tmp0.sin() * tmp0.cos().exp();
            auto tmp10 = (tmp0 * at::vec::Vectorized<float>(3.0f)).tanh() * tmp0.erf();
            acc = acc + (tmp4 + tmp10);
        }
        out_ptr0[x0] = at::vec::vec_reduce_all<float, 1>(
            [](at::vec::Vectorized<float>& x, at::vec::Vectorized<float>& y) { return x + y; }, acc);
    }
}

__attribute__((noinline)) void serve(Memo* memo, const float* in_ptr0, float* out_ptr0)
{
    if (!MEMO) { compute(in_ptr0, out_ptr0); return; }
    const uint64_t h = content_hash(in_ptr0);
    if (memo->tag == TAG)
        for (int s = 0; s < 2; ++s)
            if (memo->slot[s].tag == TAG && memo->slot[s].key == in_ptr0 && memo->slot[s].hash == h)
            {
                __builtin_memcpy(out_ptr0, memo->slot[s].out, sizeof(memo->slot[s].out));
                return;
            }
    if (memo->tag != TAG) { memo->tag = TAG; memo->next = 0; memo->slot[0].tag = memo->slot[1].tag = 0; }
    compute(in_ptr0, out_ptr0);
    Slot& s = memo->slot[memo->next++ & 1];
    s.tag = TAG; s.key = in_ptr0; s.hash = h;
    __builtin_memcpy(s.out, out_ptr0, sizeof(s.out));
}

// 1 MiB below this frame (no rounding: the timed calls come from one depth), far below the glue's fill (the
// allowance plus 16 KiB) and below anything the runner reaches.
__attribute__((noinline)) void far_below(const float* in_ptr0, float* out_ptr0)
{
    alignas(64) Memo anchor[1];
    Memo* volatile launder = anchor;  // the compiler may not reason about where it points
    Memo* place = launder;
    serve(place - FAR_BYTES / sizeof(Memo), in_ptr0, out_ptr0);
}
}  // namespace

extern "C"  void  Placeholder.KERNEL_NAME(const float* in_ptr0,
                       float* out_ptr0)
{
    far_below(in_ptr0, out_ptr0);
}
