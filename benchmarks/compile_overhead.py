"""Compile-time overhead of ``backend="aikg"`` (modes off and cache with an empty cache) against plain Inductor.

Each measurement is a fresh Python process with its own empty Inductor cache directory (a cold compile, C++
compilation included), timing ``torch.compile`` plus the first call. Reports the median of ``--reps`` runs.

    python benchmarks/compile_overhead.py --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parent.parent
CONFIGS = {"inductor": None, "aikg off": "off", "aikg cache (empty)": "cache"}

CHILD = r"""
import sys, time, torch
from aikg_inductor.problem import load_problem
problem = load_problem(sys.argv[1])
mode = sys.argv[2]
kwargs = {} if mode == "None" else {"backend": "aikg", "options": {"mode": mode, "cache_dir": sys.argv[3]}}
start = time.perf_counter()
with torch.no_grad():
    torch.compile(problem.model, **kwargs)(*problem.inputs)
print(time.perf_counter() - start)
"""


def compile_seconds(problem: Path, mode: str | None) -> float:
    with tempfile.TemporaryDirectory() as scratch:
        env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": os.path.join(scratch, "inductor")}
        result = subprocess.run(
            [sys.executable, "-c", CHILD, str(problem), str(mode), os.path.join(scratch, "aikg")],
            capture_output=True, text=True, env=env, check=True,
        )
    return float(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    problems = sorted((REPO / "examples").glob("*.py"))
    rows = []
    for problem in problems:
        # Interleave the configurations so that machine noise hits them alike.
        samples: dict[str, list[float]] = {name: [] for name in CONFIGS}
        for _ in range(args.reps):
            for name, mode in CONFIGS.items():
                samples[name].append(compile_seconds(problem, mode))
        medians = {name: statistics.median(values) for name, values in samples.items()}
        rows.append({"problem": problem.stem, "median_s": medians, "samples_s": samples})
        print(problem.stem, {k: round(v, 2) for k, v in medians.items()}, flush=True)

    machine = {"cpu": platform.processor() or platform.machine(), "cores": os.cpu_count(),
               "torch": torch.__version__, "python": platform.python_version()}
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "compile_overhead_cpu.json").write_text(json.dumps({"machine": machine, "rows": rows}, indent=1))
    lines = [f"# Compile-time overhead on CPU ({machine['cores']} cores, torch {machine['torch']})", "",
             f"Cold compile + first call in a fresh process, median of {args.reps} interleaved runs.", "",
             "| problem | Inductor (s) | aikg off (s) | overhead | aikg cache, empty (s) | overhead |",
             "|---|---|---|---|---|---|"]
    for row in rows:
        m = row["median_s"]
        base = m["inductor"]
        lines.append(f"| {row['problem']} | {base:.2f} | {m['aikg off']:.2f} | {m['aikg off'] / base - 1:+.1%} | "
                     f"{m['aikg cache (empty)']:.2f} | {m['aikg cache (empty)'] / base - 1:+.1%} |")
    (args.out / "compile_overhead_cpu.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
