"""The verifier's adversarial cases with Triton kernels on a CUDA GPU.

Captures Inductor's Triton kernel for ``relu(x + y)`` (fp32, 1M elements) and judges hand-edited variants of it
(``benchmarks/triton_cases.py``, shared with the CPU suite under Triton's interpreter) and the adversarial suite's
Triton cases (``benchmarks/adversarial/triton/``, one file per case, each naming its class and the rules that may
reject it): each must be rejected with a rule of its class, and no case's side effect may create the canary file.
The last rows, tuned configurations of Inductor's softmax kernel, are accepted only if really faster (reported as
measured either way).

    python benchmarks/gpu_verify.py --out OUT [--cases a b k] [--suite t1 t2_g]
    python benchmarks/gpu_verify.py --out OUT --merge FIRST.json LATER.json   # one report from several runs
"""

from __future__ import annotations

import argparse
import json
import os
import time
import uuid
from pathlib import Path

import torch
import triton

from aikg_inductor import capture
from aikg_inductor.dsl.triton_configs import LaunchConfig, kernel_shape, with_fixed_config
from aikg_inductor.verify import verify_candidate
from triton_cases import adversarial_cases, case_task, render, variants  # shared with the CPU suite (Triton's interpreter)

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--cases", nargs="*", help="run only the hand-edited cases with these letters (k: softmax)")
    parser.add_argument("--suite", nargs="*", help="run only the suite's cases whose names start with these prefixes")
    parser.add_argument("--merge", nargs="+", type=Path, metavar="JSON",
                        help="measure nothing: merge these runs' JSON files into OUT/gpu_verify_merged.{json,md}")
    args = parser.parse_args()
    if args.merge:
        args.out.mkdir(parents=True, exist_ok=True)
        merge(args.merge, args.out / "gpu_verify_merged")
        return
    everything = args.cases is None and args.suite is None
    wanted_letters = set(args.cases or ()) if not everything else None
    part = "_".join((args.cases or []) + (args.suite or []))
    args.out.mkdir(parents=True, exist_ok=True)
    meta = {"card": torch.cuda.get_device_name(), "torch": torch.__version__, "triton": triton.__version__}
    rows = _Rows(args.out / f"gpu_verify{'_' + part if part else ''}", meta)
    task = add_relu_task()
    cases = variants(task)
    for name, (source, expected) in cases.items():
        if wanted_letters is not None and name.split()[0] not in wanted_letters:
            continue
        started = time.perf_counter()
        report = verify_candidate(task, source, timeout_s=20)
        rows.append({"case": name, "expected": sorted(expected), "rule": report.rule, "reason": report.reason[:300],
                     "ok": report.rule in expected, "seconds": round(time.perf_counter() - started, 1)})
        print(f"{name}: {report.rule} ({'as expected' if rows[-1]['ok'] else 'UNEXPECTED'}) {report.reason[:200]}",
              flush=True)
    canary = f"/tmp/aikg-canary-{uuid.uuid4().hex}"
    for case in adversarial_cases("triton") if everything or args.suite is not None else []:
        if args.suite and not case.path.stem.startswith(tuple(args.suite)):
            continue
        started = time.perf_counter()
        own = case_task(case, task)
        report = verify_candidate(own, render(case, own, canary), timeout_s=20)
        rows.append({"case": f"suite {case.name} (class {case.klass})", "expected": sorted(case.rules),
                     "rule": report.rule, "reason": report.reason[:300], "ok": report.rule in case.rules,
                     "seconds": round(time.perf_counter() - started, 1)})
        print(f"{case.name}: {report.rule} ({'as expected' if rows[-1]['ok'] else 'UNEXPECTED'})", flush=True)
    if everything or args.suite is not None:
        rows.append({"case": "canary file after the suite", "expected": ["absent"], "seconds": 0.0,
                     "rule": "present" if os.path.exists(canary) else "absent", "reason": canary,
                     "ok": not os.path.exists(canary)})
    # k: candidates the tuner would write for softmax (rows in registers, one pass); accepted only if faster.
    wants_k = everything or "k" in wanted_letters
    k_configs = [LaunchConfig((("XBLOCK", 1), ("R0_BLOCK", 4096)), 8),
                 LaunchConfig((("XBLOCK", 2), ("R0_BLOCK", 4096)), 16)] if wants_k else []
    soft = softmax_task() if wants_k else None
    for config in k_configs:
        soft_shape = kernel_shape(soft)
        started = time.perf_counter()
        report = verify_candidate(soft, with_fixed_config(soft, soft_shape, config))
        rows.append({"case": f"k softmax {config.as_dict()}", "expected": ["accepted if faster"], "rule": report.rule,
                     "reason": report.reason[:300], "ok": report.accepted or report.rule == "not-faster",
                     "seconds": round(time.perf_counter() - started, 1),
                     "speedup": report.speedup, "baseline_s": report.baseline_s, "candidate_s": report.candidate_s})
        print(f"k softmax {config.as_dict()}: {report.verdict} {report.rule} {report.reason[:200]}", flush=True)


class _Rows(list):
    """The rows so far, written out after each one: a device command stopped at its time limit keeps them."""

    def __init__(self, stem: Path, meta: dict) -> None:
        super().__init__()
        self.stem, self.meta = stem, meta

    def append(self, row: dict) -> None:
        super().append(row)
        write_report(self.stem, self.meta, self)


def write_report(stem: Path, meta: dict, rows: list[dict]) -> None:
    """``stem``.json (meta and rows) and ``stem``.md (the table)."""
    stem.with_suffix(".json").write_text(json.dumps({"meta": meta, "rows": rows}, indent=1))
    runs = sorted({r["run"] for r in rows if "run" in r})
    lines = [f"# Verifier adversarial cases, Triton, {meta['card']} (torch {meta['torch']}, triton {meta['triton']})",
             "", *([f"Merged from {', '.join(runs)} (column run; a later run's row replaces an earlier one).", ""]
                   if runs else []),
             "| case | expected rule | got | as expected | verify s | reason |" + (" run |" if runs else ""),
             "|---|---|---|---|---|---|" + ("---|" if runs else "")]
    for r in rows:
        lines.append(f"| {r['case']} | {', '.join(r['expected'])} | {r['rule']} | {'yes' if r['ok'] else 'NO'} | "
                     f"{r['seconds']} | {r['reason'][:160].replace('|', '/')} |" + (f" {r.get('run', '')} |" if runs else ""))
    stem.with_suffix(".md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


def merge(paths: list[Path], stem: Path) -> None:
    """One report from several runs' JSON files, in order: a later file's row for a case replaces the earlier one;
    each row names the file it came from."""
    rows: dict[str, dict] = {}
    meta: dict = {}
    for path in paths:
        report = json.loads(path.read_text())
        meta = report["meta"]
        for row in report["rows"]:
            rows[row["case"]] = {**row, "run": path.stem}
    write_report(stem, meta, list(rows.values()))

if __name__ == "__main__":
    main()
