"""Pre-tuning on the GPUs of one host three ways, with the same budget: one GPU, every GPU locally (one verifier
queue per GPU), and ``--cluster ray`` (one worker actor per GPU) with one worker killed mid-run.

The kernels are the benchmark problems' (``benchmarks/problems/``, fp16 by default), captured once on the GPU and
saved as tasks, so every way tunes the same kernels. The proposer is the Triton config tuner alone (no LLM, no
retrieval: retrieval would let a later way reuse an earlier way's finds), each way with a cache of its own.

Recorded per way: candidates judged per minute (whole run, and first verdict to last), the GPUs' busy fraction
(NVML utilisation sampled every 0.2 s), the accepted set, and for Ray whether the killed worker lost anything
(every attempt it judged is in the history; its kernel finished on another worker).

    python benchmarks/multi_gpu_tune.py --out benchmarks/results/multi_gpu_tune_2xH200.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from aikg_inductor.search.proposers import Proposer

REPO = Path(__file__).resolve().parent.parent
DEFAULT_PROBLEMS = ["softmax", "layernorm", "rmsnorm", "col_sum", "cross_entropy"]


class KillOnce(Proposer):
    """Delegates to a proposer; the first process asked for a round of a kernel it has already judged a candidate
    for dies there (SIGKILL), once per ``marker`` file: a worker lost mid-kernel, after its first verdict."""

    def __init__(self, inner: Proposer, marker: str | None) -> None:
        self.inner, self.marker = inner, marker
        self.name, self.lanes = inner.name, inner.lanes

    def lane_exhausted(self, task_key: str, lane: int) -> bool:
        return self.inner.lane_exhausted(task_key, lane)

    def summary(self, task_key: str) -> dict[str, Any] | None:
        return self.inner.summary(task_key)

    def propose(self, task: Any, context: Any, limit: int) -> list[Any]:
        if self.marker and context.attempts and not os.path.exists(self.marker):
            Path(self.marker).write_text(f"{task.key} {len(context.attempts)}\n")
            os.kill(os.getpid(), signal.SIGKILL)
        return self.inner.propose(task, context, limit)


@dataclasses.dataclass(frozen=True)
class TunerOnly:
    """The proposer factory: the config tuner alone (it pickles: Ray sends it to the workers)."""

    kill_marker: str | None = None

    def __call__(self, task: Any) -> list[Any]:
        from aikg_inductor.search.proposers.tuner import TritonConfigTuner

        return [KillOnce(TritonConfigTuner(), self.kill_marker)]


class BusySampler:
    """NVML utilisation of every visible GPU, sampled in a thread while a run goes on."""

    def __init__(self, period_s: float = 0.2) -> None:
        import pynvml

        pynvml.nvmlInit()
        self.nvml, self.period_s = pynvml, period_s
        self.handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        self.samples: list[list[int]] = [[] for _ in self.handles]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        while not self.stop.wait(self.period_s):
            for samples, handle in zip(self.samples, self.handles):
                samples.append(self.nvml.nvmlDeviceGetUtilizationRates(handle).gpu)

    def __enter__(self) -> BusySampler:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop.set()
        self.thread.join()

    def busy_fractions(self) -> list[float]:
        return [round(sum(s) / len(s) / 100, 3) if s else 0.0 for s in self.samples]


def run(tasks_dir: Path, budget: dict[str, Any], cluster: str | None, kill_marker: str | None) -> dict[str, Any]:
    from aikg_inductor import KernelCache, resolve_options
    from aikg_inductor.search.history import SearchHistory
    from aikg_inductor import tune

    with tempfile.TemporaryDirectory() as cache_dir:
        options = resolve_options({"cache_dir": cache_dir, "target_roofline": None, **budget}, environ={})
        with BusySampler() as sampler:
            started = time.monotonic()
            rows = tune([tasks_dir], options, device="cuda", proposers=TunerOnly(kill_marker), cluster=cluster)
            wall = time.monotonic() - started
        history = SearchHistory.beside(cache_dir)
        times = sorted(logged.at for row in rows for logged in history.logged(row.task.key))
        judged = {row.task.key: len(history.logged(row.task.key)) for row in rows}
        history.close()
        cache = KernelCache(cache_dir)
        accepted = sorted(key[:12] for key in cache.keys())
    total = sum(judged.values())
    steady = (len(times) - 1) / (times[-1] - times[0]) * 60 if len(times) > 1 else None
    return {"kernels": len(rows), "candidates": total, "wall_s": round(wall, 1),
            "candidates_per_min": round(total / wall * 60, 1),
            "steady_candidates_per_min": steady and round(steady, 1),
            "gpu_busy_fraction": sampler.busy_fractions(), "accepted": accepted,
            "judged_per_kernel": {key[:12]: n for key, n in judged.items()},
            "unfinished": [row.task.key[:12] for row in rows if row.outcome is None]}


def one(way: str, tasks_dir: Path, budget: dict[str, Any]) -> dict[str, Any]:
    """One way, in a process of its own (verifier pools are process-wide, sized on first use)."""
    if way != "ray":
        return run(tasks_dir, budget, None, None)
    import ray

    marker = tempfile.mktemp(prefix="aikg-kill-")
    started = time.monotonic()
    ray.init(include_dashboard=False, logging_level="WARNING",
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join([str(REPO / "benchmarks"),
                                                                      os.environ.get("PYTHONPATH", "")])}})
    init_s = time.monotonic() - started
    result = run(tasks_dir, budget, "ray", marker)
    ray.shutdown()
    killed = Path(marker).read_text().split() if os.path.exists(marker) else None
    return {**result, "ray_init_s": round(init_s, 1),
            "killed_worker": killed and {"kernel": killed[0][:12], "after_attempts": int(killed[1])}}


def capture(problems: list[str], dtype: str, tasks_dir: Path) -> int:
    import torch

    from aikg_inductor.offline_tuning import collect_tasks

    paths = [REPO / "benchmarks/problems" / f"{name}.py" for name in problems]
    tasks = collect_tasks(paths, "cuda", {"fp16": torch.float16, "bf16": torch.bfloat16, "fp32": torch.float32}[dtype])
    for task, _ in tasks.values():
        task.save(tasks_dir)
    return len(tasks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problems", nargs="*", default=DEFAULT_PROBLEMS, help="names under benchmarks/problems/")
    parser.add_argument("--dtype", default="fp16", choices=["fp16", "bf16", "fp32"])
    parser.add_argument("--budget-candidates", type=int, default=8, help="candidates per kernel, every way")
    parser.add_argument("--budget-s", type=float, default=20.0, help="seconds per kernel, every way")
    parser.add_argument("--ways", nargs="*", default=["one-gpu", "all-gpus", "ray"])
    parser.add_argument("--out", type=Path)
    parser.add_argument("--one", help=argparse.SUPPRESS)
    parser.add_argument("--tasks", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    budget = {"kernel_budget_candidates": args.budget_candidates, "kernel_budget_s": args.budget_s}
    if args.one:
        print(json.dumps(one(args.one, args.tasks, budget)))
        return
    import torch
    import triton

    tasks_dir = Path(tempfile.mkdtemp()) / "tasks"
    tasks_dir.mkdir()
    kernels = capture(args.problems, args.dtype, tasks_dir)
    gpus = torch.cuda.device_count()
    results: dict[str, Any] = {
        "card": torch.cuda.get_device_name(), "gpus": gpus, "torch": torch.__version__, "triton": triton.__version__,
        "problems": args.problems, "dtype": args.dtype, "kernels": kernels, "budget": budget,
        "proposer": "Triton config tuner only (no LLM, no retrieval)"}
    for way in args.ways:
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        if way == "one-gpu":
            env["CUDA_VISIBLE_DEVICES"] = "0"
        print(f"== {way} ==", flush=True)
        out = subprocess.run([sys.executable, __file__, "--one", way, "--tasks", str(tasks_dir),
                              "--budget-candidates", str(args.budget_candidates), "--budget-s", str(args.budget_s)],
                             capture_output=True, text=True, env=env)
        if out.returncode != 0:
            results[way] = {"error": out.stderr[-2000:]}
            print(out.stderr[-2000:], flush=True)
            continue
        results[way] = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(results[way]), flush=True)
    one_gpu, all_gpus = results.get("one-gpu", {}), results.get("all-gpus", {})
    if one_gpu.get("steady_candidates_per_min") and all_gpus.get("steady_candidates_per_min"):
        results["scaling_efficiency"] = round(
            all_gpus["steady_candidates_per_min"] / one_gpu["steady_candidates_per_min"] / gpus, 3)
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
