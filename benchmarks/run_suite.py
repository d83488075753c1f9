"""The benchmark every speed claim of aikg-inductor is measured with (GPU).

For each problem (KernelBench-style file) and dtype, in one process: eager, Inductor default, Inductor
``max-autotune-no-cudagraphs``, ``aikg`` with a cold cache (mode tune: the tuner runs during the compile) and
``aikg`` with the warm cache (mode cache). It records compile times, checks every variant's output against eager,
and times all variants interleaved (``triton.testing.do_bench`` medians over several rounds, L2 flushed). Bytes
moved count each input read once and each output written once; the fraction of bandwidth divides by the
device-to-device copy bandwidth measured in the same run.

    python benchmarks/run_suite.py --out OUT benchmarks/problems/softmax.py:fp16,bf16 benchmarks/models/gpt2_block.py:bf16

Writes OUT/suite.json (after every problem, so an interrupted run keeps what it measured), OUT/suite.md and
OUT/suite.png. On a lent GPU machine, ``. benchmarks/gpu_env.sh`` first installs what its image lacks.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import os
import platform
import statistics
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any, Callable

import torch
import triton
import triton.testing

from aikg_inductor.problem import load_problem, parse_dtype

VARIANTS = ("eager", "inductor", "max-autotune", "aikg cold", "aikg warm")
# The default of --rounds. Some rows' timings switch between two levels for every compiled variant (rmsnorm bf16 on
# an H100: 50 or 65 us); 5 rounds left 1-3% differences to chance there, 15 did not (results/suite3_H100_recheck.md).
ROUNDS = 15
# The model benchmarks (benchmarks/models): matmul-bound, so no bandwidth fraction, and kept apart in summaries.
MODELS = {path.stem for path in (Path(__file__).parent / "models").glob("*.py")}
TOLERANCE = {torch.float32: 1e-4, torch.float16: 2e-2, torch.bfloat16: 5e-2}


def copy_bandwidth() -> float:
    """Bytes per second of a large device-to-device copy (read plus write)."""
    src = torch.empty(1 << 30, dtype=torch.uint8, device="cuda")
    dst = torch.empty_like(src)
    seconds = triton.testing.do_bench(lambda: dst.copy_(src), warmup=50, rep=300, return_mode="median") / 1e3
    return 2 * src.numel() / seconds


def _tensors(value: Any) -> list[torch.Tensor]:
    if isinstance(value, torch.Tensor):
        return [value]
    if isinstance(value, (list, tuple)):
        return [t for v in value for t in _tensors(v)]
    if hasattr(value, "to_tuple"):
        return _tensors(value.to_tuple())
    return []


def _max_error(out: Any, ref: Any) -> float:
    pairs = list(zip(_tensors(out), _tensors(ref)))
    return max(((a.float() - b.float()).abs().max().item() for a, b in pairs), default=0.0)


def _compile_variants(model: torch.nn.Module, cache_dir: str) -> dict[str, Callable[..., Any]]:
    return {
        "eager": model,
        "inductor": torch.compile(model),
        "max-autotune": torch.compile(model, mode="max-autotune-no-cudagraphs"),
        "aikg cold": torch.compile(model, backend="aikg", options={"mode": "tune", "cache_dir": cache_dir}),
        "aikg warm": torch.compile(model, backend="aikg", options={"mode": "cache", "cache_dir": cache_dir}),
    }


def bench_problem(path: Path, dtype: torch.dtype, cache_dir: str, bandwidth: float,
                  rounds: int = ROUNDS) -> dict[str, Any]:
    problem = load_problem(path, "cuda", dtype)
    inputs = problem.inputs
    fns = _compile_variants(problem.model, cache_dir)
    outputs, compile_s = {}, {}
    with torch.no_grad():
        for name, fn in fns.items():  # first call compiles; in this order, so "aikg warm" finds the cold run's kernels
            torch.cuda.synchronize()
            start = time.perf_counter()
            outputs[name] = fn(*inputs)
            torch.cuda.synchronize()
            compile_s[name] = time.perf_counter() - start
        errors = {name: _max_error(out, outputs["eager"]) for name, out in outputs.items()}
        times: dict[str, list[float]] = {name: [] for name in fns}
        for round_ in range(rounds):
            order = list(fns.items()) if round_ % 2 == 0 else list(reversed(fns.items()))
            for name, fn in order:
                times[name].append(triton.testing.do_bench(lambda: fn(*inputs), warmup=25, rep=100,
                                                           return_mode="median") / 1e3)
    median = {name: statistics.median(values) for name, values in times.items()}
    moved = sum(t.numel() * t.element_size() for t in _tensors(inputs)) + \
        sum(t.numel() * t.element_size() for t in _tensors(outputs["eager"]))
    return {
        "problem": path.stem, "dtype": str(dtype).removeprefix("torch."),
        "median_s": median, "samples_s": times, "compile_s": compile_s, "max_abs_error_vs_eager": errors,
        "tolerance": TOLERANCE[dtype], "bytes": moved,
        "bandwidth_fraction": {name: moved / s / bandwidth for name, s in median.items()},
        "speedup_vs_inductor": {name: median["inductor"] / s for name, s in median.items()},
        "speedup_vs_max_autotune": {name: median["max-autotune"] / s for name, s in median.items()},
    }


def search_records(cache_dir: str, seen: set[str]) -> list[dict[str, Any]]:
    """What the search did on each kernel tuned since the last call (kernels in ``seen`` are skipped, then added):
    candidates per proposer, verdicts, the best accepted speedup and after how many candidates it came, seconds."""
    from collections import Counter

    from aikg_inductor.search.history import SearchHistory

    history = SearchHistory.beside(cache_dir)
    records = []
    try:
        for task in history.tasks():
            if task.key in seen:
                continue
            seen.add(task.key)
            attempts = [logged.attempt for logged in sorted(history.logged(task.key), key=lambda logged: logged.at)]
            accepted = [(i, a) for i, a in enumerate(attempts, 1) if a.report.accepted]
            best_at, best = max(accepted, key=lambda pair: pair[1].report.speedup or 0.0, default=(None, None))
            runs = history.runs(task.key)
            records.append({
                "key": task.key[:12], "name": task.name, "candidates": len(attempts),
                "by_proposer": dict(Counter(a.candidate.proposer for a in attempts)),
                "verdicts": dict(Counter(a.report.rule or "accepted" for a in attempts)),
                "best_accepted_speedup": best.report.speedup if best else None,
                "best_by": best.candidate.proposer if best else None, "best_at_candidate": best_at,
                "verify_s": [round(a.report.elapsed_s, 2) for a in attempts],
                "search_s": sum(r.elapsed_s for r in runs), "stopped_by": runs[-1].stopped_by if runs else None,
            })
    finally:
        history.close()
    return records


def _geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def summarise(rows: list[dict[str, Any]], meta: dict[str, Any]) -> str:
    ok = [r for r in rows if "median_s" in r]
    # Runs from before --rounds existed recorded no "rounds"; they all used 5.
    lines = [
        f"# aikg benchmark suite on {meta['card']}",
        "",
        f"torch {meta['torch']}, triton {meta['triton']}, measured copy bandwidth {meta['copy_bandwidth_gbs']:.0f} GB/s; "
        f"median of {meta.get('rounds', 5)} interleaved rounds of `do_bench` medians (L2 flushed). aikg: no LLM (the population "
        f"search over the tuner and retrieval proposers); per-kernel budget {meta['kernel_budget_candidates']} candidates / {meta['kernel_budget_s']} s.",
        "",
        "| problem | dtype | eager us | Inductor us | max-autotune us | aikg us | aikg vs Inductor | "
        "aikg vs max-autotune | BW fraction Inductor / aikg | compile s Inductor / aikg cold / aikg warm | "
        "max err aikg |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in ok:
        m, c = r["median_s"], r["compile_s"]
        lines.append(
            f"| {r['problem']} | {r['dtype']} | {m['eager'] * 1e6:.1f} | {m['inductor'] * 1e6:.1f} | "
            f"{m['max-autotune'] * 1e6:.1f} | {m['aikg warm'] * 1e6:.1f} | "
            f"{r['speedup_vs_inductor']['aikg warm']:.3f}x | {r['speedup_vs_max_autotune']['aikg warm']:.3f}x | "
            f"{r['bandwidth_fraction']['inductor']:.2f} / {r['bandwidth_fraction']['aikg warm']:.2f} | "
            f"{c['inductor']:.1f} / {c['aikg cold']:.1f} / {c['aikg warm']:.1f} | "
            f"{r['max_abs_error_vs_eager']['aikg warm']:.2g} |")
    for r in rows:
        if "error" in r:
            lines.append(f"| {r['problem']} | {r['dtype']} | failed: {r['error']} |")
    groups: dict[str, list[dict[str, Any]]] = {}
    for r in ok:
        group = "models" if r["problem"] in MODELS else f"fused, {r['dtype']}"
        groups.setdefault(group, []).append(r)
    if len(groups) > 1:
        groups["all fused problems"] = [r for r in ok if r["problem"] not in MODELS]
    lines += ["", "| group | rows | geomean vs Inductor (worst, best) | geomean vs max-autotune | "
                  "rows over 2% slower than Inductor | median BW fraction Inductor / aikg | warm compile / Inductor |",
              "|---|---|---|---|---|---|---|"]
    for group, members in groups.items():
        if not members:
            continue
        vs_ind = [r["speedup_vs_inductor"]["aikg warm"] for r in members]
        vs_ma = [r["speedup_vs_max_autotune"]["aikg warm"] for r in members]
        slower = [f"{r['problem']} {r['dtype']} {v:.3f}x" for r, v in zip(members, vs_ind) if v < 0.98]
        bw = "n/a (matmul-bound)" if group == "models" else (
            f"{statistics.median(r['bandwidth_fraction']['inductor'] for r in members):.2f} / "
            f"{statistics.median(r['bandwidth_fraction']['aikg warm'] for r in members):.2f}")
        warm = statistics.median(r["compile_s"]["aikg warm"] / r["compile_s"]["inductor"] for r in members)
        lines.append(f"| {group} | {len(members)} | {_geomean(vs_ind):.3f}x ({min(vs_ind):.3f}x, {max(vs_ind):.3f}x) | "
                     f"{_geomean(vs_ma):.3f}x | {', '.join(slower) or 'none'} | {bw} | {warm:.2f}x |")
    kernels = [(r, k) for r in ok for k in r.get("kernels", [])]
    if kernels:
        lines += ["", "## What the search did per kernel", "",
                  "| problem | dtype | kernel | candidates (by proposer) | verdicts | best accepted (by, at candidate) | "
                  "search s | s per verification (median) | stopped by |", "|---|---|---|---|---|---|---|---|---|"]
        for r, k in kernels:
            best = (f"{k['best_accepted_speedup']:.3f}x ({k['best_by']}, #{k['best_at_candidate']})"
                    if k["best_accepted_speedup"] else "-")
            verified = [v for v in k["verify_s"] if v > 0]  # screened-out candidates were never verified
            verify_s = f"{statistics.median(verified):.1f}" if verified else "-"
            name = k["name"] if len(k["name"]) <= 48 else k["name"][:45] + "..."
            lines.append(f"| {r['problem']} | {r['dtype']} | {name} ({k['key']}) | {k['candidates']} "
                         f"({', '.join(f'{p} {n}' for p, n in k['by_proposer'].items())}) | "
                         f"{', '.join(f'{v} {n}' for v, n in k['verdicts'].items())} | {best} | "
                         f"{k['search_s']:.0f} | {verify_s} | {k['stopped_by']} |")
    return "\n".join(lines) + "\n"


def plot(rows: list[dict[str, Any]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [r for r in rows if "median_s" in r]
    labels = [f"{r['problem']}\n{r['dtype']}" for r in ok]
    fig, ax = plt.subplots(figsize=(max(8, 0.8 * len(ok)), 4.5))
    width = 0.27
    for i, name in enumerate(("eager", "max-autotune", "aikg warm")):
        ax.bar([x + (i - 1) * width for x in range(len(ok))], [r["speedup_vs_inductor"][name] for r in ok],
               width, label=name)
    ax.axhline(1.0, color="black", linewidth=0.8)
    ax.set_xticks(range(len(ok)), labels, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("speedup over Inductor default")
    ax.set_title(f"aikg (no LLM) on {rows[0].get('card', '') if rows else ''}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=130)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("specs", nargs="*", help="PROBLEM_FILE:DTYPE[,DTYPE...]")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="SUITE_JSON",
                        help="instead of running, combine earlier runs' suite.json files into one report")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--budget-candidates", type=int, default=12)
    parser.add_argument("--budget-s", type=float, default=40.0)
    parser.add_argument("--rounds", type=int, default=ROUNDS,
                        help="interleaved timing rounds per variant (each a do_bench median); the report takes "
                             "their median")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.merge:
        runs = [json.loads(path.read_text()) for path in args.merge]
        write_report([row for run in runs for row in run["rows"]], runs[0]["meta"], args.out)
        return
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("aikg_inductor.pipeline").setLevel(logging.INFO)
    os.environ["AIKG_KERNEL_BUDGET_CANDIDATES"] = str(args.budget_candidates)
    os.environ["AIKG_KERNEL_BUDGET_S"] = str(args.budget_s)
    torch._dynamo.config.cache_size_limit = 64
    meta = {"card": torch.cuda.get_device_name(), "torch": torch.__version__, "triton": triton.__version__,
            "python": platform.python_version(), "copy_bandwidth_gbs": copy_bandwidth() / 1e9,
            "kernel_budget_candidates": args.budget_candidates, "kernel_budget_s": args.budget_s,
            "rounds": args.rounds}
    print(f"{meta['card']}: copy bandwidth {meta['copy_bandwidth_gbs']:.0f} GB/s", flush=True)
    cache_dir = tempfile.mkdtemp(prefix="aikg-suite-")
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for spec in args.specs:
        path_text, _, dtypes = spec.partition(":")
        for dtype_name in (dtypes or "fp16").split(","):
            started = time.perf_counter()
            try:
                row = bench_problem(Path(path_text), parse_dtype(dtype_name), cache_dir,
                                    meta["copy_bandwidth_gbs"] * 1e9, args.rounds)
                row["kernels"] = search_records(cache_dir, seen)
            except Exception as err:  # noqa: BLE001 - one failing problem must not lose the others' numbers
                traceback.print_exc()
                row = {"problem": Path(path_text).stem, "dtype": dtype_name, "error": f"{type(err).__name__}: {err}"}
            row["card"], row["wall_s"] = meta["card"], time.perf_counter() - started
            rows.append(row)
            if "speedup_vs_inductor" in row:
                print(f"{row['problem']} {row['dtype']}: aikg {row['speedup_vs_inductor']['aikg warm']:.3f}x vs "
                      f"Inductor, {row['speedup_vs_max_autotune']['aikg warm']:.3f}x vs max-autotune "
                      f"({row['wall_s']:.0f} s)", flush=True)
            (args.out / "suite.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    write_report(rows, meta, args.out)


def write_report(rows: list[dict[str, Any]], meta: dict[str, Any], out: Path) -> None:
    summary = summarise(rows, meta)
    (out / "suite.md").write_text(summary)
    plot(rows, out / "suite.png")
    print(summary)


if __name__ == "__main__":
    main()
