"""Verifier latency on CPU: seconds to judge one small C++ kernel candidate with a warm worker pool.

For each example problem's kernels (captured from Inductor, mode off) the candidates are (1) the baseline source
with a fresh comment, so it compiles anew every time and is judged correct but not faster (guards, baseline and
candidate trials, one timing measurement), and (2) for the softmax example, a hand-written faster kernel, accepted
(the longest path: both timing measurements). Each verification uses a source the worker has not compiled before.
"Cold" is the first verification of the run, including the worker's start-up.

    python benchmarks/verify_latency.py --reps 5 --out benchmarks/results
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
from pathlib import Path

import torch

from aikg_inductor import capture
from aikg_inductor.problem import load_problem
from aikg_inductor.verify import WorkerPool, verify_candidate
from aikg_inductor.verify.worker import device_name

REPO = Path(__file__).resolve().parent.parent
PROBLEMS = ("softmax_scale.py", "bias_add_relu_colsum.py", "layernorm_gelu.py")
FAST_SOFTMAX = REPO / "examples" / "candidates" / "softmax_scale_fused.cpp"


def _candidates(problem: str, task_source: str) -> list[tuple[str, str]]:
    found = [("baseline, fresh compile", task_source)]
    if problem == "softmax_scale.py":
        found.append(("fused softmax (faster)", FAST_SOFTMAX.read_text()))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks" / "results")
    args = parser.parse_args()

    started = time.perf_counter()
    pool = WorkerPool(1)
    rows, cold_s, nonce = [], None, 0
    for problem_name in PROBLEMS:
        problem = load_problem(REPO / "examples" / problem_name, "cpu")
        session, _ = capture(problem.model, problem.inputs, {"mode": "off"})
        for task in session.tasks.values():
            for label, source in _candidates(problem_name, task.source):
                times, verdicts = [], set()
                for _ in range(args.reps):
                    nonce += 1
                    t0 = time.perf_counter()
                    report = verify_candidate(task, f"{source}\n// run {nonce} {time.time()}\n", pool=pool)
                    elapsed = time.perf_counter() - t0
                    if cold_s is None:
                        cold_s = time.perf_counter() - started
                        continue  # the cold run is reported on its own
                    times.append(elapsed)
                    verdicts.add(report.rule or "accepted")
                rows.append((problem_name, task.short_key, task.name, label, ", ".join(sorted(verdicts)),
                             statistics.median(times), max(times)))
    pool.close()
    load = os.getloadavg()[0]

    lines = [
        "# Verifier latency (CPU, warm worker pool)",
        "",
        f"Machine: {device_name('cpu')}; Python {platform.python_version()}, torch {torch.__version__}; "
        f"1-minute load average at the end of the run {load:.1f} (other jobs share the cores when it exceeds the "
        "CPU count, and compile and timing stretch with it).",
        "",
        f"Produced by `python benchmarks/verify_latency.py --reps {args.reps}`: seconds per `verify_candidate()` with "
        "one warm worker, each candidate source new to the worker (compiled fresh). Includes guards, the baseline's "
        "and the candidate's 6 correctness trials, and timing (one measurement when the candidate is not faster, two "
        "when it is). Target (issue 4): under 5 s per small CPU kernel with a warm pool.",
        "",
        f"Cold start (first verification, including worker start-up and task capture): {cold_s:.1f} s.",
        "",
        "| problem | kernel | fused name | candidate | verdict | median (s) | max (s) |",
        "|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {p} | {k} | {n} | {c} | {v} | {med:.2f} | {mx:.2f} |" for p, k, n, c, v, med, mx in rows]
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "verify_latency_cpu.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
