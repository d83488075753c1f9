"""The benchmark suite's report (benchmarks/run_suite.py): runs on CPU from a run's JSON, as ``--merge`` does.

Timing the variants needs a GPU; what is checked here is the arithmetic and the verdicts the report prints from
rows shaped like a real run's (speedups per group, rows over 2% slower flagged, models kept apart, the per-kernel
search table) and that the plot is written.
"""

from __future__ import annotations

import json
import math
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import run_suite  # noqa: E402  (benchmarks/ is not a package; triton, which it imports, is a test dependency)

VARIANTS = ("eager", "inductor", "max-autotune", "aikg cold", "aikg warm")


def row(problem: str, dtype: str, inductor_us: float, aikg_us: float, kernels: list | None = None) -> dict:
    median = {"eager": 2 * inductor_us, "inductor": inductor_us, "max-autotune": inductor_us,
              "aikg cold": aikg_us, "aikg warm": aikg_us}
    median_s = {k: v * 1e-6 for k, v in median.items()}
    return {
        "problem": problem, "dtype": dtype, "median_s": median_s, "samples_s": {k: [v] for k, v in median_s.items()},
        "compile_s": {"eager": 0.0, "inductor": 1.0, "max-autotune": 5.0, "aikg cold": 20.0, "aikg warm": 0.4},
        "max_abs_error_vs_eager": dict.fromkeys(VARIANTS, 0.0), "tolerance": 2e-2, "bytes": 1 << 28,
        "bandwidth_fraction": {k: 50.0 / v for k, v in median.items()},
        "speedup_vs_inductor": {k: inductor_us / v for k, v in median.items()},
        "speedup_vs_max_autotune": {k: inductor_us / v for k, v in median.items()},
        "kernels": kernels or [], "card": "test card", "wall_s": 30.0,
    }


def test_the_merged_report_groups_rows_flags_slow_ones_and_lists_what_the_search_did(tmp_path, monkeypatch):
    searched = {"key": "0123456789ab", "name": "fused_softmax", "candidates": 10, "by_proposer": {"tuner": 9,
                "retrieval": 1}, "verdicts": {"accepted": 2, "screened-out": 8}, "best_accepted_speedup": 1.25,
                "best_by": "tuner", "best_at_candidate": 7, "verify_s": [1.5, 0.0, 2.5], "search_s": 12.0,
                "stopped_by": "candidates"}
    rows = [row("softmax", "float16", 100.0, 80.0, [searched]), row("row_sum", "float16", 100.0, 103.0),
            row("softmax", "bfloat16", 100.0, 100.0), row(next(iter(run_suite.MODELS)), "bfloat16", 1000.0, 990.0)]
    meta = {"card": "test card", "torch": "t", "triton": "t", "copy_bandwidth_gbs": 3000.0,
            "kernel_budget_candidates": 10, "kernel_budget_s": 20.0, "rounds": 5}
    run_json = tmp_path / "run.json"
    run_json.write_text(json.dumps({"meta": meta, "rows": rows}))
    out = tmp_path / "report"
    monkeypatch.setattr(sys, "argv", ["run_suite.py", "--merge", str(run_json), "--out", str(out)])
    run_suite.main()

    text = (out / "suite.md").read_text()
    fp16 = next(line for line in text.splitlines() if line.startswith("| fused, float16 |"))
    assert f"{math.sqrt(100 / 80 * 100 / 103):.3f}x" in fp16 and "row_sum float16 0.971x" in fp16
    assert "| fused, bfloat16 | 1 | 1.000x" in text and "| models | 1 |" in text and "matmul-bound" in text
    all_fused = next(line for line in text.splitlines() if line.startswith("| all fused problems |"))
    assert "| 3 |" in all_fused  # the model row is not a fused problem
    kernel_row = next(line for line in text.splitlines() if "fused_softmax (0123456789ab)" in line)
    # the median verification time skips screened-out candidates (never verified: 0 s)
    assert "10 (tuner 9, retrieval 1)" in kernel_row and "1.250x (tuner, #7)" in kernel_row and "| 2.0 |" in kernel_row
    assert (out / "suite.png").stat().st_size > 10_000


def test_the_search_record_of_a_kernel_is_read_from_the_history_beside_the_cache(tmp_path):
    from aikg_inductor.search.history import SearchHistory, TaskRun
    from aikg_inductor.search.proposers import Attempt, Candidate
    from aikg_inductor.task import KernelTask
    from aikg_inductor.verify import VerificationReport

    task = KernelTask("b" * 64, "triton-cuda", "cuda", "sm90", "2.11", None, "src", (), (), "fused_sum")

    def attempt(proposer: str, rule: str | None, speedup: float | None, elapsed_s: float) -> Attempt:
        report = VerificationReport(verdict="accepted" if rule is None else "rejected", rule=rule, reason="",
                                    task_key=task.key, dsl=task.dsl, speedup=speedup, elapsed_s=elapsed_s)
        return Attempt(Candidate(f"{proposer} {rule} {speedup}", proposer), report)

    history = SearchHistory.beside(tmp_path)
    run = history.begin(task)
    for a in (attempt("tuner", "screened-out", None, 0.0), attempt("tuner", None, 1.1, 1.5),
              attempt("retrieval", "mismatch", None, 0.9), attempt("tuner", None, 1.3, 1.7)):
        history.record(task.key, a, run)
    history.finish(task.key, TaskRun(0.0, 12.5, 4, 1.3, "candidates", "accepted"))
    history.close()

    seen: set[str] = set()
    (record,) = run_suite.search_records(str(tmp_path), seen)
    assert record["candidates"] == 4 and record["by_proposer"] == {"tuner": 3, "retrieval": 1}
    assert record["verdicts"] == {"screened-out": 1, "accepted": 2, "mismatch": 1}
    assert (record["best_accepted_speedup"], record["best_by"], record["best_at_candidate"]) == (1.3, "tuner", 4)
    assert record["search_s"] == 12.5 and record["stopped_by"] == "candidates"
    assert run_suite.search_records(str(tmp_path), seen) == []  # a later problem does not list it again
