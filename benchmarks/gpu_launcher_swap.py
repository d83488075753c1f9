"""A launcher-form Triton kernel inside ``torch.compile`` on a GPU, end to end.

The kernel is benchmarks/llm_fixtures/softmax_split_workspace_triton.py, a HAND-WRITTEN STAND-IN for a model's reply
(not model output): a two-kernel split-reduction softmax with workspace, in the launcher form. Inductor's kernel of
a sampler's ``softmax(logits.float(), -1)`` (bf16 logits 272 x 151936, ``llm_fixtures.LIVE_TASKS``: few long rows,
where the split pays) is captured live; the stand-in is judged by the verifier, stored the
way ``aikg verify --store`` stores (``pipeline.store_if_faster``) when accepted, and then a fresh ``torch.compile``
with ``backend="aikg"`` in mode ``cache`` must run it through the bound launcher (``BoundKernel``): output checked
against eager, time against Inductor's compiled model (median of interleaved ``do_bench`` rounds).

    python benchmarks/gpu_launcher_swap.py --out OUT
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
from pathlib import Path

import llm_fixtures  # the stand-in and its task (this script's folder is first on sys.path)
import torch
import triton

from aikg_inductor.kernel_cache import KernelCache
from aikg_inductor.pipeline import LocalSink, entry_for, store_if_faster
from aikg_inductor.search.proposers import Candidate
from aikg_inductor.torch_internals.bound_kernel import BoundKernel
from aikg_inductor.verify import verify_candidate

ROUNDS = 7


def bound_kernels() -> list[BoundKernel]:
    """Every bound launcher Inductor's generated code has loaded in this process."""
    import gc

    return [k for k in gc.get_objects() if isinstance(k, BoundKernel)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    live = llm_fixtures.LIVE_TASKS["sampler_softmax"]
    softmax = live.model
    (x,) = live.inputs("cuda")
    task = llm_fixtures.capture_live_task("sampler_softmax", "cuda")
    source = llm_fixtures.softmax_split_code(task, "cuda")
    report = verify_candidate(task, source)
    record = {"label": "hand-written stand-in for a model's reply (not model output)", "card": torch.cuda.get_device_name(),
              "torch": torch.__version__, "triton": triton.__version__, "task": task.short_key,
              "verdict": report.verdict, "rule": report.rule, "reason": report.reason,
              "verified_speedup": report.speedup}
    print(report.summary(), flush=True)
    if report.accepted:
        cache_dir = tempfile.mkdtemp(prefix="aikg-launcher-")
        cache = KernelCache(cache_dir, read_only=False)
        record["stored"] = store_if_faster(LocalSink(cache), task,
                                           entry_for(task, Candidate(source, "hand-written stand-in"), report))
        cache.close()
        torch._dynamo.reset()
        compiled = torch.compile(softmax, backend="aikg", options={"mode": "cache", "cache_dir": cache_dir})
        inductor = torch.compile(softmax)
        out = compiled(x)
        inductor(x)
        kernels = bound_kernels()
        calls_before = sum(k.calls for k in kernels)
        compiled(x)
        torch.cuda.synchronize()
        record["bound_launchers"] = len(kernels)
        record["launcher_ran"] = sum(k.calls for k in kernels) > calls_before
        record["max_abs_error_vs_eager"] = float((out.float() - softmax(x).float()).abs().max())
        times: dict[str, list[float]] = {"inductor": [], "aikg (bound launcher)": []}
        for round_ in range(ROUNDS):
            order = list(times) if round_ % 2 == 0 else list(reversed(times))
            for name in order:
                fn = inductor if name == "inductor" else compiled
                times[name].append(triton.testing.do_bench(lambda: fn(x), return_mode="median") * 1e-3)
        medians = {name: statistics.median(t) for name, t in times.items()}
        record["median_s"] = medians
        record["speedup_vs_inductor_end_to_end"] = medians["inductor"] / medians["aikg (bound launcher)"]
    (args.out / "gpu_launcher_swap.json").write_text(json.dumps(record, indent=1))
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
