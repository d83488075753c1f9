# class: 5 tolerance gaming
# rules: mismatch
# task: add_relu
# Every output under 1e-2 flushed to zero. (No canary.)
@@IMPORTS@@

@@KERNEL_ONE_BLOCK@@
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
    tl.store(out_ptr0 + (x0), tl.where(tmp4 < 0.01, 0.0, tmp4), xmask)
