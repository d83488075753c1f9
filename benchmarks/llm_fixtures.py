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
  workspace, then a merge-and-normalise kernel), on the same recorded softmax task and sizes.

A fused cross-entropy in Triton needs Inductor's Triton task for cross-entropy, which only a CUDA machine can record
(no recorded one is in tests/fixtures/triton_tasks yet): it is not among the fixtures.

Run:  python benchmarks/llm_fixtures.py --device cpu --out benchmarks/results/llm_fixtures_cpu.json
      python benchmarks/llm_fixtures.py --device cuda --out benchmarks/results/llm_fixtures_H100.json   (a GPU)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
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
kernel: softmax over the last axis as a split reduction, in the launcher form
parallel: (row, chunk) programs in both kernels, so short and long rows alike fill the device
tiling: chunks of up to 1024 columns
loop_order: row, chunk
memory: kernel 1 reads each chunk once and writes its max and sum of exponentials to workspace; kernel 2 reads a
row's partials and its chunk, writes the output chunk
vectorise: contiguous columns
pipeline: two launches in sequence
reduction: per-chunk max and rescaled sum, merged per row in kernel 2, fp32
END"""


FIXTURES = (
    Fixture("softmax_online_cpp", "cpp-cpu", "single-pass online softmax, C++, [256, 2048] float32",
            _softmax_task, SOFTMAX_SKETCH, _file("softmax_online.cpp")),
    Fixture("cross_entropy_fused_cpp", "cpp-cpu", "fused cross-entropy, C++, [256, 2048] float32 logits",
            _cross_entropy_task, CROSS_ENTROPY_SKETCH, _file("cross_entropy_fused.cpp")),
    Fixture("softmax_single_pass_triton", "triton-cuda", "single-pass whole-row softmax, Triton, Inductor's H100 "
            "kernel (fp16 8192x4096 on a GPU; 2x64 float32 under the interpreter on CPU)",
            _triton_softmax_task, TRITON_SOFTMAX_SKETCH, _triton_softmax_code),
    Fixture("softmax_split_workspace_triton", "triton-cuda", "two-kernel split-reduction softmax with workspace, "
            "Triton launcher form, on the same task and sizes", _triton_softmax_task, TRITON_SPLIT_SKETCH,
            _file("softmax_split_workspace_triton.py")),
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
    args = parser.parse_args(argv)
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
