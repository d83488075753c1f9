"""benchmarks/real_models.py end to end on CPU at tiny sizes (--smoke): the records and report it writes."""

import json
import subprocess
import sys

from conftest import REPO

SCRIPT = REPO / "benchmarks" / "real_models.py"
SUMMARY_KEYS = {"device", "geomean_vs_inductor", "geomean_vs_max_autotune", "worst_vs_max_autotune",
                "median_bandwidth_fraction", "tune_s_per_kernel_median", "warm_compile_vs_inductor", "card", "torch",
                "triton"}


def run(tmp_path, *args):
    result = subprocess.run([sys.executable, str(SCRIPT), "--smoke", "--out", str(tmp_path), "--rounds", "2", *args],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    (record,) = tmp_path.glob("real_models_*.json")
    return json.loads(record.read_text())


def test_a_smoke_run_writes_the_summary_table_and_plot(tmp_path):
    record = run(tmp_path, "--only", "rmsnorm-1g-bf16")
    summary = record["summary"]
    assert SUMMARY_KEYS <= summary.keys()
    (row,) = record["rows"]
    assert row["workload"] == "rmsnorm-1g-bf16" and set(row["median_s"]) == {
        "eager", "inductor", "max-autotune", "aikg cold", "aikg warm"}
    assert all(len(samples) == 2 for samples in row["samples_s"].values())
    assert row["max_abs_error_vs_eager"]["aikg warm"] <= row["tolerance"]
    assert summary["median_bandwidth_fraction"] == row["bandwidth_fraction"]["aikg warm"]
    assert summary["kernels_tuned"] == len(row["kernels"]) >= 1  # aikg cold saw the norm's kernel as a task
    table = next(tmp_path.glob("real_models_*.md"))
    assert (tmp_path / f"{table.stem}.png").exists()
    assert "| rmsnorm-1g-bf16 |" in table.read_text()
    merged_from_runs_on_two_devices(tmp_path, next(tmp_path.glob("real_models_*.json")))


def merged_from_runs_on_two_devices(tmp_path, part):
    """--merge: one report from several runs' records; runs of different versions are refused."""
    record = json.loads(part.read_text())
    other = tmp_path / "other.json"
    other.write_text(json.dumps({**record, "rows": [{**record["rows"][0], "workload": "colsum-1g-fp32"}]}))
    merged_dir = tmp_path / "merged"
    rerun = tmp_path / "rerun.json"
    rerun.write_text(json.dumps({**record, "rows": [{**record["rows"][0], "wall_s": -1.0}]}))
    result = subprocess.run([sys.executable, str(SCRIPT), "--out", str(merged_dir), "--merge", str(part), str(other),
                             str(rerun)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-3000:]
    merged = json.loads(next(merged_dir.glob("real_models_*.json")).read_text())
    assert [r["workload"] for r in merged["rows"]] == ["rmsnorm-1g-bf16", "colsum-1g-fp32"]
    assert merged["rows"][0]["wall_s"] == -1.0  # the rerun's row, not the first run's
    assert "colsum-1g-fp32" not in merged["summary"]["left_out"] and "llama-infer-bf16" in merged["summary"]["left_out"]
    assert merged["summary"]["kernels_tuned"] == 2 * record["summary"]["kernels_tuned"]
    other.write_text(json.dumps({**record, "meta": {**record["meta"], "torch": "0.0"}}))
    refused = subprocess.run([sys.executable, str(SCRIPT), "--out", str(merged_dir), "--merge", str(part), str(other)],
                             capture_output=True, text=True, timeout=120)
    assert refused.returncode != 0 and "different cards or versions" in refused.stderr


def test_workloads_past_the_deadline_are_left_out_and_said_so(tmp_path):
    record = run(tmp_path, "--only", "rmsnorm-1g-bf16,colsum-1g-fp32", "--deadline-s", "0.001")
    assert record["rows"] == []
    assert record["summary"]["left_out"] == ["rmsnorm-1g-bf16", "colsum-1g-fp32"]
    assert "Left out" in next(tmp_path.glob("real_models_*.md")).read_text()
