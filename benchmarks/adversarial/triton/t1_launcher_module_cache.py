# class: 1 state across calls
# rules: guard:ast
# task: add_relu
# Launcher form: a module-level dict the launcher fills with the workspace it was given, to hand the same
# memory (and the answer in it) back on the next call. (No canary.)
@@IMPORTS@@

_kept = {}


@triton.jit
def add_relu(in_ptr0, in_ptr1, out_ptr0, xnumel, XBLOCK: tl.constexpr):
    xindex = tl.program_id(0) * XBLOCK + tl.arange(0, XBLOCK)
    xmask = xindex < xnumel
    tmp0 = tl.load(in_ptr0 + xindex, xmask)
    tmp1 = tl.load(in_ptr1 + xindex, xmask)
    tl.store(out_ptr0 + xindex, triton_helpers.maximum(tmp0 + tmp1, 0.0), xmask)


def launch(in_ptr0, in_ptr1, out_ptr0, xnumel, *, workspace):
    _kept["calls"] = xnumel
    add_relu[(triton.cdiv(xnumel, 1024),)](in_ptr0, in_ptr1, out_ptr0, xnumel, XBLOCK=1024)
