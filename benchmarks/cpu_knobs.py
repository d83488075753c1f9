"""Does any Inductor C++ codegen choice make CPU kernels measurably faster on this machine? (issue 18)

For each problem (KernelBench-style file, fp32, leading dimension cut so the largest input holds at most
``--max-elements``), every arm is the same model compiled by Inductor with one ``cpp.*`` setting changed; a second
compile of the default settings (the control arm) shows what identical code measures as. Arms are timed
interleaved, in a rotated order every round, each round a median of per-call wall times; the report takes the median
over rounds. A knob "helps" only when its median speedup over the default beats the margin plus the control's noise.

    PYTHONPATH=$PWD python benchmarks/cpu_knobs.py --out benchmarks/results examples/*.py benchmarks/problems/softmax.py

Writes OUT/cpu_knobs_<cpu>.json (after every problem) and OUT/cpu_knobs_<cpu>.md.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import statistics
import time
from pathlib import Path
from typing import Any, Callable

import torch

from aikg_inductor.options import DEFAULT_MARGIN
from aikg_inductor.problem import load_problem

# One setting changed per arm; "default" and "control" both use Inductor's defaults (the control measures noise).
ARMS: dict[str, dict[str, Any]] = {
    "default": {},
    "control": {},
    "simdlen=256": {"cpp.simdlen": 256},
    "threads=1": {"cpp.threads": 1},
    "dynamic_threads": {"cpp.dynamic_threads": True},
    "no tiling heuristics": {"cpp.enable_tiling_heuristics": False},
    "min_chunk_size=4096": {"cpp.min_chunk_size": 4096},
    "min_chunk_size=64": {"cpp.min_chunk_size": 64},
    "no loop-tail vec": {"cpp.enable_loop_tail_vec": False},
    "fp contract=fast": {"cpp.enable_floating_point_contract_flag": "fast"},
    "march=native": {"cpp.march": "native"},
}
MARGIN = DEFAULT_MARGIN  # the verifier's default: a knob must beat this plus the control's noise to count
SAMPLE_S = 0.03  # wall time one round's measurement of one arm aims for


def cpu_name() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown-cpu"


def _cut(inputs: list[Any], max_elements: int) -> list[Any]:
    """Cut the leading dimension of every input that shares the largest input's, so the largest fits."""
    tensors = [t for t in inputs if isinstance(t, torch.Tensor)]
    if not tensors:
        return inputs
    largest = max(tensors, key=torch.Tensor.numel)
    if largest.numel() <= max_elements or largest.dim() == 0:
        return inputs
    rows = max(1, largest.shape[0] * max_elements // largest.numel())
    lead = largest.shape[0]
    return [t[:rows].contiguous() if isinstance(t, torch.Tensor) and t.dim() and t.shape[0] == lead else t
            for t in inputs]


def _fp32(inputs: list[Any]) -> list[Any]:
    return [t.float() if isinstance(t, torch.Tensor) and t.is_floating_point() else t for t in inputs]


def _calls_per_sample(fn: Callable[[], Any]) -> int:
    start = time.perf_counter()
    fn()
    once = max(time.perf_counter() - start, 1e-6)
    return max(3, min(200, int(SAMPLE_S / once)))


def _sample(fn: Callable[[], Any], calls: int) -> float:
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_problem(path: Path, rounds: int, max_elements: int) -> dict[str, Any]:
    torch.manual_seed(0)
    inputs = _fp32(_cut(load_problem(path, "cpu", torch.float32).inputs, max_elements))
    fns, compile_s, outputs = {}, {}, {}
    with torch.no_grad():
        for arm, settings in ARMS.items():
            model = load_problem(path, "cpu", torch.float32).model  # a fresh module: no Dynamo cache shared
            compiled = torch.compile(model, options=dict(settings))
            start = time.perf_counter()
            outputs[arm] = compiled(*inputs)
            compile_s[arm] = time.perf_counter() - start
            fns[arm] = lambda c=compiled: c(*inputs)
        errors = {arm: _max_error(out, outputs["default"]) for arm, out in outputs.items()}
        calls = _calls_per_sample(fns["default"])
        samples: dict[str, list[float]] = {arm: [] for arm in fns}
        names = list(fns)
        for round_ in range(rounds):
            shift = round_ % len(names)  # every arm takes every position in turn
            for arm in names[shift:] + names[:shift]:
                samples[arm].append(_sample(fns[arm], calls))
    median = {arm: statistics.median(values) for arm, values in samples.items()}
    return {
        "problem": path.stem, "shapes": [list(t.shape) for t in inputs if isinstance(t, torch.Tensor)],
        "calls_per_sample": calls, "median_s": median, "samples_s": samples, "compile_s": compile_s,
        "max_abs_error_vs_default": errors,
        "speedup_vs_default": {arm: median["default"] / s for arm, s in median.items()},
    }


def _max_error(out: Any, ref: Any) -> float:
    outs = out if isinstance(out, (tuple, list)) else [out]
    refs = ref if isinstance(ref, (tuple, list)) else [ref]
    return max(((a.float() - b.float()).abs().max().item() for a, b in zip(outs, refs)), default=0.0)


def verdicts(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Per knob: geomean and best speedup over problems, and the problems where it beat margin plus noise."""
    out = {}
    for arm in ARMS:
        if arm in ("default", "control"):
            continue
        helped = []
        for row in rows:
            noise = abs(row["speedup_vs_default"]["control"] - 1.0)
            if row["speedup_vs_default"][arm] > 1.0 + MARGIN + noise:
                helped.append(row["problem"])
        speedups = [row["speedup_vs_default"][arm] for row in rows]
        out[arm] = {"geomean": math.exp(statistics.fmean(math.log(s) for s in speedups)),
                    "best": max(speedups), "worst": min(speedups), "helped_beyond_noise": helped}
    return out


def report(meta: dict[str, Any], rows: list[dict[str, Any]], summary: dict[str, dict[str, Any]]) -> str:
    arms = [a for a in ARMS if a != "default"]
    lines = [
        f"# Inductor C++ codegen knobs on {meta['cpu']} ({meta['cores']} cores, shared)", "",
        f"torch {meta['torch']}; fp32; {meta['rounds']} interleaved rounds (rotated order), each a median of "
        f"per-call wall times; table: median over rounds, as speedup over Inductor's default (>1 is faster). "
        f"'control' is a second compile of the defaults: its distance from 1.00 is the noise. A knob counts only "
        f"above 1 + {MARGIN} + that noise.", "",
        "| problem | shapes | default us | " + " | ".join(arms) + " |",
        "|---|---|---|" + "---|" * len(arms),
    ]
    for row in rows:
        cells = [f"{row['speedup_vs_default'][a]:.3f}" for a in arms]
        lines.append(f"| {row['problem']} | {row['shapes']} | {row['median_s']['default'] * 1e6:.0f} | "
                     + " | ".join(cells) + " |")
    lines += ["", "| knob | geomean | worst | best | problems helped beyond margin + noise |", "|---|---|---|---|---|"]
    for arm, v in summary.items():
        lines.append(f"| {arm} | {v['geomean']:.3f} | {v['worst']:.3f} | {v['best']:.3f} | "
                     f"{', '.join(v['helped_beyond_noise']) or 'none'} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("problems", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--max-elements", type=int, default=1 << 22)
    parser.add_argument("--arms", nargs="+", choices=list(ARMS), help="a subset of the arms (default: all)")
    parser.add_argument("--tag", default="", help="appended to the output files' names")
    args = parser.parse_args()
    for arm in [a for a in ARMS if args.arms and a not in args.arms and a not in ("default", "control")]:
        del ARMS[arm]
    meta = {"cpu": cpu_name(), "cores": torch.get_num_threads(), "torch": torch.__version__,
            "rounds": args.rounds, "max_elements": args.max_elements, "arms": ARMS, "margin": MARGIN,
            "load_average_at_start": os.getloadavg()}
    slug = re.sub(r"[^A-Za-z0-9]+", "_", meta["cpu"]).strip("_") + args.tag
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for path in args.problems:
        started = time.perf_counter()
        rows.append(bench_problem(path, args.rounds, args.max_elements))
        best = max((a for a in ARMS if a != "default"), key=lambda a: rows[-1]["speedup_vs_default"][a])
        print(f"{path.stem}: best {best} {rows[-1]['speedup_vs_default'][best]:.3f}x, control "
              f"{rows[-1]['speedup_vs_default']['control']:.3f}x ({time.perf_counter() - started:.0f} s)", flush=True)
        summary = verdicts(rows)
        (args.out / f"cpu_knobs_{slug}.json").write_text(
            json.dumps({"meta": meta, "summary": summary, "rows": rows}, indent=1))
    (args.out / f"cpu_knobs_{slug}.md").write_text(report(meta, rows, verdicts(rows)))
    print(report(meta, rows, verdicts(rows)))


if __name__ == "__main__":
    main()
