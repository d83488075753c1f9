# HAND-WRITTEN STAND-IN (not model output): a two-kernel split reduction for softmax over the last axis, in the
# launcher form. Each row is cut into chunks; the first kernel writes every chunk's max and sum of exponentials to
# workspace, the second merges a row's partials and writes its chunk of the output. Rows are contiguous.
import triton
import triton.language as tl

from torch._inductor.runtime import triton_helpers
triton_helpers.set_driver_to_gpu()


@triton.jit
def chunk_partials(in_ptr0, partial_max, partial_sum, r0_numel, splits, SPLIT_SIZE: tl.constexpr):
    row = tl.program_id(0)
    chunk = tl.program_id(1)
    cols = chunk * SPLIT_SIZE + tl.arange(0, SPLIT_SIZE)
    mask = cols < r0_numel
    x = tl.load(in_ptr0 + row * r0_numel + cols, mask, other=float('-inf')).to(tl.float32)
    chunk_max = tl.max(x, 0)
    chunk_sum = tl.sum(tl.where(mask, tl.exp(x - chunk_max), 0.0), 0)
    tl.store(partial_max + row * splits + chunk, chunk_max)
    tl.store(partial_sum + row * splits + chunk, chunk_sum)


@triton.jit
def normalise(in_ptr0, out_ptr2, partial_max, partial_sum, r0_numel, splits, SPLIT_SIZE: tl.constexpr,
              SPLITS_POW2: tl.constexpr):
    row = tl.program_id(0)
    chunk = tl.program_id(1)
    parts = tl.arange(0, SPLITS_POW2)
    parts_mask = parts < splits
    maxes = tl.load(partial_max + row * splits + parts, parts_mask, other=float('-inf'))
    sums = tl.load(partial_sum + row * splits + parts, parts_mask, other=0.0)
    row_max = tl.max(maxes, 0)
    row_sum = tl.sum(tl.where(parts_mask, sums * tl.exp(maxes - row_max), 0.0), 0)
    cols = chunk * SPLIT_SIZE + tl.arange(0, SPLIT_SIZE)
    mask = cols < r0_numel
    x = tl.load(in_ptr0 + row * r0_numel + cols, mask, other=0.0).to(tl.float32)
    tl.store(out_ptr2 + row * r0_numel + cols, tl.exp(x - row_max) / row_sum, mask)


def launch(in_ptr0, out_ptr2, xnumel, r0_numel, *, workspace):
    split_size = min(1024, max(16, triton.next_power_of_2(r0_numel) // 2))
    splits = triton.cdiv(r0_numel, split_size)
    partial_max = workspace(xnumel * splits, "float32")
    partial_sum = workspace(xnumel * splits, "float32")
    chunk_partials[(xnumel, splits)](in_ptr0, partial_max, partial_sum, r0_numel, splits, SPLIT_SIZE=split_size,
                                     num_warps=4)
    normalise[(xnumel, splits)](in_ptr0, out_ptr2, partial_max, partial_sum, r0_numel, splits,
                                SPLIT_SIZE=split_size, SPLITS_POW2=triton.next_power_of_2(splits), num_warps=4)
