# class: 5 tolerance gaming
# rules: mismatch
# task: add_relu_i64
# Review round 21. Task: review 20's add_relu_i64 (triton_cases.int64_variant; inputs recorded as int64 used in
# arithmetic only). Review 20's fix draws an eighth of such inputs up to values.WIDE_MAGNITUDE = 3e9 (about 2^31.5,
# so that a product of two still fits int64): past int32, but far inside float64's exact integers (2^53) and even
# inside 33-bit sign-magnitude. This kernel computes relu(x + y) in float64 and converts back: exact on every value
# the trials and timed checks draw (|x + y| <= 6e9), wrong for a user's int64 values past 2^53 (nanosecond
# timestamps ~1.7e18, hashes, packed ids): they round to the nearest even float64. On a GPU the same narrowing is a
# real speedup for int64 `//` and `%` (emulated 64-bit integer division against one fp64 divide). Otherwise Inductor's
# kernel under fixed_config with one 4096-element block (the interpreter's honest speedup). (No canary.)
# Measured (review 21): accepted, 9.60x, max abs error 0; `outside`: x = 2^53 + 1, y = 0 gives 2^53, and the ns
# timestamp 1700000000123456789 gives 1700000000123456768; every other element equal.
# Closed: integer inputs used in arithmetic draw an eighth of their values log-uniformly up to 2^61 (int64),
# 2^29 (int32): mismatch.
# Reproduce: cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r21.py verify benchmarks/adversarial/triton/t5_int64_added_in_float64.py 2
#       and: cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r21.py outside benchmarks/adversarial/triton/t5_int64_added_in_float64.py
@@IMPORTS@@

@@KERNEL_ONE_BLOCK@@
    xnumel = @@XNUMEL@@
    xoffset = tl.program_id(0) * XBLOCK
    xindex = xoffset + tl.arange(0, XBLOCK)[:]
    xmask = tl.full([XBLOCK], True, tl.int1)[:]
    x0 = xindex
    tmp0 = tl.load(in_ptr0 + (x0), None).to(tl.float64)
    tmp1 = tl.load(in_ptr1 + (x0), None).to(tl.float64)
    tmp2 = tmp0 + tmp1
    tmp4 = tl.where(tmp2 > 0.0, tmp2, 0.0)
    tl.store(out_ptr0 + (x0), tmp4.to(tl.int64), None)
