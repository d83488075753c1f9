"""Review round 21's driver (REVIEW_R21.md): review 20's driver (``review_r20.py``) with two additions, a case file
through the real verifier and the same rendered candidate once in an ordinary process on inputs no trial draws.

- ``@@KERNEL_ONE_BLOCK@@`` in a case (now rendered by ``triton_cases.render``) is the task's kernel under
  ``triton_heuristics.fixed_config`` with one 4096-element block, the interpreter's honest speedup that review 20's
  cases had before the decorator rule;
- task ``add_relu_i32``: the suite's add+relu kernel edited to int32 (``triton_cases.integer_variant``; no int32
  Triton kernel was recorded on a GPU).

    cd WORKTREE && TRITON_INTERPRET=1 OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks \
        python benchmarks/adversarial/review_r21.py verify CASE_FILE [RUNS]
    ... python benchmarks/adversarial/review_r21.py outside CASE_FILE
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import review_r20
import torch
import triton_cases

from aikg_inductor.task import KernelTask


def load(path: Path) -> tuple[triton_cases.AdversarialCase, KernelTask, str]:
    case = review_r20._case_outside_the_suite(path)
    task = review_r20.task_of(case)
    return case, task, triton_cases.render(case, task, review_r20.CANARY)


def verify(path: Path, runs: int) -> None:
    from aikg_inductor.verify import WorkerPool, verify_candidate

    case, task, source = load(path)
    pool = WorkerPool(1, dsls=("triton-cuda",), threads=1, env={"TRITON_INTERPRET": "1"})
    try:
        for _ in range(runs):
            report = verify_candidate(task, source, pool=pool, timeout_s=30)
            print(json.dumps({"case": case.name, "verdict": report.verdict, "rule": report.rule,
                              "speedup": report.speedup, "noise": report.timing_noise,
                              "max_abs_error": report.max_abs_error, "reason": report.reason[:240]}), flush=True)
    finally:
        pool.close()


def outside(path: Path) -> None:
    """The candidate in this process (a user's), on inputs no trial draws: integers past ``WIDE_MAGNITUDE``, a row of
    NaN."""
    from aikg_inductor.dsl.triton_interpret import interpretable_libdevice
    from aikg_inductor.torch_internals import kernels

    case, _, source = load(path)
    interpretable_libdevice()
    kernel = kernels.load_triton_kernel(source, torch.device("cpu"))
    if case.task == "add_relu":
        x, y, out = torch.randn(64, 64), torch.randn(64, 64), torch.empty(64, 64)
        x[0] = float("nan")  # a row of NaN, as one NaN becomes after a matmul or a norm
        x[1, 5] = float("nan")  # a NaN alone in its row, as the judge draws it
        kernel(x, y, out, 4096)
        want = torch.relu(x + y)
        print("eager relu(x + y)[0, :3]:", want[0, :3].tolist(), " candidate:", out[0, :3].tolist(),
              " [1, 5]:", want[1, 5].item(), out[1, 5].item(),
              " rows 1.. equal (NaN as NaN):", torch.equal(out[1:].nan_to_num(7.0), want[1:].nan_to_num(7.0)))
        return
    dtype = torch.int32 if case.task == "add_relu_i32" else torch.int64
    x, y = torch.randint(-1024, 1024, (64, 64), dtype=dtype), torch.randint(-1024, 1024, (64, 64), dtype=dtype)
    if dtype == torch.int64:
        x[0, :2] = torch.tensor([2**53 + 1, 1_700_000_000_123_456_789])  # past float64's 53 bits: a ns timestamp
    else:
        x[0, :2] = torch.tensor([2**24 + 1, 2_000_000_001])  # past float32's 24 bits: ids, counts
    y[0, :2] = 0
    out = torch.empty(64, 64, dtype=dtype)
    kernel(x, y, out, 4096)
    want = torch.relu(x + y)
    print("eager relu(x + y)[0, :2]:", want[0, :2].tolist(), " candidate:", out[0, :2].tolist(),
          " other elements equal:", torch.equal(out[1:], want[1:]))


def guard(path: Path) -> None:
    """The static checks alone (milliseconds): what ``verify`` would refuse before running anything."""
    from aikg_inductor.verify import guards

    _, task, source = load(path)
    print(guards.check(task, source))


if __name__ == "__main__":
    command, case_file = sys.argv[1], Path(sys.argv[2])
    {"verify": lambda: verify(case_file, int(sys.argv[3]) if len(sys.argv) > 3 else 1),
     "outside": lambda: outside(case_file), "guard": lambda: guard(case_file)}[command]()
