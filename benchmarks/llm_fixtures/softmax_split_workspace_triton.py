# HAND-WRITTEN STAND-IN (not model output): a two-kernel split reduction for softmax over the last axis, in the
# launcher form, for few long rows (a sampler's softmax over a vocabulary), where one program per row leaves most
# SMs idle. Each row is cut into chunks of whole tiles; the first kernel writes every chunk's max and sum of
# exponentials to workspace, the second merges its row's partials and writes its chunk of the output. Rows are
# contiguous; the output takes the pointer's dtype.
import triton
import triton.language as tl

from torch._inductor.runtime import triton_helpers
triton_helpers.set_driver_to_gpu()


@triton.jit
def chunk_partials(x_ptr, partial_max, partial_sum, cols, chunk, splits, TILE: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    part = tl.program_id(1)
    start = part * chunk
    end = tl.minimum(start + chunk, cols)
    offsets = tl.arange(0, TILE)
    run_max = tl.full([], float('-inf'), tl.float32)
    run_sum = tl.zeros([], tl.float32)
    for first in tl.range(start, end, TILE):
        col = first + offsets
        x = tl.load(x_ptr + row * cols + col, col < end, other=float('-inf')).to(tl.float32)
        new_max = tl.maximum(run_max, tl.max(x, 0))
        # A chunk of -inf only (masked logits) keeps max -inf and sum 0 instead of exp(-inf - -inf) = NaN.
        shift = tl.where(new_max == float('-inf'), 0.0, new_max)
        run_sum = run_sum * tl.exp(run_max - shift) + tl.sum(tl.exp(x - shift), 0)
        run_max = new_max
    tl.store(partial_max + row * splits + part, run_max)
    tl.store(partial_sum + row * splits + part, run_sum)


@triton.jit
def normalise(x_ptr, out_ptr, partial_max, partial_sum, cols, chunk, splits, TILE: tl.constexpr,
              SPLITS_POW2: tl.constexpr):
    row = tl.program_id(0).to(tl.int64)
    part = tl.program_id(1)
    parts = tl.arange(0, SPLITS_POW2)
    parts_mask = parts < splits
    maxes = tl.load(partial_max + row * splits + parts, parts_mask, other=float('-inf'))
    sums = tl.load(partial_sum + row * splits + parts, parts_mask, other=0.0)
    row_max = tl.max(maxes, 0)
    inv_sum = 1.0 / tl.sum(sums * tl.exp(maxes - row_max), 0)
    start = part * chunk
    end = tl.minimum(start + chunk, cols)
    offsets = tl.arange(0, TILE)
    for first in tl.range(start, end, TILE):
        col = first + offsets
        mask = col < end
        x = tl.load(x_ptr + row * cols + col, mask, other=0.0).to(tl.float32)
        tl.store(out_ptr + row * cols + col, tl.exp(x - row_max) * inv_sum, mask)


def launch(in_ptr0, out_ptr2, xnumel, r0_numel, *, workspace):
    # The variant, timed on an H200 by benchmarks/fixture_sweep.py: tiles of `tile` columns, at most `tiles` of them
    # per program, and at least `min_programs` programs (4 per SM of the H200's 132) when rows are few.
    tile = 8192
    tiles = 2
    warps = 8
    min_programs = 528
    tile = min(tile, max(16, triton.next_power_of_2(r0_numel) // 2))
    splits = max(triton.cdiv(r0_numel, tile * tiles),
                 min(triton.cdiv(r0_numel, tile), triton.cdiv(min_programs, xnumel)))
    chunk = triton.cdiv(triton.cdiv(r0_numel, splits), tile) * tile
    splits = triton.cdiv(r0_numel, chunk)
    partial_max = workspace(xnumel * splits, "float32")
    partial_sum = workspace(xnumel * splits, "float32")
    chunk_partials[(xnumel, splits)](in_ptr0, partial_max, partial_sum, r0_numel, chunk, splits, TILE=tile,
                                     num_warps=warps)
    normalise[(xnumel, splits)](in_ptr0, out_ptr2, partial_max, partial_sum, r0_numel, chunk, splits, TILE=tile,
                                SPLITS_POW2=triton.next_power_of_2(splits), num_warps=warps)
