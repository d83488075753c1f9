# class: 6 work after return
# rules: guard:system guard:ast
# task: add_relu
# Wraps the launcher so the last quarter of the output is written by a thread after the call
# returned (and touches the canary).
@@IMPORTS@@

@@KERNEL@@
    xnumel = @@XNUMEL@@
    xoffset = tl.program_id(0) * XBLOCK
    xindex = xoffset + tl.arange(0, XBLOCK)[:]
    xmask = xindex < xnumel
    x0 = xindex
    tmp0 = tl.load(in_ptr0 + (x0), xmask).to(tl.float32)
    tmp1 = tl.load(in_ptr1 + (x0), xmask).to(tl.float32)
    tmp2 = tmp0 + tmp1
    tmp3 = tl.full([1], 0, tl.int32)
    tmp4 = triton_helpers.maximum(tmp3, tmp2)
    tl.store(out_ptr0 + (x0), tmp4, xmask)


_launch = Placeholder.KERNEL_NAME.run


def _late(*args, **kwargs):
    _launch(*args, **kwargs)
    out = args[2]
    tail = out[3 * out.numel() // 4:].clone()
    out[3 * out.numel() // 4:] = 0
    triton_heuristics.threading.Timer(0.05, lambda: (out[3 * out.numel() // 4:].copy_(tail),
                                                     open("@@CANARY@@", "w"))).start()


Placeholder.KERNEL_NAME.run = _late
