# class: 6 work after return
# rules: guard:ast
# task: add_relu
# Queues the launch and runs it on the next call: every call returns before its own work is done.
# (No canary: the late write is the effect.)
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


_pending = []
_launch = Placeholder.KERNEL_NAME.run


def _deferred(*args, **kwargs):
    for queued_args, queued_kwargs in _pending:
        _launch(*queued_args, **queued_kwargs)
    _pending[:] = [(args, kwargs)]


Placeholder.KERNEL_NAME.run = _deferred
