"""Kernels we did not write: real model layers and large standalone norms, eager vs Inductor vs max-autotune vs aikg.

Each workload is a ``transformers`` model cut to one layer and built from a config at a real model's sizes with
random weights (nothing is downloaded), run for inference (forward) or training (forward and backward), or a large
standalone norm or reduction (tensors over 1 GB). For each: eager, Inductor default, ``max-autotune-no-cudagraphs``,
``aikg`` with a cold cache (mode tune: the tuner runs during the compile) and ``aikg`` with the warm cache (mode
cache). Outputs are checked against eager; all variants are timed interleaved (order reversed every other round),
each round a ``do_bench`` median with L2 flushed (GPU) or a median of wall times (CPU); the report takes the median
over rounds (``--rounds``, at least 7). ``benchmarks/problems/`` stays the quick tier.

    python benchmarks/real_models.py --out OUT                      # the GPU run (gpu_real_models.sh)
    python benchmarks/real_models.py --out OUT --smoke              # CPU, tiny sizes: the script end to end
    python benchmarks/real_models.py --out OUT --only llama-infer-bf16,rmsnorm-1g-bf16
    python benchmarks/real_models.py --out OUT --merge A.json B.json      # one report from several runs

Writes OUT/<name>_<card>.json after every workload (top-level "summary": device, versions, geomeans, worst row
against max-autotune, median bandwidth fraction on memory-bound rows, tuning seconds per kernel, warm compile time
against Inductor's), OUT/<name>_<card>.md with the table and OUT/<name>_<card>.png. A workload that does not fit
in ``--deadline-s`` is left out and listed as such in the report.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import platform
import re
import statistics
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import torch

from aikg_inductor.options import INDUCTOR_MODES

sys.path.insert(0, str(Path(__file__).parent))
from run_suite import _geomean, _max_error, _tensors, search_records  # noqa: E402 - the suite's helpers

VARIANTS = ("eager", "inductor", "max-autotune", "aikg cold", "aikg warm")
DTYPES = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
TOLERANCE = {torch.float32: 1e-2, torch.float16: 5e-2, torch.bfloat16: 1e-1}  # a layer's output, against eager
MIN_ROUNDS = 7


# ------------------------------------------------------------------------------------------------- workloads


@dataclasses.dataclass(frozen=True)
class Workload:
    name: str  # "llama-infer-bf16"
    family: str  # "model" (matmul-bound, no bandwidth fraction) or "memory" (norms and reductions)
    build: Callable[[str, torch.dtype, bool], tuple[torch.nn.Module, list[torch.Tensor]]]  # device, dtype, smoke
    dtype: torch.dtype
    train: bool = False
    estimate_s: float = 60.0  # a guess at one workload's time on an H200 (compiles, tuning, timing), to plan the deadline


def _layer_config(family: str, smoke: bool) -> Any:
    """One layer of a real model's configuration (Llama-3-8B, Qwen2-7B, Mistral-7B, GPT-2 XL, BERT-large,
    T5-large, ViT-large), or the same shape of model at toy sizes for ``smoke``."""
    import transformers as hf

    if family in ("llama", "qwen2", "mistral"):
        real = {"llama": (4096, 14336, 32, 8), "qwen2": (3584, 18944, 28, 4), "mistral": (4096, 14336, 32, 8)}
        hidden, inter, heads, kv = (64, 128, 4, 2) if smoke else real[family]
        cls = {"llama": hf.LlamaConfig, "qwen2": hf.Qwen2Config, "mistral": hf.MistralConfig}[family]
        return cls(hidden_size=hidden, intermediate_size=inter, num_attention_heads=heads, num_key_value_heads=kv,
                   num_hidden_layers=1, vocab_size=128, max_position_embeddings=4096)
    if family == "gpt2":
        hidden, heads = (64, 4) if smoke else (1600, 25)
        return hf.GPT2Config(n_embd=hidden, n_head=heads, n_layer=1, vocab_size=128, n_positions=4096)
    if family == "bert":
        hidden, heads, inter = (64, 4, 128) if smoke else (1024, 16, 4096)
        return hf.BertConfig(hidden_size=hidden, num_attention_heads=heads, intermediate_size=inter,
                             num_hidden_layers=1, vocab_size=128, max_position_embeddings=4096)
    if family == "t5":
        hidden, heads, ff = (64, 4, 128) if smoke else (1024, 16, 4096)
        return hf.T5Config(d_model=hidden, d_kv=hidden // heads, num_heads=heads, d_ff=ff, num_layers=1,
                           vocab_size=128)
    if family == "vit":
        hidden, heads, inter, image = (64, 4, 128, 32) if smoke else (1024, 16, 4096, 224)
        return hf.ViTConfig(hidden_size=hidden, num_attention_heads=heads, intermediate_size=inter,
                            num_hidden_layers=1, image_size=image, patch_size=16)
    raise ValueError(family)


class _LastHidden(torch.nn.Module):
    """A transformers model called on embeddings (or pixels), returning its last hidden state alone."""

    def __init__(self, model: torch.nn.Module, keyword: str) -> None:
        super().__init__()
        self.model, self.keyword = model, keyword

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(**{self.keyword: x}).last_hidden_state


def _transformer(family: str) -> Callable[[str, torch.dtype, bool], tuple[torch.nn.Module, list[torch.Tensor]]]:
    def build(device: str, dtype: torch.dtype, smoke: bool) -> tuple[torch.nn.Module, list[torch.Tensor]]:
        import transformers as hf

        config = _layer_config(family, smoke)
        config._attn_implementation = "sdpa"
        model_cls = {"llama": hf.LlamaModel, "qwen2": hf.Qwen2Model, "mistral": hf.MistralModel,
                     "gpt2": hf.GPT2Model, "bert": hf.BertModel, "t5": hf.T5EncoderModel, "vit": hf.ViTModel}[family]
        torch.manual_seed(0)
        model = model_cls(config).to(device=device, dtype=dtype)
        batch, seq = (2, 16) if smoke else (1, 2048)
        if family == "vit":
            batch = 2 if smoke else 32  # 32 images of 224x224: 197 tokens each
            image = config.image_size
            return _LastHidden(model, "pixel_values"), [torch.randn(batch, 3, image, image, device=device, dtype=dtype)]
        hidden = config.d_model if family == "t5" else (config.n_embd if family == "gpt2" else config.hidden_size)
        return _LastHidden(model, "inputs_embeds"), [torch.randn(batch, seq, hidden, device=device, dtype=dtype)]

    return build


class RMSNorm(torch.nn.Module):
    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(hidden))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        variance = x.float().pow(2).mean(-1, keepdim=True)
        return (x.float() * torch.rsqrt(variance + 1e-6)).to(x.dtype) * self.weight


class Reduce(torch.nn.Module):
    def __init__(self, op: str, dim: int) -> None:
        super().__init__()
        self.op, self.dim = op, dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.op == "softmax":
            return torch.softmax(x, self.dim)
        return x.float().sum(self.dim).to(x.dtype)


def _standalone(make: Callable[[int], torch.nn.Module], gib: float = 1.0, cols: int = 8192):
    """A norm or reduction over a tensor of ``gib`` GiB (``cols`` wide), or a small one for ``smoke``."""

    def build(device: str, dtype: torch.dtype, smoke: bool) -> tuple[torch.nn.Module, list[torch.Tensor]]:
        width = 256 if smoke else cols
        rows = 64 if smoke else int(gib * 2**30) // (width * torch.empty((), dtype=dtype).element_size())
        torch.manual_seed(0)
        model = make(width).to(device=device, dtype=dtype)
        return model, [torch.randn(rows, width, device=device, dtype=dtype)]

    return build


def workloads() -> list[Workload]:
    """Every workload, in the order the GPU run takes them (most informative first, so a deadline cuts the rest)."""
    out = [
        Workload("rmsnorm-1g-bf16", "memory", _standalone(RMSNorm), torch.bfloat16, estimate_s=60),
        Workload("softmax-1g-fp16", "memory", _standalone(lambda w: Reduce("softmax", -1)), torch.float16,
                 estimate_s=60),
        Workload("llama-infer-bf16", "model", _transformer("llama"), torch.bfloat16, estimate_s=150),
        Workload("llama-train-bf16", "model", _transformer("llama"), torch.bfloat16, train=True, estimate_s=220),
        Workload("layernorm-1g-fp32", "memory", _standalone(lambda w: torch.nn.LayerNorm(w)), torch.float32,
                 estimate_s=60),
        Workload("colsum-1g-fp32", "memory", _standalone(lambda w: Reduce("sum", 0)), torch.float32, estimate_s=60),
        Workload("gpt2-infer-fp16", "model", _transformer("gpt2"), torch.float16, estimate_s=100),
        Workload("bert-infer-fp32", "model", _transformer("bert"), torch.float32, estimate_s=100),
        Workload("qwen2-infer-bf16", "model", _transformer("qwen2"), torch.bfloat16, estimate_s=150),
        Workload("mistral-infer-fp16", "model", _transformer("mistral"), torch.float16, estimate_s=150),
        Workload("t5-infer-bf16", "model", _transformer("t5"), torch.bfloat16, estimate_s=100),
        Workload("vit-infer-fp16", "model", _transformer("vit"), torch.float16, estimate_s=100),
        Workload("gpt2-train-fp32", "model", _transformer("gpt2"), torch.float32, train=True, estimate_s=180),
        Workload("bert-train-bf16", "model", _transformer("bert"), torch.bfloat16, train=True, estimate_s=180),
    ]
    return out


# ------------------------------------------------------------------------------------------------- timing


def _synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def _median_seconds(fn: Callable[[], Any], device: str) -> float:
    if device == "cuda":
        import triton.testing

        return triton.testing.do_bench(fn, warmup=25, rep=100, return_mode="median") / 1e3
    times = []
    for _ in range(5):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def copy_bandwidth(device: str) -> float:
    """Bytes per second of a large copy on ``device`` (read plus write)."""
    size = (1 << 30) if device == "cuda" else (1 << 26)
    src = torch.empty(size, dtype=torch.uint8, device=device)
    dst = torch.empty_like(src)
    return 2 * size / _median_seconds(lambda: dst.copy_(src), device)


def _step(fn: Callable[..., Any], inputs: list[torch.Tensor], train: bool) -> Callable[[], Any]:
    """One call of a variant: forward, or forward and backward (gradients of a fixed random cotangent)."""
    if not train:
        return lambda: fn(*inputs)
    cotangent: list[torch.Tensor] = []

    def step() -> None:
        out = fn(*inputs)
        if not cotangent:
            cotangent.append(torch.randn_like(out))
        out.backward(cotangent[0])

    return step


def bench(workload: Workload, device: str, smoke: bool, cache_dir: str, rounds: int, bandwidth: float,
          budget: dict[str, Any], inductor_mode: str = "default") -> dict[str, Any]:
    model, inputs = workload.build(device, workload.dtype, smoke)
    if workload.train:
        inputs = [t.requires_grad_() if t.is_floating_point() else t for t in inputs]
    else:
        model.requires_grad_(False)
    tune = {"cache_dir": cache_dir, "inductor_mode": inductor_mode, **budget}
    fns = {
        "eager": model,
        "inductor": torch.compile(model),
        "max-autotune": torch.compile(model, mode="max-autotune-no-cudagraphs"),
        "aikg cold": torch.compile(model, backend="aikg", options={"mode": "tune", **tune}),
        "aikg warm": torch.compile(model, backend="aikg", options={"mode": "cache", "cache_dir": cache_dir,
                                                                       "inductor_mode": inductor_mode}),
    }
    steps = {name: _step(fn, inputs, workload.train) for name, fn in fns.items()}
    outputs, compile_s = {}, {}
    for name, fn in fns.items():  # in this order, so "aikg warm" finds what "aikg cold" tuned
        _synchronize(device)
        start = time.perf_counter()
        with torch.set_grad_enabled(workload.train):
            outputs[name] = fn(*inputs)
            if workload.train:
                steps[name]()  # the backward graph compiles (and tunes) on the first backward
        _synchronize(device)
        compile_s[name] = time.perf_counter() - start
    errors = {name: _max_error(out, outputs["eager"]) for name, out in outputs.items()}
    times: dict[str, list[float]] = {name: [] for name in fns}
    with torch.set_grad_enabled(workload.train):
        for round_ in range(rounds):
            order = list(steps) if round_ % 2 == 0 else list(reversed(steps))
            for name in order:
                times[name].append(_median_seconds(steps[name], device))
    median = {name: statistics.median(values) for name, values in times.items()}
    moved = sum(t.numel() * t.element_size() for t in _tensors(inputs) + _tensors(outputs["eager"]))
    row = {
        "workload": workload.name, "family": workload.family, "dtype": str(workload.dtype).removeprefix("torch."),
        "train": workload.train, "shapes": [list(t.shape) for t in _tensors(inputs)],
        "median_s": median, "samples_s": times, "compile_s": compile_s, "max_abs_error_vs_eager": errors,
        "tolerance": TOLERANCE[workload.dtype],
        "speedup_vs_inductor": {name: median["inductor"] / s for name, s in median.items()},
        "speedup_vs_max_autotune": {name: median["max-autotune"] / s for name, s in median.items()},
    }
    if workload.family == "memory" and not workload.train:
        row["bytes"] = moved
        row["bandwidth_fraction"] = {name: moved / s / bandwidth for name, s in median.items()}
    return row


# ------------------------------------------------------------------------------------------------- report


def summary(rows: list[dict[str, Any]], meta: dict[str, Any]) -> dict[str, Any]:
    ok = [r for r in rows if "median_s" in r]
    vs_ind = [r["speedup_vs_inductor"]["aikg warm"] for r in ok]
    vs_ma = [r["speedup_vs_max_autotune"]["aikg warm"] for r in ok]
    fractions = [r["bandwidth_fraction"]["aikg warm"] for r in ok if "bandwidth_fraction" in r]
    tune_s = [k["search_s"] for r in ok for k in r.get("kernels", []) if k["candidates"]]  # searched, not skipped
    warm = [r["compile_s"]["aikg warm"] / r["compile_s"]["inductor"] for r in ok]
    worst = min(ok, key=lambda r: r["speedup_vs_max_autotune"]["aikg warm"], default=None)
    return {
        "device": meta["card"], "card": meta["card"], "torch": meta["torch"], "triton": meta["triton"],
        "rows": len(ok), "failed": [r["workload"] for r in rows if "error" in r], "left_out": meta["left_out"],
        "geomean_vs_inductor": _geomean(vs_ind) if ok else None,
        "geomean_vs_max_autotune": _geomean(vs_ma) if ok else None,
        "worst_vs_max_autotune": min(vs_ma) if ok else None,
        "worst_workload": worst["workload"] if worst else None,
        "max_autotune_vs_inductor": _geomean([r["speedup_vs_inductor"]["max-autotune"] for r in ok]) if ok else None,
        "median_bandwidth_fraction": statistics.median(fractions) if fractions else None,
        "median_bandwidth_fraction_inductor": statistics.median(
            r["bandwidth_fraction"]["inductor"] for r in ok if "bandwidth_fraction" in r) if fractions else None,
        "tune_s_per_kernel_median": statistics.median(tune_s) if tune_s else None,
        "kernels_tuned": sum(len(r.get("kernels", [])) for r in ok),  # tasks aikg saw
        "kernels_not_searched": sum(1 for r in ok for k in r.get("kernels", []) if not k["candidates"]),
        "median_round_noise": statistics.median(_round_noise(r) for r in ok) if ok else None,
        "kernels_accepted": sum(1 for r in ok for k in r.get("kernels", []) if k["best_accepted_speedup"]),
        "warm_compile_vs_inductor": statistics.median(warm) if warm else None,
    }


def _round_noise(row: dict[str, Any]) -> float:
    """How much one round's Inductor time strays from the median (median absolute deviation, relative): a speedup
    within about this much of 1.0 is not a measured difference."""
    samples = row["samples_s"]["inductor"]
    middle = statistics.median(samples)
    return statistics.median(abs(s - middle) for s in samples) / middle


def _fmt(value: float | None, spec: str = ".3f", suffix: str = "") -> str:
    return "n/a" if value is None else f"{value:{spec}}{suffix}"


def markdown(rows: list[dict[str, Any]], meta: dict[str, Any], total: dict[str, Any], plot_name: str) -> str:
    lines = [
        f"# Kernels we did not write, on {meta['card']}", "",
        f"torch {meta['torch']}, triton {meta['triton']}; measured copy bandwidth {meta['copy_bandwidth_gbs']:.0f} GB/s; "
        f"median of {meta['rounds']} interleaved rounds ({'do_bench medians, L2 flushed' if meta['device'] == 'cuda' else 'wall-time medians'}). "
        f"aikg: no LLM, per-kernel budget {meta['budget']}, Inductor mode "
        f"{meta.get('aikg_inductor_mode', 'default')}. {'SMOKE RUN (tiny sizes, CPU): no claim.' if meta['smoke'] else ''}", "",
        "| workload | shapes | eager ms | Inductor ms | max-autotune ms | aikg ms | aikg vs Inductor | aikg vs max-autotune | "
        "BW fraction Inductor / aikg | compile s Inductor / max-autotune / aikg cold / aikg warm | kernels tuned (accepted) | max err aikg | round noise |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['workload']} | failed: {r['error'][:200]} |")
            continue
        m, c = r["median_s"], r["compile_s"]
        bw = r.get("bandwidth_fraction")
        bw_text = f"{bw['inductor']:.2f} / {bw['aikg warm']:.2f}" if bw else "n/a"
        kernels = r.get("kernels", [])
        lines.append(
            f"| {r['workload']} | {r['shapes']} | {m['eager'] * 1e3:.3f} | {m['inductor'] * 1e3:.3f} | "
            f"{m['max-autotune'] * 1e3:.3f} | {m['aikg warm'] * 1e3:.3f} | {r['speedup_vs_inductor']['aikg warm']:.3f}x | "
            f"{r['speedup_vs_max_autotune']['aikg warm']:.3f}x | "
            f"{bw_text} | "
            f"{c['inductor']:.1f} / {c['max-autotune']:.1f} / {c['aikg cold']:.1f} / {c['aikg warm']:.1f} | "
            f"{len(kernels)} ({sum(1 for k in kernels if k['best_accepted_speedup'])}) | "
            f"{r['max_abs_error_vs_eager']['aikg warm']:.2g} | {_round_noise(r):.1%} |")
    lines += ["", "| summary | value |", "|---|---|"]
    for key in ("geomean_vs_inductor", "geomean_vs_max_autotune", "worst_vs_max_autotune", "worst_workload",
                "max_autotune_vs_inductor", "median_bandwidth_fraction", "median_bandwidth_fraction_inductor",
                "tune_s_per_kernel_median", "kernels_tuned", "kernels_not_searched", "kernels_accepted",
                "warm_compile_vs_inductor", "median_round_noise"):
        value = total[key]
        lines.append(f"| {key} | {_fmt(value) if isinstance(value, float) else value} |")
    if meta.get("parts"):
        lines += ["", f"Merged from {len(meta['parts'])} device commands: {', '.join(meta['parts'])}."]
    if total["left_out"]:
        lines += ["", f"Left out (did not fit the deadline or not asked for): {', '.join(total['left_out'])}."]
    if total["failed"]:
        lines += ["", f"Failed: {', '.join(total['failed'])} (the row says why)."]
    lines += ["", f"![speedups]({plot_name})"]
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]], path: Path, title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if "median_s" in r]
    fig, ax = plt.subplots(figsize=(max(8, 0.8 * len(ok)), 4.5))
    width = 0.27
    for i, name in enumerate(("eager", "max-autotune", "aikg warm")):
        ax.bar([x + (i - 1) * width for x in range(len(ok))], [r["speedup_vs_inductor"][name] for r in ok],
               width, label=name)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(ok)), [r["workload"] for r in ok], rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("speedup over Inductor default")
    ax.set_title(title)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=130)


def write(rows: list[dict[str, Any]], meta: dict[str, Any], out: Path, name: str) -> dict[str, Any]:
    stem = f"{name}_{re.sub(r'[^A-Za-z0-9]+', '', meta['card'].split()[-1]) or 'device'}"
    total = summary(rows, meta)
    (out / f"{stem}.json").write_text(json.dumps({"summary": total, "meta": meta, "rows": rows}, indent=1))
    (out / f"{stem}.md").write_text(markdown(rows, meta, total, f"{stem}.png"))
    if any("median_s" in r for r in rows):
        plot(rows, out / f"{stem}.png", f"aikg (no LLM) on {meta['card']}: kernels we did not write")
    return total


def merge(parts: list[Path], out: Path, name: str) -> dict[str, Any]:
    """One report from the JSON of several runs (one per GPU or device command) of the same card and versions; a
    workload measured in several runs counts as the last of them measured it (a rerun after a fix)."""
    loaded = [json.loads(p.read_text()) for p in parts]
    versions = {(d["meta"]["card"], d["meta"]["torch"], d["meta"]["triton"]) for d in loaded}
    if len(versions) != 1:
        raise SystemExit(f"cannot merge runs of different cards or versions: {sorted(versions)}")
    latest = {r["workload"]: r for d in loaded for r in d["rows"]}
    rows = [latest[w.name] for w in workloads() if w.name in latest]
    done = set(latest)
    meta = {**loaded[0]["meta"], "parts": [p.name for p in parts],
            "left_out": [w.name for w in workloads() if w.name not in done]}
    return write(rows, meta, out, name)


# ------------------------------------------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--name", default="real_models")
    parser.add_argument("--smoke", action="store_true", help="CPU, tiny sizes: checks the script end to end")
    parser.add_argument("--only", help="comma-separated workload names, run in this order (default: all, in the "
                                       "listed order, to the deadline)")
    parser.add_argument("--list", action="store_true", help="print the workloads and exit")
    parser.add_argument("--rounds", type=int, default=MIN_ROUNDS)
    parser.add_argument("--deadline-s", type=float, default=None,
                        help="start no workload whose estimated time would end past this many seconds from start")
    parser.add_argument("--budget-candidates", type=int, default=16)
    parser.add_argument("--budget-s", type=float, default=30.0, help="aikg's per-kernel wall budget")
    parser.add_argument("--run-budget-s", type=float, default=None, help="aikg's wall budget per compile")
    parser.add_argument("--aikg-inductor-mode", default="default", choices=INDUCTOR_MODES,
                        help="the Inductor mode aikg compiles in (its option inductor_mode); max-autotune-no-cudagraphs "
                             "puts aikg's search on top of max-autotune's choices")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                        help="measure nothing: write one report (--out, --name) from these runs' JSON files")
    args = parser.parse_args()
    if args.merge:
        args.out.mkdir(parents=True, exist_ok=True)
        print(json.dumps(merge(args.merge, args.out, args.name), indent=1))
        return
    started = time.monotonic()
    chosen = workloads()
    if args.list:
        for w in chosen:
            print(f"{w.name}\t~{w.estimate_s:.0f} s on an H200")
        return
    if args.rounds < MIN_ROUNDS and not args.smoke:
        parser.error(f"--rounds must be at least {MIN_ROUNDS}")
    if args.only:
        names = args.only.split(",")
        unknown = set(names) - {w.name for w in chosen}
        if unknown:
            parser.error(f"unknown workload(s): {', '.join(sorted(unknown))} (see --list)")
        by_name = {w.name: w for w in chosen}
        chosen = [by_name[name] for name in names]  # in the order asked for: a deadline cuts the last ones
    device = "cpu" if args.smoke else "cuda"
    if device == "cuda" and not torch.cuda.is_available():
        parser.error("no GPU here: use --smoke for the CPU check")
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aikg_inductor.pipeline").setLevel(logging.INFO)
    torch._dynamo.config.cache_size_limit = 64
    args.out.mkdir(parents=True, exist_ok=True)
    import triton

    budget = {"kernel_budget_candidates": args.budget_candidates, "kernel_budget_s": args.budget_s,
              **({"run_budget_s": args.run_budget_s} if args.run_budget_s else {})}
    meta = {"device": device, "card": torch.cuda.get_device_name() if device == "cuda" else f"CPU {platform.processor() or platform.machine()}",
            "torch": torch.__version__, "triton": triton.__version__, "python": platform.python_version(),
            "rounds": args.rounds, "smoke": args.smoke, "budget": budget, "aikg_inductor_mode": args.aikg_inductor_mode,
            "copy_bandwidth_gbs": copy_bandwidth(device) / 1e9, "left_out": []}
    print(f"{meta['card']}: copy bandwidth {meta['copy_bandwidth_gbs']:.0f} GB/s", flush=True)
    cache_dir = tempfile.mkdtemp(prefix="aikg-real-")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for workload in chosen:
        elapsed = time.monotonic() - started
        if args.deadline_s is not None and elapsed + workload.estimate_s > args.deadline_s:
            meta["left_out"].append(workload.name)
            print(f"{workload.name}: left out ({elapsed:.0f} s gone, ~{workload.estimate_s:.0f} s needed)", flush=True)
            continue
        began = time.perf_counter()
        try:
            row = bench(workload, device, args.smoke, cache_dir, args.rounds, meta["copy_bandwidth_gbs"] * 1e9, budget,
                        args.aikg_inductor_mode)
            row["kernels"] = search_records(cache_dir, seen)
        except Exception as err:  # noqa: BLE001 - one failing workload must not lose the others' numbers
            traceback.print_exc()
            row = {"workload": workload.name, "error": f"{type(err).__name__}: {err}"}
        row["wall_s"] = time.perf_counter() - began
        rows.append(row)
        if "median_s" in row:
            print(f"{workload.name}: aikg {row['speedup_vs_inductor']['aikg warm']:.3f}x vs Inductor, "
                  f"{row['speedup_vs_max_autotune']['aikg warm']:.3f}x vs max-autotune ({row['wall_s']:.0f} s)",
                  flush=True)
        write(rows, meta, args.out, args.name)
        torch._dynamo.reset()
        if device == "cuda":
            torch.cuda.empty_cache()
    total = write(rows, meta, args.out, args.name)
    print(json.dumps(total, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
