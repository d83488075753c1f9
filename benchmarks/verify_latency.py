"""Verifier latency on CPU: seconds to judge one small C++ kernel candidate with a warm worker pool.

For each example problem's kernels (captured from Inductor, mode off) the candidates are (1) the baseline source
with a fresh comment, so it compiles anew every time and is judged correct but not faster (guards, baseline and
candidate trials, one timing measurement), and (2) for the softmax example, a hand-written faster kernel, accepted
(the longest path: both timing measurements). Each verification uses a source the worker has not compiled before.
"Cold" is the first verification of the run, including the worker's start-up. A second table takes a Triton kernel
under the interpreter: a tuner configuration (Inductor's kernel under one fixed launch configuration, judged in the
judge's own process) against the same source with a comment added (any other candidate: a sandboxed runner).

    python benchmarks/verify_latency.py --reps 5 --out benchmarks/results
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import torch

from aikg_inductor import capture
from aikg_inductor.problem import load_problem
from aikg_inductor.verify import WorkerPool, verify_candidate
from aikg_inductor.verify.judge import device_name

REPO = Path(__file__).resolve().parent.parent
PROBLEMS = ("softmax_scale.py", "bias_add_relu_colsum.py", "layernorm_gelu.py")
FAST_SOFTMAX = REPO / "examples" / "candidates" / "softmax_scale_fused.cpp"


def _candidates(problem: str, task_source: str) -> list[tuple[str, str]]:
    found = [("baseline, fresh compile", task_source)]
    if problem == "softmax_scale.py":
        found.append(("fused softmax (faster)", FAST_SOFTMAX.read_text()))
    return found


def _phases(reports: list) -> str:
    """Median seconds per step of the verification (VerificationReport.phase_s)."""
    names = list(dict.fromkeys(name for r in reports for name in r.phase_s))
    return ", ".join(f"{n} {statistics.median(r.phase_s.get(n, 0.0) for r in reports):.2f}" for n in names)


def _timed(task, source: str, reps: int, pool: WorkerPool, fresh) -> tuple[list[float], set[str], list]:
    times, verdicts, reports = [], set(), []
    for rep in range(reps):
        t0 = time.perf_counter()
        report = verify_candidate(task, fresh(source, rep), pool=pool)
        times.append(time.perf_counter() - t0)
        verdicts.add(report.rule or "accepted")
        reports.append(report)
    return times, verdicts, reports


def _triton_rows(reps: int) -> list[tuple]:
    """The interpreter's add+relu kernel (shrunk to 64x64 fp32): a tuner configuration and an edited copy of it."""
    sys.path.insert(0, str(REPO / "tests"))
    from test_verify_triton_interpret import ADD_RELU, N, shrunk

    from aikg_inductor.dsl.triton_configs import LaunchConfig, kernel_shape, with_fixed_config
    from aikg_inductor.task import TensorLayout

    layout = TensorLayout((64, 64), (64, 1), "float32")
    task = shrunk(ADD_RELU, {"33554432": str(N)}, {"in_ptr0": layout, "in_ptr1": layout, "out_ptr0": layout},
                  {"xnumel": N})
    pool = WorkerPool(1, dsls=("triton-cuda",), threads=1, env={"TRITON_INTERPRET": "1"})
    rows = []
    try:
        configs = [LaunchConfig((("XBLOCK", block),), num_warps=4) for block in (256, 512, 1024, 2048)]
        variants = [with_fixed_config(task, kernel_shape(task), config) for config in configs]
        verify_candidate(task, variants[0], pool=pool)  # the worker's start-up is not what is measured
        for label, fresh in (("tuner configuration (in-process)", lambda source, rep: variants[rep % len(variants)]),
                             ("same, with a comment (sandboxed runner)",
                              lambda source, rep: f"{variants[rep % len(variants)]}\n# run {rep} {time.time()}\n")):
            times, verdicts, reports = _timed(task, "", reps, pool, fresh)
            rows.append((label, ", ".join(sorted(verdicts)), statistics.median(times), max(times), _phases(reports)))
    finally:
        pool.close()
    return rows


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
            if cold_s is None:  # the cold run (the worker's start-up included) is reported on its own
                verify_candidate(task, f"{task.source}\n// cold {time.time()}\n", pool=pool)
                cold_s = time.perf_counter() - started
            for label, source in _candidates(problem_name, task.source):
                nonce += 1
                times, verdicts, reports = _timed(task, source, args.reps, pool,
                                                  lambda text, rep: f"{text}\n// run {nonce}.{rep} {time.time()}\n")
                rows.append((problem_name, task.short_key, task.name, label, ", ".join(sorted(verdicts)),
                             statistics.median(times), max(times), _phases(reports)))
    pool.close()
    triton_rows = _triton_rows(args.reps)
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
        "| problem | kernel | fused name | candidate | verdict | median (s) | max (s) | median s per step |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += [f"| {p} | {k} | {n} | {c} | {v} | {med:.2f} | {mx:.2f} | {ph} |" for p, k, n, c, v, med, mx, ph in rows]
    lines += [
        "",
        "Triton (add+relu, 64x64 fp32, under Triton's interpreter: its timings are the interpreter's, not a GPU's; "
        "what counts here is the verification's own cost). A tuner configuration is Inductor's kernel with nothing "
        "but bounded launch parameters changed: judged in the judge's own process, no runner to start. The same "
        "source with a comment is any other candidate: a sandboxed runner (started ahead as a spare; on few cores "
        "the judge waits for the next spare to start before it times).",
        "",
        "| candidate | verdict | median (s) | max (s) | median s per step |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| {c} | {v} | {med:.2f} | {mx:.2f} | {ph} |" for c, v, med, mx, ph in triton_rows]
    text = "\n".join(lines) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "verify_latency_cpu.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
