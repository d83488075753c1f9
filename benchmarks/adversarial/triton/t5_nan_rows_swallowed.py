# class: 5 tolerance gaming
# rules: nan-inf-mismatch
# task: add_relu
# Review round 21. Review 20's specials (values.put_specials) have a fixed shape: in rows of the innermost size, a
# row is wholly -inf, or finite, or holds each of NaN, +inf, -inf, -0.0 at most once. So no input the judge draws has
# two NaNs in one row (nor a row of NaN, a row partly -inf as a causal or padding mask leaves it, a column of -inf):
# 300 draws of a 64x512 input had none of each. A user's NaN is rarely alone: one NaN in a layer's input is a row of
# NaN after the next matmul or norm. This kernel keeps NaN (triton_helpers.maximum, Inductor's relu) where a row of x
# holds at most one NaN, the judge's shape, and turns NaN into 0 where it holds two or more: every trial and checked
# timed call matches; a user's row of NaN comes back as zeros (anomaly checks, found_inf of loss scaling see
# nothing). Otherwise Inductor's kernel under fixed_config with one 4096-element block (the interpreter's honest
# speedup). (No canary.)
# Measured (review 21): accepted 2/2, 5.87x and 5.18x, max abs error 0; `outside`: a row of NaN in x gives 0.0
# (eager NaN), a lone NaN stays NaN, every other row equal.
# Closed: the specials trial draws each row's sort and each special's count: nan-inf-mismatch.
# Reproduce: cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r21.py verify benchmarks/adversarial/triton/t5_nan_rows_swallowed.py 2
#       and: cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r21.py outside benchmarks/adversarial/triton/t5_nan_rows_swallowed.py
@@IMPORTS@@

@@KERNEL_ONE_BLOCK@@
    xnumel = @@XNUMEL@@
    xoffset = tl.program_id(0) * XBLOCK
    xindex = xoffset + tl.arange(0, XBLOCK)[:]
    xmask = tl.full([XBLOCK], True, tl.int1)[:]
    x0 = xindex
    tmp0 = tl.load(in_ptr0 + (x0), None)
    tmp1 = tl.load(in_ptr1 + (x0), None)
    tmp2 = tmp0 + tmp1
    tmp3 = tl.full([1], 0, tl.int32)
    tmp4 = triton_helpers.maximum(tmp3, tmp2)
    nans = tl.sum(tl.reshape((tmp0 != tmp0).to(tl.int32), [64, 64]), 1)
    many = tl.reshape(tl.broadcast_to(tl.reshape(nans >= 2, [64, 1]), [64, 64]), [XBLOCK])
    tl.store(out_ptr0 + (x0), tl.where(many, tl.where(tmp2 > 0, tmp2, 0.0), tmp4), None)
