"""Candidates judged per minute: ``aikg tune`` on this machine's devices against ``aikg tune --cluster ray`` on a
local Ray cluster of CPU workers (docs/scaling.md quotes the results).

Every kernel of ``examples/`` gets ``--per-kernel`` scripted candidates, two a round (so each is fully verified:
compile, correctness trials, interleaved timing): copies of Inductor's kernel slowed by a busy loop, correct and
never faster. They are stand-ins for a proposer's output (no C++ proposer ships and no LLM is used); the verifier's
work on them is real. Also measured: the driver's write rate (history records per second, the cache's writer) and
the round trip of a worker's record to the inbox.

    python benchmarks/cluster_throughput.py --out benchmarks/results/cluster_throughput_cpu.json
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aikg_inductor.search.proposers import Proposer

REPO = Path(__file__).resolve().parent.parent


@dataclasses.dataclass(frozen=True)
class Slowed(Proposer):
    """Offers ``count`` slowed copies of the kernel, two a round (pickles: Ray sends it to the workers)."""

    count: int
    salt: int = 0  # a different salt per run: fresh sources, so no compile is served from an earlier run's cache
    name: str = "scripted"

    def __call__(self, task):
        return [self]

    def propose(self, task, context, limit):
        from aikg_inductor.search.proposers import Candidate

        tried = {a.candidate.source for a in context.attempts}
        spin = "    for (volatile int spin = 0; spin < {}; ++spin) {{}}\n"
        sources = [task.source.replace(")\n{\n", ")\n{\n" + spin.format(20000 + 100 * self.salt + i), 1)
                   for i in range(self.count)]
        return [Candidate(s, self.name, {"i": i}) for i, s in enumerate(sources) if s not in tried][:min(2, limit)]


def run(tasks_dir: Path, per_kernel: int, cluster: str | None, workers: int, salt: int) -> dict:
    from aikg_inductor import resolve_options
    from aikg_inductor.search.history import SearchHistory
    from aikg_inductor import tune

    with tempfile.TemporaryDirectory() as cache_dir:
        options = resolve_options({"cache_dir": cache_dir, "kernel_budget_s": 600, "target_roofline": None,
                                   "kernel_budget_candidates": per_kernel, "verify_workers": workers}, environ={})
        started, wall_started = time.monotonic(), time.time()
        rows = tune([tasks_dir], options, proposers=Slowed(per_kernel, salt), cluster=cluster)
        wall = time.monotonic() - started
        # Steady state: first verdict to last, so start-up (worker processes, torch imports) is left out.
        history = SearchHistory.beside(cache_dir)
        times = sorted(logged.at for row in rows for logged in history.logged(row.task.key))
        history.close()
    judged = sum(r.outcome.candidates_tried for r in rows if r.outcome is not None)
    rules = sorted({a.report.rule for r in rows if r.outcome for a in r.outcome.attempts}, key=str)
    return {"kernels": len(rows), "candidates": judged, "wall_s": round(wall, 1),
            "candidates_per_min": round(judged / wall * 60, 1),
            "steady_candidates_per_min": round((len(times) - 1) / (times[-1] - times[0]) * 60, 1),
            "first_verdict_after_s": round(times[0] - wall_started, 1), "verdicts": [str(r) for r in rules]}


def write_rate(records: int = 500) -> dict:
    """History records per second through LocalSink (one diskcache transaction each), and the inbox round trip."""
    import ray

    from aikg_inductor.ray_tuning import Inbox, SinkRecord
    from aikg_inductor.pipeline import LocalSink
    from aikg_inductor import KernelCache
    from aikg_inductor.search.proposers import Attempt, Candidate
    from aikg_inductor.offline_tuning import collect_tasks
    from aikg_inductor.verify.report import VerificationReport

    (task, _), *_ = collect_tasks([REPO / "examples/softmax_scale.py"]).values()
    source = (REPO / "examples/candidates/softmax_scale_fused.cpp").read_text()
    attempt = Attempt(Candidate(source, "scripted", {}), VerificationReport(
        verdict="rejected", rule="not-faster", reason="x", task_key=task.key, dsl=task.dsl, speedup=0.9, margin=0.03))
    with tempfile.TemporaryDirectory() as cache_dir:
        sink = LocalSink(KernelCache(cache_dir))
        run = sink.begin(task)
        started = time.monotonic()
        for _ in range(records):
            sink.attempted(task, attempt, run)
        write_s = (time.monotonic() - started) / records
    inbox = ray.remote(Inbox).options(num_cpus=0).remote()
    record = SinkRecord(task.key, 0, attempt=attempt)
    ray.get(inbox.put.remote(record))
    started = time.monotonic()
    for _ in range(records):
        ray.get(inbox.put.remote(record))
    put_s = (time.monotonic() - started) / records
    started = time.monotonic()
    taken = ray.get(inbox.take.remote(0.0))
    take_s = time.monotonic() - started
    return {"history_records_per_s": round(1 / write_s), "inbox_put_ms": round(put_s * 1e3, 2),
            "inbox_take_ms_for": {"records": len(taken), "ms": round(take_s * 1e3, 1)},
            "record_bytes": len(json.dumps({"source": source}))}


def one(kind: str, tasks_dir: Path, per_kernel: int, salt: int) -> dict:
    """One configuration, in a process of its own (the verifier's pool is process-wide, sized on first use)."""
    if kind.startswith("local"):
        return run(tasks_dir, per_kernel, None, int(kind.removeprefix("local")), salt)
    import ray

    started = time.monotonic()
    ray.init(num_cpus=os.cpu_count(), include_dashboard=False, logging_level="WARNING")
    init_s = time.monotonic() - started
    result = {**run(tasks_dir, per_kernel, "ray", 1, salt), "ray_init_s": round(init_s, 1), "writer": write_rate()}
    ray.shutdown()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--per-kernel", type=int, default=8)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # local1 | local2 | ray, with --tasks and --salt
    parser.add_argument("--tasks", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--salt", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ["OMP_NUM_THREADS"] = "1"  # one thread a kernel, local and on the workers alike
    if args.one:
        print(json.dumps(one(args.one, args.tasks, args.per_kernel, args.salt)))
        return
    import ray

    from aikg_inductor.offline_tuning import collect_tasks

    tasks_dir = Path(tempfile.mkdtemp()) / "tasks"
    tasks_dir.mkdir()
    for task, _ in collect_tasks(sorted((REPO / "examples").glob("*.py"))).values():
        task.save(tasks_dir)
    results = {"machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
               "python": sys.version.split()[0], "ray": ray.__version__, "per_kernel": args.per_kernel}
    configs = {"local, 1 verifier worker": "local1", "local, 2 verifier workers": "local2",
               f"ray, {os.cpu_count()} CPU workers": "ray"}
    for salt, (label, kind) in enumerate(configs.items(), start=int(time.time()) % 1000 * 10):
        out = subprocess.run([sys.executable, __file__, "--one", kind, "--tasks", str(tasks_dir), "--salt", str(salt),
                              "--per-kernel", str(args.per_kernel)], capture_output=True, text=True, check=True)
        results[label] = json.loads(out.stdout.strip().splitlines()[-1])
    text = json.dumps(results, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
