"""GPU proof of the core: a small transformer block compiled with backend="aikg" on CUDA.

Shows every fused Triton kernel Inductor generates captured as a task (origins, layouts, roles), each kernel run
alone by the standalone runner (median time), the outputs of ``aikg`` equal to Inductor's, and a swap through the
cache (an equivalent kernel: Inductor's own source with a marker comment) taking effect with equal outputs.

Run on a CUDA machine:  python benchmarks/gpu_capture.py --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from pathlib import Path

import torch
import triton
from torch import nn

from aikg_inductor import KernelCache, capture, torch_internals
from aikg_inductor.pipeline import entry_for
from aikg_inductor.search.proposers import Candidate
from aikg_inductor.verify import VerificationReport
from aikg_inductor.verify import standalone


class Block(nn.Module):
    """A pre-norm transformer block: RMSNorm, attention (SDPA), residual, RMSNorm, SiLU-gated MLP, residual."""

    def __init__(self, dim: int = 1024, heads: int = 16, hidden: int = 2816) -> None:
        super().__init__()
        self.heads = heads
        self.norm1 = nn.RMSNorm(dim)
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.proj = nn.Linear(dim, dim, bias=False)
        self.norm2 = nn.RMSNorm(dim)
        self.gate_up = nn.Linear(dim, 2 * hidden, bias=False)
        self.down = nn.Linear(hidden, dim, bias=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, s, d = x.shape
        q, k, v = self.qkv(self.norm1(x)).view(b, s, 3, self.heads, d // self.heads).unbind(2)
        attn = nn.functional.scaled_dot_product_attention(
            q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), is_causal=True
        )
        x = x + self.proj(attn.transpose(1, 2).reshape(b, s, d))
        gate, up = self.gate_up(self.norm2(x)).chunk(2, dim=-1)
        return x + self.down(nn.functional.silu(gate) * up)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cache-dir", type=Path, default=Path("/tmp/aikg-gpu-cache"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    torch_internals.check_private_apis()

    torch.manual_seed(0)
    model = Block().cuda().to(torch.bfloat16).eval()
    x = torch.randn(8, 512, 1024, device="cuda", dtype=torch.bfloat16)

    start = time.perf_counter()
    session, aikg_out = capture(model, [x], {"mode": "off", "cache_dir": str(args.cache_dir)})
    aikg_compile_s = time.perf_counter() - start
    torch.compiler.reset()
    with torch.no_grad():
        inductor_out = torch.compile(model)(x)
    max_diff = (aikg_out.float() - inductor_out.float()).abs().max().item()

    kernels = []
    for task in session.tasks.values():
        median = standalone.median_seconds(task, reps=100)
        kernels.append({"key": task.short_key, "name": task.name, "origins": list(task.origins),
                        "args": [f"{a.param} {a.role}{'' if a.live else ' scratch'} "
                                 f"{a.layout.short() if a.layout else a.value}" for a in task.args],
                        "baseline_median_us": round(median * 1e6, 2)})

    # Swap every kernel for an equivalent one (Inductor's source plus a marker) through the cache.
    cache = KernelCache(args.cache_dir)
    for task in session.tasks.values():
        # An equivalent source, swap proof only: its report is not a measurement (speedup 1 marks it).
        report = VerificationReport(verdict="accepted", rule=None, reason="equivalent source, swap proof only",
                                    task_key=task.key, dsl=task.dsl, speedup=1.0)
        candidate = Candidate(task.source + "\n# aikg-gpu-capture equivalent kernel\n", "gpu_capture")
        cache.put(entry_for(task, candidate, report))
    swap_session, swapped_out = capture(model, [x], {"mode": "cache", "cache_dir": str(args.cache_dir)})
    swap_diff = (swapped_out.float() - inductor_out.float()).abs().max().item()

    result = {
        "card": torch.cuda.get_device_name(), "torch": torch.__version__, "triton": triton.__version__,
        "python": platform.python_version(), "capability": list(torch.cuda.get_device_capability()),
        "model": "pre-norm transformer block, dim 1024, 16 heads, SiLU MLP 2816, bf16, input 8x512x1024",
        "fused_triton_kernels": len(kernels), "aikg_mode_off_compile_s": round(aikg_compile_s, 2),
        "max_abs_diff_aikg_off_vs_inductor": max_diff,
        "kernels_swapped_from_cache": len(swap_session.swapped),
        "max_abs_diff_after_equivalent_swap": swap_diff,
        "kernels": kernels,
    }
    (args.out / "gpu_capture.json").write_text(json.dumps(result, indent=1))
    lines = [f"# aikg capture on {result['card']} (torch {result['torch']}, triton {result['triton']})", "",
             f"Model: {result['model']}.", "",
             f"- fused Triton kernels captured as tasks: {len(kernels)}",
             f"- max |aikg(mode off) - Inductor|: {max_diff}",
             f"- kernels swapped from the cache (equivalent sources): {len(swap_session.swapped)}; "
             f"max |aikg(swapped) - Inductor|: {swap_diff}", "",
             "| key | fused name | origins | args | baseline median (us) |", "|---|---|---|---|---|"]
    for k in kernels:
        ops = ", ".join(o.removeprefix("aten.") for o in k["origins"])
        lines.append(f"| {k['key']} | {k['name']} | {ops} | {'<br>'.join(k['args'])} | {k['baseline_median_us']} |")
    (args.out / "gpu_capture.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    assert max_diff == 0.0, "mode off must give Inductor's exact result"
    assert len(swap_session.swapped) == len(kernels) and swap_diff == 0.0


if __name__ == "__main__":
    main()
