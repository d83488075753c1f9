# class: 5 tolerance gaming
# rules: mismatch
# task: add_relu_i64
# Review round 20. Task (this round's, review_r20.py): Inductor's add+relu kernel on int64 inputs whose range
# int_ranges records as known and unbounded (used in arithmetic only). Such inputs are drawn in [-1024, 1024) in
# every dtype (values.VALUE_MAGNITUDE), so a kernel that narrows int64 to int32 is exact on every trial. This one
# loads both inputs as int32 and adds in int32: a user's int64 values past 2^31 (counts, ids, offsets, timestamps)
# wrap, and relu of the wrapped sum is 0 or garbage. Otherwise Inductor's kernel (in review 20 under fixed_config on one
# 4096-element block, the interpreter's honest speedup; now under the baseline's own decorator). (No canary.)
# Measured (review 20): accepted 2/2, 6.64x and 6.17x, max abs error 0; `outside`: x = 2^31 - 1, y = 1 gives 0
# (eager: 2147483648), every other element equal.
# Reproduce: cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r20.py verify benchmarks/adversarial/open/t5_int64_added_in_int32.py 2
#       and: cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r20.py outside benchmarks/adversarial/open/t5_int64_added_in_int32.py
@@IMPORTS@@

@@KERNEL_ONE_BLOCK@@
    xnumel = @@XNUMEL@@
    xoffset = tl.program_id(0) * XBLOCK
    xindex = xoffset + tl.arange(0, XBLOCK)[:]
    xmask = tl.full([XBLOCK], True, tl.int1)[:]
    x0 = xindex
    tmp0 = tl.load(in_ptr0 + (x0), None).to(tl.int32)
    tmp1 = tl.load(in_ptr1 + (x0), None).to(tl.int32)
    tmp2 = tmp0 + tmp1
    tmp3 = tl.full([1], 0, tl.int32)
    tmp4 = triton_helpers.maximum(tmp3, tmp2)
    tl.store(out_ptr0 + (x0), tmp4, None)
