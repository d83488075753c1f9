"""Evidence for the agent loop's ceiling: HAND-WRITTEN STAND-INS for a strong model's replies (a sketch and a kernel
written by a person, NOT model output), replayed through the real pipeline (transcript replay -> Designer -> Coder ->
static guards -> verifier -> cache) on real Inductor tasks. Prints, and with ``--out`` writes, one JSON record per
fixture: verdict, rule, speedup, LLM calls and (estimated) tokens per accepted candidate.

Fixtures:
- ``softmax_online_cpp``: a single-pass online softmax, C++ (CPU), softmax of a [256, 2048] float32 tensor.
- ``cross_entropy_fused_cpp``: a fused cross-entropy, C++ (CPU), [256, 2048] float32 logits, int64 targets.
- ``softmax_single_pass_triton``: a whole-row single-pass softmax, Triton, on Inductor's recorded H100 kernel of
  softmax(x, -1) for fp16 8192x4096 (tests/fixtures/triton_tasks). On a GPU it runs at the recorded size; on CPU
  (``--device cpu``) it is shrunk to 2x64 float32 and run under TRITON_INTERPRET=1, where only correctness means
  anything (the interpreter's speed is not a GPU's).
- ``softmax_split_workspace_triton``: a two-kernel split reduction in the launcher form (chunk partials into
  workspace, then a merge-and-normalise kernel, at least 4 programs per SM however few the rows), on Inductor's
  kernel of a sampler's ``softmax(logits.float(), -1)`` captured live: bf16 logits 272 x 151936 (Qwen2's vocabulary)
  on a GPU, float32 4x40 on CPU. Why that size: Inductor splits a long-row reduction itself while rows < 2 x SMs
  (``choices.reduction_split_factor``: 19 splits for [32, 151936] on 132 SMs; torch 2.11's online softmax then
  falls back to a split amax and a split sum, several kernels, none a whole softmax), so [32, 151936] is no task
  for this stand-in. From 264 rows on an H200 it does not split: one kernel, a looped online softmax with one
  program per row (XBLOCK=1, R0_BLOCK=2048, 16 warps: 8 bytes per thread a step; max-autotune's extra configs
  only group rows), 272 programs for 132 SMs: about 8 KiB of loads in flight per SM where 4.8 TB/s at ~1 us
  latency needs ~30 KiB. Bytes are the same for both (the logits read twice, 82.6 MB each, fp32 probabilities
  written once, 165 MB: 330 MB, about 80 us at the H200's 4.2 TB/s copy rate); the stand-in's thousands of
  programs keep every SM's loads in flight. Expected about 2x; measured on the H200
  (``fixture_sweep_H200.json``, ``fixture_sweep_b2b_H200.json``) 1.03-1.47x, bimodal from instance to instance.
- ``rmsnorm_persistent_triton``: a persistent kernel in the launcher form (a fixed grid of a few programs per SM,
  each looping over blocks of rows, the weight loaded once, the row loop pipelined), on Inductor's rms_norm kernel
  captured live: bf16 32768 x 1024 (Qwen3-0.6B's hidden size, a prefill of 16 x 2048 tokens) on a GPU, float32
  38x100 on CPU. Why that size: for an inner persistent reduction of 256-1024 columns and rows >= 1024, Inductor
  (torch 2.11, ``_persistent_reduction_configs``) pins one config, XBLOCK = 1024 // row length with num_warps=1:
  here 32768 programs of one warp, each one row (2 KiB in, 2 KiB out) and its own load of the weight, at most 32
  resident per SM (a CTA limit): half the SM's warps, and a CTA's short life spent mostly waiting on its one
  load. 134 MB moved, about 32 us at 4.2 TB/s; expected 1.1-1.3x, measured on the H200 at best 0.97x (Inductor's
  kernel already moves 3.5 TB/s there).
  ``benchmarks/fixture_sweep.py`` times both tasks' Inductor kernels (default and max-autotune) against variants
  of the two stand-ins on a GPU; the variants the fixtures use are ``RMSNORM_PERSISTENT`` here and the variant
  lines of the split file's launcher.
- ``cross_entropy_fused_triton``: the row statistics of cross-entropy in one pass over the logits (online max and
  rescaled sum of exponentials, chunk by chunk), on Inductor's log-softmax kernel of F.cross_entropy captured live:
  float32 logits 8192x32000 with int64 targets on a GPU, 4x40 on CPU. Inductor splits cross-entropy into two
  kernels: this one (amax and log(sum(exp(x - amax))) per row, two passes over the logits, where all the bytes are)
  and a one-program gather of the target logits with the mean, which reads N values and has nothing to fuse with.

Live tasks: on a GPU the model is compiled there at the real size; on CPU (``--device cpu``) a subprocess started
with TRITON_INTERPRET=1 compiles it with Inductor's Triton for CPU tensors (``triton_tasks_on_cpu``) at the small
size. No recorded file is needed for them. Every Triton fixture on CPU runs under the interpreter, where the verdict
means "correct" (and faster only as the interpreter counts): ``speed_meaningful`` is false in its record.

Run:  python benchmarks/llm_fixtures.py --device cpu --out benchmarks/results/llm_fixtures_cpu.json
      python benchmarks/llm_fixtures.py --device cuda --out benchmarks/results/llm_fixtures_H100.json   (a GPU)
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any, Callable

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
KERNELS = HERE / "llm_fixtures"
TRITON_TASKS = REPO / "tests" / "fixtures" / "triton_tasks"
TRITON_SOFTMAX = "b56c749519d8f96b8461a38cb1bfb5be2becffe47ef9a52ff0d5e13a9efd2c79"  # softmax(x, -1), fp16 8192x4096

LABEL = "hand-written stand-in for a model's replies (not model output)"

SOFTMAX_SKETCH = """SKETCH v1
kernel: softmax over the last axis of a [256, 2048] float32 tensor
parallel: rows over OpenMP threads, static split
tiling: rows in blocks of 1024 floats, each block in vectors of Vectorized<float>::size()
loop_order: row, block, col
memory: one read of each row (block max, exp stored into the output, rescaled running sum), one pass over the output in L1 applying each block's correction and 1/sum; scratch outputs not written
vectorise: cols, full vectors (2048 and 256 are multiples of every width), no tail
pipeline: none
reduction: online max/sum merged block by block, one exp per element (exp_u20, within tolerance)
END"""

CROSS_ENTROPY_SKETCH = """SKETCH v1
kernel: mean cross-entropy of [256, 2048] float32 logits against int64 targets, ignore_index -100
parallel: rows over OpenMP threads, per-thread partial loss sums and counts combined by an OpenMP reduction
tiling: each row in blocks of 1024 floats
loop_order: row, block, col
memory: one read of each row and its target; the scalar loss written once; per-row scratch outputs not written
vectorise: cols, full vectors, no tail
pipeline: none
reduction: online log-sum-exp (block max, rescaled sum), then loss = log(sum) - (x[target] - max)
END"""

TRITON_SOFTMAX_SKETCH = """SKETCH v1
kernel: softmax over the last axis, one row per program
parallel: rows over program ids (XBLOCK rows per program)
tiling: R0_BLOCK = the whole row, so the row is loaded once and kept in registers
loop_order: row
memory: one read of the row, one write; no second pass over the input
vectorise: contiguous r0 axis
pipeline: none (single pass)
reduction: max2 then sum of exp in fp32, in registers
END"""


@dataclasses.dataclass(frozen=True)
class Fixture:
    name: str
    dsl: str
    what: str
    task: Callable[[str], Any]  # device -> KernelTask
    sketch: str
    code: Callable[[Any, str], str]  # (task, device) -> the hand-written kernel source


def _cpu_task(fn: Callable, inputs: Callable[[], list]) -> Any:
    import torch

    from aikg_inductor import capture

    torch.compiler.reset()
    session, _ = capture(fn, inputs(), {"mode": "off"})
    torch.compiler.reset()
    (task,) = session.tasks.values()
    return task


def _softmax_task(device: str) -> Any:
    import torch

    return _cpu_task(lambda x: torch.softmax(x, dim=-1), lambda: [torch.randn(256, 2048)])


def _cross_entropy_task(device: str) -> Any:
    import torch
    import torch.nn.functional as F

    return _cpu_task(lambda logits, t: F.cross_entropy(logits, t),
                     lambda: [torch.randn(256, 2048), torch.randint(0, 2048, (256,))])


def _triton_softmax_task(device: str) -> Any:
    from aikg_inductor import KernelTask, TensorLayout
    from aikg_inductor.task import task_key

    task = KernelTask.load(TRITON_TASKS / f"{TRITON_SOFTMAX}.json")
    if device == "cuda":
        return task
    # The interpreter runs each element's combine function in Python: 2 rows of 64 float32 keep it to seconds.
    rows, cols = 2, 64
    source = task.source.replace("'*fp16'", "'*fp32'")
    for old, new in {"'x': 8192": f"'x': {rows}", "xnumel = 8192": f"xnumel = {rows}", "4096": str(cols)}.items():
        source = source.replace(old, new)
    layout = TensorLayout((rows, cols), (cols, 1), "float32")
    sizes = {"xnumel": rows, "r0_numel": cols}
    args = tuple(dataclasses.replace(a, layout=layout if a.layout else None, value=sizes.get(a.param, a.value))
                 for a in task.args)
    key = task_key(source, task.dsl, task.device_type, task.arch, task.torch_version, task.triton_version)
    return dataclasses.replace(task, source=source, args=args, key=key)


def _file(name: str) -> Callable[[Any, str], str]:
    return lambda task, device: (KERNELS / name).read_text()


def _triton_softmax_code(task: Any, device: str) -> str:
    """The whole-row kernel in the baseline's module, behind a fixed configuration: one row per program on a GPU
    (8 warps over a 4096-element row), all rows in one program under the interpreter."""
    from aikg_inductor.dsl.triton_configs import LaunchConfig, kernel_shape, with_fixed_config

    rows = next(a.value for a in task.args if a.param == "xnumel")
    cols = next(a.value for a in task.args if a.param == "r0_numel")
    xblock = 1 if device == "cuda" else rows
    pinned = with_fixed_config(task, kernel_shape(task), LaunchConfig((("XBLOCK", xblock), ("R0_BLOCK", cols)), 8))
    head, _ = pinned.split("@triton.jit", 1)
    body = f'''@triton.jit
def Placeholder.KERNEL_NAME(in_ptr0, out_ptr2, xnumel, r0_numel, XBLOCK : tl.constexpr, R0_BLOCK : tl.constexpr):
    # HAND-WRITTEN STAND-IN (not model output): the whole row in one block, read once, softmax in registers.
    xnumel = {rows}
    r0_numel = {cols}
    xindex = tl.program_id(0) * XBLOCK + tl.arange(0, XBLOCK)[:, None]
    xmask = xindex < xnumel
    r0_index = tl.arange(0, R0_BLOCK)[None, :]
    mask = xmask & (r0_index < r0_numel)
    x = tl.load(in_ptr0 + (r0_index + {cols}*xindex), mask, other=float('-inf')).to(tl.float32)
    row_max = triton_helpers.max2(x, 1)[:, None]
    e = tl.where(mask, libdevice.exp(x - row_max), 0.0)
    row_sum = tl.sum(e, 1)[:, None]
    tl.store(out_ptr2 + (r0_index + {cols}*xindex), e / row_sum, mask)
'''
    return head + body


TRITON_SPLIT_SKETCH = """SKETCH v1
kernel: softmax over the last axis of few long rows (a sampler's vocabulary), as a split reduction in the launcher form
parallel: (row, chunk) programs in both kernels: at least 4 programs per SM however few the rows, where one program
per row would leave most SMs idle
tiling: chunks of a few whole tiles of thousands of columns, the tile shrunk for short rows
loop_order: row, chunk, tile
memory: kernel 1 reads each chunk once and writes its max and sum of exponentials to workspace; kernel 2 reads its
row's partials and its chunk, writes the output chunk (in the output's dtype)
vectorise: contiguous columns
pipeline: two launches in sequence
reduction: per tile its max, the chunk's running sum rescaled once per tile, fp32; partials merged per row in kernel 2
END"""


RMSNORM_SKETCH = """SKETCH v1
kernel: rms_norm over the last axis, x * rsqrt(mean(x^2) + 1e-6) * weight, short rows (1024), as a persistent kernel
(launcher form)
parallel: a fixed grid of a few programs per SM (the device's SM count), each looping over row blocks pid, pid + grid, ...
tiling: a block of rows a step, each whole (next power of two of the row length)
loop_order: row block
memory: the weight read once per program and kept in registers; each row read once, written once
vectorise: contiguous columns
pipeline: the row loop software-pipelined (num_stages), so the next block's load overlaps this block's arithmetic
reduction: sum of squares per row in fp32, in registers
END"""


CROSS_ENTROPY_TRITON_SKETCH = """SKETCH v1
kernel: the log-softmax statistics of cross-entropy (row max, log of the sum of exp(x - max)), Inductor's first
kernel of F.cross_entropy
parallel: rows over program ids (XBLOCK rows per program)
tiling: chunks of CHUNK columns
loop_order: row, chunk
memory: one read of the logits instead of Inductor's two (a max pass, then a sum-of-exponentials pass)
vectorise: contiguous columns
pipeline: none
reduction: online: per chunk its max, the running sum rescaled by exp(old max - new max) once, one exp per element
END"""


@dataclasses.dataclass(frozen=True)
class LiveTask:
    """An Inductor kernel captured live: compiled on the GPU at its real size, or on CPU at a small size as
    Inductor's Triton for CPU tensors (``triton_tasks_on_cpu``) in a subprocess that interprets Triton."""

    model: Callable[..., Any]
    inputs: Callable[[str], list]  # device -> example inputs
    picks: Callable[[Any], bool]  # which of the compile's kernels (a KernelTask) is the task


EPS = 1e-6
# The live tasks' GPU sizes (docstring: why these). A sampler's softmax over Qwen2's vocabulary for a decode batch
# of 272 sequences: the first of vLLM's CUDA-graph batch sizes (multiples of 8) at or above 2 x 132, below which
# Inductor splits the reduction itself (choices.reduction_split_factor: no split once rows >= 2 x SMs).
QWEN2_VOCAB = 151936
SAMPLER_ROWS = 272
# Qwen3-0.6B's rms_norm (hidden 1024) over a prefill of 16 sequences of 2048 tokens.
QWEN3_0_6B_HIDDEN = 1024
PREFILL_TOKENS = 32768


def _rms_norm(x: Any, weight: Any) -> Any:
    import torch.nn.functional as F

    return F.rms_norm(x, (x.shape[-1],), weight, EPS)


def _rms_norm_inputs(device: str) -> list:
    import torch

    rows, cols, dtype = ((PREFILL_TOKENS, QWEN3_0_6B_HIDDEN, torch.bfloat16) if device == "cuda"
                         else (38, 100, torch.float32))  # on CPU: 10 blocks of 4 rows (one short) for 8 programs
    return [torch.randn(rows, cols, dtype=dtype, device=device), torch.randn(cols, dtype=dtype, device=device)]


def _cross_entropy(logits: Any, targets: Any) -> Any:
    import torch.nn.functional as F

    return F.cross_entropy(logits, targets)


def _cross_entropy_inputs(device: str) -> list:
    import torch

    # On CPU the baseline's max runs its combine function once per element in Python: 4x40 keeps it to minutes.
    rows, cols = (8192, 32000) if device == "cuda" else (4, 40)
    return [torch.randn(rows, cols, device=device), torch.randint(0, cols, (rows,), device=device)]


def _sampler_softmax(logits: Any) -> Any:
    import torch

    return torch.softmax(logits.float(), -1)


def _sampler_softmax_inputs(device: str) -> list:
    import torch

    rows, cols, dtype = (SAMPLER_ROWS, QWEN2_VOCAB, torch.bfloat16) if device == "cuda" else (4, 40, torch.float32)
    return [torch.randn(rows, cols, dtype=dtype, device=device)]


LIVE_TASKS = {
    "rmsnorm": LiveTask(_rms_norm, _rms_norm_inputs, lambda t: "aten.rsqrt.default" in t.origins),
    "sampler_softmax": LiveTask(_sampler_softmax, _sampler_softmax_inputs, lambda t: True),
    # The log-softmax statistics kernel (amax on CPU, Inductor's online softmax on a GPU): the one that reads the
    # logits without gathering from them.
    "cross_entropy": LiveTask(_cross_entropy, _cross_entropy_inputs,
                              lambda t: "aten.gather.default" not in t.origins and any(
                                  a.role == "in" and a.layout is not None and len(a.layout.size) == 2
                                  and a.layout.size[1] > 1 for a in t.args)),
}


def capture_live_task(name: str, device: str) -> Any:
    """Compile ``LIVE_TASKS[name]`` on ``device`` in this process and return its task. On CPU this process must
    have started with TRITON_INTERPRET=1 (``live_task`` starts one)."""
    import torch

    from aikg_inductor import capture

    live = LIVE_TASKS[name]
    torch.compiler.reset()
    if device == "cuda":
        session, _ = capture(live.model, live.inputs(device), {"mode": "off"})
    else:
        from aikg_inductor.dsl.triton_interpret import interpretable_libdevice
        from aikg_inductor.torch_internals.interception import triton_tasks_on_cpu

        interpretable_libdevice()
        with triton_tasks_on_cpu():
            session, _ = capture(live.model, live.inputs(device), {"mode": "off"})
    torch.compiler.reset()
    (task,) = [t for t in session.tasks.values() if live.picks(t)]
    return task


@functools.cache
def live_task(name: str, device: str) -> Any:
    """``capture_live_task`` on a GPU here, on CPU in a subprocess with TRITON_INTERPRET=1 (Triton decides at import
    whether its kernels are interpreted, and this process may have imported it already)."""
    from aikg_inductor import KernelTask

    if device == "cuda":
        return capture_live_task(name, device)
    with tempfile.TemporaryDirectory(prefix="aikg-live-task-") as tmp:
        out = Path(tmp) / "task.json"
        env = {**os.environ, "TRITON_INTERPRET": "1", "OMP_NUM_THREADS": "1",
               "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")]))}
        subprocess.run([sys.executable, str(Path(__file__).resolve()), "--capture-task", name, "--task-out",
                        str(out)], env=env, check=True, capture_output=True, text=True, timeout=600)
        return KernelTask.load(out)


def _tensor_params(task: Any, role: str, dims: int | None = None) -> list[str]:
    return [a.param for a in task.args if a.role == role and a.layout is not None
            and (dims is None or len(a.layout.size) == dims)]


def _contiguous_rows(task: Any, param: str) -> None:
    """The stand-in kernels index rows as ``row * r0_numel + col``: the tensor must be a contiguous [rows, cols]."""
    layout = next(a.layout for a in task.args if a.param == param)
    assert layout.stride == (layout.size[1], 1), f"{param} is not a contiguous [rows, cols] tensor: {layout}"


def _sm_count(task: Any) -> int:
    """The device's SM count, as Inductor wrote it into the kernel's triton_meta (the prompt's device facts say the
    same); 2 on CPU, where Inductor writes the core count."""
    return int(re.search(r"multi_processor_count=(\d+)", task.source).group(1))


@dataclasses.dataclass(frozen=True)
class PersistentVariant:
    """How the persistent rms_norm launches: programs per SM of the fixed grid, rows per loop iteration (one
    [rows, row length] tile), warps per program, and pipeline stages of the row loop."""

    programs_per_sm: int
    rows: int
    warps: int
    stages: int


# The variant the fixture uses; benchmarks/fixture_sweep.py times it against others on the GPU.
RMSNORM_PERSISTENT = PersistentVariant(programs_per_sm=8, rows=8, warps=4, stages=3)


def rmsnorm_persistent_code(task: Any, device: str, variant: PersistentVariant = RMSNORM_PERSISTENT) -> str:
    """A persistent rms_norm in the launcher form, for the task's own parameter names and the device's SM count."""
    (x,), (weight,) = _tensor_params(task, "in", 2), _tensor_params(task, "in", 1)
    (out,) = _tensor_params(task, "out", 2) + _tensor_params(task, "in_out", 2)
    _contiguous_rows(task, x)
    params = [a.param for a in task.args]
    return f'''# HAND-WRITTEN STAND-IN (not model output): rms_norm as a persistent kernel. A fixed grid of {variant.programs_per_sm} programs per
# SM loops over the rows, {variant.rows} rows a step; each program reads the weight once and keeps it in registers, and the
# loop's pipeline loads the next rows while this step's are reduced.
import triton
import triton.language as tl

from torch._inductor.runtime import triton_helpers
triton_helpers.set_driver_to_gpu()


@triton.jit
def rms_norm_rows(x_ptr, weight_ptr, out_ptr, rows, cols, ROWS: tl.constexpr, BLOCK: tl.constexpr,
                  STAGES: tl.constexpr):
    offsets = tl.arange(0, BLOCK)[None, :]
    col_mask = offsets < cols
    weight = tl.load(weight_ptr + offsets, col_mask, other=0.0).to(tl.float32)
    step_rows = tl.arange(0, ROWS)[:, None]
    for first in tl.range(tl.program_id(0) * ROWS, rows, tl.num_programs(0) * ROWS, num_stages=STAGES):
        row = first + step_rows
        mask = (row < rows) & col_mask
        at = row.to(tl.int64) * cols + offsets
        x = tl.load(x_ptr + at, mask, other=0.0).to(tl.float32)
        inv_rms = tl.math.rsqrt(tl.sum(x * x, 1)[:, None] / cols + {EPS!r})
        tl.store(out_ptr + at, x * inv_rms * weight, mask)


def launch({", ".join(params)}, *, workspace):
    programs = min(triton.cdiv(xnumel, {variant.rows}), {variant.programs_per_sm * _sm_count(task)})
    rms_norm_rows[(programs,)]({x}, {weight}, {out}, xnumel, r0_numel, ROWS={variant.rows},
                               BLOCK=triton.next_power_of_2(r0_numel), STAGES={variant.stages}, num_warps={variant.warps})
'''


SPLIT_SOFTMAX = KERNELS / "softmax_split_workspace_triton.py"
# The stand-in's launcher is written for the names Inductor gives a softmax kernel on a GPU; a compile may name
# them otherwise (on CPU Inductor writes the output through in_out_ptr0).
_SPLIT_LAUNCH = "def launch(in_ptr0, out_ptr2, xnumel, r0_numel, *, workspace):"


def with_variant(source: str, **values: int) -> str:
    """``source`` with its launcher's variant lines (``    name = <integer>``) set to ``values``."""
    for name, value in values.items():
        source, count = re.subn(rf"^    {name} = \d+$", f"    {name} = {value}", source, flags=re.MULTILINE)
        if count != 1:
            raise ValueError(f"no single variant line for {name!r} in the launcher")
    return source


def softmax_split_code(task: Any, device: str, source: str | None = None) -> str:
    """The split-reduction stand-in (``source``, default the file's), its launcher taking the task's parameters."""
    (x,) = _tensor_params(task, "in", 2)
    (out,) = _tensor_params(task, "out", 2) + _tensor_params(task, "in_out", 2)
    for param in (x, out):
        _contiguous_rows(task, param)
    params = [a.param for a in task.args]
    if sorted(params) != sorted([x, out, "xnumel", "r0_numel"]):
        raise ValueError(f"not a one-input softmax kernel: {params}")
    head, launch, body = (source or SPLIT_SOFTMAX.read_text()).partition(_SPLIT_LAUNCH)
    if not launch:
        raise ValueError("the stand-in's launcher is not the one this fixture adapts")
    names = {"in_ptr0": x, "out_ptr2": out}
    body = re.sub(r"\b(in_ptr0|out_ptr2)\b", lambda m: names[m.group(1)], body)
    return head + f"def launch({', '.join(params)}, *, workspace):" + body


# How Inductor's kernels compute a row statistic, by the call defining the value they store (``tmpN``): the
# interpreter's CPU form (max2, tl.sum) and the GPU's online softmax (its reduce returns max, then sum).
_STATISTICS = ((r"(tmp\d+) = tl_math\.log\(", "log_sum"), (r"(tmp\d+) = triton_helpers\.max2\(", "max"),
               (r"(tmp\d+) = tl\.sum\(", "sum"), (r"(tmp\d+), tmp\d+ = triton_helpers\.online_softmax_reduce\(", "max"),
               (r"tmp\d+, (tmp\d+) = triton_helpers\.online_softmax_reduce\(", "sum"))
_STATISTIC_VALUES = {"max": "run_max", "sum": "run_sum", "log_sum": "tl.log(run_sum)"}


def _stored_statistics(task: Any) -> dict[str, str]:
    """Each row output of the baseline -> what it holds ("max", "sum" or "log_sum"), as a model reads it off the
    baseline's source."""
    kinds = {value: kind for pattern, kind in _STATISTICS for value in re.findall(pattern, task.source)}
    stored = {pointer: kinds[value] for pointer, value in
              re.findall(r"tl\.store\((\w+) \+ \([^)]*\), (tmp\d+)", task.source) if value in kinds}
    outputs = _tensor_params(task, "out") + _tensor_params(task, "in_out")
    if sorted(stored) != sorted(outputs):
        raise ValueError(f"cannot tell what the baseline stores in {outputs}: found {stored}")
    return stored


def _cross_entropy_code(task: Any, device: str) -> str:
    """The log-softmax statistics in one pass, in the baseline's module behind a fixed configuration: one row per
    program with 8 warps on a GPU; all rows in one program, in chunks smaller than a row, under the interpreter."""
    from aikg_inductor.dsl.triton_configs import LaunchConfig, kernel_shape, with_fixed_config

    (logits,) = _tensor_params(task, "in", 2)
    _contiguous_rows(task, logits)
    stores = "\n".join(f"    tl.store({pointer} + rows, {_STATISTIC_VALUES[kind]}, row_mask)"
                       for pointer, kind in _stored_statistics(task).items())
    rows = next(a.value for a in task.args if a.param == "xnumel")
    cols = next(a.value for a in task.args if a.param == "r0_numel")
    chunk = min(4096, 1 << (cols - 1).bit_length()) if device == "cuda" else 16  # on CPU: 3 chunks, one partial
    xblock = 1 if device == "cuda" else 1 << (rows - 1).bit_length()
    shape = kernel_shape(task)
    blocks = {"XBLOCK": xblock, "R0_BLOCK": chunk}
    pinned = with_fixed_config(task, shape, LaunchConfig(tuple((b, blocks[b]) for b in shape.block_params),
                                                         8 if device == "cuda" else 1))
    head, body = pinned.split("@triton.jit", 1)
    signature = next(line for line in body.splitlines() if line.startswith("def "))
    return head + f'''@triton.jit
{signature}
    # HAND-WRITTEN STAND-IN (not model output): row max and sum of exp(x - max) in one pass over the logits,
    # chunk by chunk: the running sum is rescaled once per chunk, one exp per element.
    CHUNK: tl.constexpr = {chunk}
    rows = tl.program_id(0) * XBLOCK + tl.arange(0, XBLOCK)[:, None]
    row_mask = rows < xnumel
    cols = tl.arange(0, CHUNK)[None, :]
    run_max = tl.full([XBLOCK, 1], float('-inf'), tl.float32)
    run_sum = tl.zeros([XBLOCK, 1], tl.float32)
    for start in tl.range(0, r0_numel, CHUNK):
        mask = row_mask & (start + cols < r0_numel)
        x = tl.load({logits} + (start + cols + r0_numel * rows), mask, other=float('-inf')).to(tl.float32)
        # NaN kept in the max, as Inductor's; a chunk of -inf only (masked logits) keeps the sum 0 instead of
        # exp(-inf - -inf) = NaN.
        new_max = triton_helpers.maximum(run_max, triton_helpers.max2(x, 1)[:, None])
        shift = tl.where(new_max == float('-inf'), 0.0, new_max)
        run_sum = run_sum * tl.exp(run_max - shift) + tl.sum(tl.exp(x - shift), 1)[:, None]
        run_max = new_max
    # A row of -inf only: Inductor's x - max is NaN there, and so is its sum.
    run_sum = tl.where(run_max == float('-inf'), float('nan'), run_sum)
{stores}
'''


FIXTURES = (
    Fixture("softmax_online_cpp", "cpp-cpu", "single-pass online softmax, C++, [256, 2048] float32",
            _softmax_task, SOFTMAX_SKETCH, _file("softmax_online.cpp")),
    Fixture("cross_entropy_fused_cpp", "cpp-cpu", "fused cross-entropy, C++, [256, 2048] float32 logits",
            _cross_entropy_task, CROSS_ENTROPY_SKETCH, _file("cross_entropy_fused.cpp")),
    Fixture("softmax_single_pass_triton", "triton-cuda", "single-pass whole-row softmax, Triton, Inductor's H100 "
            "kernel (fp16 8192x4096 on a GPU; 2x64 float32 under the interpreter on CPU)",
            _triton_softmax_task, TRITON_SOFTMAX_SKETCH, _triton_softmax_code),
    Fixture("softmax_split_workspace_triton", "triton-cuda", "two-kernel split-reduction softmax with workspace, "
            "Triton launcher form, on Inductor's kernel of a sampler's softmax(logits.float(), -1) captured live "
            f"(bf16 logits {SAMPLER_ROWS}x{QWEN2_VOCAB} on a GPU; float32 4x40 under the interpreter on CPU)",
            lambda device: live_task("sampler_softmax", device), TRITON_SPLIT_SKETCH, softmax_split_code),
    Fixture("rmsnorm_persistent_triton", "triton-cuda", "persistent rms_norm (fixed grid looping over rows, weight "
            "loaded once per program), Triton launcher form, on Inductor's kernel captured live (bf16 "
            f"{PREFILL_TOKENS}x{QWEN3_0_6B_HIDDEN} on a GPU; float32 38x100 under the interpreter on CPU)",
            lambda device: live_task("rmsnorm", device), RMSNORM_SKETCH, rmsnorm_persistent_code),
    Fixture("cross_entropy_fused_triton", "triton-cuda", "one-pass log-softmax statistics of cross-entropy (online "
            "max and sum of exponentials), Triton, Inductor's first cross-entropy kernel captured live (float32 "
            "8192x32000 logits on a GPU; 4x40 under the interpreter on CPU)",
            lambda device: live_task("cross_entropy", device), CROSS_ENTROPY_TRITON_SKETCH, _cross_entropy_code),
)


def replaying_proposer(task: Any, transcript_dir: Path, designer_reply: str, coder_reply: str, lanes: int = 4,
                       estimate_tokens: bool = False) -> Any:
    """An LLM proposer in replay mode whose transcript store answers the first Designer and Coder requests of each
    of its ``lanes`` for ``task`` with the given replies (HAND-WRITTEN, not model output). With ``estimate_tokens``
    the filed replies carry estimated token counts (about four characters a token) for prompt and reply, so the
    accounts show what such a run would spend."""
    from aikg_inductor.agents import LlmClient, LlmConfig
    from aikg_inductor.agents.coder import CodeInput
    from aikg_inductor.agents.designer import DesignInput
    from aikg_inductor.agents.llm_client import estimate_tokens as estimate
    from aikg_inductor.agents.sketch import parse_sketch
    from aikg_inductor.agents.transcript import LlmReply
    from aikg_inductor.search.proposers import SearchContext
    from aikg_inductor.search.proposers.llm import LlmProposer

    config = LlmConfig.from_dict({"base_url": "http://127.0.0.1:9/v1", "model": "fixture-model",
                                  "transcript_dir": str(transcript_dir), "transcript_mode": "replay",
                                  "concurrency": lanes})
    proposer = LlmProposer(LlmClient(config))
    client, docs = proposer.client, proposer.docs_for(task)
    brief = proposer.brief(task, SearchContext())
    sketch = parse_sketch(designer_reply).text()

    def file(request: Any, text: str) -> None:
        prompt = request.prompt or "".join(content for _, content in request.messages)
        tokens = (estimate(prompt), estimate(text)) if estimate_tokens else (0, 0)
        client.store.put(request, LlmReply(text, "fixture-model", *tokens, "stop", 0.0))

    for lane in range(lanes):
        strategy, temperature = proposer.strategy(lane)
        file(proposer.designer.request(DesignInput(brief, docs, (), "", strategy, temperature)), designer_reply)
        file(proposer.coder.request(CodeInput(brief, sketch, docs, temperature=temperature)), coder_reply)
    return proposer


def run_fixture(fixture: Fixture, device: str, work: Path, pool: Any) -> dict[str, Any]:
    """The fixture through ``tune_task`` with the real verifier; the record of what came out."""
    from aikg_inductor import KernelCache, resolve_options
    from aikg_inductor.dsl import adapter_for
    from aikg_inductor.pipeline import TuneContext, tune_task

    task = fixture.task(device)
    code = fixture.code(task, device)
    reply = f"```{adapter_for(task.dsl).language}\n{code}```\n"
    proposer = replaying_proposer(task, work / fixture.name / "transcripts", fixture.sketch, reply,
                                  lanes=1, estimate_tokens=True)
    options = resolve_options({"cache_dir": str(work / fixture.name / "cache"), "kernel_budget_candidates": 1,
                               "kernel_budget_s": 600}, environ={})
    outcome = tune_task(task, TuneContext.local(options, KernelCache(options.cache_dir), pool=pool),
                        proposers=[proposer])
    report = outcome.attempts[0].report if outcome.attempts else None
    usage = proposer.client.usage_for(task.key)
    accepted = 1 if outcome.entry is not None else 0
    return {
        "fixture": fixture.name, "what": fixture.what, "label": LABEL, "dsl": task.dsl, "device": device,
        "speed_meaningful": not (task.dsl.startswith("triton") and device == "cpu"),  # the interpreter's is not
        "verifier_device": report.device if report else None,
        "verdict": report.verdict if report else "none", "rule": report.rule if report else None,
        "reason": report.reason if report else outcome.reason,
        "speedup": report.speedup if report else None,
        "baseline_us": [t * 1e6 for t in report.baseline_s] if report else [],
        "candidate_us": [t * 1e6 for t in report.candidate_s] if report else [],
        "max_abs_error": report.max_abs_error if report else None,
        "trials": report.trials if report else [],
        "llm_calls": usage.calls, "tokens_estimated": usage.tokens,
        "llm_calls_per_accepted": usage.calls / accepted if accepted else None,
        "tokens_per_accepted_estimated": usage.tokens / accepted if accepted else None,
    }


def pool_for(dsl: str, device: str, threads: int | None) -> Any:
    from aikg_inductor.verify import WorkerPool, default_pool

    if dsl.startswith("triton") and device == "cpu":
        return WorkerPool(1, dsls=(dsl,), threads=threads or 1, env={"TRITON_INTERPRET": "1"})
    if device == "cpu":
        return WorkerPool(1, dsls=(dsl,), threads=threads)
    return default_pool(dsl)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cpu: C++ fixtures natively and Triton under TRITON_INTERPRET=1; cuda: Triton on the GPU")
    parser.add_argument("--only", action="append", help="run only this fixture (repeatable)")
    parser.add_argument("--threads", type=int, help="OpenMP threads of the CPU verifier workers")
    parser.add_argument("--out", type=Path, help="write the records here as JSON")
    parser.add_argument("--capture-task", choices=sorted(LIVE_TASKS),
                        help="only capture this live task on CPU (the process must run with TRITON_INTERPRET=1)")
    parser.add_argument("--task-out", type=Path, help="with --capture-task: write the task here as JSON")
    args = parser.parse_args(argv)
    if args.capture_task:
        args.task_out.write_text(capture_live_task(args.capture_task, "cpu").to_json())
        return 0
    chosen = [f for f in FIXTURES if not args.only or f.name in args.only]
    if args.device == "cuda":
        chosen = [f for f in chosen if f.dsl.startswith("triton")]
    records = []
    with tempfile.TemporaryDirectory(prefix="aikg-llm-fixtures-") as tmp:
        for fixture in chosen:
            pool = pool_for(fixture.dsl, args.device, args.threads)
            try:
                record = run_fixture(fixture, args.device, Path(tmp), pool)
            finally:
                if args.device == "cpu":
                    pool.close()
            records.append(record)
            print(json.dumps({k: record[k] for k in ("fixture", "verdict", "rule", "speedup", "llm_calls",
                                                     "tokens_estimated")}), flush=True)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        conditions = {"threads": args.threads, "load_average": os.getloadavg(), "cpus": os.cpu_count()}
        args.out.write_text(json.dumps({"label": LABEL, "conditions": conditions, "records": records}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO))
    os.environ.setdefault("PYTHONPATH", str(REPO))
    sys.exit(main())
