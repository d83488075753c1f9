"""Review round 20's driver (REVIEW_R20.md): a case file through the real verifier, as the suite runs it, and the
same rendered candidate run once in an ordinary process on the inputs its header says the trials never draw.

    cd WORKTREE && OMP_NUM_THREADS=1 PYTHONPATH=$PWD:$PWD/tests:$PWD/benchmarks \
        python benchmarks/adversarial/review_r20.py verify CASE_FILE [RUNS]
    ... python benchmarks/adversarial/review_r20.py outside CASE_FILE    (Triton cases: TRITON_INTERPRET=1 too)
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path

import torch
import triton_cases

from aikg_inductor.task import KernelTask

CANARY = f"/tmp/aikg-canary-r20-{uuid.uuid4().hex}"


def task_of(case: triton_cases.AdversarialCase) -> KernelTask:
    """The suite's task for ``case`` (tests/test_verify_adversarial_suite.py), on one thread."""
    if case.path.suffix == ".py":
        from test_verify_triton_interpret import ADD_RELU, N, shrunk

        from aikg_inductor.task import TensorLayout

        layout = TensorLayout((64, 64), (64, 1), "float32")
        task = shrunk(ADD_RELU, {"33554432": str(N)}, {"in_ptr0": layout, "in_ptr1": layout, "out_ptr0": layout},
                      {"xnumel": N})
        return triton_cases.case_task(case, task)
    import test_verify_adversarial_suite as suite

    torch.set_num_threads(1)
    return suite._cpp_tasks()[case.task]


def load(path: Path) -> tuple[triton_cases.AdversarialCase, KernelTask, str]:
    case = next(c for c in triton_cases.adversarial_cases(path.parent.name) if c.path.name == path.name) \
        if path.parent.name in ("cpp", "triton") else _case_outside_the_suite(path)
    task = task_of(case)
    return case, task, triton_cases.render(case, task, CANARY)


def _case_outside_the_suite(path: Path) -> triton_cases.AdversarialCase:
    import re

    text = path.read_text()
    fields = dict(re.findall(r"^(?://|#) (class|rules|task): (.*)$", text, re.MULTILINE))
    return triton_cases.AdversarialCase(path, int(fields["class"].split()[0]), frozenset(fields["rules"].split()),
                                        fields["task"].strip(), text)


def verify(path: Path, runs: int) -> None:
    from aikg_inductor.verify import WorkerPool, verify_candidate

    case, task, source = load(path)
    pool = WorkerPool(1, dsls=("triton-cuda",), threads=1, env={"TRITON_INTERPRET": "1"}) \
        if path.suffix == ".py" else WorkerPool(1, threads=1)
    try:
        for _ in range(runs):
            report = verify_candidate(task, source, pool=pool, timeout_s=30)
            print(json.dumps({"case": case.name, "verdict": report.verdict, "rule": report.rule,
                              "speedup": report.speedup, "noise": report.timing_noise,
                              "max_abs_error": report.max_abs_error, "reason": report.reason[:240],
                              "canary_exists": Path(CANARY).exists()}), flush=True)
    finally:
        pool.close()


def outside(path: Path) -> None:
    """The candidate in this process (a user's: no runner, no sandbox), on inputs no trial draws."""
    case, task, source = load(path)
    if path.suffix == ".py":
        from aikg_inductor.dsl.triton_interpret import interpretable_libdevice
        from aikg_inductor.torch_internals import kernels

        interpretable_libdevice()
        kernel = kernels.load_triton_kernel(source, torch.device("cpu"))
        if case.task == "add_relu_i64":
            x, y, out = torch.randint(-1024, 1024, (64, 64)), torch.randint(-1024, 1024, (64, 64)), torch.empty(64, 64, dtype=torch.int64)
            x[0, :2] = 2**31 - 1  # an int64 count past int32
            y[0, :2] = torch.tensor([1, -5])
            kernel(x, y, out, 4096)
            print("eager relu(x + y)[0, :2]:", torch.relu(x + y)[0, :2].tolist(), " candidate:", out[0, :2].tolist(),
                  " other elements equal:", torch.equal(out[1:], torch.relu(x + y)[1:]))
            return
        x, y, out = torch.randn(64, 64), torch.randn(64, 64), torch.empty(64, 64)
        x[0, :3] = torch.tensor([float("nan"), float("inf"), 1.0])
        kernel(x, y, out, 4096)
        print("eager relu(x + y)[0, :3]:", torch.relu(x + y)[0, :3].tolist(), " candidate:", out[0, :3].tolist())
    elif case.task == "intdot_i64":
        from aikg_inductor.dsl import adapter_for

        kernel = adapter_for("cpp-cpu").load(task, source)
        a, b = torch.randint(-5, 5, (64, 512)), torch.randint(-5, 5, (64, 512))
        a[0, :8] = 100_000  # token ids, counts, offsets: int64 values past 2^16
        b[0, :8] = 100_000
        out = torch.empty(64, dtype=torch.int64)
        kernel(a, b, out)
        want = (a * b).sum(-1)
        print("eager row 0:", int(want[0]), " candidate:", int(out[0]), " other rows equal:", torch.equal(out[1:], want[1:]))
    else:
        from aikg_inductor.dsl import adapter_for

        kernel = adapter_for("cpp-cpu").load(task, source)
        x = torch.randn(64, 512)
        x[0] = float("-inf")  # a fully masked row
        out, scratch = torch.empty(64), torch.empty(64)
        kernel(out, x, scratch)
        print("eager logsumexp row 0:", float(torch.logsumexp(x, -1)[0]), " candidate:", float(out[0]),
              " other rows equal:", torch.allclose(out[1:], torch.logsumexp(x, -1)[1:], rtol=1e-5, atol=1e-5))
    print("canary created:", Path(CANARY).exists())
    Path(CANARY).unlink(missing_ok=True)


if __name__ == "__main__":
    command, case_file = sys.argv[1], Path(sys.argv[2])
    if command == "verify":
        verify(case_file, int(sys.argv[3]) if len(sys.argv) > 3 else 1)
    else:
        outside(case_file)
