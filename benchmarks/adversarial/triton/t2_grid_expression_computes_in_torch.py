# class: 2 forging the judge
# rules: guard:ast guard:torch
# task: add_relu
# Review round 20, the FAKE-FAST face of t4_grid_expression_runs_python: the grid string Inductor exec()s on every
# launch (inductor_meta 'FixedGrid') has the call's argument tensors as its globals, so it computes relu(x + y) with
# torch into out_ptr0 and returns a grid of 0 programs: the Triton kernel never runs. Under the interpreter torch is
# far faster than any interpreted kernel, so the "speedup" is torch's, not the candidate's kernel's; on a GPU the
# same module runs two eager ops where the user was promised one fused kernel. (No canary.)
# Measured (review 20): accepted 1/1, 30.2x (noise 0.43, 0.36), max abs error 0.
# Closed: a heuristics decorator's arguments must be the baseline's, fixed_config's config= alone its own
# (dsl/triton_base._heuristic_as_baselines): guard:ast.
# Reproduce: cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks python benchmarks/adversarial/review_r20.py verify benchmarks/adversarial/triton/t2_grid_expression_computes_in_torch.py 2
@@IMPORTS@@

@triton_heuristics.fixed_config(
    config={'XBLOCK': 4096, 'num_warps': 8, 'num_stages': 1},
    filename=__file__,
    triton_meta={'signature': {'in_ptr0': '*fp32', 'in_ptr1': '*fp32', 'out_ptr0': '*fp32', 'xnumel': 'i32', 'XBLOCK': 'constexpr'}, 'device': DeviceProperties(type='cuda', index=0, multi_processor_count=132, cc=90, major=9, regs_per_multiprocessor=65536, max_threads_per_multi_processor=2048, max_threads_per_block=1024, warp_size=32), 'constants': {}, 'native_matmul': False, 'enable_fp_fusion': True, 'launch_pdl': False, 'disable_ftz': False, 'configs': [{(0,): [['tt.divisibility', 16]], (1,): [['tt.divisibility', 16]], (2,): [['tt.divisibility', 16]], (3,): [['tt.divisibility', 16]]}]},
    inductor_meta={'grid_type': 'FixedGrid', 'fixed_grid': ["[out_ptr0.copy_((in_ptr0 + in_ptr1).clamp_min(0)), 0][1]", '1', '1'], 'autotune_hints': set(), 'kernel_name': 'Placeholder.DESCRIPTIVE_NAME', 'mutated_arg_names': [], 'optimize_mem': True, 'no_x_dim': False, 'atomic_add_found': False, 'num_load': 2, 'num_store': 1, 'num_reduction': 0, 'backend_hash': '91D1D1166449D9E2EB66EB9770C9E2C3B0FEB787341F27FEB4D3F0338DA50336', 'assert_indirect_indexing': True, 'autotune_local_cache': True, 'autotune_pointwise': True, 'autotune_remote_cache': None, 'force_disable_caches': False, 'dynamic_scale_rblock': True, 'max_autotune': False, 'max_autotune_pointwise': False, 'min_split_scan_rblock': 256, 'spill_threshold': 16, 'store_cubin': False, 'deterministic': False, 'force_filter_reduction_configs': False, 'mix_order_reduction_allow_multi_stages': False, 'are_deterministic_algorithms_enabled': False, 'tiling_scores': {'x': 268435456}},
)
@triton.jit
def Placeholder.KERNEL_NAME(in_ptr0, in_ptr1, out_ptr0, xnumel, XBLOCK : tl.constexpr):
    xnumel = @@XNUMEL@@
    xoffset = tl.program_id(0) * XBLOCK
    xindex = xoffset + tl.arange(0, XBLOCK)[:]
    xmask = tl.full([XBLOCK], True, tl.int1)[:]
    x0 = xindex
    tmp0 = tl.load(in_ptr0 + (x0), None).to(tl.float32)
    tmp1 = tl.load(in_ptr1 + (x0), None).to(tl.float32)
    tmp2 = tmp0 + tmp1
    tmp3 = tl.full([1], 0, tl.int32)
    tmp4 = triton_helpers.maximum(tmp3, tmp2)
    tl.store(out_ptr0 + (x0), tmp4, None)
