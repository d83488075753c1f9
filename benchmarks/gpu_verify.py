"""The verifier's adversarial cases with Triton kernels on a CUDA GPU (issue 4's GPU run).

Captures Inductor's Triton kernel for ``relu(x + y)`` (fp32, 1M elements) and judges hand-edited variants of it:
each must be rejected with the right rule, except the last, a tuned configuration of Inductor's softmax kernel,
which is accepted only if it is really faster (reported as measured either way).

    python benchmarks/gpu_verify.py --out OUT
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path

import torch
import triton

from aikg_inductor import capture
from aikg_inductor.search.proposers.tuner import LaunchConfig, kernel_shape, with_fixed_config
from aikg_inductor.verify import verify_candidate

N = 1 << 20


def add_relu_task():
    x, y = (torch.randn(N, device="cuda") for _ in range(2))
    session, _ = capture(lambda a, b: torch.relu(a + b), [x, y], {"mode": "off"})
    (task,) = session.tasks.values()
    return task


def softmax_task():
    session, _ = capture(lambda a: torch.softmax(a, -1), [torch.randn(8192, 4096, device="cuda",
                                                                      dtype=torch.float16)], {"mode": "off"})
    (task,) = session.tasks.values()
    return task


def store_line(source: str) -> str:
    return next(line for line in source.splitlines() if line.strip().startswith("tl.store(out_ptr0"))


def variants(source: str) -> dict[str, tuple[str, set[str]]]:
    """name -> (candidate source, acceptable rules)."""
    store = store_line(source)
    value = re.match(r"\s*tl\.store\(out_ptr0 \+ \(x0\), (\w+), (\w+)\)", store)
    assert value, store
    tmp, mask = value.groups()
    mask_expr = "x0 < 1" if mask == "None" else f"{mask} & (x0 < 1)"
    body = source.split("@triton.jit", 1)
    jit_def, rest = body[1].split("\n", 2)[1], body[1].split("\n", 2)[2]
    indent = "    "

    def replace_store(new: str) -> str:
        return source.replace(store, f"{indent}{new}")

    def prepend_body(line: str) -> str:
        return source.replace(jit_def + "\n", jit_def + "\n" + indent + line + "\n", 1)

    return {
        "a wrong value in a corner": (replace_store(
            f"tl.store(out_ptr0 + (x0), tl.where(x0 == {N - 1}, {tmp} + 1.0, {tmp}), {mask})"), {"mismatch"}),
        "b writes part of the output": (replace_store(
            f"tl.store(out_ptr0 + (x0), {tmp}, x0 < {N // 2})"), {"unwritten-output"}),
        # Volatile loads are re-read every iteration, so the compiler cannot prove the loop away.
        "c hangs": (prepend_body("while tl.load(in_ptr0, volatile=True) == tl.load(in_ptr0, volatile=True):\n"
                                 "        pass"), {"timeout"}),
        "d illegal address": (replace_store(f"tl.store(out_ptr0 + (x0) + 1099511627776, {tmp}, {mask})"),
                              {"crash", "runtime-error"}),
        "f mutates an input": (replace_store(
            f"tl.store(out_ptr0 + (x0), {tmp}, {mask})\n{indent}tl.store(in_ptr0 + (x0), {tmp}, {mask})"),
            {"input-mutated"}),
        "g calls torch": (source.replace("import triton\n", "import triton\nimport torch\n", 1)
                          .replace(jit_def + "\n", jit_def + "\n" + indent + "torch.zeros(1)\n", 1), {"guard:torch",
                                                                                                       "guard:include"}),
        "h writes out of bounds": (replace_store(f"tl.store(out_ptr0 + (x0) + 16, {tmp}, {mask})"),
                                   {"out-of-bounds-write"}),
        "h reads out of bounds": (source.replace("tl.load(in_ptr1 + (x0)", "tl.load(in_ptr1 + (x0) + 16", 1),
                                  {"out-of-bounds-read", "mismatch", "nan-inf-mismatch"}),
        "i opens a file": (source.replace("import triton\n", "import triton\nopen('/tmp/aikg-leak', 'w')\n", 1),
                           {"guard:system"}),
        "j correct but slower": (None, {"not-faster"}),  # filled in below: a tiny-block configuration
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cases", nargs="*", help="run only the cases whose names start with these letters")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    rows = []
    task = add_relu_task()
    cases = variants(task.source)
    shape = kernel_shape(task)
    slow = LaunchConfig((("XBLOCK", 32),), num_warps=1)
    cases["j correct but slower"] = (with_fixed_config(task, shape, slow), {"not-faster"})
    for name, (source, expected) in cases.items():
        if args.cases and name.split()[0] not in args.cases:
            continue
        started = time.perf_counter()
        report = verify_candidate(task, source, timeout_s=20)
        rows.append({"case": name, "expected": sorted(expected), "rule": report.rule, "reason": report.reason[:300],
                     "ok": report.rule in expected, "seconds": round(time.perf_counter() - started, 1)})
        print(f"{name}: {report.rule} ({'as expected' if rows[-1]['ok'] else 'UNEXPECTED'}) {report.reason[:200]}",
              flush=True)
    # k: candidates the tuner would write for softmax (rows in registers, one pass); accepted only if faster.
    wants_k = not args.cases or "k" in args.cases
    k_configs = [LaunchConfig((("XBLOCK", 1), ("R0_BLOCK", 4096)), 8),
                 LaunchConfig((("XBLOCK", 2), ("R0_BLOCK", 4096)), 16)] if wants_k else []
    soft = softmax_task() if wants_k else None
    for config in k_configs:
        soft_shape = kernel_shape(soft)
        report = verify_candidate(soft, with_fixed_config(soft, soft_shape, config))
        rows.append({"case": f"k softmax {config.as_dict()}", "expected": ["accepted if faster"], "rule": report.rule,
                     "reason": report.reason[:300], "ok": report.accepted or report.rule == "not-faster",
                     "speedup": report.speedup, "baseline_s": report.baseline_s, "candidate_s": report.candidate_s})
        print(f"k softmax {config.as_dict()}: {report.verdict} {report.rule} {report.reason[:200]}", flush=True)
    meta = {"card": torch.cuda.get_device_name(), "torch": torch.__version__, "triton": triton.__version__}
    (args.out / f"gpu_verify{'_' + ''.join(args.cases) if args.cases else ''}.json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    lines = [f"# Verifier adversarial cases, Triton, {meta['card']} (torch {meta['torch']}, triton {meta['triton']})",
             "", "| case | expected rule | got | as expected | reason |", "|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['case']} | {', '.join(r['expected'])} | {r['rule']} | {'yes' if r['ok'] else 'NO'} | "
                     f"{r['reason'][:160].replace('|', '/')} |")
    (args.out / f"gpu_verify{'_' + ''.join(args.cases) if args.cases else ''}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
