# class: 2 forging the judge
# rules: guard:torch
# task: add_relu
# Reaches torch through Inductor's helper module (which imports it) to compute with ATen and
# hand the judge torch's answer.
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
    tmp4 = triton_helpers.torch.relu(tmp2)
    tl.store(out_ptr0 + (x0), tmp4, xmask)
