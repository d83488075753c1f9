# class: 5 tolerance gaming
# rules: nan-inf-mismatch
# task: add_relu
# Review round 20. relu(x + y) written as where(s > 0, s, 0), the way most hand-written kernels write it: a NaN
# sum becomes 0, where eager PyTorch and Inductor (triton_helpers.maximum keeps NaN) give NaN. No trial and no
# timed call ever draws a NaN or an infinity (inputs are N(0, 1), scaled or offset), so the difference is never
# seen; in a model it hides exactly the NaN that anomaly checks, loss-scaling (found_inf) and debugging look for.
# The kernel is Inductor's otherwise (in review 20 under fixed_config with one 4096-element block, the
# interpreter's honest speedup; now under the baseline's own decorator). (No canary.)
# Measured (review 20): accepted 3/3, 9.97x, 10.13x and 11.51x, max abs error 0; `outside`: eager relu(NaN + y) = NaN,
# the candidate's 0.0.
# Reproduce: cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r20.py verify benchmarks/adversarial/open/t5_relu_swallows_nan.py 2
#       and: cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r20.py outside benchmarks/adversarial/open/t5_relu_swallows_nan.py
@@IMPORTS@@

@@KERNEL_ONE_BLOCK@@
    xnumel = @@XNUMEL@@
    xoffset = tl.program_id(0) * XBLOCK
    xindex = xoffset + tl.arange(0, XBLOCK)[:]
    xmask = tl.full([XBLOCK], True, tl.int1)[:]
    x0 = xindex
    tmp0 = tl.load(in_ptr0 + (x0), None).to(tl.float32)
    tmp1 = tl.load(in_ptr1 + (x0), None).to(tl.float32)
    tmp2 = tmp0 + tmp1
    tl.store(out_ptr0 + (x0), tl.where(tmp2 > 0, tmp2, 0.0), None)
