"""Shared pieces of the R20 cache review: a cache holding known entries for one tiny kernel (x * 2 on float[64]),
and a "user" that compiles it through backend="aikg" in a fresh process and says what it got.

Entries are written by the cache's own API (the legitimate writer, holding the secret). Their verification
reports are test doubles (not measured): what is reviewed is what the cache serves, not the verifier. Two kernel
versions make the served entry visible in the output: v1 computes x * 3 (an old, wrong kernel that was later
replaced), v2 computes x * 2 (the current, correct one). Inductor's own kernel computes x * 2. So a run whose output
is x * 3 was served a rolled-back or forged entry.
"""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[2]
N = 64
KERNEL = """#include <torch/csrc/inductor/cpp_prefix.h>
extern "C" void Placeholder.KERNEL_NAME(const float* in_ptr0, float* out_ptr0)
{{
    for (int64_t i = 0; i < {n}; ++i) {{ out_ptr0[i] = in_ptr0[i] * {factor}f; }}
}}
"""


def env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "AIKG_PRINT_CHOICES": "1",
            "TORCHINDUCTOR_FX_GRAPH_CACHE": "0"}


def double(x):
    return x * 2


def the_task():
    from aikg_inductor import capture

    session, _ = capture(double, [_x()], {"mode": "off"})
    (task,) = session.tasks.values()
    return task


def _x():
    import torch

    torch.manual_seed(0)
    return torch.randn(N)


def entry(task, factor: str, speedup: float = 2.0):
    from aikg_inductor.pipeline import entry_for
    from aikg_inductor.search.proposers import Candidate
    from aikg_inductor.verify import VerificationReport

    report = VerificationReport(
        verdict="accepted", rule=None, reason="review double: not measured", task_key=task.key, dsl=task.dsl,
        device="review", seeds=[0, 1], trials=["normal", "large"], sizes={"in_ptr0": "f32[64]"},
        max_abs_error=0.0, max_rel_error=0.0, tolerances={"float32": [1e-5, 1e-5]},
        baseline_s=[2e-5, 2e-5], candidate_s=[1e-5, 1e-5], timing_noise=[0.01, 0.01], speedup=speedup,
        elapsed_s=0.5)
    return entry_for(task, Candidate(KERNEL.format(n=N, factor=factor), "review", {}), report)


def row(cache_dir: Path, key: str) -> tuple:
    with contextlib.closing(sqlite3.connect(cache_dir / "kernels" / "cache.db")) as db:
        return db.execute("SELECT value, mode, filename FROM Cache WHERE key = ?", (key,)).fetchone()


def put_row(cache_dir: Path, key: str, saved: tuple) -> None:
    """Write a row straight into diskcache's table, as anyone with write access to the folder can."""
    with contextlib.closing(sqlite3.connect(cache_dir / "kernels" / "cache.db")) as db, db:
        db.execute("DELETE FROM Cache WHERE key = ?", (key,))
        db.execute("INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, size, "
                   "mode, filename, value) VALUES (?, 1, 0, NULL, 0, 0, NULL, 0, ?, ?, ?)",
                   (key, saved[1], saved[2], saved[0]))


def user_compile(cache_dir: Path, extra_env: dict[str, str] | None = None, timeout: int = 300) -> dict:
    """A fresh process compiles ``double`` with backend aikg on ``cache_dir``: what it printed and got."""
    try:
        proc = subprocess.run([sys.executable, str(HERE / "user_compile.py"), str(cache_dir)], capture_output=True,
                              text=True, env={**env(), **(extra_env or {})}, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"rc": "hung", "stderr": f"killed after {timeout} s", "stdout": "", "traceback": False,
                "aikg_lines": [], "output": "none (hung)"}
    result = {"rc": proc.returncode, "stderr": proc.stderr.strip(), "stdout": proc.stdout.strip()}
    try:
        result.update(json.loads(proc.stdout.strip().splitlines()[-1]))
    except (IndexError, ValueError):
        pass
    result["traceback"] = "Traceback" in proc.stderr
    result["aikg_lines"] = [l for l in proc.stderr.splitlines() if "aikg" in l]
    return result


def summary(result: dict) -> str:
    return (f"rc={result['rc']} output={result.get('output')} traceback={result['traceback']} "
            f"aikg lines={result['aikg_lines']}")
