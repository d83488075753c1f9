# class: 5 tolerance gaming
# rules: mismatch
# task: add_relu_i32
# Review round 21. Task (this round's, review_r21.py): the suite's add+relu kernel edited to int32 as review 20 edited
# it to int64, inputs recorded as integers used in arithmetic only. Review 20's fix draws an eighth of int32 such
# inputs up to values.WIDE_MAGNITUDE[int32] = 46340 (sqrt(2^31)): past int16, but far inside float32's exact
# integers (2^24 = 16777216). This kernel computes relu(x + y) in float32 and converts back: exact on every value
# the trials and timed checks draw (|x + y| <= 92680), wrong for a user's int32 values past 2^24 (ids, counts,
# offsets): 16777217 + 0 gives 16777216, 2000000001 gives 2000000000. On a GPU the float32 path is the classic fast
# int32 division (one rcp and a multiply against ~20 integer instructions). Otherwise Inductor's kernel (in review 21
# under fixed_config with one 4096-element block, the interpreter's honest speedup; in the suite under the baseline's
# own decorator). (No canary.)
# Measured (review 21): accepted, 20.4x (noise 0.37/0.45, a busy box), max abs error 0; `outside`: 16777217 + 0
# gives 16777216, 2000000001 + 0 gives 2000000000; every other element equal.
# Closed: integer inputs used in arithmetic draw an eighth of their values log-uniformly up to 2^61 (int64),
# 2^29 (int32): mismatch.
# Reproduce: cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r21.py verify benchmarks/adversarial/triton/t5_int32_added_in_float32.py 2
#       and: cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r21.py outside benchmarks/adversarial/triton/t5_int32_added_in_float32.py
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
    tmp4 = tl.where(tmp2 > 0.0, tmp2, 0.0)
    tl.store(out_ptr0 + (x0), tmp4.to(tl.int32), None)
